//! The plots themselves, as data: a [`Figure`] is one plot (its name, title, unit, lines and
//! reference line), built from a run's series by one function per plot. The app's plot tabs and
//! the exported files (`run --plots`, File ▸ Export) draw the same figures, so a plot looks the
//! same wherever it is seen.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::data::{Dash, LittlePair, Trace, Unit, little_pairs, traces, traces_of};
use crate::metrics::{Metric, SeriesData};

/// The error metrics the "DLQ & errors" plot can show, with their labels.
pub const ERROR_METRICS: [(Metric, &str); 6] = [
    (Metric::Failures, "Failures"),
    (Metric::Retries, "Retries"),
    (Metric::Throttles, "Throttles"),
    (Metric::DeadLettered, "Dead-lettered"),
    (Metric::Rejected, "Rejected"),
    (Metric::Expired, "Expired"),
];

/// The latency quantiles, their labels, and the dash each is drawn with.
pub const QUANTILES: [(Metric, &str, Dash); 3] = [
    (Metric::LatencyP50, "p50", Dash::Solid),
    (Metric::LatencyP95, "p95", Dash::Dashed),
    (Metric::LatencyP99, "p99", Dash::Dotted),
];

/// What the series do not carry and some plots need, taken from the scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlotContext {
    /// Slots per consumer (its `concurrency`): utilization is busy / concurrency.
    pub concurrency: BTreeMap<String, u32>,
    /// Consumer → the queue or stream it reads: Little's law joins the queue's backlog with the
    /// consumer's arrivals and latency.
    pub reads: BTreeMap<String, String>,
}

impl PlotContext {
    /// The context of a scenario's consumers.
    #[must_use]
    pub fn of(scenario: &crate::model::Scenario) -> PlotContext {
        PlotContext {
            concurrency: scenario
                .consumers
                .iter()
                .filter(|c| c.concurrency > 0)
                .map(|c| (c.id.clone(), c.concurrency))
                .collect(),
            reads: scenario
                .consumers
                .iter()
                .filter_map(|c| Some((c.id.clone(), c.from.clone()?)))
                .collect(),
        }
    }
}

/// One plot of lines against simulated time.
#[derive(Debug, Clone)]
pub struct Figure<'a> {
    /// A short name, unique among the figures, used for file names (`backlog` → `backlog.png`).
    pub name: &'static str,
    /// The plot's title.
    pub title: String,
    /// The y values' unit (axis label, number format).
    pub unit: Unit,
    /// The lines, grouped by node in the legend.
    pub traces: Vec<Trace<'a>>,
    /// A horizontal reference line (value, label), such as 100 % utilization.
    pub reference: Option<(f64, &'static str)>,
    /// Write each line's `what` at its last point (Little's law: which line is L, which λW).
    pub label_ends: bool,
    /// A remark about what is shown instead of what was asked (no concurrency known).
    pub note: Option<&'static str>,
}

impl<'a> Figure<'a> {
    fn new(name: &'static str, title: &str, unit: Unit, traces: Vec<Trace<'a>>) -> Self {
        Figure {
            name,
            title: title.to_owned(),
            unit,
            traces,
            reference: None,
            label_ends: false,
            note: None,
        }
    }

