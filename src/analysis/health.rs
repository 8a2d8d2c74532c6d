//! Health: each node's state (ok, warning, critical) over time, from the scenario's thresholds.
//!
//! Three signals, each with a warning and a critical threshold (`health` in the scenario; the
//! defaults are the design notes' monitoring table, [`HealthThresholds::default`]):
//!
//! | signal | nodes | value per time-series bucket | default warning / critical |
//! |---|---|---|---|
//! | `lag` | consumers reading a queue or stream, queues, streams | time-average messages not yet processed (`backlog`; `lag` for a stream) | > 10 000 / > 100 000 |
//! | `dlq_depth` | dead-letter queues ([`Topology::is_dead_letter_queue`]) and queues no consumer reads (nothing drains them) | time-average depth (`backlog`) | > 100 / > 1 000 |
//! | `error_rate` | consumers | failures / (completions + failures) in the bucket | > 0.1 % / > 1 % |
//! | `wait` | consumers reading a queue or stream | the oldest waiting message's age in the bucket (the source's `lag_s`; the consumer's p99 latency for a stream) | > the consumer's `slo.wait` / > 10 × it; without an `slo`, > 5 s / > 60 s |
//! | `lost` | queues, streams, buses | (rejected + expired) / (arrivals + rejected + expired) in the bucket: messages refused when full or expired | as `error_rate` |
//!
//! A consumer's lag counts the messages in service too (at most `concurrency` × `batch_size`,
//! negligible beside thresholds in the thousands). A node's state in a bucket is the worst over
//! its signals; values strictly above a threshold cross it. Because bucket values are averages,
//! a spike shorter than a bucket may not cross; use more buckets (`--buckets`) for finer detail.
//!
//! [`grade`] is the one grading rule: a node's state in one bucket. [`states`] applies it to every
//! bucket (the summary's final and worst state and first crossings, via [`summarize`]), and
//! [`states_at`] to one bucket (the canvas's colours), so the GUI colours a node exactly as the
//! CLI grades it. Without series, [`summarize`] grades the end-of-run figures by the same
//! thresholds.

use std::collections::BTreeMap;

use serde::Serialize;

use super::IdMap;
use crate::metrics::{Metric, SeriesData};
use crate::model::topology::Topology;
use crate::model::{HealthThresholds, Kind, Scenario};
use crate::sim::Results;

/// A node's health, ordered from best to worst.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Below every warning threshold.
    #[default]
    Ok,
    /// Above a warning threshold.
    Warning,
    /// Above a critical threshold.
    Critical,
}

impl HealthState {
    /// Lower-case name (`ok`, `warning`, `critical`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::Warning => "warning",
            HealthState::Critical => "critical",
        }
    }
}

/// The signal a threshold applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Messages or records not yet processed.
    Lag,
    /// Messages in a dead-letter queue.
    DlqDepth,
    /// Failed attempts / all attempts.
    ErrorRate,
    /// How long the oldest waiting message has waited, seconds.
    Wait,
    /// Messages rejected (a full queue, a throttled bus) or expired / all offered.
    Lost,
}

/// The wait warning threshold for a consumer without an `slo.wait`, seconds.
pub const DEFAULT_WAIT_WARNING_S: f64 = 5.0;
/// The wait critical threshold for a consumer without an `slo.wait`, seconds.
pub const DEFAULT_WAIT_CRITICAL_S: f64 = 60.0;
/// With an `slo.wait`, critical is this many times the target.
pub const WAIT_CRITICAL_FACTOR: f64 = 10.0;

/// The thresholds one node is graded by: the scenario's, and the wait limits of its `slo`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeThresholds {
    /// The scenario's thresholds (`health`, or the defaults).
    pub base: HealthThresholds,
    /// (warning, critical) wait, seconds.
    pub wait_s: (f64, f64),
}

impl NodeThresholds {
    /// The defaults for a node without an `slo`.
    #[must_use]
    pub fn new(base: HealthThresholds) -> Self {
        NodeThresholds {
            base,
            wait_s: (DEFAULT_WAIT_WARNING_S, DEFAULT_WAIT_CRITICAL_S),
        }
    }

