//! Independent replications: the same scenario under N seeds, run in parallel, summarised as
//! each figure's mean with a 95 % confidence interval.
//!
//! Replicate i (0-based) runs with seed `base + i` (wrapping), where `base` is `--seed` or the
//! scenario's `seed`; so replicate 0 is the single run `eventflow run` would do, and a run with
//! more replications extends a run with fewer. Every component draws from its own stream derived
//! from the seed and its id, so two scenarios run with the same seeds share their random numbers
//! wherever they share components: that is what [`crate::analysis::compare`] relies on.
//!
//! Runs go to rayon's thread pool and are collected in replicate order, and each run is
//! deterministic, so the output is the same whatever the number of threads. The runs may also
//! be split over machines ([`super::shard`]): each part keeps its runs' raw figures, and
//! [`Replicated::from_runs`] aggregates them in replicate order either way.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde_json::{Map, Value};

use super::figures::{Samples, run_figures};
use super::report::analyze;
use crate::model::Scenario;
use crate::sim::{RunOptions, Simulation};

/// The seeds of `replications` replicates from `base`: base, base + 1, … (wrapping).
#[must_use]
pub fn seeds(base: u64, replications: u32) -> Vec<u64> {
    (0..replications)
        .map(|i| base.wrapping_add(u64::from(i)))
        .collect()
}

/// One run's figures ([`run_figures`], analysis included) under `seed`. Skips building the time
/// series, which replicated figures do not use.
///
/// A run that a guard stopped (the loop or memory guard) still gives its figures, with
/// `"stopped": "seed N: at T s: reason"` beside them ([`super::figures::STOPPED`]), so every
/// command reports a stop the same way: the figures, the stop, exit 2.
///
/// # Errors
/// The engine's message if the scenario cannot be compiled.
pub fn run_one(scenario: &Scenario, opts: &RunOptions, seed: u64) -> Result<Value, String> {
    let opts = RunOptions {
        seed: Some(seed),
        ..opts.clone()
    };
    let mut sim = Simulation::new(scenario, &opts)?;
    sim.run_to_end();
    let results = sim.summary();
    let analysis = analyze(sim.scenario(), &results);
    let mut figures = run_figures(&results, Some(&analysis));
    if let Some(stop) = &results.engine.stopped
        && let Value::Object(m) = &mut figures
    {
        m.insert(
            super::figures::STOPPED.into(),
            Value::from(format!(
                "seed {seed}: stopped at {:.3} s: {stop}",
                results.engine.simulated_s
            )),
        );
    }
    Ok(figures)
}

