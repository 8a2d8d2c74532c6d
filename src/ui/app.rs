//! The app state and its frame: documents (open, save, unsaved changes), the run, the panels.
//!
//! [`EventflowApp`] is a plain struct. Menus, shortcuts, the toolbar and the views only report
//! [`Action`]s or edits; the app carries them out in one place, so tests can drive it either by
//! clicking (egui_kittest, by label) or by [`EventflowApp::perform`].
//!
//! Every change of the scenario goes through [`EventflowApp::commit`]: it records an undo step,
//! re-validates, and (unless only the layout or the prose changed) restarts the run a moment
//! later with the same seed, so the canvas and plots show the edited architecture.
//!
//! Persisted between launches (eframe storage): recent files, the speed, which panels are shown,
//! and egui's own memory (panel sizes, window position and size).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText, Ui};
use serde::{Deserialize, Serialize};

use super::canvas::{CanvasEvent, CanvasInput, CanvasView};
use super::examples::{self, Example};
use super::inspector::{Inspector, InspectorInput};
use super::live::LiveView;
use super::menu::{self, MenuInput};
use super::plots::PlotsView;
use super::problems::{self, LoadFailure};
use super::tester::PatternTester;
use super::toolbar::{self, SPEEDS, ToolbarInput};
use super::undo::UndoStack;
use super::{FilePicker, edit};
use crate::model::{Kind, Scenario};
use crate::scenario::{self, Problem, Severity};
use crate::worker::{Command, RunState, Snapshot, Worker};

/// Recent files remembered.
const MAX_RECENT: usize = 10;
/// Wall seconds after the last edit before the run restarts with it.
const RESTART_DELAY_S: f64 = 0.4;
/// Snapshots a circuit-breaker badge stays up after a state change (≈ 1 s while playing).
const BREAKER_BADGE_SNAPSHOTS: u64 = 30;
/// The speed offered first: ×10.
const DEFAULT_SPEED: usize = 3;

/// How the app starts.
pub struct AppOptions {
    /// Scenario to open (a bundled example when `None`).
    pub file: Option<PathBuf>,
    /// Start playing at once.
    pub run: bool,
    /// File dialogs.
    pub picker: Box<dyn FilePicker>,
    /// Run the simulation on the UI thread, advancing once per frame (tests).
    pub synchronous: bool,
}

impl AppOptions {
    /// Options for tests: no file, synchronous worker, the given picker.
    #[must_use]
    pub fn for_tests(picker: Box<dyn FilePicker>) -> Self {
        AppOptions {
            file: None,
            run: false,
            picker,
            synchronous: true,
        }
    }
}

/// Something the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// File ▸ New.
    New,
    /// File ▸ Open… (a dialog).
    Open,
    /// Open this file (examples, recent files, dropped files).
    OpenPath(PathBuf),
    /// File ▸ Save.
    Save,
    /// File ▸ Save As… (a dialog).
    SaveAs,
    /// Save to this file.
    SaveTo(PathBuf),
    /// File ▸ Quit.
    Quit,
    /// Edit ▸ Undo.
    Undo,
    /// Edit ▸ Redo.
    Redo,
    /// Run on.
    Play,
    /// Pause.
    Pause,
    /// Play or pause.
    TogglePlay,
    /// Advance one step.
    Step,
    /// Back to time zero.
    Reset,
    /// A random seed, and start again.
    NewSeed,
    /// This seed, and start again.
    SetSeed(u64),
    /// Speed by index into [`SPEEDS`].
    SetSpeed(usize),
    /// Select a node (or nothing).
    Select(Option<String>),
    /// Add a component.
    Add(Kind),
    /// Remove a component or rule.
    Remove(String),
    /// Fit the canvas to the window.
    FitCanvas,
    /// Forget dragged positions.
    AutoLayout,
}

/// Which panels are shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Panels {
    /// Notes and problems (left).
    pub notes: bool,
    /// Inspector and capacity (right).
    pub inspector: bool,
    /// Plots (bottom).
    pub plots: bool,
    /// The pattern tester window.
    #[serde(skip)]
    pub tester: bool,
    /// The keyboard help window.
    #[serde(skip)]
    pub help: bool,
}

