//! Problems: the errors of a file that failed to load, and the validator's findings about the
//! scenario being edited.
//!
//! A failed load never touches the open scenario; its problems are listed in a window with the
//! JSON path (or line and column) of each, so the user can fix the file and try again. The
//! validation list shows what stops the scenario from running; clicking an entry selects the
//! component it is about.

use std::path::PathBuf;

use eframe::egui::{self, RichText, Ui};

use crate::model::Scenario;
use crate::scenario::{Problem, Severity};

/// A file that failed to load and why.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadFailure {
    /// The file.
    pub path: PathBuf,
    /// Every problem found, errors first.
    pub problems: Vec<Problem>,
}

fn problem_line(ui: &mut Ui, p: &Problem) -> egui::Response {
    let color = if p.severity == Severity::Error {
        ui.visuals().error_fg_color
    } else {
        ui.visuals().warn_fg_color
    };
    let mut text = if p.path.is_empty() {
        p.message.clone()
    } else {
        format!("{}: {}", p.path, p.message)
    };
    // A file that failed to load says where in it (line:column), as `eventflow check` does.
    if let (Some(line), Some(column)) = (p.line, p.column) {
        text = format!("{line}:{column}  {text}");
    }
    if let Some(h) = &p.hint {
        text.push_str(&format!(" — {h}"));
    }
    let icon = if p.severity == Severity::Error {
        "⊘"
    } else {
        "▲"
    };
    ui.add(
        egui::Label::new(RichText::new(format!("{icon} {text}")).color(color))
            .wrap()
            .sense(egui::Sense::click()),
    )
}

/// Shows the load-failure window while `failure` is set; closing it clears it.
pub fn load_failure_window(ctx: &egui::Context, failure: &mut Option<LoadFailure>) {
    let Some(f) = failure.as_ref() else { return };
    let mut open = true;
    let mut close = false;
    egui::Window::new("Could not open the file")
        .id(egui::Id::unique("load-failure"))
        .open(&mut open)
        .collapsible(false)
        .default_width(640.0)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 80.0])
        .show(ctx, |ui| {
            ui.label(RichText::new(f.path.display().to_string()).monospace());
            let errors = f
                .problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            ui.label(format!(
                "{errors} problem{} — the open scenario was left as it was.",
                if errors == 1 { "" } else { "s" }
            ));
            ui.separator();
            egui::ScrollArea::vertical()
                .max_height(360.0)
                .show(ui, |ui| {
                    for p in &f.problems {
                        problem_line(ui, p);
                    }
                });
            ui.separator();
            if ui.button("Close").clicked() {
                close = true;
            }
        });
    if !open || close {
        *failure = None;
    }
}

/// The component a validator path is about (`consumers[2].from` → that consumer's id).
#[must_use]
pub fn component_of_path(s: &Scenario, path: &str) -> Option<String> {
    let (list, rest) = path.split_once('[')?;
    let (index, rest) = rest.split_once(']')?;
    let i: usize = index.parse().ok()?;
    match list {
        "producers" => s.producers.get(i).map(|p| p.id.clone()),
        "queues" => s.queues.get(i).map(|q| q.id.clone()),
        "streams" => s.streams.get(i).map(|x| x.id.clone()),
        "consumers" => s.consumers.get(i).map(|c| c.id.clone()),
        "buses" => {
            let bus = s.buses.get(i)?;
            // `buses[0].rules[1]…` is about the rule.
            let rule = rest
                .strip_prefix(".rules[")
                .and_then(|r| r.split_once(']'))
                .and_then(|(j, _)| j.parse::<usize>().ok())
                .and_then(|j| bus.rules.get(j));
            Some(rule.map_or_else(|| bus.id.clone(), |r| r.id.clone()))
        }
        _ => None,
    }
}

/// Lists the validator's problems; returns the component to select when one was clicked.
pub fn problems_list(ui: &mut Ui, s: &Scenario, problems: &[Problem]) -> Option<String> {
    if problems.is_empty() {
        ui.label(RichText::new("No problems: the scenario is valid.").weak());
        return None;
    }
    let mut select = None;
    for p in problems {
        let r = problem_line(ui, p);
        if let Some(id) = component_of_path(s, &p.path)
            && r.on_hover_text(format!("Click to select {id}")).clicked()
        {
            select = Some(id);
        }
    }
    select
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use crate::ui::edit;

    #[test]
    fn paths_lead_to_their_component() {
        let mut s = Scenario::empty("t");
        edit::add_component(&mut s, Kind::Queue);
        edit::add_component(&mut s, Kind::Bus);
        edit::add_rule(&mut s, "bus-1");
        edit::add_component(&mut s, Kind::Consumer);
        assert_eq!(
            component_of_path(&s, "consumers[0].from").as_deref(),
            Some("consumer-1")
        );
        assert_eq!(
            component_of_path(&s, "buses[0].rules[0].pattern").as_deref(),
            Some("rule-1")
        );
        assert_eq!(component_of_path(&s, "buses[0]").as_deref(), Some("bus-1"));
        assert_eq!(component_of_path(&s, "queues[5]"), None);
        assert_eq!(component_of_path(&s, "duration"), None);
    }
}
