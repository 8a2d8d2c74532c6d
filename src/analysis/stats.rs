//! Replication statistics: how sure a set of runs lets us be about a figure.
//!
//! A simulation run is one sample; the figure we report is the mean over independent
//! replications (different seeds) with a 95 % confidence interval from the Student-t
//! distribution. Comparing two designs with common random numbers (the same seeds for A and B)
//! uses the paired differences `A_i − B_i`, whose interval is usually much narrower than the two
//! intervals taken separately.

use serde::Serialize;
use thiserror::Error;

/// Why an estimate could not be formed from the values given.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// No values at all.
    #[error("no values to estimate from")]
    NoValues,
    /// A value is NaN or infinite (a replicate whose figure is undefined).
    #[error("value {index} is not a finite number ({value})")]
    NonFinite {
        /// Position of the offending value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// Paired samples of different lengths: each `A_i` needs its `B_i` from the same seed.
    #[error("paired samples differ in length: {a} and {b}")]
    LengthMismatch {
        /// Length of the first sample.
        a: usize,
        /// Length of the second sample.
        b: usize,
    },
}

/// Welford's online mean and variance: one pass, O(1) memory, numerically stable (no
/// catastrophic cancellation from Σx² − (Σx)²/n).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Welford {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from the current mean.
    m2: f64,
}

impl Welford {
    /// An empty accumulator.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one observation.
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Combines another accumulator into this one (Chan et al.'s parallel update), so
    /// replications run on several threads can be summarised together.
    pub fn merge(&mut self, other: &Welford) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n_a = self.count as f64;
        let n_b = other.count as f64;
        let n = n_a + n_b;
        let delta = other.mean - self.mean;
        self.mean += delta * n_b / n;
        self.m2 += other.m2 + delta * delta * n_a * n_b / n;
        self.count += other.count;
    }

    /// Number of observations.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean of the observations; `None` before the first.
    #[must_use]
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then_some(self.mean)
    }

    /// Unbiased sample variance (divisor n − 1); `None` with fewer than two observations.
    #[must_use]
    pub fn variance(&self) -> Option<f64> {
        (self.count > 1).then(|| (self.m2 / (self.count - 1) as f64).max(0.0))
    }

    /// Sample standard deviation; `None` with fewer than two observations.
    #[must_use]
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }
}

/// Student-t 0.975 quantiles (two-sided 95 %) for 1 ..= 30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706_204_736_174_7,
    4.302_652_729_749_46,
    3.182_446_305_283_71,
    2.776_445_105_197_79,
    2.570_581_835_636_32,
    2.446_911_851_144_97,
    2.364_624_251_592_79,
    2.306_004_135_204_17,
    2.262_157_162_798_21,
    2.228_138_851_986_27,
    2.200_985_160_091_64,
    2.178_812_829_667_23,
    2.160_368_656_462_79,
    2.144_786_687_917_8,
    2.131_449_545_559_78,
    2.119_905_299_221_25,
    2.109_815_577_833_32,
    2.100_922_040_241_04,
    2.093_024_054_408_31,
    2.085_963_447_265_86,
    2.079_613_844_727_68,
    2.073_873_067_904_03,
    2.068_657_610_419_05,
    2.063_898_561_628_03,
    2.059_538_552_753_3,
    2.055_529_438_642_87,
    2.051_830_516_480_29,
    2.048_407_141_795_25,
    2.045_229_642_132_7,
    2.042_272_456_301_24,
];

/// The standard normal 0.975 quantile, the limit of t as the degrees of freedom grow.
const Z_975: f64 = 1.959_963_984_540_054;

