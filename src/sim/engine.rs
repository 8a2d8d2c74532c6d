//! The engine: every component's run-time state in index-based tables, the clock and event
//! queue, and the loop that dispatches each event to its component's handler.
//!
//! The handlers live beside their component: [`super::producer`], [`super::bus`],
//! [`super::queue`], [`super::stream`], [`super::consumer`], [`super::faults`]. Compiling a
//! scenario is [`super::build`]; counting is [`super::stats`] and [`super::ledger`].
//!
//! Dispatch is a `match` on a small `Copy` event: no trait objects, no allocation per event
//! (generated event payloads excepted: a template with generators builds a JSON value per
//! event; a static template shares one).

use std::sync::Arc;

use serde_json::Value;

use super::bus::{BusRt, TargetRt};
use super::clock::{Ev, EventQueue, Nanos};
use super::consumer::ConsumerRt;
use super::faults::FaultRt;
use super::ids::{
    BusId, ConsumerId, FaultId, MachineId, MsgId, NodeId, ProducerId, QueueId, StreamId, Table,
    TargetId, TimelineId,
};
use super::journey::{Cause, Tracer};
use super::ledger::Conservation;
use super::message::{Messages, Msg};
use super::producer::ProducerRt;
use super::queue::QueueRt;
use super::state_machine::{MachineRt, SmRuntime};
use super::stats::{NodeStats, Reason};
use super::stream::StreamRt;
use crate::metrics::{Latency, SeriesRecorder};
use crate::model::{FaultKind, TimelineEntry, defaults};
use crate::pattern::MatchScratch;

/// A failed stream batch is retried after this delay, blocking its partition meanwhile
/// ([`defaults::STREAM_RETRY_DELAY`]; the other AWS defaults are read where the components
/// compile, through the model's `*_in_force` accessors).
pub(crate) const STREAM_RETRY_DELAY: Nanos = defaults::STREAM_RETRY_DELAY.as_nanos();
/// Loop guard default: events produced before the run is stopped.
pub const DEFAULT_MAX_EVENTS: u64 = 10_000_000;
/// Memory guard default: messages alive at once before the run is stopped (about 110 bytes
/// each when they wait without their payloads: 2.2 GB).
pub const DEFAULT_MAX_MESSAGES: u64 = 20_000_000;
/// Engine steps at one instant before the run is stopped as a zero-time loop (simulated time
/// must move: a burst this large at one nanosecond is a loop, not load).
const MAX_STEPS_AT_ONE_INSTANT: u64 = 2_000_000;
/// Engine steps, and owed copies, per allowed produced event before the run is stopped.
pub(crate) const STEPS_PER_EVENT: u64 = 50;
pub(crate) const COPIES_PER_EVENT: u64 = 10;
/// Bus-to-bus hops handled within one event; deeper routing continues in the next step at the
/// same instant (routing is iterative, so a rule cycle between buses cannot overflow the stack).
pub(crate) const MAX_ROUTE_DEPTH: u32 = 16;

/// Where something is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dest {
    Bus(BusId),
    Queue(QueueId),
    Stream(StreamId),
    Consumer(ConsumerId),
    Machine(MachineId),
}

/// Why a run ended early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// Simulated time of the stop.
    pub at: Nanos,
    /// What happened, in words (names the cycle for the loop guard).
    pub reason: String,
}

