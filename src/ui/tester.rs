//! The pattern tester window: paste an event, see which rules of every bus match it and, field by
//! field, why or why not.
//!
//! The event text starts as a sample built from a producer's template (generators replaced by
//! one drawn value, envelope fields filled as the engine fills them), so the user edits a
//! realistic event instead of typing one. Matching uses the same [`Pattern`] code as the
//! simulator and `eventflow pattern test`, so what the tester says is what the run does.
//! Invalid JSON shows the parser's message with line and column; an invalid pattern shows its
//! errors in place of a verdict. Nothing here can panic on user input.

use eframe::egui;
use egui::{Color32, RichText, Ui};
use serde_json::{Map, Value, json};

use crate::model::{Producer, Scenario};
use crate::pattern::{FieldExplanation, Pattern, PatternError};
use crate::sim::rng::Stream;
use crate::sim::template::Template;

/// State of the pattern tester window.
#[derive(Debug, Clone, Default)]
pub struct PatternTester {
    /// The event JSON being edited.
    event_text: String,
    /// Index of the producer the sample event comes from.
    producer: usize,
    /// Set once the event text has been filled in, so the user's edits are never replaced
    /// behind their back (only by "New sample").
    initialized: bool,
    /// The last evaluation and what it was computed from, so typing does not re-parse every
    /// pattern on every frame when nothing changed.
    cache: Option<Cache>,
}

#[derive(Debug, Clone)]
struct Cache {
    event_text: String,
    /// Every rule's pattern, in scenario order, as evaluated.
    patterns: Vec<Value>,
    evaluation: Evaluation,
}

