//! Streams (Kinesis/Kafka): records partitioned by key (or round robin), one owed record per
//! consumer group, partitions read in order by the group's instances (instance *i* reads
//! partitions *p* with *p* mod instances = *i*), a failed batch blocking its partition until its
//! retry, and retention of records no group reads.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;

use super::clock::Nanos;
use super::dist::Bucket;
use super::engine::Engine;
use super::envelope::{hash_value, path_of};
use super::ids::{ConsumerId, Id, MsgId, NodeId, StreamId};
use super::ledger::Outcome;
use super::message::Msg;
use super::stats::{Reason, Tally};
use super::template::lookup;
use crate::metrics::Level;
use crate::model::Stream;

/// One partition as one consumer group sees it.
pub(crate) struct Lane {
    pub(crate) waiting: VecDeque<MsgId>,
    pub(crate) busy: bool,
    /// Retries of the failed batch at the head so far, and how many records it holds.
    pub(crate) retries: u32,
    pub(crate) failed_len: u32,
    /// The largest batch read next (smaller after `bisect_on_error` splits one).
    pub(crate) limit: u32,
}

/// A stream at run time.
pub(crate) struct StreamRt {
    pub(crate) node: NodeId,
    pub(crate) partitions: u32,
    pub(crate) key_path: Option<Vec<String>>,
    retention: Nanos,
    /// Per consumer group: the consumer and its lanes, one per partition.
    pub(crate) groups: Vec<(ConsumerId, Vec<Lane>)>,
    round_robin: u32,
    pub(crate) outage: u32,
    records: u64,
    /// Arrival times of records no consumer group reads (kept until retention passes).
    pub(crate) orphans: VecDeque<Nanos>,
    /// Per partition: the write limit's token bucket (`write_limit`).
    write_buckets: Vec<Bucket>,
    /// When retention is next checked.
    next_trim: Nanos,
}

impl StreamRt {
    /// Compiles a stream (its consumer groups are added by [`StreamRt::add_group`]).
    pub(crate) fn compile(s: &Stream, node: NodeId) -> Self {
        let partitions = s.partitions.max(1);
        StreamRt {
            next_trim: 0,
            write_buckets: s
                .write_limit
                .map(|rate| {
                    (0..partitions)
                        .map(|_| Bucket::new(&crate::model::Throttle { rate, burst: None }))
                        .collect()
                })
                .unwrap_or_default(),
            node,
            partitions: s.partitions.max(1),
            key_path: s.key.as_deref().map(path_of),
            retention: s.retention_in_force().as_nanos(),
            groups: Vec::new(),
            round_robin: 0,
            outage: 0,
            records: 0,
            orphans: VecDeque::new(),
        }
    }

    /// A consumer group reading every partition (in `factor` lanes each: the
    /// parallelization factor, keeping order per key); returns its position.
    pub(crate) fn add_group(&mut self, c: ConsumerId, factor: u32, batch: u32) -> u32 {
        let lanes = (0..self.partitions * factor.max(1))
            .map(|_| Lane {
                waiting: VecDeque::new(),
                busy: false,
                retries: 0,
                failed_len: 0,
                limit: batch.max(1),
            })
            .collect();
        self.groups.push((c, lanes));
        self.groups.len() as u32 - 1
    }

    /// Records the groups have not finished, and the oldest one's arrival.
    pub(crate) fn behind(&self, msgs: &super::message::Messages) -> (u64, Option<Nanos>) {
        let lanes = || self.groups.iter().flat_map(|(_, l)| l.iter());
        let behind = lanes().map(|l| l.waiting.len() as u64).sum();
        let oldest = lanes()
            .filter_map(|l| l.waiting.front())
            .map(|m| msgs[*m].arrived_at)
            .min();
        (behind, oldest)
    }

    fn next_round_robin(&mut self) -> u32 {
        let p = self.round_robin % self.partitions;
        self.round_robin = self.round_robin.wrapping_add(1);
        p
    }
}

