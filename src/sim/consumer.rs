//! Consumers: slots that serve batches (from a queue, a stream partition, or invoked directly
//! by a rule target), service times, failures (`failure_rate`, `fail_when`, timeouts, injected
//! errors), what happens to a failed message at each kind of source, idempotent handling of
//! duplicates, ordering checks, circuit breakers and `emits`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::clock::{Ev, Nanos, round_nanos};
use super::dist::Dist;
use super::engine::{Dest, Engine, STREAM_RETRY_DELAY};
use super::envelope::{Stamp, fill_envelope, hash_value, path_of};
use super::faults::FaultState;
use super::ids::{ConsumerId, Id, MsgId, NodeId, QueueId, SlotId, StreamId, Table};
use super::ledger::Outcome;
use super::message::{Caller, Msg};
use super::queue::QueueRt;
use super::rng::Stream;
use super::stats::{Reason, Tally};
use super::template::{Template, lookup};
use crate::metrics::{Level, Sampled};
use crate::model::defaults::{self, SourceKind};
use crate::model::{Consumer, ConsumerKind, Duration, EmitOn, Scaling};
use crate::pattern::Pattern;

/// Where a consumer's messages come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Invoked by rule targets.
    Direct,
    /// Receives from a queue.
    Queue(QueueId),
    /// Reads a stream as consumer group `group`.
    Stream { stream: StreamId, group: u32 },
}

/// Circuit-breaker state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Breaker {
    Closed,
    Open,
    HalfOpen,
}

impl Breaker {
    /// Name used in results.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Breaker::Closed => "closed",
            Breaker::Open => "open",
            Breaker::HalfOpen => "half_open",
        }
    }
}

/// An `emits` entry at run time.
pub(crate) struct EmitRt {
    on: EmitOn,
    dest: Dest,
    pub(crate) template: Template,
    probability: f64,
    seq: u64,
}

impl EmitRt {
    /// Compiles an emit of consumer `consumer` that sends to `dest`.
    pub(crate) fn compile(
        e: &crate::model::Emit,
        consumer: &str,
        dest: Dest,
    ) -> Result<Self, String> {
        Ok(EmitRt {
            on: e.on,
            dest,
            template: Template::compile(&e.event, true)
                .map_err(|_| format!("consumer {consumer}: invalid emits template"))?,
            probability: e.probability.unwrap_or(1.0),
            seq: 0,
        })
    }
}

/// One concurrent batch.
pub(crate) struct Slot {
    pub(crate) msgs: Vec<MsgId>,
    /// Why every message of the batch fails regardless of its own draw: it timed out, or (a
    /// pipe) its enrichment or target call failed.
    pub(crate) forced: Option<&'static str>,
    /// Stream partition being served, or `u32::MAX`.
    lane: u32,
    /// Serving a batch (a concurrency change must not free it).
    busy: bool,
}

impl Slot {
    fn new(batch: usize) -> Slot {
        Slot {
            msgs: Vec::with_capacity(batch.min(64)),
            forced: None,
            lane: u32::MAX,
            busy: false,
        }
    }
}

/// A function's asynchronous invocation queue (Lambda's own queue in front of the function).
pub(crate) struct AsyncRt {
    /// Accepted invocations waiting for a concurrency slot, in order.
    pub(crate) waiting: VecDeque<MsgId>,
    /// Retries after a function error.
    retries: u32,
    /// Invocations older than this are not run.
    max_age: Nanos,
    pub(crate) on_failure: Option<Dest>,
    pub(crate) on_success: Option<Dest>,
}

/// A service's limits as a synchronous rule target.
pub(crate) struct ServiceRt {
    /// Events refused without retry (HTTP 4xx other than 429).
    reject_when: Option<Pattern>,
    /// Nanoseconds between calls at the rate limit, and when the next call may start.
    rate_interval: Option<Nanos>,
    rate_next: Nanos,
}

/// SQS poller scaling (`scaling: aws`).
pub(crate) struct Ramp {
    /// Concurrent batches allowed now.
    pub(crate) limit: u32,
    /// The most it may reach (the function's concurrency, `max_concurrency`, 1,000).
    pub(crate) cap: u32,
    /// The cap without the function's concurrency (`max_concurrency`, 1,000), for a
    /// concurrency change mid-run.
    ceiling: u32,
    /// A ramp tick is scheduled.
    pub(crate) armed: bool,
}

/// A consumer at run time.
pub(crate) struct ConsumerRt {
    pub(crate) node: NodeId,
    pub(crate) source: Source,
    /// Invoked asynchronously (a function named as a target or an `emits` destination).
    pub(crate) asynchronous: Option<Box<AsyncRt>>,
    /// Called synchronously (a service named as a target).
    pub(crate) service_rt: Option<Box<ServiceRt>>,
    /// SQS poller scaling, when it ramps.
    pub(crate) ramp: Option<Ramp>,
    /// Only failed messages of a batch return to their queue.
    pub(crate) report_item_failures: bool,
    /// Added to the service time per message of a batch.
    per_message: Nanos,
    /// Event source mapping filter: messages matching none are deleted unprocessed.
    pub(crate) filter: Option<Vec<Pattern>>,
    /// Stream mapping error handling: retries of a failed batch (`None`: until the records
    /// expire), the oldest record a retry may hold, splitting failing batches, where discarded
    /// batches go, batches per partition at once.
    pub(crate) stream_max_retries: Option<u32>,
    pub(crate) max_record_age: Option<Nanos>,
    pub(crate) bisect: bool,
    pub(crate) stream_on_failure: Option<Dest>,
    pub(crate) parallelization: u32,
    /// How long the mapping waits to fill a batch (0: it takes what is there), and whether a
    /// wake-up is scheduled for the window's end.
    pub(crate) batch_window: Nanos,
    pub(crate) window_armed: bool,
    pub(crate) concurrency: u32,
    pub(crate) batch: usize,
    service: Dist,
    failure_rate: f64,
    fail_when: Option<Pattern>,
    timeout: Option<Nanos>,
    idempotent: bool,
    breaker_cfg: Option<(u32, Nanos)>,
    pub(crate) breaker: Breaker,
    consecutive_failures: u32,
    pub(crate) emits: Vec<EmitRt>,
    handles_failures: bool,
    /// Its completions are not the end of a chain (it emits on success, or it is a pipe that
    /// forwards): end-to-end latency is recorded further on.
    pub(crate) emits_on_success: bool,
    /// A pipe: this mapping reads the pipe's source; the rest of the pipe is here.
    pub(crate) pipe: Option<Box<super::pipe::PipeRt>>,
    /// The key ordering is checked on (its own `order_key`, or its source's key).
    pub(crate) order_key: Option<Vec<String>>,
    /// Checks ordering on the payload itself, not the hash taken on arrival (a queue whose
    /// consumers check different keys).
    pub(crate) order_from_payload: bool,
    /// Reads a message's payload when serving it (`fail_when`, `reject_when`, `filter`, `$from`
    /// in an emit).
    pub(crate) reads_payload: bool,
    last_order: HashMap<u64, u64>,
    rng_service: Stream,
    rng_fail: Stream,
    rng_emit: Stream,
    pub(crate) slots: Vec<Slot>,
    free_slots: Vec<SlotId>,
    busy: u32,
    /// Messages in the busy slots.
    in_service: u64,
    /// Faults in force.
    pub(crate) faults: FaultState,
    /// Instances of a stream consumer group: round-robin position per instance.
    pub(crate) instance_cursor: Vec<u32>,
    /// A plain reader (see [`ConsumerRt::plain_for`]): its queue hands it messages straight
    /// and a batch that ends with messages visible starts the next in the same slot.
    pub(crate) plain: bool,
}

