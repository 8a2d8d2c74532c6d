//! [`SeriesRecorder`]: what the engine calls as a run plays out (counts, level changes, sampled
//! maxima, latencies, each O(1) at a simulated time), and the per-bucket values it turns them
//! into for plots and CSV ([`SeriesData`], see [`super::series`] for the metrics and their
//! meaning), with cheap partial snapshots for a run in progress.

use super::histogram::Hdr;
use super::latency::MAX_TRACKABLE_NS;
use super::series::{
    Counter, LATENCY_QUANTILES, Level, Metric, MetricKind, NS_PER_S, SERIES_LATENCY_DIGITS,
    Sampled, Series, SeriesData,
};

/// A level's state between changes.
#[derive(Debug, Clone, Copy, Default)]
struct LevelState {
    level: u64,
    /// When `level` took effect (areas are accumulated up to here).
    since_ns: u64,
    /// The bucket holding `since_ns` and its end (0 = not yet known), so the common case of a
    /// change within the same bucket needs no division.
    bucket: usize,
    bucket_end_ns: u64,
}

/// The latency histogram of one node's current bucket.
#[derive(Debug, Clone, Default)]
struct LiveLatency {
    /// Created at the node's first latency, so nodes without latencies cost nothing.
    histogram: Option<Hdr>,
    bucket: usize,
    count: u64,
    max_ns: u64,
    sum_ns: u128,
    bucket_start_ns: u64,
    bucket_end_ns: u64,
}

impl LiveLatency {
    /// The current bucket's quantiles in seconds (capped at its exact max) followed by its
    /// exact mean, NaN when empty.
    fn quantiles(&self) -> [f64; 4] {
        match &self.histogram {
            Some(h) if self.count > 0 => {
                let [p50, p95, p99] = LATENCY_QUANTILES
                    .map(|q| h.value_at_quantile(q).min(self.max_ns) as f64 / NS_PER_S);
                [
                    p50,
                    p95,
                    p99,
                    self.sum_ns as f64 / self.count as f64 / NS_PER_S,
                ]
            }
            _ => [f64::NAN; 4],
        }
    }
}

/// Streams per-node measurements into fixed time buckets; see the [module docs](self).
///
/// Every recording call is O(1) amortized and never allocates (except a node's latency
/// histogram, created once at its first latency). Times are integer nanoseconds of simulated
/// time and must not go backwards for a given node and metric; a time past the duration goes to
/// the last bucket. Node indices are the engine's, `0 .. node_count`; an index out of range is
/// a bug in the caller and panics like slice indexing.
#[derive(Debug, Clone)]
pub struct SeriesRecorder {
    nodes: Vec<String>,
    bucket_ns: u64,
    buckets: usize,
    /// Counts, indexed `[node][counter][bucket]`.
    counts: Vec<u64>,
    /// Level areas in level·ns, indexed `[node][level][bucket]`, up to each level's `since_ns`.
    areas: Vec<u128>,
    /// Indexed `[node][level]`.
    levels: Vec<LevelState>,
    /// Sampled maxima, NaN when none, indexed `[node][sampled][bucket]`.
    maxima: Vec<f64>,
    /// Finished latency quantiles, NaN when none, indexed `[node][bucket]`.
    latency: Vec<[f64; 4]>,
    /// Indexed `[node]`.
    live: Vec<LiveLatency>,
    /// Bit mask over [`Metric`] of what each node reported.
    touched: Vec<u32>,
    /// (start, end, index) of the bucket of the last recording, see `bucket_cached`.
    cache: (u64, u64, usize),
}

