//! Simulated time and the event queue: what happens next, in a total order.
//!
//! Time is integer nanoseconds and never touches the wall clock. The queue is ordered by
//! (time, insertion sequence), so simultaneous events always run in the order they were
//! scheduled, on every machine and at every step size. Events are small `Copy` values: the
//! queue allocates only when it grows.

use std::collections::BinaryHeap;

use super::ids::{ConsumerId, FaultId, MsgId, ProducerId, QueueId, SlotId, StreamId, TimelineId};

/// Simulated time, nanoseconds.
pub type Nanos = u64;

/// Nanoseconds per second, as a float (rates and distributions are per second).
pub(crate) const SEC: f64 = 1e9;

/// Something that happens at an instant.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    /// A producer's next arrival.
    Produce(ProducerId),
    /// A producer's rate schedule changes (not an arrival): re-arm at the new rate.
    RateChange(ProducerId),
    /// A throttled producer may send again.
    Throttled(ProducerId),
    /// Deliver a rule-target copy (after the bus latency or a retry backoff).
    Deliver(MsgId),
    /// A consumer's batch in `slot` finishes.
    Done {
        /// Whose batch.
        consumer: ConsumerId,
        /// Which of its slots.
        slot: SlotId,
    },
    /// A failed queue message becomes visible again (its visibility timeout has passed).
    Visible {
        /// The message.
        msg: MsgId,
        /// The queue that holds it.
        queue: QueueId,
    },
    /// A failed stream record is retried (its partition was blocked meanwhile).
    LaneRetry {
        /// The record.
        msg: MsgId,
        /// The stream.
        stream: StreamId,
        /// The consumer group (position among the stream's readers).
        group: u32,
    },
    /// A message still in service outlives its visibility timeout (standard queues).
    VisibilityExpired(MsgId),
    /// A fault window starts or ends.
    Fault {
        /// Which fault.
        fault: FaultId,
        /// Start (true) or end.
        start: bool,
    },
    /// A timeline action (redrive, replay).
    Timeline(TimelineId),
    /// An open circuit breaker's cool-down ends.
    BreakerProbe(ConsumerId),
    /// A failed asynchronous invocation goes back to the function's queue for its retry.
    AsyncRetry {
        /// The function.
        consumer: ConsumerId,
        /// The invocation.
        msg: MsgId,
    },
    /// A call held back by a service's rate limit is due.
    Paced {
        /// The service.
        consumer: ConsumerId,
        /// The call.
        msg: MsgId,
    },
    /// An SQS event source mapping's poller count is reconsidered (once a second).
    PollerRamp(ConsumerId),
    /// A consumer's batching window ends.
    BatchWindow(ConsumerId),
    /// The next messages of a paced redrive move.
    RedriveStep(TimelineId),
    /// An archived event is replayed (an index into the engine's pending replays).
    Replay(u32),
    /// A state machine thread's wait ends (a Wait state, a Retry interval, a Task's
    /// `TimeoutSeconds`); stale when the thread has moved on (its token changed).
    SmWake {
        /// The thread (a slot in the state machine runtime).
        thread: u32,
        /// The thread's token when the event was scheduled.
        token: u32,
    },
    /// An execution reaches its machine's `TimeoutSeconds` (or the express limit).
    SmTimeout {
        /// The execution.
        exec: u32,
        /// Its generation when the event was scheduled.
        generation: u32,
    },
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u128,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap and we pop the earliest (time, sequence).
        other.key.cmp(&self.key)
    }
}

/// The pending events, earliest first.
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl EventQueue {
    /// An empty queue.
    pub(crate) fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
        }
    }

    /// Schedules `ev` at `at`, after everything already scheduled for that instant.
    #[inline]
    pub(crate) fn schedule(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        self.heap.push(Entry {
            key: (u128::from(at) << 64) | u128::from(self.seq),
            ev,
        });
    }

    /// The time of the next event, if any.
    #[inline]
    pub(crate) fn next_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|e| (e.key >> 64) as Nanos)
    }

    /// Removes and returns the next event.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Ev> {
        self.heap.pop().map(|e| e.ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::ids::Id;

    #[test]
    fn simultaneous_events_keep_their_scheduling_order() {
        let mut q = EventQueue::new();
        let (a, b, c) = (
            ProducerId::from_index(0),
            ProducerId::from_index(1),
            ProducerId::from_index(2),
        );
        q.schedule(5, Ev::Produce(a));
        q.schedule(3, Ev::Produce(b));
        q.schedule(5, Ev::Produce(c));
        let order: Vec<_> = std::iter::from_fn(|| {
            let t = q.next_time()?;
            match q.pop()? {
                Ev::Produce(p) => Some((t, p.index())),
                _ => None,
            }
        })
        .collect();
        assert_eq!(order, vec![(3, 1), (5, 0), (5, 2)]);
    }
}