    /// How the lines are told apart, for a caption (`solid: arrivals (in) · dashed: …`).
    #[must_use]
    pub fn key(&self) -> String {
        let mut seen: Vec<(Dash, &str)> = Vec::new();
        for t in &self.traces {
            if !seen.iter().any(|(d, _)| *d == t.dash) {
                seen.push((t.dash, t.what));
            }
        }
        seen.iter()
            .map(|(d, what)| {
                let dash = match d {
                    Dash::Solid => "solid",
                    Dash::Dashed => "dashed",
                    Dash::Dotted => "dotted",
                };
                format!("{dash}: {what}")
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// Arrivals (in, solid) and completions (out, dashed) per second.
#[must_use]
pub fn throughput(series: &SeriesData, now_s: Option<f64>) -> Figure<'_> {
    let mut t = traces(series, Metric::Arrivals, "in", Dash::Solid, now_s);
    t.extend(traces_of(
        series,
        Metric::Completions,
        "out",
        Dash::Dashed,
        now_s,
    ));
    Figure::new("throughput", "Throughput", Unit::PerSecond, t)
}

/// Backlog (waiting + in flight, solid) and stream lag (records behind, dashed).
#[must_use]
pub fn backlog(series: &SeriesData, now_s: Option<f64>) -> Figure<'_> {
    let mut t = traces(series, Metric::Backlog, "backlog", Dash::Solid, now_s);
    t.extend(traces_of(series, Metric::Lag, "lag", Dash::Dashed, now_s));
    Figure::new("backlog", "Backlog & lag", Unit::Count, t)
}

/// The age of the oldest waiting message or record.
#[must_use]
pub fn lag_age(series: &SeriesData, now_s: Option<f64>) -> Figure<'_> {
    let t = traces(
        series,
        Metric::LagS,
        "oldest message age",
        Dash::Solid,
        now_s,
    );
    Figure::new("lag_s", "Oldest message age", Unit::Seconds, t)
}

/// The latency quantiles switched on in `shown` (p50, p95, p99).
#[must_use]
pub fn latency(series: &SeriesData, shown: [bool; 3], now_s: Option<f64>) -> Figure<'_> {
    let mut t = Vec::new();
    for (on, (metric, what, dash)) in shown.into_iter().zip(QUANTILES) {
        if on {
            t.extend(traces_of(series, metric, what, dash, now_s));
        }
    }
    Figure::new("latency", "Latency", Unit::Seconds, t)
}

/// Little's law over time: L (solid) against λW (dashed) per node, each line labelled.
#[must_use]
pub fn little<'a>(series: &'a SeriesData, ctx: &PlotContext, now_s: Option<f64>) -> Figure<'a> {
    little_of(little_pairs(series, &ctx.reads, now_s))
}

/// [`little`] from pairs already computed (the app's scatter view uses the same pairs).
#[must_use]
pub fn little_of(pairs: Vec<LittlePair<'_>>) -> Figure<'_> {
    let mut t = Vec::new();
    for LittlePair { node, l, lambda_w } in pairs {
        t.push(Trace {
            node,
            what: "L",
            values: l,
            dash: Dash::Solid,
        });
        t.push(Trace {
            node,
            what: "λW",
            values: Cow::Owned(lambda_w),
            dash: Dash::Dashed,
        });
    }
    let mut f = Figure::new("little", "Little's law", Unit::Little, t);
    f.label_ends = true;
    f
}

/// Dead-letter queue depth.
#[must_use]
pub fn dlq(series: &SeriesData, now_s: Option<f64>) -> Figure<'_> {
    let t = traces(series, Metric::DlqDepth, "DLQ depth", Dash::Solid, now_s);
    Figure::new("dlq", "DLQ depth", Unit::Count, t)
}

/// One error rate ([`ERROR_METRICS`]) per second.
#[must_use]
pub fn errors(series: &SeriesData, metric: Metric, now_s: Option<f64>) -> Figure<'_> {
    let name = ERROR_METRICS
        .iter()
        .find(|(m, _)| *m == metric)
        .map_or("errors", |(_, n)| n);
    let t = traces(series, metric, name, Dash::Solid, now_s);
    Figure::new("errors", name, Unit::PerSecond, t)
}

/// Busy slots per node.
#[must_use]
pub fn busy(series: &SeriesData, now_s: Option<f64>) -> Figure<'_> {
    let t = traces(series, Metric::Busy, "busy", Dash::Solid, now_s);
    Figure::new("busy", "Busy slots", Unit::Slots, t)
}

