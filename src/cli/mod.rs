//! The `eventflow` command line: `run`, `check`, `import`, `pattern test`, `compare`, `sweep`,
//! `merge`, `examples`, and the desktop app.
//!
//! `main` → [`main`] → a subcommand returning an [`ExitCode`]: 0 success, 2 invalid input (file,
//! pattern, flag), 1 internal failure. Raw flags become validated values before any work starts.

pub mod compare;
pub mod examples;
pub mod import;
pub mod merge;
pub mod pattern;
pub mod shard;
pub mod sweep;
pub mod trace;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::model::Duration;
use crate::report;
use crate::scenario::{self, Severity};
use crate::sim::{self, RunOptions};

pub use crate::exit::{EXIT_INTERNAL, EXIT_INVALID};

/// Opens the desktop app with a file (or a bundled example), whether to start at once, and whether
/// in presentation mode. The
/// binary passes `ui::launch` when built with the `gui` feature, so the CLI never imports the UI.
pub type GuiLauncher = fn(Option<PathBuf>, bool, bool) -> ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "eventflow",
    version,
    about = "Simulate and visualize event-driven architectures: EventBridge rules, SQS queues, streams and consumers.",
    long_about = None,
    after_help = "With no subcommand, opens the desktop app with a bundled example scenario."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario headless and print its results.
    Run(RunArgs),
    /// Validate a scenario: exit 0 when valid, 2 with every problem listed.
    Check {
        /// Scenario file.
        file: PathBuf,
    },
    /// `EventBridge` event patterns.
    Pattern {
        #[command(subcommand)]
        command: PatternCommand,
    },
    /// Run two scenarios with common random numbers and report each figure's difference B − A.
    Compare(compare::CompareArgs),
    /// Run every variant of a scenario over a grid of `--set` values and tabulate figures.
    Sweep(sweep::SweepArgs),
    /// Put the part files of a sharded `sweep` or `run --replications` back together and print
    /// exactly what the unsharded command prints.
    Merge(merge::MergeArgs),
    /// Follow root events through the system: every copy, retry and emitted event, as a tree.
    Trace(trace::TraceArgs),
    /// List the bundled example scenarios, or print the one called NAME.
    Examples {
        /// An example's name as listed (`order-fanout`), its file name or its title.
        name: Option<String>,
    },
    /// Turn a `CloudFormation`, SAM or CDK (synthesized) template into a scenario, with a report of
    /// what each resource became and every assumption made.
    Import(import::ImportArgs),
    /// Print the JSON Schema of scenario files (for editors: name it in a file's "$schema").
    Schema,
    /// Open the desktop app.
    Gui {
        /// Scenario to open (a bundled example when absent).
        file: Option<PathBuf>,
        /// Start the simulation at once.
        #[arg(long)]
        run: bool,
        /// Presentation mode, for a projector: large type, the canvas and one plot, thick lines
        /// (View ▸ Presentation, F5).
        #[arg(long)]
        present: bool,
    },
}

#[derive(Subcommand, Debug)]
enum PatternCommand {
    /// Test patterns (or SNS filter policies, `--sns`) against events: JSON Lines {"pattern": …, "event": …} or {"sns": …, "event": …} on stdin, or one pair from files.
    Test(pattern::PatternTestArgs),
}

/// Flags of `eventflow run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Seed instead of the file's.
    #[arg(long, allow_hyphen_values = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Simulated duration instead of the file's (e.g. 10m, 90s).
    #[arg(long)]
    pub duration: Option<String>,
    /// Print the results object as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write the time series as a tidy CSV (`time_s,node,metric,value`) into this directory.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
    /// Write the run's plots (throughput, backlog, latency, Little's law, DLQ, errors,
    /// utilization: those the scenario reports) into this directory as PNG and SVG files.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Time-series buckets over the run (default 500; 1 to 10,000).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_buckets)]
    pub buckets: Option<u32>,
    /// Leave the time series (`series`) out of the JSON output.
    #[arg(long)]
    pub no_series: bool,
    /// Run N independent replications (seeds SEED, SEED+1, …) in parallel and report each
    /// figure's mean with a 95% confidence interval.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = parse_replications)]
    pub replications: Option<u32>,
    /// Sharding (with --replications): run one slice of the replications on this machine.
    #[command(flatten)]
    pub shard: shard::ShardArgs,
}