impl ConsumerRt {
    /// Compiles a consumer reading `source`; `order_key` defaults to the source's key (the FIFO
    /// group or the stream key, as the contract says), resolved by the caller.
    pub(crate) fn compile(
        c: &Consumer,
        kind: SourceKind,
        node: NodeId,
        source: Source,
        emits: Vec<EmitRt>,
        source_key: Option<Vec<String>>,
        seed: u64,
    ) -> Result<Self, String> {
        let concurrency = c.concurrency.max(1);
        let batch = c.batch_size_in_force(kind).max(1) as usize;
        let is_function = c.kind_in_force() == ConsumerKind::Function;
        let parse_all = |ps: &[serde_json::Value], what: &str| {
            ps.iter()
                .map(|p| {
                    Pattern::parse(p).map_err(|_| format!("consumer {}: invalid {what}", c.id))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let filter = c
            .filter
            .as_deref()
            .map(|f| parse_all(f, "filter"))
            .transpose()?;
        let ramp = match kind {
            SourceKind::Queue { fifo: false }
                if is_function && c.scaling_in_force() == Scaling::Aws =>
            {
                let ceiling = c
                    .max_concurrency
                    .unwrap_or(u32::MAX)
                    .min(defaults::SQS_POLLERS_MAX);
                let cap = concurrency.min(ceiling);
                Some(Ramp {
                    limit: defaults::SQS_POLLERS_START.min(cap),
                    cap,
                    ceiling,
                    armed: false,
                })
            }
            _ => None,
        };
        let slots = (0..concurrency).map(|_| Slot::new(batch)).collect();
        Ok(ConsumerRt {
            node,
            source,
            asynchronous: None,
            service_rt: (source == Source::Direct && !is_function)
                .then(|| -> Result<Box<ServiceRt>, String> {
                    Ok(Box::new(ServiceRt {
                        reject_when: c
                            .reject_when
                            .as_ref()
                            .map(|p| parse_all(std::slice::from_ref(p), "reject_when"))
                            .transpose()?
                            .and_then(|mut v| v.pop()),
                        rate_interval: c
                            .rate_limit
                            .filter(|r| *r > 0.0)
                            .map(|r| (1e9 / r).round().max(1.0) as Nanos),
                        rate_next: 0,
                    }))
                })
                .transpose()?,
            ramp,
            report_item_failures: c.report_batch_item_failures,
            stream_max_retries: c.max_retry_attempts.and_then(|n| u32::try_from(n).ok()),
            max_record_age: c.max_record_age.map(Duration::as_nanos),
            bisect: c.bisect_on_error,
            stream_on_failure: None,
            parallelization: c.parallelization_factor.unwrap_or(1).max(1),
            batch_window: c.batch_window_in_force(kind).as_nanos(),
            window_armed: false,
            per_message: c.per_message.map_or(0, Duration::as_nanos),
            filter,
            concurrency,
            batch,
            service: Dist::new(&c.service_time),
            failure_rate: c.failure_rate,
            fail_when: c
                .fail_when
                .as_ref()
                .map(|p| {
                    Pattern::parse(p).map_err(|_| format!("consumer {}: invalid fail_when", c.id))
                })
                .transpose()?,
            timeout: c.timeout_in_force().map(Duration::as_nanos),
            idempotent: c.idempotent,
            breaker_cfg: c
                .circuit_breaker
                .as_ref()
                .map(|b| (b.failures.max(1), b.cooldown.0)),
            breaker: Breaker::Closed,
            consecutive_failures: 0,
            reads_payload: c.fail_when.is_some()
                || c.reject_when.is_some()
                || c.filter.is_some()
                || emits.iter().any(|e| e.template.reads_trigger()),
            order_from_payload: false,
            handles_failures: emits.iter().any(|e| e.on == EmitOn::Failure),
            emits_on_success: emits.iter().any(|e| e.on == EmitOn::Success),
            pipe: None,
            emits,
            order_key: c.order_key.as_deref().map(path_of).or(source_key),
            last_order: HashMap::new(),
            rng_service: Stream::new(seed, &c.id, "service"),
            rng_fail: Stream::new(seed, &c.id, "failures"),
            rng_emit: Stream::new(seed, &c.id, "emits"),
            // Free slots are taken from the end: reversed so slot 0 is used first.
            free_slots: (0..concurrency as usize)
                .rev()
                .map(SlotId::from_index)
                .collect(),
            slots,
            busy: 0,
            in_service: 0,
            faults: FaultState::NONE,
            instance_cursor: vec![0; concurrency as usize],
            plain: false,
        })
    }

    /// Is consumer `me` a *plain* reader of its queue: the sole reader of a standard queue,
    /// one message a batch, with none of the features that change what a batch does (failure
    /// rates, `fail_when`, emits, filters, pipes, asynchronous or synchronous invocation,
    /// batching windows, poller ramps, circuit breakers, ordering checks)? Decided once the
    /// scenario is compiled; what may change during a run (faults, a timed-out batch, SQS
    /// duplicates, a lowered concurrency, tracing) is checked where it matters, and falls back
    /// to the general path. The plain path does what the general one does for such a reader,
    /// step for step (the same draws, counts and events in the same order), with less asked.
    pub(crate) fn plain_for(&self, me: ConsumerId, queues: &Table<QueueId, QueueRt>) -> bool {
        let Source::Queue(q) = self.source else {
            return false;
        };
        let qr = &queues[q];
        !qr.fifo
            && qr.sole_consumer() == Some(me)
            && self.batch == 1
            && self.asynchronous.is_none()
            && self.service_rt.is_none()
            && self.ramp.is_none()
            && self.filter.is_none()
            && self.pipe.is_none()
            && self.batch_window == 0
            && self.failure_rate <= 0.0
            && self.fail_when.is_none()
            && self.breaker_cfg.is_none()
            && self.emits.is_empty()
            && self.order_key.is_none()
    }

    /// Batches in service now.
    pub(crate) fn busy_slots(&self) -> u32 {
        self.busy
    }

    /// Has it a circuit breaker?
    pub(crate) fn has_breaker(&self) -> bool {
        self.breaker_cfg.is_some()
    }

    /// Is stream instance (slot) `inst` idle?
    pub(crate) fn slot_free(&self, inst: u32) -> bool {
        self.free_slots.contains(&SlotId::from_index(inst as usize))
    }

    /// Gives a function invoked by targets or `emits` its asynchronous queue.
    pub(crate) fn make_async(
        &mut self,
        c: &Consumer,
        on_failure: Option<Dest>,
        on_success: Option<Dest>,
    ) {
        let a = c.async_in_force();
        self.asynchronous = Some(Box::new(AsyncRt {
            waiting: VecDeque::new(),
            retries: a.retries,
            max_age: a.max_age.as_nanos(),
            on_failure,
            on_success,
        }));
    }

    /// Does this service refuse the call (its `reject_when` matches: a 4xx)?
    pub(crate) fn refuses(&self, payload: &serde_json::Value) -> bool {
        self.service_rt
            .as_deref()
            .and_then(|s| s.reject_when.as_ref())
            .is_some_and(|p| p.matches(payload))
    }

    /// Takes the free slot [`Engine::start_batch`] would take (the last).
    #[inline]
    pub(crate) fn take_free_slot(&mut self) -> Option<SlotId> {
        self.free_slots.pop()
    }

    /// Makes slot `inst` the next one [`Engine::start_batch`] takes.
    pub(crate) fn reserve_slot(&mut self, inst: u32) {
        let slot = SlotId::from_index(inst as usize);
        if let Some(pos) = self.free_slots.iter().position(|x| *x == slot) {
            self.free_slots.swap_remove(pos);
            self.free_slots.push(slot);
        }
    }
}

impl Engine {
    /// Can consumer `c` start a batch now?
    pub(crate) fn can_start(&self, c: ConsumerId) -> bool {
        let cr = &self.consumers[c];
        !cr.free_slots.is_empty()
            && cr.ramp.as_ref().is_none_or(|r| cr.busy < r.limit)
            && cr.faults.outage == 0
            && cr.breaker != Breaker::Open
            && !(cr.breaker == Breaker::HalfOpen && cr.busy > 0)
    }

    /// Invocation by a rule target or an `emits`: a function's asynchronous queue accepts it
    /// at once; a service is called synchronously.
    pub(crate) fn invoke(&mut self, c: ConsumerId, m: MsgId) {
        if self.consumers[c].asynchronous.is_some() {
            self.invoke_async(c, m);
        } else {
            self.call_service(c, m, false);
        }
    }

    /// Lambda's asynchronous invocation: the event joins the function's own queue and the
    /// caller sees a success (its retry policy and DLQ are done with it). A throttled event
    /// waits there (Lambda retries throttles itself) until a slot is free.
    fn invoke_async(&mut self, c: ConsumerId, m: MsgId) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let measuring = self.measuring();
        self.trace_msg_open(m, cn, None);
        self.arrive_at_consumer(c, m, measuring);
        let msg = &mut self.msgs[m];
        msg.target = None;
        // Accepted at: the event's age for `async.max_age` counts from here.
        msg.first_attempt_at = now;
        msg.receives = 0;
        self.tally(cn, Tally::Arrived, measuring);
        if !self.can_start(c) {
            // Lambda answers 429 to itself and retries from its queue: a throttle, not a failure.
            self.tally(cn, Tally::Throttled, measuring);
        }
        self.consumer_held(c, 1);
        if let Some(a) = self.consumers[c].asynchronous.as_deref_mut() {
            a.waiting.push_back(m);
            let depth = a.waiting.len() as u64;
            let st = &mut self.stats[cn];
            st.async_depth_max = st.async_depth_max.max(depth);
        }
        self.pump_async(c);
    }

    /// Runs queued asynchronous invocations while slots are free; events past `max_age` go
    /// to `on_failure` unrun.
    pub(crate) fn pump_async(&mut self, c: ConsumerId) {
        let now = self.now;
        let cn = self.consumers[c].node;
        while self.can_start(c) {
            let Some(m) = self.consumers[c]
                .asynchronous
                .as_deref_mut()
                .and_then(|a| a.waiting.pop_front())
            else {
                break;
            };
            let max_age = self.consumers[c]
                .asynchronous
                .as_deref()
                .map_or(Nanos::MAX, |a| a.max_age);
            let age = now.saturating_sub(self.msgs[m].first_attempt_at);
            if age >= max_age {
                self.trace_start(m, None, None);
                self.async_gave_up(c, m, Reason::MaxAge, "the event passed async.max_age");
                continue;
            }
            let st = &mut self.stats[cn];
            st.async_age_max = st.async_age_max.max(age);
            self.series
                .observe_max(cn.index(), Sampled::LagS, now, age as f64 / 1e9);
            if self.measuring() {
                self.stats[cn].attempts += 1;
                self.stats[cn].first_attempts += u64::from(self.msgs[m].receives == 0);
            }
            self.msgs[m].receives += 1;
            let attempt = self.msgs[m].receives;
            self.trace_start(m, Some(attempt), None);
            let mut buf = std::mem::take(&mut self.batch_buf);
            buf.clear();
            buf.push(m);
            self.start_batch(c, &buf, u32::MAX);
            self.batch_buf = buf;
        }
    }

    /// A failed asynchronous retry is due: the event goes back to the function's queue.
    pub(crate) fn async_retry(&mut self, c: ConsumerId, m: MsgId) {
        let cn = self.consumers[c].node;
        self.tally_now(cn, Tally::Retried);
        self.msgs[m].visible_since = self.now;
        if let Some(a) = self.consumers[c].asynchronous.as_deref_mut() {
            a.waiting.push_back(m);
        }
        self.pump_async(c);
    }

    /// An asynchronous invocation failed for good (retries used up, or too old): it leaves the
    /// function for `async.on_failure` as an invocation record, or is dropped.
    fn async_gave_up(&mut self, c: ConsumerId, m: MsgId, reason: Reason, why: &str) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let msg = &self.msgs[m];
        if msg.measured {
            self.stats[cn].depart_waited(now - msg.arrived_at, msg.waited);
        }
        self.consumer_held(c, -1);
        let dest = self.consumers[c]
            .asynchronous
            .as_deref()
            .and_then(|a| a.on_failure);
        let measuring = self.measuring();
        if measuring {
            self.stats[cn].count_reason(reason);
        }
        if let Some(d) = dest {
            {
                if measuring {
                    self.stats[cn].dead_lettered += 1;
                    self.stats[cn].to_on_failure += 1;
                }
                self.series
                    .count(cn.index(), crate::metrics::Counter::DeadLettered, now, 1);
                self.trace_end(m, "dead_lettered", || {
                    Some(format!("{why}: sent to async.on_failure"))
                });
                self.trace_note(m, super::journey::Condition::DeadLettered);
                let condition = match reason {
                    Reason::MaxAge => "EventAgeExceeded",
                    _ => "RetriesExhausted",
                };
                self.send_invocation_record(c, m, d, false, condition);
                self.settle(m, Outcome::DeadLettered);
            }
        } else {
            self.series
                .count(cn.index(), crate::metrics::Counter::Expired, now, 1);
            self.trace_end(m, "dropped", || {
                Some(format!("{why} (no async.on_failure)"))
            });
            self.settle(m, Outcome::Dropped);
        }
        self.msgs.free(m);
    }

    /// Sends Lambda's invocation record for message `m` to a destination: an `EventBridge`
    /// event whose `detail` is the record (`requestContext`, `requestPayload`), as Lambda
    /// sends to an event bus.
    fn send_invocation_record(
        &mut self,
        c: ConsumerId,
        m: MsgId,
        dest: Dest,
        success: bool,
        condition: &str,
    ) {
        let cn = self.consumers[c].node;
        let id = &self.stats[cn].id;
        let v = serde_json::json!({
            "source": "lambda",
            "detail-type": if success {
                "Lambda Function Invocation Result - Success"
            } else {
                "Lambda Function Invocation Result - Failure"
            },
            "detail": {
                "version": "1.0",
                "requestContext": {
                    "functionArn": format!(
                        "arn:aws:lambda:{}:{}:function:{id}",
                        defaults::ENVELOPE_REGION,
                        defaults::ENVELOPE_ACCOUNT
                    ),
                    "condition": condition,
                    "approximateInvokeCount": self.msgs[m].receives,
                },
                "requestPayload": self.msgs[m].payload.as_ref(),
            }
        });
        let origin_at = self.msgs[m].origin_at;
        self.cause = self.msg_cause(m);
        self.send_record(v, dest, origin_at);
    }

    /// Sends a Lambda record (a destination's invocation record, a discarded stream batch) as
    /// a new event: numbered, its envelope filled, within the loop guard. `self.cause` says
    /// what caused it.
    pub(crate) fn send_record(&mut self, mut v: serde_json::Value, dest: Dest, origin_at: Nanos) {
        let event_no = self.next_event_no();
        fill_envelope(&mut v, self.seed, event_no, self.now, &mut self.times, None);
        self.send(dest, Arc::new(v), event_no, origin_at, None);
        self.check_loop_guard();
    }

    /// A message arrives at consumer `c` now: its wait starts, and the order key this
    /// consumer checks is hashed from its payload.
    fn arrive_at_consumer(&mut self, c: ConsumerId, m: MsgId, measuring: bool) {
        let now = self.now;
        let msg = &mut self.msgs[m];
        msg.arrived_at = now;
        msg.measured = measuring;
        msg.visible_since = now;
        msg.waited = 0;
        if let Some(path) = &self.consumers[c].order_key {
            msg.order_hash = lookup(&msg.payload, path).map(hash_value);
        }
    }

    /// A synchronous call of a service by a rule target (`paced`: its rate limit was already
    /// waited out). Busy: throttled (HTTP 429), the target's retry policy applies; an event
    /// its `reject_when` matches is refused (4xx) and goes straight to the target's DLQ.
    pub(crate) fn call_service(&mut self, c: ConsumerId, m: MsgId, paced: bool) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let measuring = self.measuring();
        if !paced
            && let Some(interval) = self.consumers[c]
                .service_rt
                .as_deref()
                .and_then(|s| s.rate_interval)
        {
            // Over the rate limit: held back and delivered at that rate, not failed.
            let svc = self.consumers[c]
                .service_rt
                .as_deref_mut()
                .expect("checked above");
            let at = svc.rate_next.max(now);
            svc.rate_next = at + interval;
            if at > now {
                self.events.schedule(
                    at,
                    Ev::Paced {
                        consumer: c,
                        msg: m,
                    },
                );
                return;
            }
        }
        if measuring {
            self.stats[cn].attempts += 1;
            self.stats[cn].first_attempts += u64::from(self.msgs[m].attempts <= 1);
        }
        self.trace_msg_open(m, cn, None);
        let refused = self.consumers[c]
            .service_rt
            .as_deref()
            .and_then(|s| s.reject_when.as_ref())
            .is_some_and(|p| p.matches(&self.msgs[m].payload));
        if refused {
            self.tally(cn, Tally::Failed, measuring);
            self.trace_end(m, "failed", || {
                Some("reject_when matched: a 4xx, not retried".to_owned())
            });
            if let Some(t) = self.msgs[m].target {
                let (dlq, bus) = (self.targets[t].dlq, self.targets[t].bus);
                let bus_node = self.buses[bus].node;
                self.dead_letter(m, dlq, bus_node, Reason::NonRetriable);
            } else {
                self.settle(m, Outcome::Dropped);
                self.msgs.free(m);
            }
            return;
        }
        if !self.can_start(c) {
            // All slots busy (or broken open): throttled; the target's retry policy applies.
            self.tally(cn, Tally::Throttled, measuring);
            self.trace_end(m, "throttled", || Some("no free slot".to_owned()));
            if self.msgs[m].target.is_none() {
                self.settle(m, Outcome::Dropped);
                self.msgs.free(m);
            } else {
                self.target_failed(m, Reason::Throttled);
            }
            return;
        }
        self.arrive_at_consumer(c, m, measuring);
        self.tally(cn, Tally::Arrived, measuring);
        self.trace_start(m, None, None);
        self.consumer_held(c, 1);
        let mut buf = std::mem::take(&mut self.batch_buf);
        buf.clear();
        buf.push(m);
        self.start_batch(c, &buf, u32::MAX);
        self.batch_buf = buf;
    }

