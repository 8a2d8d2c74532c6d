//! Sharding: the runs of a sweep or of a replicated run split into N balanced slices that any
//! scheduler can run anywhere (a Slurm job array, a Kubernetes Indexed Job, GNU parallel, a CI
//! matrix), each slice saved as a *part*, and the parts put back together exactly.
//!
//! ```text
//!   grid (variant × replication), run i = variant × R + replicate
//!        │ deal round-robin: run i → shard (i mod N) + 1
//!        ▼
//!   shard 1/N ─► part-1.json ─┐
//!   shard 2/N ─► part-2.json ─┼─► merge: check, order runs by i ─► Sweep / Replicated::from_runs
//!   …                         │                                     (the unsharded code path)
//!   shard N/N ─► part-N.json ─┘
//! ```
//!
//! **Dealing.** Runs are numbered in the order the unsharded command runs them (variant-major
//! for a sweep: run `v × R + r` is variant `v` under the seed of replicate `r`) and dealt like
//! cards: run `i` belongs to shard `(i mod N) + 1`. Shard sizes therefore differ by at most one,
//! and every shard gets a mix of variants, so a slow variant (high load, long backlog) does not
//! make one shard the straggler. `N` may not exceed the number of runs: no shard is empty.
//!
//! **Exactness.** A part keeps each of its runs' raw figures ([`super::replicate::run_one`]),
//! never means: [`merge`] puts the runs of all parts back in run order, and the caller then
//! aggregates them with the very function the unsharded command uses
//! ([`super::sweep::Sweep::from_runs`], [`super::replicate::Replicated::from_runs`]), so sums
//! are taken in the same order and the output is byte for byte the same, whatever N and
//! whichever machines ran the parts. Seeds are derived as the unsharded command derives them
//! ([`super::replicate::seeds`]); floating-point figures survive the JSON round trip exactly
//! (shortest round-trip printing, and `serde_json`'s `float_roundtrip` parsing).
//!
//! **Refusals.** [`merge`] refuses parts that disagree on anything but their shard index: the
//! eventflow version, the command, the scenario (a fingerprint of its canonical JSON), the
//! settings that change results (seed, duration, buckets, replications, `--set` values, the
//! figures shown), the grid, or the shard count; a missing or duplicated shard; and a part that
//! contradicts itself (runs that are not its shard's). Each refusal names the parts and the
//! field.

use std::fmt::Write as _;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::replicate::run_jobs;
use crate::model::Scenario;
use crate::sim::RunOptions;

/// The part file format this version writes and reads.
pub const PART_FORMAT: &str = "eventflow-part/1";

/// This eventflow's version: written into parts, and the only version whose parts it merges.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a `--shard K/N` cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not `K/N` with whole numbers.
    #[error("--shard {0}: expected K/N, the K-th of N slices, in whole numbers (e.g. 2/8)")]
    Syntax(String),
    /// N = 0.
    #[error("--shard {0}: N, the number of shards, must be at least 1")]
    NoShards(String),
    /// K outside 1..=N.
    #[error("--shard {arg}: K must be between 1 and {count}; shards count from 1")]
    Index {
        /// The argument given.
        arg: String,
        /// N.
        count: usize,
    },
    /// More shards than runs.
    #[error(
        "--shard {index}/{count}: there are only {runs} runs to deal, so N may be at most {runs} (no shard is left empty)"
    )]
    TooMany {
        /// K.
        index: usize,
        /// N.
        count: usize,
        /// The number of runs in the grid.
        runs: usize,
    },
}

/// One slice of the grid: the `index`-th (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// K, from 1.
    pub index: usize,
    /// N.
    pub count: usize,
}

impl Shard {
    /// The whole grid as one shard (`--out` without `--shard`).
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Checks the shard against a grid of `runs` runs.
    ///
    /// # Errors
    /// [`ShardError::TooMany`] when N exceeds the number of runs.
    pub fn check(self, runs: usize) -> Result<Shard, ShardError> {
        if self.count > runs {
            return Err(ShardError::TooMany {
                index: self.index,
                count: self.count,
                runs,
            });
        }
        Ok(self)
    }

