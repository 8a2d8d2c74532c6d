//! Event journeys: one root event and every copy, retry and emitted event it caused, as a tree
//! of hops (node, arrival, wait, service, outcome), recorded for a bounded sample of roots.
//!
//! Tracing only observes: hooks read the engine's state and never draw random numbers or
//! schedule events, so a traced run gives byte-identical results. Memory is bounded by the
//! number of journeys asked for (and a cap on hops per journey), not by the run's length.
//!
//! Choosing roots: `Sample` traces the first root produced after each of N instants spread
//! evenly over the run, in one pass. `Where` and `Event` need to know the outcome before they
//! can choose, so [`crate::sim::trace`] runs twice: a first pass notes the first N roots that
//! did (or the N slowest, or the one whose id or field value matches), and a second, identical
//! run records exactly those.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::clock::Nanos;
use super::engine::Engine;
use super::ids::{MsgId, NodeId};
use crate::model::Kind;

/// No hop (a message that is not traced, or a root's parent).
pub(crate) const NO_HOP: u32 = u32::MAX;
/// Hops kept per journey; a journey past it is marked truncated.
const MAX_HOPS: usize = 10_000;

/// What caused the messages being created now: their root event and the hop they come from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cause {
    pub(crate) root: u64,
    pub(crate) hop: u32,
}

impl Cause {
    pub(crate) const NONE: Cause = Cause {
        root: 0,
        hop: NO_HOP,
    };
}

/// Which journeys to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Select {
    /// N roots spread over the run.
    Sample,
    /// The first N roots whose journey did this (the N slowest for `Slowest`).
    Where(Condition),
    /// The root whose generated id, or a field value, is this string.
    Event(String),
}

/// Something a journey did, for `--where`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// A copy ended in a dead-letter queue.
    DeadLettered,
    /// A delivery or a handler failed.
    Failed,
    /// The longest end-to-end latencies.
    Slowest,
    /// A copy was delivered twice (SQS at-least-once, or a visibility timeout).
    Duplicated,
    /// A copy was served after a later event of its key.
    OutOfOrder,
}

impl Condition {
    /// Every condition, with its command-line name.
    pub const ALL: [(Condition, &'static str); 5] = [
        (Condition::DeadLettered, "dead-lettered"),
        (Condition::Failed, "failed"),
        (Condition::Slowest, "slowest"),
        (Condition::Duplicated, "duplicated"),
        (Condition::OutOfOrder, "out-of-order"),
    ];
}

/// One hop of a journey: a message copy at a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hop {
    /// The hop it came from (index in the journey's hops), none for the root.
    pub parent: Option<usize>,
    /// Component id.
    pub node: String,
    /// Component kind.
    pub kind: Kind,
    /// The rule that sent it here, when a rule did, or the state machine Task that called it
    /// (`Task Charge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The consumer that received it from a queue or stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When it reached the node (or, for a retry, when the previous attempt ended), seconds.
    pub arrived_s: f64,
    /// When work on it began (delivery attempt, service start), seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_s: Option<f64>,
    /// When it left the node, seconds (none if it was still there at the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_s: Option<f64>,
    /// What happened: produced, routed, unmatched, rejected, delivered, retried, throttled,
    /// received, completed, failed, `dead_lettered`, dropped, deduplicated, duplicate,
    /// `skipped_duplicate`, expired, `in_flight`; a state machine's execution: succeeded,
    /// failed, `timed_out`.
    pub outcome: &'static str,
    /// Why, where there is a reason (retries exhausted, `max_receives`, a delay …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Delivery attempt (rule targets), receive (queues, streams) or a Task's call, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

impl Hop {
    /// Seconds between arriving and starting.
    #[must_use]
    pub fn wait_s(&self) -> Option<f64> {
        self.started_s.map(|s| s - self.arrived_s)
    }
}

/// One root event's journey.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Journey {
    /// The root's production number.
    pub root: u64,
    /// Its envelope id.
    pub event_id: String,
    /// When it was produced, seconds.
    pub produced_at_s: f64,
    /// Root production to the last completion at the end of a chain, seconds (none if no copy
    /// completed there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<f64>,
    /// The hops from the root to that completion.
    pub critical_path: Vec<usize>,
    /// More hops happened than are kept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Every hop, parents before children.
    pub hops: Vec<Hop>,
}