    /// The (warning, critical) thresholds of `signal`.
    #[must_use]
    pub fn of(&self, signal: Signal) -> (f64, f64) {
        match signal {
            Signal::Wait => self.wait_s,
            other => other.thresholds(&self.base),
        }
    }

    /// The state `value` of `signal` puts the node in (strictly above a threshold crosses it).
    #[must_use]
    pub fn classify(&self, signal: Signal, value: f64) -> HealthState {
        let (warning, critical) = self.of(signal);
        if value > critical {
            HealthState::Critical
        } else if value > warning {
            HealthState::Warning
        } else {
            HealthState::Ok
        }
    }
}

impl Signal {
    /// The `snake_case` name (`lag`, `dlq_depth`, `error_rate`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Lag => "lag",
            Signal::DlqDepth => "dlq_depth",
            Signal::ErrorRate => "error_rate",
            Signal::Wait => "wait",
            Signal::Lost => "lost",
        }
    }

    /// The (warning, critical) thresholds for this signal (the default wait limits for
    /// [`Signal::Wait`]: a consumer's `slo` changes them, see [`NodeThresholds`]).
    #[must_use]
    pub fn thresholds(self, t: &HealthThresholds) -> (f64, f64) {
        match self {
            Signal::Lag => (t.lag_warning as f64, t.lag_critical as f64),
            Signal::DlqDepth => (t.dlq_warning as f64, t.dlq_critical as f64),
            Signal::ErrorRate | Signal::Lost => (t.error_rate_warning, t.error_rate_critical),
            Signal::Wait => (DEFAULT_WAIT_WARNING_S, DEFAULT_WAIT_CRITICAL_S),
        }
    }

    /// The state a value puts the node in, by the default thresholds.
    #[must_use]
    pub fn classify(self, value: f64, t: &HealthThresholds) -> HealthState {
        NodeThresholds::new(t.clone()).classify(self, value)
    }
}

/// The first time a node crossed one threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Crossing {
    /// Which signal.
    pub signal: Signal,
    /// Which threshold: [`HealthState::Warning`] or [`HealthState::Critical`].
    pub level: HealthState,
    /// Start of the first bucket above the threshold, seconds; `None` when only the end of the
    /// run is known (results without series).
    pub at_s: Option<f64>,
    /// The signal's value there.
    pub value: f64,
    /// The threshold crossed.
    pub threshold: f64,
}

/// One node's state per bucket and its first crossings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeHealth {
    /// The signals that apply to this node.
    pub signals: Vec<Signal>,
    /// State per bucket (parallel to [`HealthTimeline::times_s`]).
    pub states: Vec<HealthState>,
    /// First crossing of each threshold, in time order.
    pub first_crossings: Vec<Crossing>,
}

/// Every monitored node's state over time, for the GUI to colour by.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthTimeline {
    /// Start of each bucket, seconds (as in [`SeriesData::times_s`]).
    pub times_s: Vec<f64>,
    /// Monitored nodes, in file order.
    pub nodes: IdMap<NodeHealth>,
}

/// A node's health in the run summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeHealthSummary {
    /// State at the end of the run (last bucket).
    pub state: HealthState,
    /// Worst state at any time.
    pub worst: HealthState,
    /// First crossing of each threshold, in time order.
    pub first_crossings: Vec<Crossing>,
}

/// The health part of the summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthSummary {
    /// The thresholds in force.
    pub thresholds: HealthThresholds,
    /// True when computed from the time series (crossing times known to a bucket).
    pub from_series: bool,
    /// Monitored nodes, in file order.
    pub nodes: IdMap<NodeHealthSummary>,
}

/// One monitored node: its signals and thresholds, and where its wait is measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    /// The node.
    pub id: String,
    /// The signals that apply to it.
    pub signals: Vec<Signal>,
    /// Its thresholds.
    pub thresholds: NodeThresholds,
    /// The queue a consumer reads (its wait is the queue's oldest message age).
    pub source: Option<String>,
}