/// Runs every (scenario, seed) job in parallel and returns their figures in job order, calling
/// `done` after each job (from whichever thread ran it; for a progress bar).
///
/// # Errors
/// The message of the first failing job in job order (not in finishing order), prefixed with
/// its seed.
pub fn run_jobs(
    jobs: &[(&Scenario, u64)],
    opts: &RunOptions,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Value>, String> {
    let never = AtomicBool::new(false);
    run_jobs_cancellable(jobs, opts, done, &never).map(Option::unwrap_or_default)
}

/// [`run_jobs`] that the caller can stop: a job not yet started when `cancelled` is set is
/// skipped, and the call returns `Ok(None)` (the app's Cancel button). Runs that finish are
/// the same runs [`run_jobs`] does, so an uncancelled call gives its figures exactly.
///
/// # Errors
/// As [`run_jobs`].
pub fn run_jobs_cancellable(
    jobs: &[(&Scenario, u64)],
    opts: &RunOptions,
    done: &(dyn Fn() + Sync),
    cancelled: &AtomicBool,
) -> Result<Option<Vec<Value>>, String> {
    let results: Vec<Option<Result<Value, String>>> = jobs
        .par_iter()
        .map(|(scenario, seed)| {
            if cancelled.load(Ordering::Relaxed) {
                return None;
            }
            let r = run_one(scenario, opts, *seed);
            done();
            Some(r)
        })
        .collect();
    if cancelled.load(Ordering::Relaxed) || results.iter().any(Option::is_none) {
        return Ok(None);
    }
    results
        .into_iter()
        .flatten()
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The summary of N replications.
#[derive(Clone, Debug, PartialEq)]
pub struct Replicated {
    /// Scenario name.
    pub scenario: String,
    /// The seed of each replicate, in order.
    pub seeds: Vec<u64>,
    /// Run length, seconds.
    pub duration_s: f64,
    /// Warm-up, seconds.
    pub warmup_s: f64,
    /// Every figure of every replicate.
    pub samples: Samples,
}

impl Replicated {
    /// Summarises the figures objects of the replicates ([`run_one`]), given in replicate
    /// order. The one place replicated figures are aggregated: `eventflow run --replications`
    /// and `eventflow merge` of its shards both come here, so they sum in the same order.
    #[must_use]
    pub fn from_runs(
        scenario: String,
        seeds: Vec<u64>,
        duration_s: f64,
        warmup_s: f64,
        runs: &[Value],
    ) -> Replicated {
        Replicated {
            scenario,
            seeds,
            duration_s,
            warmup_s,
            samples: Samples::from_runs(runs),
        }
    }

    /// Number of replicates.
    #[must_use]
    pub fn replications(&self) -> usize {
        self.seeds.len()
    }

    /// The mean and 95 % interval of the figure called `name`, if it exists.
    #[must_use]
    pub fn estimate(&self, name: &str) -> Option<super::stats::Estimate> {
        self.samples
            .find(name)
            .ok()
            .and_then(|i| self.samples.estimate(i))
    }

    /// The JSON output of `eventflow run --replications N --json`: the results object's shape,
    /// every figure as `{"mean": m, "ci95": h}`, plus `replications` and `seeds`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("scenario".into(), Value::from(self.scenario.clone()));
        out.insert("replications".into(), Value::from(self.seeds.len()));
        out.insert("seeds".into(), Value::from(self.seeds.clone()));
        out.insert("duration_s".into(), Value::from(self.duration_s));
        out.insert("warmup_s".into(), Value::from(self.warmup_s));
        if let Value::Object(figures) = self.samples.to_json() {
            out.extend(figures);
        }
        Value::Object(out)
    }
}

/// Runs `replications` independent replicates of `scenario` in parallel (seeds from
/// `opts.seed`, else the scenario's seed; see the module documentation).
///
/// # Errors
/// `replications` = 0, or the first failing replicate's message.
pub fn replicate(
    scenario: &Scenario,
    opts: &RunOptions,
    replications: u32,
) -> Result<Replicated, String> {
    let never = AtomicBool::new(false);
    replicate_cancellable(scenario, opts, replications, &|| {}, &never)
        .and_then(|r| r.ok_or_else(|| "cancelled".to_owned()))
}

/// [`replicate`] with `done` called after each run and a `cancelled` flag that stops it
/// (`Ok(None)`), for the app's dialog: the same runs, summarised by the same code.
///
/// # Errors
/// As [`replicate`].
pub fn replicate_cancellable(
    scenario: &Scenario,
    opts: &RunOptions,
    replications: u32,
    done: &(dyn Fn() + Sync),
    cancelled: &AtomicBool,
) -> Result<Option<Replicated>, String> {
    if replications == 0 {
        return Err("replications must be at least 1".into());
    }
    let seeds = seeds(opts.seed.unwrap_or(scenario.seed), replications);
    let jobs: Vec<(&Scenario, u64)> = seeds.iter().map(|s| (scenario, *s)).collect();
    let Some(runs) = run_jobs_cancellable(&jobs, opts, done, cancelled)? else {
        return Ok(None);
    };
    let (duration_s, warmup_s) = run_length_s(scenario, opts);
    Ok(Some(Replicated::from_runs(
        scenario.name.clone(),
        seeds,
        duration_s,
        warmup_s,
        &runs,
    )))
}

/// The run length and warm-up, in seconds, that `opts` gives `scenario` (as the replicated
/// output reports them).
#[must_use]
pub fn run_length_s(scenario: &Scenario, opts: &RunOptions) -> (f64, f64) {
    let duration = opts.duration.unwrap_or(scenario.duration);
    (duration.0 as f64 / 1e9, scenario.warmup.0 as f64 / 1e9)
}
