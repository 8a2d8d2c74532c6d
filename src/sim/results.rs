//! The results contract (`eventflow run FILE --json`), built from an engine's collectors.

use serde::Serialize;
use serde::ser::SerializeMap;

use super::engine::Engine;
use super::ledger::Conservation;
use crate::metrics::{LatencySummary, SeriesData};
use crate::model::{Kind, Scenario};

/// The whole results object.
#[derive(Clone, Debug, Serialize)]
pub struct Results {
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// Run length, seconds.
    pub duration_s: f64,
    /// Warm-up, seconds.
    pub warmup_s: f64,
    /// Engine figures.
    pub engine: EngineInfo,
    /// Per component, in file order.
    pub nodes: Nodes,
    /// End-to-end figures.
    pub end_to_end: EndToEnd,
    /// The delivery balance.
    pub conservation: Conservation,
    /// Time series (omitted when not asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesData>,
}

/// Engine figures.
#[derive(Clone, Debug, Serialize)]
pub struct EngineInfo {
    /// Events handled by the engine.
    pub events_processed: u64,
    /// Wall-clock time of the run (the only field that differs between identical runs).
    pub wall_seconds: f64,
    /// Simulated seconds reached.
    pub simulated_s: f64,
    /// Why the run stopped early (loop guard), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// End-to-end latency: from a root event's production to a completion at the end of its chain.
#[derive(Clone, Debug, Serialize)]
pub struct EndToEnd {
    /// Seconds.
    pub latency_s: LatencySummary,
}

/// Depth statistics of a waiting line.
#[derive(Clone, Debug, Serialize)]
pub struct QueueDepth {
    /// Time-average messages waiting.
    pub mean: f64,
    /// Most messages waiting at once.
    pub max: u64,
}

/// One component's figures over the measured window.
#[derive(Clone, Debug, Serialize)]
pub struct NodeResult {
    /// producer, bus, queue, stream or consumer (serialized in lower case).
    pub kind: Kind,
    /// Arrivals (messages that became available to it).
    pub arrived: u64,
    /// Successful completions (routed events for a bus, sent events for a producer).
    pub completed: u64,
    /// Failed attempts.
    pub failed: u64,
    /// Redeliveries and retries.
    pub retried: u64,
    /// Throttled attempts.
    pub throttled: u64,
    /// Messages dead-lettered from here.
    pub dead_lettered: u64,
    /// Messages refused (full, outage).
    pub rejected: u64,
    /// Messages that expired.
    pub expired: u64,
    /// Duplicate deliveries seen.
    pub duplicates: u64,
    /// Starts after a later-produced event of the same key.
    pub out_of_order: u64,
    /// Arrivals per second (λ).
    pub arrival_rate: f64,
    /// Completions per second.
    pub throughput: f64,
    /// Slots (consumers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Time-average number in system (L).
    pub mean_number_in_system: f64,
    /// Mean time in system (W), over every departure.
    pub mean_time_in_system_s: f64,
    /// λ × W, to set beside L.
    pub littles_law_lambda_w: f64,
    /// Busy slot-time / (slots × window); the slots averaged over time when a `set` timeline
    /// entry changes them mid-run.
    pub utilization: f64,
    /// Arrival → service start.
    pub wait_s: LatencySummary,
    /// Arrival → completion.
    pub latency_s: LatencySummary,
    /// Waiting line.
    pub queue_depth: QueueDepth,
    /// Records or messages behind at the end (queues and streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag: Option<u64>,
    /// Age of the oldest waiting message at the end, seconds (queues and streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_s: Option<f64>,
    /// Dead-lettered or dropped messages by reason.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub dead_letter_reasons: std::collections::BTreeMap<&'static str, u64>,
    /// Attempts per event that reached the consumer (1 = no retries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_amplification: Option<f64>,
    /// Unique events completed per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goodput: Option<f64>,
    /// Circuit-breaker state changes.
    #[serde(skip_serializing_if = "is_zero")]
    pub circuit_breaker_transitions: u64,
    /// Events this consumer emitted.
    #[serde(skip_serializing_if = "is_zero")]
    pub emitted: u64,
    /// Circuit-breaker state at the end (`closed`, `open`, `half_open`), for consumers with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<&'static str>,
    /// Faults in force at the end (`outage`, `slowdown`, `errors`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<&'static str>,
    /// A function invoked asynchronously: its own queue and destinations.
    #[serde(rename = "async", skip_serializing_if = "Option::is_none")]
    pub asynchronous: Option<AsyncFigures>,
    /// A consumer reading a queue or stream through an event source mapping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingFigures>,
    /// A topic's subscriptions, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubscriptionResult>,
    /// A state machine's executions (started after the warm-up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine: Option<MachineFigures>,
    /// A pipe's figures (its source side is in `mapping`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipe: Option<PipeFigures>,
}

/// A pipe's figures over the measured window: what it read, kept out, enriched and delivered.
/// `read = filtered + delivered + failed-for-good + in flight`, where a batch retried by the
/// source's rules counts once per attempt in `failed`.
#[derive(Clone, Debug, Serialize)]
pub struct PipeFigures {
    /// Events read from the source (each once).
    pub read: u64,
    /// Events its filter kept out (completed unprocessed).
    pub filtered: u64,
    /// Batches read (the source's mapping figures are in `mapping`).
    pub batches: u64,
    /// Enrichment invocations (one per batch) and those that failed or were throttled.
    pub enrichment_calls: u64,
    /// See `enrichment_calls`.
    pub enrichment_failures: u64,
    /// Synchronous target invocations (a function invoked `sync`, a service), one per batch.
    pub target_calls: u64,
    /// Synchronous target invocations that failed or were throttled.
    pub target_failures: u64,
    /// Events handed to the target successfully.
    pub delivered: u64,
    /// Event attempts that failed (a failed batch counts each of its events).
    pub failed: u64,
    /// Events sent to a dead-letter queue (a queue source's own, a stream pipe's
    /// `dead_letter`); those dropped without one are in `dead_letter_reasons`.
    pub dead_lettered: u64,
}

/// A state machine's executions over the measured window.
#[derive(Clone, Debug, Serialize)]
pub struct MachineFigures {
    /// Executions started.
    pub started: u64,
    /// Executions that succeeded.
    pub succeeded: u64,
    /// Executions that failed.
    pub failed: u64,
    /// Executions ended by `TimeoutSeconds` (or the express limit).
    pub timed_out: u64,
    /// Executions still running at the end.
    pub running: u64,
    /// Executions that followed a `Catch` (ran a compensation).
    pub compensated: u64,
    /// Start → end of the executions that ended, seconds.
    pub execution_time_s: LatencySummary,
    /// Per state (nested ones as `Parallel/branch/State`, `Map/State`).
    pub states: Vec<StateResult>,
}

/// One state's figures.
#[derive(Clone, Debug, Serialize)]
pub struct StateResult {
    /// Its name.
    pub state: String,
    /// Times it was entered (a retry is not an entry).
    pub entries: u64,
    /// Times it failed after its retries (caught or not).
    pub failures: u64,
    /// Retries of it.
    pub retries: u64,
}

/// One subscription of a topic over the measured window.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionResult {
    /// The subscriber's id.
    pub to: String,
    /// Messages its filter policy passed (copies owed to the subscriber).
    pub deliveries: u64,
    /// Messages its filter policy kept out.
    pub filtered: u64,
    /// Copies dead-lettered (or dropped without a dead-letter queue) after SNS's retries.
    pub dead_lettered: u64,
}

