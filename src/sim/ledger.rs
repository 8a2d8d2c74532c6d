//! The conservation balance: every owed delivery ends exactly once, or is still in flight.
//!
//! An *owed delivery* is a copy per matched rule target, a message sent straight to a queue, a
//! record per consumer group of a stream, or a redriven message. Each ends in exactly one of
//! completed, dead-lettered, rejected, expired or dropped ([`Engine::settle`]). `in_flight` is
//! not the remainder of the others: it is counted from the owed copies that are actually alive
//! (the message slab's own count, plus stream records nobody reads), so
//! `deliveries = completed + dead_lettered + rejected + expired + dropped + in_flight` is a
//! real check. Debug builds (the `ci` test profile) assert it after every engine event.

use super::engine::Engine;
use super::ids::MsgId;

/// The conservation counters (whole run, not windowed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Conservation {
    /// Events created by producers and `emits`.
    pub produced: u64,
    /// Events a bus routed nowhere.
    pub unmatched: u64,
    /// Owed copies.
    pub deliveries: u64,
    /// Owed copies completed.
    pub completed: u64,
    /// Owed copies dead-lettered.
    pub dead_lettered: u64,
    /// Owed copies rejected (full queue, outage).
    pub rejected: u64,
    /// Owed copies expired (retention).
    pub expired: u64,
    /// Owed copies dropped (no DLQ, deduplicated).
    pub dropped: u64,
    /// Owed copies still in the system.
    pub in_flight: u64,
    /// Events a bus refused at `PutEvents` (throttle or outage); not deliveries.
    pub put_rejected: u64,
    /// Events re-published from an archive.
    pub replayed: u64,
}

impl Conservation {
    /// Does the balance hold? (Checked arithmetic: an overflow is a failed balance, not a wrap.)
    #[must_use]
    pub fn balanced(&self) -> bool {
        [
            self.dead_lettered,
            self.rejected,
            self.expired,
            self.dropped,
            self.in_flight,
        ]
        .iter()
        .try_fold(self.completed, |sum, x| sum.checked_add(*x))
            == Some(self.deliveries)
    }
}

/// How an owed delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    DeadLettered,
    Rejected,
    Expired,
    Dropped,
}

impl Engine {
    /// An owed delivery ends (copies that owe nothing are not counted).
    pub(crate) fn settle(&mut self, m: MsgId, outcome: Outcome) {
        if self.msgs[m].owed() {
            let c = &mut self.cons;
            let counter = match outcome {
                Outcome::Completed => &mut c.completed,
                Outcome::DeadLettered => &mut c.dead_lettered,
                Outcome::Rejected => &mut c.rejected,
                Outcome::Expired => &mut c.expired,
                Outcome::Dropped => &mut c.dropped,
            };
            *counter += 1;
        }
    }

    /// Owed deliveries alive now: owed message copies plus retained stream records that no
    /// consumer group reads.
    #[must_use]
    pub fn in_flight(&self) -> u64 {
        let orphans: u64 = self.streams.iter().map(|s| s.orphans.len() as u64).sum();
        self.msgs.owed_live() + orphans
    }

    /// The balance as of now, with `in_flight` counted.
    #[must_use]
    pub fn conservation(&self) -> Conservation {
        let mut c = self.cons;
        c.in_flight = self.in_flight();
        c
    }

    /// Asserts the balance (debug builds), and that the slab's count of owed copies matches a
    /// count one by one (`thorough`, at the end of a run: it walks the whole slab).
    pub(crate) fn debug_check_balance(&self, thorough: bool) {
        if cfg!(debug_assertions) {
            let c = self.conservation();
            assert!(
                c.balanced(),
                "conservation balance broken at t={}: {c:?}",
                self.now
            );
            if thorough {
                assert_eq!(
                    self.msgs.owed_live(),
                    self.msgs.count_owed(),
                    "owed copies miscounted"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balance_checks_every_term_and_refuses_overflow() {
        let mut c = Conservation {
            deliveries: 10,
            completed: 4,
            dead_lettered: 1,
            rejected: 1,
            expired: 1,
            dropped: 1,
            in_flight: 2,
            ..Conservation::default()
        };
        assert!(c.balanced());
        c.in_flight = 1;
        assert!(!c.balanced());
        c.completed = u64::MAX;
        assert!(!c.balanced());
    }

    /// The check is not an identity: an outcome counted twice breaks it.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "conservation balance broken")]
    fn a_miscounted_outcome_fails_the_check() {
        let text = r#"{ "name": "t", "duration": "60s",
            "producers": [ { "id": "p", "to": "q", "rate": 10 } ],
            "queues": [ { "id": "q" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "50ms" } } ] }"#;
        let s = match crate::scenario::parse(text, "t.json") {
            Ok(l) => l.scenario,
            Err(e) => panic!("{e}"),
        };
        let mut e = Engine::new(&s, 1, 10).unwrap_or_else(|e| panic!("{e}"));
        e.run_until(30_000_000_000);
        e.debug_check_balance(true);
        e.cons.completed += 1;
        e.debug_check_balance(false);
    }
}
