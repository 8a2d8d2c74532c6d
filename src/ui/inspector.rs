//! The inspector: the selected component's settings as editable widgets, and its live figures.
//!
//! Every edit is checked as it is typed. A text that does not parse (a duration like `"8o ms"`,
//! JSON with a missing brace, an event pattern EventBridge would reject) shows its error under
//! the field and is not applied, so the scenario stays runnable; a value that parses is applied
//! at once and reported to the app as an undoable edit (by field, so typing one value is one
//! undo step). Problems the validator finds with the component are listed at the top.
//!
//! With nothing selected it edits the scenario itself (name, description, duration, warm-up).

use std::collections::BTreeMap;

use eframe::egui::{self, Color32, DragValue, RichText, TextEdit, Ui, emath::Numeric};
use serde_json::Value;

use super::edit;
use crate::model::{
    Arrivals, CircuitBreaker, Distribution, Duration, Kind, QueueType, RetryPolicy, Scenario,
    WhenFull,
};
use crate::model::{defaults, topology};
use crate::scenario::{Problem, Severity};
use crate::sim::Results;

use super::live::LiveView;

/// What the app should do after the inspector was shown.
#[derive(Debug, Default, PartialEq)]
pub struct InspectorOutcome {
    /// The draft changed; the undo key of the edit.
    pub edit: Option<String>,
    /// Select this node instead (after a rename, or a link to a rule).
    pub select: Option<Option<String>>,
    /// Remove this component or rule.
    pub remove: Option<String>,
}

/// Text being typed, per field, with its parse error.
#[derive(Debug, Default)]
pub struct Inspector {
    drafts: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    /// The selection the drafts belong to.
    showing: Option<Option<String>>,
    outcome: InspectorOutcome,
}

/// Context the inspector reads.
pub struct InspectorInput<'a> {
    /// The selected node, if any.
    pub selected: Option<&'a str>,
    /// Validation problems of the whole scenario.
    pub problems: &'a [Problem],
    /// Figures of the run so far.
    pub results: Option<&'a Results>,
    /// Figures at the moment shown on the canvas.
    pub live: Option<&'a LiveView>,
}

fn parse_duration(t: &str) -> Result<Duration, String> {
    Duration::parse(t)
}

fn parse_opt_duration(t: &str) -> Result<Option<Duration>, String> {
    if t.trim().is_empty() {
        Ok(None)
    } else {
        Duration::parse(t).map(Some)
    }
}

fn parse_opt_u64(t: &str) -> Result<Option<u64>, String> {
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.replace('_', "")
        .parse::<u64>()
        .map(Some)
        .map_err(|_| format!("\"{t}\" is not a whole number ≥ 0"))
}

