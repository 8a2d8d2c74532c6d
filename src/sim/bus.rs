//! Buses and rules: `PutEvents` (throttle, outage, archive), routing through the compiled rule
//! matcher, one copy per matched rule target (with its input transformer), and the target's
//! delivery attempts with `EventBridge`'s retry policy (exponential backoff with jitter, maximum
//! attempts and event age) and dead-letter queue.

use std::sync::Arc;

use serde_json::Value;

use super::clock::{Ev, Nanos};
use super::dist::{Bucket, Dist};
use super::engine::{Dest, Engine, MAX_ROUTE_DEPTH};
use super::faults::FaultState;
use super::ids::{BusId, MsgId, NodeId, QueueId, TargetId};
use super::journey::{Cause, Condition};
use super::ledger::Outcome;
use super::message::Msg;
use super::rng::Stream;
use super::stats::{Reason, Tally};
use crate::model::{Bus, Rule, Target};
use crate::pattern::{FilterPolicy, Pattern, RuleMatcher, Transform};

/// An event kept by a bus archive: (put time, payload).
pub(crate) type Archived = (Nanos, Arc<Value>);

/// A rule target at run time (numbered across all buses).
pub(crate) struct TargetRt {
    pub(crate) rule_name: String,
    pub(crate) bus: BusId,
    pub(crate) dest: Dest,
    /// Retries after the first try.
    pub(crate) attempts: u32,
    pub(crate) max_age: Nanos,
    pub(crate) backoff: Nanos,
    pub(crate) max_backoff: Nanos,
    pub(crate) jitter: bool,
    pub(crate) dlq: Option<QueueId>,
    pub(crate) transform: Option<Transform>,
    pub(crate) throttle: Option<Bucket>,
    /// Copies dead-lettered (or dropped without a DLQ) in the measured window.
    pub(crate) dead_lettered: u64,
}

impl TargetRt {
    /// Compiles a target of rule `rule` on bus `bus`; `dest` and `dlq` are resolved by the caller.
    pub(crate) fn compile(
        t: &Target,
        rule: &Rule,
        bus: BusId,
        dest: Dest,
        dlq: Option<QueueId>,
    ) -> Result<Self, String> {
        let retry = t.retry_in_force();
        Ok(TargetRt {
            rule_name: rule.id.clone(),
            bus,
            dest,
            attempts: retry.attempts,
            max_age: retry.max_age.as_nanos(),
            backoff: retry.backoff.as_nanos(),
            max_backoff: retry.max_backoff.as_nanos(),
            jitter: retry.jitter,
            dlq,
            transform: t
                .transform
                .as_ref()
                .map(|v| {
                    Transform::parse(v).map_err(|_| format!("rule {}: invalid transform", rule.id))
                })
                .transpose()?,
            throttle: t.throttle.as_ref().map(Bucket::new),
            dead_lettered: 0,
        })
    }
}

/// How a bus (or a topic, which runs as a bus whose rules are its subscriptions) picks the
/// rules an event matches.
pub(crate) enum Routing {
    /// `EventBridge` rules, matched together.
    Rules(RuleMatcher),
    /// SNS subscriptions, each with its filter policy (none = every message).
    Policies(Vec<Option<FilterPolicy>>),
}

/// A bus at run time.
pub(crate) struct BusRt {
    pub(crate) node: NodeId,
    pub(crate) routing: Routing,
    /// Targets per rule, in rule order.
    pub(crate) rule_targets: Vec<Vec<TargetId>>,
    /// Events each rule matched in the measured window.
    pub(crate) rule_matched: Vec<u64>,
    pub(crate) latency: Option<Dist>,
    pub(crate) archive: Option<Vec<Archived>>,
    pub(crate) throttle: Option<Bucket>,
    pub(crate) rng: Stream,
    /// Faults in force.
    pub(crate) faults: FaultState,
    /// The last shared event routed here and the rules it matched. Matching depends on the
    /// event alone, and an event is immutable behind its `Arc`: a constant event (one value
    /// every copy shares, see `Template::event`) is matched once, not once per event.
    pub(crate) memo: Option<(Arc<Value>, Vec<usize>)>,
}

