//! What the plots draw, apart from how: the lines chosen per plot ([`Trace`]), Little's law
//! pairs per bucket, the live-edge rule for a bucket still being filled, the per-pixel-column
//! decimation that keeps spikes and gaps, node colours, the y units and the number formats of
//! axes and hover text. Pure functions of [`SeriesData`]: no egui, no plotters.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::metrics::{Metric, MetricKind, SeriesData};

/// The unit of a plot's y values, for the axis label and hover text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Events per second.
    PerSecond,
    /// Messages.
    Count,
    /// Seconds.
    Seconds,
    /// Busy slots / concurrency, percent.
    Percent,
    /// Busy handler slots.
    Slots,
    /// L and λW of Little's law (messages).
    Little,
}

impl Unit {
    /// The y axis label.
    #[must_use]
    pub fn axis_label(self) -> &'static str {
        match self {
            Unit::PerSecond => "events/s",
            Unit::Count => "messages",
            Unit::Seconds => "seconds",
            Unit::Percent => "utilization (%)",
            Unit::Slots => "busy slots",
            Unit::Little => "L and λW (messages)",
        }
    }

    /// A value in this unit, for hover text and tick labels.
    #[must_use]
    pub fn format(self, y: f64) -> String {
        match self {
            Unit::PerSecond => format!("{} /s", short_number(y)),
            Unit::Count => format!("{} messages", short_number(y)),
            Unit::Little => short_number(y),
            Unit::Slots => format!("{} busy", short_number(y)),
            Unit::Seconds => format_seconds(y),
            Unit::Percent => format!("{y:.1} %"),
        }
    }
}

/// How a line is drawn: the app and the exported files use the same three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// A plain line.
    Solid,
    /// Dashes [`DASH_LENGTH`] long.
    Dashed,
    /// Dots [`DOT_SPACING`] apart.
    Dotted,
}

/// Length of a dash, pixels.
pub const DASH_LENGTH: f32 = 8.0;
/// Distance between dots, pixels.
pub const DOT_SPACING: f32 = 5.0;

/// One line: one node's values of one quantity.
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    /// Index into [`SeriesData::nodes`].
    pub node: usize,
    /// What the line shows, after the node name in the hover text (`in`, `p99`, …).
    pub what: &'static str,
    /// One value per bucket, from the first; may stop before the last bucket (the live edge).
    pub values: Cow<'a, [Option<f64>]>,
    /// Solid, dashed or dotted.
    pub dash: Dash,
}

/// How many buckets of `metric` to draw while a run is at `now_s` (`None`: the run is over and
/// every bucket is final).
///
/// The bucket at the live edge covers only the simulated time elapsed in it. A level's mean over
/// that part (backlog, busy slots, DLQ depth, lag) is the level itself and is drawn. A rate, a
/// largest sample or a percentile over a part bucket rests on a fraction of the events a full
/// bucket holds: 120 events/s over the first 5 ms of a bucket is 0.6 events, so the line would
/// drop to 0 (or jump to 200/s) at the right edge on almost every frame. Those stop at the last
/// complete bucket instead.
#[must_use]
pub fn drawn_buckets(series: &SeriesData, metric: Metric, now_s: Option<f64>) -> usize {
    let n = series.times_s.len();
    let Some(now_s) = now_s else { return n };
    if metric.kind() == MetricKind::Level || n == 0 {
        return n;
    }
    let last_end = series.times_s[n - 1] + series.bucket_s;
    // Bucket edges are whole nanoseconds, printed as f64 seconds: compare with a nanosecond's
    // tolerance so a bucket that ended exactly now counts as complete.
    if now_s + 1e-9 >= last_end { n } else { n - 1 }
}

