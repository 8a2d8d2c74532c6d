//! Latency recorder: exact mean and max, percentiles from an HDR histogram, fixed memory.

use serde::Serialize;

use super::histogram::Hdr;

/// Nanoseconds per second, for converting recorded values to the seconds the results report.
const NS_PER_S: f64 = 1e9;

/// Largest latency the histogram resolves: 30 days in nanoseconds. Longer values still count
/// (exactly, in the mean and max) but sit in the histogram's top bucket, so a percentile that
/// falls among them reads as 30 days.
pub const MAX_TRACKABLE_NS: u64 = 30 * 24 * 3600 * 1_000_000_000;

/// Significant decimal digits the histogram keeps: percentiles are within 0.1 % of the truth.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency distribution in bounded memory: record integer nanoseconds, read back the
/// results contract's `{mean, p50, p95, p99, max}`.
///
/// The histogram is sized once, on the first value (1 ns … [`MAX_TRACKABLE_NS`] at 3
/// significant digits, about 350 KiB), and never grows, so [`Latency::record`] is O(1) and
/// allocates only once; a recorder that never records costs a few bytes. The mean and
/// max are kept exactly beside it (a `u128` sum cannot overflow: 2⁶⁴ samples of 2⁶⁴ ns fit).
#[derive(Debug, Clone)]
pub struct Latency {
    /// Made on the first value: a node that records nothing costs no histogram (a scenario of
    /// 10,000 idle consumers held 14 GB of empty histograms).
    histogram: Option<Box<Hdr>>,
    count: u64,
    sum_ns: u128,
    max_ns: u64,
}

