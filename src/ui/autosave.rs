//! Autosave and recovery: unsaved work is written every 30 seconds to the platform's data
//! directory (`$XDG_DATA_HOME/eventflow/autosave.json` on Linux, the app's data folder
//! elsewhere, as eframe's storage), and removed when the work is saved or discarded. A file
//! still there when the app starts means the last session ended with unsaved work (a crash, a
//! killed process): the app offers to recover it.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use eframe::egui;

use crate::model::Scenario;
use crate::scenario;

/// How often unsaved work is written, seconds.
pub const AUTOSAVE_EVERY_S: f64 = 30.0;

/// The autosave file and when it was last written.
#[derive(Debug)]
pub struct Autosave {
    path: Option<PathBuf>,
    last_s: Option<f64>,
    written: Option<String>,
    started: bool,
}

/// Unsaved work found at start-up.
#[derive(Clone, Debug)]
pub struct Recovery {
    /// The scenario as autosaved.
    pub scenario: Scenario,
    /// When it was written.
    pub saved_at: Option<SystemTime>,
}

impl Autosave {
    /// In the platform's data directory for eventflow (none: autosave is off).
    #[must_use]
    pub fn in_data_dir() -> Self {
        Self::at(eframe::storage_dir("eventflow").map(|d| d.join("autosave.json")))
    }

    /// At `path` (`None`: autosave is off, as in tests).
    #[must_use]
    pub fn at(path: Option<PathBuf>) -> Self {
        Autosave {
            path,
            last_s: None,
            written: None,
            started: false,
        }
    }

    /// The file, if autosave is on.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Unsaved work a previous session left, if any (an unreadable file is ignored).
    #[must_use]
    pub fn pending(&self) -> Option<Recovery> {
        let path = self.path.as_ref()?;
        let loaded = scenario::load(path).ok()?;
        Some(Recovery {
            scenario: loaded.scenario,
            saved_at: std::fs::metadata(path).and_then(|m| m.modified()).ok(),
        })
    }

    /// Called every frame with the clock (seconds) and the document: writes it at most every
    /// [`AUTOSAVE_EVERY_S`] while it has unsaved changes, and removes the file once it has
    /// none. Returns the I/O error of a failed write (the app shows it once).
    ///
    /// # Errors
    /// The autosave file cannot be written.
    pub fn tick(&mut self, now_s: f64, scenario: &Scenario, dirty: bool) -> Result<(), String> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if !dirty {
            // Saved (or never changed): no autosave should outlive it.
            if self.written.is_some() || !self.started {
                self.discard();
            }
            self.started = true;
            self.last_s = None;
            return Ok(());
        }
        self.started = true;
        let due = self.last_s.is_none_or(|t| now_s - t >= AUTOSAVE_EVERY_S);
        if !due {
            return Ok(());
        }
        self.last_s = Some(now_s);
        let text = scenario::to_json(scenario);
        if self.written.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        scenario::save(&path, scenario).map_err(|e| e.to_string())?;
        self.written = Some(text);
        Ok(())
    }

    /// Removes the autosave file (the work was saved, recovered or discarded).
    pub fn discard(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
        self.written = None;
    }
}

/// The window offering to recover unsaved work; returns the user's answer once: `Some(true)`
/// recover, `Some(false)` discard.
#[must_use]
pub fn recovery_window(ctx: &egui::Context, recovery: Option<&Recovery>) -> Option<bool> {
    let r = recovery?;
    let mut answer = None;
    egui::Window::new("Recover unsaved work?")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            let when = r
                .saved_at
                .and_then(|t| t.elapsed().ok())
                .map(|d| {
                    format!(
                        " {} ago",
                        crate::names::plural((d.as_secs() / 60) as usize, "minute")
                    )
                })
                .unwrap_or_default();
            ui.label(format!(
                "eventflow ended without saving \"{}\". It was autosaved{when}.",
                r.scenario.name
            ));
            ui.horizontal(|ui| {
                if ui.button("Recover").clicked() {
                    answer = Some(true);
                }
                if ui.button("Discard").clicked() {
                    answer = Some(false);
                }
            });
        });
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsaved_work_is_written_every_30_s_and_removed_when_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/autosave.json");
        let mut a = Autosave::at(Some(path.clone()));
        let mut s = Scenario::empty("draft");
        a.tick(0.0, &s, false).unwrap();
        assert!(!path.exists(), "nothing unsaved, nothing written");
        a.tick(1.0, &s, true).unwrap();
        assert!(path.exists(), "the first unsaved change is written at once");
        s.name = "draft 2".into();
        a.tick(10.0, &s, true).unwrap();
        assert_eq!(
            a.pending().unwrap().scenario.name,
            "draft",
            "not before 30 s"
        );
        a.tick(31.5, &s, true).unwrap();
        assert_eq!(a.pending().unwrap().scenario.name, "draft 2");
        a.tick(40.0, &s, false).unwrap();
        assert!(!path.exists(), "saved: the autosave goes");
        assert!(a.pending().is_none());
    }

    #[test]
    fn no_data_directory_means_no_autosave() {
        let mut a = Autosave::at(None);
        assert!(a.tick(100.0, &Scenario::empty("x"), true).is_ok());
        assert!(a.pending().is_none());
    }
}
