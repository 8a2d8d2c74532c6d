//! The inspector's forms for the version-2 routing components: SNS topics with their
//! subscriptions, `EventBridge` Pipes, and Step Functions state machines.
//!
//! Each verbatim document is edited as JSON text and checked as typed with the parser the
//! engine uses: a subscription's filter policy by [`FilterPolicy::parse`] in the subscription's
//! scope, a pipe's filters by the `EventBridge` pattern parser, a machine's definition by
//! [`Definition::parse`] (and its Task resources against the scenario's consumers). Text that
//! fails shows its error in the footer and changes nothing.

use eframe::egui::{self, RichText, Ui};
use serde_json::Value;

use super::{
    Inspector, joined, parse_opt_duration_in, parse_opt_f64, parse_opt_in, parse_opt_text,
};
use crate::model::asl::Definition;
use crate::model::{
    FilterScopeName, Invocation, Kind, Scenario, StateMachineType, Subscription, TopicType,
    defaults, topology,
};
use crate::pattern::{FilterPolicy, Pattern};

/// The ids of `s`'s components of these kinds, in scenario order.
fn ids_of(s: &Scenario, kinds: &[Kind]) -> Vec<String> {
    s.components()
        .into_iter()
        .filter(|(_, k)| kinds.contains(k))
        .map(|(i, _)| i.to_owned())
        .collect()
}