/// A compiled, running simulation.
pub struct Engine {
    pub(crate) now: Nanos,
    pub(crate) end: Nanos,
    pub(crate) warmup: Nanos,
    pub(crate) events: EventQueue,
    pub(crate) events_processed: u64,
    pub(crate) msgs: Messages,
    pub(crate) producers: Table<ProducerId, ProducerRt>,
    pub(crate) buses: Table<BusId, BusRt>,
    pub(crate) targets: Table<TargetId, TargetRt>,
    pub(crate) queues: Table<QueueId, QueueRt>,
    pub(crate) streams: Table<StreamId, StreamRt>,
    pub(crate) consumers: Table<ConsumerId, ConsumerRt>,
    pub(crate) machines: Table<MachineId, MachineRt>,
    pub(crate) sm: SmRuntime,
    pub(crate) faults: Table<FaultId, FaultRt>,
    pub(crate) timeline: Table<TimelineId, TimelineEntry>,
    pub(crate) stats: Table<NodeId, NodeStats>,
    pub(crate) e2e: Latency,
    pub(crate) cons: Conservation,
    pub(crate) series: SeriesRecorder,
    pub(crate) stopped: Option<Stop>,
    pub(crate) max_events: u64,
    pub(crate) max_messages: u64,
    /// The loop guard's limits on owed copies and on engine steps, from `max_events`
    /// ([`COPIES_PER_EVENT`] and [`STEPS_PER_EVENT`] per allowed event).
    pub(crate) max_deliveries: u64,
    pub(crate) max_steps: u64,
    /// Steps run at the current instant so far (the zero-time loop guard).
    pub(crate) steps_this_instant: u64,
    /// Bus-to-bus hops within the current event.
    pub(crate) route_depth: u32,
    pub(crate) cycles: Vec<Vec<String>>,
    pub(crate) scratch: MatchScratch,
    pub(crate) matched: Vec<usize>,
    pub(crate) batch_buf: Vec<MsgId>,
    pub(crate) returned_buf: Vec<MsgId>,
    /// Ends of synchronous calls (state machine Tasks, pipes) found by the batch being
    /// finished, reported to their callers after it.
    pub(crate) call_results: Vec<(super::message::Caller, Option<&'static str>)>,
    /// Per-message failure verdicts of the batch being finished.
    pub(crate) fail_buf: Vec<Option<&'static str>>,
    /// The FIFO groups of the batch being finished, and those a failure holds.
    pub(crate) batch_groups: Vec<u32>,
    pub(crate) blocked_groups: Vec<u32>,
    /// The FIFO groups of the batch being received.
    pub(crate) receive_groups: Vec<u32>,
    /// The next enqueue is a move (to a dead-letter queue, or a redrive), not a send.
    pub(crate) moving: bool,
    /// Per timeline entry: messages a paced redrive still has to move.
    pub(crate) redrive_left: Vec<u64>,
    /// Archived events scheduled for replay (taken when replayed).
    pub(crate) replays: Vec<Option<(BusId, Arc<Value>, TimelineId)>>,
    pub(crate) dirty_queues: Vec<QueueId>,
    pub(crate) seed: u64,
    /// The payload of a message whose own payload nobody will read again (shared, `null`).
    pub(crate) released: Arc<Value>,
    /// The payload fields anything reads (events are built with those only).
    pub(crate) reads: super::reads::Reads,
    /// The envelope `time` text of the current second.
    pub(crate) times: super::envelope::TimeText,
    /// Journey tracing, when asked for (observes only).
    pub(crate) tracer: Option<Box<Tracer>>,
    /// What caused the messages being created now (set just before a send, put or append).
    pub(crate) cause: Cause,
}

impl Engine {
    /// Runs every event up to and including `until` (capped at the end of the run). Returns
    /// false once the run is over.
    pub fn run_until(&mut self, until: Nanos) -> bool {
        let until = until.min(self.end);
        while self.stopped.is_none() {
            let Some((t, ev)) = self.events.pop_due(until) else {
                break;
            };
            if t == self.now {
                self.steps_this_instant += 1;
            } else {
                self.steps_this_instant = 0;
            }
            self.now = t;
            self.events_processed += 1;
            self.dispatch(ev);
            self.flush_levels();
            self.debug_check_balance(false);
            self.check_guards(Some(ev));
        }
        if self.stopped.is_none() {
            self.now = self.now.max(until);
        }
        if self.finished() {
            self.debug_check_balance(true);
        }
        !self.finished()
    }

    /// Has the run reached its end (or been stopped)?
    #[must_use]
    pub fn finished(&self) -> bool {
        self.stopped.is_some() || self.now >= self.end
    }

