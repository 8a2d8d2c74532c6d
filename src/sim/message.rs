//! Message copies: the slab they live in, and what each one knows about itself.
//!
//! A message is a slot in a slab with a free list, so the steady state of a run allocates
//! nothing per message. The slab also keeps its own count of the *owed* copies alive (see
//! [`super::ledger`]): that count is the conservation balance's `in_flight`, measured rather
//! than derived from the other counters.

use std::ops::{Index, IndexMut};
use std::sync::Arc;

use serde_json::Value;

use super::clock::Nanos;
use super::ids::{ConsumerId, DupId, Id, MsgId, ProducerId, SlotId, TargetId};
use super::journey::Cause;

/// One message copy in the system.
#[derive(Clone, Debug)]
pub(crate) struct Msg {
    pub(crate) payload: Arc<Value>,
    /// Production order of the event (unique per produced event; copies share it).
    pub(crate) event_no: u64,
    /// When the root event of this chain was produced (end-to-end latency).
    pub(crate) origin_at: Nanos,
    /// Arrival at the current node (queue, stream lane or direct consumer).
    pub(crate) arrived_at: Nanos,
    /// First delivery attempt through a rule target (for `max_age`).
    pub(crate) first_attempt_at: Nanos,
    /// The rule target delivering it, while it is on its way from a bus.
    pub(crate) target: Option<TargetId>,
    /// Target delivery attempts so far.
    pub(crate) attempts: u32,
    /// SQS receives so far at the current queue.
    pub(crate) receives: u32,
    /// FIFO group or stream partition lane.
    pub(crate) lane: u32,
    /// Its duplicate pair, if SQS made more than one copy of it.
    pub(crate) dup: Option<DupId>,
    /// Is this an owed delivery (enters the conservation balance)? Change it only through
    /// [`Messages::set_owed`], which keeps the slab's count.
    owed: bool,
    /// Arrived at the current node after the warm-up (statistics count it).
    pub(crate) measured: bool,
    /// Since when it has been waiting in line (visible, or blocked behind a stream retry).
    pub(crate) visible_since: Nanos,
    /// Time spent waiting in line at the current node so far (the wait, `W_q`).
    pub(crate) waited: Nanos,
    /// The producer blocked until this message finds space (`when_full: block`).
    pub(crate) blocked_producer: Option<ProducerId>,
    /// Hash of the order key its next consumer checks ordering on, taken when it arrived where
    /// that consumer reads it (so the payload itself need not wait in line with it).
    pub(crate) order_hash: Option<u64>,
    /// The root event of its journey (the production number of the event that started it).
    pub(crate) root: u64,
    /// Its current hop in a traced journey, or `journey::NO_HOP`.
    pub(crate) hop: u32,
    /// A synchronous call made by a state machine Task or a pipe: its end reports back to the
    /// caller instead of settling (such a call is never an owed delivery).
    pub(crate) call_of: Option<Caller>,
}

/// Who waits for a synchronous call's end (see [`Msg::call_of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A state machine Task: its thread and the thread's token when it called.
    Task { thread: u32, token: u32 },
    /// A pipe's enrichment or target call for the batch in `slot` of the pipe's mapping.
    Pipe { pipe: ConsumerId, slot: SlotId },
}

impl Msg {
    /// A new owed copy arriving now.
    pub(crate) fn new(
        payload: Arc<Value>,
        event_no: u64,
        origin_at: Nanos,
        now: Nanos,
        measured: bool,
        cause: Cause,
    ) -> Self {
        Msg {
            payload,
            event_no,
            origin_at,
            arrived_at: now,
            first_attempt_at: now,
            target: None,
            attempts: 0,
            receives: 0,
            lane: u32::MAX,
            dup: None,
            owed: true,
            measured,
            visible_since: now,
            waited: 0,
            blocked_producer: None,
            order_hash: None,
            root: cause.root,
            hop: cause.hop,
            call_of: None,
        }
    }

    /// Is this an owed delivery?
    #[inline]
    pub(crate) fn owed(&self) -> bool {
        self.owed
    }

    /// A copy that owes nothing (an SQS duplicate or re-receive of this message).
    pub(crate) fn unowed_copy(&self) -> Msg {
        let mut copy = self.clone();
        copy.owed = false;
        copy.blocked_producer = None;
        copy
    }
}

/// Two or more copies of one SQS message: has one been processed, how many are alive.
pub(crate) struct DupPair {
    pub(crate) processed: bool,
    pub(crate) live: u8,
}

/// Copies per chunk of the slab: 4,096 × 128 bytes, half a megabyte.
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// The slab of message copies, in fixed-size chunks. A backlog of millions grows the slab one
/// chunk at a time: a single `Vec` would double and copy itself, and during that copy the old
/// and the new buffer are both resident, so the peak memory of a backlog would be up to twice
/// what its messages need (issue 16 measured 260 bytes per 128-byte message).
pub(crate) struct Messages {
    slab: Chunks,
    free: Vec<MsgId>,
    pub(crate) dups: Vec<DupPair>,
    free_dups: Vec<DupId>,
    /// Owed copies alive in the slab.
    owed_live: u64,
}

impl Messages {
    pub(crate) fn new() -> Self {
        Messages {
            slab: Chunks::default(),
            free: Vec::new(),
            dups: Vec::new(),
            free_dups: Vec::new(),
            owed_live: 0,
        }
    }

