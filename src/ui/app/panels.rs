//! The app's frame around the views: the window title, the status bar, the notes, right-hand
//! (inspector, capacity, pattern tester), plots and canvas panels, and the unsaved-changes
//! dialog. Each panel lays out its view and turns what the view reports into actions.

use std::path::Path;

use eframe::egui::{self, RichText, Ui};

use super::{Action, EventflowApp, RightTab};
use crate::model::Kind;
use crate::scenario::Severity;
use crate::ui::canvas::{CanvasEvent, CanvasInput};
use crate::ui::inspector::InspectorInput;
use crate::ui::problems;

impl EventflowApp {
    pub(super) fn update_title(&mut self, ctx: &egui::Context) {
        let file = self
            .doc
            .path
            .as_deref()
            .and_then(Path::file_name)
            .map_or_else(|| "not saved".into(), |n| n.to_string_lossy().into_owned());
        let title = format!(
            "{}{} — {file} — eventflow",
            if self.is_dirty() { "● " } else { "" },
            self.doc.scenario.name
        );
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    // ----- panels ------------------------------------------------------------------------------

    pub(super) fn status_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let file = self
                .doc
                .path
                .as_ref()
                .map_or_else(|| "not saved yet".to_owned(), |p| p.display().to_string());
            let dirty = if self.is_dirty() {
                " ● unsaved changes"
            } else {
                ""
            };
            ui.label(RichText::new(format!("{file}{dirty}")).weak());
            ui.separator();
            let errors = self
                .doc
                .problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            let warnings = self.doc.problems.len() - errors;
            let text = match (errors, warnings) {
                (0, 0) => RichText::new("valid"),
                (0, w) => RichText::new(format!("▲ {w} warning{}", if w == 1 { "" } else { "s" }))
                    .color(ui.visuals().warn_fg_color),
                (e, _) => RichText::new(format!("⊘ {e} error{}", if e == 1 { "" } else { "s" }))
                    .color(ui.visuals().error_fg_color),
            };
            if ui
                .add(egui::Button::new(text).frame(false))
                .on_hover_text("Show the problems list")
                .clicked()
            {
                self.panels.notes = true;
            }
            if let Some((msg, error)) = &self.message {
                ui.separator();
                let t = RichText::new(msg);
                ui.label(if *error {
                    t.color(ui.visuals().error_fg_color)
                } else {
                    t
                });
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(RichText::new(format!("UI {:.1} ms/frame", self.frame_ms)).weak())
                    .on_hover_text("CPU time of the last frames (ui + rendering)");
                if let Some(s) = &self.snapshot {
                    ui.label(
                        RichText::new(format!(
                            "{} engine events",
                            crate::report::count(s.events_processed)
                        ))
                        .weak(),
                    );
                }
            });
        });
    }

    pub(super) fn notes_panel(&mut self, ui: &mut Ui) {
        ui.heading(&self.doc.scenario.name);
        let errors = self.doc.problems.len();
        let mut select = None;
        egui::CollapsingHeader::new(format!("Problems ({errors})"))
            .id_salt("problems")
            .default_open(true)
            .show(ui, |ui| {
                select = problems::problems_list(ui, &self.doc.scenario, &self.doc.problems);
            });
        if let Some(id) = select {
            self.actions.push(Action::Select(Some(id)));
        }
        ui.separator();
        egui::ScrollArea::vertical().id_salt("notes").auto_shrink([false, false]).show(ui, |ui| {
            if self.doc.scenario.description.trim().is_empty() {
                ui.label(RichText::new("This scenario has no description. Write one in the inspector (click the canvas background).").weak());
            } else {
                crate::ui::notes::show_markdown(ui, &self.doc.scenario.description);
            }
        });
    }

    pub(super) fn right_panel(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.right_tab, RightTab::Inspector, "Inspector");
            ui.selectable_value(&mut self.right_tab, RightTab::Capacity, "Capacity");
            ui.selectable_value(&mut self.right_tab, RightTab::Journeys, "Journeys");
        });
        ui.separator();
        match self.right_tab {
            RightTab::Inspector => {
                // During a run the form shows the values in force now (a concurrency or rate
                // changed mid-run), and an edit of them becomes an entry at that time.
                let live_at = self.live_edit_time();
                let mut draft = match live_at {
                    Some(at) => crate::ui::live_edit::in_force(&self.doc.scenario, at),
                    None => self.doc.scenario.clone(),
                };
                let input = InspectorInput {
                    selected: self.selected.as_deref(),
                    problems: &self.doc.problems,
                    results: self.snapshot.as_ref().and_then(|s| s.results.as_ref()),
                    live: self.live.as_ref(),
                };
                let outcome = self.inspector.show(ui, &mut draft, &input);
                let key_owner = self.selected.clone().unwrap_or_default();
                if let Some(key) = outcome.edit {
                    // A rename changes the owner with every keystroke: one undo step for it all.
                    let key = if key == "id" {
                        "rename".to_owned()
                    } else {
                        format!("{key_owner}/{key}")
                    };
                    let draft = match live_at {
                        Some(at) => self.as_live_entries(draft, at),
                        None => draft,
                    };
                    self.commit(draft, &key);
                }
                if let Some(select) = outcome.select {
                    self.selected = select;
                }
                if let Some(id) = outcome.remove {
                    self.actions.push(Action::Remove(id));
                }
            }
            RightTab::Journeys => {
                let input = crate::ui::journeys::JourneysInput {
                    scenario: &self.doc.scenario,
                    revision: self.doc.revision,
                    seed: self.seed,
                    selected: self.selected.as_deref(),
                    runnable: self.blocked().is_none(),
                };
                self.journeys.show(ui, &input, &mut self.cursor_s);
            }
            RightTab::Capacity => {
                // Before the run has measured anything, predict from the declared rates (a
                // short headless preview) rather than from λ = 0.
                let has_measured = self
                    .snapshot
                    .as_ref()
                    .is_some_and(|s| s.now_ns > 0 && s.results.is_some());
                if !has_measured {
                    self.refresh_capacity_preview();
                }
                let measured = self
                    .snapshot
                    .as_ref()
                    .filter(|_| has_measured)
                    .and_then(|s| s.results.as_ref());
                let preview = self.preview.as_ref().and_then(|(_, r)| r.as_ref());
                let results = measured.or(preview);
                match results {
                    Some(results) => {
                        if measured.is_none() {
                            ui.label(
                                RichText::new(format!(
                                    "Before the run: λ at the declared rates (the first {} simulated headless). Press ▶ for measured figures.",
                                    crate::report::human_secs(results.duration_s)
                                ))
                                .weak(),
                            );
                        }
                        egui::ScrollArea::vertical()
                            .auto_shrink([false, false])
                            .show(ui, |ui| {
                                crate::ui::capacity::show(ui, &self.doc.scenario, results);
                            });
                    }
                    None => {
                        ui.label(RichText::new("Run the scenario to see capacity figures.").weak());
                    }
                }
            }
        }
    }

    /// The capacity preview of the current revision: the scenario run headless over its first
    /// minute after warm-up (the declared base rates), cached until the next edit.
    fn refresh_capacity_preview(&mut self) {
        let key = (self.doc.id, self.doc.revision, self.seed);
        if self.preview.as_ref().is_none_or(|(k, _)| *k != key) {
            let results = self.blocked().is_none().then(|| {
                let s = &self.doc.scenario;
                let horizon_ns = s.warmup.as_nanos().saturating_add(60_000_000_000);
                let horizon = crate::model::Duration(horizon_ns);
                let opts = crate::sim::RunOptions {
                    seed: Some(self.seed),
                    duration: Some(horizon.min(s.duration)),
                    series_buckets: Some(60),
                };
                crate::sim::run(s, &opts).ok()
            });
            self.preview = Some((key, results.flatten()));
        }
    }

    pub(super) fn plots_panel(&mut self, ui: &mut Ui) {
        // Claim the panel's whole height whatever the tab draws, so the panel keeps the size the
        // user gave it (a panel shrinks to its content otherwise, differently on every tab).
        ui.set_min_height(ui.available_height());
        match self.snapshot.as_ref().and_then(|s| s.series.as_ref()) {
            Some(series) if !series.times_s.is_empty() => {
                self.plots.show(ui, series, &mut self.cursor_s);
            }
            _ => {
                ui.centered_and_justified(|ui| {
                    let text = match self.blocked() {
                        Some(why) => why,
                        None => "Press ▶ Play (or Space) to run the scenario; plots appear here as it runs.".into(),
                    };
                    ui.label(RichText::new(text).weak());
                });
            }
        }
    }

    pub(super) fn canvas_panel(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Add").strong());
            for (kind, label) in [
                (Kind::Producer, "+ Producer"),
                (Kind::Bus, "+ Bus"),
                (Kind::Queue, "+ Queue"),
                (Kind::Stream, "+ Stream"),
                (Kind::Consumer, "+ Consumer"),
            ] {
                if ui
                    .button(label)
                    .on_hover_text(format!("Add a {} to the scenario", kind.as_str()))
                    .clicked()
                {
                    self.actions.push(Action::Add(kind));
                }
            }
            ui.separator();
            if ui
                .button("Fit")
                .on_hover_text("Fit the diagram to the window (or double-click the background)")
                .clicked()
            {
                self.actions.push(Action::FitCanvas);
            }
            if ui
                .button("Auto layout")
                .on_hover_text("Forget dragged positions")
                .clicked()
            {
                self.actions.push(Action::AutoLayout);
            }
            ui.separator();
            if ui
                .button("Pattern tester")
                .on_hover_text("Try event patterns against events")
                .clicked()
            {
                self.panels.tester = true;
            }
        });
        // The journey being replayed in the Journeys tab marks the nodes it has reached.
        let journey = if self.right_tab == RightTab::Journeys {
            self.journeys.highlight()
        } else {
            None
        };
        // Labels show what the run is doing: a live edit's concurrency or rate from its time on.
        let live_edited = self.doc.scenario.timeline.iter().any(|t| {
            matches!(
                t.action,
                crate::model::TimelineAction::SetConcurrency { .. }
            )
        }) || self
            .doc
            .scenario
            .producers
            .iter()
            .any(|p| !p.schedule.is_empty());
        let in_force = self.snapshot.as_ref().filter(|_| live_edited).map(|snap| {
            super::super::live_edit::in_force(
                &self.doc.scenario,
                crate::model::Duration(snap.now_ns),
            )
        });
        let input = CanvasInput {
            scenario: &self.doc.scenario,
            in_force: in_force.as_ref(),
            revision: self.doc.revision,
            document: self.doc.id,
            live: self.live.as_ref(),
            selected: self.selected.as_deref(),
            playing: self.playing(),
            breakers: &self.breaker_badges,
            journey: journey.as_ref(),
            results: self.snapshot.as_ref().and_then(|s| s.results.as_ref()),
        };
        self.canvas_rect = Some(ui.max_rect());
        let events = self.canvas.show(ui, &input);
        for e in events {
            match e {
                CanvasEvent::Select(id) => self.selected = id,
                CanvasEvent::Move { id, pos } => {
                    let mut draft = self.doc.scenario.clone();
                    draft
                        .layout
                        .insert(id.clone(), [pos[0].round(), pos[1].round()]);
                    self.commit(draft, &format!("layout:{id}"));
                }
            }
        }
        if ui.ctx().input(|i| !i.raw.hovered_files.is_empty()) {
            let painter = ui.ctx().layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop"),
            ));
            let rect = ui.ctx().content_rect();
            painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop a scenario file to open it",
                egui::FontId::proportional(28.0),
                egui::Color32::WHITE,
            );
        }
    }

    pub(super) fn confirm_window(&mut self, ctx: &egui::Context) {
        let Some(pending) = self.confirm.clone() else {
            return;
        };
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("unsaved-changes")).show(ctx, |ui| {
            ui.set_width(420.0);
            ui.heading("Unsaved changes");
            ui.label(format!(
                "\"{}\" has changes that are not saved. Save them first?",
                self.doc.scenario.name
            ));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    answer = Some(1);
                }
                if ui.button("Don't save").clicked() {
                    answer = Some(2);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(0);
                }
            });
        });
        match answer {
            Some(1) => {
                self.confirm = None;
                self.execute(Action::Save);
                if !self.is_dirty() {
                    self.execute(pending);
                }
            }
            Some(2) => {
                self.confirm = None;
                if pending == Action::Quit {
                    self.allow_close = true;
                }
                // The changes are abandoned: mark the document clean so the action goes through.
                self.doc.saved = self.doc.scenario.clone();
                self.execute(pending);
            }
            Some(_) => self.confirm = None,
            None => {}
        }
    }
}
