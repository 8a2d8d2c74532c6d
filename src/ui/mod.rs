//! The desktop app: see a scenario's architecture, run it, inspect and edit it.
//!
//! ```text
//!  ┌ menu: File (New, Open…, Open example ▸, Open recent ▸, Save, Save As…) · Edit · View ───┐
//!  ├ run controls: ▶ ‖ ⇥ ↺ · speed · simulated clock · seed · new seed ────────────────────────┤
//!  │ notes   │            flow canvas (producers → buses/rules → queues → consumers → DLQs) │ inspector │
//!  │ problems│                                                                         │ capacity  │
//!  ├─────────┴─ plots: throughput · backlog & lag · latency · Little's law · DLQ · utilization ┤
//!  └ status: file, validation, events, frame time ───────────────────────────────────────────┘
//! ```
//!
//! The app is a plain struct ([`app::EventflowApp`]) that tests drive with `egui_kittest`. The
//! simulation runs on its own thread ([`crate::worker`]) and reports snapshots; the UI drains
//! them in `logic` and never waits for the engine. File dialogs sit behind [`FilePicker`] so
//! tests never open one. Each view lives in its own file and is a function of `&mut Ui`.
//!
//! Modules: [`app`] (state, documents, panels), [`menu`], [`toolbar`] (run controls),
//! [`canvas`] and [`graph`] (the flow diagram and its layout), [`inspector`] (editing and live
//! figures), [`edit`] (scenario edits), [`undo`], [`live`] (figures and health per node from a
//! snapshot), [`problems`] (load errors and validation), [`examples`] (bundled scenarios),
//! [`heap`] (glibc's heap settings for the GL driver); part B's views: [`plots`], [`notes`],
//! [`tester`], [`capacity`].

pub mod analysis;
pub mod app;
pub mod autosave;
pub mod breaks;
pub mod canvas;
pub mod capacity;
pub mod edit;
pub mod examples;
pub mod export;
pub mod file_dialog;
pub mod frame_log;
pub mod graph;
pub mod heap;
pub mod inspector;
pub mod journeys;
pub mod live;
pub mod live_edit;
pub mod menu;
pub mod notes;
pub mod plots;
pub mod problems;
pub mod tester;
pub mod toolbar;
pub mod undo;

use std::path::{Path, PathBuf};

use eframe::egui;
use std::process::ExitCode;

pub use app::{AppOptions, EventflowApp};

/// Chooses files for Open and Save As. The app uses native dialogs ([`NativePicker`]); tests
/// use a scripted picker so no dialog ever opens.
pub trait FilePicker {
    /// A scenario file to open, or `None` when the user cancelled.
    fn pick_open(&mut self, start_dir: Option<&Path>) -> Option<PathBuf>;
    /// Where to save, or `None` when the user cancelled.
    fn pick_save(&mut self, start_dir: Option<&Path>, file_name: &str) -> Option<PathBuf>;
    /// A `CloudFormation` / SAM / CDK template to import, or `None` when the user cancelled.
    fn pick_template(&mut self, start_dir: Option<&Path>) -> Option<PathBuf> {
        self.pick_open(start_dir)
    }
    /// Why the last pick showed no dialog at all, when it did not (no dialog service): the app
    /// then opens its own ([`file_dialog`]) and says why. `None` after a real answer or cancel.
    fn unavailable(&self) -> Option<String> {
        None
    }
}

/// Native file dialogs (rfd: the XDG portal on Linux, the system dialog elsewhere).
///
/// rfd answers "cancelled" both when the user cancels and when no dialog service exists (a
/// machine without an XDG desktop portal). A person cannot cancel a dialog within
/// [`NO_DIALOG_S`], so a "cancel" that fast means no dialog was shown.
#[derive(Debug, Default)]
pub struct NativePicker {
    unavailable: Option<String>,
}

/// A native dialog "cancelled" faster than this never showed (seconds).
const NO_DIALOG_S: f64 = 0.25;

impl NativePicker {
    fn timed<T>(&mut self, pick: impl FnOnce() -> Option<T>) -> Option<T> {
        let start = std::time::Instant::now();
        let answer = pick();
        self.unavailable = (answer.is_none() && start.elapsed().as_secs_f64() < NO_DIALOG_S)
            .then(|| {
                "No system file dialog is available here (on Linux, the XDG desktop portal is not running), so eventflow shows its own.".to_owned()
            });
        answer
    }
}