impl SeriesRecorder {
    /// A recorder for the named nodes over [0, `duration_ns`], cut into `bucket_count` buckets
    /// of equal width `ceil(duration / bucket_count)` ns.
    ///
    /// Degenerate arguments are made usable rather than rejected (they come from the engine,
    /// not the user): a zero duration counts as 1 ns, a zero bucket count as 1, and there are
    /// never more buckets than nanoseconds. Rounding the width up can leave fewer buckets than
    /// asked (1000 ns in 3 buckets gives widths 334, 334, 332); [`SeriesRecorder::bucket_count`]
    /// says how many there are.
    #[must_use]
    pub fn new(nodes: Vec<String>, bucket_count: usize, duration_ns: u64) -> Self {
        let duration_ns = duration_ns.max(1);
        let requested = u64::try_from(bucket_count.max(1)).unwrap_or(u64::MAX);
        let bucket_ns = duration_ns.div_ceil(requested);
        // At most `requested` buckets, so the conversion back to usize cannot fail.
        let buckets = usize::try_from(duration_ns.div_ceil(bucket_ns)).unwrap_or(bucket_count);
        let n = nodes.len();
        SeriesRecorder {
            bucket_ns,
            buckets,
            counts: vec![0; n * Counter::ALL.len() * buckets],
            areas: vec![0; n * Level::ALL.len() * buckets],
            levels: vec![LevelState::default(); n * Level::ALL.len()],
            maxima: vec![f64::NAN; n * Sampled::ALL.len() * buckets],
            latency: vec![[f64::NAN; 4]; n * buckets],
            live: vec![LiveLatency::default(); n],
            touched: vec![0; n],
            cache: (0, 0, 0),
            nodes,
        }
    }

    /// Number of nodes.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of buckets.
    #[must_use]
    pub fn bucket_count(&self) -> usize {
        self.buckets
    }

    /// Bucket width, nanoseconds.
    #[must_use]
    pub fn bucket_ns(&self) -> u64 {
        self.bucket_ns
    }

    /// [`Self::bucket`] through a one-entry cache: recording happens in time order, so nearly
    /// every call falls in the bucket of the previous one and needs no 64-bit division.
    #[inline]
    fn bucket_cached(&mut self, t_ns: u64) -> usize {
        let (start, end, i) = self.cache;
        if t_ns >= start && t_ns < end {
            return i;
        }
        let i = self.bucket(t_ns);
        self.cache = (self.bucket_start(i), self.bucket_end(i), i);
        i
    }

    /// The bucket holding time `t_ns` (the last one for anything past the duration).
    fn bucket(&self, t_ns: u64) -> usize {
        usize::try_from(t_ns / self.bucket_ns).map_or(self.buckets - 1, |i| i.min(self.buckets - 1))
    }

    /// Start of bucket `i`, nanoseconds.
    fn bucket_start(&self, i: usize) -> u64 {
        self.bucket_ns * i as u64
    }

    /// End of bucket `i` (exclusive); the last bucket is open-ended.
    fn bucket_end(&self, i: usize) -> u64 {
        if i + 1 < self.buckets {
            self.bucket_start(i + 1)
        } else {
            u64::MAX
        }
    }

    /// Adds `n` events of `counter` at `t_ns`.
    #[inline]
    pub fn count(&mut self, node: usize, counter: Counter, t_ns: u64, n: u64) {
        let i = self.bucket_cached(t_ns);
        let slot = (node * Counter::ALL.len() + counter as usize) * self.buckets + i;
        self.counts[slot] += n;
        self.touched[node] |= Metric::from(counter).bit();
    }

    /// The level of `level` at `node` becomes `new_level` at `t_ns`. Levels start at 0 at time
    /// 0. Cost is O(1) plus one step per bucket boundary crossed since the previous change, so
    /// O(1) amortized over a run.
    #[inline]
    pub fn level(&mut self, node: usize, level: Level, t_ns: u64, new_level: u64) {
        let index = node * Level::ALL.len() + level as usize;
        let bit = Metric::from(level).bit();
        let state = &mut self.levels[index];
        if state.level == new_level && self.touched[node] & bit != 0 {
            // Unchanged: the span is accumulated when the level next changes.
            return;
        }
        debug_assert!(t_ns >= state.since_ns, "time went backwards for a level");
        let t = t_ns.max(state.since_ns);
        if t < state.bucket_end_ns {
            // The common case: a change within the bucket of the previous one.
            if state.level != 0 {
                self.areas[index * self.buckets + state.bucket] +=
                    u128::from(state.level) * u128::from(t - state.since_ns);
            }
            state.level = new_level;
            state.since_ns = t;
        } else {
            self.level_in_new_bucket(index, t, new_level);
        }
        self.touched[node] |= bit;
    }

    /// [`Self::level`] when the change is past the bucket of the previous one.
    fn level_in_new_bucket(&mut self, index: usize, t: u64, new_level: u64) {
        let state = self.levels[index];
        self.accumulate(index, state.since_ns, t, state.level);
        let bucket = self.bucket(t);
        self.levels[index] = LevelState {
            level: new_level,
            since_ns: t,
            bucket,
            bucket_end_ns: self.bucket_end(bucket),
        };
    }

