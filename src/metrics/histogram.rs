//! [`Hdr`]: a fixed-range HDR histogram with hdrhistogram's exact bucket layout and quantile
//! rule, recorded with a few integer operations.
//!
//! The engine records up to four latencies per completed message (a node's time in system and
//! wait, the end-to-end latency, the time series' bucket), so recording is on its hot path.
//! `hdrhistogram::Histogram::saturating_record` is general (any `low`, auto-resize, min/max
//! tracking, a `Result` unwrapped per value); this keeps only what a fixed 1 ns … `max_ns`
//! histogram needs. The layout (which counter a value goes to) and `value_at_quantile` are the
//! library's, so every percentile reported is the one the library gives; the tests check that
//! against `hdrhistogram` itself.

/// Counts of values in HDR buckets: 1 ns … `max_ns` at a fixed number of significant digits,
/// never resized. Values above the range count at the top of the range (saturating).
#[derive(Debug, Clone)]
pub(crate) struct Hdr {
    counts: Box<[u64]>,
    total: u64,
    /// log2 of half the sub-buckets per bucket.
    sub_half_magnitude: u32,
    /// Half the sub-buckets per bucket.
    sub_half: u32,
    /// Values below this sit in bucket 0 (sub-buckets − 1).
    sub_mask: u64,
    /// 64 − log2(sub-buckets).
    leading_zero_base: u32,
    /// The counter of the highest trackable value (where larger values saturate).
    top: usize,
    /// The lowest and highest counters recorded into since the last reset (`lo > hi`: none),
    /// so a reset clears and a quantile scans only that span.
    lo: usize,
    hi: usize,
}

impl Hdr {
    /// An empty histogram of 1 ns … `max_ns` (at least 2) at `digits` significant digits
    /// (1 ..= 5), laid out as `hdrhistogram::Histogram::new_with_bounds(1, max_ns, digits)`.
    pub(crate) fn new(max_ns: u64, digits: u8) -> Self {
        let digits = digits.clamp(1, 5);
        let max_ns = max_ns.max(2);
        // The library: largest value at unit resolution 2·10^digits; sub-buckets the power of
        // two at or above it (ceil of log2); unit magnitude 0 (the lowest value is 1).
        let largest = 2 * 10_u64.pow(u32::from(digits));
        let sub_magnitude = 64 - (largest - 1).leading_zeros();
        let sub_count = 1_u64 << sub_magnitude;
        let sub_half = (sub_count / 2) as u32;
        // Buckets to cover `max_ns` (the library's `buckets_to_cover`).
        let mut untrackable = sub_count;
        let mut buckets = 1_u32;
        while untrackable <= max_ns {
            if untrackable > u64::MAX / 2 {
                buckets += 1;
                break;
            }
            untrackable <<= 1;
            buckets += 1;
        }
        let len = (buckets as usize + 1) * sub_half as usize;
        let mut h = Hdr {
            counts: vec![0; len].into_boxed_slice(),
            total: 0,
            sub_half_magnitude: sub_magnitude - 1,
            sub_half,
            sub_mask: sub_count - 1,
            leading_zero_base: 64 - sub_magnitude,
            top: 0,
            lo: usize::MAX,
            hi: 0,
        };
        h.top = h.index_for(max_ns).min(len - 1);
        h
    }

    /// The counter of `value` (the library's `index_for`; may be past the end).
    #[inline]
    fn index_for(&self, value: u64) -> usize {
        let bucket = self.leading_zero_base - (value | self.sub_mask).leading_zeros();
        let sub = (value >> bucket) as usize;
        (((bucket + 1) << self.sub_half_magnitude) as usize + sub) - self.sub_half as usize
    }

    /// The lowest value of counter `index` (the library's `value_for`).
    fn value_for(&self, index: usize) -> u64 {
        let mut bucket = (index >> self.sub_half_magnitude) as i64 - 1;
        let mut sub = (index as u64 & u64::from(self.sub_half - 1)) + u64::from(self.sub_half);
        if bucket < 0 {
            sub -= u64::from(self.sub_half);
            bucket = 0;
        }
        sub << bucket
    }

    /// The highest value counted together with `value` (the library's `highest_equivalent`).
    fn highest_equivalent(&self, value: u64) -> u64 {
        if value == u64::MAX {
            return u64::MAX;
        }
        let bucket = self.leading_zero_base - (value | self.sub_mask).leading_zeros();
        let lowest = (value >> bucket) << bucket;
        lowest.saturating_add(1_u64 << bucket) - 1
    }

    /// Counts one value; values beyond the range count at its top.
    #[inline]
    pub(crate) fn record(&mut self, value: u64) {
        let mut i = self.index_for(value);
        if i >= self.counts.len() {
            i = self.top;
        }
        self.counts[i] = self.counts[i].saturating_add(1);
        self.total += 1;
        self.lo = self.lo.min(i);
        self.hi = self.hi.max(i);
    }

