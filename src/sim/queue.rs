//! Queues (SQS standard and FIFO): capacity and `when_full`, FIFO deduplication and message
//! groups, best-effort ordering on standard queues, at-least-once duplicates, batched receives
//! by competing consumers, visibility timeouts, `max_receives` redrive to a dead-letter queue,
//! retention, and the queue's level statistics (backlog, lag, DLQ depth, oldest message age).

use std::collections::VecDeque;
use std::sync::Arc;

use super::clock::{Ev, Nanos};
use super::engine::Engine;
use super::envelope::{HashKeyed, content_hash, hash_value, path_of};
use super::ids::{ConsumerId, Id, MsgId, NodeId, QueueId};
use super::journey::Condition;
use super::ledger::Outcome;
use super::rng::Stream;
use super::stats::{Reason, Tally};
use super::template::lookup;
use crate::metrics::{Counter, Level, Sampled};
use crate::model::{Queue, QueueType, WhenFull};

/// How many of the oldest visible messages a standard-queue receive samples from (SQS's
/// best-effort ordering); 1 would make standard queues strictly FIFO.
const ORDERING_WINDOW: usize = 4;

/// `draw % window` for a receive's pick among the oldest visible messages, with the divisor a
/// constant for each window up to [`ORDERING_WINDOW`] (a multiply, not a 64-bit division).
#[inline]
fn pick_below(draw: u64, window: usize) -> usize {
    let r = match window {
        2 => draw % 2,
        3 => draw % 3,
        4 => draw % 4,
        w => draw % w as u64,
    };
    r as usize
}

/// How often an SQS event source mapping reconsiders its poller count: every second, adding
/// a sixtieth of the per-minute step each time (5 per second for AWS's 300 a minute).
const RAMP_TICK: Nanos = 1_000_000_000;

/// A FIFO message group.
#[derive(Default)]
pub(crate) struct Group {
    pub(crate) waiting: VecDeque<MsgId>,
    pub(crate) in_flight: bool,
    pub(crate) queued_ready: bool,
    /// The hash of its group key (its entry in the queue's index).
    key: u64,
}

impl Group {
    /// Nothing waits in it, nothing of it is in flight or queued to be received: it can be
    /// forgotten, as SQS keeps no state for a group without messages.
    fn idle(&self) -> bool {
        self.waiting.is_empty() && !self.in_flight && !self.queued_ready
    }
}

/// A queue at run time.
pub(crate) struct QueueRt {
    pub(crate) node: NodeId,
    pub(crate) fifo: bool,
    capacity: u64,
    block: bool,
    pub(crate) visibility: Nanos,
    pub(crate) max_receives: u32,
    pub(crate) dlq: Option<QueueId>,
    duplicate_rate: f64,
    pub(crate) group_path: Option<Vec<String>>,
    dedup_window: Nanos,
    /// FIFO: the path of the deduplication id (absent: content-based).
    dedup_path: Option<Vec<String>>,
    pub(crate) retention: Nanos,
    /// Standard queue: visible messages.
    pub(crate) waiting: VecDeque<MsgId>,
    /// FIFO: message groups, their index by key hash, and the groups ready to be received.
    pub(crate) groups: Vec<Group>,
    group_index: HashKeyed<u32>,
    /// Slots of `groups` whose group went idle, for the next new key: a run through millions
    /// of distinct group keys (an order id) holds only the groups with messages.
    free_groups: Vec<u32>,
    pub(crate) ready: VecDeque<u32>,
    /// Messages held: visible, in flight and invisible (capacity counts them all).
    pub(crate) held: u64,
    /// Visible messages.
    pub(crate) visible: u64,
    pub(crate) consumers: Vec<ConsumerId>,
    /// Some queue or rule target dead-letters into this one (its depth is plotted as DLQ depth).
    pub(crate) is_dlq: bool,
    /// Level statistics await an update at the end of the current event.
    dirty: bool,
    blocked: VecDeque<MsgId>,
    /// FIFO deduplication ids and when each was seen; `dedup_order` lists them by age, so
    /// ids leave as they pass the window (constant work per message, bounded memory).
    dedup: HashKeyed<Nanos>,
    dedup_order: VecDeque<(Nanos, u64)>,
    /// The order key every consumer of this queue checks, hashed into each message on arrival.
    pub(crate) order_path: Option<Vec<String>>,
    /// Does anything downstream read a waiting message's payload (a consumer's `fail_when` or
    /// `$from`, a dead-letter queue or redrive target that keys on it)? If not, the payload is
    /// released on arrival and the message waits as its few fixed fields.
    pub(crate) keep_payload: bool,
    rng: Stream,
    pub(crate) outage: u32,
    /// Its sole reader when that is a plain one ([`super::consumer::ConsumerRt::plain_for`]):
    /// the pump hands it messages one at a time without the general loop.
    pub(crate) plain_reader: Option<ConsumerId>,
}

