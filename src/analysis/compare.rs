//! Comparing two scenarios with common random numbers.
//!
//! A and B run the same N seeds (`--seed`, else A's seed, then +1, +2, … as in
//! [`super::replicate`]). Each component's random stream is derived from the seed and the
//! component's id, so the components A and B share draw the same numbers in replicate i: the
//! difference B − A of replicate i is mostly the effect of the change, not noise. The figure
//! reported is the mean of the paired differences with its 95 % confidence interval
//! ([`super::stats::paired_difference`]), usually far narrower than A's and B's own intervals.

use serde_json::{Map, Value};

use super::figures::{Samples, difference, estimate_json, name};
use std::sync::atomic::AtomicBool;

use super::replicate::{run_jobs_cancellable, seeds};
use super::stats::Estimate;
use crate::model::Scenario;
use crate::sim::RunOptions;

/// One figure in both scenarios.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    /// The figure's name (see [`super::figures`]).
    pub name: String,
    /// Its estimate in A (`None` if A does not have it).
    pub a: Option<Estimate>,
    /// Its estimate in B.
    pub b: Option<Estimate>,
    /// The paired difference B − A; `None` unless both have it in every replicate.
    pub b_minus_a: Option<Estimate>,
}

impl CompareRow {
    /// Whether the 95 % interval of B − A excludes 0 (a difference the replications can
    /// tell from noise).
    #[must_use]
    pub fn significant(&self) -> bool {
        self.b_minus_a
            .and_then(|d| d.interval())
            .is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// The comparison of A and B.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// A's scenario name.
    pub a: String,
    /// B's scenario name.
    pub b: String,
    /// The seeds both ran, in order.
    pub seeds: Vec<u64>,
    /// Every figure of A, then those only B has.
    pub rows: Vec<CompareRow>,
    /// Runs a guard stopped (`A seed N: …`, then B's): their figures are partial.
    pub stops: Vec<String>,
}

impl Comparison {
    /// The row of figure `name` (the `nodes.` prefix may be omitted).
    #[must_use]
    pub fn row(&self, name: &str) -> Option<&CompareRow> {
        let full = format!("nodes.{name}");
        self.rows.iter().find(|r| r.name == name || r.name == full)
    }

    /// The JSON output of `eventflow compare --json`: each figure as
    /// `{"a": {mean, ci95}, "b": {mean, ci95}, "b_minus_a": {mean, ci95}}`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let n = self.seeds.len();
        let est = |e: &Option<Estimate>| e.as_ref().map_or(Value::Null, |e| estimate_json(e, n));
        let figures: Map<String, Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("a".into(), est(&r.a));
                m.insert("b".into(), est(&r.b));
                m.insert("b_minus_a".into(), est(&r.b_minus_a));
                (r.name.clone(), Value::Object(m))
            })
            .collect();
        let mut out = Map::new();
        out.insert("a".into(), Value::from(self.a.clone()));
        out.insert("b".into(), Value::from(self.b.clone()));
        out.insert("replications".into(), Value::from(n));
        out.insert("seeds".into(), Value::from(self.seeds.clone()));
        out.insert("figures".into(), Value::Object(figures));
        Value::Object(out)
    }
}

/// Runs A and B under the same `replications` seeds (all 2N runs in parallel) and pairs their
/// figures.
///
/// # Errors
/// `replications` = 0, or the first failing run's message (naming A or B).
pub fn compare(
    a: &Scenario,
    b: &Scenario,
    opts: &RunOptions,
    replications: u32,
) -> Result<Comparison, String> {
    let never = AtomicBool::new(false);
    compare_cancellable(a, b, opts, replications, &|| {}, &never)
        .and_then(|c| c.ok_or_else(|| "cancelled".to_owned()))
}

/// [`compare`] with `done` called after each of the 2N runs and a `cancelled` flag that stops
/// it (`Ok(None)`), for the app's dialog: the same runs, paired by the same code.
///
/// # Errors
/// As [`compare`].
pub fn compare_cancellable(
    a: &Scenario,
    b: &Scenario,
    opts: &RunOptions,
    replications: u32,
    done: &(dyn Fn() + Sync),
    cancelled: &AtomicBool,
) -> Result<Option<Comparison>, String> {
    if replications == 0 {
        return Err("replications must be at least 1".into());
    }
    let seeds = seeds(opts.seed.unwrap_or(a.seed), replications);
    let mut jobs: Vec<(&Scenario, u64)> = seeds.iter().map(|s| (a, *s)).collect();
    jobs.extend(seeds.iter().map(|s| (b, *s)));
    let Some(mut runs) = run_jobs_cancellable(&jobs, opts, done, cancelled)? else {
        return Ok(None);
    };
    let runs_b = runs.split_off(seeds.len());
    let sa = Samples::from_runs(&runs);
    let sb = Samples::from_runs(&runs_b);
    Ok(Some(Comparison {
        a: a.name.clone(),
        b: b.name.clone(),
        seeds,
        rows: pair(&sa, &sb),
        stops: (sa.stops.iter().map(|s| format!("A {s}")))
            .chain(sb.stops.iter().map(|s| format!("B {s}")))
            .collect(),
    }))
}

/// The rows for every figure of A, then those only B has.
#[must_use]
pub fn pair(a: &Samples, b: &Samples) -> Vec<CompareRow> {
    let index_b: std::collections::BTreeMap<&[String], usize> = b
        .paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_slice(), i))
        .collect();
    let mut in_a = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    for (ia, path) in a.paths.iter().enumerate() {
        in_a.insert(path.as_slice());
        let ib = index_b.get(path.as_slice()).copied();
        rows.push(CompareRow {
            name: name(path),
            a: a.estimate(ia),
            b: ib.and_then(|i| b.estimate(i)),
            b_minus_a: ib.and_then(|i| difference(a, ia, b, i)),
        });
    }
    for (ib, path) in b.paths.iter().enumerate() {
        if !in_a.contains(path.as_slice()) {
            rows.push(CompareRow {
                name: name(path),
                a: None,
                b: b.estimate(ib),
                b_minus_a: None,
            });
        }
    }
    rows
}