/// The errors of a definition, one line, each with its path inside the definition.
fn definition_errors(s: &Scenario, v: &Value) -> Result<(), String> {
    let def = Definition::parse(v).map_err(|e| joined(&e))?;
    let unknown: Vec<String> = def
        .tasks()
        .into_iter()
        .filter(|(_, resource)| s.kind_of(resource) != Some(Kind::Consumer))
        .map(|(path, resource)| {
            format!("{path}.Resource: no consumer (function or service) has id \"{resource}\"")
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(unknown.join("; "))
    }
}

impl Inspector {
    pub(super) fn topic_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
        let subscribers = ids_of(s, topology::SUBSCRIBERS);
        let queues = ids_of(s, topology::QUEUE);
        let Some(t) = s.topics.iter_mut().find(|t| t.id == id) else {
            return;
        };
        egui::Grid::new("inspector-topic")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                self.enum_combo_row(
                    ui,
                    "Type",
                    "type",
                    &mut t.kind,
                    &[(TopicType::Standard, "standard"), (TopicType::Fifo, "fifo")],
                );
                if t.kind == TopicType::Fifo {
                    let g = t.group_by.clone().unwrap_or_default();
                    if let Some(v) = self.text_row(
                        ui,
                        "Group by (path)",
                        "group_by",
                        &g,
                        "detail.customerId",
                        parse_opt_text,
                    ) {
                        t.group_by = v;
                        self.changed("group_by");
                    }
                }
            });
        ui.label(RichText::new("Subscriptions").strong());
        let mut remove = None;
        for (i, sub) in t.subscriptions.iter_mut().enumerate() {
            ui.push_id(("subscription", i), |ui| {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    self.subscription_rows(ui, i, sub, &subscribers, &queues);
                    if ui.small_button("Remove subscription").clicked() {
                        remove = Some(i);
                    }
                });
            });
        }
        if let Some(i) = remove {
            t.subscriptions.remove(i);
            self.drafts.clear();
            self.errors.clear();
            self.changed("subscriptions");
        }
        if ui.button("+ Add subscription").clicked() {
            t.subscriptions.push(Subscription {
                to: subscribers.first().cloned().unwrap_or_default(),
                filter: None,
                filter_scope: None,
                dead_letter: None,
                retry: None,
            });
            self.changed("subscriptions");
        }
    }

    fn subscription_rows(
        &mut self,
        ui: &mut Ui,
        i: usize,
        sub: &mut Subscription,
        subscribers: &[String],
        queues: &[String],
    ) {
        let key = format!("subscriptions[{i}]");
        egui::Grid::new("subscription")
            .num_columns(2)
            .show(ui, |ui| {
                let mut to = Some(sub.to.clone());
                self.id_combo_row(ui, "To", &format!("{key}.to"), &mut to, subscribers, None);
                sub.to = to.unwrap_or_default();
                let before = sub.filter_scope;
                self.enum_combo_row(
                    ui,
                    "Filter reads",
                    &format!("{key}.filter_scope"),
                    &mut sub.filter_scope,
                    &[
                        (None, "attributes (default)"),
                        (Some(FilterScopeName::Attributes), "attributes"),
                        (Some(FilterScopeName::Body), "body"),
                    ],
                );
                if sub.filter_scope != before {
                    // The same policy may mean something else in the other scope: check it again.
                    self.drafts.remove(&format!("{key}.filter"));
                    self.errors.remove(&format!("{key}.filter"));
                }
                self.id_combo_row(
                    ui,
                    "Dead-letter queue",
                    &format!("{key}.dead_letter"),
                    &mut sub.dead_letter,
                    queues,
                    Some("none"),
                );
            });
        let scope = sub.filter_scope_in_force();
        if let Some(v) = self.json_text(
            ui,
            "Filter policy (SNS; empty: every message)",
            &format!("{key}.filter"),
            (sub.filter.as_ref(), true),
            3,
            |v| {
                FilterPolicy::parse(v, scope)
                    .map(|_| ())
                    .map_err(|e| joined(&e))
            },
        ) {
            sub.filter = v;
            self.changed(&format!("{key}.filter"));
        }
    }

    pub(super) fn pipe_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
        let sources = ids_of(s, topology::SOURCES);
        let consumers = ids_of(s, topology::CONSUMER);
        let targets: Vec<String> = ids_of(s, topology::PIPE_TARGETS);
        let queues = ids_of(s, topology::QUEUE);
        let Some(p) = s.pipes.iter().find(|p| p.id == id) else {
            return;
        };
        let stream_source = s.streams.iter().any(|x| x.id == p.source);
        let function_target = s.consumers.iter().any(|c| c.id == p.target);
        let Some(p) = s.pipes.iter_mut().find(|p| p.id == id) else {
            return;
        };
        egui::Grid::new("inspector-pipe")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                let mut source = Some(p.source.clone());
                self.id_combo_row(ui, "Source", "source", &mut source, &sources, None);
                p.source = source.unwrap_or_default();
                let default_batch = if stream_source {
                    defaults::STREAM_BATCH_SIZE
                } else {
                    defaults::SQS_BATCH_SIZE
                };
                self.opt_row(
                    ui,
                    "Batch size",
                    "batch_size",
                    &mut p.batch_size,
                    &default_batch.to_string(),
                    |t| parse_opt_in(t, &defaults::BATCH_SIZE_RANGE),
                );
                self.opt_row(
                    ui,
                    "Batch window",
                    "batch_window",
                    &mut p.batch_window,
                    "0s",
                    |t| {
                        parse_opt_duration_in(
                            t,
                            &(crate::model::Duration(0)..=defaults::BATCH_WINDOW_MAX),
                        )
                    },
                );
                self.opt_row(
                    ui,
                    "Batches at once",
                    "concurrency",
                    &mut p.concurrency,
                    "1",
                    |t| parse_opt_in(t, &(1..=1_000)),
                );
                self.id_combo_row(
                    ui,
                    "Enrichment",
                    "enrichment",
                    &mut p.enrichment,
                    &consumers,
                    Some("none"),
                );
                let mut target = Some(p.target.clone());
                self.id_combo_row(ui, "Target", "target", &mut target, &targets, None);
                p.target = target.unwrap_or_default();
                if function_target {
                    self.enum_combo_row(
                        ui,
                        "Invocation",
                        "invocation",
                        &mut p.invocation,
                        &[
                            (None, "sync (default)"),
                            (Some(Invocation::Sync), "sync"),
                            (Some(Invocation::Async), "async"),
                        ],
                    );
                }
                self.id_combo_row(
                    ui,
                    "Dead-letter queue",
                    "dead_letter",
                    &mut p.dead_letter,
                    &queues,
                    Some("none"),
                );
                if stream_source {
                    self.opt_row(
                        ui,
                        "Max retry attempts",
                        "max_retry_attempts",
                        &mut p.max_retry_attempts,
                        "-1 (until the record expires)",
                        |t| parse_opt_in(t, &defaults::STREAM_MAX_RETRY_ATTEMPTS),
                    );
                }
            });
        let filter = Value::Array(p.filter.clone());
        if let Some(v) = self.json_text(
            ui,
            "Filter patterns (EventBridge; [] passes every event)",
            "filter",
            (Some(&filter), true),
            3,
            |v| {
                let Some(list) = v.as_array() else {
                    return Err("a list of event patterns: [ { … }, … ]".into());
                };
                for (i, pattern) in list.iter().enumerate() {
                    Pattern::parse(pattern).map_err(|e| format!("[{i}]: {}", joined(&e)))?;
                }
                Ok(())
            },
        ) {
            p.filter = match v {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            };
            self.changed("filter");
        }
    }

    pub(super) fn state_machine_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
        let Some(mi) = s.state_machines.iter().position(|m| m.id == id) else {
            return;
        };
        let definition = s.state_machines[mi].definition.clone();
        // Checked against the scenario as it is (Task resources name its consumers).
        let checked = s.clone();
        let m = &mut s.state_machines[mi];
        egui::Grid::new("inspector-machine")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                self.enum_combo_row(
                    ui,
                    "Type",
                    "type",
                    &mut m.kind,
                    &[
                        (StateMachineType::Standard, "standard"),
                        (StateMachineType::Express, "express"),
                    ],
                );
                if m.kind == StateMachineType::Express {
                    self.opt_row(
                        ui,
                        "Duplicate starts",
                        "duplicate_rate",
                        &mut m.duplicate_rate,
                        "0 (fraction of starts run twice)",
                        |t| {
                            parse_opt_f64(t, "a fraction from 0 to 1", |x| (0.0..=1.0).contains(&x))
                        },
                    );
                } else if m.duplicate_rate.is_some() {
                    // A standard machine starts each execution exactly once.
                    m.duplicate_rate = None;
                }
            });
        if let Some(Some(v)) = self.json_text(
            ui,
            "Definition (Amazon States Language)",
            "definition",
            (Some(&definition), false),
            14,
            |v| definition_errors(&checked, v),
        ) {
            m.definition = v;
            self.changed("definition");
        }
    }
}