impl QueueRt {
    /// Compiles a queue; `dlq` is resolved by the caller.
    pub(crate) fn compile(q: &Queue, node: NodeId, dlq: Option<QueueId>, seed: u64) -> Self {
        QueueRt {
            node,
            fifo: q.kind == QueueType::Fifo,
            capacity: q.capacity.unwrap_or(u64::MAX),
            block: q.when_full == WhenFull::Block,
            visibility: q.visibility_timeout_in_force().as_nanos(),
            max_receives: q.max_receives.unwrap_or(u32::MAX),
            dlq,
            duplicate_rate: q.duplicate_rate,
            group_path: q.group_by.as_deref().map(path_of),
            dedup_window: q.dedup_window_in_force().as_nanos(),
            dedup_path: q.dedup_id.as_deref().map(path_of),
            retention: q.retention_in_force().as_nanos(),
            waiting: VecDeque::new(),
            groups: Vec::new(),
            group_index: HashKeyed::default(),
            free_groups: Vec::new(),
            ready: VecDeque::new(),
            held: 0,
            visible: 0,
            consumers: Vec::new(),
            is_dlq: false,
            dirty: false,
            blocked: VecDeque::new(),
            dedup: HashKeyed::default(),
            dedup_order: VecDeque::new(),
            order_path: None,
            keep_payload: true,
            rng: Stream::new(seed, &q.id, "duplicates"),
            outage: 0,
            plain_reader: None,
        }
    }

    /// Frees FIFO group `g` for a new key if it is idle (once: a freed group is no longer in
    /// the index under its key).
    fn forget_if_idle(&mut self, g: u32) {
        let group = &self.groups[g as usize];
        if group.idle() && self.group_index.get(&group.key) == Some(&g) {
            self.group_index.remove(&group.key);
            self.free_groups.push(g);
        }
    }

    /// The consumer that reads it, when exactly one does: its system includes the queue's line.
    #[inline]
    pub(crate) fn sole_consumer(&self) -> Option<ConsumerId> {
        (self.consumers.len() == 1).then(|| self.consumers[0])
    }

    /// Does no sender wait for space?
    #[inline]
    pub(crate) fn blocked_is_empty(&self) -> bool {
        self.blocked.is_empty()
    }
}

impl Engine {
    /// A message arrives at a queue. Returns true when the sender is blocked.
    pub(crate) fn enqueue(&mut self, q: QueueId, m: MsgId) -> bool {
        let moving = std::mem::take(&mut self.moving);
        let now = self.now;
        let node = self.queues[q].node;
        let measuring = self.measuring();
        if self.queues[q].outage > 0 {
            self.tally(node, Tally::Rejected, measuring);
            self.trace_end(m, "rejected", || Some("outage".to_owned()));
            self.reject(m);
            return false;
        }
        if self.queues[q].held >= self.queues[q].capacity {
            if self.queues[q].block && self.msgs[m].target.is_some() {
                // EventBridge cannot wait on a target: a full queue fails the delivery, which
                // the rule target's retry policy then retries (or dead-letters).
                self.tally(node, Tally::Throttled, measuring);
                self.trace_end(m, "throttled", || Some("queue full".to_owned()));
                self.target_failed(m, Reason::Throttled);
                return false;
            }
            if self.queues[q].block {
                let p = self.msgs[m].blocked_producer;
                if let Some(p) = p {
                    self.producers[p].blocked = true;
                }
                self.queues[q].blocked.push_back(m);
                return p.is_some();
            }
            self.tally(node, Tally::Rejected, measuring);
            self.trace_end(m, "rejected", || Some("queue full".to_owned()));
            self.reject(m);
            return false;
        }
        // FIFO deduplication on the message's deduplication id (`dedup_id`, or a hash of the
        // body: content-based deduplication) within the window. A message moved here (to a
        // dead-letter queue, or redriven back) is a new message, not a duplicate.
        if self.queues[q].fifo && !moving {
            let payload = &self.msgs[m].payload;
            let key = match &self.queues[q].dedup_path {
                Some(path) => lookup(payload, path).map_or(0, hash_value),
                None => content_hash(payload),
            };
            let qr = &mut self.queues[q];
            let window = qr.dedup_window;
            // Forget ids that have left the window (an id seen again since keeps its newer time).
            while let Some(&(seen, id)) = qr.dedup_order.front()
                && now.saturating_sub(seen) >= window
            {
                qr.dedup_order.pop_front();
                if qr.dedup.get(&id) == Some(&seen) {
                    qr.dedup.remove(&id);
                }
            }
            if let Some(&seen) = qr.dedup.get(&key)
                && now.saturating_sub(seen) < window
            {
                if measuring {
                    self.stats[node].duplicates += 1;
                    self.stats[node].count_reason(Reason::Deduplicated);
                }
                self.trace_end(m, "deduplicated", || {
                    Some("same event within the deduplication window".to_owned())
                });
                self.settle(m, Outcome::Dropped);
                self.msgs.free(m);
                return false;
            }
            let qr = &mut self.queues[q];
            qr.dedup.insert(key, now);
            qr.dedup_order.push_back((now, key));
        }
        {
            let msg = &mut self.msgs[m];
            msg.arrived_at = now;
            msg.measured = measuring;
            msg.receives = 0;
            msg.visible_since = now;
            msg.waited = 0;
            // Retention counts from the enqueue; a message moved into a standard queue keeps
            // its original enqueue time (SQS), one moved into a FIFO queue starts again.
            if !moving || self.queues[q].fifo {
                msg.first_attempt_at = now;
            }
        }
        self.arrive_at_queue(q, m);
        // Standard queues deliver at least once: sometimes a second, unowed copy.
        let dup_rate = self.queues[q].duplicate_rate;
        if dup_rate > 0.0 && self.queues[q].rng.chance(dup_rate) {
            let pair = self.msgs.new_dup_pair(2);
            self.msgs[m].dup = Some(pair);
            let copy = self.msgs[m].unowed_copy();
            let c = self.msgs.alloc(copy);
            if measuring {
                self.stats[node].duplicates += 1;
            }
            self.trace_duplicate(m, c, node, "SQS at-least-once delivery made a second copy");
            self.arrive_at_queue(q, c);
        }
        self.pump_queue(q);
        false
    }

