//! What the plots draw, apart from how: the lines chosen per tab ([`Trace`]), Little's law
//! pairs per bucket, the per-pixel-column decimation that keeps spikes and gaps, the y units and
//! the number formats of axes and hover text. Pure functions of [`SeriesData`], no egui.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use egui_plot::LineStyle;

use crate::metrics::{Metric, SeriesData};

/// The unit of a plot's y values, for the axis label and hover text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    PerSecond,
    Count,
    Seconds,
    Percent,
    /// Busy handler slots.
    Slots,
    /// L and λW of Little's law (messages).
    Little,
}

impl Unit {
    pub(super) fn axis_label(self) -> &'static str {
        match self {
            Unit::PerSecond => "events/s",
            Unit::Count => "messages",
            Unit::Seconds => "seconds",
            Unit::Percent => "utilization (%)",
            Unit::Slots => "busy slots",
            Unit::Little => "L and λW (messages)",
        }
    }

    pub(super) fn format(self, y: f64) -> String {
        match self {
            Unit::PerSecond => format!("{} /s", short_number(y)),
            Unit::Count | Unit::Little => short_number(y),
            Unit::Slots => format!("{} busy", short_number(y)),
            Unit::Seconds => format_seconds(y),
            Unit::Percent => format!("{y:.1} %"),
        }
    }
}

/// One line: one node's values of one quantity.
pub(super) struct Trace<'a> {
    /// Index into [`SeriesData::nodes`].
    pub(super) node: usize,
    /// What the line shows, after the node name in the hover text (`in`, `p99`, …).
    pub(super) what: &'static str,
    /// One value per bucket.
    pub(super) values: Cow<'a, [Option<f64>]>,
    pub(super) style: LineStyle,
}

/// One trace per node that reports `metric`.
pub(super) fn traces<'a>(
    series: &'a SeriesData,
    metric: Metric,
    what: &'static str,
    style: LineStyle,
) -> Vec<Trace<'a>> {
    traces_of(series, metric, what, style).collect()
}

pub(super) fn traces_of<'a>(
    series: &'a SeriesData,
    metric: Metric,
    what: &'static str,
    style: LineStyle,
) -> impl Iterator<Item = Trace<'a>> {
    series
        .series
        .iter()
        .filter(move |s| s.metric == metric && s.node < series.nodes.len())
        .map(move |s| Trace {
            node: s.node,
            what,
            values: Cow::Borrowed(&s.values),
            style,
        })
}

/// One node's Little's law series.
pub(super) struct LittlePair<'a> {
    /// Index into [`SeriesData::nodes`].
    pub(super) node: usize,
    /// L per bucket: the time-average number in system.
    pub(super) l: Cow<'a, [Option<f64>]>,
    /// λW per bucket: arrivals per second × mean latency.
    pub(super) lambda_w: Vec<Option<f64>>,
}

/// Per node that measures time in system: L and λW per bucket. Within one bucket the two
/// differ by the boundary effect of messages in flight across its edges.
///
/// The engine records each quantity where it happens: a queue records its backlog (waiting + in
/// flight), the consumer reading it records arrivals and latency. So a consumer's L is the
/// backlog of the queue it reads (`reads`: consumer name → source name); a consumer reading a
/// stream holds the records behind plus those in service (lag + busy); a directly invoked
/// consumer has no line, so L is its busy slots. A node that records all three itself is used
/// as is.
pub(super) fn little_pairs<'a>(
    series: &'a SeriesData,
    reads: &BTreeMap<String, String>,
) -> Vec<LittlePair<'a>> {
    let index_of = |name: &str| series.nodes.iter().position(|n| n == name);
    (0..series.nodes.len())
        .filter_map(|node| {
            let lambda = series.get(node, Metric::Arrivals)?;
            let w = series.get(node, Metric::LatencyMean)?;
            let l: Cow<'a, [Option<f64>]> = if let Some(own) = series.get(node, Metric::Backlog) {
                Cow::Borrowed(&own.values)
            } else {
                let source = reads.get(&series.nodes[node]).and_then(|s| index_of(s));
                let busy = series.get(node, Metric::Busy);
                match source {
                    Some(q) if series.get(q, Metric::Backlog).is_some() => {
                        Cow::Borrowed(&series.get(q, Metric::Backlog)?.values)
                    }
                    Some(q) if series.get(q, Metric::Lag).is_some() => {
                        let lag = &series.get(q, Metric::Lag)?.values;
                        let busy = &busy?.values;
                        Cow::Owned(
                            lag.iter()
                                .zip(busy)
                                .map(|(a, b)| Some((*a)? + (*b)?))
                                .collect(),
                        )
                    }
                    Some(_) => return None,
                    None => Cow::Borrowed(&busy?.values),
                }
            };
            let lambda_w = lambda
                .values
                .iter()
                .zip(&w.values)
                .map(|(a, w)| Some((*a)? * (*w)?))
                .collect();
            Some(LittlePair { node, l, lambda_w })
        })
        .collect()
}

