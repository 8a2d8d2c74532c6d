//! File ▸ Export carried out: asking where (native dialog, or the in-app one), drawing the plot
//! or collecting the results, and writing the file atomically; the canvas through a window
//! screenshot cropped to where the canvas was drawn.

use std::path::{Path, PathBuf};

use super::EventflowApp;
use crate::export::write_atomic;
use crate::plots::RenderStyle;
use crate::ui::export::{self, Export};
use crate::ui::file_dialog::{FileDialog, Purpose};

impl EventflowApp {
    /// Asks where to write `e`, then writes it.
    pub(super) fn ask_export(&mut self, e: Export) {
        let dir = self
            .doc
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let stem = self
            .doc
            .path
            .as_deref()
            .and_then(Path::file_stem)
            .map(|s| s.to_string_lossy().into_owned())
            .or_else(|| {
                self.doc
                    .suggested_name
                    .as_deref()
                    .map(|n| n.trim_end_matches(".json").to_owned())
            })
            .unwrap_or_else(|| {
                super::file_name_for(&self.doc.scenario.name)
                    .trim_end_matches(".json")
                    .to_owned()
            });
        let name = e.file_name(&stem);
        if let Some(path) = self.picker.pick_save(dir.as_deref(), &name) {
            self.export_to(e, &path);
        } else if let Some(why) = self.picker.unavailable() {
            self.pending_export = Some(e);
            self.file_dialog = Some(FileDialog::new(
                Purpose::Export,
                dir.as_deref(),
                &name,
                &why,
            ));
        }
    }

    /// Writes `e` to `path`, saying how it went in the status line.
    pub(super) fn export_to(&mut self, e: Export, path: &Path) {
        if e == Export::Canvas {
            self.export_canvas(path.to_path_buf());
            return;
        }
        let done = self
            .export_bytes(e)
            .and_then(|bytes| write_atomic(path, &bytes).map_err(|e| e.to_string()));
        self.message = Some(match done {
            Ok(()) => (format!("Exported {}", path.display()), false),
            Err(why) => (format!("Could not export: {why}"), true),
        });
    }

    /// What an export other than the canvas writes.
    fn export_bytes(&self, e: Export) -> Result<Vec<u8>, String> {
        let snapshot = self.snapshot.as_ref().ok_or("run the scenario first")?;
        let series = snapshot
            .series
            .as_ref()
            .filter(|s| !s.times_s.is_empty())
            .ok_or("run the scenario first: there are no time series yet")?;
        match e {
            Export::Plot(name, format) => {
                let style = if self.panels.presentation {
                    RenderStyle::presentation()
                } else {
                    RenderStyle::default()
                };
                let shown = self.plots.current_figures(series);
                export::plot_bytes(name, format, series, self.plots.context(), &shown, &style)
            }
            Export::ResultsJson => {
                let mut results = snapshot.results.clone().ok_or("no results yet")?;
                results.series = Some(series.clone());
                let mut as_run = self.doc.scenario.clone();
                as_run.seed = results.seed;
                let analysis = crate::analysis::analyze(&as_run, &results);
                let mut text = crate::report::json_with_analysis(&results, &analysis);
                text.push('\n');
                Ok(text.into_bytes())
            }
            Export::ResultsCsv => {
                let mut bytes = Vec::new();
                series.write_csv(&mut bytes).map_err(|e| e.to_string())?;
                Ok(bytes)
            }
            Export::Canvas => Err("the canvas is exported from a screenshot".into()),
        }
    }

    /// Asks the window for a screenshot of the next frame; when it arrives, the part where the
    /// canvas was drawn is written to `path` and the outcome reported on a later frame
    /// ([`EventflowApp::take_screenshot`]).
    fn export_canvas(&mut self, path: PathBuf) {
        let Some(rect) = self.canvas_rect else {
            self.message = Some((
                "Could not export the canvas: it is not on screen".into(),
                true,
            ));
            return;
        };
        let outcome = std::sync::Arc::clone(&self.canvas_shot);
        let ppp = self.ctx.pixels_per_point();
        let ctx = self.ctx.clone();
        self.ctx.request_screenshot(move |image| {
            let done = export::crop(&image, rect, ppp)
                .and_then(|bytes| write_atomic(&path, &bytes).map_err(|e| e.to_string()));
            let text = match done {
                Ok(()) => (format!("Exported {}", path.display()), false),
                Err(why) => (format!("Could not export the canvas: {why}"), true),
            };
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(text);
            }
            ctx.request_repaint();
        });
        self.ctx.request_repaint();
    }

    /// Shows the outcome of a canvas export once its screenshot has been written.
    pub(super) fn take_screenshot(&mut self) {
        let outcome = self.canvas_shot.lock().ok().and_then(|mut s| s.take());
        if let Some(m) = outcome {
            self.message = Some(m);
        }
    }
}