    /// A refused message ends here.
    fn reject(&mut self, m: MsgId) {
        self.settle(m, Outcome::Rejected);
        self.msgs.free(m);
    }

    /// Puts an accepted message into the queue's waiting line.
    pub(crate) fn arrive_at_queue(&mut self, q: QueueId, m: MsgId) {
        let node = self.queues[q].node;
        let measured = self.msgs[m].measured;
        self.tally(node, Tally::Arrived, measured);
        let qr = &mut self.queues[q];
        qr.held += 1;
        let keep_payload = qr.keep_payload;
        // A payload released earlier (a re-received copy in this same queue; FIFO queues have
        // none, and queues that key on payloads keep them) was read on its first arrival: its
        // order key stands.
        let msg = &mut self.msgs[m];
        if let Some(path) = &qr.order_path
            && !Arc::ptr_eq(&msg.payload, &self.released)
        {
            msg.order_hash = lookup(&msg.payload, path).map(hash_value);
        }
        if qr.fifo {
            let key = match &qr.group_path {
                Some(path) => lookup(&msg.payload, path).map_or(0, hash_value),
                None => 0,
            };
            let g = if let Some(&g) = qr.group_index.get(&key) {
                g
            } else {
                let g = if let Some(g) = qr.free_groups.pop() {
                    g
                } else {
                    qr.groups.push(Group::default());
                    qr.groups.len() as u32 - 1
                };
                qr.groups[g as usize].key = key;
                qr.group_index.insert(key, g);
                g
            };
            msg.lane = g;
            qr.groups[g as usize].waiting.push_back(m);
            self.mark_group_ready(q, g);
        } else {
            qr.waiting.push_back(m);
        }
        // (An unread producer's messages carry the released payload already: no reference
        // count to move.)
        if !keep_payload && !Arc::ptr_eq(&self.msgs[m].payload, &self.released) {
            self.msgs[m].payload = Arc::clone(&self.released);
        }
        self.queues[q].visible += 1;
        self.queue_levels(q);
        // The owning consumer's arrivals are the queue's.
        if let Some(c) = self.queues[q].sole_consumer() {
            let cn = self.consumers[c].node;
            self.tally(cn, Tally::Arrived, measured);
        }
    }

    /// Queues a FIFO group for receiving if it has messages and none in flight; forgets it if
    /// it has neither.
    pub(crate) fn mark_group_ready(&mut self, q: QueueId, g: u32) {
        let qr = &mut self.queues[q];
        let group = &mut qr.groups[g as usize];
        if !group.in_flight && !group.queued_ready && !group.waiting.is_empty() {
            group.queued_ready = true;
            qr.ready.push_back(g);
        } else {
            qr.forget_if_idle(g);
        }
    }

