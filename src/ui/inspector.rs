//! The inspector: the selected component's settings as editable widgets, and its live figures.
//!
//! Every edit is checked as it is typed. A text that does not parse (a duration like `"8o ms"`,
//! JSON with a missing brace, an event pattern `EventBridge` would reject) shows its error under
//! the field and is not applied, so the scenario stays runnable; a value that parses is applied
//! at once and reported to the app as an undoable edit (by field, so typing one value is one
//! undo step). Problems the validator finds with the component are listed at the top.
//!
//! With nothing selected it edits the scenario itself (name, description, duration, warm-up).
//!
//! This file owns the inspector's state and its row helpers (text, JSON, number, check and
//! choice rows, each with its draft and error); `inspector/forms.rs` lays out one form per selection
//! (`inspector/flow_forms.rs` those of topics, pipes and state machines,
//! `inspector/consumer_v2.rs` a consumer's version-2 settings) and `inspector/figures.rs` the
//! selected node's figures.

use std::collections::BTreeMap;

use eframe::egui::{self, DragValue, RichText, TextEdit, Ui, emath::Numeric};
use serde_json::Value;

use super::edit;
use crate::model::{Distribution, Duration, Scenario, topology};
use crate::scenario::{Problem, Severity};
use crate::sim::Results;

use super::live::LiveView;

mod consumer_v2;
mod figures;
mod flow_forms;
mod forms;

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

fn parse_opt_time_limit(t: &str) -> Result<Option<crate::model::TimeLimit>, String> {
    match t.trim() {
        "" => Ok(None),
        "none" => Ok(Some(crate::model::TimeLimit::Unlimited)),
        t => Duration::parse(t).map(|d| Some(crate::model::TimeLimit::Limit(d))),
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

/// An optional whole number inside an AWS range.
fn parse_opt_in<N>(t: &str, range: &std::ops::RangeInclusive<N>) -> Result<Option<N>, String>
where
    N: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let n: N = t.replace('_', "").parse().map_err(|_| {
        format!(
            "\"{t}\" is not a whole number from {} to {}",
            range.start(),
            range.end()
        )
    })?;
    if range.contains(&n) {
        Ok(Some(n))
    } else {
        Err(format!(
            "must be from {} to {}, found {n}",
            range.start(),
            range.end()
        ))
    }
}

/// An optional duration inside an AWS range.
fn parse_opt_duration_in(
    t: &str,
    range: &std::ops::RangeInclusive<Duration>,
) -> Result<Option<Duration>, String> {
    match parse_opt_duration(t)? {
        Some(d) if !range.contains(&d) => Err(format!(
            "must be from {} to {}, found {d}",
            range.start(),
            range.end()
        )),
        d => Ok(d),
    }
}

/// An optional number that `ok` accepts (`what` says what it must be).
fn parse_opt_f64(t: &str, what: &str, ok: impl Fn(f64) -> bool) -> Result<Option<f64>, String> {
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && ok(x) => Ok(Some(x)),
        _ => Err(format!("\"{t}\" is not {what}")),
    }
}

/// An error located by a path inside the value it is about (a pattern, an ASL definition).
trait Located {
    fn path(&self) -> &str;
    fn message(&self) -> &str;
}

impl Located for crate::pattern::PatternError {
    fn path(&self) -> &str {
        &self.path
    }
    fn message(&self) -> &str {
        &self.message
    }
}

impl Located for crate::model::asl::AslError {
    fn path(&self) -> &str {
        &self.path
    }
    fn message(&self) -> &str {
        &self.message
    }
}