/// A function's asynchronous invocation figures (Lambda's `AsyncEventsReceived`,
/// `AsyncEventAge`, `AsyncEventsDropped` and destination deliveries).
#[derive(Clone, Debug, Serialize)]
pub struct AsyncFigures {
    /// The most events waiting in the function's queue at once.
    pub queue_depth_max: u64,
    /// The oldest an event was when it started, seconds.
    pub age_max_s: f64,
    /// Retries after function errors.
    pub retries: u64,
    /// Invocation records sent to `async.on_failure`.
    pub to_on_failure: u64,
    /// Invocation records sent to `async.on_success`.
    pub to_on_success: u64,
}

/// An event source mapping's figures.
#[derive(Clone, Debug, Serialize)]
pub struct MappingFigures {
    /// Batches started.
    pub batches: u64,
    /// Mean messages per batch / the batch size.
    pub batch_fill: f64,
    /// Batches that failed as a whole (and returned every message).
    pub batch_failures: u64,
    /// Batches with some messages failed and some processed.
    pub partial_batch_failures: u64,
    /// Messages deleted by the mapping's filter.
    pub filtered: u64,
    /// The most concurrent batches the SQS pollers allowed (0 when they do not ramp).
    pub pollers_max: u64,
    /// Failing stream batches split in two.
    pub bisections: u64,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// Nodes by id, serialized as a JSON object in file order.
#[derive(Clone, Debug, Default)]
pub struct Nodes(pub Vec<(String, NodeResult)>);

impl Nodes {
    /// The node with this id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&NodeResult> {
        self.0.iter().find(|(i, _)| i == id).map(|(_, n)| n)
    }
}

