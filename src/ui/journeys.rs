//! The Journeys panel: trace root events of the open scenario (a sample spread over the run,
//! the first that were dead-lettered, failed, duplicated or out of order, the slowest, or one
//! event by id), pick one, read its tree of hops, and step through it while the canvas marks
//! the nodes it has reached with their times.
//!
//! Tracing runs the scenario on its own (the same seed as the run controls), on a named thread,
//! so the figures of the run on screen are untouched; in tests it runs synchronously.

use std::collections::BTreeMap;

use crossbeam_channel::{Receiver, bounded};
use eframe::egui::{self, RichText, Ui};

use crate::model::Scenario;
use crate::model::topology::Topology;
use crate::sim::journey::{Condition, Journey, Select};
use crate::sim::{self, RunOptions, TraceOptions};

/// Which journeys the panel asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ask {
    Sample,
    Where(Condition),
    Event,
}

/// What the panel reads from the app each frame.
#[derive(Clone, Copy)]
pub struct JourneysInput<'a> {
    /// The open scenario.
    pub scenario: &'a Scenario,
    /// Its revision (journeys traced at another one are marked stale).
    pub revision: u64,
    /// The run controls' seed.
    pub seed: u64,
    /// The node selected on the canvas (a DLQ offers its dead-lettered messages).
    pub selected: Option<&'a str>,
    /// False while the scenario has errors.
    pub runnable: bool,
}

/// The panel's state.
pub struct JourneysView {
    ask: Ask,
    event: String,
    count: usize,
    synchronous: bool,
    pending: Option<Receiver<Result<Vec<Journey>, String>>>,
    journeys: Vec<Journey>,
    /// Only journeys with a hop at this node (a DLQ picked on the canvas).
    at_node: Option<String>,
    error: Option<String>,
    chosen: Option<usize>,
    /// Hops shown, in time order (the replay position).
    step: usize,
    /// The scenario revision the journeys belong to.
    revision: Option<u64>,
    /// The time cursor as this panel last set or saw it: a change from elsewhere (a click in a
    /// plot) moves the replay to that instant.
    cursor_seen: Option<f64>,
}

impl JourneysView {
    /// An empty panel; `synchronous` traces on the UI thread (tests).
    #[must_use]
    pub fn new(synchronous: bool) -> Self {
        JourneysView {
            ask: Ask::Sample,
            event: String::new(),
            count: 20,
            synchronous,
            pending: None,
            journeys: Vec::new(),
            at_node: None,
            error: None,
            chosen: None,
            step: 0,
            revision: None,
            cursor_seen: None,
        }
    }

    /// When the replay position is: the latest time among the hops shown.
    fn step_time(&self) -> Option<f64> {
        let j = self.chosen()?;
        Self::timeline(j)
            .iter()
            .take(self.step)
            .map(|&h| j.hops[h].ended_s.unwrap_or(j.hops[h].arrived_s))
            .reduce(f64::max)
    }

    /// Follows the shared time cursor: moved elsewhere, it sets the replay to the hops that
    /// had begun by then; stepping here moves it.
    fn sync_cursor(&mut self, cursor_s: &mut Option<f64>, stepped: bool) {
        if stepped {
            *cursor_s = self.step_time();
        } else if *cursor_s != self.cursor_seen
            && let (Some(t), Some(j)) = (*cursor_s, self.chosen())
        {
            let reached = j.hops.iter().filter(|h| h.arrived_s <= t + 1e-9).count();
            self.step = reached.max(1);
        }
        self.cursor_seen = *cursor_s;
    }

    /// The journeys found (for tests and the canvas).
    #[must_use]
    pub fn journeys(&self) -> &[Journey] {
        &self.journeys
    }

    /// The journey picked, if any.
    #[must_use]
    pub fn chosen(&self) -> Option<&Journey> {
        self.chosen.and_then(|i| self.visible().nth(i))
    }

    fn visible(&self) -> impl Iterator<Item = &Journey> {
        self.journeys.iter().filter(|j| {
            self.at_node
                .as_ref()
                .is_none_or(|n| j.hops.iter().any(|h| &h.node == n))
        })
    }