    /// The run numbers this shard holds, ascending: `K − 1, K − 1 + N, …` below `runs`.
    #[must_use]
    pub fn runs(self, runs: usize) -> Vec<usize> {
        (self.index.saturating_sub(1)..runs)
            .step_by(self.count.max(1))
            .collect()
    }

    /// How many runs this shard holds: ⌊runs / N⌋, plus one for the first `runs mod N` shards.
    #[must_use]
    pub fn size(self, runs: usize) -> usize {
        let n = self.count.max(1);
        runs / n + usize::from(self.index.saturating_sub(1) < runs % n)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(arg: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(arg.to_owned());
        let (k, n) = arg.split_once('/').ok_or_else(syntax)?;
        let whole = |s: &str| {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse::<usize>().ok()
        };
        let (Some(index), Some(count)) = (whole(k), whole(n)) else {
            return Err(syntax());
        };
        if count == 0 {
            return Err(ShardError::NoShards(arg.to_owned()));
        }
        if index == 0 || index > count {
            return Err(ShardError::Index {
                arg: arg.to_owned(),
                count,
            });
        }
        Ok(Shard { index, count })
    }
}

/// The size of each of `count` shards of `runs` runs, shard 1 first.
#[must_use]
pub fn sizes(runs: usize, count: usize) -> Vec<usize> {
    (1..=count)
        .map(|index| Shard { index, count }.size(runs))
        .collect()
}

/// A fingerprint of a scenario's canonical JSON ([`crate::scenario::to_json`] of the loaded
/// scenario): FNV-1a, 128 bits, in hex. It tells scenarios apart by accident, not by design: it is
/// no defence against a part forged to collide.
#[must_use]
pub fn fingerprint(canonical: &str) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = canonical
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    format!("fnv1a128:{hash:032x}")
}

/// Which unsharded command a part belongs to (and so what `merge` prints).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// `eventflow sweep FILE --set … [--replications R]`.
    Sweep,
    /// `eventflow run FILE --replications R`.
    Run,
}

impl Command {
    /// The command as a user types it.
    #[must_use]
    pub fn usage(self) -> &'static str {
        match self {
            Command::Sweep => "eventflow sweep",
            Command::Run => "eventflow run --replications",
        }
    }
}

/// The scenario a part ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioId {
    /// Its name.
    pub name: String,
    /// [`fingerprint`] of its canonical JSON, before any `--set`.
    pub fingerprint: String,
    /// The file as named on the command line (for people; not compared: machines differ).
    pub file: String,
}

/// One `--set`, as run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetValues {
    /// The field path.
    pub path: String,
    /// The values tried, in order.
    pub values: Vec<Value>,
}

impl std::fmt::Display for SetValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values: Vec<String> = self.values.iter().map(super::sweep::value_text).collect();
        write!(f, "{}={}", self.path, values.join(","))
    }
}

impl From<&super::sweep::SetSpec> for SetValues {
    fn from(s: &super::sweep::SetSpec) -> SetValues {
        SetValues {
            path: s.path.clone(),
            values: s.values.clone(),
        }
    }
}

/// The settings that change what a part holds or what `merge` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The base seed (`--seed`, else the scenario's).
    pub seed: u64,
    /// `--duration`, canonical (`"30s"`), or null for the scenario's own.
    pub duration: Option<String>,
    /// `--buckets` (`run` only), or null.
    pub buckets: Option<u32>,
    /// Replications per variant.
    pub replications: u32,
    /// The `--set`s, in order (`sweep` only).
    pub set: Vec<SetValues>,
    /// The figures shown (`sweep` only): as checked, full names.
    pub figures: Vec<String>,
}

/// The whole grid the shards are cut from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Per variant, its `(path, value)` assignments; `run` has one variant with none.
    pub variants: Vec<Vec<(String, Value)>>,
    /// The seed of each replicate.
    pub seeds: Vec<u64>,
    /// The number of runs: variants × replications.
    pub runs: usize,
    /// The run length, seconds (as the replicated output reports it).
    pub duration_s: f64,
    /// The warm-up, seconds.
    pub warmup_s: f64,
}