    /// The level changes by `delta` at `t_ns` (saturating at 0; going below is a caller bug and
    /// asserts in debug builds).
    pub fn adjust_level(&mut self, node: usize, level: Level, t_ns: u64, delta: i64) {
        let current = self.levels[node * Level::ALL.len() + level as usize].level;
        let new_level = current.checked_add_signed(delta);
        debug_assert!(new_level.is_some(), "level {current} + {delta} underflows");
        let new_level = new_level.unwrap_or(if delta < 0 { 0 } else { u64::MAX });
        self.level(node, level, t_ns, new_level);
    }

    /// Adds `level` × the overlap of [from, to) with each bucket to that bucket's area.
    fn accumulate(&mut self, level_index: usize, from: u64, to: u64, level: u64) {
        if level == 0 || to <= from {
            return;
        }
        let base = level_index * self.buckets;
        let mut i = self.bucket(from);
        let mut start = from;
        loop {
            let end = to.min(self.bucket_end(i));
            self.areas[base + i] += u128::from(level) * u128::from(end - start);
            if end == to {
                break;
            }
            start = end;
            i += 1;
        }
    }

    /// Reports a sampled value (e.g. the age of the oldest waiting message, seconds); the bucket
    /// keeps the largest. NaN is ignored.
    pub fn observe_max(&mut self, node: usize, metric: Sampled, t_ns: u64, value: f64) {
        if value.is_nan() {
            return;
        }
        let slot =
            (node * Sampled::ALL.len() + metric as usize) * self.buckets + self.bucket_cached(t_ns);
        let current = &mut self.maxima[slot];
        if current.is_nan() || value > *current {
            *current = value;
        }
        self.touched[node] |= Metric::from(metric).bit();
    }

    /// Records a latency of `latency_ns` completed at `t_ns`. Latencies must be reported in
    /// time order per node (as a discrete-event engine does); one earlier than the node's
    /// current bucket is counted in the current bucket.
    #[inline]
    pub fn latency(&mut self, node: usize, t_ns: u64, latency_ns: u64) {
        let live = &mut self.live[node];
        if live.count > 0
            && t_ns < live.bucket_end_ns
            && t_ns >= live.bucket_start_ns
            && let Some(h) = live.histogram.as_mut()
        {
            // The common case, another latency in the current bucket (whose first one made
            // the histogram and marked the metrics touched).
            h.record(latency_ns);
            live.count += 1;
            live.max_ns = live.max_ns.max(latency_ns);
            live.sum_ns += u128::from(latency_ns);
            return;
        }
        self.latency_in_new_bucket(node, t_ns, latency_ns);
    }

    /// [`Self::latency`] for the first latency of a bucket (or one outside the current one).
    fn latency_in_new_bucket(&mut self, node: usize, t_ns: u64, latency_ns: u64) {
        let live = &self.live[node];
        // The common case, another latency in the current bucket, needs no division.
        let i = if live.count > 0
            && t_ns < live.bucket_end_ns
            && t_ns >= self.bucket_start(live.bucket)
        {
            live.bucket
        } else {
            self.bucket(t_ns)
        };
        let bucket_end_ns = self.bucket_end(i);
        let live = &mut self.live[node];
        if live.count > 0 && i > live.bucket {
            // The bucket is complete: keep its quantiles and reuse the histogram.
            self.latency[node * self.buckets + live.bucket] = live.quantiles();
            if let Some(h) = live.histogram.as_mut() {
                h.reset();
            }
            live.count = 0;
            live.max_ns = 0;
            live.sum_ns = 0;
        }
        if live.count == 0 {
            live.bucket = i;
            live.bucket_start_ns = self.bucket_ns * i as u64;
            live.bucket_end_ns = bucket_end_ns;
        }
        live.histogram
            .get_or_insert_with(|| Hdr::new(MAX_TRACKABLE_NS, SERIES_LATENCY_DIGITS))
            .record(latency_ns);
        live.count += 1;
        live.max_ns = live.max_ns.max(latency_ns);
        live.sum_ns += u128::from(latency_ns);
        self.touched[node] |= Metric::LatencyP50.bit()
            | Metric::LatencyP95.bit()
            | Metric::LatencyP99.bit()
            | Metric::LatencyMean.bit();
    }