    /// Marks the queue's level statistics for an update at the end of the current event: every
    /// change within one event happens at the same instant, so one update per event is exact
    /// (and momentary in-between states are not counted as waiting).
    #[inline(always)]
    pub(crate) fn queue_levels(&mut self, q: QueueId) {
        let qr = &mut self.queues[q];
        if !qr.dirty {
            qr.dirty = true;
            self.dirty_queues.push(q);
        }
    }

    /// Applies the pending level updates of [`Engine::queue_levels`].
    pub(crate) fn flush_levels(&mut self) {
        while let Some(q) = self.dirty_queues.pop() {
            self.queues[q].dirty = false;
            self.update_queue_levels(q);
        }
    }

    /// Updates the queue's (and its owning consumer's) level statistics.
    fn update_queue_levels(&mut self, q: QueueId) {
        let now = self.now;
        let qr = &self.queues[q];
        let (node, held, visible) = (qr.node, qr.held, qr.visible);
        let oldest = if visible > 0 {
            qr.waiting
                .front()
                .map(|m| now.saturating_sub(self.msgs[*m].arrived_at))
        } else {
            None
        };
        let is_dlq = qr.is_dlq;
        let st = &mut self.stats[node];
        st.in_system.set(now, held);
        st.waiting.set(now, visible);
        let n = node.index();
        self.series.level(n, Level::Backlog, now, held);
        self.series.level(n, Level::Lag, now, visible);
        if is_dlq {
            self.series.level(n, Level::DlqDepth, now, held);
        }
        if let Some(age) = oldest {
            self.series
                .observe_max(n, Sampled::LagS, now, age as f64 / 1e9);
        }
        // The sole consumer's system is the queue's (held: visible, in flight and invisible)
        // and its waiting line the visible messages: its results read these two levels off
        // the queue's statistics rather than keeping copies (`results::build`). The
        // backlog series is the queue's too (one series, not two).
    }

    /// Starts work on a queue while it has visible messages and its consumers free slots.
    pub(crate) fn pump_queue(&mut self, q: QueueId) {
        if let Some(c) = self.queues[q].plain_reader {
            self.pump_plain(q, c);
            return;
        }
        let n_consumers = self.queues[q].consumers.len();
        if n_consumers == 0 {
            return;
        }
        // Pollers that ramp up start their clock when messages appear.
        if self.queues[q].visible > 0 {
            for k in 0..n_consumers {
                let c = self.queues[q].consumers[k];
                if let Some(r) = self.consumers[c].ramp.as_mut()
                    && !r.armed
                {
                    r.armed = true;
                    self.events
                        .schedule(self.now + RAMP_TICK, Ev::PollerRamp(c));
                }
            }
        }
        // Competing consumers take turns in file order, each filling its free slots.
        let mut progress = true;
        while progress && self.queues[q].visible > 0 {
            progress = false;
            for k in 0..n_consumers {
                let c = self.queues[q].consumers[k];
                if !self.can_start(c) || self.filling_batch(q, c) {
                    continue;
                }
                if !self.take_batch(q, c) {
                    break;
                }
                progress = true;
            }
        }
        self.unblock_senders(q);
    }

    /// [`Engine::pump_queue`] for a queue whose sole reader is plain: no poller ramp, no
    /// batching window, one message a batch, so the general loop's turn-taking comes down to
    /// receiving while the reader can start.
    fn pump_plain(&mut self, q: QueueId, c: ConsumerId) {
        while self.queues[q].visible > 0 && self.can_start(c) {
            let Some(m) = self.pick_visible(q) else {
                break;
            };
            if !self.receivable(q, m) {
                self.refuse_on_receive(q, c, m);
                continue;
            }
            self.receive_one(q, c, m);
            // `can_start` holds: a slot is free (`start_batch` takes the last).
            if let Some(slot) = self.consumers[c].take_free_slot() {
                self.begin_plain(c, q, slot, m, true);
            }
            self.queue_levels(q);
        }
        if !self.queues[q].blocked.is_empty() {
            self.unblock_senders(q);
        }
    }

    /// Takes one of the oldest visible messages of standard queue `q`: SQS standard queues
    /// order on a best-effort basis, so a receive samples among the oldest few rather than
    /// taking strictly the oldest.
    #[inline(always)]
    pub(crate) fn pick_visible(&mut self, q: QueueId) -> Option<MsgId> {
        let qr = &mut self.queues[q];
        let window = qr.waiting.len().min(ORDERING_WINDOW);
        if window == 0 {
            return None;
        }
        let pick = if window > 1 {
            pick_below(qr.rng.next_u64(), window)
        } else {
            0
        };
        // `remove(pick)` for a pick among the first few: the ones before it move up one and
        // the front goes (the order of the rest is kept, as `remove` keeps it).
        let m = qr.waiting[pick];
        for j in (0..pick).rev() {
            qr.waiting[j + 1] = qr.waiting[j];
        }
        qr.waiting.pop_front();
        Some(m)
    }