impl Grid {
    /// The grid of `variants` × `seeds`.
    #[must_use]
    pub fn new(
        variants: Vec<Vec<(String, Value)>>,
        seeds: Vec<u64>,
        duration_s: f64,
        warmup_s: f64,
    ) -> Grid {
        let runs = variants.len() * seeds.len();
        Grid {
            variants,
            seeds,
            runs,
            duration_s,
            warmup_s,
        }
    }

    /// Run `i`'s variant and replicate.
    #[must_use]
    pub fn position(&self, run: usize) -> (usize, usize) {
        let per = self.seeds.len().max(1);
        (run / per, run % per)
    }
}

/// One run of a part: where it sits in the grid, and its raw figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartRun {
    /// Its number in the grid.
    pub run: usize,
    /// Its variant.
    pub variant: usize,
    /// Its replicate.
    pub replicate: usize,
    /// Its seed.
    pub seed: u64,
    /// Its figures ([`super::replicate::run_one`]).
    pub figures: Value,
}

/// A part file: one shard's runs and everything needed to check and merge them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// [`PART_FORMAT`].
    pub format: String,
    /// The eventflow version that ran it.
    pub eventflow: String,
    /// The unsharded command it is a slice of.
    pub command: Command,
    /// The scenario.
    pub scenario: ScenarioId,
    /// The settings.
    pub settings: Settings,
    /// The whole grid.
    pub grid: Grid,
    /// Which slice.
    pub shard: Shard,
    /// The slice's runs, in run order.
    pub runs: Vec<PartRun>,
}

/// A part without its runs yet: what a shard command knows before running.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The command.
    pub command: Command,
    /// The scenario.
    pub scenario: ScenarioId,
    /// The settings.
    pub settings: Settings,
    /// The grid.
    pub grid: Grid,
}

/// Runs shard `shard` of `jobs` (the grid's runs in run order, as [`super::sweep::jobs`] gives
/// them) in parallel and returns the part. `done` is called after each run.
///
/// # Errors
/// The shard does not fit the grid, the jobs are not the grid's, or a run fails.
pub fn run_shard(
    header: Header,
    shard: Shard,
    jobs: &[(&Scenario, u64)],
    opts: &RunOptions,
    done: &(dyn Fn() + Sync),
) -> Result<Part, String> {
    if jobs.len() != header.grid.runs {
        return Err(format!(
            "the grid has {} runs but {} jobs were given",
            header.grid.runs,
            jobs.len()
        ));
    }
    let shard = shard.check(jobs.len()).map_err(|e| e.to_string())?;
    let mine = shard.runs(jobs.len());
    let selected: Vec<(&Scenario, u64)> = mine.iter().map(|&i| jobs[i]).collect();
    let figures = run_jobs(&selected, opts, done)?;
    let runs = mine
        .iter()
        .zip(figures)
        .map(|(&run, figures)| {
            let (variant, replicate) = header.grid.position(run);
            PartRun {
                run,
                variant,
                replicate,
                seed: jobs[run].1,
                figures,
            }
        })
        .collect();
    Ok(Part {
        format: PART_FORMAT.to_owned(),
        eventflow: VERSION.to_owned(),
        command: header.command,
        scenario: header.scenario,
        settings: header.settings,
        grid: header.grid,
        shard,
        runs,
    })
}

impl Part {
    /// The part as the text of a part file (one JSON object and a final newline).
    ///
    /// # Errors
    /// Serialization failed (it does not for these types).
    pub fn to_text(&self) -> Result<String, String> {
        let mut text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        text.push('\n');
        Ok(text)
    }

