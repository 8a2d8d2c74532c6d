//! `EventBridge` Pipes at run time: source → filter → enrichment → target.
//!
//! A pipe reads its source through the event source mapping machinery of `consumer.rs`,
//! `queue.rs` and `stream.rs`: it is compiled into a [`ConsumerRt`](super::consumer::ConsumerRt)
//! (appended after the scenario's consumers, counted on the pipe's node) whose batch size,
//! window, concurrency, filter and failure settings are the pipe's ([`mapping_of`]). So a queue
//! source's visibility timeout, receive count and redrive policy, and a stream source's ordered
//! lanes, retries, `bisect_on_error`, `max_record_age` and on-failure destination apply to a
//! pipe exactly as they do to a mapping, and events its filter rejects are deleted unprocessed
//! (completed, counted `filtered`).
//!
//! What this file adds is the pipe's own work on a batch, between the mapping's start of the
//! batch and its end ([`Engine::done`] asks [`Engine::pipe_advance`] first): the enrichment
//! call, then the target. The enrichment (a function or service) is called synchronously with
//! the whole batch as one invocation — one of its slots, its service time (plus `per_message`
//! for each event) and its failures; a call finding no free slot is throttled. A synchronous
//! target (a function invoked `sync`, or a service) is called the same way. Each call's events
//! are unowed messages marked with the pipe's slot ([`Caller::Pipe`]); when the last of them
//! ends, the batch goes on. A failed call fails the whole batch, which the source then retries
//! by its own rules (AWS: partial batch failure is not supported for enrichments). Any other
//! target — a bus, queue, stream, topic, a function invoked `async`, a state machine (a
//! standard one is started fire-and-forget) — receives each event of the batch as a new owed
//! delivery, and the pipe's batch completes at once.
//!
//! AWS pages: batching, and one invocation per batch for Lambda and Step Functions
//! (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html>);
//! enrichment is invoked synchronously
//! (<https://docs.aws.amazon.com/eventbridge/latest/userguide/pipes-enrichment.html>); customer
//! errors are retried up to the queue's maximum receive count, or a stream pipe's retry policy
//! and maximum record age, and a standard workflow target is invoked asynchronously
//! (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-error-troubleshooting.html>).

use std::sync::Arc;

use super::engine::{Dest, Engine};
use super::envelope::fill_envelope;
use super::ids::{ConsumerId, Id, SlotId};
use super::message::Caller;
use super::stats::Tally;
use crate::model::defaults::SourceKind;
use crate::model::{Consumer, ConsumerKind, Distribution, Duration, Pipe};

/// Where a pipe's batch goes after its enrichment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PipeTarget {
    /// Each event becomes a new delivery to this destination (fire-and-forget).
    Forward(Dest),
    /// A function invoked synchronously, or a service: the batch waits for the call.
    Call(ConsumerId),
}

/// Where a batch of the pipe is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Just received from the source.
    Start,
    /// Waiting for the enrichment's answer.
    Enriching,
    /// Enriched (or not enriched): the target is next.
    Delivering,
    /// Waiting for a synchronous target's answer.
    Targeting,
    /// Its outcome is known: the mapping settles it.
    Decided,
}

/// One slot's batch as it goes through the pipe.
#[derive(Clone, Copy, Debug)]
struct PipeSlot {
    stage: Stage,
    /// Calls of the current stage not yet answered.
    pending: u32,
    /// Why the batch fails, once a stage has failed.
    failure: Option<&'static str>,
}

/// A pipe's enrichment, target and figures (the source side is its mapping's).
pub(crate) struct PipeRt {
    enrichment: Option<ConsumerId>,
    target: PipeTarget,
    /// A bus target: the `source` and `detail-type` of the events put on it, each event's
    /// record becoming their `detail`.
    bus_envelope: Option<(String, String)>,
    slots: Vec<PipeSlot>,
    /// Enrichment invocations (one per batch) and those that failed or were throttled.
    pub(crate) enrich_calls: u64,
    pub(crate) enrich_failures: u64,
    /// Synchronous target invocations (one per batch) and those that failed.
    pub(crate) target_calls: u64,
    pub(crate) target_failures: u64,
    /// Events handed to the target successfully.
    pub(crate) delivered: u64,
}

impl PipeRt {
    /// A pipe whose mapping has `slots` concurrent batches.
    pub(crate) fn new(
        enrichment: Option<ConsumerId>,
        target: PipeTarget,
        bus_envelope: Option<(String, String)>,
        slots: u32,
    ) -> Self {
        PipeRt {
            enrichment,
            target,
            bus_envelope,
            slots: vec![
                PipeSlot {
                    stage: Stage::Start,
                    pending: 0,
                    failure: None,
                };
                slots as usize
            ],
            enrich_calls: 0,
            enrich_failures: 0,
            target_calls: 0,
            target_failures: 0,
            delivered: 0,
        }
    }