/// The outcome for one event.
#[derive(Debug, Clone, PartialEq)]
enum Evaluation {
    /// The text is not JSON.
    InvalidJson {
        line: usize,
        column: usize,
        message: String,
    },
    /// One entry per bus, in scenario order.
    Buses {
        /// The event is JSON but not an object (no `EventBridge` event can look like that).
        not_an_object: bool,
        buses: Vec<BusVerdict>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct BusVerdict {
    bus: String,
    rules: Vec<RuleVerdict>,
}

#[derive(Debug, Clone, PartialEq)]
struct RuleVerdict {
    rule: String,
    outcome: Result<(bool, Vec<FieldExplanation>), Vec<PatternError>>,
}

impl PatternTester {
    /// Forgets the event text: the next frame fills in a sample from the new scenario's first
    /// producer. Called when another scenario is opened, so the tester never shows the previous
    /// scenario's event.
    pub fn reset(&mut self) {
        *self = PatternTester::default();
    }

    /// Shows the window while `*open`; its close button clears `*open`.
    pub fn show(&mut self, ctx: &egui::Context, open: &mut bool, scenario: &Scenario) {
        if !*open {
            return;
        }
        egui::Window::new("Pattern tester")
            .open(open)
            .default_size([560.0, 620.0])
            .vscroll(true)
            .show(ctx, |ui| self.ui(ui, scenario));
    }

    /// The window's contents.
    fn ui(&mut self, ui: &mut Ui, scenario: &Scenario) {
        if !self.initialized || self.producer >= scenario.producers.len().max(1) {
            self.producer = self
                .producer
                .min(scenario.producers.len().saturating_sub(1));
            self.event_text = sample_text(scenario, self.producer);
            self.initialized = true;
        }

        ui.horizontal(|ui| {
            if !scenario.producers.is_empty() {
                let selected = scenario
                    .producers
                    .get(self.producer)
                    .map_or("", |p| p.id.as_str());
                egui::ComboBox::from_label("Sample from producer")
                    .selected_text(selected)
                    .show_ui(ui, |ui| {
                        for (i, p) in scenario.producers.iter().enumerate() {
                            ui.selectable_value(&mut self.producer, i, &p.id);
                        }
                    });
            }
            if ui
                .button("New sample")
                .on_hover_text("Replace the event with a sample from the producer's template")
                .clicked()
            {
                self.event_text = sample_text(scenario, self.producer);
            }
        });

        let label = ui.label("Event JSON");
        ui.add(
            egui::TextEdit::multiline(&mut self.event_text)
                .code_editor()
                .desired_rows(12)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);

        ui.separator();
        let evaluation = self.evaluation(scenario).clone();
        show_evaluation(ui, &evaluation);
    }

    /// The evaluation of the current text against the scenario's rules, recomputed only when
    /// either changed.
    fn evaluation(&mut self, scenario: &Scenario) -> &Evaluation {
        let rule_patterns = || {
            scenario
                .buses
                .iter()
                .flat_map(|b| b.rules.iter().map(|r| &r.pattern))
        };
        let fresh = self.cache.as_ref().is_some_and(|c| {
            c.event_text == self.event_text
                && c.patterns.len() == rule_patterns().count()
                && c.patterns.iter().zip(rule_patterns()).all(|(a, b)| a == b)
        });
        if !fresh {
            self.cache = None;
        }
        let event_text = &self.event_text;
        &self
            .cache
            .get_or_insert_with(|| Cache {
                event_text: event_text.clone(),
                patterns: rule_patterns().cloned().collect(),
                evaluation: evaluate(scenario, event_text),
            })
            .evaluation
    }
}

/// Evaluates `event_text` against every rule of every bus.
fn evaluate(scenario: &Scenario, event_text: &str) -> Evaluation {
    let event: Value = match serde_json::from_str(event_text) {
        Ok(v) => v,
        Err(e) => {
            return Evaluation::InvalidJson {
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            };
        }
    };
    let buses = scenario
        .buses
        .iter()
        .map(|bus| BusVerdict {
            bus: bus.id.clone(),
            rules: bus
                .rules
                .iter()
                .map(|rule| RuleVerdict {
                    rule: rule.id.clone(),
                    outcome: Pattern::parse(&rule.pattern)
                        .map(|p| (p.matches(&event), p.explain(&event))),
                })
                .collect(),
        })
        .collect();
    Evaluation::Buses {
        not_an_object: !event.is_object(),
        buses,
    }
}

/// `serde_json`'s message without its trailing " at line L column C" (shown separately).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A pretty-printed sample event for the tester's text box.
fn sample_text(scenario: &Scenario, producer: usize) -> String {
    let event = scenario
        .producers
        .get(producer)
        .map_or_else(example_event, |p| sample_event(scenario.seed, p));
    serde_json::to_string_pretty(&event).unwrap_or_default()
}

/// One event from the producer's template: generators replaced by a drawn value (from a stream of
/// its own, so the simulation's numbers are untouched) and the envelope filled in the way the
/// engine fills it.
fn sample_event(seed: u64, producer: &Producer) -> Value {
    let mut event = match Template::compile(&producer.event, false) {
        Ok(template) => {
            let mut rng = Stream::new(seed, &producer.id, "pattern-tester");
            template.generate(&mut rng, 1, None)
        }
        // A broken template: show it as written, so the user can still edit it into shape.
        Err(_) => producer.event.clone(),
    };
    if let Some(object) = event.as_object_mut() {
        fill_envelope(object);
    }
    event
}

/// The envelope fields `EventBridge` (and the engine) add, with the engine's defaults
/// ([`crate::model::defaults`]) and a sample `id` and `time`.
fn fill_envelope(o: &mut Map<String, Value>) {
    use crate::model::defaults::{
        ENVELOPE_ACCOUNT, ENVELOPE_DETAIL_TYPE, ENVELOPE_REGION, ENVELOPE_SOURCE, ENVELOPE_VERSION,
    };
    let defaults = [
        ("version", json!(ENVELOPE_VERSION)),
        ("id", json!("00000000-0000-0000-0000-000000000001")),
        ("detail-type", json!(ENVELOPE_DETAIL_TYPE)),
        ("source", json!(ENVELOPE_SOURCE)),
        ("account", json!(ENVELOPE_ACCOUNT)),
        ("time", json!("2024-01-01T00:00:00Z")),
        ("region", json!(ENVELOPE_REGION)),
        ("resources", json!([])),
        ("detail", json!({})),
    ];
    for (key, value) in defaults {
        o.entry(key).or_insert(value);
    }
}

/// The event shown when the scenario has no producer.
fn example_event() -> Value {
    let mut event = json!({
        "source": "com.shop.orders",
        "detail-type": "OrderPlaced",
        "detail": { "orderId": "ORD-1", "customerId": "C-42", "totalAmount": 120.5, "currency": "USD" }
    });
    if let Some(object) = event.as_object_mut() {
        fill_envelope(object);
    }
    event
}

fn show_evaluation(ui: &mut Ui, evaluation: &Evaluation) {
    let good = Color32::from_rgb(0x3c, 0xb3, 0x71);
    match evaluation {
        Evaluation::InvalidJson {
            line,
            column,
            message,
        } => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Invalid event JSON at line {line}, column {column}: {message}"),
            );
        }
        Evaluation::Buses {
            not_an_object,
            buses,
        } => {
            if *not_an_object {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "An event is a JSON object: no rule can match this value.",
                );
            }
            if buses.is_empty() {
                ui.weak("This scenario has no buses, so there are no rules to test.");
            }
            for (b, bus) in buses.iter().enumerate() {
                let matched = bus
                    .rules
                    .iter()
                    .filter(|r| matches!(r.outcome, Ok((true, _))))
                    .count();
                ui.label(
                    RichText::new(format!(
                        "Bus {}: {matched} of {} match",
                        bus.bus,
                        crate::names::plural(bus.rules.len(), "rule")
                    ))
                    .strong(),
                );
                for (r, rule) in bus.rules.iter().enumerate() {
                    let (verdict, color) = match &rule.outcome {
                        Ok((true, _)) => ("matches", good),
                        Ok((false, _)) => ("no match", ui.visuals().error_fg_color),
                        Err(_) => ("invalid pattern", ui.visuals().warn_fg_color),
                    };
                    egui::CollapsingHeader::new(
                        RichText::new(format!("{}: {verdict}", rule.rule)).color(color),
                    )
                    .id_salt(("pattern-tester-rule", b, r))
                    .default_open(true)
                    .show(ui, |ui| match &rule.outcome {
                        Ok((_, fields)) => show_fields(ui, fields, good),
                        Err(errors) => {
                            for e in errors {
                                ui.colored_label(ui.visuals().warn_fg_color, e.to_string());
                            }
                        }
                    });
                }
            }
        }
    }
}

