//! Faults and the timeline: fault windows (outage, slowdown, errors) switched on and off on a
//! component, and timeline actions at an instant (DLQ redrive, archive replay, a consumer's
//! concurrency changed).

use std::sync::Arc;

use serde_json::Value;

use super::clock::{Ev, Nanos};
use super::engine::{Dest, Engine};
use super::ids::{FaultId, Id, TimelineId};
use crate::model::{Fault, FaultKind, TimelineAction, defaults};

/// The faults in force on one component: outage windows open, slowdown factor, injected
/// error rate. Buses and consumers (a queue's faults reach its consumers) each hold one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FaultState {
    pub(crate) outage: u32,
    pub(crate) slowdown: f64,
    pub(crate) error_rate: f64,
}

impl FaultState {
    /// No fault in force.
    pub(crate) const NONE: FaultState = FaultState {
        outage: 0,
        slowdown: 1.0,
        error_rate: 0.0,
    };

    /// A fault window starts or ends.
    pub(crate) fn apply(&mut self, kind: FaultKind, start: bool, factor: f64, rate: f64) {
        let sign: i32 = if start { 1 } else { -1 };
        match kind {
            FaultKind::Outage => self.outage = self.outage.saturating_add_signed(sign),
            FaultKind::Slowdown => {
                self.slowdown = if start {
                    self.slowdown * factor
                } else {
                    self.slowdown / factor
                };
            }
            FaultKind::Errors => {
                self.error_rate = (self.error_rate + f64::from(sign) * rate).clamp(0.0, 1.0);
            }
        }
    }
}

/// A fault window at run time: the fault and the component it hits (if it resolved).
pub(crate) struct FaultRt {
    pub(crate) fault: Fault,
    pub(crate) dest: Option<Dest>,
}

impl Engine {
    /// A fault window starts or ends.
    pub(crate) fn fault_edge(&mut self, f: FaultId, start: bool) {
        let Some(dest) = self.faults[f].dest else {
            return;
        };
        let fault = &self.faults[f].fault;
        let (kind, factor, rate) = (
            fault.kind,
            fault.factor.unwrap_or(1.0),
            fault.rate.unwrap_or(0.0),
        );
        let sign: i32 = if start { 1 } else { -1 };
        match dest {
            Dest::Consumer(c) => {
                self.consumers[c].faults.apply(kind, start, factor, rate);
                if !start {
                    self.wake_consumer(c);
                }
            }
            Dest::Queue(q) => {
                let qr = &mut self.queues[q];
                if kind == FaultKind::Outage {
                    qr.outage = qr.outage.saturating_add_signed(sign);
                }
                // A slowed or erroring queue slows or fails its consumers.
                for k in 0..self.queues[q].consumers.len() {
                    let c = self.queues[q].consumers[k];
                    self.consumers[c].faults.apply(kind, start, factor, rate);
                }
                if !start {
                    self.pump_queue(q);
                }
            }
            Dest::Stream(s) => {
                let st = &mut self.streams[s];
                if kind == FaultKind::Outage {
                    st.outage = st.outage.saturating_add_signed(sign);
                }
            }
            Dest::Bus(b) => self.buses[b].faults.apply(kind, start, factor, rate),
            // Validation admits no fault on a state machine (`Site::FaultTarget`).
            Dest::Machine(_) => {}
        }
    }

    /// A timeline action is due.
    pub(crate) fn timeline_action(&mut self, i: TimelineId) {
        let action = self.timeline[i].action.clone();
        match action {
            TimelineAction::SetConcurrency {
                consumer,
                concurrency,
            } => {
                if let Some(c) = self.consumer_by_id(&consumer) {
                    self.set_concurrency(c, concurrency);
                }
            }
            TimelineAction::Redrive { dlq, .. } => {
                // A message move task moves the messages there when it starts, at its pace.
                if let Some(from) = self.queue_by_id(&dlq) {
                    self.redrive_left[i.index()] = self.queues[from].visible;
                    self.redrive_step(i);
                }
            }
            TimelineAction::Replay { bus, from, to } => {
                let Some(b) = self.bus_by_id(&bus) else {
                    return;
                };
                let events: Vec<Arc<Value>> = self.buses[b]
                    .archive
                    .as_ref()
                    .map(|a| {
                        a.iter()
                            .filter(|(t, _)| *t >= from.0 && *t < to.0)
                            .map(|(_, p)| Arc::clone(p))
                            .collect()
                    })
                    .unwrap_or_default();
                // EventBridge replays in one-minute slices of event time and documents no speed:
                // eventflow replays each slice over a minute, its events evenly spaced in
                // archive order (`defaults::REPLAY_SLICE`).
                let slice = defaults::REPLAY_SLICE.as_nanos();
                let times: Vec<Nanos> = self.buses[b]
                    .archive
                    .as_ref()
                    .map(|a| {
                        a.iter()
                            .filter(|(t, _)| *t >= from.0 && *t < to.0)
                            .map(|(t, _)| *t)
                            .collect()
                    })
                    .unwrap_or_default();
                let now = self.now;
                let mut k = 0;
                while k < events.len() {
                    let s = (times[k] - from.0) / slice;
                    let end = times[k..].partition_point(|t| (t - from.0) / slice == s) + k;
                    let n = (end - k) as u64;
                    for (j, payload) in events[k..end].iter().enumerate() {
                        let offset = slice * j as u64 / n;
                        let at = now + s * slice + offset;
                        let idx = self.replays.len() as u32;
                        self.replays.push(Some((b, Arc::clone(payload), i)));
                        self.events.schedule(at, Ev::Replay(idx));
                    }
                    k = end;
                }
            }
        }
    }

