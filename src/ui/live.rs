//! What the canvas and inspector show about each node at one moment of a run: rates, backlog,
//! DLQ depth, health, active faults.
//!
//! Figures come from one bucket of the run's time series: the last complete bucket while the
//! run goes on (the current one is still filling), the last bucket once it is over, or the
//! bucket under the plots' time cursor when the user points at a moment. Health is graded by
//! [`crate::analysis::health::states_at`], the grading the CLI's summary uses, so the canvas
//! colours a node exactly as `eventflow run` grades it in that bucket.

use std::collections::BTreeMap;

use crate::analysis::health;
use crate::metrics::{Metric, SeriesData};
use crate::model::{FaultKind, Scenario};

/// A node's health state: the analysis's own.
pub use crate::analysis::health::HealthState as Health;

/// One node at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeLive {
    /// Arrivals per second in the bucket.
    pub arrivals_per_s: f64,
    /// Completions per second in the bucket.
    pub completions_per_s: f64,
    /// Failed attempts per second in the bucket.
    pub failures_per_s: f64,
    /// Time-average messages waiting or in flight.
    pub backlog: f64,
    /// Time-average busy slots.
    pub busy: f64,
    /// Records behind (streams).
    pub lag: f64,
    /// Age of the oldest waiting message, seconds.
    pub lag_s: Option<f64>,
    /// Health state in the bucket.
    pub health: Health,
    /// A fault window active at this moment.
    pub fault: Option<FaultKind>,
}

/// Every node at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveView {
    /// Start of the bucket shown, seconds.
    pub time_s: f64,
    /// Width of a bucket, seconds.
    pub bucket_s: f64,
    /// True when showing the time cursor's moment rather than the latest.
    pub at_cursor: bool,
    /// By node id.
    pub nodes: BTreeMap<String, NodeLive>,
}

impl LiveView {
    /// The figures of every node of `scenario` in the bucket picked as described above.
    #[must_use]
    pub fn build(
        scenario: &Scenario,
        series: &SeriesData,
        finished: bool,
        cursor_s: Option<f64>,
    ) -> LiveView {
        let buckets = series.times_s.len();
        if buckets == 0 {
            return LiveView::default();
        }
        let bucket = match cursor_s {
            Some(t) if series.bucket_s > 0.0 => {
                ((t / series.bucket_s).floor().max(0.0) as usize).min(buckets - 1)
            }
            _ if finished || buckets == 1 => buckets - 1,
            _ => buckets - 2,
        };
        let time_s = series.times_s[bucket];
        let grades = health::states_at(scenario, series, bucket);
        let mut nodes = BTreeMap::new();
        for (i, id) in series.nodes.iter().enumerate() {
            let value = |m: Metric| {
                series
                    .get(i, m)
                    .and_then(|s| s.values.get(bucket).copied().flatten())
            };
            let live = NodeLive {
                arrivals_per_s: value(Metric::Arrivals).unwrap_or(0.0),
                completions_per_s: value(Metric::Completions).unwrap_or(0.0),
                failures_per_s: value(Metric::Failures).unwrap_or(0.0),
                backlog: value(Metric::Backlog).unwrap_or(0.0),
                busy: value(Metric::Busy).unwrap_or(0.0),
                lag: value(Metric::Lag).unwrap_or(0.0),
                lag_s: value(Metric::LagS),
                health: grades.get(id).copied().unwrap_or_default(),
                fault: active_fault(scenario, id, time_s + series.bucket_s / 2.0),
            };
            nodes.insert(id.clone(), live);
        }
        LiveView {
            time_s,
            bucket_s: series.bucket_s,
            at_cursor: cursor_s.is_some(),
            nodes,
        }
    }

    /// The node with this id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&NodeLive> {
        self.nodes.get(id)
    }
}

/// The kind of the fault window on `id` that covers time `t_s`, if any.
#[must_use]
pub fn active_fault(s: &Scenario, id: &str, t_s: f64) -> Option<FaultKind> {
    s.faults
        .iter()
        .find(|f| f.target == id && f.from.as_secs_f64() <= t_s && t_s < f.to.as_secs_f64())
        .map(|f| f.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Series;

    /// The canvas's colour comes from the CLI's grade: in every bucket, the live view's health
    /// of each node is the state `analysis::health::states` gives it, which the summary reports.
    #[test]
    fn the_canvas_grades_every_bucket_as_the_cli_does() {
        let s = match crate::scenario::from_value(serde_json::json!({
            "name": "t", "duration": "4s",
            "queues": [ { "id": "q", "max_receives": 3, "dead_letter": "dlq" }, { "id": "dlq" },
                        { "id": "unread" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" } } ]
        })) {
            Ok(l) => l.scenario,
            Err(p) => panic!("{p:?}"),
        };
        let v = |x: [f64; 4]| x.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        let series = SeriesData {
            bucket_s: 1.0,
            times_s: vec![0.0, 1.0, 2.0, 3.0],
            nodes: vec!["q".into(), "dlq".into(), "unread".into(), "c".into()],
            series: vec![
                // A queue's lag beside a larger backlog: the grade reads lag, not the larger.
                Series {
                    node: 0,
                    metric: Metric::Lag,
                    values: v([5.0, 20_000.0, 0.0, 0.0]),
                },
                Series {
                    node: 0,
                    metric: Metric::Backlog,
                    values: v([50_000.0, 20_000.0, 0.0, 0.0]),
                },
                Series {
                    node: 1,
                    metric: Metric::Backlog,
                    values: v([0.0, 150.0, 2_000.0, 0.0]),
                },
                Series {
                    node: 2,
                    metric: Metric::Backlog,
                    values: v([500.0, 0.0, 0.0, 0.0]),
                },
                Series {
                    node: 3,
                    metric: Metric::Completions,
                    values: v([999.0, 100.0, 0.0, 10.0]),
                },
                Series {
                    node: 3,
                    metric: Metric::Failures,
                    values: v([1.0, 0.0, 0.0, 1.0]),
                },
            ],
        };
        let cli = health::states(&s, &series);
        let mut seen = std::collections::BTreeSet::new();
        for bucket in 0..4 {
            let view = LiveView::build(&s, &series, true, Some(bucket as f64 + 0.5));
            for (id, h) in cli.nodes.iter() {
                let canvas = view.get(id).map(|n| n.health);
                assert_eq!(canvas, Some(h.states[bucket]), "{id} in bucket {bucket}");
                seen.insert(h.states[bucket]);
            }
        }
        assert_eq!(seen.len(), 3, "the check saw ok, warning and critical");
        // An unread queue is graded by depth against the DLQ thresholds, as the CLI does.
        assert_eq!(cli.nodes.get("unread").unwrap().states[0], Health::Warning);
    }
}