/// The monitored nodes and their signals, in file order. A queue is graded by its depth
/// against the DLQ thresholds when it is a dead-letter queue, or when no consumer reads it
/// (nothing drains it, so its depth is what to watch); other queues and streams by lag; queues,
/// streams and buses also by the share of messages they lose (rejected or expired); consumers
/// by error rate, and by lag and wait unless invoked directly.
#[must_use]
pub fn monitored(s: &Scenario) -> Vec<(String, Vec<Signal>)> {
    watches(s).into_iter().map(|w| (w.id, w.signals)).collect()
}

/// [`monitored`] with each node's thresholds.
#[must_use]
pub fn watches(s: &Scenario) -> Vec<Watch> {
    let topology = Topology::new(s);
    let base = s.health_thresholds();
    let mut out = Vec::new();
    for node in topology.nodes() {
        let c = node.component;
        let mut thresholds = NodeThresholds::new(base.clone());
        let mut source = None;
        let signals = match c.kind {
            Kind::Queue
                if topology.is_dead_letter_queue(c.index) || !topology.is_read(&node.id) =>
            {
                vec![Signal::DlqDepth, Signal::Lost]
            }
            Kind::Queue | Kind::Stream => vec![Signal::Lag, Signal::Lost],
            Kind::Bus | Kind::Topic | Kind::Pipe => vec![Signal::Lost],
            Kind::StateMachine => vec![Signal::ErrorRate],
            Kind::Consumer => {
                let consumer = topology
                    .index_of(&node.id, Kind::Consumer)
                    .and_then(|i| s.consumers.get(i));
                if let Some(w) = consumer.and_then(|c| c.slo.as_ref()).and_then(|s| s.wait) {
                    let w = w.as_secs_f64();
                    thresholds.wait_s = (w, w * WAIT_CRITICAL_FACTOR);
                }
                source = consumer.and_then(|c| c.from.clone());
                if source.is_none() {
                    vec![Signal::ErrorRate]
                } else {
                    vec![Signal::Lag, Signal::Wait, Signal::ErrorRate]
                }
            }
            Kind::Producer => continue,
        };
        out.push(Watch {
            id: node.id.clone(),
            signals,
            thresholds,
            source,
        });
    }
    out
}

/// One signal's value in one bucket for a node (`None` where it has no value): lag and DLQ
/// depth are the node's `lag` series, else its `backlog` (0 when it has neither); the error
/// rate is failures / (completions + failures) in the bucket (none without attempts); the wait
/// is `source`'s oldest message age (`lag_s`), else the node's p99 latency; the loss share is
/// (rejected + expired) / (arrivals + rejected + expired).
#[must_use]
pub fn signal_value(
    series: &SeriesData,
    node: Option<usize>,
    signal: Signal,
    bucket: usize,
) -> Option<f64> {
    signal_value_from(series, node, None, signal, bucket)
}

/// [`signal_value`], with the wait measured at `source` (the queue a consumer reads).
#[must_use]
pub fn signal_value_from(
    series: &SeriesData,
    node: Option<usize>,
    source: Option<usize>,
    signal: Signal,
    bucket: usize,
) -> Option<f64> {
    let values = |i: Option<usize>, m: Metric| -> Option<&Vec<Option<f64>>> {
        i.and_then(|i| series.get(i, m)).map(|s| &s.values)
    };
    let at = |m: Metric| {
        values(node, m)
            .and_then(|v| v.get(bucket).copied().flatten())
            .unwrap_or(0.0)
    };
    match signal {
        Signal::Lag | Signal::DlqDepth => values(node, Metric::Lag)
            .or_else(|| values(node, Metric::Backlog))
            .map_or(Some(0.0), |v| v.get(bucket).copied().flatten()),
        Signal::ErrorRate => {
            let (f, c) = (at(Metric::Failures), at(Metric::Completions));
            (f + c > 0.0).then(|| f / (f + c))
        }
        Signal::Wait => values(source, Metric::LagS)
            .or_else(|| values(node, Metric::LatencyP99))
            .and_then(|v| v.get(bucket).copied().flatten()),
        Signal::Lost => {
            let lost = at(Metric::Rejected) + at(Metric::Expired);
            let offered = at(Metric::Arrivals) + lost;
            (offered > 0.0).then(|| lost / offered)
        }
    }
}