fn parse_opt_text(t: &str) -> Result<Option<String>, String> {
    let t = t.trim();
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

fn opt_to_text<T: ToString>(v: Option<&T>) -> String {
    v.map_or_else(String::new, ToString::to_string)
}

/// The JSON path of a component or rule, as the validator writes it (`consumers[2]`).
#[must_use]
pub fn json_path_of(s: &Scenario, id: &str) -> Option<String> {
    let find = |ids: Vec<&str>, name: &str| {
        ids.iter()
            .position(|i| *i == id)
            .map(|i| format!("{name}[{i}]"))
    };
    find(
        s.producers.iter().map(|p| p.id.as_str()).collect(),
        "producers",
    )
    .or_else(|| find(s.buses.iter().map(|b| b.id.as_str()).collect(), "buses"))
    .or_else(|| find(s.queues.iter().map(|q| q.id.as_str()).collect(), "queues"))
    .or_else(|| find(s.streams.iter().map(|x| x.id.as_str()).collect(), "streams"))
    .or_else(|| {
        find(
            s.consumers.iter().map(|c| c.id.as_str()).collect(),
            "consumers",
        )
    })
    .or_else(|| {
        s.buses.iter().enumerate().find_map(|(b, bus)| {
            bus.rules
                .iter()
                .position(|r| r.id == id)
                .map(|r| format!("buses[{b}].rules[{r}]"))
        })
    })
}

impl Inspector {
    /// Forgets text being typed (after undo, redo or loading, the fields show the scenario again).
    pub fn clear_drafts(&mut self) {
        self.drafts.clear();
        self.errors.clear();
    }

    /// Fields whose text does not parse, with the error (for tests and the status bar).
    #[must_use]
    pub fn field_errors(&self) -> &BTreeMap<String, String> {
        &self.errors
    }

    fn changed(&mut self, key: &str) {
        self.outcome.edit = Some(key.to_owned());
    }

    /// Shows the inspector for `input.selected` (the scenario itself when nothing is selected),
    /// editing `draft` in place.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        draft: &mut Scenario,
        input: &InspectorInput<'_>,
    ) -> InspectorOutcome {
        let selection = input.selected.map(str::to_owned);
        if self.showing.as_ref() != Some(&selection) {
            self.clear_drafts();
            self.showing = Some(selection);
        }
        self.outcome = InspectorOutcome::default();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| match input.selected {
                None => self.scenario_form(ui, draft),
                Some(id) => {
                    self.problems_of(ui, draft, id, input.problems);
                    match draft.kind_of(id) {
                        Some(kind) => self.component_form(ui, draft, id, kind, input),
                        None if json_path_of(draft, id).is_some() => self.rule_form(ui, draft, id),
                        None => {
                            ui.label(format!("\"{id}\" is no longer in the scenario."));
                        }
                    }
                }
            });
        std::mem::take(&mut self.outcome)
    }

    fn problems_of(&self, ui: &mut Ui, s: &Scenario, id: &str, problems: &[Problem]) {
        let Some(path) = json_path_of(s, id) else {
            return;
        };
        let mine: Vec<&Problem> = problems
            .iter()
            .filter(|p| {
                p.path == path
                    || p.path.starts_with(&format!("{path}."))
                    || p.path.starts_with(&format!("{path}["))
            })
            .collect();
        for p in mine {
            let color = if p.severity == Severity::Error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().warn_fg_color
            };
            let mut text = format!("▲ {}: {}", p.path, p.message);
            if let Some(h) = &p.hint {
                text.push_str(&format!(" ({h})"));
            }
            ui.label(RichText::new(text).color(color));
        }
    }

    // ----- field widgets ---------------------------------------------------------------------

    /// A one-line text field applied when it parses; returns the parsed value on a change.
    fn text_row<T>(
        &mut self,
        ui: &mut Ui,
        label: &str,
        key: &str,
        current: &str,
        hint: &str,
        mut parse: impl FnMut(&str) -> Result<T, String>,
    ) -> Option<T> {
        let label_response = ui.label(label);
        let widget_id = ui.make_persistent_id(("inspector-field", key));
        let focused = ui.memory(|m| m.has_focus(widget_id));
        let draft = self
            .drafts
            .entry(key.to_owned())
            .or_insert_with(|| current.to_owned());
        if !focused && !self.errors.contains_key(key) && draft != current {
            current.clone_into(draft);
        }
        let response = ui
            .add(
                TextEdit::singleline(draft)
                    .id(widget_id)
                    .hint_text(hint)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label_response.id);
        let mut out = None;
        if response.changed() {
            match parse(draft) {
                Ok(v) => {
                    self.errors.remove(key);
                    out = Some(v);
                }
                Err(e) => {
                    self.errors.insert(key.to_owned(), e);
                }
            }
        }
        ui.end_row();
        if let Some(e) = self.errors.get(key) {
            ui.label("");
            ui.label(RichText::new(format!("▲ {e}")).color(ui.visuals().error_fg_color));
            ui.end_row();
        }
        out
    }

    /// A multi-line JSON field applied when it parses and passes `check`.
    fn json_field(
        &mut self,
        ui: &mut Ui,
        label: &str,
        key: &str,
        current: &Value,
        check: impl Fn(&Value) -> Result<(), String>,
    ) -> Option<Value> {
        let label_response = ui.label(RichText::new(label).strong());
        let pretty = serde_json::to_string_pretty(current).unwrap_or_default();
        let widget_id = ui.make_persistent_id(("inspector-json", key));
        let focused = ui.memory(|m| m.has_focus(widget_id));
        let draft = self
            .drafts
            .entry(key.to_owned())
            .or_insert_with(|| pretty.clone());
        if !focused && !self.errors.contains_key(key) && *draft != pretty {
            draft.clone_from(&pretty);
        }
        let response = ui
            .add(
                TextEdit::multiline(draft)
                    .id(widget_id)
                    .code_editor()
                    .desired_rows(3)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label_response.id);
        let mut out = None;
        if response.changed() {
            let parsed = serde_json::from_str::<Value>(draft)
                .map_err(|e| format!("not valid JSON: {e}"))
                .and_then(|v| check(&v).map(|()| v));
            match parsed {
                Ok(v) => {
                    self.errors.remove(key);
                    out = Some(v);
                }
                Err(e) => {
                    self.errors.insert(key.to_owned(), e);
                }
            }
        }
        if let Some(e) = self.errors.get(key) {
            ui.label(RichText::new(format!("▲ {e}")).color(ui.visuals().error_fg_color));
        }
        out
    }

    fn drag_row<N: Numeric>(
        &mut self,
        ui: &mut Ui,
        label: &str,
        key: &str,
        value: &mut N,
        range: std::ops::RangeInclusive<N>,
        speed: f64,
    ) {
        let label_response = ui.label(label);
        let r = ui
            .add(DragValue::new(value).range(range).speed(speed))
            .labelled_by(label_response.id);
        if r.changed() {
            self.changed(key);
        }
        ui.end_row();
    }

    fn check_row(&mut self, ui: &mut Ui, label: &str, key: &str, value: &mut bool, hover: &str) {
        ui.label("");
        if ui.checkbox(value, label).on_hover_text(hover).changed() {
            self.changed(key);
        }
        ui.end_row();
    }

    /// A choice among ids; `none` adds an empty choice with that caption.
    fn id_combo_row(
        &mut self,
        ui: &mut Ui,
        label: &str,
        key: &str,
        current: &mut Option<String>,
        options: &[String],
        none: Option<&str>,
    ) {
        let label_response = ui.label(label);
        let shown = current
            .clone()
            .unwrap_or_else(|| none.unwrap_or("—").to_owned());
        let mut picked = None;
        let r = egui::ComboBox::from_id_salt(("inspector-combo", key))
            .selected_text(shown)
            .width(200.0)
            .show_ui(ui, |ui| {
                if let Some(caption) = none
                    && ui.selectable_label(current.is_none(), caption).clicked()
                {
                    picked = Some(None);
                }
                for o in options {
                    if ui
                        .selectable_label(current.as_deref() == Some(o.as_str()), o)
                        .clicked()
                    {
                        picked = Some(Some(o.clone()));
                    }
                }
            });
        r.response.labelled_by(label_response.id);
        if let Some(p) = picked
            && *current != p
        {
            *current = p;
            self.changed(key);
        }
        ui.end_row();
    }

    fn enum_combo_row<T: PartialEq + Copy>(
        &mut self,
        ui: &mut Ui,
        label: &str,
        key: &str,
        value: &mut T,
        options: &[(T, &str)],
    ) {
        let label_response = ui.label(label);
        let shown = options
            .iter()
            .find(|(v, _)| v == value)
            .map_or("?", |(_, n)| n);
        let before = *value;
        let r = egui::ComboBox::from_id_salt(("inspector-enum", key))
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (v, name) in options {
                    ui.selectable_value(value, *v, *name);
                }
            });
        r.response.labelled_by(label_response.id);
        if *value != before {
            self.changed(key);
        }
        ui.end_row();
    }

    fn id_row(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
        let mut scratch = s.clone();
        let renamed = self.text_row(ui, "Id", "id", id, "unique id", |t| {
            let t = t.trim();
            edit::rename(&mut scratch, id, t).map(|()| t.to_owned())
        });
        if let Some(new_id) = renamed
            && new_id != id
            && edit::rename(s, id, &new_id).is_ok()
        {
            self.changed("id");
            // Keep the drafts: the same fields now belong to the renamed component.
            self.showing = Some(Some(new_id.clone()));
            self.outcome.select = Some(Some(new_id));
        }
    }

    fn distribution_rows(&mut self, ui: &mut Ui, key: &str, d: &mut Distribution) {
        #[derive(Clone, Copy, PartialEq)]
        enum Shape {
            Constant,
            Exponential,
            Uniform,
            Lognormal,
        }
        let mean = Duration(d.mean_ns().round() as u64);
        let mut shape = match d {
            Distribution::Constant(_) => Shape::Constant,
            Distribution::Exponential { .. } => Shape::Exponential,
            Distribution::Uniform(_) => Shape::Uniform,
            Distribution::Lognormal { .. } => Shape::Lognormal,
        };
        let before = shape;
        self.enum_combo_row(
            ui,
            "Distribution",
            &format!("{key}.shape"),
            &mut shape,
            &[
                (Shape::Constant, "constant"),
                (Shape::Exponential, "exponential"),
                (Shape::Uniform, "uniform"),
                (Shape::Lognormal, "lognormal"),
            ],
        );
        if shape != before {
            // Keep the mean when the shape changes.
            *d = match shape {
                Shape::Constant => Distribution::Constant(mean),
                Shape::Exponential => Distribution::Exponential { mean },
                Shape::Uniform => {
                    Distribution::Uniform([Duration(mean.0 / 2), Duration(mean.0 + mean.0 / 2)])
                }
                Shape::Lognormal => Distribution::Lognormal {
                    mean,
                    stddev: Duration(mean.0 / 2),
                },
            };
            self.drafts.retain(|k, _| !k.starts_with(key));
            self.errors.retain(|k, _| !k.starts_with(key));
        }
        let hint = "e.g. 80ms";
        match d {
            Distribution::Constant(v) | Distribution::Exponential { mean: v } => {
                let label = if shape == Shape::Constant {
                    "Value"
                } else {
                    "Mean"
                };
                let current = v.to_string();
                if let Some(new) = self.text_row(
                    ui,
                    label,
                    &format!("{key}.mean"),
                    &current,
                    hint,
                    parse_duration,
                ) {
                    *v = new;
                    self.changed(key);
                }
            }
            Distribution::Uniform([lo, hi]) => {
                let (l, h) = (lo.to_string(), hi.to_string());
                if let Some(new) =
                    self.text_row(ui, "From", &format!("{key}.lo"), &l, hint, parse_duration)
                {
                    *lo = new;
                    self.changed(key);
                }
                if let Some(new) =
                    self.text_row(ui, "To", &format!("{key}.hi"), &h, hint, parse_duration)
                {
                    *hi = new;
                    self.changed(key);
                }
            }
            Distribution::Lognormal { mean, stddev } => {
                let (m, sd) = (mean.to_string(), stddev.to_string());
                if let Some(new) =
                    self.text_row(ui, "Mean", &format!("{key}.mean"), &m, hint, parse_duration)
                {
                    *mean = new;
                    self.changed(key);
                }
                if let Some(new) = self.text_row(
                    ui,
                    "Std dev",
                    &format!("{key}.stddev"),
                    &sd,
                    hint,
                    parse_duration,
                ) {
                    *stddev = new;
                    self.changed(key);
                }
            }
        }
    }

    // ----- forms -----------------------------------------------------------------------------

    fn scenario_form(&mut self, ui: &mut Ui, s: &mut Scenario) {
        ui.heading("Scenario");
        ui.label(RichText::new("Select a node on the canvas to inspect and edit it.").weak());
        egui::Grid::new("inspector-scenario")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                if let Some(name) =
                    self.text_row(ui, "Name", "name", &s.name.clone(), "display name", |t| {
                        if t.trim().is_empty() {
                            Err("the name cannot be empty".into())
                        } else {
                            Ok(t.to_owned())
                        }
                    })
                {
                    s.name = name;
                    self.changed("name");
                }
                if let Some(d) = self.text_row(
                    ui,
                    "Duration",
                    "duration",
                    &s.duration.to_string(),
                    "e.g. 10m",
                    parse_duration,
                ) {
                    s.duration = d;
                    self.changed("duration");
                }
                if let Some(d) = self.text_row(
                    ui,
                    "Warm-up",
                    "warmup",
                    &s.warmup.to_string(),
                    "e.g. 1m",
                    parse_duration,
                ) {
                    s.warmup = d;
                    self.changed("warmup");
                }
                let mut seed = s.seed;
                self.drag_row(ui, "File seed", "seed", &mut seed, 0..=u64::MAX, 1.0);
                s.seed = seed;
            });
        ui.add_space(6.0);
        let label =
            ui.label(RichText::new("Description (Markdown, shown in the notes panel)").strong());
        let r = ui
            .add(
                TextEdit::multiline(&mut s.description)
                    .desired_rows(8)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        if r.changed() {
            self.changed("description");
        }
    }

    fn component_form(
        &mut self,
        ui: &mut Ui,
        s: &mut Scenario,
        id: &str,
        kind: Kind,
        input: &InspectorInput<'_>,
    ) {
        ui.horizontal(|ui| {
            ui.heading(format!("{} · {id}", kind.as_str()));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("⨯ Remove")
                    .on_hover_text("Remove this component (undo with Ctrl+Z)")
                    .clicked()
                {
                    self.outcome.remove = Some(id.to_owned());
                }
            });
        });
        let ids = |kinds: &[Kind]| -> Vec<String> {
            s.components()
                .into_iter()
                .filter(|(_, k)| kinds.contains(k))
                .map(|(i, _)| i.to_owned())
                .collect()
        };
        let sinks = ids(topology::SINKS);
        let sources = ids(topology::SOURCES);
        let queues = ids(topology::QUEUE);
        egui::Grid::new(("inspector-component", kind.as_str()))
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                self.id_row(ui, s, id);
            });
        // The id may have changed just now; carry on with the new one.
        let id = match &self.outcome.select {
            Some(Some(new)) => new.clone(),
            _ => id.to_owned(),
        };
        let id = id.as_str();
        match kind {
            Kind::Producer => self.producer_form(ui, s, id, &sinks),
            Kind::Bus => self.bus_form(ui, s, id),
            Kind::Queue => self.queue_form(ui, s, id, &queues),
            Kind::Stream => self.stream_form(ui, s, id),
            Kind::Consumer => self.consumer_form(ui, s, id, &sources, &sinks),
        }
        ui.separator();
        figures(ui, id, input);
    }

    fn producer_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str, sinks: &[String]) {
        let Some(p) = s.producers.iter_mut().find(|p| p.id == id) else {
            return;
        };
        egui::Grid::new("inspector-producer")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                let mut to = Some(p.to.clone());
                self.id_combo_row(ui, "Sends to", "to", &mut to, sinks, None);
                p.to = to.unwrap_or_default();
                self.drag_row(
                    ui,
                    "Rate (events/s)",
                    "rate",
                    &mut p.rate,
                    0.0..=10_000_000.0,
                    1.0,
                );
                self.enum_combo_row(
                    ui,
                    "Arrivals",
                    "arrivals",
                    &mut p.arrivals,
                    &[
                        (Arrivals::Poisson, "poisson"),
                        (Arrivals::Uniform, "uniform"),
                    ],
                );
                let limit = opt_to_text(p.limit.as_ref());
                if let Some(v) = self.text_row(
                    ui,
                    "Limit (events)",
                    "limit",
                    &limit,
                    "unlimited",
                    parse_opt_u64,
                ) {
                    p.limit = v;
                    self.changed("limit");
                }
            });
        let schedule = serde_json::to_value(&p.schedule).unwrap_or(Value::Null);
        if let Some(v) =
            self.json_field(ui, "Schedule (rate changes)", "schedule", &schedule, |v| {
                serde_json::from_value::<Vec<crate::model::RateChange>>(v.clone())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            && let Ok(list) = serde_json::from_value(v)
        {
            p.schedule = list;
            self.changed("schedule");
        }
        if let Some(v) = self.json_field(ui, "Event template", "event", &p.event.clone(), |v| {
            crate::sim::template::Template::compile(v, false)
                .map(|_| ())
                .map_err(|errs| {
                    errs.iter()
                        .map(|(path, msg)| {
                            if path.is_empty() {
                                msg.clone()
                            } else {
                                format!("{path}: {msg}")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
        }) {
            p.event = v;
            self.changed("event");
        }
    }

    fn bus_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
        let Some(b) = s.buses.iter_mut().find(|b| b.id == id) else {
            return;
        };
        egui::Grid::new("inspector-bus")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                self.check_row(
                    ui,
                    "Archive events (for replays)",
                    "archive",
                    &mut b.archive,
                    "Keep matching events so the timeline can replay them",
                );
            });
        ui.label(RichText::new("Rules").strong());
        let rules: Vec<(String, usize)> = b
            .rules
            .iter()
            .map(|r| (r.id.clone(), r.targets.len()))
            .collect();
        for (rule, targets) in rules {
            ui.horizontal(|ui| {
                if ui
                    .link(rule.as_str())
                    .on_hover_text("Edit this rule")
                    .clicked()
                {
                    self.outcome.select = Some(Some(rule.clone()));
                }
                ui.label(
                    RichText::new(format!(
                        "→ {targets} target{}",
                        if targets == 1 { "" } else { "s" }
                    ))
                    .weak(),
                );
            });
        }
        if ui.button("+ Add rule").clicked()
            && let Some(new) = edit::add_rule(s, id)
        {
            self.changed("rules");
            self.outcome.select = Some(Some(new));
        }
    }

    fn rule_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
        let Some(bus_id) = s
            .buses
            .iter()
            .find(|b| b.rules.iter().any(|r| r.id == id))
            .map(|b| b.id.clone())
        else {
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(format!("rule · {id}"));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("⨯ Remove")
                    .on_hover_text("Remove this rule (undo with Ctrl+Z)")
                    .clicked()
                {
                    self.outcome.remove = Some(id.to_owned());
                }
            });
        });
        ui.horizontal(|ui| {
            ui.label("On bus");
            if ui.link(&bus_id).clicked() {
                self.outcome.select = Some(Some(bus_id.clone()));
            }
        });
        egui::Grid::new("inspector-rule-id")
            .num_columns(2)
            .show(ui, |ui| self.id_row(ui, s, id));
        let id = match &self.outcome.select {
            Some(Some(new)) => new.clone(),
            _ => id.to_owned(),
        };
        let targets_to: Vec<String> = s
            .components()
            .into_iter()
            .filter(|(i, k)| topology::TARGETS.contains(k) && *i != bus_id)
            .map(|(i, _)| i.to_owned())
            .collect();
        let queues: Vec<String> = s.queues.iter().map(|q| q.id.clone()).collect();
        let Some(rule) = s
            .buses
            .iter_mut()
            .flat_map(|b| b.rules.iter_mut())
            .find(|r| r.id == id)
        else {
            return;
        };
        if let Some(v) =
            self.json_field(ui, "Event pattern", "pattern", &rule.pattern.clone(), |v| {
                crate::pattern::Pattern::parse(v)
                    .map(|_| ())
                    .map_err(|errs| {
                        errs.iter()
                            .map(|e| {
                                if e.path.is_empty() {
                                    e.message.clone()
                                } else {
                                    format!("{}: {}", e.path, e.message)
                                }
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
            })
        {
            rule.pattern = v;
            self.changed("pattern");
        }
        ui.label(RichText::new("Targets").strong());
        let mut remove = None;
        for (i, t) in rule.targets.iter_mut().enumerate() {
            ui.push_id(i, |ui| {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    egui::Grid::new("target").num_columns(2).show(ui, |ui| {
                        let mut to = Some(t.to.clone());
                        self.id_combo_row(
                            ui,
                            "To",
                            &format!("targets[{i}].to"),
                            &mut to,
                            &targets_to,
                            None,
                        );
                        t.to = to.unwrap_or_default();
                        self.id_combo_row(
                            ui,
                            "Dead-letter queue",
                            &format!("targets[{i}].dead_letter"),
                            &mut t.dead_letter,
                            &queues,
                            Some("none (drop)"),
                        );
                        let mut custom = t.retry.is_some();
                        self.check_row(
                            ui,
                            "Own retry policy",
                            &format!("targets[{i}].retry"),
                            &mut custom,
                            &format!(
                                "Without one, EventBridge's defaults apply: {} attempts over {}",
                                defaults::EVENTBRIDGE_RETRY_ATTEMPTS,
                                defaults::hours(defaults::EVENTBRIDGE_MAX_AGE)
                            ),
                        );
                        if custom && t.retry.is_none() {
                            // A starting point to edit, tighter than EventBridge's defaults.
                            t.retry = Some(RetryPolicy {
                                attempts: 3,
                                max_age: Duration::from_secs(3600),
                                backoff: None,
                                max_backoff: None,
                                jitter: None,
                            });
                        } else if !custom {
                            t.retry = None;
                        }
                        if let Some(r) = &mut t.retry {
                            self.drag_row(
                                ui,
                                "Retry attempts",
                                &format!("targets[{i}].attempts"),
                                &mut r.attempts,
                                defaults::EVENTBRIDGE_RETRY_ATTEMPTS_RANGE,
                                0.2,
                            );
                            let age = r.max_age.to_string();
                            let ages = defaults::EVENTBRIDGE_MAX_AGE_RANGE;
                            let range = defaults::seconds_to_hours(&ages);
                            if let Some(v) = self.text_row(
                                ui,
                                "Max event age",
                                &format!("targets[{i}].max_age"),
                                &age,
                                &range.replace(" to ", ".."),
                                |t| {
                                    let d = parse_duration(t)?;
                                    if ages.contains(&d) {
                                        Ok(d)
                                    } else {
                                        Err(format!("EventBridge allows {range}"))
                                    }
                                },
                            ) {
                                r.max_age = v;
                                self.changed(&format!("targets[{i}].max_age"));
                            }
                        }
                    });
                    if ui.small_button("Remove target").clicked() {
                        remove = Some(i);
                    }
                });
            });
        }
        if let Some(i) = remove {
            rule.targets.remove(i);
            self.drafts.clear();
            self.changed("targets");
        }
        if ui.button("+ Add target").clicked() {
            let to = targets_to.first().cloned().unwrap_or_default();
            rule.targets.push(edit::new_target(to));
            self.changed("targets");
        }
    }

    fn queue_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str, queues: &[String]) {
        let others: Vec<String> = queues.iter().filter(|q| *q != id).cloned().collect();
        let Some(q) = s.queues.iter_mut().find(|q| q.id == id) else {
            return;
        };
        egui::Grid::new("inspector-queue")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                self.enum_combo_row(
                    ui,
                    "Type",
                    "type",
                    &mut q.kind,
                    &[(QueueType::Standard, "standard"), (QueueType::Fifo, "fifo")],
                );
                let cap = opt_to_text(q.capacity.as_ref());
                if let Some(v) = self.text_row(ui, "Capacity", "capacity", &cap, "unbounded", |t| {
                    match parse_opt_u64(t)? {
                        Some(0) => {
                            Err("a capacity must be at least 1 (leave empty for unbounded)".into())
                        }
                        v => Ok(v),
                    }
                }) {
                    q.capacity = v;
                    self.changed("capacity");
                }
                self.enum_combo_row(
                    ui,
                    "When full",
                    "when_full",
                    &mut q.when_full,
                    &[(WhenFull::Reject, "reject"), (WhenFull::Block, "block")],
                );
                let vt = opt_to_text(q.visibility_timeout.as_ref());
                if let Some(v) = self.text_row(
                    ui,
                    "Visibility timeout",
                    "visibility_timeout",
                    &vt,
                    &defaults::SQS_VISIBILITY_TIMEOUT.to_string(),
                    parse_opt_duration,
                ) {
                    q.visibility_timeout = v;
                    self.changed("visibility_timeout");
                }
                let mr = opt_to_text(q.max_receives.as_ref());
                if let Some(v) =
                    self.text_row(ui, "Max receives", "max_receives", &mr, "no redrive", |t| {
                        parse_opt_u64(t)?
                            .map(|n| u32::try_from(n).map_err(|_| "too large".to_owned()))
                            .transpose()
                    })
                {
                    q.max_receives = v;
                    self.changed("max_receives");
                }
                self.id_combo_row(
                    ui,
                    "Dead-letter queue",
                    "dead_letter",
                    &mut q.dead_letter,
                    &others,
                    Some("none"),
                );
                self.drag_row(
                    ui,
                    "Duplicate rate",
                    "duplicate_rate",
                    &mut q.duplicate_rate,
                    0.0..=1.0,
                    0.001,
                );
                if q.kind == QueueType::Fifo {
                    let g = q.group_by.clone().unwrap_or_default();
                    if let Some(v) = self.text_row(
                        ui,
                        "Group by (path)",
                        "group_by",
                        &g,
                        "detail.customerId",
                        parse_opt_text,
                    ) {
                        q.group_by = v;
                        self.changed("group_by");
                    }
                    let dw = opt_to_text(q.dedup_window.as_ref());
                    if let Some(v) = self.text_row(
                        ui,
                        "Dedup window",
                        "dedup_window",
                        &dw,
                        &defaults::SQS_DEDUP_WINDOW.to_string(),
                        parse_opt_duration,
                    ) {
                        q.dedup_window = v;
                        self.changed("dedup_window");
                    }
                }
            });
    }

    fn stream_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
        let Some(x) = s.streams.iter_mut().find(|x| x.id == id) else {
            return;
        };
        egui::Grid::new("inspector-stream")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                self.drag_row(
                    ui,
                    "Partitions",
                    "partitions",
                    &mut x.partitions,
                    1..=10_000,
                    0.2,
                );
                let k = x.key.clone().unwrap_or_default();
                if let Some(v) =
                    self.text_row(ui, "Key (path)", "key", &k, "round-robin", parse_opt_text)
                {
                    x.key = v;
                    self.changed("key");
                }
                let r = opt_to_text(x.retention.as_ref());
                if let Some(v) = self.text_row(
                    ui,
                    "Retention",
                    "retention",
                    &r,
                    &defaults::hours(defaults::STREAM_RETENTION),
                    parse_opt_duration,
                ) {
                    x.retention = v;
                    self.changed("retention");
                }
            });
    }

    fn consumer_form(
        &mut self,
        ui: &mut Ui,
        s: &mut Scenario,
        id: &str,
        sources: &[String],
        sinks: &[String],
    ) {
        let Some(c) = s.consumers.iter_mut().find(|c| c.id == id) else {
            return;
        };
        egui::Grid::new("inspector-consumer")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                self.id_combo_row(
                    ui,
                    "Reads from",
                    "from",
                    &mut c.from,
                    sources,
                    Some("invoked by rules"),
                );
                self.drag_row(
                    ui,
                    "Concurrency",
                    "concurrency",
                    &mut c.concurrency,
                    1..=100_000,
                    0.2,
                );
                self.drag_row(
                    ui,
                    "Batch size",
                    "batch_size",
                    &mut c.batch_size,
                    1..=10_000,
                    0.2,
                );
                ui.label(RichText::new("Service time").strong());
                ui.end_row();
                self.distribution_rows(ui, "service_time", &mut c.service_time);
                self.drag_row(
                    ui,
                    "Failure rate",
                    "failure_rate",
                    &mut c.failure_rate,
                    0.0..=1.0,
                    0.001,
                );
                let timeout = opt_to_text(c.timeout.as_ref());
                if let Some(v) = self.text_row(
                    ui,
                    "Timeout",
                    "timeout",
                    &timeout,
                    "none",
                    parse_opt_duration,
                ) {
                    c.timeout = v;
                    self.changed("timeout");
                }
                self.check_row(
                    ui,
                    "Idempotent",
                    "idempotent",
                    &mut c.idempotent,
                    "Skips events it has already processed",
                );
                let mut breaker = c.circuit_breaker.is_some();
                self.check_row(
                    ui,
                    "Circuit breaker",
                    "breaker",
                    &mut breaker,
                    "Opens after consecutive failures",
                );
                if breaker && c.circuit_breaker.is_none() {
                    c.circuit_breaker = Some(CircuitBreaker {
                        failures: 5,
                        cooldown: Duration::from_secs(30),
                    });
                } else if !breaker {
                    c.circuit_breaker = None;
                }
                if let Some(b) = &mut c.circuit_breaker {
                    self.drag_row(
                        ui,
                        "Opens after failures",
                        "breaker.failures",
                        &mut b.failures,
                        1..=10_000,
                        0.2,
                    );
                    let cd = b.cooldown.to_string();
                    if let Some(v) = self.text_row(
                        ui,
                        "Cooldown",
                        "breaker.cooldown",
                        &cd,
                        "30s",
                        parse_duration,
                    ) {
                        b.cooldown = v;
                        self.changed("breaker.cooldown");
                    }
                }
                let ok = c.order_key.clone().unwrap_or_default();
                if let Some(v) = self.text_row(
                    ui,
                    "Order key (path)",
                    "order_key",
                    &ok,
                    "queue's group or stream key",
                    parse_opt_text,
                ) {
                    c.order_key = v;
                    self.changed("order_key");
                }
            });
        let emits = serde_json::to_value(&c.emits).unwrap_or(Value::Null);
        let sinks = sinks.to_vec();
        if let Some(v) = self.json_field(ui, "Emits", "emits", &emits, |v| {
            let list: Vec<crate::model::Emit> =
                serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
            match list.iter().find(|e| !sinks.contains(&e.to)) {
                Some(e) => Err(format!("\"{}\" is not a bus, queue or stream", e.to)),
                None => Ok(()),
            }
        }) && let Ok(list) = serde_json::from_value(v)
        {
            c.emits = list;
            self.changed("emits");
        }
    }
}

