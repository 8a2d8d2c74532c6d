//! Rendering results for people and programs: the summary table, JSON and CSV, shared by the
//! CLI and the GUI.

use std::fmt::Write as _;

use crate::sim::Results;

/// Seconds in a short human unit: `850µs`, `12.3ms`, `1.25s`, `3m 20s`.
#[must_use]
pub fn human_secs(s: f64) -> String {
    if !s.is_finite() {
        return "—".into();
    }
    let a = s.abs();
    if a == 0.0 {
        "0".into()
    } else if a < 1e-3 {
        format!("{:.0}µs", s * 1e6)
    } else if a < 1.0 {
        format!("{:.1}ms", s * 1e3)
    } else if a < 120.0 {
        format!("{s:.2}s")
    } else {
        format!("{}m {:02}s", (s / 60.0).floor(), (s % 60.0).round())
    }
}

/// A count with thousands separators.
#[must_use]
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The summary table `eventflow run` prints.
#[must_use]
pub fn table(r: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — seed {}, {} simulated ({} warm-up), {} engine events in {:.2}s",
        r.scenario,
        r.seed,
        human_secs(r.duration_s),
        human_secs(r.warmup_s),
        count(r.engine.events_processed),
        r.engine.wall_seconds
    );
    if let Some(stop) = &r.engine.stopped {
        let _ = writeln!(out, "STOPPED at {}: {stop}", human_secs(r.engine.simulated_s));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<22} {:<9} {:>10} {:>10} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "node", "kind", "arrived", "completed", "λ/s", "thru/s", "L", "λW", "W", "wait p99", "lat p99", "util"
    );
    for (id, n) in &r.nodes.0 {
        let util = if n.kind == "consumer" { format!("{:.0}%", n.utilization * 100.0) } else { String::new() };
        let (l, lw, w, wait, lat) = if matches!(n.kind, "consumer" | "queue" | "stream") {
            (
                format!("{:.2}", n.mean_number_in_system),
                format!("{:.2}", n.littles_law_lambda_w),
                human_secs(n.mean_time_in_system_s),
                if n.kind == "consumer" { human_secs(n.wait_s.p99_s) } else { String::new() },
                if n.kind == "consumer" { human_secs(n.latency_s.p99_s) } else { String::new() },
            )
        } else {
            Default::default()
        };
        let name: String = if id.chars().count() > 22 { id.chars().take(21).chain(['…']).collect() } else { id.clone() };
        let _ = writeln!(
            out,
            "{:<22} {:<9} {:>10} {:>10} {:>9.2} {:>9.2} {:>8} {:>9} {:>9} {:>9} {:>9} {:>6}",
            name, n.kind, count(n.arrived), count(n.completed), n.arrival_rate, n.throughput, l, lw, w, wait, lat, util
        );
        let mut extras = Vec::new();
        for (label, v) in [
            ("failed", n.failed),
            ("retried", n.retried),
            ("throttled", n.throttled),
            ("dead-lettered", n.dead_lettered),
            ("rejected", n.rejected),
            ("expired", n.expired),
            ("duplicates", n.duplicates),
            ("out of order", n.out_of_order),
            ("emitted", n.emitted),
            ("breaker changes", n.circuit_breaker_transitions),
        ] {
            if v > 0 {
                extras.push(format!("{label} {}", count(v)));
            }
        }
        if let Some(lag) = n.lag.filter(|l| *l > 0) {
            extras.push(format!("backlog {} (oldest {})", count(lag), human_secs(n.lag_s.unwrap_or(0.0))));
        }
        for (reason, v) in &n.dead_letter_reasons {
            extras.push(format!("{reason}: {}", count(*v)));
        }
        if let Some(a) = n.retry_amplification.filter(|a| *a > 1.0005) {
            extras.push(format!("retry amplification ×{a:.2}"));
        }
        if !extras.is_empty() {
            let _ = writeln!(out, "{:<22}   └ {}", "", extras.join(", "));
        }
    }
    let e = &r.end_to_end.latency_s;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "end to end: mean {}, p50 {}, p95 {}, p99 {}, max {}",
        human_secs(e.mean_s),
        human_secs(e.p50_s),
        human_secs(e.p95_s),
        human_secs(e.p99_s),
        human_secs(e.max_s)
    );
    let c = &r.conservation;
    let _ = writeln!(
        out,
        "conservation: produced {}, unmatched {}, deliveries {} = completed {} + dead-lettered {} + rejected {} + expired {} + dropped {} + in flight {}",
        count(c.produced),
        count(c.unmatched),
        count(c.deliveries),
        count(c.completed),
        count(c.dead_lettered),
        count(c.rejected),
        count(c.expired),
        count(c.dropped),
        count(c.in_flight)
    );
    out
}

/// The results object as pretty JSON.
#[must_use]
pub fn json(r: &Results) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_secs(0.000_85), "850µs");
        assert_eq!(human_secs(0.0123), "12.3ms");
        assert_eq!(human_secs(1.25), "1.25s");
        assert_eq!(human_secs(200.0), "3m 20s");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }
}