/// The most replications a command runs. `run --replications` keeps each run's figures until
/// the end; a sweep streams in batches of whole variants, so one variant's replications are its
/// smallest batch: this bounds that (a few kilobytes a run, about 50 MB). It costs nothing
/// statistically: the 95% interval of 10,000 replications is already 2% of the spread.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// A whole number from `lo` to `hi`, in the user's words when it is not one.
fn whole(text: &str, lo: u64, hi: u64) -> Result<u64, String> {
    let words = || {
        if hi == u64::MAX {
            format!("must be a whole number ≥ {lo}, got {text}")
        } else {
            format!("must be a whole number from {lo} to {hi}, got {text}")
        }
    };
    match text.trim().parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(words()),
    }
}

/// `--seed`: 0 to 2⁶⁴ − 1 (a negative number is refused in words, not taken for a flag).
pub(crate) fn parse_seed(text: &str) -> Result<u64, String> {
    whole(text, 0, u64::MAX)
}

/// `--buckets`: [`crate::model::defaults::SERIES_BUCKETS_RANGE`].
pub(crate) fn parse_buckets(text: &str) -> Result<u32, String> {
    let r = crate::model::defaults::SERIES_BUCKETS_RANGE;
    whole(text, u64::from(*r.start()), u64::from(*r.end())).map(|n| n as u32)
}

/// `--replications`: 1 to [`MAX_REPLICATIONS`].
pub(crate) fn parse_replications(text: &str) -> Result<u32, String> {
    whole(text, 1, u64::from(MAX_REPLICATIONS)).map(|n| n as u32)
}

/// Parses the process arguments and runs the command; `gui` opens the desktop app (`None` in a
/// build without it).
#[must_use]
pub fn main(gui: Option<GuiLauncher>) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(EXIT_INVALID),
            };
        }
    };
    match cli.command {
        None => open_gui(gui, None, false, false),
        Some(Command::Gui { file, run, present }) => {
            // Say "no such file" before the app (or the lack of a display) is involved.
            if let Some(f) = &file
                && let Err(e) = scenario::load(f)
                && matches!(e, scenario::LoadError::Io { .. })
            {
                return invalid(e);
            }
            open_gui(gui, file, run, present)
        }
        Some(Command::Run(args)) => run(&args),
        Some(Command::Check { file }) => check(&file),
        Some(Command::Schema) => sweep::print(
            &serde_json::to_string_pretty(&crate::model::json_schema()).unwrap_or_default(),
        ),
        Some(Command::Examples { name }) => examples::run(name.as_deref()),
        Some(Command::Compare(args)) => compare::run(&args),
        Some(Command::Import(args)) => import::run(&args),
        Some(Command::Sweep(args)) => sweep::run(&args),
        Some(Command::Merge(args)) => merge::run(&args),
        Some(Command::Trace(args)) => trace::run(&args),
        Some(Command::Pattern {
            command: PatternCommand::Test(args),
        }) => {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            let stdout = std::io::stdout();
            let mut output = stdout.lock();
            pattern::run_test(&args, &mut input, &mut output)
        }
    }
}

fn open_gui(gui: Option<GuiLauncher>, file: Option<PathBuf>, run: bool, present: bool) -> ExitCode {
    if let Some(launch) = gui {
        return launch(file, run, present);
    }
    eprintln!(
        "this build of eventflow has no desktop app (built without the `gui` feature); use `eventflow run FILE`, or see `eventflow --help`"
    );
    ExitCode::from(EXIT_INVALID)
}

/// The one rule for runs a guard stopped (loop, memory), the same for `run`, `run
/// --replications`, `compare`, `sweep` and `merge`: the output is printed as usual (a table
/// starts with the stop, JSON carries it in its figures), each stop is said on stderr, and the
/// exit code is 2, since the figures cover only the time before the stop.
pub(crate) fn print_stopped(text: &str, stops: &[String], table: bool) -> ExitCode {
    print_stopped_counted(text, stops, stops.len(), table)
}

