//! Rendering results for people and programs: the summary table, JSON and CSV, shared by the
//! CLI and the GUI.

use std::fmt::Write as _;

use crate::analysis::Analysis;
use crate::analysis::compare::Comparison;
use crate::analysis::health::{HealthState, Signal};
use crate::analysis::replicate::Replicated;
use crate::analysis::stats::Estimate;
use crate::analysis::sweep::Sweep;
use crate::model::Kind;
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
        // Round the whole, not the seconds part, so 359.6 s reads 6m 00s, not 5m 60s.
        let total = a.round() as u64;
        let sign = if s < 0.0 { "-" } else { "" };
        format!("{sign}{}m {:02}s", total / 60, total % 60)
    }
}

pub use crate::names::{count, plural};

/// What a scenario holds, for `check`'s summary line: each kind it has, in file order, with a
/// bus's rules and a topic's subscriptions: `1 producer, 1 bus (4 rules), 1 queue, 4 consumers,
/// 1 state machine`. Kinds the scenario does not use are left out.
#[must_use]
pub fn inventory(s: &crate::model::Scenario) -> String {
    let rules: usize = s.buses.iter().map(|b| b.rules.len()).sum();
    let subscriptions: usize = s.topics.iter().map(|t| t.subscriptions.len()).sum();
    let parts = [
        (s.producers.len(), plural(s.producers.len(), "producer")),
        (
            s.buses.len(),
            format!(
                "{} ({})",
                plural(s.buses.len(), "bus"),
                plural(rules, "rule")
            ),
        ),
        (s.queues.len(), plural(s.queues.len(), "queue")),
        (s.streams.len(), plural(s.streams.len(), "stream")),
        (s.consumers.len(), plural(s.consumers.len(), "consumer")),
        (
            s.topics.len(),
            format!(
                "{} ({})",
                plural(s.topics.len(), "topic"),
                plural(subscriptions, "subscription")
            ),
        ),
        (s.pipes.len(), plural(s.pipes.len(), "pipe")),
        (
            s.state_machines.len(),
            plural(s.state_machines.len(), "state machine"),
        ),
    ];
    let present: Vec<String> = parts
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, text)| text)
        .collect();
    if present.is_empty() {
        "no components".to_owned()
    } else {
        present.join(", ")
    }
}

