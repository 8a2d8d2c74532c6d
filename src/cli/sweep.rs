//! `eventflow sweep FILE --set PATH=V1,V2,… [--set …]` and `eventflow run FILE --replications N`,
//! whole or one shard at a time (`--shard K/N --out FILE`, see [`super::shard`]).
//!
//! Flags become validated values (durations, `--set` paths and values, figure names, every
//! variant re-validated as a scenario) before any simulation starts; a mistake exits 2 with a
//! message naming the flag, and a "did you mean" where one helps. The progress bar goes to stderr
//! and only when stderr is a terminal, so piped output and tests stay clean.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use crate::analysis::replicate::{Replicated, replicate, run_length_s, seeds};
use crate::analysis::shard::{self, Grid, Header, ScenarioId, SetValues, Settings};
use crate::analysis::sweep::{self, SetSpec, Sweep, check_figures, default_figures, variants};
use crate::model::{Duration, Scenario};
use crate::report;
use crate::sim::RunOptions;

use super::shard::ShardArgs;
use super::{EXIT_INTERNAL, RunArgs, invalid, load};

/// Flags of `eventflow sweep`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  eventflow sweep shop.json --set consumers.inventory.concurrency=4,6,8,12\n  eventflow sweep shop.json --set consumers.inventory.concurrency=4,8 --set producers.checkout.rate=100,200 --replications 10 --csv\n  eventflow sweep shop.json --set consumers.inventory.concurrency=4,8 --replications 30 --shard 2/3 --out part-2.json"
)]
pub struct SweepArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// A numeric field by path and the values to try, e.g. consumers.inventory.concurrency=4,6,8;
    /// several make a grid (the first varies slowest).
    #[arg(long = "set", value_name = "PATH=VALUES", required = true)]
    pub set: Vec<String>,
    /// Figures to show, e.g. `inventory.wait_s.p99` or `end_to_end.latency_s.p99` (repeat or separate
    /// with commas; default: the wait and utilization of the consumers the sweep changes).
    #[arg(long = "figure", value_name = "NAME", value_delimiter = ',')]
    pub figures: Vec<String>,
    /// Independent replications per variant (mean and 95% confidence interval).
    #[arg(long, default_value_t = 1, value_name = "N", allow_hyphen_values = true, value_parser = super::parse_replications)]
    pub replications: u32,
    /// Base seed instead of the file's.
    #[arg(long, allow_hyphen_values = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Simulated duration instead of the file's (e.g. 10m, 90s).
    #[arg(long)]
    pub duration: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
    /// Sharding: run one slice of the grid on this machine.
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// The most variants a sweep's grid may have: every variant is a scenario held in memory until
/// its rows are printed.
pub const MAX_VARIANTS: u64 = 10_000;

/// Parses `--duration`.
pub(crate) fn parse_duration(text: Option<&str>) -> Result<Option<Duration>, String> {
    let d = text
        .map(Duration::parse)
        .transpose()
        .map_err(|e| format!("--duration: {e}"))?;
    if d == Some(Duration::ZERO) {
        return Err("--duration: the run must last longer than zero".into());
    }
    Ok(d)
}

/// Checks `--replications`.
pub(crate) fn check_replications(n: u32) -> Result<u32, String> {
    if n == 0 {
        Err("--replications: needs at least 1".into())
    } else {
        Ok(n)
    }
}

/// Writes `text` to stdout; exit 1 if that fails.
pub(crate) fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", text.trim_end()).is_err() {
        return ExitCode::from(EXIT_INTERNAL);
    }
    ExitCode::SUCCESS
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
pub(crate) fn progress_bar() -> Option<impl Fn(usize, usize) + Sync> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let lock = Mutex::new(());
    Some(move |done: usize, total: usize| {
        let _guard = lock.lock();
        let width = 30;
        let filled = (done * width)
            .checked_div(total)
            .unwrap_or(width)
            .min(width);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{total} runs",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
        if done == total {
            let _ = write!(err, "\r{}\r", " ".repeat(width + 24));
        }
        let _ = err.flush();
    })
}

