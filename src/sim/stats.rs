//! Per-node statistics over the measured window, and the one way the handlers count things.
//!
//! Most occurrences (an arrival, a completion, a retry …) are counted twice: in the node's
//! windowed statistics when the message is measured (it arrived after the warm-up), and in the
//! time series always (the plots cover the whole run). [`Engine::tally`] does both, so a
//! handler says *what* happened, once.

use super::clock::Nanos;
use super::engine::Engine;
use super::ids::{Id, NodeId};
use crate::metrics::{Counter, Latency, TimeAverage};
use crate::model::Kind;

/// Why a delivery was dead-lettered or dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Target retry attempts used up.
    RetriesExhausted,
    /// Older than the target's maximum event age.
    MaxAge,
    /// Received `max_receives` times (SQS redrive).
    MaxReceives,
    /// Invocation throttled and not retried further.
    Throttled,
    /// FIFO deduplication.
    Deduplicated,
    /// Refused by the target as not retriable (HTTP 4xx other than 429).
    NonRetriable,
}

impl Reason {
    /// Every reason, in the order of [`NodeStats::reasons`].
    pub const ALL: [Reason; 6] = [
        Reason::RetriesExhausted,
        Reason::MaxAge,
        Reason::MaxReceives,
        Reason::Throttled,
        Reason::Deduplicated,
        Reason::NonRetriable,
    ];

    /// Name used in results.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::RetriesExhausted => "retries_exhausted",
            Reason::MaxAge => "max_age",
            Reason::MaxReceives => "max_receives",
            Reason::Throttled => "throttled",
            Reason::Deduplicated => "deduplicated",
            Reason::NonRetriable => "non_retriable",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// An occurrence counted both in the windowed statistics and in the time series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tally {
    /// A message became available to the node.
    Arrived,
    /// A completion (routed, sent or processed).
    Completed,
    /// A failed attempt.
    Failed,
    /// A redelivery or retry.
    Retried,
    /// A throttled attempt.
    Throttled,
    /// A refused message (full, outage).
    Rejected,
    /// A message deleted at its retention period.
    Expired,
}

impl Tally {
    fn counter(self) -> Counter {
        match self {
            Tally::Arrived => Counter::Arrivals,
            Tally::Completed => Counter::Completions,
            Tally::Failed => Counter::Failures,
            Tally::Retried => Counter::Retries,
            Tally::Throttled => Counter::Throttles,
            Tally::Rejected => Counter::Rejected,
            Tally::Expired => Counter::Expired,
        }
    }
}

/// Per-node counters and collectors.
pub struct NodeStats {
    /// Component id.
    pub id: String,
    /// Component kind.
    pub kind: Kind,
    /// Slots (consumers) or 0.
    pub concurrency: u32,
    pub(crate) arrived: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) retried: u64,
    pub(crate) throttled: u64,
    pub(crate) dead_lettered: u64,
    pub(crate) rejected: u64,
    pub(crate) expired: u64,
    pub(crate) duplicates: u64,
    pub(crate) out_of_order: u64,
    pub(crate) attempts: u64,
    /// First attempts (each event once): retry amplification = attempts / first attempts.
    pub(crate) first_attempts: u64,
    pub(crate) unique_completed: u64,
    pub(crate) breaker_transitions: u64,
    pub(crate) emitted: u64,
    pub(crate) reasons: [u64; 6],
    /// Asynchronous invocations: retries after function errors, the deepest and the oldest
    /// the function's queue got, records sent to `on_failure` and `on_success`.
    pub(crate) async_retries: u64,
    pub(crate) async_depth_max: u64,
    pub(crate) async_age_max: Nanos,
    pub(crate) to_on_failure: u64,
    pub(crate) to_on_success: u64,
    /// Event source mappings: batches started and messages in them, batches that failed as a
    /// whole, batches with some messages failed and some not, messages filtered out, the most
    /// concurrent batches the pollers allowed, bisections of failing stream batches.
    pub(crate) batches: u64,
    pub(crate) batch_messages: u64,
    pub(crate) batch_failures: u64,
    pub(crate) partial_batch_failures: u64,
    pub(crate) filtered: u64,
    pub(crate) pollers_max: u64,
    pub(crate) bisections: u64,
    /// Messages in the node's system and waiting in its line, over time. A queue's sole
    /// consumer keeps neither: its system and line are the queue's (results read the queue's).
    pub(crate) in_system: TimeAverage,
    pub(crate) waiting: TimeAverage,
    pub(crate) busy: TimeAverage,
    /// Slots over time, once a `set` timeline entry changed the concurrency (utilization is
    /// busy slots over the slots there were).
    pub(crate) slots: Option<TimeAverage>,
    pub(crate) sojourn_ns: u128,
    pub(crate) departures: u64,
    pub(crate) wait: Latency,
    pub(crate) latency: Latency,
}