    /// The current simulated time.
    #[must_use]
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The end of the run.
    #[must_use]
    pub fn end(&self) -> Nanos {
        self.end
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Produce(p) => self.produce(p, false),
            Ev::RateChange(p) => self.produce(p, true),
            Ev::Throttled(p) => self.producer_unthrottled(p),
            Ev::Deliver(m) => self.deliver_to_target(m),
            Ev::Done { consumer, slot } => self.done(consumer, slot),
            Ev::Visible { msg, queue } => self.visible_again(msg, queue),
            Ev::LaneRetry { msg, stream, group } => self.lane_retry(msg, stream, group),
            Ev::VisibilityExpired(m) => self.reappear(m),
            Ev::Fault { fault, start } => self.fault_edge(fault, start),
            Ev::Timeline(i) => self.timeline_action(i),
            Ev::BreakerProbe(c) => self.breaker_probe(c),
            Ev::AsyncRetry { consumer, msg } => self.async_retry(consumer, msg),
            Ev::Paced { consumer, msg } => self.call_service(consumer, msg, true),
            Ev::PollerRamp(c) => self.poller_ramp(c),
            Ev::RedriveStep(i) => self.redrive_step(i),
            Ev::BatchWindow(c) => self.batch_window_ended(c),
            Ev::Replay(idx) => self.replay_one(idx),
            Ev::SmWake { thread, token } => self.sm_wake(thread, token),
            Ev::SmTimeout { exec, generation } => self.sm_exec_timeout(exec, generation),
        }
    }

    /// Sends a new event to a bus, queue or stream. Returns true when the sender is blocked
    /// (a full queue with `when_full: block`).
    pub(crate) fn send(
        &mut self,
        dest: Dest,
        payload: Arc<Value>,
        event_no: u64,
        origin_at: Nanos,
        producer: Option<ProducerId>,
    ) -> bool {
        match dest {
            Dest::Bus(b) => {
                self.put_event(b, payload, event_no, origin_at);
                false
            }
            Dest::Queue(q) => {
                let m = self.owed_copy(payload, event_no, origin_at);
                self.msgs[m].blocked_producer = producer;
                let node = self.queues[q].node;
                self.trace_msg_open(m, node, None);
                self.enqueue(q, m)
            }
            Dest::Stream(s) => {
                self.append(s, payload, event_no, origin_at);
                false
            }
            Dest::Consumer(c) => {
                // `emits` straight to a function invokes it asynchronously.
                let m = self.owed_copy(payload, event_no, origin_at);
                self.invoke(c, m);
                false
            }
            Dest::Machine(mi) => {
                let m = self.owed_copy(payload, event_no, origin_at);
                self.sm_start(mi, m);
                false
            }
        }
    }

    /// [`Engine::send`] to a queue of producer `p`'s shared payload (its static event, or the
    /// released one): the same copy, made without touching the payload's reference count.
    pub(crate) fn send_shared_to_queue(
        &mut self,
        q: QueueId,
        p: ProducerId,
        event_no: u64,
        origin_at: Nanos,
    ) -> bool {
        self.cons.deliveries += 1;
        let measured = self.measuring();
        // A queue that keeps no payloads swaps a message's for the released one on arrival
        // (`arrive_at_queue`): the copy is made with it already (no reference counts move).
        let shared = if self.queues[q].keep_payload {
            self.producers[p]
                .static_payload
                .as_ref()
                .unwrap_or(&self.released)
        } else {
            &self.released
        };
        let m = self
            .msgs
            .alloc_shared(shared, event_no, origin_at, self.now, measured, self.cause);
        self.msgs[m].blocked_producer = Some(p);
        let node = self.queues[q].node;
        self.trace_msg_open(m, node, None);
        self.enqueue(q, m)
    }

    /// A new owed delivery of an event, created now (counted in the balance).
    fn owed_copy(&mut self, payload: Arc<Value>, event_no: u64, origin_at: Nanos) -> MsgId {
        self.cons.deliveries += 1;
        let msg = Msg::new(
            payload,
            event_no,
            origin_at,
            self.now,
            self.measuring(),
            self.cause,
        );
        self.msgs.alloc(msg)
    }

