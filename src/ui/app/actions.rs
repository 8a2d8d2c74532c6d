//! What the app does: [`EventflowApp::perform`] carries out an [`Action`] (asking about
//! unsaved changes first), and the keyboard shortcuts, dropped files and window close requests
//! that become actions.

use std::path::{Path, PathBuf};

use eframe::egui;

use super::{Action, EventflowApp, RESTART_DELAY_S, file_name_for, random_seed};
use crate::model::Scenario;
use crate::ui::breaks;
use crate::ui::edit;
use crate::ui::file_dialog::{FileDialog, Purpose};
use crate::ui::menu;
use crate::ui::toolbar::SPEEDS;
use crate::worker::{Command, RunState};

/// How much larger presentation mode draws everything: at 1920 × 1080 the window is then
/// 1280 × 720 points, and a 13-point node label is 19.5 pixels high, readable from the back of a
/// room.
pub const PRESENTATION_ZOOM: f32 = 1.5;

/// Plot line width in presentation mode, points (1.5 otherwise).
pub const PRESENTATION_LINE_WIDTH: f32 = 4.0;

impl EventflowApp {
    // ----- actions -----------------------------------------------------------------------------

    /// Carries out `action` (asking about unsaved changes first when it would lose them).
    pub fn perform(&mut self, action: Action) {
        let loses_changes = matches!(
            action,
            Action::New
                | Action::Open
                | Action::OpenPath(_)
                | Action::OpenExample(_)
                | Action::Import
                | Action::ImportPath(_)
                | Action::Quit
        );
        if loses_changes && self.is_dirty() && !self.allow_close {
            self.confirm = Some(action);
            return;
        }
        self.execute(action);
    }