/// The one grading rule: a node's state in bucket `bucket` of `series`, the worst over its
/// signals of each value against its thresholds (strictly above crosses; a signal without a
/// value counts as ok). `node` and `source` are indices in `series.nodes`.
#[must_use]
pub fn grade(
    series: &SeriesData,
    node: Option<usize>,
    source: Option<usize>,
    watch: &Watch,
    bucket: usize,
) -> HealthState {
    watch
        .signals
        .iter()
        .filter_map(|&signal| {
            signal_value_from(series, node, source, signal, bucket)
                .map(|v| watch.thresholds.classify(signal, v))
        })
        .max()
        .unwrap_or_default()
}

/// Each node name's index in `series.nodes` (looked up once per watch, not scanned).
fn node_index(series: &SeriesData) -> BTreeMap<&str, usize> {
    let mut out = BTreeMap::new();
    for (i, n) in series.nodes.iter().enumerate() {
        out.entry(n.as_str()).or_insert(i);
    }
    out
}

fn indices(index: &BTreeMap<&str, usize>, w: &Watch) -> (Option<usize>, Option<usize>) {
    let find = |id: &str| index.get(id).copied();
    (find(&w.id), w.source.as_deref().and_then(find))
}

/// Every monitored node's state in one bucket of `series` (the canvas's colours), in file
/// order; nodes the series does not name are ok. The same grading as [`states`].
#[must_use]
pub fn states_at(scenario: &Scenario, series: &SeriesData, bucket: usize) -> IdMap<HealthState> {
    let index = node_index(series);
    IdMap(
        watches(scenario)
            .into_iter()
            .map(|w| {
                let (node, source) = indices(&index, &w);
                let state = grade(series, node, source, &w, bucket);
                (w.id, state)
            })
            .collect(),
    )
}