    /// The hops of the chosen journey in the order they happened.
    fn timeline(j: &Journey) -> Vec<usize> {
        let mut order: Vec<usize> = (0..j.hops.len()).collect();
        order.sort_by(|a, b| {
            j.hops[*a]
                .arrived_s
                .partial_cmp(&j.hops[*b].arrived_s)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.cmp(b))
        });
        order
    }

    /// Nodes the chosen journey has reached at the replay position, with a label each (the
    /// latest hop's time and outcome), for the canvas.
    #[must_use]
    pub fn highlight(&self) -> Option<BTreeMap<String, String>> {
        let j = self.chosen()?;
        let mut marks = BTreeMap::new();
        for &h in Self::timeline(j).iter().take(self.step) {
            let hop = &j.hops[h];
            let at = hop.ended_s.unwrap_or(hop.arrived_s);
            marks.insert(
                hop.node.clone(),
                format!("{} {}", crate::report::human_secs(at), hop.outcome),
            );
        }
        Some(marks)
    }

    fn start(&mut self, scenario: &Scenario, seed: u64, revision: u64) {
        let select = match self.ask {
            Ask::Sample => Select::Sample,
            Ask::Where(c) => Select::Where(c),
            Ask::Event => Select::Event(self.event.trim().to_owned()),
        };
        let scenario = scenario.clone();
        let count = self.count;
        let job = move || {
            sim::trace(
                &scenario,
                &RunOptions {
                    seed: Some(seed),
                    duration: None,
                    series_buckets: Some(1),
                },
                &TraceOptions { count, select },
            )
            .map(|t| t.journeys)
        };
        self.error = None;
        self.revision = Some(revision);
        if self.synchronous {
            self.finish(job());
            return;
        }
        let (tx, rx) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("eventflow-trace".into())
            .spawn(move || {
                let _ = tx.send(job());
            });
        match spawned {
            Ok(_) => self.pending = Some(rx),
            Err(e) => self.error = Some(format!("could not start tracing: {e}")),
        }
    }

    fn finish(&mut self, result: Result<Vec<Journey>, String>) {
        match result {
            Ok(j) => {
                self.journeys = j;
                self.chosen = (!self.journeys.is_empty()).then_some(0);
                self.step = self.chosen().map_or(0, |j| j.hops.len());
            }
            Err(e) => {
                self.journeys.clear();
                self.chosen = None;
                self.error = Some(e);
            }
        }
    }

    /// Shows the panel; `cursor_s` is the app's shared time cursor.
    pub fn show(&mut self, ui: &mut Ui, input: &JourneysInput<'_>, cursor_s: &mut Option<f64>) {
        let JourneysInput {
            scenario,
            revision,
            seed,
            selected,
            runnable,
        } = *input;
        let step_before = (self.chosen, self.step);
        if let Some(rx) = &self.pending {
            match rx.try_recv() {
                Ok(result) => {
                    self.pending = None;
                    self.finish(result);
                }
                Err(crossbeam_channel::TryRecvError::Empty) => ui.ctx().request_repaint(),
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    self.pending = None;
                    self.error = Some("tracing stopped unexpectedly".into());
                }
            }
        }
        ui.horizontal_wrapped(|ui| {
            let follow = ui.label("Follow");
            egui::ComboBox::from_id_salt("journey-ask")
                .selected_text(ask_label(self.ask))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.ask, Ask::Sample, ask_label(Ask::Sample));
                    for (c, _) in Condition::ALL {
                        ui.selectable_value(&mut self.ask, Ask::Where(c), ask_label(Ask::Where(c)));
                    }
                    ui.selectable_value(&mut self.ask, Ask::Event, ask_label(Ask::Event));
                })
                .response
                .labelled_by(follow.id);
            if self.ask == Ask::Event {
                ui.add(
                    egui::TextEdit::singleline(&mut self.event)
                        .hint_text("ORD-123 or an event id")
                        .desired_width(140.0),
                )
                .on_hover_text("The root event whose generated id, or a field value, is this");
            } else {
                ui.add(egui::DragValue::new(&mut self.count).range(1..=200))
                    .on_hover_text("How many journeys");
            }
            let can = runnable && self.pending.is_none() && (self.ask != Ask::Event || !self.event.trim().is_empty());
            if ui
                .add_enabled(can, egui::Button::new("Trace"))
                .on_hover_text("Run the scenario again, recording these journeys (the figures on screen stay as they are)")
                .clicked()
            {
                self.at_node = None;
                self.start(scenario, seed, revision);
            }
        });
        if let Some(id) = selected
            && Topology::new(scenario).is_dead_letter_id(id)
        {
            let label = format!("Messages dead-lettered at {id}");
            if ui
                .add_enabled(
                    runnable && self.pending.is_none(),
                    egui::Button::new(&label),
                )
                .clicked()
            {
                self.ask = Ask::Where(Condition::DeadLettered);
                self.at_node = Some(id.to_owned());
                self.start(scenario, seed, revision);
            }
        }
        if self.pending.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Tracing…");
            });
        }
        if let Some(e) = &self.error {
            ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
        }
        if self.revision.is_some_and(|r| r != revision) && !self.journeys.is_empty() {
            ui.label(
                RichText::new("The scenario changed since these were traced: Trace again.").weak(),
            );
        }
        if self.journeys.is_empty() {
            if self.pending.is_none() && self.error.is_none() {
                ui.label(RichText::new("Trace to follow events through the system: every copy, retry and emitted event, hop by hop.").weak());
            }
            return;
        }
        ui.separator();
        let mut pick = None;
        egui::ScrollArea::vertical()
            .id_salt("journey-list")
            .max_height(140.0)
            .show(ui, |ui| {
                for (i, j) in self.visible().enumerate() {
                    let end = j.latency_s.map_or_else(
                        || "not completed".to_owned(),
                        |l| format!("{} end to end", crate::report::human_secs(l)),
                    );
                    let text = format!(
                        "#{} at {} — {}, {end}",
                        j.root,
                        crate::report::human_secs(j.produced_at_s),
                        crate::names::plural(j.hops.len(), "hop")
                    );
                    if ui.selectable_label(self.chosen == Some(i), text).clicked() {
                        pick = Some(i);
                    }
                }
            });
        if let Some(i) = pick {
            self.chosen = Some(i);
            self.step = self.chosen().map_or(0, |j| j.hops.len());
        }
        let Some(j) = self.chosen().cloned() else {
            return;
        };
        ui.separator();
        ui.horizontal(|ui| {
            ui.label(format!("Step {}/{}", self.step, j.hops.len()));
            if ui
                .button("Root")
                .on_hover_text("Back to the root event")
                .clicked()
            {
                self.step = 1;
            }
            if ui.button("Back").on_hover_text("One hop back").clicked() {
                self.step = self.step.saturating_sub(1).max(1);
            }
            if ui.button("Next").on_hover_text("One hop on").clicked() {
                self.step = (self.step + 1).min(j.hops.len());
            }
            if ui
                .button("All")
                .on_hover_text("The whole journey")
                .clicked()
            {
                self.step = j.hops.len();
            }
        });
        self.sync_cursor(cursor_s, (self.chosen, self.step) != step_before);
        let shown: Vec<usize> = Self::timeline(&j).into_iter().take(self.step).collect();
        egui::ScrollArea::vertical()
            .id_salt("journey-tree")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.label(
                    RichText::new(format!("event {}", j.event_id))
                        .monospace()
                        .weak(),
                );
                if let Some(l) = j.latency_s {
                    ui.label(format!(
                        "End to end {}; the critical path (marked *) adds up to {}.",
                        crate::report::human_secs(l),
                        crate::report::human_secs(j.critical_path_s())
                    ));
                }
                let depth = |mut h: usize| {
                    let mut d = 0;
                    while let Some(p) = j.hops[h].parent {
                        d += 1;
                        h = p;
                    }
                    d
                };
                for (h, hop) in j.hops.iter().enumerate() {
                    if !shown.contains(&h) {
                        continue;
                    }
                    let star = if j.critical_path.contains(&h) {
                        "* "
                    } else {
                        ""
                    };
                    let mut line = format!(
                        "{:indent$}{star}{} ({})",
                        "",
                        hop.node,
                        hop.kind.as_str(),
                        indent = depth(h) * 2
                    );
                    if let Some(v) = &hop.via {
                        line.push_str(&format!(" via {v}"));
                    }
                    if let Some(a) = hop.attempt {
                        line.push_str(&format!(" #{a}"));
                    }
                    line.push_str(&format!(
                        " · arrived {}",
                        crate::report::human_secs(hop.arrived_s)
                    ));
                    if let Some(w) = hop.wait_s().filter(|w| *w > 0.0) {
                        line.push_str(&format!(" · waited {}", crate::report::human_secs(w)));
                    }
                    if let Some(e) = hop.ended_s {
                        line.push_str(&format!(" · left {}", crate::report::human_secs(e)));
                    }
                    line.push_str(&format!(" → {}", hop.outcome));
                    if let Some(r) = &hop.reason {
                        line.push_str(&format!(" ({r})"));
                    }
                    ui.label(RichText::new(line).monospace());
                }
            });
    }
}