    /// Does the pipe hand its events on as new deliveries (so its completions do not end a
    /// chain)?
    pub(crate) fn forwards(&self) -> bool {
        matches!(self.target, PipeTarget::Forward(_))
    }
}

/// The event source mapping that reads a pipe's source: the pipe's batch, window, filter,
/// concurrency and stream failure settings, doing no work of its own (a zero service time, no
/// timeout, no failures: those are its enrichment's and target's). `lanes` is the default
/// concurrency for a stream source: one batch per shard (times its parallelization factor) at
/// once, as a mapping reads a Kinesis or `DynamoDB` stream; a queue source's default is
/// [`crate::model::defaults::PIPE_QUEUE_CONCURRENCY`].
pub(crate) fn mapping_of(p: &Pipe, source: SourceKind, lanes: u32) -> Consumer {
    let mut c = Consumer::new(
        &p.id,
        Some(p.source.clone()),
        Distribution::Constant(Duration::ZERO),
    );
    // A service: no Lambda timeout, no SQS poller ramp (a pipe's poller is not a function's).
    c.kind = Some(ConsumerKind::Service);
    c.concurrency = p.concurrency_in_force(source, lanes);
    c.batch_size = p.batch_size;
    c.batch_window = p.batch_window;
    c.filter = (!p.filter.is_empty()).then(|| p.filter.clone());
    c.bisect_on_error = p.bisect_on_error;
    c.max_retry_attempts = p.max_retry_attempts;
    c.max_record_age = p.max_record_age;
    c.parallelization_factor = p.parallelization_factor;
    c
}

impl Engine {
    /// Moves the batch in slot `slot` of pipe `c` through its stages as far as it can go now;
    /// true when its outcome is decided (then the slot's `forced` failure says how it ended,
    /// and [`Engine::done`] settles it by the source's rules).
    pub(crate) fn pipe_advance(&mut self, c: ConsumerId, slot: SlotId) -> bool {
        let measuring = self.measuring();
        let si = slot.index();
        loop {
            let Some(p) = self.consumers[c].pipe.as_deref() else {
                return true;
            };
            let (enrichment, target) = (p.enrichment, p.target);
            let ps = p.slots[si];
            let (stage, failure) = match ps.stage {
                Stage::Start => match enrichment {
                    None => (Stage::Delivering, None),
                    Some(e) => match self.pipe_stage_call(c, slot, e, Stage::Enriching) {
                        Some(decided) => decided,
                        None => return false,
                    },
                },
                Stage::Enriching if ps.failure.is_some() => {
                    self.pipe_count(c, measuring, |p| p.enrich_failures += 1);
                    (Stage::Decided, ps.failure)
                }
                Stage::Enriching => (Stage::Delivering, None),
                Stage::Delivering => match target {
                    PipeTarget::Forward(dest) => {
                        let n = self.pipe_forward(c, slot, dest);
                        self.pipe_count(c, measuring, |p| p.delivered += n);
                        (Stage::Decided, None)
                    }
                    PipeTarget::Call(t) => match self.pipe_stage_call(c, slot, t, Stage::Targeting)
                    {
                        Some(decided) => decided,
                        None => return false,
                    },
                },
                Stage::Targeting => {
                    let n = self.consumers[c].slots[si].msgs.len() as u64;
                    let failed = ps.failure.is_some();
                    self.pipe_count(c, measuring, |p| {
                        if failed {
                            p.target_failures += 1;
                        } else {
                            p.delivered += n;
                        }
                    });
                    (Stage::Decided, ps.failure)
                }
                Stage::Decided => {
                    self.pipe_set(c, si, Stage::Start, 0, None);
                    self.consumers[c].slots[si].forced = ps.failure;
                    return true;
                }
            };
            self.pipe_set(c, si, stage, 0, failure);
        }
    }

    /// Starts the call of stage `waiting` (the enrichment's or the target's): `None` while it
    /// is answered, or the batch's outcome when no call could start (refused, throttled).
    fn pipe_stage_call(
        &mut self,
        c: ConsumerId,
        slot: SlotId,
        callee: ConsumerId,
        waiting: Stage,
    ) -> Option<(Stage, Option<&'static str>)> {
        let measuring = self.measuring();
        let enriching = waiting == Stage::Enriching;
        self.pipe_count(c, measuring, |p| {
            if enriching {
                p.enrich_calls += 1;
            } else {
                p.target_calls += 1;
            }
        });
        match self.pipe_call(c, slot, callee) {
            Ok(n) => {
                self.pipe_set(c, slot.index(), waiting, n, None);
                None
            }
            Err(why) => {
                self.pipe_count(c, measuring, |p| {
                    if enriching {
                        p.enrich_failures += 1;
                    } else {
                        p.target_failures += 1;
                    }
                });
                Some((Stage::Decided, Some(why)))
            }
        }
    }