impl Engine {
    /// `PutRecord`: a record is appended to its partition, one owed copy per consumer group.
    pub(crate) fn append(
        &mut self,
        s: StreamId,
        payload: Arc<Value>,
        event_no: u64,
        origin_at: Nanos,
    ) {
        let now = self.now;
        let node = self.streams[s].node;
        let measuring = self.measuring();
        let cause = self.cause;
        if self.streams[s].outage > 0 {
            self.cons.deliveries += 1;
            self.cons.rejected += 1;
            if measuring {
                self.stats[node].rejected += 1;
            }
            let hop = self.trace_open(cause, node, None);
            self.trace_end_hop(
                super::journey::Cause { hop, ..cause },
                "rejected",
                Some("outage".to_owned()),
            );
            return;
        }
        let st = &mut self.streams[s];
        let partition = match st.key_path.as_ref().and_then(|path| lookup(&payload, path)) {
            Some(v) => (hash_value(v) % u64::from(st.partitions)) as u32,
            None => st.next_round_robin(),
        };
        if let Some(bucket) = st.write_buckets.get_mut(partition as usize)
            && !bucket.take(now)
        {
            // Over the partition's write limit: the write is refused
            // (ProvisionedThroughputExceeded), counted throttled and rejected at the stream.
            self.cons.deliveries += 1;
            self.cons.rejected += 1;
            self.tally(node, Tally::Throttled, measuring);
            if measuring {
                self.stats[node].rejected += 1;
            }
            return;
        }
        let st = &mut self.streams[s];
        st.records += 1;
        self.tally(node, Tally::Arrived, measuring);
        let groups = self.streams[s].groups.len();
        if groups == 0 {
            // Nobody reads it: the record is retained until its retention passes; it counts as
            // in flight (owed to a consumer group that may never come).
            self.cons.deliveries += 1;
            // Records older than the retention period are deleted from the stream.
            let st = &mut self.streams[s];
            let retention = st.retention;
            while st
                .orphans
                .front()
                .is_some_and(|t| now.saturating_sub(*t) >= retention)
            {
                st.orphans.pop_front();
                self.cons.expired += 1;
                if measuring {
                    self.stats[node].expired += 1;
                }
            }
            st.orphans.push_back(now);
            let hop = self.trace_open(cause, node, None);
            if let Some(h) = self
                .tracer
                .as_deref_mut()
                .and_then(|t| t.hop(cause.root, hop))
            {
                h.reason = Some("retained: no consumer group reads the stream".to_owned());
            }
            return;
        }
        for g in 0..groups {
            self.cons.deliveries += 1;
            let c = self.streams[s].groups[g].0;
            let cr = &self.consumers[c];
            let order_hash = cr
                .order_key
                .as_ref()
                .and_then(|path| lookup(&payload, path))
                .map(hash_value);
            // A record waits in its lane as its fixed fields unless its consumer reads it.
            let kept = if cr.reads_payload {
                &payload
            } else {
                &self.released
            };
            // With a parallelization factor F each partition is F lanes; a key always maps to
            // the same lane, so order per key is kept.
            let factor = cr.parallelization;
            let sub = match self.streams[s]
                .key_path
                .as_ref()
                .and_then(|p| lookup(&payload, p))
            {
                Some(v) => {
                    ((hash_value(v) / u64::from(self.streams[s].partitions)) % u64::from(factor))
                        as u32
                }
                None => (event_no % u64::from(factor)) as u32,
            };
            let lane = partition * factor + sub;
            let mut msg = Msg::new(Arc::clone(kept), event_no, origin_at, now, measuring, cause);
            msg.lane = lane;
            msg.order_hash = order_hash;
            let m = self.msgs.alloc(msg);
            self.trace_msg_open(m, node, None);
            let cn = self.consumers[c].node;
            self.tally(cn, Tally::Arrived, measuring);
            // The mapping's (or pipe's) filter: a record matching none of its patterns is
            // read and deleted unprocessed, as a queue's is at its receive.
            if self.consumers[c]
                .filter
                .as_ref()
                .is_some_and(|f| !f.iter().any(|p| p.matches(&payload)))
            {
                if measuring {
                    self.stats[cn].filtered += 1;
                }
                self.trace_end(m, "filtered", || {
                    Some("matches none of the mapping's filter".to_owned())
                });
                self.settle(m, Outcome::Completed);
                self.msgs.free(m);
                continue;
            }
            self.streams[s].groups[g].1[lane as usize]
                .waiting
                .push_back(m);
            self.consumer_held(c, 1);
            self.pump_stream(s, g as u32);
        }
        self.stream_levels(s);
    }

    /// Updates the stream's level statistics (records behind, over all groups).
    fn stream_levels(&mut self, s: StreamId) {
        let now = self.now;
        let st = &self.streams[s];
        let behind: u64 = st
            .groups
            .iter()
            .flat_map(|(_, l)| l.iter())
            .map(|l| l.waiting.len() as u64)
            .sum();
        let node = st.node;
        self.stats[node].in_system.set(now, behind);
        self.stats[node].waiting.set(now, behind);
        self.series.level(node.index(), Level::Lag, now, behind);
    }