impl Journey {
    /// The sum of the hops' times along the critical path (arrival to departure each),
    /// seconds: equals `latency_s`, since each hop starts where its parent ended.
    #[must_use]
    pub fn critical_path_s(&self) -> f64 {
        self.critical_path
            .iter()
            .map(|&h| {
                let hop = &self.hops[h];
                hop.ended_s.unwrap_or(hop.arrived_s) - hop.arrived_s
            })
            .sum()
    }
}

struct Recording {
    journey: Journey,
    /// Completions at the end of a chain: (time, hop).
    ends: Vec<(Nanos, usize)>,
}

/// The tracer's state in a run.
pub(crate) enum Tracer {
    /// Pass one of `Where`/`Event`: note which roots qualify.
    Find(Finder),
    /// Record the journeys of chosen roots.
    Record(Recorder),
}

pub(crate) struct Finder {
    select: Select,
    count: usize,
    /// Qualifying roots in the order found (for `Slowest`: (latency, root), longest first).
    pub(crate) found: Vec<u64>,
    slowest: Vec<(Nanos, u64)>,
}

pub(crate) struct Recorder {
    /// Roots chosen in advance (pass two), or none when sampling.
    chosen: Option<Vec<u64>>,
    /// Sampling: the instants and how many were taken.
    sample_every: Nanos,
    sampled: usize,
    count: usize,
    journeys: BTreeMap<u64, Recording>,
}

impl Tracer {
    pub(crate) fn finder(select: Select, count: usize) -> Self {
        Tracer::Find(Finder {
            select,
            count,
            found: Vec::new(),
            slowest: Vec::new(),
        })
    }

    pub(crate) fn sampler(count: usize, end: Nanos) -> Self {
        Tracer::Record(Recorder {
            chosen: None,
            sample_every: (end / count.max(1) as u64).max(1),
            sampled: 0,
            count,
            journeys: BTreeMap::new(),
        })
    }

    pub(crate) fn recorder(mut roots: Vec<u64>) -> Self {
        roots.sort_unstable();
        let count = roots.len();
        Tracer::Record(Recorder {
            chosen: Some(roots),
            sample_every: 1,
            sampled: 0,
            count,
            journeys: BTreeMap::new(),
        })
    }

    /// The roots a finder chose.
    pub(crate) fn found(&self) -> Vec<u64> {
        match self {
            Tracer::Find(f) if f.select == Select::Where(Condition::Slowest) => {
                f.slowest.iter().map(|x| x.1).collect()
            }
            Tracer::Find(f) => f.found.clone(),
            Tracer::Record(_) => Vec::new(),
        }
    }

    /// Hop `hop` of root `root`'s journey, if recorded.
    pub(crate) fn hop(&mut self, root: u64, hop: u32) -> Option<&mut Hop> {
        self.recording(root)?.journey.hops.get_mut(hop as usize)
    }

    fn recording(&mut self, root: u64) -> Option<&mut Recording> {
        match self {
            Tracer::Record(r) => r.journeys.get_mut(&root),
            Tracer::Find(_) => None,
        }
    }
}

impl Finder {
    pub(crate) fn note(&mut self, root: u64, what: Condition) {
        if self.select == Select::Where(what)
            && self.found.len() < self.count
            && !self.found.contains(&root)
        {
            self.found.push(root);
        }
    }
}

/// Does a payload carry `wanted` as its id or as a field value (anywhere)?
fn payload_has(v: &Value, wanted: &str) -> bool {
    match v {
        Value::String(s) => s == wanted,
        Value::Number(n) => n.to_string() == wanted,
        Value::Array(a) => a.iter().any(|x| payload_has(x, wanted)),
        Value::Object(o) => o.values().any(|x| payload_has(x, wanted)),
        Value::Bool(_) | Value::Null => false,
    }
}

impl Engine {
    /// A root event is produced at `node`: its cause for the messages it sends.
    #[inline]
    pub(crate) fn trace_root(&mut self, event_no: u64, node: NodeId, payload: &Value) -> Cause {
        if self.tracer.is_none() {
            return Cause {
                root: event_no,
                hop: NO_HOP,
            };
        }
        self.trace_root_traced(event_no, node, payload)
    }