    /// Heap memory held, bytes. Fixed at construction except for one latency histogram per node
    /// that reports latencies: it does not grow with the number of events.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let histograms: usize = self
            .live
            .iter()
            .filter_map(|l| l.histogram.as_ref())
            .map(|h| h.counters() * size_of::<u64>())
            .sum();
        self.nodes.capacity() * size_of::<String>()
            + self.nodes.iter().map(String::capacity).sum::<usize>()
            + self.counts.capacity() * size_of::<u64>()
            + self.areas.capacity() * size_of::<u128>()
            + self.levels.capacity() * size_of::<LevelState>()
            + self.maxima.capacity() * size_of::<f64>()
            + self.latency.capacity() * size_of::<[f64; 4]>()
            + self.live.capacity() * size_of::<LiveLatency>()
            + self.touched.capacity() * size_of::<u32>()
            + histograms
    }

    /// The series from time 0 up to `now_ns`, for a run in progress: the buckets that have
    /// started, the current one measured over its elapsed part (rates and level means are not
    /// diluted by the part still to come). Costs O(output), does not change the recorder.
    #[must_use]
    pub fn snapshot(&self, now_ns: u64) -> SeriesData {
        let covered = if now_ns == 0 {
            0
        } else {
            self.bucket(now_ns - 1) + 1
        };
        // Elapsed width of each covered bucket, ns; never 0 because every covered bucket starts
        // before now.
        let widths: Vec<u64> = (0..covered)
            .map(|i| self.bucket_end(i).min(now_ns) - self.bucket_start(i))
            .collect();
        let mut series = Vec::new();
        for node in 0..self.nodes.len() {
            for metric in Metric::ALL {
                if self.touched[node] & metric.bit() == 0 {
                    continue;
                }
                let values = match metric.kind() {
                    MetricKind::Rate => self.rates(node, metric as usize, &widths),
                    MetricKind::Level => self.level_means(
                        node,
                        metric as usize - Counter::ALL.len(),
                        now_ns,
                        &widths,
                    ),
                    MetricKind::SampledMax => {
                        let sampled = metric as usize - Counter::ALL.len() - Level::ALL.len();
                        let base = (node * Sampled::ALL.len() + sampled) * self.buckets;
                        self.maxima[base..base + covered]
                            .iter()
                            .map(|&v| (!v.is_nan()).then_some(v))
                            .collect()
                    }
                    MetricKind::LatencyQuantile => {
                        let q = metric as usize - Metric::LatencyP50 as usize;
                        self.latency_quantiles(node, q, covered)
                    }
                };
                series.push(Series {
                    node,
                    metric,
                    values,
                });
            }
        }
        SeriesData {
            bucket_s: self.bucket_ns as f64 / NS_PER_S,
            times_s: (0..covered)
                .map(|i| self.bucket_start(i) as f64 / NS_PER_S)
                .collect(),
            nodes: self.nodes.clone(),
            series,
        }
    }

    /// The final series at the end of the run: [`SeriesRecorder::snapshot`] at `end_ns`. With
    /// `end_ns` at or past the duration every bucket is covered, and the last one stretches to
    /// `end_ns` to hold what came after the duration.
    #[must_use]
    pub fn finish(self, end_ns: u64) -> SeriesData {
        self.snapshot(end_ns)
    }

    fn rates(&self, node: usize, counter: usize, widths: &[u64]) -> Vec<Option<f64>> {
        let base = (node * Counter::ALL.len() + counter) * self.buckets;
        widths
            .iter()
            .enumerate()
            .map(|(i, &w)| Some(self.counts[base + i] as f64 * NS_PER_S / w as f64))
            .collect()
    }

    fn level_means(
        &self,
        node: usize,
        level: usize,
        now_ns: u64,
        widths: &[u64],
    ) -> Vec<Option<f64>> {
        let index = node * Level::ALL.len() + level;
        let base = index * self.buckets;
        let state = self.levels[index];
        widths
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                // The current level has held since `since_ns` and is not in the areas yet.
                let start = self.bucket_start(i).max(state.since_ns);
                let end = self.bucket_end(i).min(now_ns);
                let pending = if end > start {
                    u128::from(state.level) * u128::from(end - start)
                } else {
                    0
                };
                Some((self.areas[base + i] + pending) as f64 / w as f64)
            })
            .collect()
    }

    fn latency_quantiles(&self, node: usize, q: usize, covered: usize) -> Vec<Option<f64>> {
        let live = &self.live[node];
        let live_values = (live.count > 0).then(|| live.quantiles());
        (0..covered)
            .map(|i| {
                let v = match live_values {
                    Some(values) if i == live.bucket => values[q],
                    _ => self.latency[node * self.buckets + i][q],
                };
                (!v.is_nan()).then_some(v)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::DEFAULT_BUCKETS;

    const S: u64 = 1_000_000_000;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("node{i}")).collect()
    }

    fn values(data: &SeriesData, node: usize, metric: Metric) -> Vec<Option<f64>> {
        data.get(node, metric)
            .unwrap_or_else(|| panic!("no series {node} {metric}"))
            .values
            .clone()
    }

    #[test]
    fn grid_geometry() {
        let r = SeriesRecorder::new(names(1), 500, 600 * S);
        assert_eq!((r.bucket_count(), r.bucket_ns()), (500, 1_200_000_000));
        let r = SeriesRecorder::new(names(1), 3, 1000);
        assert_eq!((r.bucket_count(), r.bucket_ns()), (3, 334));
        let r = SeriesRecorder::new(names(1), 10, 3);
        assert_eq!(
            (r.bucket_count(), r.bucket_ns()),
            (3, 1),
            "never more buckets than ns"
        );
        let r = SeriesRecorder::new(names(1), 0, 0);
        assert_eq!(r.bucket_count(), 1);
        assert_eq!(r.bucket(u64::MAX), 0);
    }

    #[test]
    fn counters_become_rates() {
        let mut r = SeriesRecorder::new(names(2), 4, 8 * S);
        r.count(0, Counter::Arrivals, 0, 1);
        r.count(0, Counter::Arrivals, S, 3); // bucket 0 (width 2 s): 4 events → 2/s
        r.count(0, Counter::Arrivals, 2 * S, 1); // bucket 1: 0.5/s
        r.count(1, Counter::Failures, 9 * S, 4); // after the duration: last bucket
        let d = r.finish(8 * S);
        assert_eq!(d.times_s, vec![0.0, 2.0, 4.0, 6.0]);
        assert_eq!(d.bucket_s, 2.0);
        assert_eq!(
            values(&d, 0, Metric::Arrivals),
            vec![Some(2.0), Some(0.5), Some(0.0), Some(0.0)]
        );
        assert_eq!(values(&d, 1, Metric::Failures)[3], Some(2.0));
        // Only reported (node, metric) pairs appear, in node then metric order.
        let listed: Vec<(usize, Metric)> = d.series.iter().map(|s| (s.node, s.metric)).collect();
        assert_eq!(listed, vec![(0, Metric::Arrivals), (1, Metric::Failures)]);
    }

    #[test]
    fn the_last_bucket_stretches_past_the_duration() {
        let mut r = SeriesRecorder::new(names(1), 2, 4 * S);
        r.count(0, Counter::Completions, 5 * S, 6);
        // Run ended at 6 s: the last bucket spans [2 s, 6 s).
        let d = r.finish(6 * S);
        assert_eq!(
            values(&d, 0, Metric::Completions),
            vec![Some(0.0), Some(1.5)]
        );
    }

    #[test]
    fn levels_are_time_weighted_per_bucket() {
        let mut r = SeriesRecorder::new(names(1), 4, 40);
        r.level(0, Level::Backlog, 5, 2); // [5, 25) at 2
        r.adjust_level(0, Level::Backlog, 25, 2); // [25, 35) at 4
        r.level(0, Level::Backlog, 35, 0);
        let d = r.finish(40);
        assert_eq!(
            values(&d, 0, Metric::Backlog),
            vec![Some(1.0), Some(2.0), Some(3.0), Some(2.0)]
        );
        // Partial snapshot mid-bucket: bucket 1 measured over [10, 15) only, level 2 pending.
        let mut r = SeriesRecorder::new(names(1), 4, 40);
        r.level(0, Level::Busy, 5, 2);
        let d = r.snapshot(15);
        assert_eq!(d.times_s.len(), 2);
        assert_eq!(values(&d, 0, Metric::Busy), vec![Some(1.0), Some(2.0)]);
        // A level held past the duration is averaged over the stretched last bucket.
        let d = r.snapshot(60);
        assert_eq!(values(&d, 0, Metric::Busy)[3], Some(2.0));
    }

    #[test]
    fn snapshot_covers_started_buckets_only() {
        let mut r = SeriesRecorder::new(names(1), 10, 100);
        r.count(0, Counter::Arrivals, 0, 1);
        assert_eq!(r.snapshot(0).times_s.len(), 0);
        assert_eq!(r.snapshot(1).times_s.len(), 1);
        assert_eq!(r.snapshot(10).times_s.len(), 1);
        assert_eq!(r.snapshot(11).times_s.len(), 2);
        assert_eq!(r.snapshot(100).times_s.len(), 10);
        assert_eq!(r.snapshot(1000).times_s.len(), 10);
        // A snapshot of a finished run equals finish.
        assert_eq!(r.snapshot(100), r.clone().finish(100));
    }

    #[test]
    fn sampled_maxima_and_gaps() {
        let mut r = SeriesRecorder::new(names(1), 3, 30);
        r.observe_max(0, Sampled::LagS, 1, 0.5);
        r.observe_max(0, Sampled::LagS, 2, 1.5);
        r.observe_max(0, Sampled::LagS, 3, 1.0);
        r.observe_max(0, Sampled::LagS, 25, f64::NAN);
        r.observe_max(0, Sampled::LagS, 25, 7.0);
        let d = r.finish(30);
        assert_eq!(
            values(&d, 0, Metric::LagS),
            vec![Some(1.5), None, Some(7.0)]
        );
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("[1.5,null,7.0]"), "{json}");
    }

    #[test]
    fn latency_quantiles_per_bucket() {
        let mut r = SeriesRecorder::new(names(2), 3, 3 * S);
        for v in 1..=100_u64 {
            r.latency(0, 10, v * 1_000_000); // 1 … 100 ms in bucket 0
        }
        r.latency(0, 2 * S + 5, 40_000_000); // bucket 2, bucket 1 empty
        let live = r.snapshot(3 * S);
        let p50 = values(&live, 0, Metric::LatencyP50);
        let p99 = values(&live, 0, Metric::LatencyP99);
        // 2 significant digits: within 1 % (bucket tops), never above the bucket's max.
        assert!((p50[0].unwrap() - 0.050).abs() <= 0.050 * 0.01, "{p50:?}");
        assert!((p99[0].unwrap() - 0.099).abs() <= 0.099 * 0.01, "{p99:?}");
        assert_eq!(p50[1], None);
        assert_eq!(p50[2], Some(0.040));
        assert!(live.get(1, Metric::LatencyP50).is_none());
        // Finished buckets keep their quantiles after the histogram moves on.
        r.latency(0, 3 * S, 1);
        assert_eq!(values(&r.snapshot(3 * S), 0, Metric::LatencyP99), p99[..3]);
    }

    #[test]
    fn memory_is_fixed_by_the_bucket_count() {
        let mut r = SeriesRecorder::new(names(50), DEFAULT_BUCKETS, 600 * S);
        for node in 0..50 {
            r.latency(node, 0, 1); // create every histogram up front
        }
        let before = r.heap_bytes();
        assert!(
            before < 8 << 20,
            "50 nodes × 500 buckets should stay small: {before}"
        );
        let events: u64 = 10_000_000;
        let step = 600 * S / events;
        for k in 0..events {
            let t = k * step;
            let node = (k % 50) as usize;
            r.count(node, Counter::Arrivals, t, 1);
            r.level(node, Level::Backlog, t, k % 13);
            if k % 10 == 0 {
                r.latency(node, t, 1_000 + k % 1_000_000_000);
                r.observe_max(node, Sampled::LagS, t, (k % 100) as f64);
            }
        }
        assert_eq!(r.heap_bytes(), before);
        let d = r.finish(600 * S);
        assert_eq!(d.times_s.len(), DEFAULT_BUCKETS);
        let total: f64 = values(&d, 0, Metric::Arrivals)
            .iter()
            .map(|v| v.unwrap())
            .sum();
        // Each bucket of 1.2 s holds 400 node-0 arrivals: 333.3/s.
        assert!((total * 1.2 - (events / 50) as f64).abs() < 1e-6);
    }
}