    /// Lets idle instances of a consumer group pick up the next records of their partitions.
    pub(crate) fn pump_stream(&mut self, s: StreamId, g: u32) {
        let gi = g as usize;
        let c = self.streams[s].groups[gi].0;
        // Retention is checked at most once a simulated second (records are trimmed in bulk).
        if self.now >= self.streams[s].next_trim {
            self.streams[s].next_trim = self.now + 1_000_000_000;
            for group in 0..self.streams[s].groups.len() as u32 {
                self.trim_group(s, group);
            }
        }
        let partitions = self.streams[s].groups[gi].1.len() as u32;
        let instances = self.consumers[c].concurrency;
        let batch = self.consumers[c].batch;
        let window = self.consumers[c].batch_window;
        let mut wake: Option<Nanos> = None;
        // Instance i reads partitions p with p % instances == i; instances beyond the
        // partition count own none and sit idle, as in Kafka and Kinesis.
        for inst in 0..instances.min(partitions) {
            if !self.consumers[c].slot_free(inst) || !self.can_start(c) {
                continue;
            }
            let owned = partitions.div_ceil(instances).max(1);
            let start = self.consumers[c].instance_cursor[inst as usize];
            let mut chosen = None;
            for k in 0..owned {
                let idx = (start + k) % owned;
                let p = inst + idx * instances;
                if p >= partitions {
                    continue;
                }
                let lane = &self.streams[s].groups[gi].1[p as usize];
                if !lane.busy && !lane.waiting.is_empty() {
                    // The batching window: wait for a full batch until the oldest record has
                    // waited the window.
                    let want = batch.min(lane.limit as usize);
                    if window > 0 && lane.waiting.len() < want {
                        let oldest = lane
                            .waiting
                            .front()
                            .map_or(0, |m| self.msgs[*m].visible_since);
                        let due = oldest + window;
                        if self.now < due {
                            wake = Some(wake.map_or(due, |w: Nanos| w.min(due)));
                            continue;
                        }
                    }
                    chosen = Some((p, idx));
                    break;
                }
            }
            let Some((p, idx)) = chosen else { continue };
            self.consumers[c].instance_cursor[inst as usize] = (idx + 1) % owned;
            let mut buf = std::mem::take(&mut self.batch_buf);
            buf.clear();
            {
                let lane = &mut self.streams[s].groups[gi].1[p as usize];
                lane.busy = true;
                let batch = batch.min(lane.limit as usize);
                while buf.len() < batch {
                    match lane.waiting.pop_front() {
                        Some(m) => buf.push(m),
                        None => break,
                    }
                }
            }
            let by = self.consumers[c].node;
            for &m in &buf {
                self.msgs[m].receives += 1;
                let receive = self.msgs[m].receives;
                self.trace_start(m, Some(receive), Some(by));
            }
            // Take exactly this instance's slot.
            self.consumers[c].reserve_slot(inst);
            self.start_batch(c, &buf, p);
            self.batch_buf = buf;
        }
        if let Some(due) = wake
            && !self.consumers[c].window_armed
        {
            self.consumers[c].window_armed = true;
            self.events.schedule(due, super::clock::Ev::BatchWindow(c));
        }
        self.stream_levels(s);
    }

    /// Deletes records past the stream's retention from the front of a group's lanes (each
    /// lane is in arrival order): unprocessed, each is counted expired.
    fn trim_group(&mut self, s: StreamId, g: u32) {
        let now = self.now;
        let retention = self.streams[s].retention;
        let (node, gi) = (self.streams[s].node, g as usize);
        let c = self.streams[s].groups[gi].0;
        let lanes = self.streams[s].groups[gi].1.len();
        for l in 0..lanes {
            loop {
                let lane = &self.streams[s].groups[gi].1[l];
                let Some(&m) = lane.waiting.front() else {
                    break;
                };
                if lane.busy || now.saturating_sub(self.msgs[m].arrived_at) < retention {
                    break;
                }
                self.streams[s].groups[gi].1[l].waiting.pop_front();
                self.stream_record_leaves(c, m);
                self.trace_end(m, "expired", || {
                    Some("trimmed: older than the stream's retention".to_owned())
                });
                self.expire(node, m);
            }
        }
    }

    /// A record leaves its consumer group's system unprocessed.
    fn stream_record_leaves(&mut self, c: ConsumerId, m: MsgId) {
        let cn = self.consumers[c].node;
        let msg = &self.msgs[m];
        if msg.measured {
            self.stats[cn].depart_waited(self.now - msg.arrived_at, msg.waited);
        }
        self.consumer_held(c, -1);
    }