/// The component's figures: over the run so far, and at the moment shown on the canvas.
fn figures(ui: &mut Ui, id: &str, input: &InspectorInput<'_>) {
    ui.label(RichText::new("Figures (measured window so far)").strong());
    let Some(n) = input.results.and_then(|r| r.nodes.get(id)) else {
        ui.label(RichText::new("Press ▶ Play to run the scenario and see live figures.").weak());
        return;
    };
    let secs = crate::report::human_secs;
    let mut rows: Vec<(&str, String, &str)> = vec![
        (
            "λ arrivals",
            format!("{:.2}/s", n.arrival_rate),
            "Arrival rate over the measured window",
        ),
        (
            "throughput",
            format!("{:.2}/s", n.throughput),
            "Completions per second",
        ),
        (
            "L",
            format!("{:.2}", n.mean_number_in_system),
            "Time-average number in system",
        ),
        ("W", secs(n.mean_time_in_system_s), "Mean time in system"),
        (
            "λW",
            format!("{:.2}", n.littles_law_lambda_w),
            "Little's law: should be close to L",
        ),
    ];
    if n.kind == Kind::Consumer {
        rows.push((
            "ρ utilization",
            format!("{:.1} %", n.utilization * 100.0),
            "Busy slot-time / (concurrency × window)",
        ));
        rows.push((
            "Wq wait (mean)",
            secs(n.wait_s.mean_s),
            "Arrival to service start",
        ));
    }
    rows.extend([
        (
            "latency p50",
            secs(n.latency_s.p50_s),
            "Arrival to completion",
        ),
        ("latency p95", secs(n.latency_s.p95_s), ""),
        ("latency p99", secs(n.latency_s.p99_s), ""),
        (
            "backlog mean / max",
            format!("{:.1} / {}", n.queue_depth.mean, n.queue_depth.max),
            "Messages waiting",
        ),
    ]);
    if let Some(lag) = n.lag {
        rows.push((
            "behind now",
            format!("{lag} ({} oldest)", secs(n.lag_s.unwrap_or(0.0))),
            "Messages or records behind",
        ));
    }
    rows.extend([
        ("retries", crate::report::count(n.retried), ""),
        ("dead-lettered", crate::report::count(n.dead_lettered), ""),
        (
            "rejected / expired",
            format!("{} / {}", n.rejected, n.expired),
            "",
        ),
        ("duplicates", crate::report::count(n.duplicates), ""),
        ("out of order", crate::report::count(n.out_of_order), ""),
    ]);
    if n.circuit_breaker_transitions > 0 {
        rows.push((
            "breaker changes",
            n.circuit_breaker_transitions.to_string(),
            "Circuit-breaker state changes",
        ));
    }
    egui::Grid::new("inspector-figures")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (name, value, hover) in rows {
                let r = ui.label(name);
                if !hover.is_empty() {
                    r.on_hover_text(hover);
                }
                ui.label(RichText::new(value).monospace());
                ui.end_row();
            }
        });
    if let Some(l) = input.live.and_then(|l| l.get(id).map(|n| (l, n))) {
        let (view, node) = l;
        ui.add_space(4.0);
        let when = if view.at_cursor {
            "at the time cursor"
        } else {
            "now"
        };
        ui.label(
            RichText::new(format!(
                "At t = {} ({when})",
                crate::report::human_secs(view.time_s)
            ))
            .strong(),
        );
        ui.label(format!(
            "{:.1}/s in · {:.1}/s done · backlog {:.1} · busy {:.1}",
            node.arrivals_per_s, node.completions_per_s, node.backlog, node.busy
        ));
        if let Some(f) = node.fault {
            ui.colored_label(
                Color32::from_rgb(255, 170, 60),
                format!("fault active: {f:?}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_match_the_validator() {
        let mut s = Scenario::empty("t");
        edit::add_component(&mut s, Kind::Queue);
        edit::add_component(&mut s, Kind::Bus);
        edit::add_rule(&mut s, "bus-1");
        edit::add_component(&mut s, Kind::Consumer);
        assert_eq!(json_path_of(&s, "queue-1").as_deref(), Some("queues[0]"));
        assert_eq!(
            json_path_of(&s, "rule-1").as_deref(),
            Some("buses[0].rules[0]")
        );
        assert_eq!(
            json_path_of(&s, "consumer-1").as_deref(),
            Some("consumers[0]")
        );
        assert_eq!(json_path_of(&s, "nope"), None);
    }

    #[test]
    fn optional_fields_parse_empty_as_none() {
        assert_eq!(parse_opt_u64(" ").unwrap(), None);
        assert_eq!(parse_opt_u64("10_000").unwrap(), Some(10_000));
        assert!(parse_opt_u64("-3").is_err());
        assert_eq!(parse_opt_duration("").unwrap(), None);
        assert!(parse_opt_duration("abc").is_err());
    }
}