    /// The component a destination is.
    pub(crate) fn dest_node(&self, d: Dest) -> NodeId {
        match d {
            Dest::Bus(b) => self.buses[b].node,
            Dest::Queue(q) => self.queues[q].node,
            Dest::Stream(s) => self.streams[s].node,
            Dest::Consumer(c) => self.consumers[c].node,
            Dest::Machine(mi) => self.machines[mi].node,
        }
    }

    // ----- loop guard -----------------------------------------------------------------------

    /// Stops the run once more events were produced than `settings.max_events` allows.
    /// Returns true when the run is stopped.
    #[inline]
    pub(crate) fn check_loop_guard(&mut self) -> bool {
        if self.cons.produced <= self.max_events || self.stopped.is_some() {
            return self.stopped.is_some();
        }
        self.loop_guard_tripped()
    }

    /// [`Engine::check_loop_guard`] once the limit is passed.
    #[cold]
    #[inline(never)]
    fn loop_guard_tripped(&mut self) -> bool {
        let cycle = self.cycle_words();
        self.stopped = Some(Stop {
            at: self.now,
            reason: format!(
                "loop guard: more than {} events produced; {cycle}",
                self.max_events
            ),
        });
        true
    }

    /// The guards that bound a run whatever the scenario: memory (messages alive), zero-time
    /// loops (steps at one instant), runaway forwarding (owed copies) and engine steps.
    #[inline]
    pub(crate) fn check_guards(&mut self, ev: Option<Ev>) {
        // The common case, nothing near a limit, in a few comparisons; the reasons are built
        // (in the same order of precedence) only when one trips.
        if self.stopped.is_none()
            && (self.msgs.live() > self.max_messages
                || self.steps_this_instant > MAX_STEPS_AT_ONE_INSTANT
                || self.cons.deliveries > self.max_deliveries
                || self.events_processed > self.max_steps)
        {
            self.guard_tripped(ev);
        }
    }

    /// [`Engine::check_guards`] once some limit is passed: stops the run, saying which.
    #[cold]
    #[inline(never)]
    fn guard_tripped(&mut self, ev: Option<Ev>) {
        let live = self.msgs.live();
        let reason = if live > self.max_messages {
            format!(
                "memory guard: more than {} messages alive at once{}; raise settings.max_messages if the backlog is meant",
                self.max_messages,
                self.biggest_backlog().filter(|(_, n)| *n > 0).map_or_else(
                    || " (in transit: copies routed between buses, a routing cycle?)".to_owned(),
                    |(id, n)| format!(" ({n} of them at {id})"),
                )
            )
        } else if self.steps_this_instant > MAX_STEPS_AT_ONE_INSTANT {
            format!(
                "loop guard: more than {MAX_STEPS_AT_ONE_INSTANT} engine steps at one instant without the clock moving, around {}: a zero-time loop (a zero visibility timeout or service time with a consumer that fails, or a routing cycle without latency)",
                ev.and_then(|ev| self.node_of(ev))
                    .map_or("a routing cycle", |n| self.stats[n].id.as_str())
            )
        } else if self.cons.deliveries > self.max_events.saturating_mul(COPIES_PER_EVENT) {
            format!(
                "loop guard: more than {} deliveries (copies routed or sent) for at most {} events; {}",
                self.max_events.saturating_mul(COPIES_PER_EVENT),
                self.max_events,
                self.cycle_words()
            )
        } else if self.events_processed > self.max_events.saturating_mul(STEPS_PER_EVENT) {
            format!(
                "loop guard: more than {} engine steps; {}",
                self.max_events.saturating_mul(STEPS_PER_EVENT),
                self.cycle_words()
            )
        } else {
            return;
        };
        self.stopped = Some(Stop {
            at: self.now,
            reason,
        });
    }

    /// The queue or stream holding the most messages, and how many.
    fn biggest_backlog(&self) -> Option<(&str, u64)> {
        let queues = self.queues.iter().map(|q| (q.node, q.held));
        let streams = self
            .streams
            .iter()
            .map(|s| (s.node, s.behind(&self.msgs).0));
        queues
            .chain(streams)
            .max_by_key(|(_, n)| *n)
            .map(|(node, n)| (self.stats[node].id.as_str(), n))
    }