/// As [`print_stopped`], when only the first of `stopped` stops were kept (a long sweep).
pub(crate) fn print_stopped_counted(
    text: &str,
    stops: &[String],
    stopped: usize,
    table: bool,
) -> ExitCode {
    let Some(first) = stops.first() else {
        return sweep::print(text);
    };
    let text = if table {
        format!(
            "STOPPED: {stopped} of the runs stopped by a guard, their figures cover only the time before the stop; first: {first}\n{text}"
        )
    } else {
        text.to_owned()
    };
    let code = sweep::print(&text);
    for s in stops {
        eprintln!("run stopped: {s}");
    }
    if stopped > stops.len() {
        eprintln!("… and {} more runs stopped", stopped - stops.len());
    }
    if code == ExitCode::SUCCESS {
        ExitCode::from(EXIT_INVALID)
    } else {
        code
    }
}

pub(crate) fn invalid(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(EXIT_INVALID)
}

/// Loads a scenario, printing problems; warnings go to stderr.
pub(crate) fn load(file: &Path) -> Result<scenario::Loaded, ExitCode> {
    match scenario::load(file) {
        Ok(l) => Ok(l),
        Err(e) => Err(invalid(e)),
    }
}

fn run(args: &RunArgs) -> ExitCode {
    let duration = match args.duration.as_deref().map(Duration::parse).transpose() {
        Ok(d) => d,
        Err(e) => return invalid(format!("--duration: {e}")),
    };
    if duration == Some(Duration::ZERO) {
        return invalid("--duration: the run must last longer than zero");
    }
    if args.buckets == Some(0) {
        return invalid("--buckets: needs at least one bucket");
    }
    if args.replications.is_some() && args.plots.is_some() {
        return invalid(
            "--replications: --plots draws a single run's time series; leave it out or drop --replications",
        );
    }
    if args.shard.active() && args.replications.is_none() {
        return invalid(
            "--shard, --out and --plan split the replications of a run: add --replications N",
        );
    }
    let loaded = match load(&args.file) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for w in &loaded.warnings {
        eprintln!("{}: {w}", args.file.display());
    }
    let opts = RunOptions {
        seed: args.seed,
        duration,
        series_buckets: args.buckets,
    };
    if let Some(n) = args.replications {
        return sweep::run_replicated(args, &loaded.scenario, &opts, n);
    }
    let mut results = match sim::run(&loaded.scenario, &opts) {
        Ok(r) => r,
        Err(e) => return invalid(format!("{}: {e}", args.file.display())),
    };
    if let Some(dir) = &args.csv {
        let Some(series) = &results.series else {
            return invalid("no time series recorded");
        };
        if let Err(e) = write_csv(dir, series) {
            return invalid(format!("--csv {}: {e}", dir.display()));
        }
    }
    if let Some(dir) = &args.plots {
        let Some(series) = &results.series else {
            return invalid("no time series recorded");
        };
        let ctx = crate::plots::PlotContext::of(&loaded.scenario);
        if let Err(e) =
            crate::export::write_plots(dir, series, &ctx, &crate::plots::RenderStyle::default())
        {
            return invalid(format!("--plots {}: {e}", dir.display()));
        }
    }
    let mut as_run = loaded.scenario.clone();
    as_run.seed = results.seed;
    let analysis = crate::analysis::analyze(&as_run, &results);
    if args.no_series {
        results.series = None;
    }
    let text = if args.json {
        report::json_with_analysis(&results, &analysis)
    } else {
        format!(
            "{}\n{}",
            report::table(&results),
            report::analysis_table(&analysis)
        )
    };
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{}", text.trim_end()).is_err() {
            return ExitCode::from(EXIT_INTERNAL);
        }
    }
    if let Some(stop) = &results.engine.stopped {
        eprintln!(
            "{}: the run stopped at {} of {}: {stop}",
            args.file.display(),
            report::human_secs(results.engine.simulated_s),
            report::human_secs(results.duration_s)
        );
        return ExitCode::from(EXIT_INVALID);
    }
    ExitCode::SUCCESS
}

fn write_csv(dir: &Path, series: &crate::metrics::SeriesData) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("series.csv");
    let tmp = dir.join(".series.csv.tmp");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        series.write_csv(&mut f)?;
        f.flush()?;
    }
    std::fs::rename(tmp, path)
}

fn check(file: &Path) -> ExitCode {
    match scenario::load(file) {
        Ok(l) => {
            let s = &l.scenario;
            println!(
                "{}: ok — \"{}\": {}",
                file.display(),
                s.name,
                report::inventory(s)
            );
            for w in &l.warnings {
                println!("  {w}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            let _ = e
                .problems()
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            ExitCode::from(EXIT_INVALID)
        }
    }
}
