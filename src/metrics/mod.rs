//! Streaming measurement in bounded memory: what the engine records while a run plays out.
//!
//! The engine calls these collectors on its hot path, so every recording call is O(1)
//! (amortized where noted), allocation-free, takes integer nanoseconds of simulated time, and
//! keeps memory independent of the number of events. Nothing here iterates a hash map, so the
//! output depends only on the calls made.
//!
//! - [`Latency`]: a latency distribution (wait or time in system) → [`LatencySummary`], the
//!   results contract's `{mean, p50, p95, p99, max}` in seconds; exact mean and max, percentiles
//!   to 3 significant digits.
//! - [`TimeAverage`]: the exact time average and maximum of an integer level (number in system,
//!   queue depth, busy slots) over the measurement window after the warm-up: the L of Little's
//!   law and the numerator of utilization.
//! - [`SeriesRecorder`]: per-node time series in fixed buckets for plots and CSV
//!   ([`SeriesData`]), with cheap partial snapshots for a run in progress.
//!
//! Files: `histogram.rs` (the HDR histogram latencies are counted in), `latency.rs`,
//! `time_average.rs`, `series.rs` (the metrics, [`SeriesData`] and its CSV form), `recorder.rs`
//! ([`SeriesRecorder`]).
//!
//! ```text
//!   engine ──count/level/latency(t_ns)──► SeriesRecorder ──snapshot(now)──► GUI plots
//!      │                                        └──finish(end)──► SeriesData ──► JSON / CSV
//!      ├──record(ns)──► Latency ──summary()──► wait_s / latency_s
//!      └──set(t_ns, n)─► TimeAverage ──mean(end)──► mean_number_in_system, utilization
//! ```

mod histogram;
mod latency;
mod recorder;
mod series;
mod time_average;

pub use latency::{Latency, LatencySummary, MAX_TRACKABLE_NS};
pub use recorder::SeriesRecorder;
pub use series::{
    Counter, DEFAULT_BUCKETS, Level, Metric, MetricKind, Sampled, Series, SeriesCsvError,
    SeriesData, UnknownMetric,
};
pub use time_average::TimeAverage;

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    /// A deterministic single-server queue whose L and W are known exactly: every 10 s two
    /// customers arrive together and each needs 3 s of service. The first is in the system
    /// for 3 s, the second waits 3 s then is served, leaving at 6 s: W = 4.5 s, λ = 0.2/s,
    /// and N(t) is 2 for 3 s, 1 for 3 s, 0 for 4 s, so L = 9/10 = 0.9 = λ W.
    #[test]
    fn littles_law_on_a_deterministic_queue() {
        let cycles = 100_u64;
        let end = cycles * 10 * S;
        let mut in_system = TimeAverage::new(0);
        let mut time_in_system = Latency::new();
        let mut wait = Latency::new();
        let mut series = SeriesRecorder::new(vec!["server".to_owned()], 100, end);
        let mut arrivals = 0_u64;
        for k in 0..cycles {
            let t = k * 10 * S;
            in_system.add(t, 2);
            series.count(0, Counter::Arrivals, t, 2);
            series.adjust_level(0, Level::Backlog, t, 2);
            arrivals += 2;
            in_system.add(t + 3 * S, -1);
            series.adjust_level(0, Level::Backlog, t + 3 * S, -1);
            series.latency(0, t + 3 * S, 3 * S);
            time_in_system.record(3 * S);
            wait.record(0);
            in_system.add(t + 6 * S, -1);
            series.adjust_level(0, Level::Backlog, t + 6 * S, -1);
            series.latency(0, t + 6 * S, 6 * S);
            time_in_system.record(6 * S);
            wait.record(3 * S);
        }
        let l = in_system.mean(end);
        let lambda = arrivals as f64 / (end as f64 / 1e9);
        let w = time_in_system.summary().mean_s;
        assert_eq!(l, 0.9);
        assert_eq!(w, 4.5);
        assert!(
            (l - lambda * w).abs() < 1e-12,
            "L = {l}, λW = {}",
            lambda * w
        );
        assert_eq!(in_system.max(), 2);
        assert_eq!(wait.summary().mean_s, 1.5);
        assert_eq!(time_in_system.summary().max_s, 6.0);

        // The series agree: every 10 s bucket averages 0.9 in the system, 0.2 arrivals/s.
        let data = series.finish(end);
        let backlog = data.get(0, Metric::Backlog).map(|s| s.values.clone());
        assert_eq!(backlog, Some(vec![Some(0.9); 100]));
        let rates = data.get(0, Metric::Arrivals).map(|s| s.values.clone());
        assert_eq!(rates, Some(vec![Some(0.2); 100]));
    }

    /// The same queue measured after a warm-up that ends mid-cycle: the level in force at the
    /// window start carries in.
    #[test]
    fn littles_law_window_after_warm_up() {
        let warm_up = 105 * S; // one customer in service, 1 s left
        let end = 1005 * S;
        let mut n = TimeAverage::new(warm_up);
        for k in 0..101_u64 {
            let t = k * 10 * S;
            for (at, delta) in [(t, 2), (t + 3 * S, -1), (t + 6 * S, -1)] {
                if at <= end {
                    n.add(at, delta);
                }
            }
        }
        // [105, 106) at 1, 89 full cycles from 110 to 1000 at 9 each, then [1000, 1005):
        // 2 for 3 s and 1 for 2 s.
        let area_s: u64 = 1 + 89 * 9 + 2 * 3 + 2;
        assert_eq!(n.area(end), u128::from(area_s) * u128::from(S));
        assert_eq!(n.mean(end), area_s as f64 / 900.0);
    }
}
