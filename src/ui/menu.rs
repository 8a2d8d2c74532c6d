//! The menu bar: File, Edit, Run, View and Help, with the keyboard shortcuts they name.
//!
//! The menus only report what was chosen ([`Action`]); the app carries it out, so a menu item
//! and its shortcut always do the same thing.

use std::path::PathBuf;

use eframe::egui::{self, Button, Key, KeyboardShortcut, Modifiers, Ui};

use super::analysis::Tab;
use super::app::{Action, Panels};
use super::breaks::Break;
use super::examples::Listed;
use crate::model::Kind;

/// Ctrl+N.
pub const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
/// Ctrl+O.
pub const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
/// Ctrl+S.
pub const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
/// Ctrl+Shift+S.
pub const SAVE_AS: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::S);
/// Ctrl+Z.
pub const UNDO: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Z);
/// Ctrl+Shift+Z.
pub const REDO: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
/// Ctrl+Y, the other common redo.
pub const REDO_Y: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Y);
/// F5: presentation mode on or off (the key slide software uses).
pub const PRESENT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F5);
/// Ctrl+Q.
pub const QUIT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Q);

/// What the menus need to know.
pub struct MenuInput<'a> {
    /// The plots the run has so far (name, title), for File ▸ Export.
    pub plots: &'a [(&'static str, String)],
    /// Has the run figures to export?
    pub has_results: bool,
    /// Consumers that can be broken (Run ▸ Break something).
    pub consumers: &'a [String],
    /// Producers that can burst.
    pub producers: &'a [String],
    /// Is a run in progress (a break applies at its current time)?
    pub running: bool,
    /// Bundled examples.
    pub examples: &'a [Listed],
    /// Recently opened files, newest first.
    pub recent: &'a [PathBuf],
    /// Is there an edit to undo?
    pub can_undo: bool,
    /// Is there an edit to redo?
    pub can_redo: bool,
    /// Is the run playing?
    pub playing: bool,
}

fn item(ui: &mut Ui, text: &str, shortcut: Option<&KeyboardShortcut>, enabled: bool) -> bool {
    let mut button = Button::new(text);
    if let Some(s) = shortcut {
        button = button.shortcut_text(ui.ctx().format_shortcut(s));
    }
    ui.add_enabled(enabled, button).clicked()
}