impl NodeStats {
    pub(crate) fn new(id: &str, kind: Kind, warmup: Nanos) -> Self {
        NodeStats {
            id: id.to_owned(),
            kind,
            concurrency: 0,
            arrived: 0,
            completed: 0,
            failed: 0,
            retried: 0,
            throttled: 0,
            dead_lettered: 0,
            rejected: 0,
            expired: 0,
            duplicates: 0,
            out_of_order: 0,
            attempts: 0,
            first_attempts: 0,
            unique_completed: 0,
            breaker_transitions: 0,
            emitted: 0,
            reasons: [0; 6],
            async_retries: 0,
            async_depth_max: 0,
            async_age_max: 0,
            to_on_failure: 0,
            to_on_success: 0,
            batches: 0,
            batch_messages: 0,
            batch_failures: 0,
            partial_batch_failures: 0,
            filtered: 0,
            pollers_max: 0,
            bisections: 0,
            in_system: TimeAverage::new(warmup),
            waiting: TimeAverage::new(warmup),
            busy: TimeAverage::new(warmup),
            slots: None,
            sojourn_ns: 0,
            departures: 0,
            wait: Latency::new(),
            latency: Latency::new(),
        }
    }

    fn bump(&mut self, what: Tally) {
        let field = match what {
            Tally::Arrived => &mut self.arrived,
            Tally::Completed => &mut self.completed,
            Tally::Failed => &mut self.failed,
            Tally::Retried => &mut self.retried,
            Tally::Throttled => &mut self.throttled,
            Tally::Rejected => &mut self.rejected,
            Tally::Expired => &mut self.expired,
        };
        *field += 1;
    }

    /// Counts a dead-lettered or dropped message by reason.
    pub(crate) fn count_reason(&mut self, reason: Reason) {
        self.reasons[reason.index()] += 1;
    }

    /// A message left this node's system after `sojourn_ns` (Little's law's W).
    pub(crate) fn depart(&mut self, sojourn_ns: Nanos) {
        self.sojourn_ns += u128::from(sojourn_ns);
        self.departures += 1;
    }

    /// A message left a consumer's system after `sojourn_ns`, having waited `waited_ns` in
    /// line over all its receives.
    #[inline]
    pub(crate) fn depart_waited(&mut self, sojourn_ns: Nanos, waited_ns: Nanos) {
        self.depart(sojourn_ns);
        self.wait.record(waited_ns);
    }
}

impl Engine {
    /// Is the clock past the warm-up (do new messages count in the statistics)?
    #[inline]
    pub(crate) fn measuring(&self) -> bool {
        self.now >= self.warmup
    }

    /// Counts `what` at `node`: in its statistics if `measured`, in the time series always.
    #[inline(always)]
    pub(crate) fn tally(&mut self, node: NodeId, what: Tally, measured: bool) {
        if measured {
            self.stats[node].bump(what);
        }
        self.series.count(node.index(), what.counter(), self.now, 1);
    }

    /// [`Engine::tally`] with the clock deciding whether it is measured.
    #[inline(always)]
    pub(crate) fn tally_now(&mut self, node: NodeId, what: Tally) {
        let measured = self.measuring();
        self.tally(node, what, measured);
    }
}
