//! Change it while it runs: an inspector edit, during a run, of a consumer's `concurrency` or a
//! producer's `rate` becomes a `timeline` `set` entry or a `schedule` entry at the current
//! simulated time; the file's own value stays. The change takes effect from now (the run is
//! rebuilt with the entry and fast-forwarded, which repeats the past exactly), and the saved
//! file replays to the same figures.
//!
//! While a run is in progress the inspector shows the values in force at that time
//! ([`in_force`]), so the field the user edits shows what the run is doing; [`as_entries`] turns
//! the edited view back into the file plus entries.

use crate::model::{Duration, RateChange, Scenario, TimelineAction, TimelineEntry};

/// The concurrency `id` runs with at `at`: its last `set` entry at or before `at`, or its own.
fn concurrency_at(s: &Scenario, index: usize, at: Duration) -> u32 {
    let c = &s.consumers[index];
    s.timeline
        .iter()
        .filter(|t| t.at <= at)
        .filter_map(|t| match &t.action {
            TimelineAction::SetConcurrency {
                consumer,
                concurrency,
            } if *consumer == c.id => Some((t.at, *concurrency)),
            _ => None,
        })
        // The last of the latest entries: the one the engine applies last.
        .fold(None, |best: Option<(Duration, u32)>, e| match best {
            Some(b) if b.0 > e.0 => Some(b),
            _ => Some(e),
        })
        .map_or(c.concurrency, |e| e.1)
}

/// The scenario as the run stands at `at`: each consumer's concurrency and each producer's rate
/// as in force then.
#[must_use]
pub fn in_force(s: &Scenario, at: Duration) -> Scenario {
    let mut view = s.clone();
    for i in 0..view.consumers.len() {
        view.consumers[i].concurrency = concurrency_at(s, i, at);
    }
    for p in &mut view.producers {
        p.rate = super::breaks::rate_at(p, at);
    }
    view
}

/// The file for an edit of `view` (what [`in_force`] showed at `at`) into `edited`: a changed
/// consumer concurrency or producer rate goes back to the file's value in `base` and becomes an
/// entry at `at` (replacing that component's entries from `at` on). Every other change is kept
/// as it is. Returns the scenario and how many entries were written.
#[must_use]
pub fn as_entries(
    base: &Scenario,
    view: &Scenario,
    mut edited: Scenario,
    at: Duration,
) -> (Scenario, usize) {
    let same_shape = |a: &Scenario, b: &Scenario| {
        a.consumers.len() == b.consumers.len()
            && a.producers.len() == b.producers.len()
            && a.consumers
                .iter()
                .zip(&b.consumers)
                .all(|(x, y)| x.id == y.id)
            && a.producers
                .iter()
                .zip(&b.producers)
                .all(|(x, y)| x.id == y.id)
    };
    if !same_shape(base, view) || !same_shape(view, &edited) {
        return (edited, 0);
    }
    let mut written = 0;
    for i in 0..edited.consumers.len() {
        let wanted = edited.consumers[i].concurrency;
        if wanted == view.consumers[i].concurrency {
            edited.consumers[i].concurrency = base.consumers[i].concurrency;
            continue;
        }
        let id = edited.consumers[i].id.clone();
        edited.consumers[i].concurrency = base.consumers[i].concurrency;
        edited.timeline.retain(|t| {
            !(t.at >= at
                && matches!(&t.action, TimelineAction::SetConcurrency { consumer, .. } if *consumer == id))
        });
        edited.timeline.push(TimelineEntry {
            at,
            action: TimelineAction::SetConcurrency {
                consumer: id,
                concurrency: wanted,
            },
        });
        written += 1;
    }
    for i in 0..edited.producers.len() {
        let wanted = edited.producers[i].rate;
        let base_rate = base.producers[i].rate;
        if wanted.to_bits() == view.producers[i].rate.to_bits() {
            edited.producers[i].rate = base_rate;
            continue;
        }
        let p = &mut edited.producers[i];
        p.rate = base_rate;
        p.schedule.retain(|c| c.at < at);
        p.schedule.push(RateChange { at, rate: wanted });
        written += 1;
    }
    (edited, written)
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
    fn an_edit_during_a_run_becomes_entries_at_that_time() {
        let base = fanout();
        let at = Duration::from_secs(60);
        let view = in_force(&base, at);
        assert_eq!(view, base, "nothing scheduled yet: the view is the file");
        let mut edited = view.clone();
        let c = edited
            .consumers
            .iter()
            .position(|c| c.id == "payment")
            .unwrap();
        let old = edited.consumers[c].concurrency;
        edited.consumers[c].concurrency = old + 7;
        edited.producers[0].rate = 99.0;
        edited.name = "renamed".into();
        let (file, n) = as_entries(&base, &view, edited, at);
        assert_eq!(n, 2);
        assert_eq!(
            file.consumers[c].concurrency, old,
            "the file's own value stays"
        );
        assert_eq!(file.producers[0].rate, base.producers[0].rate);
        assert_eq!(file.name, "renamed", "other edits are kept");
        assert_eq!(
            file.timeline.last().unwrap(),
            &TimelineEntry {
                at,
                action: TimelineAction::SetConcurrency {
                    consumer: "payment".into(),
                    concurrency: old + 7
                }
            }
        );
        assert_eq!(
            file.producers[0].schedule.last().unwrap(),
            &RateChange { at, rate: 99.0 }
        );
        assert!(
            crate::scenario::validate(&file)
                .iter()
                .all(|p| p.severity != crate::scenario::Severity::Error)
        );
        // Later, the view shows the values in force; a second edit at the same time replaces
        // the first entry.
        let later = in_force(&file, Duration::from_secs(61));
        assert_eq!(later.consumers[c].concurrency, old + 7);
        assert_eq!(later.producers[0].rate, 99.0);
        let mut again = in_force(&file, at);
        again.consumers[c].concurrency = 3;
        let (file2, n) = as_entries(&file, &in_force(&file, at), again, at);
        assert_eq!(n, 1);
        assert_eq!(file2.timeline.len(), file.timeline.len());
        assert_eq!(in_force(&file2, at).consumers[c].concurrency, 3);
    }

    /// The edited run, rebuilt with its entries, equals a fresh run of the saved file, byte for
    /// byte; and the change shows from `at` on (the payment queue drains faster).
    #[test]
    fn the_saved_file_replays_the_edited_run() {
        let base = fanout();
        let at = Duration::from_secs(60);
        let view = in_force(&base, at);
        let mut edited = view.clone();
        let c = edited
            .consumers
            .iter()
            .position(|c| c.id == "payment")
            .unwrap();
        edited.consumers[c].concurrency = 1;
        let (file, _) = as_entries(&base, &view, edited, at);
        let opts = crate::sim::RunOptions::default();
        let live = crate::sim::run(&file, &opts).unwrap();
        let text = crate::scenario::to_json(&file);
        let saved = crate::scenario::parse(&text, "saved.json")
            .unwrap()
            .scenario;
        let replay = crate::sim::run(&saved, &opts).unwrap();
        let json = |r: &crate::sim::Results| {
            let mut r = r.clone();
            r.engine.wall_seconds = 0.0;
            crate::report::json(&r)
        };
        assert_eq!(json(&live), json(&replay));
        let plain = crate::sim::run(&base, &opts).unwrap();
        assert_ne!(
            json(&live),
            json(&plain),
            "one slot from 60 s changes the run"
        );
    }
}