    /// [`Engine::trace_root`] in a traced run.
    fn trace_root_traced(&mut self, event_no: u64, node: NodeId, payload: &Value) -> Cause {
        let now = self.now;
        let Some(t) = self.tracer.as_deref_mut() else {
            return Cause {
                root: event_no,
                hop: NO_HOP,
            };
        };
        match t {
            Tracer::Find(f) => {
                if let Select::Event(wanted) = &f.select
                    && f.found.is_empty()
                    && payload_has(payload, wanted)
                {
                    f.found.push(event_no);
                }
            }
            Tracer::Record(r) => {
                let take = match &r.chosen {
                    Some(roots) => roots.binary_search(&event_no).is_ok(),
                    None => r.sampled < r.count && now >= r.sample_every * r.sampled as u64,
                };
                if take {
                    r.sampled += 1;
                    let id = payload.get("id").and_then(Value::as_str).map_or_else(
                        || super::envelope::event_id(self.seed, event_no),
                        str::to_owned,
                    );
                    let st = &self.stats[node];
                    r.journeys.insert(
                        event_no,
                        Recording {
                            journey: Journey {
                                root: event_no,
                                event_id: id,
                                produced_at_s: now as f64 / 1e9,
                                latency_s: None,
                                critical_path: Vec::new(),
                                truncated: false,
                                hops: vec![Hop {
                                    parent: None,
                                    node: st.id.clone(),
                                    kind: st.kind,
                                    via: None,
                                    by: None,
                                    arrived_s: now as f64 / 1e9,
                                    started_s: Some(now as f64 / 1e9),
                                    ended_s: Some(now as f64 / 1e9),
                                    outcome: "produced",
                                    reason: None,
                                    attempt: None,
                                }],
                            },
                            ends: Vec::new(),
                        },
                    );
                    return Cause {
                        root: event_no,
                        hop: 0,
                    };
                }
            }
        }
        Cause {
            root: event_no,
            hop: NO_HOP,
        }
    }

    /// Opens a hop for a traced cause at `node` (arrived now), returning its index.
    pub(crate) fn trace_open(&mut self, cause: Cause, node: NodeId, via: Option<&str>) -> u32 {
        if cause.hop == NO_HOP {
            return NO_HOP;
        }
        let now = self.now as f64 / 1e9;
        let st = &self.stats[node];
        let (id, kind) = (st.id.clone(), st.kind);
        let Some(rec) = self
            .tracer
            .as_deref_mut()
            .and_then(|t| t.recording(cause.root))
        else {
            return NO_HOP;
        };
        let j = &mut rec.journey;
        if j.hops.len() >= MAX_HOPS {
            j.truncated = true;
            return NO_HOP;
        }
        j.hops.push(Hop {
            parent: Some(cause.hop as usize),
            node: id,
            kind,
            via: via.map(str::to_owned),
            by: None,
            arrived_s: now,
            started_s: None,
            ended_s: None,
            outcome: "in_flight",
            reason: None,
            attempt: None,
        });
        (j.hops.len() - 1) as u32
    }

    /// Opens a hop for message `m` (its next hop, child of its current one).
    #[inline]
    pub(crate) fn trace_msg_open(&mut self, m: MsgId, node: NodeId, via: Option<&str>) {
        if self.tracer.is_some() {
            self.trace_msg_open_traced(m, node, via);
        }
    }

    /// [`Engine::trace_msg_open`] in a traced run.
    fn trace_msg_open_traced(&mut self, m: MsgId, node: NodeId, via: Option<&str>) {
        let msg = &self.msgs[m];
        if msg.hop == NO_HOP || self.tracer.is_none() {
            return;
        }
        let cause = Cause {
            root: msg.root,
            hop: msg.hop,
        };
        let hop = self.trace_open(cause, node, via);
        self.msgs[m].hop = hop;
    }

    /// Message `m` is at `node` now: unless its current hop is already there (a rule's
    /// delivery opens one), it gets a hop there (a producer or `emits` sending straight to it).
    pub(crate) fn trace_arrive(&mut self, m: MsgId, node: NodeId) {
        if self.tracer.is_none() {
            return;
        }
        let here = self.stats[node].id.clone();
        if self.hop_mut(m).is_some_and(|h| h.node != here) {
            self.trace_msg_open(m, node, None);
            self.trace_start(m, None, None);
        }
    }