impl Default for Panels {
    fn default() -> Self {
        Panels {
            notes: true,
            inspector: true,
            plots: true,
            tester: false,
            help: false,
        }
    }
}

/// What survives a restart.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Persisted {
    recent: Vec<PathBuf>,
    speed: Option<usize>,
    panels: Panels,
}

/// The right panel's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RightTab {
    Inspector,
    Capacity,
}

/// The scenario being edited.
#[derive(Debug)]
struct Document {
    scenario: Scenario,
    path: Option<PathBuf>,
    /// As last loaded or saved: the document is dirty when it differs.
    saved: Scenario,
    /// Bumped by every change.
    revision: u64,
    /// Bumped by every open / new.
    id: u64,
    problems: Vec<Problem>,
}

/// The desktop app.
pub struct EventflowApp {
    ctx: egui::Context,
    doc: Document,
    undo: UndoStack,
    selected: Option<String>,
    worker: Worker,
    generation: u64,
    snapshot: Option<Snapshot>,
    snapshots_seen: u64,
    seed: u64,
    speed: usize,
    /// Restart the run at this time (`ctx` seconds) with the edited scenario.
    restart_at: Option<f64>,
    live: Option<LiveView>,
    live_key: (u64, Option<u64>, u64),
    breaker_counts: BTreeMap<String, u64>,
    /// Circuit breakers to badge on the canvas: state, and until which snapshot.
    breaker_badges: BTreeMap<String, (String, u64)>,
    canvas: CanvasView,
    inspector: Inspector,
    plots: PlotsView,
    tester: PatternTester,
    cursor_s: Option<f64>,
    panels: Panels,
    right_tab: RightTab,
    load_failure: Option<LoadFailure>,
    message: Option<(String, bool)>,
    confirm: Option<Action>,
    allow_close: bool,
    examples: Vec<Example>,
    recent: Vec<PathBuf>,
    picker: Box<dyn FilePicker>,
    title: String,
    actions: Vec<Action>,
    frame_ms: f32,
}

