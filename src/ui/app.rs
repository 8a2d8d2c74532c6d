//! The app state and its frame: documents (open, save, unsaved changes), the run, the panels.
//!
//! [`EventflowApp`] is a plain struct. Menus, shortcuts, the toolbar and the views only report
//! [`Action`]s or edits; the app carries them out in one place, so tests can drive it either by
//! clicking (`egui_kittest`, by label) or by [`EventflowApp::perform`].
//!
//! Every change of the scenario goes through [`EventflowApp::commit`]: it records an undo step,
//! re-validates, and (unless only the layout or the prose changed) restarts the run a moment
//! later with the same seed, so the canvas and plots show the edited architecture.
//!
//! Persisted between launches (eframe storage): recent files, the speed, which panels are shown,
//! and egui's own memory (panel sizes, window position and size).
//!
//! This file owns the state, the documents, the run and the frame loop; `app/actions.rs` carries out
//! actions (and turns shortcuts, dropped files and close requests into them), `app/panels.rs` lays out
//! the panels around the views.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eframe::egui::{self, Ui};
use serde::{Deserialize, Serialize};

use super::FilePicker;
use super::canvas::CanvasView;
use super::examples::{self, Listed};
use super::inspector::Inspector;
use super::live::LiveView;
use super::menu::{self, MenuInput};
use super::plots::PlotsView;
use super::problems::{self, LoadFailure};
use super::tester::PatternTester;
use super::toolbar::{self, SPEEDS, ToolbarInput};
use super::undo::UndoStack;
use crate::model::{Kind, Scenario};
use crate::scenario::{self, Problem, Severity};
use crate::worker::{Command, RunState, Snapshot, Worker};

mod actions;
pub use actions::{PRESENTATION_LINE_WIDTH, PRESENTATION_ZOOM};
mod exporting;
mod panels;

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
    /// The autosave file instead of the platform's data directory's (tests of recovery; by
    /// default a synchronous app, a test's, autosaves nowhere).
    pub autosave: Option<PathBuf>,
    /// Start in presentation mode (`gui --present`).
    pub present: bool,
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
            autosave: None,
            present: false,
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
    /// Open this file (recent files, dropped files).
    OpenPath(PathBuf),
    /// Open a bundled example (by file name) as an untitled document.
    OpenExample(String),
    /// File ▸ Import template… (a dialog): a `CloudFormation` / SAM / CDK template.
    Import,
    /// Import this template (a dropped `.yaml`, `.yml` or `.template.json`).
    ImportPath(PathBuf),
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
    /// Run ▸ Break something: write a break on a node into the scenario at the current time.
    Break(super::breaks::Break, String),
    /// Run ▸ Restore everything: end every break at the current time.
    RestoreAll,
    /// Run ▸ Replications… / Compare… / Sweep…: the analysis window on that tab.
    Analysis(super::analysis::Tab),
    /// Fit the canvas to the window.
    FitCanvas,
    /// Forget dragged positions.
    AutoLayout,
    /// View ▸ Presentation: on or off.
    TogglePresentation,
    /// File ▸ Export: ask where, then write.
    Export(super::export::Export),
    /// Write this export to this file.
    ExportTo(super::export::Export, PathBuf),
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
    /// View ▸ Presentation: large type, canvas and one plot, thick lines (a projector).
    #[serde(skip)]
    pub presentation: bool,
}

