//! What the canvas and inspector show about each node at one moment of a run: rates, backlog,
//! DLQ depth, health, active faults.
//!
//! Figures come from one bucket of the run's time series: the last complete bucket while the
//! run goes on (the current one is still filling), the last bucket once it is over, or the
//! bucket under the plots' time cursor when the user points at a moment. Health colours use
//! the scenario's thresholds with the rules of `analysis/health.rs` (lag and DLQ depth from
//! the backlog level, error rate from failures / attempts); [`health_of`] is the one function
//! to swap for `crate::analysis` once its per-node health is public.

use std::collections::BTreeMap;

use crate::metrics::{Metric, SeriesData};
use crate::model::{FaultKind, HealthThresholds, Kind, Scenario};

/// A node's health state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// Below every warning threshold.
    #[default]
    Ok,
    /// Above a warning threshold.
    Warning,
    /// Above a critical threshold.
    Critical,
}

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
    /// Is this a dead-letter queue?
    pub is_dlq: bool,
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
        let thresholds = scenario.health_thresholds();
        let mut nodes = BTreeMap::new();
        for (i, id) in series.nodes.iter().enumerate() {
            let value = |m: Metric| {
                series
                    .get(i, m)
                    .and_then(|s| s.values.get(bucket).copied().flatten())
            };
            let kind = scenario.kind_of(id);
            let is_dlq = kind == Some(Kind::Queue)
                && crate::analysis::health::is_dead_letter_queue(scenario, id);
            let mut live = NodeLive {
                arrivals_per_s: value(Metric::Arrivals).unwrap_or(0.0),
                completions_per_s: value(Metric::Completions).unwrap_or(0.0),
                failures_per_s: value(Metric::Failures).unwrap_or(0.0),
                backlog: value(Metric::Backlog).unwrap_or(0.0),
                busy: value(Metric::Busy).unwrap_or(0.0),
                lag: value(Metric::Lag).unwrap_or(0.0),
                lag_s: value(Metric::LagS),
                is_dlq,
                health: Health::Ok,
                fault: active_fault(scenario, id, time_s + series.bucket_s / 2.0),
            };
            live.health = health_of(kind, &live, &thresholds);
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

/// A node's health from its figures: the worst of lag (queues, streams, consumers), DLQ depth
/// (dead-letter queues) and error rate (consumers), each against its warning and critical
/// thresholds (strictly above crosses).
#[must_use]
pub fn health_of(kind: Option<Kind>, live: &NodeLive, t: &HealthThresholds) -> Health {
    let grade = |value: f64, warning: f64, critical: f64| {
        if value > critical {
            Health::Critical
        } else if value > warning {
            Health::Warning
        } else {
            Health::Ok
        }
    };
    let lag = live.lag.max(live.backlog);
    match kind {
        Some(Kind::Queue) if live.is_dlq => {
            grade(live.backlog, t.dlq_warning as f64, t.dlq_critical as f64)
        }
        Some(Kind::Queue | Kind::Stream) => grade(lag, t.lag_warning as f64, t.lag_critical as f64),
        Some(Kind::Consumer) => {
            let attempts = live.failures_per_s + live.completions_per_s;
            let error_rate = if attempts > 0.0 {
                live.failures_per_s / attempts
            } else {
                0.0
            };
            grade(lag, t.lag_warning as f64, t.lag_critical as f64).max(grade(
                error_rate,
                t.error_rate_warning,
                t.error_rate_critical,
            ))
        }
        _ => Health::Ok,
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

    #[test]
    fn health_grades_by_the_thresholds() {
        let t = HealthThresholds::default();
        let mut live = NodeLive {
            backlog: 20_000.0,
            ..NodeLive::default()
        };
        assert_eq!(health_of(Some(Kind::Queue), &live, &t), Health::Warning);
        live.is_dlq = true;
        assert_eq!(health_of(Some(Kind::Queue), &live, &t), Health::Critical);
        let failing = NodeLive {
            completions_per_s: 99.0,
            failures_per_s: 1.0,
            ..NodeLive::default()
        };
        assert_eq!(
            health_of(Some(Kind::Consumer), &failing, &t),
            Health::Warning
        );
        assert_eq!(health_of(Some(Kind::Producer), &failing, &t), Health::Ok);
    }
}