impl BusRt {
    /// Compiles a bus whose rules' targets are `rule_targets` (already compiled).
    pub(crate) fn compile(
        b: &Bus,
        node: NodeId,
        rule_targets: Vec<Vec<TargetId>>,
        seed: u64,
    ) -> Result<Self, String> {
        let mut patterns = Vec::with_capacity(b.rules.len());
        for r in &b.rules {
            patterns.push(Pattern::parse(&r.pattern).map_err(|e| {
                format!(
                    "rule {}: {}",
                    r.id,
                    e.first().map_or(String::new(), ToString::to_string)
                )
            })?);
        }
        Ok(BusRt {
            node,
            routing: Routing::Rules(RuleMatcher::new(patterns)),
            rule_matched: vec![0; rule_targets.len()],
            rule_targets,
            latency: b.latency.as_ref().map(Dist::new),
            archive: b.archive.then(Vec::new),
            throttle: b.throttle.as_ref().map(Bucket::new),
            rng: Stream::new(seed, &b.id, "latency"),
            faults: FaultState::NONE,
            memo: None,
        })
    }
}

impl Engine {
    /// `PutEvents`: route an event through a bus's rules (unless the bus refuses it).
    pub(crate) fn put_event(
        &mut self,
        b: BusId,
        payload: Arc<Value>,
        event_no: u64,
        origin_at: Nanos,
    ) {
        let now = self.now;
        let node = self.buses[b].node;
        let measuring = self.measuring();
        self.tally(node, Tally::Arrived, measuring);
        let cause = self.cause;
        let hop = self.trace_open(cause, node, None);
        let cause = Cause { hop, ..cause };
        let bus = &mut self.buses[b];
        let refused = bus.faults.outage > 0 || bus.throttle.as_mut().is_some_and(|t| !t.take(now));
        if refused {
            self.cons.put_rejected += 1;
            if measuring && self.buses[b].faults.outage == 0 {
                self.stats[node].throttled += 1;
            }
            self.tally(node, Tally::Rejected, measuring);
            if self.tracer.is_some() {
                let why = if self.buses[b].faults.outage > 0 {
                    "outage"
                } else {
                    "PutEvents throttled"
                };
                self.trace_end_hop(cause, "rejected", Some(why.to_owned()));
            }
            return;
        }
        if let Some(archive) = &mut self.buses[b].archive {
            archive.push((now, Arc::clone(&payload)));
        }
        self.cause = cause;
        self.route(b, payload, event_no, origin_at);
    }