fn ask_label(a: Ask) -> &'static str {
    match a {
        Ask::Sample => "a sample over the run",
        Ask::Where(Condition::DeadLettered) => "dead-lettered",
        Ask::Where(Condition::Failed) => "failed",
        Ask::Where(Condition::Slowest) => "the slowest",
        Ask::Where(Condition::Duplicated) => "duplicated",
        Ask::Where(Condition::OutOfOrder) => "out of order",
        Ask::Event => "one event",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let text = r#"{ "name": "j", "duration": "2m", "seed": 3,
            "producers": [ { "id": "p", "to": "q", "rate": 5 } ],
            "queues": [ { "id": "q", "max_receives": 2, "visibility_timeout": "5s", "dead_letter": "dlq" },
                        { "id": "dlq" } ],
            "consumers": [ { "id": "c", "from": "q", "failure_rate": 0.3,
                             "service_time": { "constant": "20ms" } } ] }"#;
        match crate::scenario::parse(text, "j.json") {
            Ok(l) => l.scenario,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn tracing_from_the_panel_finds_journeys_and_steps_through_them() {
        let s = scenario();
        let mut view = JourneysView::new(true);
        view.ask = Ask::Where(Condition::DeadLettered);
        view.count = 3;
        view.start(&s, 3, 1);
        assert_eq!(view.journeys().len(), 3, "{:?}", view.error);
        let j = view.chosen().expect("the first is picked").clone();
        let marks = view.highlight().expect("a highlight");
        assert!(marks.contains_key("dlq"), "{marks:?}");
        view.step = 1;
        let marks = view.highlight().expect("a highlight");
        assert_eq!(
            marks.keys().collect::<Vec<_>>(),
            vec!["p"],
            "only the root so far"
        );
        // Stepping moves the shared time cursor; moving the cursor replays to that instant.
        let mut cursor = None;
        view.sync_cursor(&mut cursor, true);
        assert_eq!(cursor, Some(j.produced_at_s));
        let dead = j
            .hops
            .iter()
            .find(|h| h.outcome == "dead_lettered")
            .expect("dead-lettered");
        cursor = dead.ended_s;
        view.sync_cursor(&mut cursor, false);
        let marks = view.highlight().expect("a highlight");
        assert!(
            marks.contains_key("dlq"),
            "the cursor at the dead-lettering: {marks:?}"
        );
        assert!(j.hops.iter().any(|h| h.outcome == "dead_lettered"));
    }

    #[test]
    fn the_panel_shows_its_tree_and_offers_a_dlqs_messages() {
        let s = scenario();
        let mut view = JourneysView::new(true);
        let mut harness = egui_kittest::Harness::new_ui(|ui| {
            let mut cursor = None;
            let input = JourneysInput {
                scenario: &s,
                revision: 1,
                seed: 3,
                selected: Some("dlq"),
                runnable: true,
            };
            view.show(ui, &input, &mut cursor);
        });
        harness.run();
        use egui_kittest::kittest::Queryable;
        harness
            .get_by_label("Messages dead-lettered at dlq")
            .click();
        harness.run();
        harness.get_by_label_contains("→ dead_lettered (max_receives)");
        drop(harness);
        assert!(!view.journeys().is_empty());
        assert!(
            view.journeys()
                .iter()
                .all(|j| j.hops.iter().any(|h| h.node == "dlq"))
        );
    }
}
