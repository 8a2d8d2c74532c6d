//! Producers: arrivals (Poisson or evenly spaced) at a rate that may follow a schedule, each
//! event generated from the producer's template and sent to a bus, queue or stream. A producer
//! waits when its client-side throttle has no token or its queue is full with `when_full: block`.

use std::sync::Arc;

use serde_json::Value;

use super::clock::{Ev, Nanos, SEC, round_nanos};
use super::dist::Bucket;
use super::engine::{Dest, Engine};
use super::envelope::Stamp;
use super::ids::{NodeId, ProducerId};
use super::journey::{Cause, NO_HOP};
use super::rng::Stream;
use super::stats::Tally;
use super::template::Template;
use crate::model::{Arrivals, Producer};

/// A producer at run time.
pub(crate) struct ProducerRt {
    pub(crate) node: NodeId,
    dest: Dest,
    rate: f64,
    arrivals: Arrivals,
    /// Rate changes (time, new rate), in time order.
    schedule: Vec<(Nanos, f64)>,
    next_change: usize,
    limit: u64,
    sent: u64,
    pub(crate) template: Template,
    /// The payload every event shares, when nothing downstream reads per-event fields.
    pub(crate) static_payload: Option<Arc<Value>>,
    /// Nothing downstream reads this producer's events (see `build`): an untraced run sends
    /// the engine's empty payload instead of building each one.
    pub(crate) payload_unread: bool,
    rng_arrivals: Stream,
    pub(crate) rng_event: Stream,
    throttle: Option<Bucket>,
    /// Waiting for queue space (`when_full` = block) or for a throttle token.
    pub(crate) blocked: bool,
    /// A Produce event is scheduled.
    armed: bool,
}

impl ProducerRt {
    /// Compiles a producer that sends to `dest`.
    pub(crate) fn compile(
        p: &Producer,
        node: NodeId,
        dest: Dest,
        seed: u64,
    ) -> Result<Self, String> {
        let template = Template::compile(&p.event, false).map_err(|e| {
            format!(
                "producer {}: {}",
                p.id,
                e.first().map_or("", |x| x.1.as_str())
            )
        })?;
        let mut schedule: Vec<(Nanos, f64)> = p.schedule.iter().map(|c| (c.at.0, c.rate)).collect();
        schedule.sort_by_key(|c| c.0);
        Ok(ProducerRt {
            node,
            dest,
            rate: p.rate,
            arrivals: p.arrivals,
            schedule,
            next_change: 0,
            limit: p.limit.unwrap_or(u64::MAX),
            sent: 0,
            static_payload: None,
            payload_unread: false,
            template,
            rng_arrivals: Stream::new(seed, &p.id, "arrivals"),
            rng_event: Stream::new(seed, &p.id, "event"),
            throttle: p.throttle.as_ref().map(Bucket::new),
            blocked: false,
            armed: false,
        })
    }
}

impl Engine {
    /// The producer's rate now, after any schedule changes that are due.
    fn current_rate(&mut self, p: ProducerId) -> f64 {
        self.rate_at(p, self.now)
    }

    /// The producer's rate at `now`, after any schedule changes due by then.
    fn rate_at(&mut self, p: ProducerId, now: Nanos) -> f64 {
        let pr = &mut self.producers[p];
        while pr.next_change < pr.schedule.len() && pr.schedule[pr.next_change].0 <= now {
            pr.rate = pr.schedule[pr.next_change].1;
            pr.next_change += 1;
        }
        pr.rate
    }

    /// Schedules the producer's next arrival after `from`.
    pub(crate) fn arm_producer(&mut self, p: ProducerId, from: Nanos) {
        let rate = self.rate_at(p, from);
        let pr = &mut self.producers[p];
        if pr.sent >= pr.limit || pr.armed || pr.blocked {
            return;
        }
        if rate <= 0.0 {
            // Paused: wake at the next schedule change that may restart it.
            if let Some(&(at, _)) = pr.schedule.get(pr.next_change) {
                pr.armed = true;
                self.events.schedule(at, Ev::Produce(p));
            }
            return;
        }
        let gap = match pr.arrivals {
            Arrivals::Poisson => pr.rng_arrivals.exponential(SEC / rate),
            Arrivals::Uniform => SEC / rate,
        };
        let at = from.saturating_add(round_nanos(gap).max(1));
        // A rate change before the next arrival restarts the clock at the new rate (memoryless
        // for Poisson; for even spacing it makes the new rate take effect at once).
        pr.armed = true;
        match pr.schedule.get(pr.next_change) {
            Some(&(change, _)) if change < at => self.events.schedule(change, Ev::RateChange(p)),
            _ => self.events.schedule(at, Ev::Produce(p)),
        }
    }

