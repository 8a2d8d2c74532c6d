//! The capacity panel: for each consumer, what queueing theory predicts beside what the run
//! measured, and how many handlers it would take to meet the scenario's targets.
//!
//! Per consumer: measured arrival rate λ, service rate per slot μ = 1 / mean service time, the
//! servers c, utilization ρ, the simulated mean wait Wq, time in system W and number in system L
//! against the M/M/c (Erlang C) prediction — or the Allen–Cunneen G/G/c approximation, labelled
//! as such, when the service time is not exponential — then the handlers needed for the
//! utilization target (`slo.utilization`, default 2/3: the design notes' ×1.5 rule) and for the
//! wait SLO (`slo.wait` at `slo.quantile`), partitions for a stream's hottest key, and, when
//! overloaded, how fast the backlog grows and how long it takes to drain.
//!
//! The figures are [`crate::analysis::capacity::capacity`], the capacity part of
//! [`crate::analysis::analyze`], so the panel and `eventflow run --analyze` never disagree; this
//! file only lays them out.
use eframe::egui;

use egui::{Grid, RichText, Ui};

use crate::analysis::capacity::{ConsumerCapacity, Source, capacity};
use crate::analysis::queueing::{Accuracy, HotKeyPlan, Model, WaitTarget};
use crate::model::Scenario;
use crate::sim::Results;

/// Shows the capacity figures of every consumer in `scenario`, measured in `results`.
pub fn show(ui: &mut Ui, scenario: &Scenario, results: &Results) {
    if scenario.consumers.is_empty() {
        ui.weak("This scenario has no consumers.");
        return;
    }
    let figures = capacity(scenario, results);
    for (index, consumer) in scenario.consumers.iter().enumerate() {
        if index > 0 {
            ui.separator();
        }
        ui.label(RichText::new(format!("Consumer {}", consumer.id)).strong());
        match figures.get(&consumer.id) {
            Some(figure) => show_consumer(ui, index, figure),
            None => {
                ui.weak("Not in the results yet: run the scenario.");
            }
        }
    }
}