    /// Moves the next messages of a paced redrive (at `rate` per second, at most 500: the SQS
    /// move-task limit, and eventflow's assumption when the entry gives none).
    pub(crate) fn redrive_step(&mut self, i: TimelineId) {
        let TimelineAction::Redrive { dlq, to, rate } = self.timeline[i].action.clone() else {
            return;
        };
        let (Some(from), Some(to)) = (self.queue_by_id(&dlq), self.queue_by_id(&to)) else {
            return;
        };
        let rate = rate.unwrap_or(defaults::REDRIVE_RATE_MAX);
        // Steps of a tenth of a second (or one message, when slower than 10 a second).
        let per_step = (rate / 10.0).floor().max(1.0) as u64;
        let interval = (per_step as f64 / rate * 1e9).round().max(1.0) as Nanos;
        let left = self.redrive_left[i.index()];
        let moved = self.redrive(from, to, per_step.min(left));
        let left = left
            .saturating_sub(per_step)
            .min(if moved == 0 { 0 } else { u64::MAX });
        self.redrive_left[i.index()] = left;
        if left > 0 {
            self.events
                .schedule(self.now + interval, Ev::RedriveStep(i));
        }
    }

    /// A replayed event is due.
    pub(crate) fn replay_one(&mut self, idx: u32) {
        let Some((b, payload, i)) = self.replays.get_mut(idx as usize).and_then(Option::take)
        else {
            return;
        };
        let now = self.now;
        self.cons.replayed += 1;
        // A replayed event is a new event (EventBridge gives it a new id and adds
        // `replay-name`), so idempotency by id does not hide it.
        let event_no = self.cons.produced + self.cons.replayed + (1 << 40);
        let mut v = (*payload).clone();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "replay-name".into(),
                Value::String(format!("replay-{}", i.index())),
            );
        }
        self.route(b, Arc::new(v), event_no, now);
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::{Results, RunOptions, run};

    /// Two a second, evenly spaced, into a queue served in exactly one second per message by
    /// `c` slots; a `set` entry changes the slots at `at`.
    fn served(c: u32, at: &str, to: u32) -> Results {
        let text = format!(
            r#"{{ "name": "t", "duration": "60s",
                "producers": [ {{ "id": "p", "to": "q", "rate": 2, "arrivals": "uniform" }} ],
                "queues": [ {{ "id": "q" }} ],
                "consumers": [ {{ "id": "c", "from": "q", "concurrency": {c},
                                 "service_time": {{ "constant": "1s" }} }} ],
                "timeline": [ {{ "at": "{at}", "set": "c", "concurrency": {to} }} ] }}"#
        );
        let s = crate::scenario::parse(&text, "t.json").unwrap().scenario;
        run(&s, &RunOptions::default()).unwrap()
    }

    #[test]
    fn more_slots_start_taking_work_at_once() {
        // 1 slot for 30 s: 1 a second served, 30 waiting at 30 s. Then 4 slots: the backlog
        // drains at 4 − 2 = 2 a second (gone by 45 s), and everything that arrives is served.
        let r = served(1, "30s", 4);
        let c = r.nodes.get("c").unwrap();
        let q = r.nodes.get("q").unwrap();
        assert!(
            q.queue_depth.max >= 28,
            "backlog before the change: {}",
            q.queue_depth.max
        );
        assert!(q.lag.unwrap() <= 1, "drained: {:?}", q.lag);
        assert!(c.completed >= 117, "served {} of 120", c.completed);
        // Busy: 1 slot to 30 s, 4 to 45 s, then 2 (two a second × one second); slots 1 then 4.
        let busy = (30.0 * 1.0 + 15.0 * 4.0 + 15.0 * 2.0) / 60.0;
        let slots = (30.0 * 1.0 + 30.0 * 4.0) / 60.0;
        assert!(
            (c.utilization - busy / slots).abs() < 0.03,
            "utilization {} vs {}",
            c.utilization,
            busy / slots
        );
    }

    #[test]
    fn fewer_slots_finish_their_work_and_take_no_more() {
        // 4 slots for 10 s keep up with 2 a second; from 10 s 1 slot serves 1 a second: 50
        // more by 60 s, and the backlog grows by 1 a second.
        let r = served(4, "10s", 1);
        let c = r.nodes.get("c").unwrap();
        let q = r.nodes.get("q").unwrap();
        let expected = 20.0 + 50.0;
        assert!(
            (c.completed as f64 - expected).abs() <= 2.0,
            "completed {} vs {expected}",
            c.completed
        );
        let lag = q.lag.unwrap() as f64;
        assert!((lag - 50.0).abs() <= 2.0, "backlog {lag} vs 50");
    }

    #[test]
    fn an_unchanged_value_changes_nothing() {
        let a = served(3, "20s", 3);
        let b = {
            let text = r#"{ "name": "t", "duration": "60s",
                "producers": [ { "id": "p", "to": "q", "rate": 2, "arrivals": "uniform" } ],
                "queues": [ { "id": "q" } ],
                "consumers": [ { "id": "c", "from": "q", "concurrency": 3,
                                 "service_time": { "constant": "1s" } } ] }"#;
            let s = crate::scenario::parse(text, "t.json").unwrap().scenario;
            run(&s, &RunOptions::default()).unwrap()
        };
        let (ca, cb) = (a.nodes.get("c").unwrap(), b.nodes.get("c").unwrap());
        assert_eq!(ca.completed, cb.completed);
        assert!((ca.utilization - cb.utilization).abs() < 1e-9);
    }
}