    /// May message `m`, just taken from queue `q`, be delivered: is it within the retention
    /// period and received fewer than `max_receives` times?
    #[inline(always)]
    pub(crate) fn receivable(&self, q: QueueId, m: MsgId) -> bool {
        let qr = &self.queues[q];
        let msg = &self.msgs[m];
        self.now.saturating_sub(msg.first_attempt_at) < qr.retention
            && msg.receives < qr.max_receives
    }

    /// A message taken for consumer `c` that is not [`Engine::receivable`]: past the retention
    /// period it is deleted; received `max_receives` times already it moves to the dead-letter
    /// queue now (SQS's redrive policy acts when it would be received once more).
    pub(crate) fn refuse_on_receive(&mut self, q: QueueId, c: ConsumerId, m: MsgId) {
        let node = self.queues[q].node;
        self.queues[q].visible -= 1;
        self.leave_queue(q, m);
        if self.now.saturating_sub(self.msgs[m].first_attempt_at) >= self.queues[q].retention {
            self.trace_end(m, "expired", || Some("retention period passed".to_owned()));
            self.expire(node, m);
        } else {
            if self.measuring() {
                let cn = self.consumers[c].node;
                self.stats[cn].dead_lettered += 1;
                self.stats[cn].count_reason(Reason::MaxReceives);
            }
            let dlq = self.queues[q].dlq;
            self.dead_letter(m, dlq, node, Reason::MaxReceives);
        }
    }

    /// Message `m` of queue `q` is received by consumer `c` (one more receive; no longer
    /// visible).
    #[inline(always)]
    pub(crate) fn receive_one(&mut self, q: QueueId, c: ConsumerId, m: MsgId) {
        self.queues[q].visible -= 1;
        self.msgs[m].receives += 1;
        let receive = self.msgs[m].receives;
        let by = self.consumers[c].node;
        self.trace_start(m, Some(receive), Some(by));
    }

    /// Lets senders waiting for space in (`when_full: block`).
    fn unblock_senders(&mut self, q: QueueId) {
        while self.queues[q].held < self.queues[q].capacity {
            let Some(m) = self.queues[q].blocked.pop_front() else {
                break;
            };
            let p = self.msgs[m].blocked_producer.take();
            self.enqueue(q, m);
            if let Some(p) = p {
                self.producer_unblocked(p);
            }
        }
    }

    /// Is consumer `c` still waiting for its batching window to fill a batch from standard
    /// queue `q`? It waits while fewer than a batch are visible and the oldest visible message
    /// has waited less than the window; a wake-up at the window's end is scheduled.
    fn filling_batch(&mut self, q: QueueId, c: ConsumerId) -> bool {
        let window = self.consumers[c].batch_window;
        let qr = &self.queues[q];
        if window == 0 || qr.fifo || qr.visible >= self.consumers[c].batch as u64 {
            return false;
        }
        let Some(&oldest) = qr.waiting.front() else {
            return false;
        };
        let due = self.msgs[oldest].visible_since + window;
        if self.now >= due {
            return false;
        }
        if !self.consumers[c].window_armed {
            self.consumers[c].window_armed = true;
            self.events.schedule(due, Ev::BatchWindow(c));
        }
        true
    }

    /// A batching window ended: look again.
    pub(crate) fn batch_window_ended(&mut self, c: ConsumerId) {
        self.consumers[c].window_armed = false;
        self.wake_consumer(c);
    }