    /// A scheduled arrival (or, with `rate_change`, a change of rate) is due.
    pub(crate) fn produce(&mut self, p: ProducerId, rate_change: bool) {
        self.producers[p].armed = false;
        if rate_change || self.producers[p].rate <= 0.0 && self.current_rate(p) <= 0.0 {
            // A schedule change, not an arrival: re-arm at the new rate.
            self.current_rate(p);
            let now = self.now;
            self.arm_producer(p, now);
            return;
        }
        self.produce_now(p);
    }

    /// A throttled producer got its token back.
    pub(crate) fn producer_unthrottled(&mut self, p: ProducerId) {
        self.producers[p].blocked = false;
        self.produce_now(p);
    }

    /// A producer blocked on a full queue may send again.
    pub(crate) fn producer_unblocked(&mut self, p: ProducerId) {
        self.producers[p].blocked = false;
        let now = self.now;
        self.arm_producer(p, now);
    }

    /// Sends one event now (or waits for a throttle token).
    fn produce_now(&mut self, p: ProducerId) {
        let now = self.now;
        let node = self.producers[p].node;
        if let Some(bucket) = &mut self.producers[p].throttle
            && !bucket.take(now)
        {
            // Client-side rate limit: the producer waits for a token.
            let at = bucket.next_token_at(now);
            self.tally_now(node, Tally::Throttled);
            self.producers[p].blocked = true;
            self.events.schedule(at, Ev::Throttled(p));
            return;
        }
        let seq = {
            let pr = &mut self.producers[p];
            pr.sent += 1;
            pr.sent
        };
        let event_no = self.next_event_no();
        // Every copy shares one payload (a static event, or the released one when nothing reads
        // the events): untraced, it goes to a queue without a reference-count round trip.
        let untraced = self.tracer.is_none();
        let shared = self.producers[p].static_payload.is_some()
            || self.producers[p].payload_unread && untraced;
        if let Dest::Queue(q) = self.producers[p].dest
            && shared
            && untraced
        {
            if self.measuring() {
                self.stats[node].arrived += 1;
            }
            self.tally_now(node, Tally::Completed);
            // What `trace_root` answers in an untraced run.
            self.cause = Cause {
                root: event_no,
                hop: NO_HOP,
            };
            let blocked = self.send_shared_to_queue(q, p, event_no, now);
            if !blocked {
                self.arm_producer(p, now);
            }
            self.check_loop_guard();
            return;
        }
        let payload = if let Some(shared) = &self.producers[p].static_payload {
            Arc::clone(shared)
        } else if self.producers[p].payload_unread && untraced {
            Arc::clone(&self.released)
        } else {
            let reads = self.reads.fields(self.tracer.is_some());
            let pr = &mut self.producers[p];
            let mut stamp = Stamp {
                seed: self.seed,
                event_no,
                now,
                times: &mut self.times,
            };
            pr.template
                .event(&mut pr.rng_event, seq, None, reads, &mut stamp)
        };
        if self.measuring() {
            self.stats[node].arrived += 1;
        }
        self.tally_now(node, Tally::Completed);
        let dest = self.producers[p].dest;
        self.cause = self.trace_root(event_no, node, &payload);
        let blocked = self.send(dest, payload, event_no, now, Some(p));
        if !blocked {
            self.arm_producer(p, now);
        }
        self.check_loop_guard();
    }

    /// Numbers a new event (producers, emits).
    pub(crate) fn next_event_no(&mut self) -> u64 {
        self.cons.produced += 1;
        self.cons.produced
    }
}