fn show_consumer(ui: &mut Ui, index: usize, f: &ConsumerCapacity) {
    let source = match (f.source, &f.from) {
        (Source::Queue, Some(from)) => format!("Reads queue {from}"),
        (Source::Stream, Some(from)) => format!("Consumer group on stream {from}"),
        (Source::Async, _) => "Invoked asynchronously (Lambda's own queue)".to_owned(),
        (Source::Task, _) => "Called synchronously by state machine Tasks".to_owned(),
        (Source::Direct, _) | (_, None) => "Called synchronously by a rule target".to_owned(),
    };
    ui.weak(source);

    let p = f.predicted.as_ref();
    let sim = &f.simulated;
    Grid::new(("capacity", index))
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            ui.label("");
            ui.label(RichText::new("Simulated").strong());
            ui.label(RichText::new("Predicted").strong());
            ui.end_row();
            row(
                ui,
                "Arrivals λ",
                Some(format!("{} /s", number(f.lambda))),
                None,
            );
            row(
                ui,
                "Service rate μ per slot",
                None,
                Some(format!("{} /s", number(f.mu))),
            );
            row(
                ui,
                "Servers c",
                Some(f.concurrency.to_string()),
                Some(f.servers.to_string()),
            );
            row(
                ui,
                "Utilization ρ",
                Some(percent(sim.rho)),
                p.map(|p| percent(p.rho)),
            );
            row(
                ui,
                "Mean wait Wq",
                Some(seconds(sim.wq_s)),
                p.and_then(|p| p.wq_s).map(seconds),
            );
            row(
                ui,
                "Mean time in system W",
                Some(seconds(sim.w_s)),
                p.and_then(|p| p.w_s).map(seconds),
            );
            row(
                ui,
                "Mean number waiting Lq",
                Some(number(sim.lq)),
                p.and_then(|p| p.lq).map(number),
            );
            row(
                ui,
                "Mean number in system L",
                Some(number(sim.l)),
                p.and_then(|p| p.l).map(number),
            );
        });

    if let Some(p) = p {
        let model = match (p.model, f.accuracy) {
            (Model::AllenCunneen, _) => "Model: approximation (Allen–Cunneen)",
            (_, Accuracy::Exact) => "Model: M/M/c (Erlang C), exact",
            (_, Accuracy::Approximation) => "Model: M/M/c (Erlang C), approximation",
        };
        ui.label(model);
    }
    for note in &f.notes {
        ui.weak(note);
    }
    if let Some(throttled) = f.throttle_probability {
        ui.label(format!(
            "Erlang B: {} of invocations find every slot busy",
            percent(throttled)
        ));
    }

    // Overload: growth now, at the peak, and how long the backlog takes to clear.
    let warn = ui.visuals().warn_fg_color;
    if f.backlog_growth_per_s > 0.0 {
        ui.colored_label(
            warn,
            format!(
                "Overloaded: the backlog grows by {} messages/s",
                number(f.backlog_growth_per_s)
            ),
        );
    }
    if let (Some(peak), Some(growth)) = (f.peak_arrival_rate, f.peak_backlog_growth_per_s)
        && growth > 0.0
    {
        ui.colored_label(
            warn,
            format!(
                "At the peak of {} /s the backlog grows by {} messages/s",
                number(peak),
                number(growth)
            ),
        );
    }
    if let Some(backlog) = f.backlog_end.filter(|b| *b > 0) {
        ui.label(drain_text(
            "Backlog at the end",
            backlog,
            f.drain_time_end_s,
        ));
    }
    if f.backlog_peak > 0 {
        ui.label(drain_text(
            "Worst backlog",
            f.backlog_peak,
            f.drain_time_peak_s,
        ));
    }

    // Recommendations.
    let r = &f.recommendation;
    if let Some(c) = r.concurrency_for_utilization {
        ui.label(format!(
            "For {} utilization: {}",
            percent(r.utilization_target),
            crate::report::plural(c as usize, "handler")
        ));
    }
    match (r.wait_target, r.concurrency_for_wait) {
        (Some(target), Some(c)) => {
            ui.label(format!(
                "For {}: {}",
                wait_text(target),
                crate::report::plural(c as usize, "handler")
            ));
        }
        (Some(target), None) => {
            ui.colored_label(warn, format!("No concurrency meets {}", wait_text(target)));
        }
        (None, _) => {
            ui.weak("No wait SLO set (slo.wait).");
        }
    }
    if let Some(advice) = &r.partitions {
        match advice.plan {
            Some(HotKeyPlan::Partitions { partitions, .. }) => {
                ui.label(format!(
                    "Partitions (now {}, hottest key {} of records): {partitions}",
                    advice.partitions,
                    percent(advice.hottest_key_share)
                ));
            }
            Some(HotKeyPlan::KeyExceedsInstance {
                key_rate_per_s,
                instance_rate_per_s,
            }) => {
                ui.colored_label(
                    warn,
                    format!(
                        "The hottest key alone ({} /s) outruns one instance ({} /s): no partition count helps",
                        number(key_rate_per_s),
                        number(instance_rate_per_s)
                    ),
                );
            }
            None => {}
        }
    }
}

/// "Backlog at the end: 1200 messages, drains in 4.00 s".
fn drain_text(what: &str, backlog: u64, drain_s: Option<f64>) -> String {
    match drain_s {
        Some(t) => format!("{what}: {backlog} messages, drains in {}", seconds(t)),
        None => format!("{what}: {backlog} messages, never drains at this concurrency"),
    }
}

/// "p99 wait ≤ 50.0 ms" or "mean wait ≤ 50.0 ms".
fn wait_text(target: WaitTarget) -> String {
    match target {
        WaitTarget::Percentile {
            quantile,
            max_wait_s,
        } => format!(
            "p{} wait ≤ {}",
            quantile_name(quantile),
            seconds(max_wait_s)
        ),
        WaitTarget::Mean { max_wait_s } => format!("mean wait ≤ {}", seconds(max_wait_s)),
    }
}

fn row(ui: &mut Ui, name: &str, simulated: Option<String>, predicted: Option<String>) {
    ui.label(name);
    ui.label(simulated.unwrap_or_else(|| "–".to_owned()));
    ui.label(predicted.unwrap_or_else(|| "–".to_owned()));
    ui.end_row();
}