    /// Reads a part file's text, checking it is a part of this format and consistent with
    /// itself (its runs are exactly its shard's).
    ///
    /// # Errors
    /// What is wrong, with the JSON path of a bad field.
    pub fn parse(text: &str) -> Result<Part, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rfind(" at line ")
                .map_or(message.as_str(), |i| &message[..i])
                .to_owned();
            format!(
                "not a part file: invalid JSON at line {}, column {}: {message}",
                e.line(),
                e.column()
            )
        })?;
        let format = value.get("format").and_then(Value::as_str);
        match format {
            Some(PART_FORMAT) => {}
            Some(f) if f.starts_with("eventflow-part/") => {
                return Err(format!(
                    "part format `{f}` is not the one eventflow {VERSION} reads (`{PART_FORMAT}`); merge with the eventflow that wrote it"
                ));
            }
            Some(f) if f.starts_with("eventflow/") => {
                return Err(format!(
                    "this is a scenario (format `{f}`), not a part file; parts are written by `eventflow sweep … --out` or `eventflow run … --out`"
                ));
            }
            _ => {
                return Err(
                    "not a part file (no `format: \"eventflow-part/1\"`); parts are written by `eventflow sweep … --out` or `eventflow run … --out`"
                        .to_owned(),
                );
            }
        }
        let part: Part = serde_path_to_error::deserialize(&value).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                format!("not a complete part file: {}", e.inner())
            } else {
                format!("`{path}`: {}", e.inner())
            }
        })?;
        part.check()?;
        Ok(part)
    }

    /// Checks that the part agrees with itself.
    fn check(&self) -> Result<(), String> {
        let g = &self.grid;
        if g.seeds.len() != self.settings.replications as usize {
            return Err(format!(
                "`grid.seeds` has {} seeds but `settings.replications` is {}",
                g.seeds.len(),
                self.settings.replications
            ));
        }
        if g.runs != g.variants.len() * g.seeds.len() || g.runs == 0 {
            return Err(format!(
                "`grid.runs` is {} but the grid has {} variants × {} replications",
                g.runs,
                g.variants.len(),
                g.seeds.len()
            ));
        }
        let s = self.shard;
        if s.count == 0 || s.index == 0 || s.index > s.count {
            return Err(format!(
                "`shard` {s} is not a shard: K must be between 1 and N"
            ));
        }
        if s.count > g.runs {
            return Err(format!(
                "`shard` {s}: more shards than the grid's {} runs",
                g.runs
            ));
        }
        let expected = s.runs(g.runs);
        let held: Vec<usize> = self.runs.iter().map(|r| r.run).collect();
        if held != expected {
            return Err(format!(
                "shard {s} of {} runs should hold runs {} but holds {}",
                g.runs,
                list(&expected),
                list(&held)
            ));
        }
        for (i, r) in self.runs.iter().enumerate() {
            let (variant, replicate) = g.position(r.run);
            if r.variant != variant || r.replicate != replicate || r.seed != g.seeds[replicate] {
                return Err(format!(
                    "`runs[{i}]`: run {} is variant {variant}, replicate {replicate}, seed {}, but the part says variant {}, replicate {}, seed {}",
                    r.run, g.seeds[replicate], r.variant, r.replicate, r.seed
                ));
            }
            if !r.figures.is_object() {
                return Err(format!("`runs[{i}].figures`: expected an object"));
            }
        }
        Ok(())
    }
}

/// `0, 3, 6, …` (at most a few numbers, then the count).
fn list(runs: &[usize]) -> String {
    if runs.is_empty() {
        return "none".to_owned();
    }
    let shown: Vec<String> = runs.iter().take(6).map(ToString::to_string).collect();
    let mut out = shown.join(", ");
    if runs.len() > 6 {
        let _ = write!(out, ", … ({} in all)", runs.len());
    }
    out
}

