//! `eventflow compare A.json B.json`: two scenarios under the same seeds (common random
//! numbers), each figure's paired difference B − A with its 95 % confidence interval.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::analysis::compare::compare;
use crate::report;
use crate::sim::RunOptions;

use super::invalid;
use super::load;
use super::sweep::{check_replications, parse_duration};

/// Flags of `eventflow compare`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  eventflow compare shop.json shop-more-workers.json --replications 20 --figure inventory.wait_s.p99"
)]
pub struct CompareArgs {
    /// Scenario A (the baseline).
    pub a: PathBuf,
    /// Scenario B (the change).
    pub b: PathBuf,
    /// Replications; both scenarios run the same seeds.
    #[arg(long, default_value_t = 10, value_name = "N", allow_hyphen_values = true, value_parser = super::parse_replications)]
    pub replications: u32,
    /// Base seed instead of A's.
    #[arg(long, allow_hyphen_values = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Simulated duration for both instead of the files' (e.g. 10m).
    #[arg(long)]
    pub duration: Option<String>,
    /// Figures to show in the table, e.g. `inventory.wait_s.p99` (repeat or separate with commas;
    /// default: the main figures of every consumer and the end-to-end latency). JSON has all.
    #[arg(long = "figure", value_name = "NAME", value_delimiter = ',')]
    pub figures: Vec<String>,
    /// Print JSON (every figure) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `eventflow compare`.
#[must_use]
pub fn run(args: &CompareArgs) -> ExitCode {
    let duration = match parse_duration(args.duration.as_deref()) {
        Ok(d) => d,
        Err(e) => return invalid(e),
    };
    let replications = match check_replications(args.replications) {
        Ok(n) => n,
        Err(e) => return invalid(e),
    };
    let a = match load(&args.a) {
        Ok(l) => l.scenario,
        Err(code) => return code,
    };
    let b = match load(&args.b) {
        Ok(l) => l.scenario,
        Err(code) => return code,
    };
    // Figure names are checked against A's and B's figures before running.
    let mut figures = Vec::new();
    for f in &args.figures {
        let in_a = crate::analysis::sweep::check_figures(&a, std::slice::from_ref(f));
        let in_b = crate::analysis::sweep::check_figures(&b, std::slice::from_ref(f));
        match (in_a, in_b) {
            (Ok(mut n), _) | (_, Ok(mut n)) => figures.append(&mut n),
            (Err(e), _) => return invalid(format!("--figure: {e}")),
        }
    }
    let opts = RunOptions {
        seed: args.seed,
        duration,
        series_buckets: None,
    };
    let comparison = match compare(&a, &b, &opts, replications) {
        Ok(c) => c,
        Err(e) => return invalid(format!("{} vs {}: {e}", args.a.display(), args.b.display())),
    };
    let text = if args.json {
        serde_json::to_string_pretty(&comparison.to_json()).unwrap_or_default()
    } else {
        if figures.is_empty() {
            figures = report::default_compare_figures(&comparison);
        }
        report::comparison_table(&comparison, &figures)
    };
    super::print_stopped(&text, &comparison.stops, !args.json)
}
