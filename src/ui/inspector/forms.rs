//! The inspector's forms, one per thing that can be selected: the scenario itself, then each
//! component kind and a bus's rules. Each lays out its fields with the row helpers of
//! [`super::Inspector`] and writes parsed values straight into the draft scenario.

use eframe::egui::{self, RichText, TextEdit, Ui};
use serde_json::Value;

use super::consumer_v2::Destinations;
use super::{
    Inspector, joined, opt_to_text, parse_duration, parse_opt_duration, parse_opt_text,
    parse_opt_time_limit, parse_opt_u64,
};
use crate::model::defaults::SourceKind;
use crate::model::{
    Arrivals, CircuitBreaker, Duration, Kind, QueueType, RetryPolicy, Scenario, WhenFull, defaults,
    topology,
};
use crate::ui::edit;

impl Inspector {
    pub(super) fn scenario_form(&mut self, ui: &mut Ui, s: &mut Scenario) {
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

    pub(super) fn component_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str, kind: Kind) {
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
            Kind::Topic => self.topic_form(ui, s, id),
            Kind::Pipe => self.pipe_form(ui, s, id),
            Kind::StateMachine => self.state_machine_form(ui, s, id),
        }
    }

    pub(super) fn producer_form(
        &mut self,
        ui: &mut Ui,
        s: &mut Scenario,
        id: &str,
        sinks: &[String],
    ) {
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
                self.opt_row(
                    ui,
                    "Limit (events)",
                    "limit",
                    &mut p.limit,
                    "unlimited",
                    parse_opt_u64,
                );
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

    pub(super) fn bus_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
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

    pub(super) fn rule_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
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
                    .map_err(|e| joined(&e))
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

    pub(super) fn queue_form(
        &mut self,
        ui: &mut Ui,
        s: &mut Scenario,
        id: &str,
        queues: &[String],
    ) {
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
                self.opt_row(
                    ui,
                    "Visibility timeout",
                    "visibility_timeout",
                    &mut q.visibility_timeout,
                    &defaults::SQS_VISIBILITY_TIMEOUT.to_string(),
                    parse_opt_duration,
                );
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
                    self.opt_row(
                        ui,
                        "Dedup window",
                        "dedup_window",
                        &mut q.dedup_window,
                        &defaults::SQS_DEDUP_WINDOW.to_string(),
                        parse_opt_duration,
                    );
                }
            });
    }

    pub(super) fn stream_form(&mut self, ui: &mut Ui, s: &mut Scenario, id: &str) {
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
                self.opt_row(
                    ui,
                    "Retention",
                    "retention",
                    &mut x.retention,
                    &defaults::hours(defaults::STREAM_RETENTION),
                    parse_opt_duration,
                );
            });
    }

    pub(super) fn consumer_form(
        &mut self,
        ui: &mut Ui,
        s: &mut Scenario,
        id: &str,
        sources: &[String],
        sinks: &[String],
    ) {
        let Some(source) = s
            .consumers
            .iter()
            .find(|c| c.id == id)
            .map(|c| s.source_kind(c))
        else {
            return;
        };
        let ids_of = |kinds: &[Kind]| -> Vec<String> {
            s.components()
                .into_iter()
                .filter(|(i, k)| kinds.contains(k) && *i != id)
                .map(|(i, _)| i.to_owned())
                .collect()
        };
        let destinations = Destinations {
            queues: ids_of(&[Kind::Queue]),
            async_targets: ids_of(&[Kind::Queue, Kind::Bus, Kind::Consumer]),
        };
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
                // A batch is what an event source mapping reads; an invoked consumer gets one
                // event per invocation.
                if source != SourceKind::Invoked {
                    let mut batch = c.batch_size_in_force(source);
                    let before = batch;
                    self.drag_row(ui, "Batch size", "batch_size", &mut batch, 1..=10_000, 0.2);
                    if batch != before {
                        c.batch_size = Some(batch);
                    }
                }
                self.consumer_v2_rows(ui, c, source, &destinations);
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
                let default_timeout = c
                    .timeout_in_force()
                    .filter(|_| c.timeout.is_none())
                    .map_or_else(|| "none".to_owned(), |d| d.to_string());
                if let Some(v) = self.text_row(
                    ui,
                    "Timeout",
                    "timeout",
                    &timeout,
                    &default_timeout,
                    parse_opt_time_limit,
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
        self.consumer_v2_json(ui, c);
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