/// Busy slots / concurrency, percent, with the 100 % line; busy slots (and a note saying so)
/// when no plotted node's concurrency is known.
#[must_use]
pub fn utilization<'a>(
    series: &'a SeriesData,
    ctx: &PlotContext,
    now_s: Option<f64>,
) -> Figure<'a> {
    let known: Vec<Trace<'_>> = traces_of(series, Metric::Busy, "busy", Dash::Solid, now_s)
        .filter_map(|t| {
            let c = f64::from(*ctx.concurrency.get(&series.nodes[t.node])?);
            let percent = t.values.iter().map(|v| v.map(|b| 100.0 * b / c)).collect();
            Some(Trace {
                what: "utilization",
                values: Cow::Owned(percent),
                ..t
            })
        })
        .collect();
    let any_busy = series.series.iter().any(|s| s.metric == Metric::Busy);
    if known.is_empty() && any_busy {
        let mut f = busy(series, now_s);
        f.name = "utilization";
        f.note = Some("Concurrency unknown: showing busy slots.");
        return f;
    }
    let mut f = Figure::new("utilization", "Utilization", Unit::Percent, known);
    f.reference = Some((100.0, "100 % busy"));
    f
}

/// Every plot the app's tabs show with their default options, in tab order, leaving out those
/// no node reports (a scenario without dead-letter queues has no DLQ plot): what
/// `run --plots` writes.
#[must_use]
pub fn standard<'a>(series: &'a SeriesData, ctx: &PlotContext) -> Vec<Figure<'a>> {
    [
        throughput(series, None),
        backlog(series, None),
        lag_age(series, None),
        latency(series, [true, false, true], None),
        little(series, ctx, None),
        dlq(series, None),
        errors(series, Metric::Failures, None),
        utilization(series, ctx, None),
    ]
    .into_iter()
    .filter(|f| !f.traces.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Series;

    fn constant(node: usize, metric: Metric, v: f64) -> Series {
        Series {
            node,
            metric,
            values: vec![Some(v); 4],
        }
    }

    fn data() -> SeriesData {
        SeriesData {
            bucket_s: 1.0,
            times_s: vec![0.0, 1.0, 2.0, 3.0],
            nodes: vec!["q".into(), "worker".into()],
            series: vec![
                constant(0, Metric::Arrivals, 10.0),
                constant(0, Metric::Backlog, 2.0),
                constant(1, Metric::Arrivals, 10.0),
                constant(1, Metric::Completions, 10.0),
                constant(1, Metric::Busy, 1.5),
                constant(1, Metric::LatencyMean, 0.2),
                constant(1, Metric::LatencyP50, 0.1),
                constant(1, Metric::LatencyP99, 0.9),
                constant(1, Metric::Failures, 0.5),
            ],
        }
    }

    #[test]
    fn standard_figures_leave_out_what_no_node_reports() {
        let d = data();
        let ctx = PlotContext {
            concurrency: BTreeMap::from([("worker".into(), 3)]),
            reads: BTreeMap::from([("worker".into(), "q".into())]),
        };
        let names: Vec<&str> = standard(&d, &ctx).iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "throughput",
                "backlog",
                "latency",
                "little",
                "errors",
                "utilization"
            ]
        );
        let all = standard(&d, &ctx);
        let util = all.iter().find(|f| f.name == "utilization").unwrap();
        assert_eq!(util.unit, Unit::Percent);
        assert_eq!(util.traces[0].values[0], Some(50.0), "1.5 busy of 3 slots");
        let little = all.iter().find(|f| f.name == "little").unwrap();
        let whats: Vec<&str> = little.traces.iter().map(|t| t.what).collect();
        assert_eq!(whats, ["L", "λW"]);
        assert!(little.label_ends);
        assert_eq!(
            little.traces[0].values[0],
            Some(2.0),
            "L: the queue's backlog"
        );
        assert!(
            (little.traces[1].values[0].unwrap() - 2.0).abs() < 1e-12,
            "10/s × 0.2 s"
        );
    }

    #[test]
    fn utilization_without_concurrency_shows_busy_slots_and_says_so() {
        let d = data();
        let f = utilization(&d, &PlotContext::default(), None);
        assert_eq!(f.unit, Unit::Slots);
        assert_eq!(f.note, Some("Concurrency unknown: showing busy slots."));
        assert_eq!(f.traces[0].values[0], Some(1.5));
    }

    #[test]
    fn the_key_names_each_dash_once() {
        let d = data();
        assert_eq!(throughput(&d, None).key(), "solid: in · dashed: out");
        assert_eq!(
            latency(&d, [true, true, true], None).key(),
            "solid: p50 · dotted: p99",
            "no node reports p95"
        );
    }
}
