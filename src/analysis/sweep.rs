//! Sweeps: run every variant of a scenario over a grid of field values and tabulate figures.
//!
//! `--set consumers.inventory.concurrency=4,6,8,12` names a numeric field of the scenario by its
//! path and the values to try; several `--set`s make a grid (the first varies slowest). A path
//! walks the scenario's JSON: object keys by name, array elements by their `id` (or by index),
//! so `consumers.inventory.concurrency`, `producers.checkout.rate`,
//! `streams.orders-stream.partitions`, `consumers.inventory.service_time.exponential.mean`
//! and `duration` all work; ids that contain dots (`payments.fifo`) are matched whole. A value is
//! a number or, for a duration field, a duration (`80ms`). A missing optional field (such as a
//! consumer's `batch_size`) may be set; the variant is then validated as if loaded from a file,
//! so a value out of range is reported like a bad file.
//!
//! Every (variant, replicate) pair runs in parallel; replicate i of every variant uses the same
//! seed (common random numbers, as in [`super::compare`]), so neighbouring variants differ mostly
//! by the change itself. A sweep streams: variants run in batches and each is reduced to the
//! estimates of the chosen figures at once, so memory does not grow with the number of runs. The
//! grid may be split over machines ([`super::shard`]); the parts keep their runs' raw figures and
//! [`Sweep::push_variant`] aggregates them in grid order either way.

use serde_json::{Map, Value};

use super::figures::{Samples, estimate_json, run_figures};
use std::sync::atomic::AtomicBool;

use super::replicate::{run_jobs_cancellable, seeds};
use super::report::analyze;
use super::stats::Estimate;
use crate::model::{Duration, Scenario};
use crate::scenario::{self, Severity, did_you_mean};
use crate::sim::{RunOptions, Simulation};

/// Why a `--set` or figure could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    /// Not `PATH=VALUE[,VALUE…]`.
    #[error(
        "--set {arg}: expected PATH=VALUE[,VALUE…], e.g. consumers.inventory.concurrency=4,6,8"
    )]
    Syntax {
        /// The argument given.
        arg: String,
    },
    /// A value that is neither a number nor a duration.
    #[error("--set {path}: `{value}` is not a number or a duration (e.g. 8, 0.5, 80ms)")]
    Value {
        /// The path.
        path: String,
        /// The value given.
        value: String,
    },
    /// The path does not lead to a field.
    #[error("--set {path}: {message}{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Path {
        /// The path given.
        path: String,
        /// What is wrong.
        message: String,
        /// "did you mean …?"
        hint: Option<String>,
    },
    /// The variant is not a valid scenario.
    #[error("{assignments}: {problems}")]
    Invalid {
        /// The assignments that made it, `path=value, …`.
        assignments: String,
        /// The problems found, one per line.
        problems: String,
    },
    /// A figure name that no run reports.
    #[error("{0}")]
    Figure(#[from] super::figures::UnknownFigure),
}

/// One `--set`: a field path and the values to try.
#[derive(Clone, Debug, PartialEq)]
pub struct SetSpec {
    /// The field path, as given.
    pub path: String,
    /// The values, as JSON (numbers, or duration strings).
    pub values: Vec<Value>,
}

impl std::str::FromStr for SetSpec {
    type Err = SweepError;