impl EventflowApp {
    /// Creates the app: restores settings, starts the worker, opens the first scenario.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let persisted: Persisted = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        let ctx = cc.egui_ctx.clone();
        install_fonts(&ctx);
        let worker = if options.synchronous {
            Worker::synchronous()
        } else {
            let repaint = ctx.clone();
            Worker::spawn(Box::new(move || repaint.request_repaint())).unwrap_or_else(|e| {
                eprintln!("eventflow: could not start the simulation thread ({e}); running it on the UI thread");
                Worker::synchronous()
            })
        };
        let empty = Scenario::empty("Untitled");
        let mut app = EventflowApp {
            ctx,
            doc: Document {
                scenario: empty.clone(),
                path: None,
                saved: empty,
                revision: 0,
                id: 0,
                problems: Vec::new(),
            },
            undo: UndoStack::default(),
            selected: None,
            worker,
            generation: 0,
            snapshot: None,
            snapshots_seen: 0,
            seed: 1,
            speed: persisted
                .speed
                .filter(|s| *s < SPEEDS.len())
                .unwrap_or(DEFAULT_SPEED),
            restart_at: None,
            live: None,
            live_key: (u64::MAX, None, u64::MAX),
            breaker_counts: BTreeMap::new(),
            breaker_badges: BTreeMap::new(),
            canvas: CanvasView::default(),
            inspector: Inspector::default(),
            plots: PlotsView::default(),
            tester: PatternTester::default(),
            cursor_s: None,
            panels: persisted.panels,
            right_tab: RightTab::Inspector,
            load_failure: None,
            message: None,
            confirm: None,
            allow_close: false,
            examples: examples::bundled(),
            recent: persisted.recent,
            picker: options.picker,
            title: String::new(),
            actions: Vec::new(),
            frame_ms: 0.0,
        };
        let opened = match &options.file {
            Some(path) => app.open_path(path),
            None => false,
        };
        if !opened {
            let first = examples::default_example(&app.examples).map(|e| e.path.clone());
            match first {
                Some(path) => {
                    // Opened on the user's behalf: not a recent file of theirs.
                    if let Ok(loaded) = scenario::load(&path) {
                        app.set_document(loaded.scenario, Some(path));
                    }
                }
                None => app.set_document(Scenario::empty("Untitled"), None),
            }
        }
        if options.run {
            app.perform(Action::Play);
        }
        app
    }

    // ----- read access (tests, status) ---------------------------------------------------------

    /// The scenario being edited.
    #[must_use]
    pub fn scenario(&self) -> &Scenario {
        &self.doc.scenario
    }

    /// Where it is saved, if anywhere.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.doc.path.as_deref()
    }

    /// Does it differ from the file?
    #[must_use]
    pub fn is_dirty(&self) -> bool {
        self.doc.scenario != self.doc.saved
    }

    /// The selected node.
    #[must_use]
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// The latest snapshot of the current run.
    #[must_use]
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// The file that last failed to load, while its window is open.
    #[must_use]
    pub fn load_failure(&self) -> Option<&LoadFailure> {
        self.load_failure.as_ref()
    }

    /// The validator's problems with the scenario.
    #[must_use]
    pub fn problems(&self) -> &[Problem] {
        &self.doc.problems
    }

    /// Inspector fields whose text does not parse, with the error.
    #[must_use]
    pub fn field_errors(&self) -> &BTreeMap<String, String> {
        self.inspector.field_errors()
    }

    /// The bundled examples found at start.
    #[must_use]
    pub fn examples(&self) -> &[Example] {
        &self.examples
    }

    /// Recently opened files, newest first.
    #[must_use]
    pub fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    /// Is an unsaved-changes question waiting for an answer?
    #[must_use]
    pub fn is_asking_to_save(&self) -> bool {
        self.confirm.is_some()
    }

    // ----- documents ---------------------------------------------------------------------------

    /// Opens `path`; on failure lists its problems and leaves the open scenario as it was.
    pub fn open_path(&mut self, path: &Path) -> bool {
        match scenario::load(path) {
            Ok(loaded) => {
                self.set_document(loaded.scenario, Some(path.to_path_buf()));
                self.remember(path);
                self.load_failure = None;
                self.message = Some((format!("Opened {}", path.display()), false));
                true
            }
            Err(e) => {
                self.load_failure = Some(LoadFailure {
                    path: path.to_path_buf(),
                    problems: e.problems(),
                });
                false
            }
        }
    }

    /// Saves to `path` (atomically) and makes it the document's file.
    ///
    /// # Errors
    /// The I/O error, in words.
    pub fn save_to(&mut self, path: &Path) -> Result<(), String> {
        scenario::save(path, &self.doc.scenario).map_err(|e| e.to_string())?;
        self.doc.path = Some(path.to_path_buf());
        self.doc.saved = self.doc.scenario.clone();
        self.remember(path);
        self.message = Some((format!("Saved {}", path.display()), false));
        Ok(())
    }

    fn remember(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }

    fn set_document(&mut self, s: Scenario, path: Option<PathBuf>) {
        self.seed = s.seed;
        self.doc = Document {
            problems: scenario::validate(&s),
            saved: s.clone(),
            scenario: s,
            path,
            revision: self.doc.revision + 1,
            id: self.doc.id + 1,
        };
        self.undo = UndoStack::default();
        self.selected = None;
        self.cursor_s = None;
        self.inspector.clear_drafts();
        self.restart_at = None;
        self.reset_run(false);
    }

    /// Replaces the scenario with an edited `draft`, recording an undo step keyed `key`.
    pub fn commit(&mut self, draft: Scenario, key: &str) {
        if draft == self.doc.scenario {
            return;
        }
        let now = self.ctx.input(|i| i.time);
        self.undo.record(&self.doc.scenario, key, now);
        let previous = std::mem::replace(&mut self.doc.scenario, draft);
        self.after_change(&previous);
    }

    fn after_change(&mut self, previous: &Scenario) {
        self.doc.revision += 1;
        let only_layout = {
            let mut p = previous.clone();
            p.layout.clone_from(&self.doc.scenario.layout);
            p == self.doc.scenario
        };
        if !only_layout {
            // Dragging a node changes the layout every frame; nothing to validate then.
            self.doc.problems = scenario::validate(&self.doc.scenario);
        }
        if !runs_the_same(previous, &self.doc.scenario) {
            self.restart_at = Some(self.ctx.input(|i| i.time) + RESTART_DELAY_S);
        }
    }

    // ----- the run -----------------------------------------------------------------------------

    fn playing(&self) -> bool {
        self.snapshot
            .as_ref()
            .is_some_and(|s| s.state == RunState::Playing)
    }

    fn blocked(&self) -> Option<String> {
        let errors = self
            .doc
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
        (errors > 0).then(|| {
            format!(
                "cannot run: {errors} problem{} (see Problems)",
                if errors == 1 { "" } else { "s" }
            )
        })
    }

    fn step_ns(&self) -> u64 {
        (self.doc.scenario.duration.as_nanos() / 100).max(1_000_000)
    }

    /// Starts a fresh run of the scenario with the current seed, paused or playing.
    fn reset_run(&mut self, play: bool) {
        self.generation += 1;
        self.snapshot = None;
        self.live = None;
        self.breaker_counts.clear();
        self.breaker_badges.clear();
        if self.blocked().is_some() {
            return;
        }
        self.worker.send(Command::Reset {
            scenario: Box::new(self.doc.scenario.clone()),
            seed: self.seed,
            generation: self.generation,
        });
        self.worker.send(Command::SetSpeed(
            SPEEDS[self.speed.min(SPEEDS.len() - 1)].1,
        ));
        if play {
            self.worker.send(Command::Play);
        }
    }

    fn take_snapshots(&mut self) {
        let dt = f64::from(self.ctx.input(|i| i.stable_dt).min(0.1));
        let Some(s) = self.worker.poll(dt) else {
            return;
        };
        if s.generation != self.generation {
            return;
        }
        self.snapshots_seen += 1;
        if let Some(r) = &s.results {
            let seen = self.snapshots_seen;
            for (id, n) in &r.nodes.0 {
                let before = self
                    .breaker_counts
                    .insert(id.clone(), n.circuit_breaker_transitions)
                    .unwrap_or(0);
                match n.circuit_breaker {
                    // The engine reports the breaker's state: badge it while not closed.
                    Some("closed") => {
                        self.breaker_badges.remove(id);
                    }
                    Some(state) => {
                        self.breaker_badges
                            .insert(id.clone(), (state.replace('_', "-"), u64::MAX));
                    }
                    None if n.circuit_breaker_transitions > before => {
                        self.breaker_badges.insert(
                            id.clone(),
                            ("changed".into(), seen + BREAKER_BADGE_SNAPSHOTS),
                        );
                    }
                    None => {}
                }
            }
            self.breaker_badges.retain(|_, (_, until)| *until >= seen);
        }
        self.snapshot = Some(s);
    }

    fn refresh_live(&mut self) {
        let key = (
            self.snapshots_seen,
            self.cursor_s.map(f64::to_bits),
            self.doc.revision,
        );
        if key == self.live_key {
            return;
        }
        self.live_key = key;
        self.live = self.snapshot.as_ref().and_then(|s| {
            let series = s.series.as_ref()?;
            Some(LiveView::build(
                &self.doc.scenario,
                series,
                s.state == RunState::Finished,
                self.cursor_s,
            ))
        });
    }

    // ----- actions -----------------------------------------------------------------------------

    /// Carries out `action` (asking about unsaved changes first when it would lose them).
    pub fn perform(&mut self, action: Action) {
        let loses_changes = matches!(
            action,
            Action::New | Action::Open | Action::OpenPath(_) | Action::Quit
        );
        if loses_changes && self.is_dirty() && !self.allow_close {
            self.confirm = Some(action);
            return;
        }
        self.execute(action);
    }

    #[allow(clippy::too_many_lines)] // one match arm per action reads better than many helpers
    fn execute(&mut self, action: Action) {
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
                }
            }
            Action::OpenPath(path) => {
                self.open_path(&path);
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
                    .map_or_else(
                        || file_name_for(&self.doc.scenario.name),
                        |n| n.to_string_lossy().into_owned(),
                    );
                if let Some(path) = self.picker.pick_save(dir.as_deref(), &name) {
                    self.execute(Action::SaveTo(path));
                }
            }
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

    fn shortcuts(&mut self, ctx: &egui::Context) {
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

    fn files_dropped(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if let Some(path) = dropped.into_iter().find(|p| !p.as_os_str().is_empty()) {
            self.actions.push(Action::OpenPath(path));
        }
    }

    fn close_requested(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) && self.is_dirty() && !self.allow_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm = Some(Action::Quit);
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
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

    fn status_bar(&mut self, ui: &mut Ui) {
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

    fn notes_panel(&mut self, ui: &mut Ui) {
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
                super::notes::show_markdown(ui, &self.doc.scenario.description);
            }
        });
    }

    fn right_panel(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.right_tab, RightTab::Inspector, "Inspector");
            ui.selectable_value(&mut self.right_tab, RightTab::Capacity, "Capacity");
        });
        ui.separator();
        match self.right_tab {
            RightTab::Inspector => {
                let mut draft = self.doc.scenario.clone();
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
                    self.commit(draft, &key);
                }
                if let Some(select) = outcome.select {
                    self.selected = select;
                }
                if let Some(id) = outcome.remove {
                    self.actions.push(Action::Remove(id));
                }
            }
            RightTab::Capacity => match self.snapshot.as_ref().and_then(|s| s.results.as_ref()) {
                Some(results) => {
                    egui::ScrollArea::vertical()
                        .auto_shrink([false, false])
                        .show(ui, |ui| {
                            super::capacity::show(ui, &self.doc.scenario, results);
                        });
                }
                None => {
                    ui.label(RichText::new("Run the scenario to see capacity figures.").weak());
                }
            },
        }
    }

    fn plots_panel(&mut self, ui: &mut Ui) {
        match self.snapshot.as_ref().and_then(|s| s.series.as_ref()) {
            Some(series) if !series.times_s.is_empty() => {
                self.plots.show(ui, series, &mut self.cursor_s)
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

    fn canvas_panel(&mut self, ui: &mut Ui) {
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
        let input = CanvasInput {
            scenario: &self.doc.scenario,
            revision: self.doc.revision,
            document: self.doc.id,
            live: self.live.as_ref(),
            selected: self.selected.as_deref(),
            playing: self.playing(),
            breakers: &self.breaker_badges,
        };
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

    fn confirm_window(&mut self, ctx: &egui::Context) {
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

impl eframe::App for EventflowApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.take_snapshots();
        if let Some(at) = self.restart_at
            && ctx.input(|i| i.time) >= at
        {
            self.restart_at = None;
            let playing = self.playing();
            self.reset_run(playing);
        }
        self.shortcuts(ctx);
        self.files_dropped(ctx);
        self.close_requested(ctx);
        self.refresh_live();
        if self.playing() {
            // Moving dots and the clock; the worker's snapshots also wake the UI.
            ctx.request_repaint();
        } else if let Some(at) = self.restart_at {
            let wait = (at - ctx.input(|i| i.time)).max(0.0);
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(wait));
        }
    }

    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        if let Some(cpu) = frame.info().cpu_usage {
            // A moving average over about a second of frames.
            self.frame_ms += (cpu * 1000.0 - self.frame_ms) * 0.05;
        }
        let ctx = ui.ctx().clone();
        let input = MenuInput {
            examples: &self.examples,
            recent: &self.recent,
            can_undo: self.undo.can_undo(),
            can_redo: self.undo.can_redo(),
            playing: self.playing(),
        };
        let mut chosen = None;
        egui::Panel::top("menu-bar").show(ui, |ui| {
            chosen = menu::menu_bar(ui, &input, &mut self.panels)
        });
        self.actions.extend(chosen);
        let toolbar_input = ToolbarInput {
            snapshot: self.snapshot.as_ref(),
            duration_s: self.doc.scenario.duration.as_secs_f64(),
            blocked: self.blocked(),
            step_s: self.step_ns() as f64 / 1e9,
        };
        let mut chosen = None;
        egui::Panel::top("run-controls").show(ui, |ui| {
            chosen = toolbar::show(ui, &toolbar_input, &mut self.speed, &mut self.seed)
        });
        self.actions.extend(chosen);
        egui::Panel::bottom("status-bar").show(ui, |ui| self.status_bar(ui));
        if self.panels.plots {
            egui::Panel::bottom("plots")
                .resizable(true)
                .default_size(330.0)
                .size_range(120.0..=800.0)
                .show(ui, |ui| self.plots_panel(ui));
        }
        if self.panels.notes {
            egui::Panel::left("notes")
                .resizable(true)
                .default_size(280.0)
                .show(ui, |ui| self.notes_panel(ui));
        }
        if self.panels.inspector {
            egui::Panel::right("inspector")
                .resizable(true)
                .default_size(390.0)
                .show(ui, |ui| self.right_panel(ui));
        }
        egui::CentralPanel::default().show(ui, |ui| self.canvas_panel(ui));

        problems::load_failure_window(&ctx, &mut self.load_failure);
        menu::help_window(&ctx, &mut self.panels.help);
        if self.panels.tester {
            self.tester
                .show(&ctx, &mut self.panels.tester, &self.doc.scenario);
        }
        self.confirm_window(&ctx);

        for action in std::mem::take(&mut self.actions) {
            self.perform(action);
        }
        self.update_title(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let persisted = Persisted {
            recent: self.recent.clone(),
            speed: Some(self.speed),
            panels: self.panels.clone(),
        };
        eframe::set_value(storage, eframe::APP_KEY, &persisted);
    }
}

/// The bundled proportional font (Ubuntu Light) has no symbols such as ▶ ‖ ↺ ▲; the bundled
/// monospace font (Hack) has them, so it becomes the proportional font's fallback.
fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional)
        && !family.iter().any(|f| f == "Hack")
    {
        family.insert(family.len().min(1), "Hack".to_owned());
    }
    ctx.set_fonts(fonts);
}