/// Shows the menu bar; returns the chosen action.
pub fn menu_bar(ui: &mut Ui, input: &MenuInput<'_>, panels: &mut Panels) -> Option<Action> {
    let mut action = None;
    let mut pick = |a: Action| action = Some(a);
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if item(ui, "New", Some(&NEW), true) {
                pick(Action::New);
            }
            if item(ui, "Open…", Some(&OPEN), true) {
                pick(Action::Open);
            }
            if item(ui, "Import template…", None, true) {
                pick(Action::Import);
            }
            ui.menu_button("Open example", |ui| {
                for e in input.examples {
                    if ui
                        .button(&e.name)
                        .on_hover_text(format!(
                            "{} (built in; opens untitled, so Save asks where)",
                            e.example.file_name
                        ))
                        .clicked()
                    {
                        pick(Action::OpenExample(e.example.file_name.to_owned()));
                    }
                }
            });
            ui.menu_button("Open recent", |ui| {
                if input.recent.is_empty() {
                    ui.label("Nothing opened yet.");
                }
                for p in input.recent {
                    let name = p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    if ui
                        .button(name)
                        .on_hover_text(p.display().to_string())
                        .clicked()
                    {
                        pick(Action::OpenPath(p.clone()));
                    }
                }
            });
            ui.separator();
            if item(ui, "Save", Some(&SAVE), true) {
                pick(Action::Save);
            }
            if item(ui, "Save As…", Some(&SAVE_AS), true) {
                pick(Action::SaveAs);
            }
            ui.menu_button("Export", |ui| export_menu(ui, input, &mut pick));
            ui.separator();
            if item(ui, "Quit", Some(&QUIT), true) {
                pick(Action::Quit);
            }
        });
        ui.menu_button("Edit", |ui| {
            if item(ui, "Undo", Some(&UNDO), input.can_undo) {
                pick(Action::Undo);
            }
            if item(ui, "Redo", Some(&REDO), input.can_redo) {
                pick(Action::Redo);
            }
            ui.separator();
            ui.menu_button("Add component", |ui| {
                for kind in [
                    Kind::Producer,
                    Kind::Bus,
                    Kind::Queue,
                    Kind::Stream,
                    Kind::Consumer,
                ] {
                    if ui.button(kind.as_str()).clicked() {
                        pick(Action::Add(kind));
                    }
                }
            });
            if ui
                .button("Auto layout")
                .on_hover_text("Forget dragged positions and lay the canvas out again")
                .clicked()
            {
                pick(Action::AutoLayout);
            }
        });
        ui.menu_button("Run", |ui| {
            if item(ui, if input.playing { "Pause" } else { "Play" }, None, true) {
                pick(Action::TogglePlay);
            }
            if item(ui, "Step", None, true) {
                pick(Action::Step);
            }
            if item(ui, "Reset", None, true) {
                pick(Action::Reset);
            }
            if item(ui, "New seed", None, true) {
                pick(Action::NewSeed);
            }
            ui.separator();
            ui.menu_button("Break something", |ui| {
                if !input.running {
                    ui.weak("Breaks apply at the current time: play first.");
                }
                for id in input.consumers {
                    for what in [Break::Down, Break::Slow, Break::Fail] {
                        if item(ui, &what.label(id), None, input.running) {
                            pick(Action::Break(what, id.clone()));
                        }
                    }
                    ui.separator();
                }
                for id in input.producers {
                    if item(ui, &Break::Burst.label(id), None, input.running) {
                        pick(Action::Break(Break::Burst, id.clone()));
                    }
                }
            });
            if item(ui, "Restore everything", None, input.running) {
                pick(Action::RestoreAll);
            }
            ui.separator();
            for (label, tab) in [
                ("Replications…", Tab::Replications),
                ("Compare…", Tab::Compare),
                ("Sweep…", Tab::Sweep),
            ] {
                if item(ui, label, None, true) {
                    pick(Action::Analysis(tab));
                }
            }
        });
        ui.menu_button("View", |ui| {
            ui.checkbox(&mut panels.notes, "Notes and problems");
            ui.checkbox(&mut panels.inspector, "Inspector");
            ui.checkbox(&mut panels.plots, "Plots");
            ui.checkbox(&mut panels.tester, "Pattern tester");
            ui.separator();
            let mut present = panels.presentation;
            let label = format!("Presentation ({})", ui.ctx().format_shortcut(&PRESENT));
            if ui
                .checkbox(&mut present, label)
                .on_hover_text("Large type, the canvas and one plot, thick lines: for a projector")
                .clicked()
            {
                pick(Action::TogglePresentation);
            }
            if ui.button("Fit canvas").clicked() {
                pick(Action::FitCanvas);
            }
        });
        ui.menu_button("Help", |ui| {
            if ui.button("Keyboard and mouse").clicked() {
                panels.help = true;
            }
        });
    });
    action
}

/// File ▸ Export: each plot as PNG and SVG, the canvas, the results.
fn export_menu(ui: &mut Ui, input: &MenuInput<'_>, pick: &mut impl FnMut(Action)) {
    use super::export::{Export, Format};
    if input.plots.is_empty() {
        ui.weak("Run the scenario to export its plots and results.");
    }
    for (name, title) in input.plots {
        for format in [Format::Png, Format::Svg] {
            let e = Export::Plot(name, format);
            if ui.button(e.label(title)).clicked() {
                pick(Action::Export(e));
            }
        }
    }
    ui.separator();
    if ui.button(Export::Canvas.label("")).clicked() {
        pick(Action::Export(Export::Canvas));
    }
    for e in [Export::ResultsJson, Export::ResultsCsv] {
        if item(ui, &e.label(""), None, input.has_results) {
            pick(Action::Export(e));
        }
    }
}

/// The Help ▸ Keyboard and mouse window.
pub fn help_window(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard and mouse")
        .open(open)
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("help-keys")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    for (keys, what) in [
                        ("Space", "play / pause (when no text field has focus)"),
                        ("Ctrl+O / Ctrl+S / Ctrl+Shift+S", "open, save, save as"),
                        (
                            "Ctrl+Z / Ctrl+Shift+Z",
                            "undo, redo (every edit, including moving nodes)",
                        ),
                        (
                            "Delete / Escape",
                            "remove / deselect the selected component",
                        ),
                        ("Drag a node", "move it (saved in the scenario's layout)"),
                        (
                            "Drag the background",
                            "pan; scroll to zoom; double-click to fit",
                        ),
                        ("Drop a .json file", "open it"),
                        (
                            "Click a plot",
                            "set the time cursor; the canvas shows that moment",
                        ),
                    ] {
                        ui.label(egui::RichText::new(keys).monospace());
                        ui.label(what);
                        ui.end_row();
                    }
                });
        });
}