impl Default for Panels {
    fn default() -> Self {
        Panels {
            notes: true,
            inspector: true,
            plots: true,
            tester: false,
            help: false,
            presentation: false,
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
    Journeys,
}

/// The scenario being edited.
#[derive(Debug)]
struct Document {
    scenario: Scenario,
    path: Option<PathBuf>,
    /// The file name Save As suggests for an untitled document (an example's own name).
    suggested_name: Option<String>,
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
    /// The simulated time live edits are written at until the restart carries them out (so
    /// the keystrokes of one edit land at one time).
    live_edit_at: Option<crate::model::Duration>,
    live: Option<LiveView>,
    live_key: (u64, Option<u64>, u64),
    breaker_counts: BTreeMap<String, u64>,
    /// Circuit breakers to badge on the canvas: state, and until which snapshot.
    breaker_badges: BTreeMap<String, (String, u64)>,
    canvas: CanvasView,
    inspector: Inspector,
    journeys: super::journeys::JourneysView,
    plots: PlotsView,
    tester: PatternTester,
    /// Run ▸ Replications, compare and sweep.
    analysis: super::analysis::AnalysisView,
    cursor_s: Option<f64>,
    panels: Panels,
    right_tab: RightTab,
    /// The capacity panel's figures before a run: (document, revision, seed) and the results.
    preview: Option<((u64, u64, u64), Option<crate::sim::Results>)>,
    load_failure: Option<LoadFailure>,
    message: Option<(String, bool)>,
    confirm: Option<Action>,
    /// The in-app file dialog, while open (no native dialog service).
    file_dialog: Option<super::file_dialog::FileDialog>,
    /// The export the in-app dialog is choosing a file for.
    pending_export: Option<super::export::Export>,
    /// Where the canvas was drawn last frame (points), for File ▸ Export ▸ Canvas.
    canvas_rect: Option<egui::Rect>,
    /// File ▸ Export's plot entries (name, title), and the (snapshot, revision) they are for.
    plot_menu: ((u64, u64), Vec<(&'static str, String)>),
    /// The panels shown before presentation mode, restored when it ends.
    before_presentation: Option<Panels>,
    /// What became of a canvas export: written by the screenshot callback, shown by the app.
    canvas_shot: std::sync::Arc<std::sync::Mutex<Option<(String, bool)>>>,
    allow_close: bool,
    examples: Vec<Listed>,
    recent: Vec<PathBuf>,
    picker: Box<dyn FilePicker>,
    title: String,
    actions: Vec<Action>,
    frame_ms: f32,
    /// `EVENTFLOW_FRAME_LOG=FILE`: frame CPU and the time of each part of the UI, written there
    /// every 120 frames (for measuring; off by default).
    frame_log: Option<super::frame_log::FrameLog>,
    /// Unsaved work written every 30 s, and what a crashed session left to recover.
    autosave: super::autosave::Autosave,
    recovery: Option<super::autosave::Recovery>,
}

impl EventflowApp {
    /// Creates the app: restores settings, starts the worker, opens the first scenario.
    #[must_use]
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
        // Tests (synchronous) never touch the user's data directory.
        let autosave = if let Some(path) = options.autosave.clone() {
            super::autosave::Autosave::at(Some(path))
        } else if options.synchronous {
            super::autosave::Autosave::at(None)
        } else {
            super::autosave::Autosave::in_data_dir()
        };
        let recovery = autosave.pending();
        let mut app = EventflowApp {
            autosave,
            recovery,
            ctx,
            doc: Document {
                scenario: empty.clone(),
                path: None,
                suggested_name: None,
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
            live_edit_at: None,
            live: None,
            live_key: (u64::MAX, None, u64::MAX),
            breaker_counts: BTreeMap::new(),
            breaker_badges: BTreeMap::new(),
            canvas: CanvasView::default(),
            inspector: Inspector::default(),
            journeys: super::journeys::JourneysView::new(options.synchronous),
            plots: PlotsView::default(),
            tester: PatternTester::default(),
            analysis: super::analysis::AnalysisView::default(),
            cursor_s: None,
            panels: persisted.panels,
            right_tab: RightTab::Inspector,
            preview: None,
            load_failure: None,
            message: None,
            confirm: None,
            file_dialog: None,
            pending_export: None,
            before_presentation: None,
            plot_menu: ((u64::MAX, u64::MAX), Vec::new()),
            canvas_rect: None,
            canvas_shot: std::sync::Arc::default(),
            allow_close: false,
            examples: examples::bundled(),
            recent: persisted.recent,
            picker: options.picker,
            title: String::new(),
            actions: Vec::new(),
            frame_ms: 0.0,
            frame_log: super::frame_log::FrameLog::from_env(),
        };
        let opened = match &options.file {
            Some(path) => app.open_path(path),
            None => false,
        };
        if !opened {
            // Opened on the user's behalf: not a recent file of theirs.
            let first = examples::default_example().map(|e| e.file_name);
            if !first.is_some_and(|f| app.open_example(f)) {
                app.set_document(Scenario::empty("Untitled"), None);
            }
        }
        if options.present {
            app.perform(Action::TogglePresentation);
        } else {
            // egui keeps the zoom factor with the window's memory: a session closed in
            // presentation mode must not start the next one enlarged.
            app.ctx.set_zoom_factor(1.0);
            app.canvas.request_fit();
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

    /// Which panels are shown (and whether in presentation mode).
    #[must_use]
    pub fn panels(&self) -> &Panels {
        &self.panels
    }

    /// The plots panel's state.
    #[must_use]
    pub fn plots(&self) -> &PlotsView {
        &self.plots
    }

    /// The replications, compare and sweep window's state.
    #[must_use]
    pub fn analysis(&self) -> &super::analysis::AnalysisView {
        &self.analysis
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

    /// The bundled examples.
    #[must_use]
    pub fn examples(&self) -> &[Listed] {
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
                // Meaning errors only (every field reads, but a reference or value is wrong):
                // open it anyway, with the Problems panel saying what to fix; running waits
                // until it is valid. Syntax and type errors cannot be shown as a diagram.
                if let Some(s) = readable_but_invalid(path, &e) {
                    let errors = e.problems().len();
                    self.set_document(s, Some(path.to_path_buf()));
                    self.remember(path);
                    self.load_failure = None;
                    self.panels.notes = true;
                    self.message = Some((
                        format!(
                            "Opened {} with {} to fix (see Problems); running is off until then",
                            path.display(),
                            crate::report::plural(errors, "problem")
                        ),
                        true,
                    ));
                    return true;
                }
                self.load_failure = Some(LoadFailure {
                    path: path.to_path_buf(),
                    problems: e.problems(),
                });
                false
            }
        }
    }

    /// Imports a `CloudFormation` / SAM / CDK template as an untitled document (Save asks where),
    /// laid out on the canvas, with its assumptions in the notes panel; on failure says why
    /// and leaves the open scenario as it was.
    pub fn import_path(&mut self, path: &Path) -> bool {
        let imported = match crate::import::import_file(path, &std::collections::BTreeMap::new()) {
            Ok(i) => i,
            Err(e) => {
                self.message = Some((
                    format!(
                        "Could not import: {}",
                        e.render(&path.display().to_string())
                    ),
                    true,
                ));
                return false;
            }
        };
        let text = serde_json::to_string_pretty(&imported.scenario).unwrap_or_default();
        let name = path.file_name().map_or_else(
            || "template".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        match scenario::parse(&text, &name) {
            Ok(loaded) => {
                let mut s = loaded.scenario;
                s.layout.clear(); // the canvas lays out nodes without positions
                self.set_document(s, None);
                let stem = name.split('.').next().unwrap_or("imported").to_owned();
                self.doc.suggested_name = Some(format!("{stem}.json"));
                self.load_failure = None;
                self.panels.notes = true;
                self.canvas.request_fit();
                self.message = Some((
                    format!(
                        "Imported {name}: {} — the assumptions to check first are in the notes",
                        crate::report::plural(imported.report.assumptions.len(), "assumption")
                    ),
                    false,
                ));
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

    /// Opens the bundled example `file_name` as an untitled document (Save asks where).
    pub fn open_example(&mut self, file_name: &str) -> bool {
        let Some(example) = crate::examples::find(file_name) else {
            return false;
        };
        match scenario::parse(example.text, example.file_name) {
            Ok(loaded) => {
                self.set_document(loaded.scenario, None);
                self.doc.suggested_name = Some(example.file_name.to_owned());
                self.load_failure = None;
                self.message = Some((
                    format!(
                        "Opened the example {} (untitled: Save asks where)",
                        example.file_name
                    ),
                    false,
                ));
                true
            }
            Err(e) => {
                self.load_failure = Some(LoadFailure {
                    path: PathBuf::from(example.file_name),
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
            suggested_name: None,
            revision: self.doc.revision + 1,
            id: self.doc.id + 1,
        };
        self.plots.set_scenario(&self.doc.scenario);
        self.tester.reset();
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
            self.plots.set_scenario(&self.doc.scenario);
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

    /// The simulated time of a run in progress (started, not finished), if any.
    pub(super) fn resumable_time(&self) -> Option<u64> {
        self.snapshot
            .as_ref()
            .filter(|s| s.now_ns > 0 && s.state != RunState::Finished)
            .map(|s| s.now_ns)
    }

    /// Run ▸ Replications, compare and sweep: the window, and a file to compare with when it
    /// asks for one.
    fn analysis_window(&mut self, ctx: &egui::Context) {
        // Offered as B only when it differs and is a scenario (not the empty one of File ▸ New).
        let saved = (self.analysis.open
            && !(self.doc.saved.consumers.is_empty() && self.doc.saved.producers.is_empty())
            && self.doc.saved != self.doc.scenario)
            .then_some(&self.doc.saved);
        let input = super::analysis::AnalysisInput {
            scenario: &self.doc.scenario,
            saved,
            seed: self.seed,
            blocked: self.blocked(),
        };
        if let Some(super::analysis::AnalysisRequest::PickCompareFile) =
            self.analysis.show(ctx, &input)
        {
            let dir = self.doc.path.as_deref().and_then(Path::parent);
            if let Some(path) = self.picker.pick_open(dir) {
                self.analysis.set_compare_file(path);
            } else if let Some(why) = self.picker.unavailable() {
                self.message = Some((format!("{why} Type the file's path instead."), true));
            }
        }
    }

    /// The simulated time an inspector edit takes effect at, while a run is in progress.
    pub(super) fn live_edit_time(&self) -> Option<crate::model::Duration> {
        self.live_edit_at
            .or_else(|| self.resumable_time().map(super::breaks::at_ms))
    }

    /// An inspector edit during a run: a changed concurrency or rate becomes a `timeline` /
    /// `schedule` entry at `at` (the file's own value stays), said in the status line.
    pub(super) fn as_live_entries(
        &mut self,
        edited: Scenario,
        at: crate::model::Duration,
    ) -> Scenario {
        let view = super::live_edit::in_force(&self.doc.scenario, at);
        let (file, written) = super::live_edit::as_entries(&self.doc.scenario, &view, edited, at);
        if written > 0 {
            self.live_edit_at = Some(at);
            self.message = Some((
                format!(
                    "Changed from t = {} on: {} in the scenario's timeline / schedule (the file's own value stays)",
                    crate::plots::data::format_seconds(at.as_secs_f64()),
                    if written == 1 {
                        "1 entry".to_owned()
                    } else {
                        format!("{written} entries")
                    }
                ),
                false,
            ));
        }
        file
    }

    /// After [`Self::reset_run`]: advances the new run to `now_ns`, then plays on if `play`.
    pub(super) fn fast_forward(&mut self, now_ns: u64, play: bool) {
        if self.blocked().is_some() {
            return;
        }
        self.worker.send(Command::AdvanceTo(now_ns));
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
        // Until the run ends, the bucket at its edge is still filling.
        self.plots
            .set_live_edge((s.state != RunState::Finished).then(|| s.now_s()));
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
}

impl eframe::App for EventflowApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.take_snapshots();
        if let Some(at) = self.restart_at
            && ctx.input(|i| i.time) >= at
        {
            self.restart_at = None;
            self.live_edit_at = None;
            let playing = self.playing();
            // An edit during a run keeps the run where it was: rebuilt from t = 0 with the edit
            // (deterministic) and fast-forwarded to the current time.
            let now = self.resumable_time();
            self.reset_run(playing && now.is_none());
            if let Some(now) = now {
                self.fast_forward(now, playing);
            }
        }
        if self.recovery.is_none() {
            let now = ctx.input(|i| i.time);
            let dirty = self.is_dirty();
            if let Err(e) = self.autosave.tick(now, &self.doc.scenario, dirty) {
                self.message = Some((format!("autosave is off: {e}"), true));
                self.autosave = super::autosave::Autosave::at(None);
            }
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
            let playing = self.playing();
            if let Some(log) = &mut self.frame_log {
                log.frame(cpu * 1000.0, playing);
            }
        }
        let mut clock = super::frame_log::Sections::start(self.frame_log.is_some());
        let ctx = ui.ctx().clone();
        let breakable: Vec<String> = self
            .doc
            .scenario
            .consumers
            .iter()
            .map(|c| c.id.clone())
            .collect();
        let producers: Vec<String> = self
            .doc
            .scenario
            .producers
            .iter()
            .map(|p| p.id.clone())
            .collect();
        // The plots a run has change only with a new snapshot or edit: not worked out per frame.
        let menu_key = (self.snapshots_seen, self.doc.revision);
        if self.plot_menu.0 != menu_key {
            let plots = self
                .snapshot
                .as_ref()
                .and_then(|s| s.series.as_ref())
                .filter(|s| !s.times_s.is_empty())
                .map(|s| super::export::plot_menu(s, self.plots.context()))
                .unwrap_or_default();
            self.plot_menu = (menu_key, plots);
        }
        let plot_menu = std::mem::take(&mut self.plot_menu.1);
        let input = MenuInput {
            plots: &plot_menu,
            has_results: self.snapshot.as_ref().is_some_and(|s| s.results.is_some()),
            consumers: &breakable,
            producers: &producers,
            running: self.resumable_time().is_some(),
            examples: &self.examples,
            recent: &self.recent,
            can_undo: self.undo.can_undo(),
            can_redo: self.undo.can_redo(),
            playing: self.playing(),
        };
        let mut chosen = None;
        egui::Panel::top("menu-bar").show(ui, |ui| {
            chosen = menu::menu_bar(ui, &input, &mut self.panels);
        });
        clock.lap("menu");
        self.actions.extend(chosen);
        self.plot_menu.1 = plot_menu;
        let toolbar_input = ToolbarInput {
            snapshot: self.snapshot.as_ref(),
            duration_s: self.doc.scenario.duration.as_secs_f64(),
            blocked: self.blocked(),
            step_s: self.step_ns() as f64 / 1e9,
        };
        let mut chosen = None;
        egui::Panel::top("run-controls").show(ui, |ui| {
            chosen = toolbar::show(ui, &toolbar_input, &mut self.speed, &mut self.seed);
        });
        self.actions.extend(chosen);
        egui::Panel::bottom("status-bar").show(ui, |ui| self.status_bar(ui));
        clock.lap("bars");
        if self.panels.plots {
            // Presentation mode has a panel of its own (its size remembered apart): the canvas
            // gets 60 % of the window, the one plot the rest.
            let (id, size) = if self.panels.presentation {
                ("plots-presentation", ui.available_height() * 0.4)
            } else {
                ("plots", 330.0)
            };
            egui::Panel::bottom(id)
                .resizable(true)
                .default_size(size)
                .size_range(120.0..=800.0)
                .show(ui, |ui| self.plots_panel(ui));
        }
        clock.lap("plots");
        if self.panels.notes {
            egui::Panel::left("notes")
                .resizable(true)
                .default_size(280.0)
                .show(ui, |ui| self.notes_panel(ui));
        }
        clock.lap("notes");
        if self.panels.inspector {
            egui::Panel::right("inspector")
                .resizable(true)
                .default_size(390.0)
                .show(ui, |ui| self.right_panel(ui));
        }
        clock.lap("inspector");
        egui::CentralPanel::default().show(ui, |ui| self.canvas_panel(ui));
        clock.lap("canvas");

        problems::load_failure_window(&ctx, &mut self.load_failure);
        if let Some(recover) = super::autosave::recovery_window(&ctx, self.recovery.as_ref()) {
            let found = self.recovery.take();
            self.autosave.discard();
            if recover && let Some(r) = found {
                self.set_document(r.scenario, None);
                // Recovered work is still unsaved work.
                self.doc.saved = Scenario::empty("");
            }
        }
        menu::help_window(&ctx, &mut self.panels.help);
        if self.panels.tester {
            self.tester
                .show(&ctx, &mut self.panels.tester, &self.doc.scenario);
        }
        self.confirm_window(&ctx);
        self.analysis_window(&ctx);
        if let Some(dialog) = &mut self.file_dialog
            && let Some(answer) = dialog.show(&ctx)
        {
            let purpose = dialog.purpose();
            self.file_dialog = None;
            match (answer, purpose) {
                (Some(path), super::file_dialog::Purpose::Open) => {
                    self.actions.push(Action::OpenPath(path));
                }
                (Some(path), super::file_dialog::Purpose::Save) => {
                    self.actions.push(Action::SaveTo(path));
                }
                (Some(path), super::file_dialog::Purpose::Export) => {
                    if let Some(e) = self.pending_export.take() {
                        self.actions.push(Action::ExportTo(e, path));
                    }
                }
                (None, _) => {}
            }
        }

        self.take_screenshot();
        for action in std::mem::take(&mut self.actions) {
            self.perform(action);
        }
        self.update_title(&ctx);
        clock.lap("windows");
        if let Some(log) = &mut self.frame_log {
            log.sections(&clock);
            if log.wants_mesh() {
                log.mesh(&ctx);
            }
        }
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

/// The scenario in `path` when it failed to load for its meaning only (it reads as a
/// scenario, but the validator found errors), so the app can open it with its problems listed.
fn readable_but_invalid(path: &Path, e: &scenario::LoadError) -> Option<Scenario> {
    if !matches!(e, scenario::LoadError::Invalid { .. }) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value = scenario::migrate(serde_json::from_str(&text).ok()?).ok()?;
    serde_json::from_value(value).ok()
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