/// Why parts cannot be merged.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// No parts.
    #[error("no parts to merge")]
    Empty,
    /// A part that contradicts itself.
    #[error("{file}: {message}")]
    Invalid {
        /// The part.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// Two parts disagree on something other than their shard index.
    #[error(
        "cannot merge {file} with {first}: different {field} ({value} in {file}, {first_value} in {first}); every part must come from the same command"
    )]
    Mismatch {
        /// What differs (`seed`, `scenario`, `shard count`, …).
        field: &'static str,
        /// The first part.
        first: String,
        /// Its value.
        first_value: String,
        /// The part that differs.
        file: String,
        /// Its value.
        value: String,
    },
    /// The same shard twice.
    #[error("shard {shard} appears twice: {first} and {second}")]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// The first file holding it.
        first: String,
        /// The second.
        second: String,
    },
    /// Shards missing.
    #[error("missing shard{} {} of {count} (given: {given})", if missing.len() == 1 { "" } else { "s" }, missing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The missing indices.
        missing: Vec<usize>,
        /// N.
        count: usize,
        /// The shards given, `1/3, 3/3`.
        given: String,
    },
    /// Parts from another eventflow version.
    #[error(
        "{file} was made by eventflow {found}, and this is eventflow {VERSION}: merge with the eventflow that ran the parts (its output may differ)"
    )]
    Version {
        /// The part.
        file: String,
        /// Its version.
        found: String,
    },
}

/// Parts put back together: the header every part shares, and all runs' figures in run order.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    /// What every part agrees on.
    pub header: Header,
    /// Every run's figures, run 0 first.
    pub runs: Vec<Value>,
}