/// Each monitored node's state per bucket of `series`, and when each threshold was first
/// crossed. Nodes of the scenario that the series does not name are reported as always ok.
#[must_use]
pub fn states(scenario: &Scenario, series: &SeriesData) -> HealthTimeline {
    let buckets = series.times_s.len();
    let mut nodes = Vec::new();
    let node_index = node_index(series);
    for w in watches(scenario) {
        let (index, source) = indices(&node_index, &w);
        let states: Vec<HealthState> = (0..buckets)
            .map(|i| grade(series, index, source, &w, i))
            .collect();
        let mut first_crossings = Vec::new();
        for &signal in &w.signals {
            let (warning, critical) = w.thresholds.of(signal);
            let mut seen = [false; 2];
            for i in 0..buckets {
                let Some(v) = signal_value_from(series, index, source, signal, i) else {
                    continue;
                };
                let state = w.thresholds.classify(signal, v);
                for (k, (level, threshold)) in [
                    (HealthState::Warning, warning),
                    (HealthState::Critical, critical),
                ]
                .into_iter()
                .enumerate()
                {
                    if state >= level && !seen[k] {
                        seen[k] = true;
                        first_crossings.push(Crossing {
                            signal,
                            level,
                            at_s: series.times_s.get(i).copied(),
                            value: v,
                            threshold,
                        });
                    }
                }
            }
        }
        first_crossings.sort_by(|a, b| {
            a.at_s
                .partial_cmp(&b.at_s)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        nodes.push((
            w.id,
            NodeHealth {
                signals: w.signals,
                states,
                first_crossings,
            },
        ));
    }
    HealthTimeline {
        times_s: series.times_s.clone(),
        nodes: IdMap(nodes),
    }
}

/// End-of-run value of a signal from the results alone.
fn end_value(scenario: &Scenario, results: &Results, id: &str, signal: Signal) -> Option<f64> {
    let n = results.nodes.get(id)?;
    match signal {
        Signal::Lag | Signal::DlqDepth => {
            let from = scenario
                .consumers
                .iter()
                .find(|c| c.id == id)
                .and_then(|c| c.from.as_deref());
            let lag = match from {
                Some(source) => results.nodes.get(source).and_then(|s| s.lag),
                None => n.lag,
            };
            lag.map(|l| l as f64)
        }
        Signal::ErrorRate => {
            let attempts = n.completed + n.failed;
            (attempts > 0).then(|| n.failed as f64 / attempts as f64)
        }
        Signal::Wait => {
            let from = scenario
                .consumers
                .iter()
                .find(|c| c.id == id)
                .and_then(|c| c.from.as_deref());
            from.and_then(|s| results.nodes.get(s))
                .and_then(|s| s.lag_s)
                .or(Some(n.wait_s.p99_s))
        }
        Signal::Lost => {
            let lost = n.rejected + n.expired;
            let offered = n.arrived + lost;
            (offered > 0).then(|| lost as f64 / offered as f64)
        }
    }
}

/// The health summary of a run: from `results.series` when present, else from the end-of-run
/// figures (the backlog at the end, the error rate over the window; no crossing times).
#[must_use]
pub fn summarize(scenario: &Scenario, results: &Results) -> HealthSummary {
    let thresholds = scenario.health_thresholds();
    if let Some(series) = &results.series {
        let timeline = states(scenario, series);
        let nodes = timeline
            .nodes
            .0
            .into_iter()
            .map(|(id, h)| {
                let summary = NodeHealthSummary {
                    state: h.states.last().copied().unwrap_or_default(),
                    worst: h.states.iter().copied().max().unwrap_or_default(),
                    first_crossings: h.first_crossings,
                };
                (id, summary)
            })
            .collect();
        return HealthSummary {
            thresholds,
            from_series: true,
            nodes: IdMap(nodes),
        };
    }
    let mut nodes = Vec::new();
    for w in watches(scenario) {
        let id = w.id;
        let mut state = HealthState::Ok;
        let mut first_crossings = Vec::new();
        for signal in w.signals {
            let Some(v) = end_value(scenario, results, &id, signal) else {
                continue;
            };
            let s = w.thresholds.classify(signal, v);
            state = state.max(s);
            let (warning, critical) = w.thresholds.of(signal);
            for (level, threshold) in [
                (HealthState::Warning, warning),
                (HealthState::Critical, critical),
            ] {
                if s >= level {
                    first_crossings.push(Crossing {
                        signal,
                        level,
                        at_s: None,
                        value: v,
                        threshold,
                    });
                }
            }
        }
        nodes.push((
            id,
            NodeHealthSummary {
                state,
                worst: state,
                first_crossings,
            },
        ));
    }
    HealthSummary {
        thresholds,
        from_series: false,
        nodes: IdMap(nodes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Series;

    #[test]
    fn classify_uses_strict_thresholds() {
        let t = HealthThresholds::default();
        assert_eq!(Signal::Lag.classify(10_000.0, &t), HealthState::Ok);
        assert_eq!(Signal::Lag.classify(10_001.0, &t), HealthState::Warning);
        assert_eq!(Signal::Lag.classify(100_001.0, &t), HealthState::Critical);
        assert_eq!(Signal::DlqDepth.classify(101.0, &t), HealthState::Warning);
        assert_eq!(Signal::ErrorRate.classify(0.005, &t), HealthState::Warning);
        assert_eq!(Signal::ErrorRate.classify(0.02, &t), HealthState::Critical);
    }

    #[test]
    fn states_and_first_crossings_from_series() {
        let s = match crate::scenario::from_value(serde_json::json!({
            "name": "t", "duration": "4s",
            "queues": [ { "id": "q", "max_receives": 3, "dead_letter": "dlq" }, { "id": "dlq" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" } } ]
        })) {
            Ok(l) => l.scenario,
            Err(p) => panic!("{p:?}"),
        };
        let series = SeriesData {
            bucket_s: 1.0,
            times_s: vec![0.0, 1.0, 2.0, 3.0],
            nodes: vec!["q".into(), "dlq".into(), "c".into()],
            series: vec![
                Series {
                    node: 1,
                    metric: Metric::Backlog,
                    values: vec![Some(0.0), Some(150.0), Some(2000.0), Some(50.0)],
                },
                Series {
                    node: 2,
                    metric: Metric::Backlog,
                    values: vec![Some(20_000.0), Some(0.0), Some(0.0), Some(0.0)],
                },
                Series {
                    node: 2,
                    metric: Metric::Completions,
                    values: vec![Some(999.0), Some(100.0), Some(0.0), Some(10.0)],
                },
                Series {
                    node: 2,
                    metric: Metric::Failures,
                    values: vec![Some(1.0), Some(0.0), Some(0.0), Some(1.0)],
                },
            ],
        };
        let h = states(&s, &series);
        let dlq = h.nodes.get("dlq").unwrap();
        assert_eq!(dlq.signals, vec![Signal::DlqDepth, Signal::Lost]);
        let (ok, warning, critical) =
            (HealthState::Ok, HealthState::Warning, HealthState::Critical);
        assert_eq!(dlq.states, vec![ok, warning, critical, ok]);
        assert_eq!(
            dlq.first_crossings
                .iter()
                .map(|c| (c.level, c.at_s))
                .collect::<Vec<_>>(),
            vec![(warning, Some(1.0)), (critical, Some(2.0))]
        );
        let c = h.nodes.get("c").unwrap();
        // Lag warning at 0 s, error rate 0.1 % (not above) at 0 s, 1/11 critical at 3 s.
        assert_eq!(c.states, vec![warning, ok, ok, critical]);
        assert_eq!(
            c.first_crossings
                .iter()
                .map(|c| (c.signal, c.level, c.at_s))
                .collect::<Vec<_>>(),
            vec![
                (Signal::Lag, warning, Some(0.0)),
                (Signal::ErrorRate, warning, Some(3.0)),
                (Signal::ErrorRate, critical, Some(3.0)),
            ]
        );
        assert_eq!(h.nodes.get("q").unwrap().states, vec![ok; 4]);
    }

    fn run_example(name: &str) -> (Scenario, HealthSummary) {
        let e = crate::examples::find(name).expect("bundled");
        let s = crate::scenario::parse(e.text, e.file_name)
            .unwrap()
            .scenario;
        let r = crate::sim::run(&s, &crate::sim::RunOptions::default()).unwrap();
        let h = summarize(&s, &r);
        (s, h)
    }

    /// 01: payment's backlog reaches ~3,700 and its oldest message waits well over the 5 s
    /// default during the burst: not "ok throughout".
    #[test]
    fn a_long_wait_is_a_warning() {
        let (_, h) = run_example("order-fanout");
        let payment = h.nodes.get("payment").unwrap();
        assert!(payment.worst >= HealthState::Warning, "{payment:?}");
        assert!(
            payment
                .first_crossings
                .iter()
                .any(|c| c.signal == Signal::Wait)
        );
        assert_eq!(h.nodes.get("inventory").unwrap().worst, HealthState::Ok);
    }

    /// 07: a full queue rejecting a third of the orders is critical, not a lag warning.
    #[test]
    fn rejections_are_errors() {
        let (_, h) = run_example("flash-sale");
        let q = h.nodes.get("fulfilment-q").unwrap();
        assert_eq!(q.worst, HealthState::Critical, "{q:?}");
        assert!(
            q.first_crossings
                .iter()
                .any(|c| c.signal == Signal::Lost && c.level == HealthState::Critical)
        );
    }

    #[test]
    fn an_slo_sets_the_wait_thresholds() {
        let s = match crate::scenario::from_value(serde_json::json!({
            "name": "t", "duration": "4s",
            "queues": [ { "id": "q" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" },
                             "slo": { "wait": "200ms" } },
                           { "id": "d", "from": "q", "service_time": { "constant": "1ms" } } ]
        })) {
            Ok(l) => l.scenario,
            Err(p) => panic!("{p:?}"),
        };
        let w = watches(&s);
        let c = w.iter().find(|w| w.id == "c").unwrap();
        assert_eq!(c.thresholds.wait_s, (0.2, 2.0));
        assert_eq!(c.source.as_deref(), Some("q"));
        let d = w.iter().find(|w| w.id == "d").unwrap();
        assert_eq!(
            d.thresholds.wait_s,
            (DEFAULT_WAIT_WARNING_S, DEFAULT_WAIT_CRITICAL_S)
        );
        assert_eq!(
            c.thresholds.classify(Signal::Wait, 0.3),
            HealthState::Warning
        );
        assert_eq!(d.thresholds.classify(Signal::Wait, 0.3), HealthState::Ok);
    }
}
