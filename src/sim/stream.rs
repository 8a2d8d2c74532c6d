//! Streams (Kinesis/Kafka): records partitioned by key (or round robin), one owed record per
//! consumer group, partitions read in order by the group's instances (instance *i* reads
//! partitions *p* with *p* mod instances = *i*), a failed batch blocking its partition until its
//! retry, and retention of records no group reads.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::Value;

use super::clock::Nanos;
use super::engine::Engine;
use super::envelope::{hash_value, path_of};
use super::ids::{ConsumerId, Id, MsgId, NodeId, StreamId};
use super::message::Msg;
use super::stats::Tally;
use super::template::lookup;
use crate::metrics::Level;
use crate::model::Stream;

/// One partition as one consumer group sees it.
pub(crate) struct Lane {
    pub(crate) waiting: VecDeque<MsgId>,
    pub(crate) busy: bool,
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
}

impl StreamRt {
    /// Compiles a stream (its consumer groups are added by [`StreamRt::add_group`]).
    pub(crate) fn compile(s: &Stream, node: NodeId) -> Self {
        StreamRt {
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

    /// A consumer group reading every partition; returns its position.
    pub(crate) fn add_group(&mut self, c: ConsumerId) -> u32 {
        let lanes = (0..self.partitions)
            .map(|_| Lane {
                waiting: VecDeque::new(),
                busy: false,
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
            let mut msg = Msg::new(Arc::clone(kept), event_no, origin_at, now, measuring, cause);
            msg.lane = partition;
            msg.order_hash = order_hash;
            let m = self.msgs.alloc(msg);
            self.trace_msg_open(m, node, None);
            let cn = self.consumers[c].node;
            self.tally(cn, Tally::Arrived, measuring);
            self.streams[s].groups[g].1[partition as usize]
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
        let partitions = self.streams[s].partitions;
        let instances = self.consumers[c].concurrency;
        let batch = self.consumers[c].batch;
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
        self.stream_levels(s);
    }

    /// A failed record's retry is due: it goes back at the head of its lane, which is served
    /// again.
    pub(crate) fn lane_retry(&mut self, m: MsgId, s: StreamId, group: u32) {
        let (gi, lane) = (group as usize, self.msgs[m].lane as usize);
        let st = &mut self.streams[s];
        st.groups[gi].1[lane].waiting.push_front(m);
        st.groups[gi].1[lane].busy = false;
        let c = st.groups[gi].0;
        let node = self.consumers[c].node;
        self.tally_now(node, Tally::Retried);
        self.pump_stream(s, group);
    }
}
