//! Run controls: play / pause, step, reset, speed, the simulated clock, seed and "new seed".

use eframe::egui::{self, DragValue, ProgressBar, RichText, Ui};

use super::app::Action;
use crate::worker::{RunState, Snapshot, Speed};

/// The speeds offered, from real time to as fast as the machine goes.
pub const SPEEDS: [(&str, Speed); 9] = [
    ("×1 (real time)", Speed::Factor(1.0)),
    ("×2", Speed::Factor(2.0)),
    ("×5", Speed::Factor(5.0)),
    ("×10", Speed::Factor(10.0)),
    ("×30", Speed::Factor(30.0)),
    ("×100", Speed::Factor(100.0)),
    ("×1000", Speed::Factor(1000.0)),
    ("×10000", Speed::Factor(10_000.0)),
    ("as fast as possible", Speed::Max),
];

/// What the toolbar shows.
pub struct ToolbarInput<'a> {
    /// The latest snapshot of the current run.
    pub snapshot: Option<&'a Snapshot>,
    /// Scenario duration, seconds (the clock's end before a run exists).
    pub duration_s: f64,
    /// Why the scenario cannot run (validation errors), if it cannot.
    pub blocked: Option<String>,
    /// Simulated seconds one step advances.
    pub step_s: f64,
}

/// Shows the run controls; `speed` (index into [`SPEEDS`]) and `seed` are edited in place.
pub fn show(
    ui: &mut Ui,
    input: &ToolbarInput<'_>,
    speed: &mut usize,
    seed: &mut u64,
) -> Option<Action> {
    let mut action = None;
    let state = input.snapshot.map_or(RunState::Empty, |s| s.state);
    ui.horizontal(|ui| {
        let playing = state == RunState::Playing;
        let play = if playing { "‖ Pause" } else { "▶ Play" };
        let hover = if playing {
            "Pause the run (Space)"
        } else {
            "Run the scenario (Space)"
        };
        if ui
            .add_enabled(
                input.blocked.is_none(),
                egui::Button::new(RichText::new(play).strong()),
            )
            .on_hover_text(hover)
            .clicked()
        {
            action = Some(if playing { Action::Pause } else { Action::Play });
        }
        let step_hover = format!(
            "Advance {} of simulated time, then pause",
            crate::report::human_secs(input.step_s)
        );
        if ui
            .add_enabled(input.blocked.is_none(), egui::Button::new("⇥ Step"))
            .on_hover_text(step_hover)
            .clicked()
        {
            action = Some(Action::Step);
        }
        if ui
            .button("↺ Reset")
            .on_hover_text("Back to time zero with the same seed")
            .clicked()
        {
            action = Some(Action::Reset);
        }
        ui.separator();
        let speed_label = ui.label("Speed");
        let before = *speed;
        egui::ComboBox::from_id_salt("speed")
            .selected_text(SPEEDS.get(*speed).map_or("?", |s| s.0))
            .show_ui(ui, |ui| {
                for (i, (name, _)) in SPEEDS.iter().enumerate() {
                    ui.selectable_value(speed, i, *name);
                }
            })
            .response
            .labelled_by(speed_label.id);
        if *speed != before {
            action = Some(Action::SetSpeed(*speed));
        }
        ui.separator();
        let (now_s, end_s, progress) = input
            .snapshot
            .filter(|s| s.end_ns > 0)
            .map_or((0.0, input.duration_s, 0.0), |s| {
                (s.now_s(), s.end_ns as f64 / 1e9, s.progress())
            });
        ui.label(
            RichText::new(format!("t = {}", clock(now_s)))
                .monospace()
                .strong(),
        )
        .on_hover_text("Simulated time");
        ui.add(
            ProgressBar::new(progress as f32)
                .desired_width(140.0)
                .text(format!("of {}", clock(end_s))),
        );
        ui.separator();
        let seed_label = ui.label("Seed");
        let r = ui
            .add(DragValue::new(seed).speed(1.0))
            .labelled_by(seed_label.id)
            .on_hover_text("Seed of every random stream; the same seed gives the same run");
        if r.changed() {
            action = Some(Action::SetSeed(*seed));
        }
        if ui
            .button("New seed")
            .on_hover_text("Pick a random seed and start again")
            .clicked()
        {
            action = Some(Action::NewSeed);
        }
        ui.separator();
        let status = match (state, &input.blocked, input.snapshot) {
            (_, Some(why), _) => RichText::new(why).color(ui.visuals().error_fg_color),
            (_, None, Some(s)) if s.error.is_some() => {
                RichText::new(format!("cannot run: {}", s.error.as_deref().unwrap_or("")))
                    .color(ui.visuals().error_fg_color)
            }
            (RunState::Finished, _, s) => match s.and_then(|s| s.stop_reason.as_ref()) {
                Some(r) => RichText::new(format!("stopped: {r}")).color(ui.visuals().warn_fg_color),
                None => RichText::new("finished").strong(),
            },
            (RunState::Playing, ..) => RichText::new("running"),
            (RunState::Paused, ..) => RichText::new("paused"),
            (RunState::Empty, ..) => RichText::new("ready").weak(),
        };
        ui.label(status);
    });
    action
}

/// `12:34.5` for times under an hour, `1:02:03` beyond.
#[must_use]
pub fn clock(s: f64) -> String {
    let s = s.max(0.0);
    let h = (s / 3600.0).floor();
    let m = ((s - h * 3600.0) / 60.0).floor();
    let sec = s - h * 3600.0 - m * 60.0;
    if h >= 1.0 {
        format!("{h:.0}:{m:02.0}:{:02.0}", sec.floor())
    } else {
        format!("{m:02.0}:{sec:04.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_reads_like_a_stopwatch() {
        assert_eq!(clock(0.0), "00:00.0");
        assert_eq!(clock(83.3), "01:23.3");
        assert_eq!(clock(3723.0), "1:02:03");
    }
}