/// The Student-t 0.975 quantile for `df` degrees of freedom (the multiplier of s/√n in a 95 %
/// confidence interval); `None` for df = 0.
///
/// Exact (tabulated) for df ≤ 30; above that the Cornish–Fisher expansion in 1/df around the
/// normal quantile, which is accurate to better than 10⁻⁶ there and tends to 1.95996 as df → ∞.
#[must_use]
pub fn t_quantile_975(df: u64) -> Option<f64> {
    let index = usize::try_from(df).ok()?.checked_sub(1)?;
    if let Some(&t) = T_975.get(index) {
        return Some(t);
    }
    let z = Z_975;
    let z2 = z * z;
    let v = df as f64;
    // Terms of the expansion t = z + g1/v + g2/v² + g3/v³ + g4/v⁴ (Abramowitz & Stegun 26.7.5).
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    Some(z + (g1 + (g2 + (g3 + g4 / v) / v) / v) / v)
}

/// A mean over replicates with its 95 % confidence half-width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// t(0.975, n − 1) · s / √n; `None` for a single replicate (no spread to estimate from).
    pub ci95_half_width: Option<f64>,
    /// Number of replicates.
    pub n: u64,
}

impl Estimate {
    /// The estimate from independent replicate values (one per seed).
    ///
    /// # Errors
    /// [`StatsError::NoValues`] for an empty slice, [`StatsError::NonFinite`] if a value is NaN
    /// or infinite.
    pub fn from_replicates(values: &[f64]) -> Result<Estimate, StatsError> {
        let mut acc = Welford::new();
        for (index, &value) in values.iter().enumerate() {
            if !value.is_finite() {
                return Err(StatsError::NonFinite { index, value });
            }
            acc.push(value);
        }
        Estimate::from_welford(&acc).ok_or(StatsError::NoValues)
    }

    /// The estimate from an accumulator; `None` if it is empty.
    #[must_use]
    pub fn from_welford(acc: &Welford) -> Option<Estimate> {
        let mean = acc.mean()?;
        let n = acc.count();
        let ci95_half_width = acc
            .std_dev()
            .zip(t_quantile_975(n - 1))
            .map(|(s, t)| t * s / (n as f64).sqrt());
        Some(Estimate {
            mean,
            ci95_half_width,
            n,
        })
    }

    /// The interval (low, high); `None` for a single replicate.
    #[must_use]
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.ci95_half_width.map(|h| (self.mean - h, self.mean + h))
    }

    /// Whether `value` lies inside the 95 % interval (inclusive); `None` for a single replicate.
    #[must_use]
    pub fn contains(&self, value: f64) -> Option<bool> {
        self.interval()
            .map(|(low, high)| low <= value && value <= high)
    }
}