/// One trace per node that reports `metric`, cut at the live edge ([`drawn_buckets`]).
pub fn traces_of<'a>(
    series: &'a SeriesData,
    metric: Metric,
    what: &'static str,
    dash: Dash,
    now_s: Option<f64>,
) -> impl Iterator<Item = Trace<'a>> {
    let drawn = drawn_buckets(series, metric, now_s);
    series
        .series
        .iter()
        .filter(move |s| s.metric == metric && s.node < series.nodes.len())
        .map(move |s| Trace {
            node: s.node,
            what,
            values: Cow::Borrowed(&s.values[..drawn.min(s.values.len())]),
            dash,
        })
}

/// [`traces_of`], collected.
#[must_use]
pub fn traces<'a>(
    series: &'a SeriesData,
    metric: Metric,
    what: &'static str,
    dash: Dash,
    now_s: Option<f64>,
) -> Vec<Trace<'a>> {
    traces_of(series, metric, what, dash, now_s).collect()
}

/// One node's Little's law series.
#[derive(Debug, Clone)]
pub struct LittlePair<'a> {
    /// Index into [`SeriesData::nodes`].
    pub node: usize,
    /// L per bucket: the time-average number in system.
    pub l: Cow<'a, [Option<f64>]>,
    /// λW per bucket: arrivals per second × mean latency (cut at the live edge, as rates are).
    pub lambda_w: Vec<Option<f64>>,
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
#[must_use]
pub fn little_pairs<'a>(
    series: &'a SeriesData,
    reads: &BTreeMap<String, String>,
    now_s: Option<f64>,
) -> Vec<LittlePair<'a>> {
    let index_of = |name: &str| series.nodes.iter().position(|n| n == name);
    let drawn = drawn_buckets(series, Metric::Arrivals, now_s);
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
                .take(drawn)
                .map(|(a, w)| Some((*a)? * (*w)?))
                .collect();
            Some(LittlePair { node, l, lambda_w })
        })
        .collect()
}

