//! The inspector's live figures of the selected node: its results over the measured window
//! beside its figures at the moment the canvas shows.

use eframe::egui::{self, Color32, RichText, Ui};

use super::InspectorInput;
use crate::model::Kind;

/// The component's figures: over the run so far, and at the moment shown on the canvas.
pub(super) fn figures(ui: &mut Ui, id: &str, input: &InspectorInput<'_>) {
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
