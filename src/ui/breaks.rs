//! Run ▸ Break something: the workshop move. Each break is written into the scenario at the
//! current simulated time — a fault window from now to the end of the run (take a consumer
//! down, slow it, make it fail) or a producer `schedule` entry (a burst) — so the run stays
//! reproducible: the saved file replays to the same figures. Restore ends the open windows (and
//! the burst) at the current time.
//!
//! The engine compiles faults at start, so the app rebuilds the run from t = 0 with the new
//! entry and fast-forwards to where it was (deterministic, so the figures up to now are the
//! same and the break takes effect from now on).

use crate::model::{Duration, Fault, FaultKind, RateChange, Scenario};

/// Slowdown factor of "Slow it down".
pub const SLOWDOWN_FACTOR: f64 = 10.0;
/// Error probability of "Make it fail".
pub const FAILURE_RATE: f64 = 0.5;
/// Rate multiplier of "Burst".
pub const BURST_FACTOR: f64 = 5.0;

/// One way to break something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Break {
    /// A consumer (or queue, bus) stops: an `outage` fault.
    Down,
    /// A consumer's service times ×[`SLOWDOWN_FACTOR`]: a `slowdown` fault.
    Slow,
    /// A consumer's attempts fail with probability [`FAILURE_RATE`]: an `errors` fault.
    Fail,
    /// A producer's rate ×[`BURST_FACTOR`]: a `schedule` entry.
    Burst,
}

impl Break {
    /// The menu label for `id`.
    #[must_use]
    pub fn label(self, id: &str) -> String {
        match self {
            Break::Down => format!("Take {id} down"),
            Break::Slow => format!("Slow {id} down ×{SLOWDOWN_FACTOR}"),
            Break::Fail => format!("Make {id} fail {:.0} %", FAILURE_RATE * 100.0),
            Break::Burst => format!("Burst {id} ×{BURST_FACTOR}"),
        }
    }
}

/// Rounds a simulated time down to the millisecond, so the file reads well.
pub(super) fn at_ms(now_ns: u64) -> Duration {
    Duration(now_ns / 1_000_000 * 1_000_000)
}

/// The rate `p` runs at just before `at` (its base rate or the last schedule entry before).
pub(super) fn rate_at(p: &crate::model::Producer, at: Duration) -> f64 {
    p.schedule
        .iter()
        .filter(|c| c.at <= at)
        .max_by_key(|c| c.at)
        .map_or(p.rate, |c| c.rate)
}

/// Writes `what` on `id` into `s` at simulated time `now_ns`. Returns a description, or `None`
/// when it does not apply (unknown id, the run's end reached).
pub fn apply(s: &mut Scenario, what: Break, id: &str, now_ns: u64) -> Option<String> {
    let at = at_ms(now_ns);
    if at >= s.duration {
        return None;
    }
    if what == Break::Burst {
        let p = s.producers.iter_mut().find(|p| p.id == id)?;
        let rate = rate_at(p, at) * BURST_FACTOR;
        p.schedule.retain(|c| c.at < at);
        p.schedule.push(RateChange { at, rate });
        return Some(format!("{} at {at}", what.label(id)));
    }
    s.kind_of(id)?;
    let (kind, factor, rate) = match what {
        Break::Down => (FaultKind::Outage, None, None),
        Break::Slow => (FaultKind::Slowdown, Some(SLOWDOWN_FACTOR), None),
        Break::Fail => (FaultKind::Errors, None, Some(FAILURE_RATE)),
        Break::Burst => unreachable!("handled above"),
    };
    s.faults.push(Fault {
        target: id.to_owned(),
        from: at,
        to: s.duration,
        kind,
        factor,
        rate,
    });
    Some(format!("{} at {at}", what.label(id)))
}

/// Ends every break still in force at `now_ns`: fault windows open past now end now, and a
/// producer whose rate was raised by a burst goes back to the rate before it. Returns how many
/// things were restored.
pub fn restore_all(s: &mut Scenario, now_ns: u64) -> usize {
    let at = at_ms(now_ns);
    let mut restored = 0;
    for f in &mut s.faults {
        if f.from <= at && f.to > at {
            f.to = at.max(Duration(f.from.0 + 1_000_000));
            restored += 1;
        }
    }
    for p in &mut s.producers {
        let Some(last) = p
            .schedule
            .iter()
            .filter(|c| c.at <= at)
            .max_by_key(|c| c.at)
            .cloned()
        else {
            continue;
        };
        let before = rate_at(p, Duration(last.at.0.saturating_sub(1)));
        let before = if last.at.0 == 0 { p.rate } else { before };
        if (last.rate - before * BURST_FACTOR).abs() < 1e-9 && last.rate > before {
            p.schedule.retain(|c| c.at <= at);
            p.schedule.push(RateChange {
                at: at.max(Duration(last.at.0 + 1_000_000)),
                rate: before,
            });
            restored += 1;
        }
    }
    restored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fanout() -> Scenario {
        let e = crate::examples::find("order-fanout").unwrap();
        crate::scenario::parse(e.text, e.file_name)
            .unwrap()
            .scenario
    }

    #[test]
    fn breaks_are_entries_at_the_current_time_and_restore_ends_them() {
        let mut s = fanout();
        let now = 60_000_123_456;
        apply(&mut s, Break::Down, "payment", now).unwrap();
        let f = s.faults.last().unwrap();
        assert_eq!(
            (f.from, f.to, f.kind),
            (Duration(60_000_000_000), s.duration, FaultKind::Outage)
        );
        apply(&mut s, Break::Burst, "checkout", now).unwrap();
        let p = &s.producers[0];
        assert_eq!(p.schedule.last().unwrap().rate, 40.0 * BURST_FACTOR);
        assert!(
            crate::scenario::validate(&s)
                .iter()
                .all(|p| p.severity != crate::scenario::Severity::Error)
        );
        assert_eq!(restore_all(&mut s, 90_000_000_000), 2);
        assert_eq!(s.faults.last().unwrap().to, Duration(90_000_000_000));
        assert_eq!(s.producers[0].schedule.last().unwrap().rate, 40.0);
        assert!(apply(&mut s, Break::Down, "nobody", now).is_none());
    }

    /// The workshop move, headless: take payment down mid-run, restore it, and its queue's
    /// backlog grows then drains; the saved scenario replays to the same figures.
    #[test]
    fn a_break_grows_the_backlog_and_replays_identically() {
        let mut s = fanout();
        let base = crate::sim::run(&s, &crate::sim::RunOptions::default()).unwrap();
        apply(&mut s, Break::Down, "payment", 60_000_000_000).unwrap();
        restore_all(&mut s, 120_000_000_000);
        let broken = crate::sim::run(&s, &crate::sim::RunOptions::default()).unwrap();
        let q = |r: &crate::sim::Results| r.nodes.get("payment-q").unwrap().queue_depth.mean;
        assert!(q(&broken) > q(&base), "{} vs {}", q(&broken), q(&base));
        assert_eq!(
            broken.nodes.get("payment-q").unwrap().lag,
            Some(0),
            "it drained"
        );
        let text = crate::scenario::to_json(&s);
        let again = crate::scenario::parse(&text, "saved").unwrap().scenario;
        let replay = crate::sim::run(&again, &crate::sim::RunOptions::default()).unwrap();
        let mut a = broken.clone();
        let mut b = replay;
        a.engine.wall_seconds = 0.0;
        b.engine.wall_seconds = 0.0;
        assert_eq!(crate::report::json(&a), crate::report::json(&b));
    }
}