    /// The component an event belongs to.
    fn node_of(&self, ev: Ev) -> Option<NodeId> {
        Some(match ev {
            Ev::Produce(p) | Ev::RateChange(p) | Ev::Throttled(p) => self.producers[p].node,
            Ev::Deliver(m) => self.buses[self.targets[self.msgs[m].target?].bus].node,
            Ev::Done { consumer, .. }
            | Ev::BreakerProbe(consumer)
            | Ev::AsyncRetry { consumer, .. }
            | Ev::Paced { consumer, .. }
            | Ev::PollerRamp(consumer)
            | Ev::BatchWindow(consumer) => self.consumers[consumer].node,
            Ev::Visible { queue, .. } => self.queues[queue].node,
            Ev::LaneRetry { stream, .. } => self.streams[stream].node,
            Ev::VisibilityExpired(_)
            | Ev::Fault { .. }
            | Ev::Timeline(_)
            | Ev::RedriveStep(_)
            | Ev::Replay(_)
            | Ev::SmWake { .. }
            | Ev::SmTimeout { .. } => return None,
        })
    }

    /// The event cycle most likely at fault, in words.
    fn cycle_words(&self) -> String {
        if self.cycles.is_empty() {
            return "no event cycle was found; raise settings.max_events if the load is meant"
                .to_owned();
        }
        // Name the cycle through the consumer that emitted the most.
        let hottest = self
            .consumers
            .iter()
            .max_by_key(|c| self.stats[c.node].emitted)
            .map(|c| self.stats[c.node].id.clone())
            .unwrap_or_default();
        let cycle = self
            .cycles
            .iter()
            .find(|c| c.contains(&hottest))
            .unwrap_or(&self.cycles[0]);
        format!("event cycle {}", cycle.join(" → "))
    }

    // ----- observation ----------------------------------------------------------------------

    /// Current circuit-breaker state of each consumer that has one.
    pub(crate) fn breaker_states(&self) -> Vec<(NodeId, &'static str)> {
        self.consumers
            .iter()
            .filter(|c| c.has_breaker())
            .map(|c| (c.node, c.breaker.as_str()))
            .collect()
    }

    /// Faults in force now, as (node, kind).
    pub(crate) fn active_faults(&self) -> Vec<(NodeId, &'static str)> {
        self.faults
            .iter()
            .map(|f| &f.fault)
            .filter(|f| f.from.0 <= self.now && self.now < f.to.0)
            .filter_map(|f| {
                let node = self.stats.position(|n| n.id == f.target)?;
                let kind = match f.kind {
                    FaultKind::Outage => "outage",
                    FaultKind::Slowdown => "slowdown",
                    FaultKind::Errors => "errors",
                };
                Some((node, kind))
            })
            .collect()
    }

    /// Per queue: its node, messages held, messages visible and the oldest one's arrival.
    pub(crate) fn queue_snapshot(&self) -> Vec<(NodeId, u64, u64, Option<Nanos>)> {
        self.queues
            .iter()
            .map(|q| {
                let oldest = if q.fifo {
                    q.groups
                        .iter()
                        .filter_map(|g| g.waiting.front())
                        .map(|m| self.msgs[*m].arrived_at)
                        .min()
                } else {
                    q.waiting.front().map(|m| self.msgs[*m].arrived_at)
                };
                (q.node, q.held, q.visible, oldest)
            })
            .collect()
    }

    /// Per stream: its node, records behind and the oldest one's arrival.
    pub(crate) fn stream_snapshot(&self) -> Vec<(NodeId, u64, Option<Nanos>)> {
        self.streams
            .iter()
            .map(|s| {
                let (behind, oldest) = s.behind(&self.msgs);
                (s.node, behind, oldest)
            })
            .collect()
    }

    /// Reason names, for results.
    #[must_use]
    pub fn reason_names() -> [&'static str; 6] {
        Reason::ALL.map(Reason::as_str)
    }
}