/// Located errors as one line: `path: message; …` (the message alone where the path is empty).
fn joined<E: Located>(errors: &[E]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.path().is_empty() {
                e.message().to_owned()
            } else {
                format!("{}: {}", e.path(), e.message())
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
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
    topology::Topology::new(s).path_of(id)
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
            .show(ui, |ui| {
                match input.selected {
                    None => self.scenario_form(ui, draft),
                    Some(id) => match draft.kind_of(id) {
                        Some(kind) => self.component_form(ui, draft, id, kind),
                        None if json_path_of(draft, id).is_some() => self.rule_form(ui, draft, id),
                        None => {
                            ui.label(format!("\"{id}\" is no longer in the scenario."));
                        }
                    },
                }
                // Messages come below the fields, wrapped to the panel's width: a message that
                // appears or goes never moves a field under the mouse, and a long one never
                // widens the panel.
                self.field_errors_footer(ui);
                if let Some(id) = input.selected {
                    self.problems_of(ui, draft, id, input.problems);
                    // A component's figures come after what is wrong with it, so a message
                    // is seen beside the fields it is about.
                    let id = match &self.outcome.select {
                        Some(Some(new)) => new.as_str(),
                        _ => id,
                    };
                    if draft.kind_of(id).is_some() {
                        ui.separator();
                        figures::figures(ui, id, input);
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
            ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
        }
    }

    fn field_errors_footer(&self, ui: &mut Ui) {
        if self.errors.is_empty() {
            return;
        }
        ui.separator();
        let color = ui.visuals().error_fg_color;
        for (key, e) in &self.errors {
            ui.add(egui::Label::new(RichText::new(format!("▲ {key}: {e}")).color(color)).wrap());
        }
    }

    // ----- field widgets ---------------------------------------------------------------------

    /// A one-line text field applied when it parses; returns the parsed value on a change.
    /// A [`Self::text_row`] editing an optional field (empty text is `None`): a parsed change
    /// is written to `field` and recorded as an edit of `key`.
    fn opt_row<T: ToString>(
        &mut self,
        ui: &mut Ui,
        label: &str,
        key: &str,
        field: &mut Option<T>,
        hint: &str,
        parse: impl FnMut(&str) -> Result<Option<T>, String>,
    ) {
        let current = opt_to_text(field.as_ref());
        if let Some(v) = self.text_row(ui, label, key, &current, hint, parse) {
            *field = v;
            self.changed(key);
        }
    }

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
        // A field that does not parse shows its text in the error colour (the message is in
        // the footer below the form).
        let bad = self
            .errors
            .contains_key(key)
            .then_some(ui.visuals().error_fg_color);
        let response = ui
            .add(
                TextEdit::singleline(draft)
                    .id(widget_id)
                    .text_color_opt(bad)
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
        self.json_text(ui, label, key, (Some(current), false), 3, check)
            .map(|v| v.unwrap_or(Value::Null))
    }

    /// A multi-line JSON field `rows` high; with `optional`, empty text is none: `Some(new
    /// value)` when it changed to text that parses and passes `check`.
    fn json_text(
        &mut self,
        ui: &mut Ui,
        label: &str,
        key: &str,
        (current, optional): (Option<&Value>, bool),
        rows: usize,
        check: impl Fn(&Value) -> Result<(), String>,
    ) -> Option<Option<Value>> {
        let label_response = ui.label(RichText::new(label).strong());
        let pretty = current
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .unwrap_or_default();
        let widget_id = ui.make_persistent_id(("inspector-json", key));
        let focused = ui.memory(|m| m.has_focus(widget_id));
        let draft = self
            .drafts
            .entry(key.to_owned())
            .or_insert_with(|| pretty.clone());
        if !focused && !self.errors.contains_key(key) && *draft != pretty {
            draft.clone_from(&pretty);
        }
        let bad = self
            .errors
            .contains_key(key)
            .then_some(ui.visuals().error_fg_color);
        let editor = TextEdit::multiline(draft)
            .id(widget_id)
            .code_editor()
            .text_color_opt(bad)
            .desired_rows(rows)
            .desired_width(f32::INFINITY);
        // A long document (a state machine's definition) scrolls in its own box, so the
        // fields after it stay in reach.
        let response = if rows > 3 {
            egui::ScrollArea::vertical()
                .id_salt(("inspector-json-scroll", key))
                .max_height(rows as f32 * 18.0)
                .show(ui, |ui| ui.add(editor))
                .inner
        } else {
            ui.add(editor)
        }
        .labelled_by(label_response.id);
        let mut out = None;
        if response.changed() {
            let parsed = if optional && draft.trim().is_empty() {
                Ok(None)
            } else {
                serde_json::from_str::<Value>(draft)
                    .map_err(|e| format!("not valid JSON: {e}"))
                    .and_then(|v| check(&v).map(|()| Some(v)))
            };
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

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