    /// Receives one batch from queue `q` into a free slot of consumer `c`.
    fn take_batch(&mut self, q: QueueId, c: ConsumerId) -> bool {
        let batch = self.consumers[c].batch;
        let mut buf = std::mem::take(&mut self.batch_buf);
        buf.clear();
        let fifo = self.queues[q].fifo;
        // (A standard queue leaves the engine's group buffer where it is.)
        let mut fifo_groups = Vec::new();
        if fifo {
            fifo_groups = std::mem::take(&mut self.receive_groups);
            fifo_groups.clear();
        }
        if fifo {
            let qr = &mut self.queues[q];
            // A batch may hold several message groups, in order within each (AWS); a group
            // with a message in flight gets nothing more until it is settled.
            while buf.len() < batch
                && let Some(g) = qr.ready.pop_front()
            {
                let group = &mut qr.groups[g as usize];
                group.queued_ready = false;
                if group.in_flight || group.waiting.is_empty() {
                    qr.forget_if_idle(g);
                    continue;
                }
                while buf.len() < batch {
                    match group.waiting.pop_front() {
                        Some(m) => buf.push(m),
                        None => break,
                    }
                }
                group.in_flight = true;
                fifo_groups.push(g);
            }
        } else {
            while buf.len() < batch {
                let Some(m) = self.pick_visible(q) else {
                    break;
                };
                buf.push(m);
            }
        }
        // Messages past the retention period are deleted instead of delivered; a message
        // received `max_receives` times already moves to the dead-letter queue now (SQS's
        // redrive policy acts when it would be received once more); a message the mapping's
        // filter rejects is deleted unprocessed.
        let mut kept = 0;
        let taken = buf.len();
        let node = self.queues[q].node;
        let cn = self.consumers[c].node;
        // A pipe counts the events it reads (once each), filtered or not, as its arrivals; a
        // sole reader's are counted as they reach the queue.
        let pipe = self.consumers[c].pipe.is_some() && self.queues[q].sole_consumer() != Some(c);
        for i in 0..buf.len() {
            let m = buf[i];
            if !self.receivable(q, m) {
                self.refuse_on_receive(q, c, m);
            } else if self.consumers[c]
                .filter
                .as_ref()
                .is_some_and(|f| !f.iter().any(|p| p.matches(&self.msgs[m].payload)))
            {
                if pipe && self.msgs[m].receives == 0 {
                    self.tally_now(cn, Tally::Arrived);
                }
                self.queues[q].visible -= 1;
                self.leave_queue(q, m);
                if self.measuring() {
                    self.stats[cn].filtered += 1;
                }
                self.tally_now(node, Tally::Completed);
                self.trace_end(m, "filtered", || {
                    Some("matches none of the mapping's filter".to_owned())
                });
                self.settle(m, Outcome::Completed);
                self.msgs.free(m);
            } else {
                if pipe && self.msgs[m].receives == 0 {
                    self.tally_now(cn, Tally::Arrived);
                }
                buf[kept] = m;
                kept += 1;
            }
        }
        buf.truncate(kept);
        // A group none of whose taken messages is left (expired, moved to the DLQ, filtered)
        // may be received again.
        if fifo {
            for &g in &fifo_groups {
                if !buf.iter().any(|m| self.msgs[*m].lane == g) {
                    self.queues[q].groups[g as usize].in_flight = false;
                    self.mark_group_ready(q, g);
                }
            }
            self.receive_groups = fifo_groups;
        }
        if buf.is_empty() {
            self.batch_buf = buf;
            // Progress only if expired messages were removed (then try again).
            return taken > 0;
        }
        for &m in &buf {
            self.receive_one(q, c, m);
        }
        self.start_batch(c, &buf, u32::MAX);
        self.batch_buf = buf;
        self.queue_levels(q);
        true
    }

    /// A failed message's visibility timeout has passed: it is visible again (at the head of
    /// its FIFO group, which stayed blocked until now) unless its retention has passed.
    pub(crate) fn visible_again(&mut self, m: MsgId, q: QueueId) {
        let node = self.queues[q].node;
        self.tally_now(node, Tally::Retried);
        if let Some(c) = self.queues[q].sole_consumer() {
            let cn = self.consumers[c].node;
            self.tally_now(cn, Tally::Retried);
        }
        let now = self.now;
        if now.saturating_sub(self.msgs[m].first_attempt_at) >= self.queues[q].retention {
            self.leave_queue(q, m);
            self.trace_end(m, "expired", || Some("retention period passed".to_owned()));
            self.expire(node, m);
            return;
        }
        self.msgs[m].visible_since = now;
        let lane = self.msgs[m].lane;
        let qr = &mut self.queues[q];
        if qr.fifo {
            qr.groups[lane as usize].waiting.push_front(m);
            qr.groups[lane as usize].in_flight = false;
            self.mark_group_ready(q, lane);
        } else {
            qr.waiting.push_back(m);
        }
        self.queues[q].visible += 1;
        self.queue_levels(q);
        self.pump_queue(q);
    }

    /// A message past its retention period is deleted.
    pub(crate) fn expire(&mut self, node: NodeId, m: MsgId) {
        self.tally_now(node, Tally::Expired);
        self.settle(m, Outcome::Expired);
        self.msgs.free(m);
    }