    /// Values counted.
    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.total
    }

    /// Number of counters (the library's `distinct_values`).
    pub(crate) fn counters(&self) -> usize {
        self.counts.len()
    }

    /// Forgets every value, keeping the memory.
    pub(crate) fn reset(&mut self) {
        if self.lo <= self.hi {
            self.counts[self.lo..=self.hi].fill(0);
        }
        self.total = 0;
        self.lo = usize::MAX;
        self.hi = 0;
    }

    /// Adds another histogram's counts (of the same layout: made by [`Hdr::new`] with the same
    /// arguments).
    pub(crate) fn add(&mut self, other: &Hdr) {
        debug_assert_eq!(self.counts.len(), other.counts.len(), "layouts differ");
        if other.lo > other.hi {
            return;
        }
        for i in other.lo..=other.hi.min(self.counts.len() - 1) {
            self.counts[i] = self.counts[i].saturating_add(other.counts[i]);
        }
        self.total = self.total.saturating_add(other.total);
        self.lo = self.lo.min(other.lo);
        self.hi = self.hi.max(other.hi);
    }

    /// The value at quantile `q` (0 < q ≤ 1): the highest value of the counter where the
    /// running count first reaches ⌈q · count⌉ (at least 1); 0 when empty. The library's
    /// `value_at_quantile`.
    pub(crate) fn value_at_quantile(&self, q: f64) -> u64 {
        let q = if q > 1.0 { 1.0 } else { q };
        let wanted = ((q * self.total as f64).ceil() as u64).max(1);
        if self.lo > self.hi {
            return 0;
        }
        let mut running = 0_u64;
        for (i, &c) in self.counts[self.lo..=self.hi].iter().enumerate() {
            running += c;
            if running >= wanted {
                let value = self.value_for(self.lo + i);
                return if q == 0.0 {
                    value
                } else {
                    self.highest_equivalent(value)
                };
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;

    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// The same values into this and into the library, for a range and digits: the same
    /// counters, the same percentiles.
    fn agree(max_ns: u64, digits: u8, values: &[u64]) {
        let mut ours = Hdr::new(max_ns, digits);
        let mut theirs = Histogram::<u64>::new_with_bounds(1, max_ns, digits).unwrap();
        assert_eq!(ours.counters(), theirs.distinct_values());
        for &v in values {
            ours.record(v);
            theirs.saturating_record(v);
        }
        assert_eq!(ours.len(), theirs.len());
        for q in [0.0, 1e-9, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 1.5] {
            assert_eq!(
                ours.value_at_quantile(q),
                theirs.value_at_quantile(q),
                "q {q}, max {max_ns}, digits {digits}"
            );
        }
    }

    #[test]
    fn percentiles_are_the_librarys() {
        let mut x = 0x1234_5678_9abc_def1_u64;
        for (max_ns, digits) in [
            (crate::metrics::MAX_TRACKABLE_NS, 3),
            (crate::metrics::MAX_TRACKABLE_NS, 2),
            (1_000_000, 1),
            (u64::MAX / 2, 5),
            (2, 3),
        ] {
            // Exponential around a second, uniform small, any 64-bit value (saturating).
            let mut values: Vec<u64> = (0..20_000)
                .map(|_| {
                    let u = (xorshift(&mut x) >> 11) as f64 / (1u64 << 53) as f64;
                    (-(u + 1e-18).ln() * 1e9) as u64
                })
                .collect();
            values.extend((0..5_000).map(|_| xorshift(&mut x) % 5_000));
            values.extend((0..200).map(|_| xorshift(&mut x)));
            values.extend([0, 1, 2, 2047, 2048, 2049, max_ns, max_ns + 1, u64::MAX]);
            agree(max_ns, digits, &values);
            agree(max_ns, digits, &values[..1]);
            agree(max_ns, digits, &[]);
        }
    }

    #[test]
    fn reset_and_add_match_recording_again() {
        let mut x = 77_u64;
        let values: Vec<u64> = (0..5_000)
            .map(|_| xorshift(&mut x) % 10_000_000_000)
            .collect();
        let mut a = Hdr::new(crate::metrics::MAX_TRACKABLE_NS, 3);
        let mut b = a.clone();
        let mut all = a.clone();
        for (i, &v) in values.iter().enumerate() {
            if i % 3 == 0 { &mut a } else { &mut b }.record(v);
            all.record(v);
        }
        a.add(&b);
        for q in [0.5, 0.95, 0.99, 1.0] {
            assert_eq!(a.value_at_quantile(q), all.value_at_quantile(q));
        }
        a.reset();
        assert_eq!(a.len(), 0);
        assert_eq!(a.value_at_quantile(0.5), 0);
        assert!(
            a.counts.iter().all(|&c| c == 0),
            "reset clears every counter"
        );
        a.record(3);
        assert_eq!(a.value_at_quantile(0.5), 3);
    }
}