    /// Matches an event against the bus's rules and sends a copy to every matched target.
    pub(crate) fn route(&mut self, b: BusId, payload: Arc<Value>, event_no: u64, origin_at: Nanos) {
        let now = self.now;
        // Routing within one step counts toward the zero-time loop guard too, and the guards
        // are checked per route: a cycle of buses with fan-out multiplies copies within a step.
        self.steps_this_instant += 1;
        self.check_guards(None);
        if self.stopped.is_some() {
            return;
        }
        let node = self.buses[b].node;
        let cause = self.cause;
        let mut matched = std::mem::take(&mut self.matched);
        let bus = &mut self.buses[b];
        if let Some((last, rules)) = &bus.memo
            && Arc::ptr_eq(last, &payload)
        {
            matched.clear();
            matched.extend_from_slice(rules);
        } else {
            match &bus.routing {
                Routing::Rules(m) => m.matching(&payload, &mut self.scratch, &mut matched),
                Routing::Policies(p) => {
                    matched.clear();
                    matched.extend(
                        p.iter()
                            .enumerate()
                            .filter(|(_, f)| f.as_ref().is_none_or(|f| f.matches(&payload)))
                            .map(|(i, _)| i),
                    );
                }
            }
            // Only an event something else holds too can come again: one built for this
            // route alone is not remembered (no reference-count round trip for it).
            if Arc::strong_count(&payload) > 1 {
                match &mut bus.memo {
                    Some((last, rules)) => {
                        *last = Arc::clone(&payload);
                        rules.clear();
                        rules.extend_from_slice(&matched);
                    }
                    None => bus.memo = Some((Arc::clone(&payload), matched.clone())),
                }
            }
        }
        if self.measuring() {
            for &r in &matched {
                self.buses[b].rule_matched[r] += 1;
            }
        }
        self.tally_now(node, Tally::Completed);
        if matched.is_empty() {
            self.cons.unmatched += 1;
            self.trace_end_hop(cause, "unmatched", None);
        } else if self.tracer.is_some() {
            let rules = matched.len();
            self.trace_end_hop(
                cause,
                "routed",
                Some(format!(
                    "{} matched",
                    crate::names::plural(rules as usize, "rule")
                )),
            );
        }
        for &rule in &matched {
            for ti in 0..self.buses[b].rule_targets[rule].len() {
                let t = self.buses[b].rule_targets[rule][ti];
                self.cons.deliveries += 1;
                let target = &self.targets[t];
                let copy = match &target.transform {
                    Some(tr) => Arc::new(tr.apply(&payload, &target.rule_name)),
                    None => Arc::clone(&payload),
                };
                let mut msg = Msg::new(copy, event_no, origin_at, now, self.measuring(), cause);
                msg.target = Some(t);
                let m = self.msgs.alloc(msg);
                if self.tracer.is_some() {
                    let to = self.dest_node(self.targets[t].dest);
                    let rule = self.targets[t].rule_name.clone();
                    self.trace_msg_open(m, to, Some(&rule));
                }
                let bus = &mut self.buses[b];
                match bus.latency {
                    Some(d) => {
                        let delay = (d.sample(&mut bus.rng) * bus.faults.slowdown)
                            .round()
                            .max(0.0) as Nanos;
                        self.events.schedule(now + delay, Ev::Deliver(m));
                    }
                    None if self.route_depth < MAX_ROUTE_DEPTH => {
                        self.route_depth += 1;
                        self.deliver_to_target(m);
                        self.route_depth -= 1;
                    }
                    // Deep bus-to-bus routing continues as its own step at this instant.
                    None => self.events.schedule(now, Ev::Deliver(m)),
                }
            }
        }
        matched.clear();
        self.matched = matched;
    }

    /// One delivery attempt of a rule-target copy.
    pub(crate) fn deliver_to_target(&mut self, m: MsgId) {
        let now = self.now;
        let Some(t) = self.msgs[m].target else {
            return;
        };
        self.msgs[m].attempts += 1;
        if self.msgs[m].attempts == 1 {
            self.msgs[m].first_attempt_at = now;
        }
        let target_dest = self.targets[t].dest;
        let bus = self.targets[t].bus;
        let bus_node = self.buses[bus].node;
        if self.measuring() {
            self.stats[bus_node].attempts += 1;
        }
        let attempt = self.msgs[m].attempts;
        self.trace_start(m, Some(attempt), None);
        if let Some(bucket) = &mut self.targets[t].throttle
            && !bucket.take(now)
        {
            self.tally_now(bus_node, Tally::Throttled);
            self.trace_end(m, "throttled", || Some("the target's throttle".to_owned()));
            self.target_failed(m, Reason::Throttled);
            return;
        }
        let err = self.buses[bus].faults.error_rate;
        if err > 0.0 && self.buses[bus].rng.chance(err) {
            if self.measuring() {
                self.stats[bus_node].failed += 1;
            }
            self.trace_end(m, "failed", || Some("injected bus errors".to_owned()));
            self.trace_note(m, Condition::Failed);
            self.target_failed(m, Reason::RetriesExhausted);
            return;
        }
        // A queue, stream or bus that is down fails the attempt, which the retry policy
        // retries (EventBridge retries an unavailable target; it does not lose the event).
        let down = match target_dest {
            Dest::Queue(q) => self.queues[q].outage > 0,
            Dest::Stream(s) => self.streams[s].outage > 0,
            Dest::Bus(b2) => self.buses[b2].faults.outage > 0,
            Dest::Consumer(_) | Dest::Machine(_) => false,
        };
        if down {
            if self.measuring() {
                self.stats[bus_node].failed += 1;
            }
            self.trace_end(m, "failed", || {
                Some("the target is unavailable (outage)".to_owned())
            });
            self.trace_note(m, Condition::Failed);
            self.target_failed(m, Reason::RetriesExhausted);
            return;
        }
        self.trace_end(m, "delivered", || None);
        self.msgs[m].arrived_at = now;
        self.msgs[m].measured = now >= self.warmup;
        match target_dest {
            Dest::Queue(q) => {
                let node = self.queues[q].node;
                self.trace_msg_open(m, node, None);
                self.enqueue(q, m);
            }
            Dest::Stream(s) => {
                // The copy becomes one owed record per consumer group: it is handed over (not
                // an outcome of its own) and the stream creates the group records.
                let (payload, event_no, origin_at) = self.take_payload(m);
                self.cons.deliveries -= 1;
                self.cause = self.msg_cause(m);
                self.msgs.free(m);
                self.append(s, payload, event_no, origin_at);
            }
            Dest::Bus(b2) => {
                let (payload, event_no, origin_at) = self.take_payload(m);
                self.settle(m, Outcome::Completed);
                self.cause = self.msg_cause(m);
                self.msgs.free(m);
                self.put_event(b2, payload, event_no, origin_at);
            }
            Dest::Consumer(c) => self.invoke(c, m),
            Dest::Machine(mi) => self.sm_start(mi, m),
        }
    }