    /// A message leaves the queue's system (deleted, dead-lettered or expired).
    pub(crate) fn leave_queue(&mut self, q: QueueId, m: MsgId) {
        let now = self.now;
        let qr = &mut self.queues[q];
        qr.held -= 1;
        let msg = &self.msgs[m];
        if msg.measured {
            let sojourn = now - msg.arrived_at;
            self.stats[qr.node].depart(sojourn);
            if let Some(c) = qr.sole_consumer() {
                self.stats[self.consumers[c].node].depart_waited(sojourn, msg.waited);
            }
        }
    }

    /// Moves a message to a dead-letter queue (or drops it when there is none). `node` is
    /// where it was dead-lettered from (counted there).
    pub(crate) fn dead_letter(
        &mut self,
        m: MsgId,
        dlq: Option<QueueId>,
        node: NodeId,
        reason: Reason,
    ) {
        let now = self.now;
        let measuring = self.measuring();
        if let Some(q) = dlq {
            if measuring {
                self.stats[node].dead_lettered += 1;
                self.stats[node].count_reason(reason);
            }
            self.series
                .count(node.index(), Counter::DeadLettered, now, 1);
            self.trace_end(m, "dead_lettered", || Some(reason.as_str().to_owned()));
            self.trace_note(m, Condition::DeadLettered);
            let dlq_node = self.queues[q].node;
            self.trace_msg_open(m, dlq_node, None);
            self.settle(m, Outcome::DeadLettered);
            self.msgs.set_owed(m, false);
            let msg = &mut self.msgs[m];
            msg.target = None;
            msg.receives = 0;
            msg.blocked_producer = None;
            msg.arrived_at = now;
            msg.measured = measuring;
            self.moving = true;
            self.enqueue(q, m);
        } else {
            if measuring {
                self.stats[node].count_reason(reason);
            }
            self.series.count(node.index(), Counter::Expired, now, 1);
            self.trace_end(m, "dropped", || {
                Some(format!("{} (no dead-letter queue)", reason.as_str()))
            });
            self.settle(m, Outcome::Dropped);
            self.msgs.free(m);
        }
    }

    /// A message still in service reached its visibility timeout: unless some copy of it has
    /// already been processed (and so deleted), a copy becomes visible and is received again.
    /// The copy owes nothing (the first delivery does); an idempotent consumer skips it if a
    /// twin finished first, another processes it twice (counted as a duplicate).
    pub(crate) fn reappear(&mut self, m: MsgId) {
        let Some(q) = self.queue_of_in_service(m) else {
            return;
        };
        let pair = match self.msgs[m].dup {
            Some(d) if self.msgs[d].processed || self.msgs[d].live >= 100 => return,
            Some(d) => d,
            None => {
                let pair = self.msgs.new_dup_pair(1);
                self.msgs[m].dup = Some(pair);
                pair
            }
        };
        let now = self.now;
        let mut copy = self.msgs[m].unowed_copy();
        copy.dup = Some(pair);
        copy.arrived_at = now;
        copy.visible_since = now;
        copy.waited = 0;
        copy.measured = self.measuring();
        let c = self.msgs.alloc(copy);
        self.msgs[pair].live += 1;
        let node = self.queues[q].node;
        self.trace_duplicate(
            m,
            c,
            node,
            "the visibility timeout passed while it was in service: received again",
        );
        self.tally_now(node, Tally::Retried);
        self.arrive_at_queue(q, c);
        self.pump_queue(q);
    }

    /// The standard queue whose consumer is processing message `m`, if it is in service.
    fn queue_of_in_service(&self, m: MsgId) -> Option<QueueId> {
        self.consumers.iter().find_map(|c| match c.source {
            super::consumer::Source::Queue(q) if c.slots.iter().any(|s| s.msgs.contains(&m)) => {
                Some(q)
            }
            _ => None,
        })
    }

    /// Moves every visible message of queue `from` to queue `to` (a DLQ redrive). A message
    /// that was dead-lettered owes a delivery again; one that was already owed (redriving a
    /// queue that is not a DLQ) is moved, not counted twice.
    /// Moves at most `limit` of them, oldest first; returns how many moved.
    pub(crate) fn redrive(&mut self, from: QueueId, to: QueueId, limit: u64) -> u64 {
        let mut moved = Vec::new();
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let fq = &mut self.queues[from];
        if fq.fifo {
            for g in &mut fq.groups {
                let n = g.waiting.len().min(limit - moved.len());
                moved.extend(g.waiting.drain(..n));
                if g.waiting.is_empty() {
                    g.queued_ready = false;
                }
                if moved.len() >= limit {
                    break;
                }
            }
            let groups = &fq.groups;
            fq.ready.retain(|g| groups[*g as usize].queued_ready);
            for g in 0..fq.groups.len() as u32 {
                fq.forget_if_idle(g);
            }
        } else {
            let n = fq.waiting.len().min(limit);
            moved.extend(fq.waiting.drain(..n));
        }
        let count = moved.len() as u64;
        for &m in &moved {
            self.queues[from].visible -= 1;
            self.leave_queue(from, m);
        }
        self.queue_levels(from);
        for m in moved {
            if !self.msgs[m].owed() {
                self.cons.deliveries += 1;
                self.msgs.set_owed(m, true);
            }
            self.msgs[m].target = None;
            if self.tracer.is_some() {
                self.trace_end(m, "redriven", || None);
                let node = self.queues[to].node;
                self.trace_msg_open(m, node, None);
            }
            self.moving = true;
            self.enqueue(to, m);
        }
        count
    }

