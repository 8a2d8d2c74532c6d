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
///
/// Popping leaves the popped entry in place at the top of the heap as a *hole*: a handler
/// nearly always schedules something while it runs, and the first event it schedules replaces
/// the hole with one sift down instead of a pop's sift and a push's sift. The hole is removed
/// for real before the queue is read again. Which events come out, and in which order, is the
/// same as with a plain pop: keys are unique (the sequence number), so the order is the total
/// order of (time, sequence) whatever the heap's shape.
///
/// One producer arrival waits beside the heap, in `side`: a producer always has its next
/// arrival pending, and keeping one out of the heap spares it a sift per arrival (an M/M/c's
/// heap then holds only its service ends). The next event is the earlier of the heap's top and
/// `side` by the same key, so the order is unchanged.
pub(crate) struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
    /// The top entry was popped already (see above).
    hole: bool,
    /// A [`Ev::Produce`] kept out of the heap (see above).
    side: Option<Entry>,
}

impl EventQueue {
    /// An empty queue.
    pub(crate) fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
            hole: false,
            side: None,
        }
    }

    /// Schedules `ev` at `at`, after everything already scheduled for that instant.
    #[inline]
    pub(crate) fn schedule(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        let entry = Entry {
            key: (u128::from(at) << 64) | u128::from(self.seq),
            ev,
        };
        if matches!(ev, Ev::Produce(_)) && self.side.is_none() {
            self.side = Some(entry);
            return;
        }
        if self.hole
            && let Some(mut top) = self.heap.peek_mut()
        {
            self.hole = false;
            *top = entry;
        } else {
            self.heap.push(entry);
        }
    }

    /// Removes the popped top entry, if it is still there.
    #[inline]
    fn fill_hole(&mut self) {
        if self.hole {
            self.hole = false;
            self.heap.pop();
        }
    }

    /// Is the side entry next (earlier than the heap's top, or the heap is empty)?
    #[inline]
    fn side_first(&self) -> bool {
        match (&self.side, self.heap.peek()) {
            (Some(s), Some(top)) => s.key < top.key,
            (side, _) => side.is_some(),
        }
    }

    /// The time of the next event, if any.
    #[cfg(test)]
    pub(crate) fn next_time(&mut self) -> Option<Nanos> {
        self.fill_hole();
        let key = if self.side_first() {
            self.side.as_ref()?.key
        } else {
            self.heap.peek()?.key
        };
        Some((key >> 64) as Nanos)
    }

    /// Removes and returns the next event, with its time, if it is due by `until`.
    #[inline]
    pub(crate) fn pop_due(&mut self, until: Nanos) -> Option<(Nanos, Ev)> {
        if self.hole
            && let Some(side) = &self.side
        {
            // Below the hole the heap is in order: its next entry is a child of the top. A
            // side entry before both is next, and the hole waits for the next schedule (one
            // sift instead of a pop's two).
            let heap = self.heap.as_slice();
            if heap[1..heap.len().min(3)].iter().all(|e| side.key < e.key) {
                return self.take_side(until);
            }
        }
        self.fill_hole();
        if self.side_first() {
            return self.take_side(until);
        }
        let top = self.heap.peek()?;
        let t = (top.key >> 64) as Nanos;
        if t > until {
            return None;
        }
        let ev = top.ev;
        self.hole = true;
        Some((t, ev))
    }

    /// The side arrival, removed, with its time, if it is due by `until`; for when it is the
    /// next event.
    #[inline]
    fn take_side(&mut self, until: Nanos) -> Option<(Nanos, Ev)> {
        let side = self.side.as_ref()?;
        let t = (side.key >> 64) as Nanos;
        if t > until {
            return None;
        }
        let ev = side.ev;
        self.side = None;
        Some((t, ev))
    }

    /// Removes and returns the next event.
    #[cfg(test)]
    pub(crate) fn pop(&mut self) -> Option<Ev> {
        self.pop_due(Nanos::MAX).map(|(_, ev)| ev)
    }
}

/// `x.round().max(0.0) as Nanos` (round half away from zero, then saturate into `u64`; NaN
/// and negatives give 0) without the libm call `f64::round` is on targets without SSE4.1: a
/// service time or an arrival gap is rounded once per event.
#[inline]
pub(crate) fn round_nanos(x: f64) -> Nanos {
    /// From 2^52 up every f64 is an integer.
    const INTEGRAL: f64 = 4_503_599_627_370_496.0;
    if x >= INTEGRAL {
        // Already integral; the cast saturates (infinity gives u64::MAX, as before).
        x as Nanos
    } else if x > 0.0 {
        // Through `i64` (one instruction each way; the unsigned conversions are several):
        // exact, as `x` is below 2^52.
        let whole = x as i64;
        // Exact: both are below 2^52 and `whole <= x < whole + 1`.
        let frac = x - whole as f64;
        whole.cast_unsigned() + Nanos::from(frac >= 0.5)
    } else {
        0
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

    /// Events scheduled while a popped event is handled (the hole) come out in the order a
    /// sorted list of (time, sequence) gives, against a reference computed here.
    #[test]
    fn scheduling_into_the_hole_keeps_the_total_order() {
        let mut q = EventQueue::new();
        let mut reference: Vec<(Nanos, u64)> = Vec::new();
        let mut seq = 0u64;
        let mut x = 12_345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Every third event is a producer's arrival (which may wait beside the heap).
        let mut schedule = |q: &mut EventQueue, reference: &mut Vec<(Nanos, u64)>, at: Nanos| {
            seq += 1;
            let ev = if seq.is_multiple_of(3) {
                Ev::Produce(ProducerId::from_index(seq as usize))
            } else {
                Ev::Replay(seq as u32)
            };
            q.schedule(at, ev);
            reference.push((at, seq));
        };
        for _ in 0..20 {
            let at = next() % 50;
            schedule(&mut q, &mut reference, at);
        }
        let mut now = 0;
        let mut popped = Vec::new();
        while let Some(t) = q.next_time() {
            let s = match q.pop() {
                Some(Ev::Replay(s)) => s as usize,
                Some(Ev::Produce(p)) => p.index(),
                _ => panic!("only replays and arrivals were scheduled"),
            };
            assert!(t >= now, "time went backwards");
            now = t;
            popped.push((t, s as u64));
            // Schedule 0, 1 or 2 events, some at the same instant.
            if popped.len() < 400 {
                for _ in 0..next() % 3 {
                    let at = now + next() % 4;
                    schedule(&mut q, &mut reference, at);
                }
            }
        }
        reference.sort_unstable();
        assert_eq!(popped, reference);
    }

    #[test]
    fn round_nanos_is_round_then_saturate() {
        let reference = |x: f64| x.round().max(0.0) as Nanos;
        let mut cases = vec![
            0.0,
            -0.0,
            -0.3,
            -0.5,
            -7.9,
            0.3,
            0.5,
            0.499_999_999_999_999_94,
            1.5,
            2.5,
            2.499_999_999_999_999_6,
            1e9 + 0.5,
            123_456_789.499_999_99,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1.8e19,
            1.9e19,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        let mut x = 88_172_645_463_325_252u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            cases.push(-u.ln() * 1e9);
            cases.push(u * 4.0);
            cases.push(f64::from_bits(x));
        }
        for x in cases {
            assert_eq!(round_nanos(x), reference(x), "{x:e}");
        }
    }
}