/// Same simulation? (Layout, name and description do not change results.)
fn runs_the_same(a: &Scenario, b: &Scenario) -> bool {
    let strip = |s: &Scenario| {
        let mut s = s.clone();
        s.layout.clear();
        s.description.clear();
        s.name.clear();
        s
    };
    strip(a) == strip(b)
}

/// A file name from a scenario name: `Order pipeline` → `order-pipeline.json`.
fn file_name_for(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("{}.json", if slug.is_empty() { "scenario" } else { &slug })
}

/// A fresh seed for "new seed": wall-clock based, which is fine here (the run it starts is
/// reproducible from the seed shown).
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    crate::sim::rng::mix64(nanos as u64) % 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_from_scenario_names() {
        assert_eq!(file_name_for("Order pipeline"), "order-pipeline.json");
        assert_eq!(file_name_for("  "), "scenario.json");
        assert_eq!(file_name_for("SQS → Lambda (v2)"), "sqs-lambda-v2.json");
    }

    #[test]
    fn layout_and_prose_do_not_restart_the_run() {
        let a = Scenario::empty("a");
        let mut b = a.clone();
        b.layout.insert("x".into(), [1.0, 2.0]);
        b.description = "notes".into();
        assert!(runs_the_same(&a, &b));
        b.duration = crate::model::Duration::from_secs(1);
        assert!(!runs_the_same(&a, &b));
    }
}