/// The summary table `eventflow run` prints.
#[must_use]
pub fn table(r: &Results) -> String {
    let mut out = String::new();
    // A stopped run says so first: its figures cover only the time before the stop.
    if let Some(stop) = &r.engine.stopped {
        let _ = writeln!(
            out,
            "STOPPED at {} of {}: {stop}",
            human_secs(r.engine.simulated_s),
            human_secs(r.duration_s)
        );
    }
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
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<22} {:<13} {:>10} {:>10} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "node",
        "kind",
        "arrived",
        "completed",
        "λ/s",
        "thru/s",
        "L",
        "λW",
        "W",
        "wait p99",
        "lat p99",
        "util"
    );
    for (id, n) in &r.nodes.0 {
        let util = if n.kind == Kind::Consumer {
            format!("{:.0}%", n.utilization * 100.0)
        } else {
            String::new()
        };
        let (l, lw, w, wait, lat) = if matches!(n.kind, Kind::Consumer | Kind::Queue | Kind::Stream)
        {
            (
                format!("{:.2}", n.mean_number_in_system),
                format!("{:.2}", n.littles_law_lambda_w),
                human_secs(n.mean_time_in_system_s),
                if n.kind == Kind::Consumer {
                    human_secs(n.wait_s.p99_s)
                } else {
                    String::new()
                },
                if n.kind == Kind::Consumer {
                    human_secs(n.latency_s.p99_s)
                } else {
                    String::new()
                },
            )
        } else {
            Default::default()
        };
        let name: String = if id.chars().count() > 22 {
            id.chars().take(21).chain(['…']).collect()
        } else {
            id.clone()
        };
        let _ = writeln!(
            out,
            "{:<22} {:<13} {:>10} {:>10} {:>9.2} {:>9.2} {:>8} {:>9} {:>9} {:>9} {:>9} {:>6}",
            name,
            n.kind,
            count(n.arrived),
            count(n.completed),
            n.arrival_rate,
            n.throughput,
            l,
            lw,
            w,
            wait,
            lat,
            util
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
            extras.push(format!(
                "backlog {} (oldest {})",
                count(lag),
                human_secs(n.lag_s.unwrap_or(0.0))
            ));
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
        if let Some(m) = &n.state_machine {
            machine_lines(&mut out, m);
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

/// A state machine's executions and, per state, its entries, retries and failures (nested
/// states as `Parallel/branch/State`), under its row of the table.
fn machine_lines(out: &mut String, m: &crate::sim::MachineFigures) {
    let t = &m.execution_time_s;
    let mut ends = vec![
        format!("started {}", count(m.started)),
        format!("succeeded {}", count(m.succeeded)),
    ];
    for (label, v) in [
        ("failed", m.failed),
        ("timed out", m.timed_out),
        ("compensated", m.compensated),
        ("running", m.running),
    ] {
        if v > 0 {
            ends.push(format!("{label} {}", count(v)));
        }
    }
    let _ = writeln!(
        out,
        "{:<22}   └ executions: {}; time p50 {}, p99 {}",
        "",
        ends.join(", "),
        human_secs(t.p50_s),
        human_secs(t.p99_s)
    );
    let width = m
        .states
        .iter()
        .map(|s| s.state.chars().count())
        .max()
        .unwrap_or(0);
    for st in &m.states {
        let mut line = format!("entered {:>9}", count(st.entries));
        if st.retries > 0 {
            line.push_str(&format!(", retried {}", count(st.retries)));
        }
        if st.failures > 0 {
            line.push_str(&format!(", failed {}", count(st.failures)));
        }
        let _ = writeln!(out, "{:<22}     {:<width$}  {line}", "", st.state);
    }
}

/// The results object as pretty JSON.
#[must_use]
pub fn json(r: &Results) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

// ----- analysis, replications, comparisons and sweeps ------------------------------------------

/// A number to 4 significant digits, without exponent for everyday magnitudes (`0.06687`,
/// `15.02`, `1234`); `—` for NaN or infinity.
#[must_use]
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..=9).contains(&magnitude) {
        return format!("{x:.3e}");
    }
    let decimals = usize::try_from((3 - magnitude).max(0)).unwrap_or(0);
    format!("{x:.decimals$}")
}

/// `mean ± half-width` (just the mean for a single replicate).
#[must_use]
pub fn pm(e: &Estimate) -> String {
    match e.ci95_half_width {
        Some(h) => format!("{} ± {}", sig(e.mean), sig(h)),
        None => sig(e.mean),
    }
}

fn opt_secs(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), human_secs)
}

fn opt_count(x: Option<u32>) -> String {
    x.map_or_else(|| "—".into(), |c| c.to_string())
}