    fn hop_mut(&mut self, m: MsgId) -> Option<&mut Hop> {
        let msg = &self.msgs[m];
        if msg.hop == NO_HOP {
            return None;
        }
        let (root, hop) = (msg.root, msg.hop as usize);
        self.tracer
            .as_deref_mut()?
            .recording(root)?
            .journey
            .hops
            .get_mut(hop)
    }

    /// Work on message `m` starts now (a delivery attempt, a service start), as attempt or
    /// receive number `attempt`.
    #[inline]
    pub(crate) fn trace_start(&mut self, m: MsgId, attempt: Option<u32>, by: Option<NodeId>) {
        if self.tracer.is_some() {
            self.trace_start_traced(m, attempt, by);
        }
    }

    /// [`Engine::trace_start`] in a traced run.
    fn trace_start_traced(&mut self, m: MsgId, attempt: Option<u32>, by: Option<NodeId>) {
        if self.tracer.is_none() {
            return;
        }
        let now = self.now as f64 / 1e9;
        let by = by.map(|n| self.stats[n].id.clone());
        if let Some(h) = self.hop_mut(m) {
            h.started_s = Some(now);
            h.attempt = attempt;
            h.by = by;
        }
    }

    /// Message `m` leaves its hop now with `outcome` (and a reason). The reason is made only
    /// in a traced run: its text (a `to_owned`, often a `format!`) was an allocation on every
    /// throttled call, retry and dead letter of an untraced one.
    #[inline]
    pub(crate) fn trace_end(
        &mut self,
        m: MsgId,
        outcome: &'static str,
        reason: impl FnOnce() -> Option<String>,
    ) {
        if self.tracer.is_some() {
            self.trace_end_traced(m, outcome, reason());
        }
    }

    /// [`Engine::trace_end`] in a traced run.
    fn trace_end_traced(&mut self, m: MsgId, outcome: &'static str, reason: Option<String>) {
        if self.tracer.is_none() {
            return;
        }
        let now = self.now as f64 / 1e9;
        if let Some(h) = self.hop_mut(m) {
            h.ended_s = Some(now);
            h.outcome = outcome;
            h.reason = reason;
        }
    }

    /// State machine Task call `m` ended (failed with `failure`, or completed). A note already
    /// on the hop (a Task timeout's Retry or Catch, decided before the late result) is kept.
    pub(crate) fn trace_task_end(&mut self, m: MsgId, failure: Option<&str>) {
        if self.tracer.is_none() {
            return;
        }
        let now = self.now as f64 / 1e9;
        if let Some(h) = self.hop_mut(m) {
            h.ended_s = Some(now);
            h.outcome = if failure.is_some() {
                "failed"
            } else {
                "completed"
            };
            h.reason = match (failure, h.reason.take()) {
                (Some(f), Some(r)) => Some(format!("{f}; {r}")),
                (Some(f), None) => Some(f.to_owned()),
                (None, r) => r,
            };
        }
    }

    /// Appends `note` to the reason of hop `at` (a Task call's Retry or Catch).
    pub(crate) fn trace_hop_note(&mut self, at: Cause, note: String) {
        if at.hop == NO_HOP {
            return;
        }
        if let Some(h) = self
            .tracer
            .as_deref_mut()
            .and_then(|t| t.recording(at.root))
            .and_then(|r| r.journey.hops.get_mut(at.hop as usize))
        {
            h.reason = Some(match h.reason.take() {
                Some(r) => format!("{r}; {note}"),
                None => note,
            });
        }
    }

    /// A failed or throttled delivery of `m` will be retried after `delay`: noted on the hop
    /// that failed, and the next attempt is a hop of its own, waiting from now.
    pub(crate) fn trace_retry(&mut self, m: MsgId, to: NodeId, rule: &str, delay: Nanos) {
        if let Some(h) = self.hop_mut(m) {
            let after = format!("retried after {:.3}s", delay as f64 / 1e9);
            h.reason = Some(match h.reason.take() {
                Some(r) => format!("{r}; {after}"),
                None => after,
            });
        }
        self.trace_msg_open(m, to, Some(rule));
    }