    /// Stores a copy and returns its id.
    pub(crate) fn alloc(&mut self, msg: Msg) -> MsgId {
        self.owed_live += u64::from(msg.owed);
        if let Some(i) = self.free.pop() {
            self.slab[i.index()] = msg;
            i
        } else {
            self.slab.push(msg);
            MsgId::from_index(self.slab.len() - 1)
        }
    }

    /// Releases a copy (its payload reference is dropped when the slot is reused: bounded by
    /// the slab's size).
    pub(crate) fn free(&mut self, m: MsgId) {
        let msg = &mut self.slab[m.index()];
        if let Some(dup) = msg.dup {
            let d = &mut self.dups[dup.index()];
            d.live -= 1;
            if d.live == 0 {
                self.free_dups.push(dup);
            }
        }
        if msg.owed {
            msg.owed = false;
            self.owed_live -= 1;
        }
        self.free.push(m);
    }

    /// Makes a copy owed (a redriven message) or not (a dead-lettered one).
    pub(crate) fn set_owed(&mut self, m: MsgId, owed: bool) {
        let msg = &mut self.slab[m.index()];
        if msg.owed != owed {
            msg.owed = owed;
            if owed {
                self.owed_live += 1;
            } else {
                self.owed_live -= 1;
            }
        }
    }

    /// Copies alive (owed or not).
    #[inline]
    pub(crate) fn live(&self) -> u64 {
        (self.slab.len() - self.free.len()) as u64
    }

    /// Owed copies alive.
    pub(crate) fn owed_live(&self) -> u64 {
        self.owed_live
    }

    /// Owed copies alive, counted one by one (a check of [`Messages::owed_live`]).
    pub(crate) fn count_owed(&self) -> u64 {
        let mut freed = vec![false; self.slab.len()];
        for m in &self.free {
            freed[m.index()] = true;
        }
        self.slab
            .0
            .iter()
            .flatten()
            .zip(&freed)
            .filter(|(m, f)| m.owed && !**f)
            .count() as u64
    }

    /// A new duplicate pair with `live` copies.
    pub(crate) fn new_dup_pair(&mut self, live: u8) -> DupId {
        let pair = DupPair {
            processed: false,
            live,
        };
        if let Some(i) = self.free_dups.pop() {
            self.dups[i.index()] = pair;
            i
        } else {
            self.dups.push(pair);
            DupId::from_index(self.dups.len() - 1)
        }
    }

    /// Has some copy of this message already been processed?
    #[inline]
    pub(crate) fn twin_processed(&self, m: MsgId) -> bool {
        self.slab[m.index()]
            .dup
            .is_some_and(|d| self.dups[d.index()].processed)
    }
}

/// Chunks of [`CHUNK`] copies each; every chunk but the last is full, and no chunk ever grows
/// past its first allocation.
#[derive(Default)]
struct Chunks(Vec<Vec<Msg>>);

impl Chunks {
    #[inline]
    fn len(&self) -> usize {
        match self.0.last() {
            Some(last) => (self.0.len() - 1) * CHUNK + last.len(),
            None => 0,
        }
    }

    fn push(&mut self, msg: Msg) {
        match self.0.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(msg),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(msg);
                self.0.push(chunk);
            }
        }
    }
}

impl Index<usize> for Chunks {
    type Output = Msg;
    #[inline]
    fn index(&self, i: usize) -> &Msg {
        &self.0[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl IndexMut<usize> for Chunks {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Msg {
        &mut self.0[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl Index<MsgId> for Messages {
    type Output = Msg;
    #[inline]
    fn index(&self, m: MsgId) -> &Msg {
        &self.slab[m.index()]
    }
}

impl IndexMut<MsgId> for Messages {
    #[inline]
    fn index_mut(&mut self, m: MsgId) -> &mut Msg {
        &mut self.slab[m.index()]
    }
}

impl Index<DupId> for Messages {
    type Output = DupPair;
    #[inline]
    fn index(&self, d: DupId) -> &DupPair {
        &self.dups[d.index()]
    }
}

impl IndexMut<DupId> for Messages {
    #[inline]
    fn index_mut(&mut self, d: DupId) -> &mut DupPair {
        &mut self.dups[d.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(event_no: u64) -> Msg {
        Msg::new(Arc::new(Value::Null), event_no, 0, 0, true, Cause::NONE)
    }

    #[test]
    fn ids_stay_put_across_chunks_and_free_slots_are_reused() {
        let mut msgs = Messages::new();
        let n = 3 * CHUNK + 7;
        let ids: Vec<MsgId> = (0..n as u64).map(|i| msgs.alloc(msg(i))).collect();
        assert_eq!(msgs.live(), n as u64);
        assert_eq!(msgs.owed_live(), n as u64);
        for (i, &m) in ids.iter().enumerate() {
            assert_eq!(msgs[m].event_no, i as u64);
        }
        // Whole chunks never grow past their first allocation, so no copy ever doubles memory.
        assert!(msgs.slab.0.iter().all(|c| c.capacity() == CHUNK));
        msgs.free(ids[CHUNK]);
        msgs.free(ids[5]);
        assert_eq!(msgs.live(), n as u64 - 2);
        assert_eq!(msgs.count_owed(), msgs.owed_live());
        let again = msgs.alloc(msg(99));
        assert_eq!(again, ids[5]);
        assert_eq!(msgs[again].event_no, 99);
        assert_eq!(msgs[ids[CHUNK + 1]].event_no, CHUNK as u64 + 1);
    }
}