/// The analysis below the summary table: Little's law, the capacity panel and health.
#[must_use]
pub fn analysis_table(a: &Analysis) -> String {
    let mut out = String::new();
    let ll = &a.littles_law;
    let gap = |g: Option<f64>| g.map_or_else(|| "—".into(), |g| format!("{:.2}%", g * 100.0));
    let _ = writeln!(out, "Little's law (L = λW, Lq = λWq)");
    let _ = writeln!(
        out,
        "{:<22} {:>10} {:>10} {:>9} {:>10} {:>8} {:>10} {:>9} {:>10} {:>8}",
        "node", "L", "λ/s", "W", "λW", "gap", "Lq", "Wq", "λWq", "gap"
    );
    for (id, n) in ll.nodes.iter() {
        let _ = writeln!(
            out,
            "{:<22} {:>10} {:>10} {:>9} {:>10} {:>8} {:>10} {:>9} {:>10} {:>8}",
            short(id),
            sig(n.l),
            sig(n.lambda),
            human_secs(n.w_s),
            sig(n.lambda_w),
            gap(n.gap),
            sig(n.lq),
            if n.kind == Kind::Consumer {
                human_secs(n.wq_s)
            } else {
                String::new()
            },
            if n.kind == Kind::Consumer {
                sig(n.lambda_wq)
            } else {
                String::new()
            },
            if n.kind == Kind::Consumer {
                gap(n.lq_gap)
            } else {
                String::new()
            },
        );
    }
    let s = &ll.system;
    let _ = writeln!(
        out,
        "{:<22} {:>10} {:>10} {:>9} {:>10} {:>8}",
        "system (per visit)",
        sig(s.l),
        sig(s.lambda),
        human_secs(s.w_s),
        sig(s.lambda_w),
        gap(s.gap)
    );
    if !a.capacity.0.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Capacity (prediction at the measured λ beside the simulation)"
        );
        let _ = writeln!(
            out,
            "{:<22} {:<12} {:>5} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>6} {:>6}",
            "consumer",
            "model",
            "c",
            "ρ sim",
            "ρ pred",
            "Wq sim",
            "Wq pred",
            "W sim",
            "W pred",
            "c@ρ",
            "c@SLO"
        );
        for (id, c) in a.capacity.iter() {
            let model = match (&c.predicted, c.throttle_probability) {
                (Some(p), _) => {
                    let name = match p.model {
                        crate::analysis::Model::Mmc
                            if c.source == crate::analysis::capacity::Source::Stream =>
                        {
                            "M/M/1 ×e"
                        }
                        crate::analysis::Model::Mmc => "M/M/c",
                        crate::analysis::Model::AllenCunneen | crate::analysis::Model::Kingman => {
                            "Allen–Cunneen"
                        }
                        crate::analysis::Model::Mg1 | crate::analysis::Model::Md1 => "M/G/1",
                    };
                    if c.accuracy == crate::analysis::Accuracy::Exact {
                        name.to_owned()
                    } else {
                        format!("≈{name}")
                    }
                }
                (None, Some(_)) => "Erlang B".to_owned(),
                (None, None) => "—".to_owned(),
            };
            let p = c.predicted.as_ref();
            let _ = writeln!(
                out,
                "{:<22} {:<12} {:>5} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>6} {:>6}",
                short(id),
                model,
                c.servers,
                format!("{:.0}%", c.simulated.rho * 100.0),
                p.map_or_else(|| "—".into(), |p| format!("{:.0}%", p.rho * 100.0)),
                human_secs(c.simulated.wq_s),
                p.map_or_else(
                    || "—".into(),
                    |p| if p.stable {
                        opt_secs(p.wq_s)
                    } else {
                        "unstable".into()
                    }
                ),
                human_secs(c.simulated.w_s),
                p.map_or_else(
                    || "—".into(),
                    |p| if p.stable {
                        opt_secs(p.w_s)
                    } else {
                        "unstable".into()
                    }
                ),
                opt_count(c.recommendation.concurrency_for_utilization),
                opt_count(c.recommendation.concurrency_for_wait),
            );
            let mut extras = Vec::new();
            if let Some(t) = c.throttle_probability {
                extras.push(format!("P(throttled) {:.2}%", t * 100.0));
            }
            if c.backlog_growth_per_s > 0.0 {
                extras.push(format!(
                    "overloaded: backlog grows {}/s",
                    sig(c.backlog_growth_per_s)
                ));
            }
            // Bucket rates of a busy Poisson stream always peak a little above the mean: mention
            // the peak only when it clearly overloads the consumer.
            if let (Some(peak), Some(g)) = (c.peak_arrival_rate, c.peak_backlog_growth_per_s)
                && g > 0.0
                && g > 0.1 * (peak - g)
            {
                extras.push(format!(
                    "peak λ (30 s mean) {}/s grows the backlog {}/s",
                    sig(peak),
                    sig(g)
                ));
            }
            if c.backlog_peak > 0 {
                extras.push(format!(
                    "worst backlog {} {}",
                    count(c.backlog_peak),
                    c.drain_time_peak_s.map_or_else(
                        || "never drains at the rate after its peak".into(),
                        |t| format!("drains in {}", human_secs(t))
                    )
                ));
            }
            if let Some(b) = c.backlog_end.filter(|b| *b > 0) {
                extras.push(format!(
                    "backlog at end {} {}",
                    count(b),
                    c.drain_time_end_s.map_or_else(
                        || "never drains at the rate after its peak".into(),
                        |t| format!("drains in {}", human_secs(t))
                    )
                ));
            }
            if let Some(pa) = &c.recommendation.partitions {
                let plan = match pa.plan {
                    Some(crate::analysis::HotKeyPlan::Partitions { partitions, .. }) => {
                        format!("{partitions} partitions keep up")
                    }
                    Some(crate::analysis::HotKeyPlan::KeyExceedsInstance {
                        key_rate_per_s,
                        instance_rate_per_s,
                    }) => format!(
                        "the hottest key ({}/s) exceeds one instance ({}/s): no partition count helps",
                        sig(key_rate_per_s),
                        sig(instance_rate_per_s)
                    ),
                    None => "—".into(),
                };
                extras.push(format!(
                    "{} partitions, hottest key {:.1}% of records: {plan}",
                    pa.partitions,
                    pa.hottest_key_share * 100.0
                ));
            }
            let target = c.recommendation.utilization_target;
            extras.push(format!(
                "c@ρ: smallest concurrency with ρ ≤ {:.0}%",
                target * 100.0
            ));
            if let Some(crate::analysis::WaitTarget::Percentile {
                quantile,
                max_wait_s,
            }) = c.recommendation.wait_target
            {
                extras.push(format!(
                    "c@SLO: p{} wait ≤ {}",
                    (quantile * 1e5).round() / 1e3,
                    human_secs(max_wait_s)
                ));
            }
            let _ = writeln!(out, "{:<22}   └ {}", "", extras.join("; "));
            for note in &c.notes {
                let _ = writeln!(out, "{:<22}     {note}", "");
            }
        }
    }
    let h = &a.health;
    let flagged: Vec<_> = h
        .nodes
        .iter()
        .filter(|(_, n)| n.worst != HealthState::Ok)
        .collect();
    let _ = writeln!(out);
    if flagged.is_empty() {
        let _ = writeln!(out, "Health: every node ok throughout");
    } else {
        let _ = writeln!(
            out,
            "Health (state at end, worst; thresholds first crossed)"
        );
        for (id, n) in flagged {
            let crossings: Vec<String> = n
                .first_crossings
                .iter()
                .map(|c| {
                    let value = match c.signal {
                        Signal::ErrorRate | Signal::Lost => {
                            format!("{:.2}% > {:.2}%", c.value * 100.0, c.threshold * 100.0)
                        }
                        Signal::Wait => {
                            format!("{} > {}", human_secs(c.value), human_secs(c.threshold))
                        }
                        Signal::Lag | Signal::DlqDepth => {
                            format!("{} > {}", sig(c.value), sig(c.threshold))
                        }
                    };
                    let at = c
                        .at_s
                        .map_or_else(|| "by the end".into(), |t| format!("at {}", human_secs(t)));
                    format!("{} {} {at} ({value})", c.signal.as_str(), c.level.as_str())
                })
                .collect();
            let _ = writeln!(
                out,
                "{:<22} {:<8} {:<8} {}",
                short(id),
                n.state.as_str(),
                n.worst.as_str(),
                crossings.join(", ")
            );
        }
    }
    out
}