    /// Closes hop `hop` of a traced cause (a bus's routing, which no message holds).
    pub(crate) fn trace_end_hop(
        &mut self,
        cause: Cause,
        outcome: &'static str,
        reason: Option<String>,
    ) {
        if cause.hop == NO_HOP {
            return;
        }
        let now = self.now as f64 / 1e9;
        if let Some(h) = self
            .tracer
            .as_deref_mut()
            .and_then(|t| t.recording(cause.root))
            .and_then(|r| r.journey.hops.get_mut(cause.hop as usize))
        {
            h.started_s.get_or_insert(now);
            h.ended_s = Some(now);
            h.outcome = outcome;
            h.reason = reason;
        }
    }

    /// `copy` is a second copy of `m` (SQS at-least-once, or a re-receive): a hop of its own
    /// beside the original's, at `node`.
    pub(crate) fn trace_duplicate(&mut self, m: MsgId, copy: MsgId, node: NodeId, why: &str) {
        self.trace_note(m, Condition::Duplicated);
        if self.tracer.is_none() || self.msgs[m].hop == NO_HOP {
            return;
        }
        // A sibling of the original's hop: it came from the same place.
        let parent = self
            .hop_mut(m)
            .and_then(|h| h.parent)
            .map_or(NO_HOP, |p| p as u32);
        let cause = Cause {
            root: self.msgs[m].root,
            hop: parent,
        };
        let hop = self.trace_open(cause, node, None);
        self.msgs[copy].hop = hop;
        if let Some(h) = self.hop_mut(copy) {
            h.reason = Some(why.to_owned());
        }
    }

    /// Message `m` completed at the end of its chain (an end-to-end latency).
    #[inline]
    pub(crate) fn trace_chain_end(&mut self, m: MsgId) {
        if self.tracer.is_some() {
            self.trace_chain_end_traced(m);
        }
    }

    /// [`Engine::trace_chain_end`] in a traced run.
    fn trace_chain_end_traced(&mut self, m: MsgId) {
        let Some(t) = self.tracer.as_deref_mut() else {
            return;
        };
        let msg = &self.msgs[m];
        let (root, hop, lat) = (msg.root, msg.hop, self.now - msg.origin_at);
        match t {
            Tracer::Find(f) => {
                if f.select == Select::Where(Condition::Slowest) {
                    if let Some(e) = f.slowest.iter_mut().find(|x| x.1 == root) {
                        e.0 = e.0.max(lat);
                    } else if f.slowest.len() < f.count {
                        f.slowest.push((lat, root));
                    } else if let Some(min) = f
                        .slowest
                        .iter_mut()
                        .min_by_key(|x| (x.0, std::cmp::Reverse(x.1)))
                        && lat > min.0
                    {
                        *min = (lat, root);
                    }
                }
            }
            Tracer::Record(r) => {
                if hop != NO_HOP
                    && let Some(rec) = r.journeys.get_mut(&root)
                {
                    rec.ends.push((self.now, hop as usize));
                }
            }
        }
    }

    /// Notes that the journey of message `m`'s root did `what` (pass one of `--where`).
    #[inline]
    pub(crate) fn trace_note(&mut self, m: MsgId, what: Condition) {
        let root = self.msgs[m].root;
        if let Some(Tracer::Find(f)) = self.tracer.as_deref_mut() {
            f.note(root, what);
        }
    }

    /// The recorded journeys, in root order.
    pub(crate) fn journeys(&self) -> Vec<Journey> {
        let Some(Tracer::Record(r)) = self.tracer.as_deref() else {
            return Vec::new();
        };
        r.journeys
            .values()
            .map(|rec| {
                let mut j = rec.journey.clone();
                // The critical path leads to the last completion at the end of a chain.
                if let Some(&(at, hop)) = rec
                    .ends
                    .iter()
                    .max_by_key(|(at, h)| (*at, std::cmp::Reverse(*h)))
                {
                    j.latency_s = Some(at as f64 / 1e9 - j.produced_at_s);
                    let mut path = vec![hop];
                    let mut h = hop;
                    while let Some(p) = j.hops[h].parent {
                        path.push(p);
                        h = p;
                    }
                    path.reverse();
                    j.critical_path = path;
                }
                j
            })
            .collect()
    }
}
