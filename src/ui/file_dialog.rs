//! The in-app file dialog, used where no native dialog service exists (a Linux machine without
//! an XDG desktop portal, a bare X server such as a workshop's projector PC): Open… and Save As…
//! would otherwise fail silently.
//!
//! Why our own: the maintained egui file-dialog crate (`egui-file-dialog` 0.15) is built for
//! egui 0.36, and this app is on 0.37; two egui versions cannot share one context. The dialog
//! here is deliberately small: a folder's sub-folders and `.json` files, a path field, Up,
//! and OK / Cancel. It is a plain state struct drawn by [`FileDialog::show`], so kittests drive
//! it by label.

use std::path::{Path, PathBuf};

use eframe::egui::{self, RichText};

/// What the dialog is choosing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A scenario to open.
    Open,
    /// Where to save the scenario.
    Save,
    /// Where to write an export (a plot, the canvas, the results).
    Export,
}

/// The dialog's state.
#[derive(Clone, Debug)]
pub struct FileDialog {
    purpose: Purpose,
    dir: PathBuf,
    /// The file name field (Save) or the chosen file (Open).
    name: String,
    /// Why the in-app dialog is shown, in words.
    reason: String,
    /// Sub-folders and `.json` files of `dir`, read when the folder changes.
    entries: Vec<(String, bool)>,
    error: Option<String>,
}

impl FileDialog {
    /// A dialog in `dir` (the working directory when `None`) suggesting `name`.
    #[must_use]
    pub fn new(purpose: Purpose, dir: Option<&Path>, name: &str, reason: &str) -> Self {
        let dir = dir
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        let mut d = FileDialog {
            purpose,
            dir,
            name: name.to_owned(),
            reason: reason.to_owned(),
            entries: Vec::new(),
            error: None,
        };
        d.read_dir();
        d
    }

    /// What it is choosing.
    #[must_use]
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    fn read_dir(&mut self) {
        self.entries.clear();
        match std::fs::read_dir(&self.dir) {
            Ok(entries) => {
                for e in entries.filter_map(Result::ok) {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with('.') {
                        continue;
                    }
                    let is_dir = e.path().is_dir();
                    if is_dir || name.ends_with(".json") {
                        self.entries.push((name, is_dir));
                    }
                }
                // Folders first, then files, by name.
                self.entries
                    .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                self.error = None;
            }
            Err(e) => self.error = Some(format!("{}: {e}", self.dir.display())),
        }
    }

    fn enter(&mut self, dir: PathBuf) {
        self.dir = dir;
        self.read_dir();
    }

    /// Draws the dialog. Returns `Some(Some(path))` when chosen, `Some(None)` when cancelled,
    /// `None` while it stays open.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Option<PathBuf>> {
        let mut answer = None;
        let title = match self.purpose {
            Purpose::Open => "Open scenario",
            Purpose::Save => "Save scenario",
            Purpose::Export => "Export",
        };
        egui::Modal::new(egui::Id::unique("in-app-file-dialog")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading(title);
            ui.add(egui::Label::new(RichText::new(&self.reason).weak()).wrap());
            ui.horizontal(|ui| {
                if ui.button("Up").on_hover_text("The parent folder").clicked()
                    && let Some(parent) = self.dir.parent().map(Path::to_path_buf)
                {
                    self.enter(parent);
                }
                ui.label(RichText::new(self.dir.display().to_string()).monospace());
            });
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            let mut enter = None;
            egui::ScrollArea::vertical()
                .max_height(320.0)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    for (name, is_dir) in &self.entries {
                        let label = if *is_dir {
                            format!("{name}/")
                        } else {
                            name.clone()
                        };
                        let selected = !*is_dir && *name == self.name;
                        let r = ui.selectable_label(selected, label);
                        if r.clicked() {
                            if *is_dir {
                                enter = Some(self.dir.join(name));
                            } else {
                                self.name.clone_from(name);
                            }
                        }
                        if r.double_clicked() && !*is_dir {
                            answer = Some(Some(self.dir.join(name)));
                        }
                    }
                    if self.entries.is_empty() {
                        ui.weak("No folders or .json files here.");
                    }
                });
            if let Some(dir) = enter {
                self.enter(dir);
            }
            ui.horizontal(|ui| {
                let label = ui.label("File name");
                ui.add(egui::TextEdit::singleline(&mut self.name).desired_width(360.0))
                    .labelled_by(label.id);
            });
            ui.horizontal(|ui| {
                let ok = match self.purpose {
                    Purpose::Open => "Open",
                    Purpose::Save => "Save",
                    Purpose::Export => "Export",
                };
                let name = self.name.trim();
                if ui
                    .add_enabled(!name.is_empty(), egui::Button::new(ok))
                    .clicked()
                {
                    let mut path = self.dir.join(name);
                    if self.purpose == Purpose::Save && path.extension().is_none() {
                        path.set_extension("json");
                    }
                    answer = Some(Some(path));
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(None);
                }
            });
        });
        answer
    }
}