/// The paired-difference estimate of mean(A − B) for a common-random-number comparison:
/// `a[i]` and `b[i]` must come from runs with the same seed.
///
/// # Errors
/// [`StatsError::LengthMismatch`] if the samples differ in length, otherwise as
/// [`Estimate::from_replicates`] (a non-finite difference is reported at its index).
pub fn paired_difference(a: &[f64], b: &[f64]) -> Result<Estimate, StatsError> {
    if a.len() != b.len() {
        return Err(StatsError::LengthMismatch {
            a: a.len(),
            b: b.len(),
        });
    }
    let mut acc = Welford::new();
    for (index, (&x, &y)) in a.iter().zip(b).enumerate() {
        let d = x - y;
        if !d.is_finite() {
            return Err(StatsError::NonFinite { index, value: d });
        }
        acc.push(d);
    }
    Estimate::from_welford(&acc).ok_or(StatsError::NoValues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected} ± {tol}, got {actual}"
        );
    }

    #[test]
    fn welford_matches_two_pass() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut w = Welford::new();
        xs.iter().for_each(|&x| w.push(x));
        assert_eq!(w.count(), 8);
        close(w.mean().unwrap(), 5.0, 1e-12);
        // Σ(x − 5)² = 32, sample variance 32 / 7.
        close(w.variance().unwrap(), 32.0 / 7.0, 1e-12);
        assert_eq!(Welford::new().mean(), None);
        let mut one = Welford::new();
        one.push(3.0);
        assert_eq!(one.variance(), None);
    }

    #[test]
    fn welford_is_stable_with_a_large_offset() {
        // The textbook Σx² formula loses everything here; Welford keeps the variance exact.
        let mut w = Welford::new();
        for x in [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0] {
            w.push(x);
        }
        close(w.variance().unwrap(), 30.0, 1e-6);
    }

    #[test]
    fn welford_merge_equals_one_pass() {
        let xs: Vec<f64> = (0..100).map(|i| f64::from(i * i % 17) + 0.5).collect();
        let mut all = Welford::new();
        xs.iter().for_each(|&x| all.push(x));
        let (left, right) = xs.split_at(37);
        let mut a = Welford::new();
        let mut b = Welford::new();
        left.iter().for_each(|&x| a.push(x));
        right.iter().for_each(|&x| b.push(x));
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        close(a.mean().unwrap(), all.mean().unwrap(), 1e-12);
        close(a.variance().unwrap(), all.variance().unwrap(), 1e-10);
        let mut empty = Welford::new();
        empty.merge(&all);
        assert_eq!(empty, all);
    }

    #[test]
    fn t_quantiles_known_values() {
        close(t_quantile_975(1).unwrap(), 12.706, 5e-4);
        close(t_quantile_975(4).unwrap(), 2.776, 5e-4);
        close(t_quantile_975(19).unwrap(), 2.093, 5e-4);
        close(t_quantile_975(30).unwrap(), 2.042, 5e-4);
        // Beyond the table: reference values from the t distribution's inverse CDF.
        close(t_quantile_975(31).unwrap(), 2.039_513_446, 1e-6);
        close(t_quantile_975(40).unwrap(), 2.021_075_390, 1e-6);
        close(t_quantile_975(60).unwrap(), 2.000_297_822, 1e-6);
        close(t_quantile_975(120).unwrap(), 1.979_930_405, 1e-7);
        close(t_quantile_975(1000).unwrap(), 1.962_339_081, 1e-8);
        close(t_quantile_975(u64::MAX).unwrap(), 1.960, 5e-4);
        assert_eq!(t_quantile_975(0), None);
        // Decreasing in df, across the table boundary too.
        for df in 1..200 {
            assert!(t_quantile_975(df).unwrap() > t_quantile_975(df + 1).unwrap());
        }
    }

    #[test]
    fn estimate_from_replicates() {
        let e = Estimate::from_replicates(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(e.n, 5);
        close(e.mean, 3.0, 1e-12);
        // s = √2.5, t(4) = 2.776445…, half = t s / √5.
        close(
            e.ci95_half_width.unwrap(),
            2.776_445_105 * 2.5_f64.sqrt() / 5.0_f64.sqrt(),
            1e-8,
        );
        assert_eq!(e.contains(3.0), Some(true));
        assert_eq!(e.contains(10.0), Some(false));

        let single = Estimate::from_replicates(&[7.5]).unwrap();
        assert_eq!(single.ci95_half_width, None);
        assert_eq!(single.interval(), None);
        assert_eq!(Estimate::from_replicates(&[]), Err(StatsError::NoValues));
        assert!(matches!(
            Estimate::from_replicates(&[1.0, f64::NAN]),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
        let constant = Estimate::from_replicates(&[2.0, 2.0, 2.0]).unwrap();
        assert_eq!(constant.ci95_half_width, Some(0.0));
    }

    #[test]
    fn paired_difference_removes_common_noise() {
        // B = A + 1 exactly, with large run-to-run noise shared by both (common random numbers).
        let a = [10.0, 25.0, 13.0, 40.0, 22.0];
        let b: Vec<f64> = a.iter().map(|x| x + 1.0).collect();
        let d = paired_difference(&a, &b).unwrap();
        close(d.mean, -1.0, 1e-12);
        close(d.ci95_half_width.unwrap(), 0.0, 1e-12);
        // Unpaired intervals are wide by comparison.
        assert!(
            Estimate::from_replicates(&a)
                .unwrap()
                .ci95_half_width
                .unwrap()
                > 5.0
        );
        assert_eq!(
            paired_difference(&a, &b[..3]),
            Err(StatsError::LengthMismatch { a: 5, b: 3 })
        );
        assert_eq!(paired_difference(&[], &[]), Err(StatsError::NoValues));
    }
}