impl Serialize for Nodes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (id, n) in &self.0 {
            map.serialize_entry(id, n)?;
        }
        map.end()
    }
}

/// The subscriptions of the topic at node `node`, which routed `routed` messages.
fn subscription_results(
    e: &Engine,
    s: &Scenario,
    node: super::ids::NodeId,
    routed: u64,
) -> Vec<SubscriptionResult> {
    let Some(bus) = e.buses.iter().find(|b| b.node == node) else {
        return Vec::new();
    };
    let Some(topic) = s.topics.iter().find(|t| t.id == e.stats[node].id) else {
        return Vec::new();
    };
    topic
        .subscriptions
        .iter()
        .enumerate()
        .map(|(i, sub)| {
            let matched = bus.rule_matched.get(i).copied().unwrap_or(0);
            let dead_lettered = bus
                .rule_targets
                .get(i)
                .and_then(|ts| ts.first())
                .map_or(0, |&t| e.targets[t].dead_lettered);
            SubscriptionResult {
                to: sub.to.clone(),
                deliveries: matched,
                filtered: routed.saturating_sub(matched),
                dead_lettered,
            }
        })
        .collect()
}

pub(super) fn build(e: &Engine, s: &Scenario, wall_seconds: f64, with_series: bool) -> Results {
    let now = e.now;
    let window_ns = now.saturating_sub(e.warmup);
    let window = window_ns as f64 / 1e9;
    let per_s = |n: u64| if window > 0.0 { n as f64 / window } else { 0.0 };
    let queues = e.queue_snapshot();
    let streams = e.stream_snapshot();
    let breakers = e.breaker_states();
    let faults = e.active_faults();
    let mut nodes = Vec::with_capacity(e.stats.len());
    let consumer_of = |i| e.consumers.iter().find(|c| c.node == i);
    for (i, st) in e.stats.iter_ids() {
        let rt = consumer_of(i);
        let asynchronous = rt
            .filter(|c| c.asynchronous.is_some())
            .map(|_| AsyncFigures {
                queue_depth_max: st.async_depth_max,
                age_max_s: st.async_age_max as f64 / 1e9,
                retries: st.async_retries,
                to_on_failure: st.to_on_failure,
                to_on_success: st.to_on_success,
            });
        let mapping = rt
            .filter(|c| c.source != super::consumer::Source::Direct)
            .map(|c| MappingFigures {
                batches: st.batches,
                batch_fill: if st.batches > 0 {
                    st.batch_messages as f64 / st.batches as f64 / c.batch as f64
                } else {
                    0.0
                },
                batch_failures: st.batch_failures,
                partial_batch_failures: st.partial_batch_failures,
                filtered: st.filtered,
                pollers_max: st.pollers_max,
                bisections: st.bisections,
            });
        // A queue's sole consumer shares the queue's system and waiting line (kept once, in
        // the queue's statistics).
        let levels = rt
            .and_then(|c| match c.source {
                super::consumer::Source::Queue(q) => e.queues[q]
                    .sole_consumer()
                    .is_some_and(|sole| e.consumers[sole].node == i)
                    .then(|| &e.stats[e.queues[q].node]),
                _ => None,
            })
            .unwrap_or(st);
        let l = if window_ns > 0 {
            levels.in_system.mean(now)
        } else {
            0.0
        };
        let w = if st.departures > 0 {
            st.sojourn_ns as f64 / st.departures as f64 / 1e9
        } else {
            0.0
        };
        let lambda = per_s(st.arrived);
        let slots = st
            .slots
            .as_ref()
            .map_or(f64::from(st.concurrency), |a| a.mean(now));
        let utilization = if st.kind == Kind::Consumer && slots > 0.0 && window_ns > 0 {
            st.busy.mean(now) / slots
        } else {
            0.0
        };
        let (lag, lag_s) = if let Some(q) = queues.iter().find(|q| q.0 == i) {
            (Some(q.2), Some(q.3.map_or(0.0, |t| (now - t) as f64 / 1e9)))
        } else if let Some(x) = streams.iter().find(|x| x.0 == i) {
            (Some(x.1), Some(x.2.map_or(0.0, |t| (now - t) as f64 / 1e9)))
        } else {
            (None, None)
        };
        let reasons = Engine::reason_names()
            .iter()
            .zip(st.reasons.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(name, n)| (*name, *n))
            .collect();
        let consumer = st.kind == Kind::Consumer;
        nodes.push((
            st.id.clone(),
            NodeResult {
                kind: st.kind,
                arrived: st.arrived,
                completed: st.completed,
                failed: st.failed,
                retried: st.retried,
                throttled: st.throttled,
                dead_lettered: st.dead_lettered,
                rejected: st.rejected,
                expired: st.expired,
                duplicates: st.duplicates,
                out_of_order: st.out_of_order,
                arrival_rate: lambda,
                throughput: per_s(st.completed),
                concurrency: consumer.then_some(st.concurrency),
                mean_number_in_system: l,
                mean_time_in_system_s: w,
                littles_law_lambda_w: lambda * w,
                utilization,
                wait_s: st.wait.summary(),
                latency_s: st.latency.summary(),
                queue_depth: QueueDepth {
                    mean: if window_ns > 0 {
                        levels.waiting.mean(now)
                    } else {
                        0.0
                    },
                    max: levels.waiting.max(),
                },
                lag,
                lag_s,
                dead_letter_reasons: reasons,
                retry_amplification: (consumer && st.first_attempts > 0)
                    .then(|| st.attempts as f64 / st.first_attempts as f64),
                goodput: consumer.then(|| per_s(st.unique_completed)),
                circuit_breaker_transitions: st.breaker_transitions,
                emitted: st.emitted,
                circuit_breaker: breakers.iter().find(|b| b.0 == i).map(|b| b.1),
                faults: faults.iter().filter(|f| f.0 == i).map(|f| f.1).collect(),
                asynchronous,
                mapping,
                subscriptions: if st.kind == Kind::Topic {
                    subscription_results(e, s, i, st.completed)
                } else {
                    Vec::new()
                },
                pipe: rt.and_then(|c| c.pipe.as_deref()).map(|p| PipeFigures {
                    read: st.arrived,
                    filtered: st.filtered,
                    batches: st.batches,
                    enrichment_calls: p.enrich_calls,
                    enrichment_failures: p.enrich_failures,
                    target_calls: p.target_calls,
                    target_failures: p.target_failures,
                    delivered: p.delivered,
                    failed: st.failed,
                    dead_lettered: st.dead_lettered,
                }),
                state_machine: e
                    .machines
                    .iter()
                    .find(|m| m.node == i)
                    .map(|m| MachineFigures {
                        started: m.started,
                        succeeded: m.succeeded,
                        failed: m.failed,
                        timed_out: m.timed_out,
                        running: m.running,
                        compensated: m.compensated,
                        execution_time_s: m.exec_time.summary(),
                        states: m
                            .state_figures()
                            .map(|(name, c)| StateResult {
                                state: name.to_owned(),
                                entries: c.entries,
                                failures: c.failures,
                                retries: c.retries,
                            })
                            .collect(),
                    }),
            },
        ));
    }
    let conservation = e.conservation();
    Results {
        scenario: s.name.clone(),
        seed: s.seed,
        duration_s: e.end as f64 / 1e9,
        warmup_s: e.warmup as f64 / 1e9,
        engine: EngineInfo {
            events_processed: e.events_processed,
            wall_seconds,
            simulated_s: now as f64 / 1e9,
            stopped: e.stopped.as_ref().map(|x| x.reason.clone()),
        },
        nodes: Nodes(nodes),
        end_to_end: EndToEnd {
            latency_s: e.e2e.summary(),
        },
        conservation,
        series: with_series.then(|| e.series.snapshot(now)),
    }
}