fn json_text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Checks that `parts` (each with the file it came from) are the N shards of one command, and
/// returns their runs in run order.
///
/// # Errors
/// The first disagreement, duplicate or gap found (see [`MergeError`]).
pub fn merge(parts: Vec<(String, Part)>) -> Result<Merged, MergeError> {
    let Some((first_file, first)) = parts.first() else {
        return Err(MergeError::Empty);
    };
    for (file, p) in &parts {
        p.check().map_err(|message| MergeError::Invalid {
            file: file.clone(),
            message,
        })?;
    }
    for (file, p) in &parts[1..] {
        let mismatch = |field: &'static str, a: String, b: String| MergeError::Mismatch {
            field,
            first: first_file.clone(),
            first_value: a,
            file: file.clone(),
            value: b,
        };
        let scenario = |s: &ScenarioId| format!("\"{}\", {}", s.name, s.fingerprint);
        let fields: [(&'static str, String, String); 9] = [
            (
                "eventflow version",
                first.eventflow.clone(),
                p.eventflow.clone(),
            ),
            (
                "command",
                format!("`{}`", first.command.usage()),
                format!("`{}`", p.command.usage()),
            ),
            ("scenario", scenario(&first.scenario), scenario(&p.scenario)),
            (
                "seed",
                first.settings.seed.to_string(),
                p.settings.seed.to_string(),
            ),
            (
                "duration",
                first
                    .settings
                    .duration
                    .clone()
                    .unwrap_or_else(|| "the scenario's".into()),
                p.settings
                    .duration
                    .clone()
                    .unwrap_or_else(|| "the scenario's".into()),
            ),
            (
                "buckets",
                json_text(&first.settings.buckets),
                json_text(&p.settings.buckets),
            ),
            (
                "replications",
                first.settings.replications.to_string(),
                p.settings.replications.to_string(),
            ),
            (
                "--set",
                set_text(&first.settings.set),
                set_text(&p.settings.set),
            ),
            (
                "figures",
                first.settings.figures.join(", "),
                p.settings.figures.join(", "),
            ),
        ];
        for (field, a, b) in fields {
            if a != b {
                return Err(mismatch(field, a, b));
            }
        }
        if p.shard.count != first.shard.count {
            return Err(mismatch(
                "shard count",
                format!("N = {}: shard {}", first.shard.count, first.shard),
                format!("N = {}: shard {}", p.shard.count, p.shard),
            ));
        }
        if p.grid != first.grid {
            return Err(mismatch("grid", grid_text(&first.grid), grid_text(&p.grid)));
        }
    }
    if first.eventflow != VERSION {
        return Err(MergeError::Version {
            file: first_file.clone(),
            found: first.eventflow.clone(),
        });
    }
    let count = first.shard.count;
    let mut by_index: Vec<Option<usize>> = vec![None; count];
    for (i, (file, p)) in parts.iter().enumerate() {
        let slot = &mut by_index[p.shard.index - 1];
        if let Some(j) = *slot {
            return Err(MergeError::Duplicate {
                shard: p.shard,
                first: parts[j].0.clone(),
                second: file.clone(),
            });
        }
        *slot = Some(i);
    }
    let missing: Vec<usize> = (1..=count).filter(|k| by_index[k - 1].is_none()).collect();
    if !missing.is_empty() {
        let mut given: Vec<Shard> = parts.iter().map(|(_, p)| p.shard).collect();
        given.sort_by_key(|s| s.index);
        return Err(MergeError::Missing {
            missing,
            count,
            given: given
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let total = first.grid.runs;
    let header = Header {
        command: first.command,
        scenario: first.scenario.clone(),
        settings: first.settings.clone(),
        grid: first.grid.clone(),
    };
    let mut runs: Vec<Option<Value>> = vec![None; total];
    for (_, p) in parts {
        for r in p.runs {
            let run = r.run;
            runs[run] = Some(r.figures);
        }
    }
    // Each part holds exactly its shard's runs (checked on reading) and every shard is here
    // once, so every run is filled exactly once.
    Ok(Merged {
        header,
        runs: runs.into_iter().flatten().collect(),
    })
}

fn set_text(set: &[SetValues]) -> String {
    if set.is_empty() {
        return "none".into();
    }
    set.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn grid_text(g: &Grid) -> String {
    format!(
        "{} variants × {} seeds {}, {} s",
        g.variants.len(),
        g.seeds.len(),
        list(&g.seeds.iter().map(|&s| s as usize).collect::<Vec<_>>()),
        g.duration_s
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shards_parse_and_refuse_bad_forms() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard::WHOLE));
        for bad in ["a/b", "2", "2/", "/3", "-1/3", "1.5/3", "2/3/4", ""] {
            assert!(
                matches!(bad.parse::<Shard>(), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "0/3".parse::<Shard>(),
            Err(ShardError::Index { .. })
        ));
        assert!(matches!(
            "4/3".parse::<Shard>(),
            Err(ShardError::Index { .. })
        ));
        assert!(matches!(
            "0/0".parse::<Shard>(),
            Err(ShardError::NoShards(_))
        ));
        let e = "4/3".parse::<Shard>().unwrap_err().to_string();
        assert!(
            e.contains("--shard 4/3") && e.contains("between 1 and 3"),
            "{e}"
        );
        assert!(Shard { index: 1, count: 5 }.check(4).is_err());
        assert!(Shard { index: 1, count: 4 }.check(4).is_ok());
    }

    #[test]
    fn dealing_covers_every_run_once_and_balances() {
        for runs in 1..40 {
            for count in 1..=runs {
                let mut seen = vec![0; runs];
                let sizes = sizes(runs, count);
                for index in 1..=count {
                    let s = Shard { index, count };
                    let mine = s.runs(runs);
                    assert_eq!(mine.len(), s.size(runs));
                    assert_eq!(mine.len(), sizes[index - 1]);
                    for r in mine {
                        seen[r] += 1;
                    }
                }
                assert!(seen.iter().all(|&n| n == 1), "{runs} runs, {count} shards");
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1);
            }
        }
    }

    #[test]
    fn fingerprints_tell_texts_apart() {
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
        // FNV-1a 128 of the empty string is its offset basis.
        assert_eq!(fingerprint(""), "fnv1a128:6c62272e07bb014262b821756295c58d");
    }

    /// Parts must carry figures exactly: every f64 survives printing and parsing bit for bit
    /// (this is what the `float_roundtrip` feature of `serde_json` is for).
    #[test]
    fn floats_survive_the_part_file() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        runner
            .run(&proptest::num::f64::NORMAL, |x| {
                let v = json!({ "x": x });
                let back: Value =
                    serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
                prop_assert_eq!(back["x"].as_f64().unwrap().to_bits(), x.to_bits());
                Ok(())
            })
            .unwrap();
    }

    fn part(index: usize, count: usize) -> Part {
        let grid = Grid::new(
            vec![vec![("a".into(), json!(1))], vec![("a".into(), json!(2))]],
            vec![7, 8, 9],
            30.0,
            5.0,
        );
        let shard = Shard { index, count };
        let runs = shard
            .runs(grid.runs)
            .into_iter()
            .map(|run| {
                let (variant, replicate) = grid.position(run);
                PartRun {
                    run,
                    variant,
                    replicate,
                    seed: grid.seeds[replicate],
                    figures: json!({ "nodes": { "c": { "x": run as f64 * 0.1 } } }),
                }
            })
            .collect();
        Part {
            format: PART_FORMAT.into(),
            eventflow: VERSION.into(),
            command: Command::Sweep,
            scenario: ScenarioId {
                name: "t".into(),
                fingerprint: fingerprint("t"),
                file: "t.json".into(),
            },
            settings: Settings {
                seed: 7,
                duration: Some("30s".into()),
                buckets: None,
                replications: 3,
                set: vec![SetValues {
                    path: "a".into(),
                    values: vec![json!(1), json!(2)],
                }],
                figures: vec!["nodes.c.x".into()],
            },
            grid,
            shard,
            runs,
        }
    }

    fn named(parts: Vec<Part>) -> Vec<(String, Part)> {
        parts
            .into_iter()
            .map(|p| (format!("part-{}.json", p.shard.index), p))
            .collect()
    }

    #[test]
    fn parts_round_trip_and_merge_in_run_order() {
        let parts: Vec<Part> = [3, 1, 2, 4]
            .iter()
            .map(|&k| Part::parse(&part(k, 4).to_text().unwrap()).unwrap())
            .collect();
        let merged = merge(named(parts)).unwrap();
        let xs: Vec<f64> = merged
            .runs
            .iter()
            .map(|r| r["nodes"]["c"]["x"].as_f64().unwrap())
            .collect();
        let want: Vec<f64> = (0..6).map(|i| i as f64 * 0.1).collect();
        assert_eq!(xs, want);
    }

    #[test]
    fn merge_names_what_differs() {
        let err = |parts: Vec<Part>| merge(named(parts)).unwrap_err().to_string();
        let mut b = part(2, 2);
        b.settings.seed = 8;
        let e = err(vec![part(1, 2), b]);
        assert!(
            e.contains("different seed (8 in part-2.json, 7 in part-1.json)"),
            "{e}"
        );
        let mut b = part(2, 2);
        b.scenario.fingerprint = fingerprint("u");
        assert!(err(vec![part(1, 2), b]).contains("different scenario"));
        let e = err(vec![part(1, 2), part(2, 3)]);
        assert!(e.contains("different shard count"), "{e}");
        let e = err(vec![part(1, 3), part(3, 3)]);
        assert_eq!(e, "missing shard 2 of 3 (given: 1/3, 3/3)");
        let e = merge(vec![
            ("a.json".into(), part(1, 2)),
            ("b.json".into(), part(1, 2)),
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(e, "shard 1/2 appears twice: a.json and b.json");
        let mut a = part(1, 1);
        a.eventflow = "0.0.1".into();
        assert!(err(vec![a]).contains("made by eventflow 0.0.1"));
    }

    #[test]
    fn bad_part_files_are_refused_with_reasons() {
        let e = Part::parse("{").unwrap_err();
        assert!(e.contains("invalid JSON at line 1"), "{e}");
        let e = Part::parse(r#"{"format": "eventflow/1"}"#).unwrap_err();
        assert!(e.contains("this is a scenario"), "{e}");
        let e = Part::parse(r#"{"format": "eventflow-part/9"}"#).unwrap_err();
        assert!(e.contains("eventflow-part/9"), "{e}");
        let mut v: Value = serde_json::from_str(&part(1, 2).to_text().unwrap()).unwrap();
        v["settings"]["seed"] = json!("seven");
        let e = Part::parse(&v.to_string()).unwrap_err();
        assert!(e.contains("`settings.seed`"), "{e}");
        let mut p = part(1, 2);
        p.runs.pop();
        let e = Part::parse(&p.to_text().unwrap()).unwrap_err();
        assert!(e.contains("should hold runs 0, 2, 4 but holds 0, 2"), "{e}");
    }
}