    /// What message `m` causes when it is handed on (its root and current hop).
    pub(crate) fn msg_cause(&self, m: MsgId) -> Cause {
        let msg = &self.msgs[m];
        Cause {
            root: msg.root,
            hop: msg.hop,
        }
    }

    fn take_payload(&self, m: MsgId) -> (Arc<Value>, u64, Nanos) {
        let msg = &self.msgs[m];
        (Arc::clone(&msg.payload), msg.event_no, msg.origin_at)
    }

    /// A target delivery failed: retry with backoff, or dead-letter / drop.
    pub(crate) fn target_failed(&mut self, m: MsgId, reason: Reason) {
        let now = self.now;
        let Some(t) = self.msgs[m].target else {
            return;
        };
        let bus = self.targets[t].bus;
        let bus_node = self.buses[bus].node;
        let attempts = self.msgs[m].attempts;
        let target = &self.targets[t];
        // `attempts` counts the first try; the policy's `attempts` counts retries after it.
        if attempts > target.attempts {
            let r = if reason == Reason::Throttled && target.attempts == 0 {
                Reason::Throttled
            } else {
                Reason::RetriesExhausted
            };
            let dlq = target.dlq;
            if self.measuring() {
                self.targets[t].dead_lettered += 1;
            }
            self.dead_letter(m, dlq, bus_node, r);
            return;
        }
        let exp = attempts.saturating_sub(1).min(40);
        let mut delay = target
            .backoff
            .saturating_mul(1u64 << exp)
            .min(target.max_backoff);
        if target.jitter && delay > 0 {
            delay = (self.buses[bus].rng.open01() * delay as f64) as Nanos;
        }
        let target = &self.targets[t];
        if now + delay - self.msgs[m].first_attempt_at > target.max_age {
            let dlq = target.dlq;
            if self.measuring() {
                self.targets[t].dead_lettered += 1;
            }
            self.dead_letter(m, dlq, bus_node, Reason::MaxAge);
            return;
        }
        self.tally_now(bus_node, Tally::Retried);
        if self.tracer.is_some() {
            // The next attempt is a hop of its own, waiting out the backoff from now.
            let to = self.dest_node(self.targets[t].dest);
            let rule = self.targets[t].rule_name.clone();
            self.trace_retry(m, to, &rule, delay);
        }
        self.events.schedule(now + delay, Ev::Deliver(m));
    }

    /// The bus with this id, for timeline actions.
    pub(crate) fn bus_by_id(&self, id: &str) -> Option<BusId> {
        self.buses.position(|b| self.stats[b.node].id == id)
    }
}