    /// A synchronous call to consumer `callee` for `caller` (a state machine Task, a pipe): an
    /// unowed message carrying `payload` of the event `of`, counted as the callee's arrival and
    /// first attempt; the caller starts it ([`Engine::start_batch`]).
    pub(crate) fn call_msg(
        &mut self,
        callee: ConsumerId,
        payload: Arc<serde_json::Value>,
        of: MsgId,
        caller: Caller,
    ) -> MsgId {
        let measuring = self.measuring();
        let cn = self.consumers[callee].node;
        let cause = self.msg_cause(of);
        let (event_no, origin_at) = (self.msgs[of].event_no, self.msgs[of].origin_at);
        let mut msg = Msg::new(payload, event_no, origin_at, self.now, measuring, cause);
        msg.call_of = Some(caller);
        let m = self.msgs.alloc(msg);
        self.msgs.set_owed(m, false);
        if measuring {
            self.stats[cn].attempts += 1;
            self.stats[cn].first_attempts += 1;
        }
        self.tally(cn, Tally::Arrived, measuring);
        self.consumer_held(callee, 1);
        m
    }

    /// A consumer's system (direct or stream): the messages it has not finished.
    pub(crate) fn consumer_held(&mut self, c: ConsumerId, delta: i64) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let st = &mut self.stats[cn];
        st.in_system.add(now, delta);
        let lvl = st.in_system.level();
        self.set_waiting(c);
        self.series.level(cn.index(), Level::Backlog, now, lvl);
    }

    /// A direct or stream consumer's waiting line after its number in service changed. (A
    /// queue's consumer shares the queue's line.)
    fn consumer_waiting(&mut self, c: ConsumerId) {
        if !matches!(self.consumers[c].source, Source::Queue(_)) {
            self.set_waiting(c);
        }
    }

    /// The consumer's waiting level: the messages it holds that no slot serves.
    fn set_waiting(&mut self, c: ConsumerId) {
        let cr = &self.consumers[c];
        let in_service = cr.in_service;
        let st = &mut self.stats[cr.node];
        let held = st.in_system.level();
        st.waiting.set(self.now, held.saturating_sub(in_service));
    }

    /// Starts a batch in a free slot (the last of `free_slots`); `lane` is the stream
    /// partition served, or `u32::MAX`.
    pub(crate) fn start_batch(&mut self, c: ConsumerId, msgs: &[MsgId], lane: u32) {
        let Some(slot) = self.consumers[c].free_slots.pop() else {
            return;
        };
        self.begin_batch(c, slot, msgs, lane, true);
    }

    /// Starts a batch in `slot`. `fresh`: the slot was idle (it becomes busy); otherwise it
    /// is a plain reader's slot going straight on from the batch it just finished, which a
    /// release and a new start would have left as busy as before, at the same instant.
    fn begin_batch(&mut self, c: ConsumerId, slot: SlotId, msgs: &[MsgId], lane: u32, fresh: bool) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let measuring = self.measuring();
        let cr = &mut self.consumers[c];
        let mut work = 0usize;
        for &m in msgs {
            let msg = &mut self.msgs[m];
            // The wait is recorded when the message leaves: with redeliveries it waits in
            // line more than once, and Lq = λ·Wq holds only for the total.
            msg.waited += now - msg.visible_since;
            if measuring && cr.source != Source::Direct {
                self.stats[cn].attempts += 1;
                self.stats[cn].first_attempts += u64::from(msg.receives <= 1);
            }
            // Ordering: a start after a later-produced event of the same key is out of order.
            let key = match &cr.order_key {
                Some(path) if cr.order_from_payload => lookup(&msg.payload, path).map(hash_value),
                Some(_) => msg.order_hash,
                None => None,
            };
            if let Some(key) = key {
                let last = cr.last_order.entry(key).or_insert(0);
                if msg.event_no < *last {
                    if measuring {
                        self.stats[cn].out_of_order += 1;
                    }
                    if let Some(super::journey::Tracer::Find(f)) = self.tracer.as_deref_mut() {
                        f.note(msg.root, super::journey::Condition::OutOfOrder);
                    }
                } else {
                    *last = msg.event_no;
                }
            }
            work += 1;
        }
        let s = &mut cr.slots[slot.index()];
        s.msgs.clear();
        if let [m] = msgs {
            // (No copy call for the common batch of one.)
            s.msgs.push(*m);
        } else {
            s.msgs.extend_from_slice(msgs);
        }
        s.lane = lane;
        s.busy = true;
        if fresh {
            cr.busy += 1;
            cr.in_service += msgs.len() as u64;
        }
        let per_message = (cr.per_message as f64) * msgs.len() as f64;
        let mut service =
            (cr.service.sample(&mut cr.rng_service) + per_message) * cr.faults.slowdown;
        if work == 0 {
            service = 0.0;
        }
        if measuring && matches!(cr.source, Source::Queue(_) | Source::Stream { .. }) {
            let st = &mut self.stats[cn];
            st.batches += 1;
            st.batch_messages += msgs.len() as u64;
        }
        let mut dt = round_nanos(service);
        cr.slots[slot.index()].forced = None;
        if let Some(limit) = cr.timeout
            && dt > limit
        {
            dt = limit;
            cr.slots[slot.index()].forced = Some("timed out");
        }
        let busy = u64::from(cr.busy);
        let source = cr.source;
        if fresh {
            self.stats[cn].busy.set(now, busy);
            self.series.level(cn.index(), Level::Busy, now, busy);
            self.consumer_waiting(c);
        } else if now == self.warmup {
            // At the window's first instant a momentary level counts toward the maximum
            // (`TimeAverage::set`): what the release and the new start would have recorded.
            let st = &mut self.stats[cn].busy;
            st.set(now, busy - 1);
            st.set(now, busy);
        }
        self.events
            .schedule(now + dt, Ev::Done { consumer: c, slot });
        // SQS: a handler slower than the visibility timeout does not keep the message hidden;
        // it becomes visible again mid-processing and another receive gets it too.
        if let Source::Queue(q) = source {
            let queue = &self.queues[q];
            if !queue.fifo && dt > queue.visibility {
                let at = now + queue.visibility;
                for &m in msgs {
                    self.events.schedule(at, Ev::VisibilityExpired(m));
                }
            }
        }
    }

    /// Can [`Engine::fails`] say anything but "no" now? When not, it would draw nothing either
    /// (a zero rate draws nothing), so callers may skip it.
    #[inline]
    fn may_fail(&self, c: ConsumerId, forced: Option<&'static str>) -> bool {
        let cr = &self.consumers[c];
        forced.is_some()
            || cr.fail_when.is_some()
            || cr.failure_rate > 0.0
            || cr.faults.error_rate > 0.0
    }

    /// Does this message fail in consumer `c` now, and why? Draws from the failure stream in
    /// the order the checks are written (timeouts and `fail_when` first, which draw nothing).
    fn fails(
        &mut self,
        c: ConsumerId,
        m: MsgId,
        forced: Option<&'static str>,
    ) -> Option<&'static str> {
        let cr = &mut self.consumers[c];
        if forced.is_some() {
            forced
        } else if cr
            .fail_when
            .as_ref()
            .is_some_and(|p| p.matches(&self.msgs[m].payload))
        {
            Some("fail_when matched (a poison message)")
        } else if cr.rng_fail.chance(cr.failure_rate) {
            Some("failure_rate")
        } else if cr.faults.error_rate > 0.0 && cr.rng_fail.chance(cr.faults.error_rate) {
            Some("injected errors")
        } else {
            None
        }
    }

    /// Would this batch's invocation fail as a whole (some message fails)? Draws each
    /// message's failure in order, as [`Engine::done`] would, and keeps the verdicts in
    /// `fail_buf` for it.
    fn batch_fails(&mut self, c: ConsumerId, msgs: &[MsgId], forced: Option<&'static str>) -> bool {
        let mut verdicts = std::mem::take(&mut self.fail_buf);
        verdicts.clear();
        for &m in msgs {
            let is_dup = self.msgs.twin_processed(m);
            let failure = if !is_dup || !self.consumers[c].idempotent {
                self.fails(c, m, forced)
            } else {
                None
            };
            verdicts.push(failure);
        }
        let any = verdicts.iter().any(Option::is_some);
        self.fail_buf = verdicts;
        any
    }

    /// A batch finishes.
    pub(crate) fn done(&mut self, c: ConsumerId, slot: SlotId) {
        if self.consumers[c].plain && self.done_plain(c, slot) {
            return;
        }
        // A pipe's batch ends only when its enrichment and target have answered.
        if self.consumers[c].pipe.is_some() && !self.pipe_advance(c, slot) {
            return;
        }
        let now = self.now;
        let cn = self.consumers[c].node;
        let measuring = self.measuring();
        let s = &mut self.consumers[c].slots[slot.index()];
        let msgs = std::mem::take(&mut s.msgs);
        let (lane, forced) = (s.lane, s.forced);
        let source = self.consumers[c].source;
        let mut any_failed = false;
        let mut any_ok = false;
        // FIFO groups and stream partitions are ordered: after a failure that will be
        // redelivered, the rest of that group's (or partition's) messages in the batch are not
        // processed but returned, in order, behind it. A FIFO batch may hold several groups
        // (AWS: "each batch may contain messages from more than one message group"); the
        // others go on.
        let fifo = matches!(source, Source::Queue(q) if self.queues[q].fifo);
        let ordered = fifo || matches!(source, Source::Stream { .. });
        let mut blocked = false;
        // Only FIFO batches hold groups, and only ordered sources return messages behind a
        // failure: other batches leave the engine's buffers where they are (and their
        // stand-ins, `Vec::new()`, allocate nothing).
        let mut blocked_groups = Vec::new();
        // The batch's groups, read now: processed messages are freed below.
        let mut batch_groups = Vec::new();
        if fifo {
            blocked_groups = std::mem::take(&mut self.blocked_groups);
            blocked_groups.clear();
            batch_groups = std::mem::take(&mut self.batch_groups);
            batch_groups.clear();
            for &m in &msgs {
                let g = self.msgs[m].lane;
                if !batch_groups.contains(&g) {
                    batch_groups.push(g);
                }
            }
        }
        let mut returned = Vec::new();
        if ordered {
            returned = std::mem::take(&mut self.returned_buf);
            returned.clear();
        }
        // SQS without ReportBatchItemFailures: one failed message fails the invocation, and
        // the whole batch returns to the queue (each message visible again after its
        // visibility timeout, its receive count grown). A handler that catches its failures
        // (emits on failure) acknowledges the batch.
        let is_stream = matches!(source, Source::Stream { .. });
        let may_fail = self.may_fail(c, forced);
        let whole_batch_failed = may_fail
            && matches!(source, Source::Queue(_) | Source::Stream { .. })
            && !self.consumers[c].report_item_failures
            && !self.consumers[c].handles_failures
            && self.batch_fails(c, &msgs, forced);
        if whole_batch_failed {
            any_failed = true;
            if measuring && msgs.len() > 1 {
                self.stats[cn].batch_failures += 1;
            }
            for (i, &m) in msgs.iter().enumerate() {
                let own = self.fail_buf[i];
                if own.is_some() {
                    self.tally(cn, Tally::Failed, measuring);
                    self.trace_note(m, super::journey::Condition::Failed);
                }
                let group = self.msgs[m].lane;
                let behind = if fifo {
                    blocked_groups.contains(&group)
                } else {
                    is_stream && i > 0
                };
                if behind {
                    // Behind the group's (or partition's) first message, which holds the group
                    // until it is visible again (retried).
                    self.msgs[m].visible_since = now;
                    returned.push(m);
                } else {
                    if fifo {
                        blocked_groups.push(group);
                    }
                    self.fail_message(c, m, source, lane, own.unwrap_or("the batch failed"));
                }
            }
            blocked = is_stream;
        }
        // Taken from the engine at the batch's first synchronous call (most batches have none).
        let mut call_results = Vec::new();
        let mut took_call_results = false;
        for &m in msgs.iter().filter(|_| !whole_batch_failed) {
            if blocked || (fifo && blocked_groups.contains(&self.msgs[m].lane)) {
                returned.push(m);
                continue;
            }
            if let Some(owner) = self.msgs[m].call_of {
                // A state machine Task's or a pipe's call: it reports to its caller, which
                // decides (Retry, Catch; the pipe's source rules); it owes no delivery of its own.
                let failure = self.fails(c, m, forced);
                if failure.is_some() {
                    any_failed = true;
                    self.tally(cn, Tally::Failed, measuring);
                } else {
                    any_ok = true;
                    self.tally(cn, Tally::Completed, measuring);
                    self.fire_emits(c, m, EmitOn::Success);
                }
                let msg = &self.msgs[m];
                if msg.measured {
                    let lat = now - msg.arrived_at;
                    let waited = msg.waited;
                    self.stats[cn].latency.record(lat);
                    self.series.latency(cn.index(), now, lat);
                    self.stats[cn].depart_waited(lat, waited);
                }
                if failure.is_some() {
                    self.trace_note(m, super::journey::Condition::Failed);
                }
                self.trace_task_end(m, failure);
                self.consumer_held(c, -1);
                self.msgs.free(m);
                if !took_call_results {
                    took_call_results = true;
                    call_results = std::mem::take(&mut self.call_results);
                    call_results.clear();
                }
                call_results.push((owner, failure));
                continue;
            }
            // Idempotent consumers skip a duplicate whose twin was already processed.
            let is_dup = self.msgs.twin_processed(m);
            let failure = if may_fail && (!is_dup || !self.consumers[c].idempotent) {
                self.fails(c, m, forced)
            } else {
                None
            };
            if let Some(why) = failure {
                any_failed = true;
                self.tally(cn, Tally::Failed, measuring);
                self.trace_note(m, super::journey::Condition::Failed);
                if self.consumers[c].handles_failures {
                    // The handler catches the failure, publishes its failure events and
                    // acknowledges the message: a handled failure ends the delivery.
                    self.trace_end(m, "failed", || {
                        Some(format!("{why}; handled: failure events emitted"))
                    });
                    self.fire_emits(c, m, EmitOn::Failure);
                    self.finish_message(c, m, source, true);
                } else if self.fail_message(c, m, source, lane, why) && ordered {
                    if fifo {
                        blocked_groups.push(self.msgs[m].lane);
                    } else {
                        blocked = true;
                    }
                }
            } else {
                any_ok = true;
                if is_dup {
                    if measuring {
                        self.stats[cn].duplicates += 1;
                    }
                    if self.consumers[c].idempotent {
                        self.trace_end(m, "skipped_duplicate", || {
                            Some("a twin was already processed (idempotent)".to_owned())
                        });
                        self.finish_message(c, m, source, false);
                        continue;
                    }
                }
                if let Some(d) = self.msgs[m].dup {
                    self.msgs[d].processed = true;
                }
                if measuring && !is_dup && self.msgs[m].owed() {
                    self.stats[cn].unique_completed += 1;
                }
                self.tally(cn, Tally::Completed, measuring);
                self.trace_end(m, "completed", || {
                    is_dup.then(|| "processed twice (not idempotent)".to_owned())
                });
                if !self.consumers[c].emits.is_empty() {
                    self.fire_emits(c, m, EmitOn::Success);
                }
                if let Some(d) = self.consumers[c]
                    .asynchronous
                    .as_deref()
                    .and_then(|a| a.on_success)
                {
                    if measuring {
                        self.stats[cn].to_on_success += 1;
                    }
                    self.send_invocation_record(c, m, d, true, "Success");
                }
                self.finish_message(c, m, source, true);
            }
        }
        if measuring && any_failed && any_ok && !matches!(source, Source::Direct) {
            self.stats[cn].partial_batch_failures += 1;
        }
        if let Source::Stream { stream, group } = source
            && lane != u32::MAX
        {
            self.stream_batch_settled(c, stream, group, lane, blocked, 1 + returned.len());
        }
        self.return_to_lane(source, lane, fifo, &returned);
        if ordered {
            self.returned_buf = returned;
        }
        // Every group of the batch that no failure holds may be received again.
        if let Source::Queue(q) = source {
            for &g in batch_groups.iter().filter(|g| !blocked_groups.contains(g)) {
                self.queues[q].groups[g as usize].in_flight = false;
                self.mark_group_ready(q, g);
            }
        }
        if fifo {
            self.blocked_groups = blocked_groups;
            self.batch_groups = batch_groups;
        }
        // Slot release; the batch's buffer goes back to the slot for its next batch.
        let taken = msgs.len() as u64;
        self.consumers[c].slots[slot.index()].msgs = msgs;
        self.release_slot(c, slot, taken);
        self.consumer_waiting(c);
        if self.consumers[c].breaker_cfg.is_some() {
            self.breaker_after(c, any_failed, any_ok);
        }
        // A stream lane frees up unless a failure blocks its partition until the retry.
        if let Source::Stream { stream, group } = source
            && lane != u32::MAX
            && !blocked
        {
            self.streams[stream].groups[group as usize].1[lane as usize].busy = false;
        }
        self.wake_consumer(c);
        for &(owner, failure) in &call_results {
            match owner {
                Caller::Task { thread, token } => self.sm_task_done((thread, token), failure),
                Caller::Pipe { pipe, slot } => self.pipe_call_done(pipe, slot, failure),
            }
        }
        if took_call_results {
            call_results.clear();
            self.call_results = call_results;
        }
    }

    /// [`Engine::done`] for a plain reader ([`ConsumerRt::plain_for`]) whose batch succeeds
    /// as a matter of course: no forced failure (a timeout), no injected errors, no duplicate
    /// or synchronous call in it, no tracing. The message completes; when messages are
    /// visible the slot receives the next at once (the general path frees the slot and its
    /// queue's pump takes that same slot back). Returns false, having done nothing, when the
    /// batch needs the general path.
    fn done_plain(&mut self, c: ConsumerId, slot: SlotId) -> bool {
        let cr = &self.consumers[c];
        let Source::Queue(q) = cr.source else {
            return false;
        };
        let s = &cr.slots[slot.index()];
        if s.forced.is_some()
            || s.msgs.len() != 1
            || cr.faults.error_rate > 0.0
            || self.tracer.is_some()
        {
            return false;
        }
        let m = s.msgs[0];
        let msg = &self.msgs[m];
        if msg.dup.is_some() || msg.call_of.is_some() {
            return false;
        }
        let cn = cr.node;
        let measuring = self.measuring();
        if measuring && msg.owed() {
            self.stats[cn].unique_completed += 1;
        }
        self.tally(cn, Tally::Completed, measuring);
        self.finish_plain(c, q, m);
        self.queue_levels(q);
        let cr = &self.consumers[c];
        if slot.index() < cr.concurrency as usize
            && cr.faults.outage == 0
            && self.queues[q].visible > 0
        {
            match self.pick_visible(q) {
                Some(next) if self.receivable(q, next) => {
                    self.receive_one(q, c, next);
                    self.begin_plain(c, q, slot, next, false);
                    // The general pump goes on while slots are free and messages visible,
                    // then lets blocked senders in.
                    if !self.queues[q].blocked_is_empty()
                        || (self.queues[q].visible > 0 && self.can_start(c))
                    {
                        self.pump_queue(q);
                    }
                    return true;
                }
                Some(next) => {
                    self.release_slot(c, slot, 1);
                    self.refuse_on_receive(q, c, next);
                }
                None => self.release_slot(c, slot, 1),
            }
        } else {
            self.release_slot(c, slot, 1);
        }
        self.pump_queue(q);
        true
    }

    /// [`Engine::finish_message`] for a plain reader's message `m` of queue `q`, untraced:
    /// the same records and counts, read once.
    fn finish_plain(&mut self, c: ConsumerId, q: QueueId, m: MsgId) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let qn = self.queues[q].node;
        let msg = &self.msgs[m];
        let owed = msg.owed();
        if msg.measured {
            // Its time in the consumer's system is its time in the queue's (it arrived there).
            let lat = now - msg.arrived_at;
            let waited = msg.waited;
            let origin_at = msg.origin_at;
            self.stats[cn].latency.record(lat);
            self.series.latency(cn.index(), now, lat);
            if owed {
                self.e2e.record(now - origin_at);
            }
            let qs = &mut self.stats[qn];
            qs.completed += 1;
            qs.depart(lat);
            self.stats[cn].depart_waited(lat, waited);
        }
        self.queues[q].held -= 1;
        if owed {
            self.cons.completed += 1;
        }
        self.msgs.free(m);
    }

    /// [`Engine::begin_batch`] for a plain reader's batch of one, message `m` of queue `q`,
    /// in `slot` (`fresh` as there): the same draw, counts and events.
    pub(crate) fn begin_plain(
        &mut self,
        c: ConsumerId,
        q: QueueId,
        slot: SlotId,
        m: MsgId,
        fresh: bool,
    ) {
        let now = self.now;
        let measuring = self.measuring();
        let msg = &mut self.msgs[m];
        msg.waited += now - msg.visible_since;
        let first = msg.receives <= 1;
        let cr = &mut self.consumers[c];
        let cn = cr.node;
        if fresh {
            cr.busy += 1;
            cr.in_service += 1;
        }
        // `per_message` × 1 message, as `begin_batch` adds it.
        let service =
            (cr.service.sample(&mut cr.rng_service) + cr.per_message as f64) * cr.faults.slowdown;
        let mut dt = round_nanos(service);
        let mut forced = None;
        if let Some(limit) = cr.timeout
            && dt > limit
        {
            dt = limit;
            forced = Some("timed out");
        }
        let s = &mut cr.slots[slot.index()];
        s.msgs.clear();
        s.msgs.push(m);
        s.lane = u32::MAX;
        s.busy = true;
        s.forced = forced;
        let busy = u64::from(cr.busy);
        let st = &mut self.stats[cn];
        if measuring {
            st.attempts += 1;
            st.first_attempts += u64::from(first);
            st.batches += 1;
            st.batch_messages += 1;
        }
        if fresh {
            st.busy.set(now, busy);
            self.series.level(cn.index(), Level::Busy, now, busy);
        } else if now == self.warmup {
            // As in `begin_batch`.
            st.busy.set(now, busy - 1);
            st.busy.set(now, busy);
        }
        self.events
            .schedule(now + dt, Ev::Done { consumer: c, slot });
        // As in `begin_batch`: a handler slower than the visibility timeout.
        let visibility = self.queues[q].visibility;
        if dt > visibility {
            self.events
                .schedule(now + visibility, Ev::VisibilityExpired(m));
        }
    }

    /// Frees a slot after its batch of `taken` messages: [`Engine::done`]'s release, and a
    /// plain reader's after its one message.
    fn release_slot(&mut self, c: ConsumerId, slot: SlotId, taken: u64) {
        let now = self.now;
        let cr = &mut self.consumers[c];
        cr.in_service -= taken;
        let s = &mut cr.slots[slot.index()];
        s.msgs.clear();
        s.lane = u32::MAX;
        s.busy = false;
        cr.busy -= 1;
        // A slot beyond a lowered concurrency finishes its batch and takes no more.
        if slot.index() < cr.concurrency as usize {
            cr.free_slots.push(slot);
        }
        let busy = u64::from(cr.busy);
        let cn = cr.node;
        self.stats[cn].busy.set(now, busy);
        self.series.level(cn.index(), Level::Busy, now, busy);
    }

    /// A `set` timeline entry: consumer `c` has `n` slots from now on. Extra slots take work
    /// at once; busy slots beyond `n` finish the batch they hold and are not freed again.
    pub(crate) fn set_concurrency(&mut self, c: ConsumerId, n: u32) {
        let now = self.now;
        let warmup = self.warmup;
        let cr = &mut self.consumers[c];
        let (old, n) = (cr.concurrency, n.max(1));
        cr.concurrency = n;
        while cr.slots.len() < n as usize {
            cr.slots.push(Slot::new(cr.batch));
        }
        // The idle slots below `n`, lowest taken first (as at build time).
        cr.free_slots = (0..n as usize)
            .rev()
            .filter(|&i| !cr.slots[i].busy)
            .map(SlotId::from_index)
            .collect();
        cr.instance_cursor.resize(n as usize, 0);
        if let Some(r) = cr.ramp.as_mut() {
            r.cap = n.min(r.ceiling);
            r.limit = r.limit.min(r.cap);
        }
        let st = &mut self.stats[cr.node];
        let slots = st.slots.get_or_insert_with(|| {
            let mut a = crate::metrics::TimeAverage::new(warmup);
            a.set(0, u64::from(old));
            a
        });
        slots.set(now, u64::from(n));
        self.wake_consumer(c);
    }

    /// The consumer with this id, for timeline actions.
    pub(crate) fn consumer_by_id(&self, id: &str) -> Option<ConsumerId> {
        self.consumers.position(|c| self.stats[c.node].id == id)
    }

    /// After a slot frees or a fault/breaker changes: look for more work.
    pub(crate) fn wake_consumer(&mut self, c: ConsumerId) {
        match self.consumers[c].source {
            Source::Queue(q) => {
                self.queue_levels(q);
                self.pump_queue(q);
            }
            Source::Stream { stream, group } => self.pump_stream(stream, group),
            Source::Direct => {
                if self.consumers[c].asynchronous.is_some() {
                    self.pump_async(c);
                }
            }
        }
    }

    /// Success (or a handled failure): the message leaves the consumer's system.
    fn finish_message(&mut self, c: ConsumerId, m: MsgId, source: Source, record: bool) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let msg = &self.msgs[m];
        if record && msg.measured {
            let lat = now - msg.arrived_at;
            self.stats[cn].latency.record(lat);
            self.series.latency(cn.index(), now, lat);
            if !self.consumers[c].emits_on_success && msg.owed() {
                self.e2e.record(now - msg.origin_at);
            }
        }
        if record && !self.consumers[c].emits_on_success && self.msgs[m].owed() {
            self.trace_chain_end(m);
        }
        let msg = &self.msgs[m];
        match source {
            Source::Queue(q) => {
                if msg.measured {
                    self.stats[self.queues[q].node].completed += 1;
                }
                self.leave_queue(q, m);
            }
            Source::Stream { .. } | Source::Direct => {
                if msg.measured {
                    self.stats[cn].depart_waited(now - msg.arrived_at, msg.waited);
                }
                self.consumer_held(c, -1);
            }
        }
        self.settle(m, Outcome::Completed);
        self.msgs.free(m);
    }

    /// Puts messages of an ordered batch back at the head of their FIFO group or stream lane,
    /// in their order, behind the failed message that blocks it.
    fn return_to_lane(&mut self, source: Source, lane: u32, fifo: bool, msgs: &[MsgId]) {
        if msgs.is_empty() {
            return;
        }
        for &m in msgs {
            self.msgs[m].visible_since = self.now;
        }
        match (source, fifo) {
            (Source::Queue(q), true) => {
                let qr = &mut self.queues[q];
                for &m in msgs.iter().rev() {
                    let g = self.msgs[m].lane;
                    qr.groups[g as usize].waiting.push_front(m);
                }
                qr.visible += msgs.len() as u64;
                self.queue_levels(q);
            }
            (Source::Stream { stream, group }, _) if lane != u32::MAX => {
                let waiting =
                    &mut self.streams[stream].groups[group as usize].1[lane as usize].waiting;
                for &m in msgs.iter().rev() {
                    waiting.push_front(m);
                }
            }
            _ => {}
        }
    }

    /// An unhandled failure: redelivery by the source's rules. Returns true when the message
    /// will be delivered again from the same source (and so blocks an ordered lane).
    fn fail_message(
        &mut self,
        c: ConsumerId,
        m: MsgId,
        source: Source,
        lane: u32,
        why: &'static str,
    ) -> bool {
        let now = self.now;
        let cn = self.consumers[c].node;
        match source {
            Source::Direct if self.consumers[c].asynchronous.is_some() => {
                let retries = self.consumers[c]
                    .asynchronous
                    .as_deref()
                    .map_or(0, |a| a.retries);
                let tries = self.msgs[m].receives;
                if tries > retries {
                    self.async_gave_up(c, m, Reason::RetriesExhausted, why);
                } else {
                    // Lambda waits about 1 minute before the second try, 2 before the third.
                    let delays = defaults::LAMBDA_ASYNC_RETRY_DELAYS;
                    let delay = delays[(tries as usize).saturating_sub(1).min(delays.len() - 1)];
                    let at = now + delay.as_nanos();
                    if self.measuring() {
                        self.stats[cn].async_retries += 1;
                    }
                    if self.tracer.is_some() {
                        self.trace_end(m, "failed", || {
                            Some(format!("{why}; Lambda retries it in {delay}"))
                        });
                        self.trace_msg_open(m, cn, None);
                    }
                    self.msgs[m].visible_since = at;
                    self.events.schedule(
                        at,
                        Ev::AsyncRetry {
                            consumer: c,
                            msg: m,
                        },
                    );
                }
                false
            }
            Source::Direct => {
                self.trace_end(m, "failed", || Some(why.to_owned()));
                // The message leaves the consumer; the rule target retries or dead-letters it.
                let msg = &self.msgs[m];
                if msg.measured {
                    self.stats[cn].depart_waited(now - msg.arrived_at, msg.waited);
                }
                self.consumer_held(c, -1);
                if self.msgs[m].target.is_none() {
                    self.settle(m, Outcome::Dropped);
                    self.msgs.free(m);
                } else {
                    self.target_failed(m, Reason::RetriesExhausted);
                }
                false
            }
            Source::Queue(q) => {
                // Invisible until the visibility timeout passes, then received again — or, if
                // it has been received `max_receives` times, moved to the dead-letter queue at
                // that next receive (SQS's redrive policy), not at the failure.
                let qr = &self.queues[q];
                let at = now + qr.visibility;
                let qnode = qr.node;
                self.events.schedule(at, Ev::Visible { msg: m, queue: q });
                if self.tracer.is_some() {
                    let vis = at - now;
                    self.trace_end(m, "failed", || {
                        Some(format!(
                            "{why}; visible again after {:.3}s",
                            vis as f64 / 1e9
                        ))
                    });
                    self.trace_msg_open(m, qnode, None);
                }
                true
            }
            Source::Stream { stream, group } => {
                if self.tracer.is_some() {
                    self.trace_end(m, "failed", || {
                        Some(format!("{why}; the partition waits for the retry"))
                    });
                    let snode = self.streams[stream].node;
                    self.trace_msg_open(m, snode, None);
                }
                // The record waits (its partition blocked) until the retry.
                let msg = &mut self.msgs[m];
                msg.visible_since = now;
                msg.lane = lane;
                self.events.schedule(
                    now + STREAM_RETRY_DELAY,
                    Ev::LaneRetry {
                        msg: m,
                        stream,
                        group,
                    },
                );
                true
            }
        }
    }

    /// A stream batch ended: after a failure (`blocked`, `failed` records to retry) the lane
    /// counts a retry, or halves its batch when `bisect_on_error` splits it (a split does not
    /// use up the retry quota); after a success it starts afresh.
    fn stream_batch_settled(
        &mut self,
        c: ConsumerId,
        stream: StreamId,
        group: u32,
        lane: u32,
        blocked: bool,
        failed: usize,
    ) {
        let batch = self.consumers[c].batch as u32;
        let bisect = self.consumers[c].bisect;
        let cn = self.consumers[c].node;
        let measuring = self.measuring();
        let l = &mut self.streams[stream].groups[group as usize].1[lane as usize];
        if blocked {
            l.failed_len = failed as u32;
            if bisect && failed > 1 {
                l.limit = (failed as u32).div_ceil(2);
                if measuring {
                    self.stats[cn].bisections += 1;
                }
            } else {
                l.retries += 1;
            }
        } else {
            l.retries = 0;
            l.failed_len = 0;
            l.limit = l.limit.saturating_mul(2).min(batch);
        }
    }

    /// Publishes the consumer's `emits` for a success or a failure of message `m`.
    fn fire_emits(&mut self, c: ConsumerId, m: MsgId, on: EmitOn) {
        let n = self.consumers[c].emits.len();
        if n == 0 {
            return;
        }
        let now = self.now;
        let trigger = Arc::clone(&self.msgs[m].payload);
        let origin_at = self.msgs[m].origin_at;
        let node = self.consumers[c].node;
        for i in 0..n {
            let cr = &mut self.consumers[c];
            let e = &mut cr.emits[i];
            if e.on != on {
                continue;
            }
            if e.probability < 1.0 && !cr.rng_emit.chance(e.probability) {
                continue;
            }
            e.seq += 1;
            let (seq, dest) = (e.seq, e.dest);
            let event_no = self.next_event_no();
            let reads = self.reads.fields(self.tracer.is_some());
            let cr = &mut self.consumers[c];
            let t = &mut cr.emits[i].template;
            let mut stamp = Stamp {
                seed: self.seed,
                event_no,
                now,
                times: &mut self.times,
            };
            let v = t.event(&mut cr.rng_emit, seq, Some(&trigger), reads, &mut stamp);
            if self.measuring() {
                self.stats[node].emitted += 1;
            }
            self.cause = self.msg_cause(m);
            self.send(dest, v, event_no, origin_at, None);
            if self.check_loop_guard() {
                return;
            }
        }
    }

    /// The circuit breaker after a batch with failures and/or successes.
    fn breaker_after(&mut self, c: ConsumerId, failed: bool, ok: bool) {
        let now = self.now;
        let cn = self.consumers[c].node;
        let cr = &mut self.consumers[c];
        let Some((threshold, cooldown)) = cr.breaker_cfg else {
            return;
        };
        let before = cr.breaker;
        if failed && !ok {
            cr.consecutive_failures += 1;
            if cr.breaker == Breaker::HalfOpen || cr.consecutive_failures >= threshold {
                cr.breaker = Breaker::Open;
            }
        } else if ok {
            cr.consecutive_failures = 0;
            cr.breaker = Breaker::Closed;
        }
        if cr.breaker != before {
            let open = cr.breaker == Breaker::Open;
            if self.measuring() {
                self.stats[cn].breaker_transitions += 1;
            }
            if open {
                self.events.schedule(now + cooldown, Ev::BreakerProbe(c));
            }
        }
    }

    /// An open breaker's cool-down ended: half-open, one trial batch.
    pub(crate) fn breaker_probe(&mut self, c: ConsumerId) {
        let cn = self.consumers[c].node;
        if self.consumers[c].breaker == Breaker::Open {
            self.consumers[c].breaker = Breaker::HalfOpen;
            if self.measuring() {
                self.stats[cn].breaker_transitions += 1;
            }
            self.wake_consumer(c);
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use crate::sim::{RunOptions, Simulation};

    /// The results of a run, with the plain path on or (`general`) every consumer and queue
    /// sent through the general one; the wall clock taken out.
    fn run(text: &str, general: bool) -> (serde_json::Value, bool) {
        let s =
            crate::scenario::parse(text, "t.json").map_or_else(|e| panic!("{e}"), |l| l.scenario);
        let mut sim = Simulation::new(&s, &RunOptions::default()).unwrap();
        let plain = sim.engine.consumers.iter().any(|c| c.plain);
        if general {
            for c in sim.engine.consumers.iter_mut() {
                c.plain = false;
            }
            for q in sim.engine.queues.iter_mut() {
                q.plain_reader = None;
            }
        }
        sim.run_to_end();
        let mut v = serde_json::to_value(sim.results()).unwrap();
        v["engine"]["wall_seconds"] = serde_json::Value::Null;
        (v, plain)
    }

    /// A plain reader's run is the general path's, figure for figure, through what changes
    /// mid-run (a warm-up, an outage, a slowdown past the visibility timeout and the timeout,
    /// injected errors with redrive to a dead-letter queue, messages past their retention,
    /// concurrency lowered and raised).
    #[test]
    fn a_plain_reader_runs_as_the_general_path_does() {
        let text = r#"{ "name": "plain", "seed": 7, "duration": "900s", "warmup": "60s",
            "producers": [ { "id": "p", "to": "q", "rate": 20,
                             "schedule": [ { "at": "400s", "rate": 4 }, { "at": "520s", "rate": 20 } ] } ],
            "queues": [ { "id": "q", "visibility_timeout": "2s", "max_receives": 3,
                          "dead_letter": "dlq", "retention": "60s" },
                        { "id": "dlq" } ],
            "consumers": [ { "id": "c", "from": "q", "concurrency": 4, "batch_size": 1,
                             "timeout": "5s",
                             "service_time": { "exponential": { "mean": "150ms" } } } ],
            "faults": [ { "target": "c", "from": "100s", "to": "170s", "kind": "outage" },
                        { "target": "c", "from": "400s", "to": "500s", "kind": "slowdown",
                          "factor": 8 },
                        { "target": "c", "from": "600s", "to": "630s", "kind": "errors",
                          "rate": 0.3 } ],
            "timeline": [ { "at": "700s", "set": "c", "concurrency": 2 },
                          { "at": "800s", "set": "c", "concurrency": 6 } ] }"#;
        let (plain, was_plain) = run(text, false);
        let (general, _) = run(text, true);
        assert!(was_plain, "the consumer is a plain reader");
        // Each of those happened (the consumer's figures, and the queue's expiries).
        let count = |node: &str, what: &str| plain["nodes"][node][what].as_u64().unwrap();
        for what in ["completed", "failed", "dead_lettered", "duplicates"] {
            assert!(count("c", what) > 0, "{what}: {}", plain["nodes"]["c"]);
        }
        assert!(count("q", "expired") > 0, "{}", plain["nodes"]["q"]);
        assert_eq!(plain, general);
    }
}