    fn from_str(arg: &str) -> Result<SetSpec, SweepError> {
        let syntax = || SweepError::Syntax {
            arg: arg.to_owned(),
        };
        let (path, values) = arg.split_once('=').ok_or_else(syntax)?;
        let path = path.trim();
        if path.is_empty() || values.trim().is_empty() {
            return Err(syntax());
        }
        let values = values
            .split(',')
            .map(|v| parse_value(path, v.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SetSpec {
            path: path.to_owned(),
            values,
        })
    }
}

fn parse_value(path: &str, v: &str) -> Result<Value, SweepError> {
    if let Ok(x) = v.parse::<i64>() {
        return Ok(Value::from(x));
    }
    if let Ok(x) = v.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(x)
    {
        return Ok(Value::Number(n));
    }
    if !v.is_empty() && Duration::parse(v).is_ok() {
        return Ok(Value::from(v));
    }
    Err(SweepError::Value {
        path: path.to_owned(),
        value: v.to_owned(),
    })
}

/// The longest candidate `c` with `rest == c` or `rest` starting with `c.`; returns it and what
/// follows the dot.
fn longest_prefix<'a>(
    rest: &'a str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<(&'a str, &'a str)> {
    candidates
        .filter(|c| {
            rest == *c
                || rest
                    .strip_prefix(*c)
                    .is_some_and(|tail| tail.starts_with('.'))
        })
        .max_by_key(|c| c.len())
        .map(|c| (c, rest.get(c.len() + 1..).unwrap_or("")))
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The numeric (or duration) leaves under `v`, as paths relative to it, for hints.
fn numeric_leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(_) => out.push(prefix.to_owned()),
        Value::String(s) if Duration::parse(s).is_ok() => out.push(prefix.to_owned()),
        Value::Object(m) => {
            for (k, v) in m {
                numeric_leaves(v, &format!("{prefix}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Sets the field at `path` in a scenario's JSON to `value` (see the module documentation).
///
/// # Errors
/// [`SweepError::Path`] naming the path, with a "did you mean" hint, when a key or id does not
/// exist or the field is not numeric.
pub fn apply(root: &mut Value, path: &str, value: &Value) -> Result<(), SweepError> {
    let err = |message: String, hint: Option<String>| SweepError::Path {
        path: path.to_owned(),
        message,
        hint,
    };
    let mut cur = root;
    let mut rest = path.to_owned();
    let mut walked = String::new();
    loop {
        let here = if walked.is_empty() {
            "the scenario".to_owned()
        } else {
            format!("`{walked}`")
        };
        let next = match cur {
            Value::Object(m) => {
                match longest_prefix(&rest, m.keys().map(String::as_str)) {
                    Some((key, tail)) => {
                        let key = key.to_owned();
                        (key, tail.to_owned())
                    }
                    None if !rest.contains('.') => {
                        // A missing leaf: create it; validation rejects a field that does not exist.
                        m.insert(rest.clone(), value.clone());
                        return Ok(());
                    }
                    None => {
                        let segment = rest.split('.').next().unwrap_or(&rest);
                        return Err(err(
                            format!("{here} has no field `{segment}`"),
                            did_you_mean(segment, m.keys().map(String::as_str)),
                        ));
                    }
                }
            }
            Value::Array(items) => {
                let ids: Vec<String> = items
                    .iter()
                    .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                if let Some((id, tail)) = longest_prefix(&rest, ids.iter().map(String::as_str)) {
                    let index = ids.iter().position(|i| i == id).unwrap_or(0);
                    (index.to_string(), tail.to_owned())
                } else {
                    let segment = rest.split('.').next().unwrap_or(&rest);
                    match segment.parse::<usize>() {
                        Ok(i) if i < items.len() => (
                            i.to_string(),
                            rest.get(segment.len() + 1..).unwrap_or("").to_owned(),
                        ),
                        _ => {
                            let hint = did_you_mean(segment, ids.iter().map(String::as_str))
                                .or_else(|| did_you_mean(&rest, ids.iter().map(String::as_str)));
                            return Err(err(
                                format!("{here} has no element with id `{segment}`"),
                                hint,
                            ));
                        }
                    }
                }
            }
            other => {
                return Err(err(
                    format!("{here} is {}, not an object or list", kind_name(other)),
                    None,
                ));
            }
        };
        let (key, tail) = next;
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(&key);
        let child = match cur {
            Value::Object(m) => m.get_mut(&key),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        let Some(child) = child else {
            return Err(err(format!("cannot reach `{key}`"), None));
        };
        if tail.is_empty() {
            let numeric = match &*child {
                Value::Number(_) => true,
                Value::String(s) => Duration::parse(s).is_ok(),
                _ => false,
            };
            if !numeric {
                let mut leaves = Vec::new();
                numeric_leaves(child, path, &mut leaves);
                let hint = leaves.first().map(|l| format!("did you mean `{l}`?"));
                return Err(err(
                    format!("is {}, not a numeric field", kind_name(child)),
                    hint,
                ));
            }
            *child = value.clone();
            return Ok(());
        }
        cur = child;
        rest = tail;
    }
}

/// One point of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// (path, value) per `--set`, in order.
    pub assignments: Vec<(String, Value)>,
    /// The scenario with them applied and validated.
    pub scenario: Scenario,
}

/// `path=value, …` for messages and labels.
#[must_use]
pub fn label(assignments: &[(String, Value)]) -> String {
    assignments
        .iter()
        .map(|(p, v)| format!("{p}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as typed (`8`, `0.5`, `80ms`).
#[must_use]
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every variant of the grid, first `--set` slowest, each applied to `base` and validated.
///
/// # Errors
/// The first bad path, or the first variant that is not a valid scenario.
pub fn variants(base: &Scenario, sets: &[SetSpec]) -> Result<Vec<Variant>, SweepError> {
    let root = serde_json::to_value(base).map_err(|e| SweepError::Invalid {
        assignments: String::new(),
        problems: e.to_string(),
    })?;
    let mut grid: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for set in sets {
        grid = grid
            .into_iter()
            .flat_map(|prefix| {
                set.values.iter().map(move |v| {
                    let mut a = prefix.clone();
                    a.push((set.path.clone(), v.clone()));
                    a
                })
            })
            .collect();
    }
    grid.into_iter()
        .map(|assignments| {
            let mut value = root.clone();
            for (path, v) in &assignments {
                apply(&mut value, path, v)?;
            }
            let loaded = scenario::from_value(value).map_err(|problems| SweepError::Invalid {
                assignments: format!("--set {}", label(&assignments)),
                problems: problems
                    .iter()
                    .filter(|p| p.severity == Severity::Error)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  "),
            })?;
            Ok(Variant {
                assignments,
                scenario: loaded.scenario,
            })
        })
        .collect()
}

/// Figures that may be absent at the start of a run but appear later (checked by their last key).
const LATE_FIGURES: [&str; 12] = [
    "retry_amplification",
    "goodput",
    "lag",
    "lag_s",
    "emitted",
    "circuit_breaker_transitions",
    "peak_arrival_rate",
    "peak_backlog_growth_per_s",
    "backlog_end",
    "drain_time_end_s",
    "drain_time_peak_s",
    "throttle_probability",
];

/// Checks figure names against what a run of `scenario` reports, before any work starts, and
/// returns them in canonical form (full names).
///
/// # Errors
/// [`SweepError::Figure`] with a "did you mean" hint for an unknown name.
pub fn check_figures(scenario: &Scenario, names: &[String]) -> Result<Vec<String>, SweepError> {
    // The figures of the run at time 0 have every node and every field that is always present.
    let probe =
        Simulation::new(scenario, &RunOptions::default()).map_err(|e| SweepError::Invalid {
            assignments: scenario.name.clone(),
            problems: e,
        })?;
    let results = probe.summary();
    let figures = run_figures(&results, Some(&analyze(scenario, &results)));
    let samples = Samples::from_runs(&[figures]);
    let all: Vec<String> = samples
        .paths
        .iter()
        .map(|p| super::figures::name(p))
        .collect();
    names
        .iter()
        .map(|n| match samples.find(n) {
            Ok(i) => Ok(all[i].clone()),
            Err(unknown) => {
                let full = if n.starts_with("nodes.")
                    || n.starts_with("analysis.")
                    || n.starts_with("end_to_end.")
                    || n.starts_with("conservation.")
                {
                    n.clone()
                } else {
                    format!("nodes.{n}")
                };
                let late = full.rsplit_once('.').is_some_and(|(parent, last)| {
                    (LATE_FIGURES.contains(&last) || parent.contains("dead_letter_reasons"))
                        && all.iter().any(|a| a.starts_with(&format!("{parent}.")))
                }) || full.split_once(".dead_letter_reasons.").is_some_and(
                    |(node, _)| all.iter().any(|a| a.starts_with(&format!("{node}."))),
                );
                if late { Ok(full) } else { Err(unknown.into()) }
            }
        })
        .collect()
}

/// The figures a sweep shows when none are chosen: for each consumer a `--set` touches (every
/// consumer if none), its utilization, mean and p99 wait and the predicted mean wait; then the
/// end-to-end p99 latency.
#[must_use]
pub fn default_figures(scenario: &Scenario, sets: &[SetSpec]) -> Vec<String> {
    let touched: Vec<&str> = scenario
        .consumers
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| {
            sets.iter().any(|s| {
                s.path
                    .strip_prefix("consumers.")
                    .and_then(|rest| rest.strip_prefix(id))
                    .is_some_and(|t| t.is_empty() || t.starts_with('.'))
            })
        })
        .collect();
    let consumers: Vec<&str> = if touched.is_empty() {
        scenario.consumers.iter().map(|c| c.id.as_str()).collect()
    } else {
        touched
    };
    let mut out = Vec::new();
    for id in consumers {
        out.push(format!("nodes.{id}.utilization"));
        out.push(format!("nodes.{id}.wait_s.mean"));
        out.push(format!("nodes.{id}.wait_s.p99"));
        out.push(format!("analysis.capacity.{id}.predicted.wq_s"));
    }
    out.push("end_to_end.latency_s.p99".into());
    out
}

/// A variant's `--set` values: (path, value) in `--set` order.
pub type Assignments = Vec<(String, Value)>;

/// The most runs whose figures a sweep holds at once: variants run in batches of about this many
/// runs (whole variants, so at least one variant's replications), each batch reduced to its rows
/// before the next starts. A sweep's memory is one batch plus its rows, however many runs it has.
pub const BATCH_RUNS: usize = 512;

/// The most "run stopped" lines a sweep keeps; the rest are counted ([`Sweep::stopped`]).
pub const MAX_STOPS_KEPT: usize = 100;

/// The result of a sweep: per variant its assignments and the estimates of the chosen figures.
/// Built variant by variant ([`Sweep::push_variant`]) so a sweep streams: no run's figures are
/// kept once its variant is summarised.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// Scenario name.
    pub scenario: String,
    /// The `--set` paths, in order.
    pub paths: Vec<String>,
    /// The seeds every variant ran.
    pub seeds: Vec<u64>,
    /// The figures summarised, in order.
    pub figures: Vec<String>,
    /// Per variant: its assignments and each figure's estimate (`None`: the variant lacks it).
    pub variants: Vec<(Assignments, Vec<Option<Estimate>>)>,
    /// Why runs were stopped by a guard (`seed N: …`), the first [`MAX_STOPS_KEPT`] in grid order.
    pub stops: Vec<String>,
    /// How many runs a guard stopped in all.
    pub stopped: usize,
}

impl Sweep {
    /// An empty sweep of `figures`, to [`push_variant`](Self::push_variant) into.
    #[must_use]
    pub fn new(scenario: String, paths: Vec<String>, seeds: Vec<u64>, figures: &[String]) -> Sweep {
        Sweep {
            scenario,
            paths,
            seeds,
            figures: figures.to_vec(),
            variants: Vec::new(),
            stops: Vec::new(),
            stopped: 0,
        }
    }

    /// Summarises one variant's runs (figures objects of [`super::replicate::run_one`], in seed
    /// order) into its row. The one place sweep figures are aggregated: `eventflow sweep` and
    /// `eventflow merge` of its shards both come here, so they sum in the same order.
    pub fn push_variant(&mut self, assignments: Vec<(String, Value)>, runs: &[Value]) {
        let samples = Samples::from_runs(runs);
        let estimates = self
            .figures
            .iter()
            .map(|f| samples.find(f).ok().and_then(|i| samples.estimate(i)))
            .collect();
        self.stopped += samples.stops.len();
        let room = MAX_STOPS_KEPT.saturating_sub(self.stops.len());
        self.stops.extend(samples.stops.into_iter().take(room));
        self.variants.push((assignments, estimates));
    }

    /// Summarises the figures objects of every run, given in grid order ([`jobs`]):
    /// `seeds.len()` runs per variant, variant by variant (a merge of shards' parts).
    #[must_use]
    pub fn from_runs(
        scenario: String,
        paths: Vec<String>,
        seeds: Vec<u64>,
        assignments: Vec<Vec<(String, Value)>>,
        runs: &[Value],
        figures: &[String],
    ) -> Sweep {
        let per = seeds.len().max(1);
        let mut out = Sweep::new(scenario, paths, seeds, figures);
        for (a, runs) in assignments.into_iter().zip(runs.chunks(per)) {
            out.push_variant(a, runs);
        }
        out
    }

    /// The estimate of figure `name` for variant `v` (`None` if that variant lacks it, or the
    /// figure was not summarised).
    #[must_use]
    pub fn estimate(&self, v: usize, name: &str) -> Option<Estimate> {
        let full = format!("nodes.{name}");
        let i = self.figures.iter().position(|f| *f == name || *f == full)?;
        self.variants.get(v)?.1.get(i).copied().flatten()
    }

    /// The JSON output of `eventflow sweep --json`: per variant its values and the chosen
    /// figures as `{"mean": m, "ci95": h}` (null when a variant lacks one).
    #[must_use]
    pub fn to_json(&self, figures: &[String]) -> Value {
        let n = self.seeds.len();
        let variants: Vec<Value> = (0..self.variants.len())
            .map(|v| {
                let (assignments, _) = &self.variants[v];
                let set: Map<String, Value> = assignments.iter().cloned().collect();
                let figs: Map<String, Value> = figures
                    .iter()
                    .map(|f| {
                        let e = self.estimate(v, f);
                        (f.clone(), e.map_or(Value::Null, |e| estimate_json(&e, n)))
                    })
                    .collect();
                let mut m = Map::new();
                m.insert("set".into(), Value::Object(set));
                m.insert("figures".into(), Value::Object(figs));
                Value::Object(m)
            })
            .collect();
        let mut out = Map::new();
        out.insert("scenario".into(), Value::from(self.scenario.clone()));
        out.insert("replications".into(), Value::from(n));
        out.insert("seeds".into(), Value::from(self.seeds.clone()));
        out.insert("set".into(), Value::from(self.paths.clone()));
        out.insert("figures".into(), Value::from(figures.to_vec()));
        out.insert("variants".into(), Value::Array(variants));
        Value::Object(out)
    }
}

/// Runs every variant `replications` times (seeds from `opts.seed`, else the base scenario's)
/// and summarises `figures`, streaming: variants run in batches of about [`BATCH_RUNS`] runs,
/// the runs of a batch in parallel, each batch reduced to its rows before the next starts.
/// `progress(done, total)` is called after each run.
///
/// # Errors
/// `replications` = 0, or the first failing run's message in grid order.
#[allow(clippy::too_many_arguments, reason = "the sweep's inputs, each needed")]
pub fn sweep(
    base: &Scenario,
    paths: Vec<String>,
    variants: &[Variant],
    opts: &RunOptions,
    replications: u32,
    figures: &[String],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Sweep, String> {
    let never = AtomicBool::new(false);
    sweep_in_batches(
        base,
        paths,
        variants,
        opts,
        replications,
        figures,
        progress,
        BATCH_RUNS,
        &never,
    )
    .and_then(|r| r.ok_or_else(|| "cancelled".to_owned()))
    .map(|(s, _)| s)
}

/// [`sweep`] with a `cancelled` flag that stops it between runs (`Ok(None)`), for the app's
/// dialog: the same runs, summarised by the same code.
///
/// # Errors
/// As [`sweep`].
#[allow(clippy::too_many_arguments, reason = "the sweep's inputs, each needed")]
pub fn sweep_cancellable(
    base: &Scenario,
    paths: Vec<String>,
    variants: &[Variant],
    opts: &RunOptions,
    replications: u32,
    figures: &[String],
    progress: &(dyn Fn(usize, usize) + Sync),
    cancelled: &AtomicBool,
) -> Result<Option<Sweep>, String> {
    sweep_in_batches(
        base,
        paths,
        variants,
        opts,
        replications,
        figures,
        progress,
        BATCH_RUNS,
        cancelled,
    )
    .map(|r| r.map(|(s, _)| s))
}

/// [`sweep`] with batches of about `batch_runs` runs; also returns the most runs' figures held
/// at once.
#[allow(clippy::too_many_arguments, reason = "the sweep's inputs, each needed")]
fn sweep_in_batches(
    base: &Scenario,
    paths: Vec<String>,
    variants: &[Variant],
    opts: &RunOptions,
    replications: u32,
    figures: &[String],
    progress: &(dyn Fn(usize, usize) + Sync),
    batch_runs: usize,
    cancelled: &AtomicBool,
) -> Result<Option<(Sweep, usize)>, String> {
    if replications == 0 {
        return Err("replications must be at least 1".into());
    }
    let seeds = seeds(opts.seed.unwrap_or(base.seed), replications);
    let per = seeds.len();
    let total = variants.len() * per;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = || {
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(d, total);
    };
    let mut out = Sweep::new(base.name.clone(), paths, seeds.clone(), figures);
    let mut held = 0;
    for batch in variants.chunks((batch_runs / per).max(1)) {
        let Some(runs) = run_jobs_cancellable(&jobs(batch, &seeds), opts, &tick, cancelled)? else {
            return Ok(None);
        };
        held = held.max(runs.len());
        for (v, runs) in batch.iter().zip(runs.chunks(per)) {
            out.push_variant(v.assignments.clone(), runs);
        }
    }
    Ok(Some((out, held)))
}

/// The runs of a sweep, in grid order: variant-major, so run `v × R + r` is variant `v` under
/// seed `seeds[r]`. [`sweep`] runs them all; a shard ([`super::shard`]) runs a slice.
#[must_use]
pub fn jobs<'a>(variants: &'a [Variant], seeds: &[u64]) -> Vec<(&'a Scenario, u64)> {
    variants
        .iter()
        .flat_map(|v| seeds.iter().map(move |s| (&v.scenario, *s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::replicate::run_jobs;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "name": "t", "duration": "10s",
            "producers": [ { "id": "p", "to": "payments.fifo", "rate": 5 } ],
            "queues": [ { "id": "payments.fifo", "type": "fifo" } ],
            "consumers": [ { "id": "inventory", "from": "payments.fifo", "concurrency": 2,
                             "service_time": { "exponential": { "mean": "80ms" } } } ]
        })
    }

    #[test]
    fn set_specs_parse() {
        let s: SetSpec = "consumers.inventory.concurrency=4, 6,8".parse().unwrap();
        assert_eq!(s.values, vec![json!(4), json!(6), json!(8)]);
        let s: SetSpec = "x=0.5,80ms".parse().unwrap();
        assert_eq!(s.values, vec![json!(0.5), json!("80ms")]);
        assert!(matches!(
            "x".parse::<SetSpec>(),
            Err(SweepError::Syntax { .. })
        ));
        assert!(matches!(
            "x=".parse::<SetSpec>(),
            Err(SweepError::Syntax { .. })
        ));
        assert!(matches!(
            "x=abc".parse::<SetSpec>(),
            Err(SweepError::Value { .. })
        ));
    }

    #[test]
    fn paths_walk_ids_with_dots_and_suggest() {
        let mut v = base();
        apply(&mut v, "consumers.inventory.concurrency", &json!(8)).unwrap();
        assert_eq!(v["consumers"][0]["concurrency"], 8);
        apply(
            &mut v,
            "consumers.0.service_time.exponential.mean",
            &json!("50ms"),
        )
        .unwrap();
        assert_eq!(
            v["consumers"][0]["service_time"]["exponential"]["mean"],
            "50ms"
        );
        apply(&mut v, "producers.p.rate", &json!(7.5)).unwrap();
        apply(&mut v, "duration", &json!(20)).unwrap();
        // A missing optional leaf is created (validation decides whether it exists).
        apply(&mut v, "queues.payments.fifo.capacity", &json!(100)).unwrap();
        assert_eq!(v["queues"][0]["capacity"], 100);

        let e = apply(&mut v, "consumers.inventroy.concurrency", &json!(1)).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("consumers.inventroy.concurrency"), "{text}");
        assert!(text.contains("did you mean `inventory`?"), "{text}");
        let e = apply(&mut v, "consumer.inventory.concurrency", &json!(1)).unwrap_err();
        assert!(e.to_string().contains("did you mean `consumers`?"), "{e}");
        let e = apply(&mut v, "consumers.inventory.service_time", &json!(1)).unwrap_err();
        assert!(
            e.to_string()
                .contains("did you mean `consumers.inventory.service_time.exponential.mean`?"),
            "{e}"
        );
    }

    #[test]
    fn grid_order_and_validation() {
        let s = crate::scenario::from_value(base()).unwrap().scenario;
        let sets: Vec<SetSpec> = vec![
            "consumers.inventory.concurrency=1,2".parse().unwrap(),
            "producers.p.rate=3,4,5".parse().unwrap(),
        ];
        let v = variants(&s, &sets).unwrap();
        assert_eq!(v.len(), 6);
        assert_eq!(
            label(&v[1].assignments),
            "consumers.inventory.concurrency=1, producers.p.rate=4"
        );
        assert_eq!(v[4].scenario.consumers[0].concurrency, 2);
        assert_eq!(v[4].scenario.producers[0].rate, 4.0);
        // A value the scenario rejects: reported with the assignment, never a panic.
        let bad: Vec<SetSpec> = vec!["consumers.inventory.concurrency=0".parse().unwrap()];
        let e = variants(&s, &bad).unwrap_err().to_string();
        assert!(e.contains("--set consumers.inventory.concurrency=0"), "{e}");
        // An unknown leaf is caught by validation.
        let bad: Vec<SetSpec> = vec!["consumers.inventory.concurency=3".parse().unwrap()];
        assert!(variants(&s, &bad).is_err());
    }

    #[test]
    fn figure_names_are_checked_before_running() {
        let s = crate::scenario::from_value(base()).unwrap().scenario;
        let ok = check_figures(
            &s,
            &[
                "inventory.wait_s.p99".into(),
                "analysis.capacity.inventory.predicted.wq_s".into(),
                "inventory.retry_amplification".into(),
                "end_to_end.latency_s.p99".into(),
            ],
        )
        .unwrap();
        assert_eq!(ok[0], "nodes.inventory.wait_s.p99");
        let e = check_figures(&s, &["inventory.wait_s.p999".into()]).unwrap_err();
        assert!(
            e.to_string()
                .contains("did you mean `inventory.wait_s.p99`?"),
            "{e}"
        );
    }

    #[test]
    fn a_sweep_streams_in_batches_and_sums_as_a_merge_does() {
        let s = crate::scenario::from_value(base()).unwrap().scenario;
        let sets: Vec<SetSpec> = vec![
            "consumers.inventory.concurrency=1,2,3,4,5,6"
                .parse()
                .unwrap(),
        ];
        let grid = variants(&s, &sets).unwrap();
        let figures = check_figures(
            &s,
            &[
                "inventory.wait_s.mean".into(),
                "inventory.utilization".into(),
            ],
        )
        .unwrap();
        let opts = RunOptions::default();
        let paths = vec!["consumers.inventory.concurrency".to_owned()];
        // 6 variants × 3 replications in batches of about 6 runs: two variants at a time.
        let (streamed, held) = sweep_in_batches(
            &s,
            paths.clone(),
            &grid,
            &opts,
            3,
            &figures,
            &|_, _| {},
            6,
            &AtomicBool::new(false),
        )
        .unwrap()
        .unwrap();
        assert_eq!(held, 6, "at most one batch of runs held, not all 18");
        // A batch smaller than one variant's replications still holds whole variants.
        let (one, held) = sweep_in_batches(
            &s,
            paths.clone(),
            &grid,
            &opts,
            3,
            &figures,
            &|_, _| {},
            1,
            &AtomicBool::new(false),
        )
        .unwrap()
        .unwrap();
        assert_eq!(held, 3);
        // Everything at once (as `merge` of shards' parts sums) gives the same sweep.
        let seeds = seeds(s.seed, 3);
        let runs = run_jobs(&jobs(&grid, &seeds), &opts, &|| {}).unwrap();
        let whole = Sweep::from_runs(
            s.name.clone(),
            paths,
            seeds,
            grid.iter().map(|v| v.assignments.clone()).collect(),
            &runs,
            &figures,
        );
        assert_eq!(streamed, whole);
        assert_eq!(one, whole);
        assert_eq!(whole.variants.len(), 6);
        // Utilization falls as concurrency grows (the same load over more servers).
        let u: Vec<f64> = (0..6)
            .map(|v| whole.estimate(v, &figures[1]).unwrap().mean)
            .collect();
        assert!(u.windows(2).all(|w| w[1] < w[0]), "{u:?}");
    }
}