/// Nodes with at least one trace, in node order.
pub(super) fn plotted_nodes(traces: &[Trace<'_>]) -> Vec<usize> {
    let set: BTreeSet<usize> = traces.iter().map(|t| t.node).collect();
    set.into_iter().collect()
}

/// End of the recorded data, seconds.
pub(super) fn end_time(series: &SeriesData) -> f64 {
    series
        .times_s
        .last()
        .map_or(0.0, |t| t + series.bucket_s.max(0.0))
}

/// The bucket containing time `t`.
pub(super) fn bucket_at(series: &SeriesData, t: f64) -> Option<usize> {
    let i = series.times_s.partition_point(|start| *start <= t);
    i.checked_sub(1)
}

/// Reduces one series to at most two points per pixel column — the minimum and the maximum, in
/// time order — so drawing costs the same whatever the run length and a spike one bucket wide
/// still reaches its full height. Columns are `dx` wide starting at `x0`; with a `dx` that is
/// not a positive finite number every point is kept. A `None` (or non-finite) value ends a run:
/// each returned run is drawn as its own line, leaving a gap.
pub(super) fn decimate(xs: &[f64], values: &[Option<f64>], x0: f64, dx: f64) -> Vec<Vec<[f64; 2]>> {
    let usable = dx.is_finite() && dx > 0.0;
    let column = |x: f64| {
        if usable {
            ((x - x0) / dx).floor()
        } else {
            f64::NAN
        }
    };
    let value = |i: usize| values.get(i).copied().flatten().filter(|v| v.is_finite());
    let n = xs.len().min(values.len());
    let mut runs = Vec::new();
    let mut run: Vec<[f64; 2]> = Vec::new();
    let mut i = 0;
    while i < n {
        let Some(first) = value(i) else {
            if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
            i += 1;
            continue;
        };
        // The column holding point i: every following point in it, up to a gap.
        let col = column(xs[i]);
        let (mut lo, mut hi) = ((i, first), (i, first));
        let mut j = i + 1;
        while j < n && usable && column(xs[j]) == col {
            let Some(v) = value(j) else { break };
            if v < lo.1 {
                lo = (j, v);
            }
            if v > hi.1 {
                hi = (j, v);
            }
            j += 1;
        }
        if j - i <= 2 {
            run.extend((i..j).filter_map(|k| Some([xs[k], value(k)?])));
        } else {
            let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            run.push([xs[a.0], a.1]);
            if b.0 != a.0 {
                run.push([xs[b.0], b.1]);
            }
        }
        i = j;
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// A number with about three significant digits.
pub(super) fn short_number(y: f64) -> String {
    let a = y.abs();
    if a >= 1000.0 || a == 0.0 {
        format!("{y:.0}")
    } else if a >= 100.0 {
        format!("{y:.1}")
    } else {
        format!("{y:.3}")
    }
}

/// Seconds in the unit that reads best.
pub(super) fn format_seconds(s: f64) -> String {
    let a = s.abs();
    if a == 0.0 {
        "0 s".to_owned()
    } else if a < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if a < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}