fn show_fields(ui: &mut Ui, fields: &[FieldExplanation], good: Color32) {
    if fields.is_empty() {
        ui.weak("An empty pattern matches every event.");
        return;
    }
    for field in fields {
        // Words, not check marks: the default fonts have no glyphs for ✔ and ✘.
        let (verdict, color) = if field.matched {
            ("ok", good)
        } else {
            ("fails", ui.visuals().error_fg_color)
        };
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(color, RichText::new(verdict).strong());
            if !field.path.is_empty() {
                ui.monospace(&field.path);
            }
            ui.label(&field.reason);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    #[test]
    fn another_scenario_gets_its_own_sample_after_reset() {
        let a = scenario();
        let mut b = a.clone();
        b.producers[0].event = json!({ "source": "com.bank.ledger", "detail-type": "Posted" });
        let mut h = Harness::new_ui_state(
            |ui, (t, s): &mut (PatternTester, Scenario)| t.ui(ui, s),
            (PatternTester::default(), a),
        );
        h.run_steps(2);
        assert!(h.state().0.event_text.contains("com.shop.orders"));
        h.state_mut().1 = b;
        h.state_mut().0.reset();
        h.run_steps(2);
        assert!(
            h.state().0.event_text.contains("com.bank.ledger"),
            "{}",
            h.state().0.event_text
        );
    }

    fn scenario() -> Scenario {
        let mut s = Scenario::empty("tester");
        s.producers.push(
            serde_json::from_value(json!({
                "id": "checkout", "to": "orders-bus", "rate": 10,
                "event": { "source": "com.shop.orders", "detail-type": "OrderPlaced",
                           "detail": { "orderId": { "$seq": "ORD-" },
                                       "totalAmount": { "$uniform": [2000, 3000] } } }
            }))
            .unwrap(),
        );
        s.buses.push(
            serde_json::from_value(json!({
                "id": "orders-bus",
                "rules": [
                    { "id": "high-value",
                      "pattern": { "detail-type": ["OrderPlaced"],
                                   "detail": { "totalAmount": [ { "numeric": [">=", 1000] } ] } },
                      "targets": [] },
                    { "id": "refunds",
                      "pattern": { "detail-type": ["RefundIssued"] },
                      "targets": [] },
                    { "id": "broken",
                      "pattern": { "detail-type": "not-an-array" },
                      "targets": [] }
                ]
            }))
            .unwrap(),
        );
        s
    }

    #[test]
    fn sample_comes_from_the_first_producer() {
        let event: Value = serde_json::from_str(&sample_text(&scenario(), 0)).unwrap();
        assert_eq!(event["detail"]["orderId"], json!("ORD-1"));
        let amount = event["detail"]["totalAmount"].as_f64().unwrap();
        assert!((2000.0..=3000.0).contains(&amount), "{amount}");
        assert_eq!(event["region"], json!("us-east-1"));
        // No producer: a sensible example.
        let fallback: Value = serde_json::from_str(&sample_text(&Scenario::empty("x"), 0)).unwrap();
        assert_eq!(fallback["detail-type"], json!("OrderPlaced"));
    }

    #[test]
    fn reports_matches_non_matches_and_invalid_patterns() {
        let state = (PatternTester::default(), scenario(), true);
        let mut harness = Harness::new_ui_state(
            |ui, (tester, scenario, open)| {
                let ctx = ui.ctx().clone();
                tester.show(&ctx, open, scenario);
            },
            state,
        );
        harness.run_steps(3);
        harness.get_by_label("high-value: matches");
        harness.get_by_label("refunds: no match");
        harness.get_by_label("broken: invalid pattern");
        harness.get_by_label("Bus orders-bus: 1 of 3 rules match");
        harness.get_by_label_contains("RefundIssued");
    }

    #[test]
    fn invalid_json_shows_line_and_column() {
        let tester = PatternTester {
            initialized: true,
            event_text: "{\n  \"source\": \"x\",\n  oops\n}".to_owned(),
            ..PatternTester::default()
        };
        let mut harness = Harness::new_ui_state(
            |ui, (tester, scenario, open)| {
                let ctx = ui.ctx().clone();
                tester.show(&ctx, open, scenario);
            },
            (tester, scenario(), true),
        );
        harness.run_steps(3);
        harness.get_by_label_contains("Invalid event JSON at line 3, column 3");
        // Editing it into shape brings the verdicts back.
        harness.state_mut().0.event_text = "{\"detail-type\": \"RefundIssued\"}".to_owned();
        harness.run_steps(2);
        harness.get_by_label("refunds: matches");
        harness.get_by_label("high-value: no match");
        // A value that is not an object is handled too.
        harness.state_mut().0.event_text = "[1, 2]".to_owned();
        harness.run_steps(2);
        harness.get_by_label_contains("An event is a JSON object");
    }
}