fn short(id: &str) -> String {
    if id.chars().count() > 22 {
        id.chars().take(21).chain(['…']).collect()
    } else {
        id.to_owned()
    }
}

/// The results object with the analysis under `"analysis"`, as pretty JSON.
#[must_use]
pub fn json_with_analysis(r: &Results, a: &Analysis) -> String {
    let mut value = match serde_json::to_value(r) {
        Ok(v) => v,
        Err(e) => return format!("{{\"error\": \"{e}\"}}"),
    };
    if let (Some(obj), Ok(a)) = (value.as_object_mut(), serde_json::to_value(a)) {
        obj.insert("analysis".into(), a);
    }
    serde_json::to_string_pretty(&value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The summary table of `eventflow run --replications N`: each figure as `mean ± half-width`
/// of its 95 % confidence interval.
#[must_use]
pub fn replicated_table(r: &Replicated) -> String {
    let mut out = String::new();
    let seeds = match (r.seeds.first(), r.seeds.last()) {
        (Some(a), Some(b)) => format!("seeds {a}…{b}"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{} — {} replications ({seeds}), {} simulated ({} warm-up); mean ± 95% CI half-width",
        r.scenario,
        r.replications(),
        human_secs(r.duration_s),
        human_secs(r.warmup_s),
    );
    let _ = writeln!(out);
    let cols = [
        ("λ/s", "arrival_rate"),
        ("thru/s", "throughput"),
        ("L", "mean_number_in_system"),
        ("W s", "mean_time_in_system_s"),
        ("Wq s", "wait_s.mean"),
        ("wait p99 s", "wait_s.p99"),
        ("lat p99 s", "latency_s.p99"),
        ("util", "utilization"),
    ];
    let _ = write!(out, "{:<22} {:<9}", "node", "kind");
    for (label, _) in cols {
        let _ = write!(out, " {label:>19}");
    }
    let _ = writeln!(out);
    let nodes = r.samples.template.get("nodes").and_then(|n| n.as_object());
    for (id, node) in nodes.into_iter().flatten() {
        let kind = node
            .get("kind")
            .and_then(|k| k.as_str())
            .and_then(Kind::parse);
        let Some(kind @ (Kind::Consumer | Kind::Queue | Kind::Stream)) = kind else {
            continue;
        };
        let _ = write!(out, "{:<22} {:<9}", short(id), kind);
        for (_, field) in cols {
            let cell = if kind != Kind::Consumer
                && matches!(
                    field,
                    "wait_s.mean" | "wait_s.p99" | "latency_s.p99" | "utilization"
                ) {
                String::new()
            } else {
                r.estimate(&format!("nodes.{id}.{field}"))
                    .map_or_else(|| "—".into(), |e| pm(&e))
            };
            let _ = write!(out, " {cell:>19}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
    let e2e: Vec<String> = ["mean", "p50", "p95", "p99", "max"]
        .iter()
        .filter_map(|q| {
            r.estimate(&format!("end_to_end.latency_s.{q}"))
                .map(|e| format!("{q} {} s", pm(&e)))
        })
        .collect();
    let _ = writeln!(out, "end to end: {}", e2e.join(", "));
    let little = r
        .estimate("analysis.littles_law.system.gap")
        .map_or_else(|| "—".into(), |e| pm(&e));
    let _ = writeln!(out, "Little's law gap (system): {little}");
    out
}

/// The figures `eventflow compare` prints when none are chosen: the main ones of every consumer
/// and the end-to-end latency.
#[must_use]
pub fn default_compare_figures(c: &Comparison) -> Vec<String> {
    const FIELDS: [&str; 7] = [
        "arrival_rate",
        "throughput",
        "utilization",
        "mean_number_in_system",
        "wait_s.mean",
        "wait_s.p99",
        "latency_s.p99",
    ];
    let mut out: Vec<String> = Vec::new();
    for row in &c.rows {
        if let Some(rest) = row.name.strip_prefix("nodes.")
            && let Some(field) = FIELDS.iter().find(|f| rest.ends_with(&format!(".{f}")))
        {
            let id = &rest[..rest.len() - field.len() - 1];
            if c.row(&format!("nodes.{id}.concurrency")).is_some() {
                out.push(row.name.clone());
            }
        }
    }
    out.extend(
        [
            "end_to_end.latency_s.mean",
            "end_to_end.latency_s.p99",
            "conservation.completed",
            "conservation.dead_lettered",
        ]
        .map(String::from),
    );
    out
}

/// The table of `eventflow compare`: each figure in A and B and the paired difference B − A with
/// its 95 % interval; `*` marks a difference whose interval excludes 0.
#[must_use]
pub fn comparison_table(c: &Comparison, figures: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "A: {}   B: {}   — {} replications with common random numbers; mean ± 95% CI half-width",
        c.a,
        c.b,
        c.seeds.len()
    );
    let _ = writeln!(out);
    let width = figures
        .iter()
        .map(|f| f.strip_prefix("nodes.").unwrap_or(f).chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "{:<width$} {:>22} {:>22} {:>24}",
        "figure", "A", "B", "B − A"
    );
    for f in figures {
        let Some(row) = c.row(f) else { continue };
        let cell = |e: &Option<Estimate>| e.as_ref().map_or_else(|| "—".into(), pm);
        let mark = if row.significant() { " *" } else { "  " };
        let _ = writeln!(
            out,
            "{:<width$} {:>22} {:>22} {:>22}{mark}",
            f.strip_prefix("nodes.").unwrap_or(f),
            cell(&row.a),
            cell(&row.b),
            cell(&row.b_minus_a),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "* the 95% interval of B − A excludes 0");
    out
}

/// The table of `eventflow sweep`: one row per variant, the `--set` values then the figures.
#[must_use]
pub fn sweep_table(s: &Sweep, figures: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} variants × {} replication{}",
        s.scenario,
        s.variants.len(),
        s.seeds.len(),
        if s.seeds.len() == 1 {
            ""
        } else {
            "s; mean ± 95% CI half-width"
        }
    );
    let _ = writeln!(out);
    let headers: Vec<String> = s
        .paths
        .iter()
        .chain(figures)
        .map(|h| h.strip_prefix("nodes.").unwrap_or(h).to_owned())
        .collect();
    let rows: Vec<Vec<String>> = s
        .variants
        .iter()
        .enumerate()
        .map(|(v, (assignments, _))| {
            assignments
                .iter()
                .map(|(_, x)| crate::analysis::sweep::value_text(x))
                .chain(
                    figures
                        .iter()
                        .map(|f| s.estimate(v, f).map_or_else(|| "—".into(), |e| pm(&e))),
                )
                .collect()
        })
        .collect();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "{}", line(&headers));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    out
}

/// The sweep as CSV: the `--set` paths, then per figure its mean and `_ci95` half-width (empty
/// when unknown), one row per variant.
#[must_use]
pub fn sweep_csv(s: &Sweep, figures: &[String]) -> String {
    let mut out = String::new();
    let mut header: Vec<String> = s.paths.iter().map(|p| csv_field(p)).collect();
    for f in figures {
        header.push(csv_field(f));
        header.push(csv_field(&format!("{f}_ci95")));
    }
    let _ = writeln!(out, "{}", header.join(","));
    for (v, (assignments, _)) in s.variants.iter().enumerate() {
        let mut row: Vec<String> = assignments
            .iter()
            .map(|(_, x)| csv_field(&crate::analysis::sweep::value_text(x)))
            .collect();
        for f in figures {
            let e = s.estimate(v, f);
            row.push(e.map(|e| e.mean.to_string()).unwrap_or_default());
            row.push(
                e.and_then(|e| e.ci95_half_width)
                    .map(|h| h.to_string())
                    .unwrap_or_default(),
            );
        }
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_are_singular_for_one_and_hissing_nouns_take_es() {
        assert_eq!(plural(1, "producer"), "1 producer");
        assert_eq!(plural(0, "producer"), "0 producers");
        assert_eq!(plural(1, "bus"), "1 bus");
        assert_eq!(plural(2, "bus"), "2 buses");
        assert_eq!(plural(3, "batch"), "3 batches");
        assert_eq!(plural(1_200, "state machine"), "1,200 state machines");
    }

    #[test]
    fn the_inventory_counts_every_kind_present_and_only_those() {
        let s: crate::model::Scenario = serde_json::from_str(
            r#"{ "name": "x", "duration": "1m",
                 "producers": [ { "id": "p", "to": "t", "rate": 1 } ],
                 "queues": [ { "id": "q1" }, { "id": "q2" } ],
                 "consumers": [ { "id": "c", "from": "q1", "service_time": { "constant": "1ms" } } ],
                 "topics": [ { "id": "t", "subscriptions": [ { "to": "q1" }, { "to": "q2" } ] } ],
                 "state_machines": [ { "id": "m", "definition": { "StartAt": "S", "States": { "S": { "Type": "Succeed" } } } } ] }"#,
        )
        .unwrap();
        assert_eq!(
            inventory(&s),
            "1 producer, 2 queues, 1 consumer, 1 topic (2 subscriptions), 1 state machine"
        );
        let empty: crate::model::Scenario =
            serde_json::from_str(r#"{ "name": "x", "duration": "1m" }"#).unwrap();
        assert_eq!(inventory(&empty), "no components");
    }

    #[test]
    fn human_units() {
        assert_eq!(human_secs(0.000_85), "850µs");
        assert_eq!(human_secs(0.0123), "12.3ms");
        assert_eq!(human_secs(1.25), "1.25s");
        assert_eq!(human_secs(200.0), "3m 20s");
        assert_eq!(
            human_secs(419.96),
            "7m 00s",
            "the whole is rounded, never 6m 60s"
        );
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(0.066_87), "0.06687");
        assert_eq!(sig(15.0234), "15.02");
        assert_eq!(sig(1234.4), "1234");
        assert_eq!(sig(0.0), "0");
        assert_eq!(sig(f64::NAN), "—");
        let e = Estimate {
            mean: 1.5,
            ci95_half_width: Some(0.25),
            n: 3,
        };
        assert_eq!(pm(&e), "1.500 ± 0.2500");
    }
}