impl FilePicker for NativePicker {
    fn unavailable(&self) -> Option<String> {
        self.unavailable.clone()
    }

    fn pick_open(&mut self, start_dir: Option<&Path>) -> Option<PathBuf> {
        self.timed(|| Self::native_open(start_dir))
    }

    fn pick_save(&mut self, start_dir: Option<&Path>, file_name: &str) -> Option<PathBuf> {
        self.timed(|| Self::native_save(start_dir, file_name))
    }

    fn pick_template(&mut self, start_dir: Option<&Path>) -> Option<PathBuf> {
        self.timed(|| {
            let mut dialog = rfd::FileDialog::new()
                .set_title("Import template")
                .add_filter(
                    "CloudFormation, SAM or CDK template",
                    &["yaml", "yml", "json", "template"],
                );
            if let Some(dir) = start_dir {
                dialog = dialog.set_directory(dir);
            }
            dialog.pick_file()
        })
    }
}

impl NativePicker {
    fn native_open(start_dir: Option<&Path>) -> Option<PathBuf> {
        let mut dialog = rfd::FileDialog::new()
            .set_title("Open scenario")
            .add_filter("Scenario", &["json"]);
        if let Some(dir) = start_dir {
            dialog = dialog.set_directory(dir);
        }
        dialog.pick_file()
    }

    fn native_save(start_dir: Option<&Path>, file_name: &str) -> Option<PathBuf> {
        let mut dialog = rfd::FileDialog::new()
            .set_title("Save scenario")
            .add_filter("Scenario", &["json"])
            .set_file_name(file_name);
        if let Some(dir) = start_dir {
            dialog = dialog.set_directory(dir);
        }
        dialog.save_file()
    }
}

/// Why the app cannot start here, when that can be told before trying (no display at all).
fn missing_display() -> Option<&'static str> {
    if cfg!(all(unix, not(target_os = "macos"))) {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Some("no display found (neither DISPLAY nor WAYLAND_DISPLAY is set)");
        }
    }
    None
}

fn print_headless_help(why: &str) {
    eprintln!("eventflow: cannot open the desktop app: {why}.");
    eprintln!("The command line works without a display:");
    eprintln!("  eventflow run FILE            run a scenario and print its results");
    eprintln!("  eventflow check FILE          validate a scenario");
    eprintln!("  eventflow --help              everything else");
}

/// The window icon (assets/icon.png: a producer feeding a bus that fans out to two targets).
pub static ICON: &[u8] = include_bytes!("../../assets/icon.png");

/// Opens the desktop app with `file` (a bundled example when `None`), playing at once when
/// `run` is set, in presentation mode when `present` is. Without a display, explains how to use the command line instead (exit 1).
#[must_use]
pub fn launch(file: Option<PathBuf>, run: bool, present: bool) -> ExitCode {
    if let Some(why) = missing_display() {
        print_headless_help(why);
        return ExitCode::from(crate::exit::EXIT_INTERNAL);
    }
    // Refused only where the C library is not glibc, whose allocator this does not concern.
    let _ = heap::keep_freed_memory();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("eventflow")
        .with_app_id("eventflow")
        .with_inner_size([1600.0, 1000.0])
        .with_min_inner_size([900.0, 600.0])
        .with_drag_and_drop(true);
    // A bad icon is no reason not to start: the window then has the system's default icon.
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON) {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..eframe::NativeOptions::default()
    };
    let result = eframe::run_native(
        "eventflow",
        options,
        Box::new(move |cc| {
            let opts = AppOptions {
                file,
                run,
                picker: Box::new(NativePicker::default()),
                synchronous: false,
                autosave: None,
                present,
            };
            Ok(Box::new(EventflowApp::new(cc, opts)))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            print_headless_help(&format!("the window could not be created ({e})"));
            ExitCode::from(crate::exit::EXIT_INTERNAL)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_window_icon_is_a_square_png() {
        let icon = eframe::icon_data::from_png_bytes(super::ICON).expect("the icon decodes");
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
    }
}