    fn pipe_set(
        &mut self,
        c: ConsumerId,
        si: usize,
        stage: Stage,
        pending: u32,
        failure: Option<&'static str>,
    ) {
        if let Some(p) = self.consumers[c].pipe.as_deref_mut() {
            p.slots[si] = PipeSlot {
                stage,
                pending,
                failure,
            };
        }
    }

    fn pipe_count(&mut self, c: ConsumerId, measuring: bool, f: impl FnOnce(&mut PipeRt)) {
        if measuring && let Some(p) = self.consumers[c].pipe.as_deref_mut() {
            f(p);
        }
    }

    /// Calls consumer `callee` synchronously with the batch in slot `slot` of pipe `c`, as one
    /// invocation; returns the calls made, or why none could be (a refusal, a throttle).
    fn pipe_call(
        &mut self,
        c: ConsumerId,
        slot: SlotId,
        callee: ConsumerId,
    ) -> Result<u32, &'static str> {
        let measuring = self.measuring();
        let cn = self.consumers[callee].node;
        let si = slot.index();
        let n = self.consumers[c].slots[si].msgs.len();
        for i in 0..n {
            let m = self.consumers[c].slots[si].msgs[i];
            if self.consumers[callee].refuses(&self.msgs[m].payload) {
                self.tally(cn, Tally::Failed, measuring);
                return Err("the call was refused (reject_when: a 4xx)");
            }
        }
        if !self.can_start(callee) {
            self.tally(cn, Tally::Throttled, measuring);
            return Err("the call was throttled (no free slot)");
        }
        let mut buf = std::mem::take(&mut self.batch_buf);
        buf.clear();
        for i in 0..n {
            let m = self.consumers[c].slots[si].msgs[i];
            let payload = Arc::clone(&self.msgs[m].payload);
            let call = self.call_msg(callee, payload, m, Caller::Pipe { pipe: c, slot });
            buf.push(call);
        }
        self.start_batch(callee, &buf, u32::MAX);
        buf.clear();
        self.batch_buf = buf;
        Ok(n as u32)
    }

    /// One event of a call made by pipe `pipe` for its batch in `slot` ended (from the
    /// callee's [`Engine::done`]); the last one lets the batch go on.
    pub(crate) fn pipe_call_done(
        &mut self,
        pipe: ConsumerId,
        slot: SlotId,
        failure: Option<&'static str>,
    ) {
        let Some(p) = self.consumers[pipe].pipe.as_deref_mut() else {
            return;
        };
        let ps = &mut p.slots[slot.index()];
        ps.pending = ps.pending.saturating_sub(1);
        if failure.is_some() && ps.failure.is_none() {
            ps.failure = Some(if ps.stage == Stage::Enriching {
                "the enrichment failed"
            } else {
                "the target failed"
            });
        }
        if ps.pending == 0 {
            self.done(pipe, slot);
        }
    }

    /// Hands each event of the batch in `slot` of pipe `c` to `dest` as a new delivery;
    /// returns how many were handed on. A bus receives each record as the `detail` of an
    /// event of the pipe's `source` and `detail-type` (the one allocation per event here, as
    /// an `emits` event's).
    fn pipe_forward(&mut self, c: ConsumerId, slot: SlotId, dest: Dest) -> u64 {
        let si = slot.index();
        let n = self.consumers[c].slots[si].msgs.len();
        let mut sent = 0;
        for i in 0..n {
            let m = self.consumers[c].slots[si].msgs[i];
            let (mut payload, event_no, origin_at) = {
                let msg = &self.msgs[m];
                (Arc::clone(&msg.payload), msg.event_no, msg.origin_at)
            };
            if let Some((source, detail_type)) = self.consumers[c]
                .pipe
                .as_deref()
                .and_then(|p| p.bus_envelope.as_ref())
            {
                let mut v = serde_json::json!({
                    "source": source,
                    "detail-type": detail_type,
                    "detail": payload.as_ref(),
                });
                fill_envelope(&mut v, self.seed, event_no, self.now, &mut self.times, None);
                payload = Arc::new(v);
            }
            self.cause = self.msg_cause(m);
            self.send(dest, payload, event_no, origin_at, None);
            sent += 1;
            if self.check_loop_guard() {
                break;
            }
        }
        sent
    }
}