/// Summary of a [`Latency`] recorder in seconds. Serializes as the results contract's
/// `wait_s` / `latency_s` object: `{"mean", "p50", "p95", "p99", "max"}` (the count is not part
/// of that object and is skipped). All zeros when nothing was recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Number of values recorded.
    #[serde(skip)]
    pub count: u64,
    /// Exact mean, seconds.
    #[serde(rename = "mean")]
    pub mean_s: f64,
    /// Median, seconds (histogram precision, never above `max_s`).
    #[serde(rename = "p50")]
    pub p50_s: f64,
    /// 95th percentile, seconds.
    #[serde(rename = "p95")]
    pub p95_s: f64,
    /// 99th percentile, seconds.
    #[serde(rename = "p99")]
    pub p99_s: f64,
    /// Exact maximum, seconds.
    #[serde(rename = "max")]
    pub max_s: f64,
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Self {
        Latency {
            histogram: None,
            count: 0,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Records one latency in nanoseconds. Values above [`MAX_TRACKABLE_NS`] saturate in the
    /// histogram but count exactly in the mean and max.
    #[inline(always)]
    pub fn record(&mut self, ns: u64) {
        self.histogram
            .get_or_insert_with(|| Box::new(Hdr::new(MAX_TRACKABLE_NS, SIGNIFICANT_DIGITS)))
            .record(ns);
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Adds everything another recorder saw (e.g. per-replication or per-thread recorders).
    pub fn merge(&mut self, other: &Latency) {
        if let Some(theirs) = &other.histogram {
            self.histogram
                .get_or_insert_with(|| Box::new(Hdr::new(MAX_TRACKABLE_NS, SIGNIFICANT_DIGITS)))
                .add(theirs);
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Forgets everything recorded (e.g. at the end of the warm-up), keeping the memory.
    pub fn reset(&mut self) {
        if let Some(h) = &mut self.histogram {
            h.reset();
        }
        self.count = 0;
        self.sum_ns = 0;
        self.max_ns = 0;
    }

    /// Number of values recorded.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact largest value recorded, nanoseconds (0 when empty).
    #[must_use]
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// Exact mean, nanoseconds (0 when empty).
    #[must_use]
    pub fn mean_ns(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns as f64 / self.count as f64
        }
    }

    /// The value at quantile `q` (0 ..= 1), nanoseconds: the top of the histogram bucket holding
    /// it, capped at the exact maximum (so p100 is the max, not the bucket's upper edge).
    #[must_use]
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.histogram
                .as_ref()
                .map_or(0, |h| h.value_at_quantile(q))
                .min(self.max_ns)
        }
    }

    /// The results-contract summary in seconds.
    #[must_use]
    pub fn summary(&self) -> LatencySummary {
        let s = |ns: u64| ns as f64 / NS_PER_S;
        LatencySummary {
            count: self.count,
            mean_s: self.mean_ns() / NS_PER_S,
            p50_s: s(self.quantile_ns(0.50)),
            p95_s: s(self.quantile_ns(0.95)),
            p99_s: s(self.quantile_ns(0.99)),
            max_s: s(self.max_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_summary_is_zeros() {
        let s = Latency::new().summary();
        assert_eq!(s.count, 0);
        assert_eq!(
            (s.mean_s, s.p50_s, s.p95_s, s.p99_s, s.max_s),
            (0.0, 0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn small_values_are_exact() {
        // Below 2048 ns the histogram has unit resolution, so percentiles are exact.
        let mut l = Latency::new();
        for v in 1..=100 {
            l.record(v);
        }
        assert_eq!(l.count(), 100);
        assert_eq!(l.quantile_ns(0.5), 50);
        assert_eq!(l.quantile_ns(0.95), 95);
        assert_eq!(l.quantile_ns(0.99), 99);
        assert_eq!(l.quantile_ns(1.0), 100);
        assert_eq!(l.mean_ns(), 50.5);
        let s = l.summary();
        assert_eq!(s.max_s, 100e-9);
        assert_eq!(s.mean_s, 50.5e-9);
    }

    #[test]
    fn large_values_within_precision_and_exact_mean_max() {
        let mut l = Latency::new();
        let values = [1_234_567_891_u64, 3_000_000_000, 6_000_000_007];
        values.iter().for_each(|&v| l.record(v));
        let s = l.summary();
        assert_eq!(s.max_s, 6.000_000_007);
        let exact_mean = values.iter().map(|&v| v as f64).sum::<f64>() / 3.0 / 1e9;
        assert!((s.mean_s - exact_mean).abs() < 1e-12);
        assert!((s.p50_s - 3.0).abs() / 3.0 < 1e-3);
        // p99 is the top sample, capped to the exact max.
        assert_eq!(s.p99_s, 6.000_000_007);
    }

    #[test]
    fn values_beyond_the_range_saturate() {
        let mut l = Latency::new();
        let huge = MAX_TRACKABLE_NS * 4;
        l.record(huge);
        l.record(u64::MAX);
        assert_eq!(l.count(), 2);
        assert_eq!(l.max_ns(), u64::MAX);
        let expected_mean = (u128::from(huge) + u128::from(u64::MAX)) as f64 / 2.0;
        assert_eq!(l.mean_ns(), expected_mean);
        let p50 = l.quantile_ns(0.5);
        assert!((MAX_TRACKABLE_NS..MAX_TRACKABLE_NS + MAX_TRACKABLE_NS / 500).contains(&p50));
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let mut a = Latency::new();
        let mut b = Latency::new();
        let mut all = Latency::new();
        for v in 0..1000_u64 {
            let ns = v * v * 997 + 13;
            if v % 3 == 0 { &mut a } else { &mut b }.record(ns);
            all.record(ns);
        }
        a.merge(&b);
        assert_eq!(a.summary(), all.summary());
        a.reset();
        assert_eq!(a.count(), 0);
        assert_eq!(a.summary().max_s, 0.0);
    }

    #[test]
    fn serializes_as_the_results_contract_object() {
        let mut l = Latency::new();
        l.record(2_000_000_000);
        let json = serde_json::to_string(&l.summary()).unwrap();
        assert_eq!(
            json,
            r#"{"mean":2.0,"p50":2.0,"p95":2.0,"p99":2.0,"max":2.0}"#
        );
    }
}