/// `eventflow sweep`.
pub fn run(args: &SweepArgs) -> ExitCode {
    let duration = match parse_duration(args.duration.as_deref()) {
        Ok(d) => d,
        Err(e) => return invalid(e),
    };
    let replications = match check_replications(args.replications) {
        Ok(n) => n,
        Err(e) => return invalid(e),
    };
    let sets: Vec<SetSpec> = match args.set.iter().map(|s| s.parse()).collect() {
        Ok(s) => s,
        Err(e) => return invalid(e),
    };
    let variants_n = sets
        .iter()
        .fold(1u64, |n, s| n.saturating_mul(s.values.len() as u64));
    if variants_n > MAX_VARIANTS {
        return invalid(format!(
            "--set: the grid has {variants_n} variants; eventflow sweeps at most {MAX_VARIANTS} at once (split it with several sweeps, or --shard it over machines)"
        ));
    }
    let loaded = match load(&args.file) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let base: &Scenario = &loaded.scenario;
    let grid = match variants(base, &sets) {
        Ok(v) => v,
        Err(e) => return invalid(format!("{}: {e}", args.file.display())),
    };
    let wanted = if args.figures.is_empty() {
        default_figures(base, &sets)
    } else {
        args.figures.clone()
    };
    let figures = match check_figures(base, &wanted) {
        Ok(f) => f,
        Err(e) => return invalid(format!("--figure: {e}")),
    };
    let opts = RunOptions {
        seed: args.seed,
        duration,
        series_buckets: None,
    };
    if args.shard.active() {
        let seeds = seeds(opts.seed.unwrap_or(base.seed), replications);
        let jobs = sweep::jobs(&grid, &seeds);
        let (duration_s, warmup_s) = run_length_s(base, &opts);
        let header = Header {
            command: shard::Command::Sweep,
            scenario: scenario_id(&args.file, base),
            settings: Settings {
                seed: opts.seed.unwrap_or(base.seed),
                duration: duration.map(|d| d.to_string()),
                buckets: None,
                replications,
                set: sets.iter().map(SetValues::from).collect(),
                figures,
            },
            grid: Grid::new(
                grid.iter().map(|v| v.assignments.clone()).collect(),
                seeds.clone(),
                duration_s,
                warmup_s,
            ),
        };
        return super::shard::execute(&args.shard, args.json, args.csv, header, &jobs, &opts);
    }
    let paths = sets.iter().map(|s| s.path.clone()).collect();
    let bar = progress_bar();
    let progress = |d: usize, t: usize| {
        if let Some(bar) = &bar {
            bar(d, t);
        }
    };
    let result = match sweep::sweep(base, paths, &grid, &opts, replications, &figures, &progress) {
        Ok(s) => s,
        Err(e) => return invalid(format!("{}: {e}", args.file.display())),
    };
    super::print_stopped_counted(
        &sweep_text(&result, &figures, args.json, args.csv),
        &result.stops,
        result.stopped,
        !args.json && !args.csv,
    )
}

/// What `eventflow sweep` prints: JSON, CSV or the table. `eventflow merge` of a sweep's parts
/// prints through here too.
pub(crate) fn sweep_text(result: &Sweep, figures: &[String], json: bool, csv: bool) -> String {
    if json {
        serde_json::to_string_pretty(&result.to_json(figures)).unwrap_or_default()
    } else if csv {
        report::sweep_csv(result, figures)
    } else {
        report::sweep_table(result, figures)
    }
}

/// What `eventflow run --replications N` prints: JSON or the table. `eventflow merge` of its
/// parts prints through here too.
pub(crate) fn replicated_text(replicated: &Replicated, json: bool) -> String {
    if json {
        serde_json::to_string_pretty(&replicated.to_json()).unwrap_or_default()
    } else {
        report::replicated_table(replicated)
    }
}

/// The scenario as a part records it: its name, the fingerprint of its canonical JSON (as
/// loaded, before any `--set`) and the file named.
fn scenario_id(file: &std::path::Path, scenario: &Scenario) -> ScenarioId {
    ScenarioId {
        name: scenario.name.clone(),
        fingerprint: shard::fingerprint(&crate::scenario::to_json(scenario)),
        file: file.display().to_string(),
    }
}

/// `eventflow run FILE --replications N`.
pub(crate) fn run_replicated(
    args: &RunArgs,
    scenario: &Scenario,
    opts: &RunOptions,
    n: u32,
) -> ExitCode {
    if let Err(e) = check_replications(n) {
        return invalid(e);
    }
    if args.csv.is_some() {
        return invalid(
            "--replications: --csv describes a single run's time series; leave it out or drop --replications",
        );
    }
    if args.shard.active() {
        let seeds = seeds(opts.seed.unwrap_or(scenario.seed), n);
        let jobs: Vec<(&Scenario, u64)> = seeds.iter().map(|s| (scenario, *s)).collect();
        let (duration_s, warmup_s) = run_length_s(scenario, opts);
        let header = Header {
            command: shard::Command::Run,
            scenario: scenario_id(&args.file, scenario),
            settings: Settings {
                seed: opts.seed.unwrap_or(scenario.seed),
                duration: opts.duration.map(|d| d.to_string()),
                buckets: opts.series_buckets,
                replications: n,
                set: Vec::new(),
                figures: Vec::new(),
            },
            grid: Grid::new(vec![Vec::new()], seeds.clone(), duration_s, warmup_s),
        };
        return super::shard::execute(&args.shard, args.json, false, header, &jobs, opts);
    }
    let replicated = match replicate(scenario, opts, n) {
        Ok(r) => r,
        Err(e) => return invalid(format!("{}: {e}", args.file.display())),
    };
    super::print_stopped(
        &replicated_text(&replicated, args.json),
        &replicated.samples.stops,
        !args.json,
    )
}