/// `0.6667` → `67 %`.
fn percent(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// `0.99` → `99`, `0.995` → `99.5`.
fn quantile_name(q: f64) -> String {
    let p = q * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// A count or rate with sensible precision.
fn number(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Seconds in the unit that reads best.
fn seconds(s: f64) -> String {
    if s == 0.0 {
        "0".to_owned()
    } else if s.abs() < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s.abs() < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LatencySummary;
    use crate::model::Kind;
    use crate::sim::{EndToEnd, EngineInfo, NodeResult, QueueDepth};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;
    use serde_json::json;

    fn node(kind: Kind, arrival_rate: f64, utilization: f64) -> NodeResult {
        NodeResult {
            kind,
            arrived: 0,
            completed: 0,
            failed: 0,
            retried: 0,
            throttled: 0,
            dead_lettered: 0,
            rejected: 0,
            expired: 0,
            duplicates: 0,
            out_of_order: 0,
            arrival_rate,
            throughput: arrival_rate,
            concurrency: None,
            mean_number_in_system: 8.5,
            mean_time_in_system_s: 0.0085,
            littles_law_lambda_w: 8.5,
            utilization,
            wait_s: LatencySummary::default(),
            latency_s: LatencySummary {
                mean_s: 0.0085,
                ..LatencySummary::default()
            },
            queue_depth: QueueDepth { mean: 0.0, max: 0 },
            lag: None,
            lag_s: None,
            dead_letter_reasons: Default::default(),
            retry_amplification: None,
            goodput: None,
            circuit_breaker_transitions: 0,
            emitted: 0,
            circuit_breaker: None,
            faults: Vec::new(),
            asynchronous: None,
            mapping: None,
            subscriptions: vec![],
            state_machine: None,
            pipe: None,
        }
    }

    /// The design notes' example: 1000 events/s, 10 ms per event (100/s per handler).
    fn design_notes(
        service_time: serde_json::Value,
        slo: serde_json::Value,
    ) -> (Scenario, Results) {
        let mut scenario = Scenario::empty("capacity");
        scenario.consumers.push(
            serde_json::from_value(json!({
                "id": "worker", "from": "orders-q", "concurrency": 12,
                "service_time": service_time, "slo": slo
            }))
            .unwrap(),
        );
        let mut worker = node(Kind::Consumer, 1000.0, 0.83);
        worker.concurrency = Some(12);
        let mut results = Results {
            scenario: "capacity".into(),
            seed: 1,
            duration_s: 60.0,
            warmup_s: 0.0,
            engine: EngineInfo {
                events_processed: 0,
                wall_seconds: 0.0,
                simulated_s: 60.0,
                stopped: None,
            },
            nodes: Default::default(),
            end_to_end: EndToEnd {
                latency_s: LatencySummary::default(),
            },
            conservation: Default::default(),
            series: None,
        };
        results.nodes.0.push(("worker".into(), worker));
        (scenario, results)
    }

    #[test]
    fn design_notes_example_needs_15_handlers() {
        let (scenario, results) =
            design_notes(json!({ "exponential": { "mean": "10ms" } }), json!({}));
        let mut harness = Harness::new_ui(|ui| show(ui, &scenario, &results));
        harness.run_steps(2);
        harness.get_by_label("Consumer worker");
        harness.get_by_label("Reads queue orders-q");
        harness.get_by_label("Model: M/M/c (Erlang C), exact");
        // 1000/s at 100/s per handler, 2/3 target: 15 handlers at 67 %.
        harness.get_by_label("For 67 % utilization: 15 handlers");
        harness.get_by_label("No wait SLO set (slo.wait).");
        // ρ = 1000 / (12 × 100), predicted beside the simulated 83 %.
        assert_eq!(harness.get_all_by_label("83 %").count(), 2);
    }

    #[test]
    fn non_exponential_service_is_labelled_an_approximation() {
        let (scenario, results) = design_notes(
            json!({ "constant": "10ms" }),
            json!({ "wait": "50ms", "quantile": 0.99, "utilization": 0.5 }),
        );
        let mut harness = Harness::new_ui(|ui| show(ui, &scenario, &results));
        harness.run_steps(2);
        harness.get_by_label("Model: approximation (Allen–Cunneen)");
        harness.get_by_label("For 50 % utilization: 20 handlers");
        harness.get_by_label_contains("For p99 wait ≤ 50.0 ms:");
    }

    #[test]
    fn overload_shows_growth_and_missing_consumers() {
        let (mut scenario, results) =
            design_notes(json!({ "exponential": { "mean": "10ms" } }), json!({}));
        scenario.consumers[0].concurrency = 5; // 500/s of capacity for 1000/s
        let mut idle = scenario.consumers[0].clone();
        idle.id = "not-run".into();
        scenario.consumers.push(idle);
        let mut harness = Harness::new_ui(|ui| show(ui, &scenario, &results));
        harness.run_steps(2);
        harness.get_by_label("Overloaded: the backlog grows by 500 messages/s");
        harness.get_by_label("Not in the results yet: run the scenario.");
    }

    #[test]
    fn no_consumers() {
        let scenario = Scenario::empty("none");
        let (_, results) = design_notes(json!({ "constant": "1ms" }), json!({}));
        let mut harness = Harness::new_ui(|ui| show(ui, &scenario, &results));
        harness.run_steps(1);
        harness.get_by_label("This scenario has no consumers.");
    }
}