    /// A failed batch's retry is due: unless it has used up `max_retry_attempts` or holds a
    /// record older than `max_record_age` (then it is discarded: one record to `on_failure`,
    /// or dropped), its first record goes back at the head of its lane, which is served again.
    pub(crate) fn lane_retry(&mut self, m: MsgId, s: StreamId, group: u32) {
        let (gi, lane) = (group as usize, self.msgs[m].lane as usize);
        let c = self.streams[s].groups[gi].0;
        let node = self.consumers[c].node;
        let now = self.now;
        let (retries, failed_len) = {
            let l = &self.streams[s].groups[gi].1[lane];
            (l.retries, l.failed_len.max(1))
        };
        let cr = &self.consumers[c];
        let too_many = cr.stream_max_retries.is_some_and(|max| retries > max);
        let too_old = cr
            .max_record_age
            .is_some_and(|age| now.saturating_sub(self.msgs[m].arrived_at) > age);
        let expired = now.saturating_sub(self.msgs[m].arrived_at) >= self.streams[s].retention;
        if too_many || too_old || expired {
            self.discard_batch(c, s, group, lane, m, failed_len, too_many, expired);
        } else {
            self.streams[s].groups[gi].1[lane].waiting.push_front(m);
            self.tally_now(node, Tally::Retried);
        }
        self.streams[s].groups[gi].1[lane].busy = false;
        self.pump_stream(s, group);
    }

    /// Discards a failed stream batch (`first` and the `len - 1` records behind it): expired
    /// records are counted expired; otherwise one record describing the batch goes to the
    /// mapping's `on_failure`, or the batch is dropped.
    #[allow(clippy::too_many_arguments)] // the lane's coordinates and why, all needed here
    fn discard_batch(
        &mut self,
        c: ConsumerId,
        s: StreamId,
        group: u32,
        lane: usize,
        first: MsgId,
        len: u32,
        too_many: bool,
        expired: bool,
    ) {
        let gi = group as usize;
        let cn = self.consumers[c].node;
        let snode = self.streams[s].node;
        let dest = self.consumers[c].stream_on_failure;
        let measuring = self.measuring();
        let reason = if too_many {
            Reason::RetriesExhausted
        } else {
            Reason::MaxAge
        };
        let retries = self.streams[s].groups[gi].1[lane].retries;
        let start = self.msgs[first].event_no;
        let cause = self.msg_cause(first);
        let mut batch = Vec::with_capacity(len as usize);
        batch.push(first);
        for _ in 1..len {
            match self.streams[s].groups[gi].1[lane].waiting.pop_front() {
                Some(m) => batch.push(m),
                None => break,
            }
        }
        let l = &mut self.streams[s].groups[gi].1[lane];
        l.retries = 0;
        l.failed_len = 0;
        let n = batch.len();
        for m in batch {
            self.stream_record_leaves(c, m);
            if expired {
                self.trace_end(m, "expired", || {
                    Some("trimmed while its batch was retried".to_owned())
                });
                self.expire(snode, m);
                continue;
            }
            if measuring {
                self.stats[cn].count_reason(reason);
            }
            if dest.is_some() {
                if measuring {
                    self.stats[cn].dead_lettered += 1;
                }
                self.trace_end(m, "dead_lettered", || {
                    Some(format!("{}: its batch went to on_failure", reason.as_str()))
                });
                self.settle(m, Outcome::DeadLettered);
            } else {
                self.trace_end(m, "dropped", || {
                    Some(format!("{} (no on_failure)", reason.as_str()))
                });
                self.settle(m, Outcome::Dropped);
            }
            self.msgs.free(m);
        }
        if let Some(d) = dest.filter(|_| !expired) {
            if measuring {
                self.stats[cn].to_on_failure += 1;
            }
            let id = self.stats[snode].id.clone();
            let v = serde_json::json!({
                "source": "lambda",
                "detail-type": "Stream Batch Discarded",
                "detail": {
                    "requestContext": {
                        "condition": if too_many { "RetryAttemptsExhausted" } else { "RecordAgeExceeded" },
                        "approximateInvokeCount": retries + 1,
                    },
                    "streamBatchInfo": {
                        "stream": id,
                        "lane": lane,
                        "batchSize": n,
                        "startSequenceNumber": start.to_string(),
                    }
                }
            });
            self.cause = cause;
            self.send_record(v, d, self.now);
        }
    }
}