    /// A poller-ramp tick: while messages wait, Lambda adds concurrent batches (up to 300 a
    /// minute, here 5 a second) up to the mapping's cap; with none waiting it scales back
    /// toward five at the same pace.
    pub(crate) fn poller_ramp(&mut self, c: ConsumerId) {
        let super::consumer::Source::Queue(q) = self.consumers[c].source else {
            return;
        };
        let waiting = self.queues[q].visible > 0;
        let cn = self.consumers[c].node;
        let Some(r) = self.consumers[c].ramp.as_mut() else {
            return;
        };
        let step = crate::model::defaults::SQS_POLLERS_PER_MINUTE / 60;
        let start = crate::model::defaults::SQS_POLLERS_START.min(r.cap);
        let busy = self.consumers[c].busy_slots();
        let Some(r) = self.consumers[c].ramp.as_mut() else {
            return;
        };
        if waiting {
            r.limit = (r.limit + step).min(r.cap);
        } else {
            // AWS scales back to five batches "when traffic is low" and documents no pace:
            // eventflow steps down at the ramp's own slope, never below the batches in use.
            r.limit = r.limit.saturating_sub(step).max(start).max(busy);
        }
        let limit = u64::from(r.limit);
        // Keep ticking while there is anything to ramp up or back down.
        let again = waiting || r.limit > crate::model::defaults::SQS_POLLERS_START.min(r.cap);
        r.armed = again;
        if self.measuring() {
            let st = &mut self.stats[cn];
            st.pollers_max = st.pollers_max.max(limit);
        }
        if again {
            self.events
                .schedule(self.now + RAMP_TICK, Ev::PollerRamp(c));
        }
        self.pump_queue(q);
    }

    /// The queue with this id, for timeline actions.
    pub(crate) fn queue_by_id(&self, id: &str) -> Option<QueueId> {
        self.queues.position(|q| self.stats[q.node].id == id)
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::ids::Id;
    use crate::sim::{RunOptions, Simulation};

    /// A FIFO queue grouped by a key that never repeats (an order id) holds only the groups
    /// that have messages: idle groups are forgotten and their slots reused, so the run's
    /// memory follows the backlog, not the number of keys ever seen.
    #[test]
    fn idle_fifo_groups_are_forgotten_and_their_slots_reused() {
        let text = r#"{ "format": "eventflow/2", "name": "groups", "seed": 1, "duration": "200s",
            "producers": [ { "id": "p", "to": "q", "rate": 50,
                             "event": { "detail": { "order": { "$seq": "o-" } } } } ],
            "queues": [ { "id": "q", "type": "fifo", "group_by": "detail.order" } ],
            "consumers": [ { "id": "c", "from": "q", "concurrency": 4,
                             "service_time": { "exponential": { "mean": "20ms" } } } ] }"#;
        let s =
            crate::scenario::parse(text, "t.json").map_or_else(|e| panic!("{e}"), |l| l.scenario);
        let mut sim = Simulation::new(&s, &RunOptions::default()).unwrap();
        sim.run_to_end();
        let r = sim.results();
        let produced = r.conservation.produced;
        assert!(produced > 9_000, "{produced}");
        let q = &sim.engine.queues[super::QueueId::from_index(0)];
        // ρ = 50 × 0.02 / 4 = 0.25: a handful of groups at a time, never thousands.
        assert!(
            q.groups.len() < 100,
            "{} groups for {produced} keys",
            q.groups.len()
        );
        let live = q.groups.iter().filter(|g| !g.idle()).count();
        assert_eq!(q.group_index.len(), live);
        assert_eq!(q.groups.len(), live + q.free_groups.len());
        assert_eq!(
            r.conservation.completed + r.conservation.in_flight,
            produced
        );
    }

    #[test]
    fn pick_below_is_the_remainder() {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..10_000 {
            x = crate::sim::rng::mix64(x);
            for w in 1..=9 {
                assert_eq!(super::pick_below(x, w), (x % w as u64) as usize);
            }
        }
    }
}