/// Nodes with at least one trace, in node order.
#[must_use]
pub fn plotted_nodes(traces: &[Trace<'_>]) -> Vec<usize> {
    let set: BTreeSet<usize> = traces.iter().map(|t| t.node).collect();
    set.into_iter().collect()
}

/// End of the recorded data, seconds.
#[must_use]
pub fn end_time(series: &SeriesData) -> f64 {
    series
        .times_s
        .last()
        .map_or(0.0, |t| t + series.bucket_s.max(0.0))
}

/// The bucket containing time `t`.
#[must_use]
pub fn bucket_at(series: &SeriesData, t: f64) -> Option<usize> {
    let i = series.times_s.partition_point(|start| *start <= t);
    i.checked_sub(1)
}

/// Where each bucket's value is drawn: the middle of the bucket, seconds.
#[must_use]
pub fn bucket_centres(series: &SeriesData) -> Vec<f64> {
    let half_bucket = series.bucket_s / 2.0;
    series.times_s.iter().map(|t| t + half_bucket).collect()
}

/// Reduces one series to at most two points per pixel column — the minimum and the maximum, in
/// time order — so drawing costs the same whatever the run length and a spike one bucket wide
/// still reaches its full height. Columns are `dx` wide starting at `x0`; with a `dx` that is
/// not a positive finite number every point is kept. A `None` (or non-finite) value ends a run:
/// each returned run is drawn as its own line, leaving a gap.
#[must_use]
pub fn decimate(xs: &[f64], values: &[Option<f64>], x0: f64, dx: f64) -> Vec<Vec<[f64; 2]>> {
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

/// Drops the points of a run (time-ordered, as [`decimate`] returns them) that the line drawn
/// without them passes within `tol` of, measured vertically in plot units. The app passes half a
/// pixel, so the drawn line looks the same while a flat or straight stretch costs two points
/// instead of two per pixel column (the throughput of a steady week is hundreds of thousands of
/// triangles otherwise). Each kept point starts a sleeve: the range of slopes from it that stay
/// within `tol` of every point skipped so far; a point outside the range ends the stretch at the
/// point before it. A non-positive or non-finite `tol`, or x not increasing, keeps every point.
#[must_use]
pub fn simplify(run: &[[f64; 2]], tol: f64) -> Vec<[f64; 2]> {
    if run.len() <= 2 || !(tol.is_finite() && tol > 0.0) {
        return run.to_vec();
    }
    let mut out = Vec::with_capacity(run.len().min(64));
    let mut anchor = run[0];
    out.push(anchor);
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut last = anchor;
    for &p in &run[1..] {
        let dx = p[0] - last[0];
        if dx.is_nan() || dx <= 0.0 {
            return run.to_vec();
        }
        let run_x = p[0] - anchor[0];
        let slope = (p[1] - anchor[1]) / run_x;
        if slope < lo || slope > hi {
            // No line from the anchor reaches p and passes near every skipped point.
            out.push(last);
            anchor = last;
            let run_x = p[0] - anchor[0];
            lo = (p[1] - tol - anchor[1]) / run_x;
            hi = (p[1] + tol - anchor[1]) / run_x;
        } else {
            lo = lo.max((p[1] - tol - anchor[1]) / run_x);
            hi = hi.min((p[1] + tol - anchor[1]) / run_x);
        }
        last = p;
    }
    out.push(last);
    out
}

/// A distinct, stable colour per node index, as sRGB bytes: golden-ratio hue steps (as
/// `egui_plot` picks its own colours), saturation 0.75, value 0.85, in linear light and then
/// encoded to sRGB exactly as egui's `Hsva` → `Color32` does, so the app and the exported files
/// agree to the byte.
#[must_use]
pub fn node_rgb(node: usize) -> [u8; 3] {
    let golden = std::f32::consts::GOLDEN_RATIO - 1.0;
    // Indices are small; the fraction is all that matters.
    let h = (node as f32 * golden).fract();
    let (s, v) = (0.75_f32, 0.85_f32);
    let f = h * 6.0 - (h * 6.0).floor();
    let p = v * (1.0 - s);
    let q = v * (1.0 - f * s);
    let t = v * (1.0 - (1.0 - f) * s);
    let rgb = match (h * 6.0).floor() as i32 % 6 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    };
    rgb.map(srgb_u8)
}

/// The sRGB transfer function on a linear value in 0..=1, rounded to a byte.
fn srgb_u8(l: f32) -> u8 {
    if l <= 0.0 {
        0
    } else if l <= 0.003_130_8 {
        (3294.6 * l).round() as u8
    } else if l <= 1.0 {
        (269.025 * l.powf(1.0 / 2.4) - 14.025).round() as u8
    } else {
        255
    }
}

/// A number with about three significant digits.
#[must_use]
pub fn short_number(y: f64) -> String {
    let a = y.abs();
    if a >= 1000.0 || a == 0.0 {
        format!("{y:.0}")
    } else if a >= 100.0 {
        format!("{y:.1}")
    } else {
        format!("{y:.3}")
    }
}

/// A tick label: whole numbers without decimals, others with at most three significant digits
/// and no trailing zeros (`250`, `0.25`, `1.5`).
#[must_use]
pub fn tick_number(y: f64) -> String {
    if y.fract() == 0.0 || y.abs() >= 1000.0 {
        return format!("{y:.0}");
    }
    let text = short_number(y);
    let text = text.trim_end_matches('0');
    text.trim_end_matches('.').to_owned()
}

/// A tick label in a unit: [`tick_number`] with the unit's suffix.
#[must_use]
pub fn tick_in(unit: Unit, y: f64) -> String {
    match unit {
        Unit::PerSecond => format!("{} /s", tick_number(y)),
        Unit::Seconds if y != 0.0 && y.abs() < 1.0 => format!("{} ms", tick_number(y * 1e3)),
        Unit::Seconds => format!("{} s", tick_number(y)),
        Unit::Percent => format!("{} %", tick_number(y)),
        Unit::Count | Unit::Little | Unit::Slots => tick_number(y),
    }
}

/// The point of a line's runs with the largest value: where a label is written.
#[must_use]
pub fn peak(runs: &[Vec<[f64; 2]>]) -> Option<[f64; 2]> {
    runs.iter()
        .flatten()
        .copied()
        .fold(None, |best: Option<[f64; 2]>, p| match best {
            Some(b) if b[1] >= p[1] => Some(b),
            _ => Some(p),
        })
}

/// Seconds in the unit that reads best.
#[must_use]
pub fn format_seconds(s: f64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Series;

    /// One node, ten one-second buckets of arrivals (a rate) and backlog (a level).
    fn ten_buckets() -> SeriesData {
        SeriesData {
            bucket_s: 1.0,
            times_s: (0..10).map(f64::from).collect(),
            nodes: vec!["q".into()],
            series: vec![
                Series {
                    node: 0,
                    metric: Metric::Arrivals,
                    values: vec![Some(120.0); 10],
                },
                Series {
                    node: 0,
                    metric: Metric::Backlog,
                    values: vec![Some(3.0); 10],
                },
                Series {
                    node: 0,
                    metric: Metric::LatencyMean,
                    values: vec![Some(0.025); 10],
                },
            ],
        }
    }

    #[test]
    fn the_live_edge_drops_an_incomplete_rate_bucket_and_keeps_levels() {
        let d = ten_buckets();
        // 9.005 s: the tenth bucket (9 s – 10 s) has 5 ms of its 1 s behind it.
        let now = Some(9.005);
        assert_eq!(drawn_buckets(&d, Metric::Arrivals, now), 9);
        assert_eq!(drawn_buckets(&d, Metric::LatencyP99, now), 9);
        assert_eq!(drawn_buckets(&d, Metric::LagS, now), 9);
        assert_eq!(
            drawn_buckets(&d, Metric::Backlog, now),
            10,
            "a level is exact"
        );
        // At 10 s the tenth bucket is complete; a finished run draws everything.
        assert_eq!(drawn_buckets(&d, Metric::Arrivals, Some(10.0)), 10);
        assert_eq!(drawn_buckets(&d, Metric::Arrivals, None), 10);
        let rates = traces(&d, Metric::Arrivals, "in", Dash::Solid, now);
        assert_eq!(rates[0].values.len(), 9);
        let levels = traces(&d, Metric::Backlog, "backlog", Dash::Solid, now);
        assert_eq!(levels[0].values.len(), 10);
        // λW is a rate times a mean latency: cut the same way, L (a level) is not.
        let pairs = little_pairs(&d, &BTreeMap::new(), now);
        assert_eq!(pairs[0].lambda_w.len(), 9);
        assert_eq!(pairs[0].l.len(), 10);
        assert!(
            (pairs[0].lambda_w[0].unwrap() - 3.0).abs() < 1e-12,
            "120/s × 25 ms"
        );
    }

    #[test]
    fn the_live_edge_of_an_empty_series_draws_nothing() {
        let mut d = ten_buckets();
        d.times_s.clear();
        for s in &mut d.series {
            s.values.clear();
        }
        assert_eq!(drawn_buckets(&d, Metric::Arrivals, Some(0.5)), 0);
    }

    #[test]
    fn tick_labels_drop_trailing_zeros() {
        assert_eq!(tick_number(100.0), "100");
        assert_eq!(tick_number(0.25), "0.25");
        assert_eq!(tick_number(1.5), "1.5");
        assert_eq!(tick_number(12_000.0), "12000");
        assert_eq!(tick_in(Unit::Seconds, 0.05), "50 ms");
        assert_eq!(tick_in(Unit::PerSecond, 200.0), "200 /s");
        assert_eq!(
            peak(&[vec![[0.0, 1.0], [1.0, 5.0]], vec![[2.0, 3.0]]]),
            Some([1.0, 5.0])
        );
        assert_eq!(peak(&[]), None);
    }

    #[test]
    fn node_colours_are_distinct_and_stable() {
        let colours: BTreeSet<[u8; 3]> = (0..12).map(node_rgb).collect();
        assert_eq!(colours.len(), 12);
        // Node 0 has hue 0: pure value in red, v·(1 − s) in green and blue, sRGB-encoded.
        let encode = |l: f32| (269.025 * l.powf(1.0 / 2.4) - 14.025).round() as u8;
        assert_eq!(node_rgb(0), [encode(0.85), encode(0.2125), encode(0.2125)]);
    }

    /// The vertical distance from (x, y) to the polyline `line` (x increasing) at that x.
    fn distance_at(line: &[[f64; 2]], [x, y]: [f64; 2]) -> f64 {
        let i = line.partition_point(|p| p[0] < x).clamp(1, line.len() - 1);
        let ([x0, y0], [x1, y1]) = (line[i - 1], line[i]);
        let at = if x1 == x0 {
            y0
        } else {
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        };
        (at - y).abs()
    }

    #[test]
    fn simplify_keeps_every_point_within_tolerance_and_the_spikes() {
        // A slow sine with a spike and a step: every dropped point must lie within tol of the
        // simplified line, the spike and both ends must stay, and the straight stretches shrink.
        let run: Vec<[f64; 2]> = (0..2_000)
            .map(|i| {
                let x = f64::from(i);
                let y = match i {
                    700 => 50.0,
                    1_200.. => 10.0 + (x * 0.002).sin(),
                    _ => (x * 0.01).sin(),
                };
                [x, y]
            })
            .collect();
        let tol = 0.05;
        let kept = simplify(&run, tol);
        assert_eq!(kept.first(), run.first());
        assert_eq!(kept.last(), run.last());
        assert!(kept.contains(&[700.0, 50.0]));
        assert!(
            kept.len() < run.len() / 10,
            "{} of {} kept",
            kept.len(),
            run.len()
        );
        for p in &run {
            assert!(
                distance_at(&kept, *p) <= tol + 1e-9,
                "{p:?} is {} away",
                distance_at(&kept, *p)
            );
        }
    }

    #[test]
    fn simplify_of_a_flat_line_is_its_ends_and_noise_above_tolerance_stays() {
        let flat: Vec<[f64; 2]> = (0..500).map(|i| [f64::from(i), 40.0]).collect();
        assert_eq!(simplify(&flat, 0.1), vec![[0.0, 40.0], [499.0, 40.0]]);
        // Alternating by 1.0 with tolerance 0.25: no point may go.
        let zigzag: Vec<[f64; 2]> = (0..50).map(|i| [f64::from(i), f64::from(i % 2)]).collect();
        assert_eq!(simplify(&zigzag, 0.25), zigzag);
        // No usable tolerance, or x not increasing: unchanged.
        assert_eq!(simplify(&flat, 0.0), flat);
        assert_eq!(simplify(&flat, f64::NAN), flat);
        let backwards = vec![[2.0, 1.0], [1.0, 1.0], [0.0, 1.0]];
        assert_eq!(simplify(&backwards, 1.0), backwards);
    }

    #[test]
    fn decimation_keeps_spikes_and_gaps() {
        let xs: Vec<f64> = (0..10_000).map(f64::from).collect();
        let mut values: Vec<Option<f64>> = xs.iter().map(|x| Some((x * 0.01).sin())).collect();
        values[5_000] = Some(100.0);
        values[7_000] = None;
        let runs = decimate(&xs, &values, 0.0, 100.0); // 100 points per column
        assert_eq!(runs.len(), 2, "the gap splits the line");
        let total: usize = runs.iter().map(Vec::len).sum();
        assert!(total <= 2 * 101, "{total} points for 100 columns");
        assert!(
            runs[0].iter().any(|p| p == &[5_000.0, 100.0]),
            "the spike survives"
        );
        // Points stay in time order.
        for run in &runs {
            assert!(run.windows(2).all(|w| w[0][0] < w[1][0]));
        }
        // Without a usable column width nothing is dropped but the gap.
        let kept = decimate(&xs, &values, 0.0, f64::NAN);
        assert_eq!(kept.iter().map(Vec::len).sum::<usize>(), 9_999);
        assert!(decimate(&[], &[], 0.0, 1.0).is_empty());
    }
}