    #[allow(clippy::too_many_lines)] // one match arm per action reads better than many helpers
    pub(super) fn execute(&mut self, action: Action) {
        match action {
            Action::New => self.set_document(Scenario::empty("Untitled"), None),
            Action::Open => {
                let dir = self
                    .doc
                    .path
                    .as_deref()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf);
                if let Some(path) = self.picker.pick_open(dir.as_deref()) {
                    self.open_path(&path);
                } else if let Some(why) = self.picker.unavailable() {
                    self.file_dialog =
                        Some(FileDialog::new(Purpose::Open, dir.as_deref(), "", &why));
                }
            }
            Action::OpenPath(path) => {
                self.open_path(&path);
            }
            Action::OpenExample(name) => {
                self.open_example(&name);
            }
            Action::Import => {
                let dir = self
                    .doc
                    .path
                    .as_deref()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf);
                if let Some(path) = self.picker.pick_template(dir.as_deref()) {
                    self.import_path(&path);
                } else if let Some(why) = self.picker.unavailable() {
                    self.message = Some((
                        format!(
                            "No file dialog ({why}): drop the template onto the window, or run `eventflow import TEMPLATE`"
                        ),
                        true,
                    ));
                }
            }
            Action::ImportPath(path) => {
                self.import_path(&path);
            }
            Action::Save => match self.doc.path.clone() {
                Some(path) => self.execute(Action::SaveTo(path)),
                None => self.execute(Action::SaveAs),
            },
            Action::SaveAs => {
                let dir = self
                    .doc
                    .path
                    .as_deref()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf);
                let name = self
                    .doc
                    .path
                    .as_deref()
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned())
                    .or_else(|| self.doc.suggested_name.clone())
                    .unwrap_or_else(|| file_name_for(&self.doc.scenario.name));
                if let Some(path) = self.picker.pick_save(dir.as_deref(), &name) {
                    self.execute(Action::SaveTo(path));
                } else if let Some(why) = self.picker.unavailable() {
                    self.file_dialog =
                        Some(FileDialog::new(Purpose::Save, dir.as_deref(), &name, &why));
                }
            }
            Action::TogglePresentation => self.set_presentation(!self.panels.presentation),
            Action::Analysis(tab) => self.analysis.open_on(tab),
            Action::Export(e) => self.ask_export(e),
            Action::ExportTo(e, path) => self.export_to(e, &path),
            Action::SaveTo(path) => {
                if let Err(e) = self.save_to(&path) {
                    self.message = Some((format!("Could not save: {e}"), true));
                }
            }
            Action::Quit => {
                self.allow_close = true;
                self.ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Action::Undo | Action::Redo => {
                let restored = if action == Action::Undo {
                    self.undo.undo(&self.doc.scenario)
                } else {
                    self.undo.redo(&self.doc.scenario)
                };
                if let Some(s) = restored {
                    let previous = std::mem::replace(&mut self.doc.scenario, s);
                    self.inspector.clear_drafts();
                    self.after_change(&previous);
                }
            }
            Action::Play => {
                let fresh = self
                    .snapshot
                    .as_ref()
                    .is_some_and(|s| s.state != RunState::Finished);
                if fresh && self.restart_at.is_none() {
                    self.worker.send(Command::Play);
                } else {
                    self.restart_at = None;
                    self.reset_run(true);
                }
            }
            Action::Pause => self.worker.send(Command::Pause),
            Action::TogglePlay => self.execute(if self.playing() {
                Action::Pause
            } else {
                Action::Play
            }),
            Action::Step => {
                if self.snapshot.is_none() || self.restart_at.is_some() {
                    self.restart_at = None;
                    self.reset_run(false);
                }
                self.worker.send(Command::Step(self.step_ns()));
            }
            Action::Reset => {
                self.restart_at = None;
                self.reset_run(false);
            }
            Action::NewSeed => {
                self.seed = random_seed();
                let playing = self.playing();
                self.reset_run(playing);
            }
            Action::SetSeed(seed) => {
                self.seed = seed;
                self.restart_at = Some(self.ctx.input(|i| i.time) + RESTART_DELAY_S);
            }
            Action::SetSpeed(i) => {
                self.speed = i.min(SPEEDS.len() - 1);
                self.worker.send(Command::SetSpeed(SPEEDS[self.speed].1));
            }
            Action::Select(id) => self.selected = id,
            Action::Add(kind) => {
                let mut draft = self.doc.scenario.clone();
                let id = edit::add_component(&mut draft, kind);
                edit::place_new_node(&mut draft, &id);
                self.commit(draft, &format!("add:{id}"));
                self.undo.seal();
                self.selected = Some(id);
            }
            Action::Remove(id) => {
                let mut draft = self.doc.scenario.clone();
                if edit::remove(&mut draft, &id) {
                    self.commit(draft, &format!("remove:{id}"));
                    self.undo.seal();
                    self.selected = None;
                }
            }
            Action::Break(what, id) => {
                let now = self.resumable_time().unwrap_or(0);
                let mut draft = self.doc.scenario.clone();
                if let Some(done) = breaks::apply(&mut draft, what, &id, now) {
                    self.live_edit(draft, &format!("break:{id}"), now);
                    self.message = Some((format!("{done} (written into the scenario)"), false));
                }
            }
            Action::RestoreAll => {
                let now = self.resumable_time().unwrap_or(0);
                let mut draft = self.doc.scenario.clone();
                let n = breaks::restore_all(&mut draft, now);
                if n > 0 {
                    self.live_edit(draft, "restore", now);
                    self.message = Some((
                        format!(
                            "Restored {} at {}",
                            crate::report::plural(n, "break"),
                            crate::model::Duration(now)
                        ),
                        false,
                    ));
                }
            }
            Action::FitCanvas => self.canvas.request_fit(),
            Action::AutoLayout => {
                let mut draft = self.doc.scenario.clone();
                draft.layout.clear();
                self.commit(draft, "layout:auto");
                self.undo.seal();
                self.canvas.request_fit();
            }
        }
    }

    /// Commits `draft` and carries the run on from `now_ns` at once (rebuilt from t = 0 with
    /// the change and fast-forwarded), playing if it was.
    fn live_edit(&mut self, draft: Scenario, key: &str, now_ns: u64) {
        let playing = self.playing();
        self.commit(draft, key);
        self.undo.seal();
        self.restart_at = None;
        self.reset_run(playing && now_ns == 0);
        if now_ns > 0 {
            self.fast_forward(now_ns, playing);
        }
    }

    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
        // The more specific shortcuts first: Ctrl+Shift+Z before Ctrl+Z.
        let table = [
            (menu::SAVE_AS, Action::SaveAs),
            (menu::SAVE, Action::Save),
            (menu::REDO, Action::Redo),
            (menu::REDO_Y, Action::Redo),
            (menu::UNDO, Action::Undo),
            (menu::OPEN, Action::Open),
            (menu::NEW, Action::New),
            (menu::QUIT, Action::Quit),
            (menu::PRESENT, Action::TogglePresentation),
        ];
        for (shortcut, action) in table {
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.actions.push(action);
            }
        }
        if !ctx.egui_wants_keyboard_input() {
            if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Space)) {
                self.actions.push(Action::TogglePlay);
            }
            if let Some(id) = self.selected.clone() {
                if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Delete)) {
                    self.actions.push(Action::Remove(id));
                } else if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
                {
                    self.actions.push(Action::Select(None));
                }
            }
        }
    }

    pub(super) fn files_dropped(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if let Some(path) = dropped.into_iter().find(|p| !p.as_os_str().is_empty()) {
            // Templates (`.yaml`, `.yml`, `.template.json`, cdk.out) are imported; other
            // files open as scenarios.
            if crate::import::is_template_name(&path) {
                self.actions.push(Action::ImportPath(path));
            } else {
                self.actions.push(Action::OpenPath(path));
            }
        }
    }

    /// Presentation mode for a projector: everything drawn [`PRESENTATION_ZOOM`] times larger
    /// (node labels, plot text, menus), only the canvas and one plot (notes and inspector
    /// closed), canvas Fit allowed to enlarge past 1:1, plot lines [`PRESENTATION_LINE_WIDTH`]
    /// points thick. Turning it off restores the panels as they were.
    pub(super) fn set_presentation(&mut self, on: bool) {
        if on == self.panels.presentation {
            return;
        }
        if on {
            self.before_presentation = Some(self.panels.clone());
            self.panels.notes = false;
            self.panels.inspector = false;
            self.panels.plots = true;
        } else if let Some(before) = self.before_presentation.take() {
            self.panels.notes = before.notes;
            self.panels.inspector = before.inspector;
            self.panels.plots = before.plots;
        }
        self.panels.presentation = on;
        self.ctx
            .set_zoom_factor(if on { PRESENTATION_ZOOM } else { 1.0 });
        self.canvas.set_enlarging_fit(on);
        self.canvas.request_fit();
        self.plots.set_presentation(on);
    }

    pub(super) fn close_requested(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && self.is_dirty() && !self.allow_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm = Some(Action::Quit);
        }
    }
}
