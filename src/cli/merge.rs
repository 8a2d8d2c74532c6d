//! `eventflow merge PART… [--json|--csv]`: the part files of a sharded `sweep` or `run
//! --replications`, checked ([`crate::analysis::shard::merge`]) and aggregated by the code the
//! unsharded command uses, so it prints that command's output byte for byte.
//!
//! Every problem is invalid input (exit 2) naming the file and what is wrong: an unreadable or
//! malformed part, parts that disagree (scenario, settings, version, shard count), a missing or
//! duplicated shard.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::analysis::replicate::Replicated;
use crate::analysis::shard::{self, Command, Part};
use crate::analysis::sweep::Sweep;

use super::invalid;
use super::sweep::{replicated_text, sweep_text};

/// Flags of `eventflow merge`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example (K = 1, 2, 3 on three machines, then the merge; see docs/cluster.md):\n  eventflow sweep shop.json --set … --replications 30 --shard K/3 --out part-K.json\n  eventflow merge part-*.json --csv"
)]
pub struct MergeArgs {
    /// The part files (`--out` of each shard), in any order.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Print JSON, as the unsharded command's --json does.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV, as `eventflow sweep --csv` does (sweep parts only).
    #[arg(long)]
    pub csv: bool,
}

/// `eventflow merge`.
#[must_use]
pub fn run(args: &MergeArgs) -> ExitCode {
    let mut parts = Vec::with_capacity(args.parts.len());
    for path in &args.parts {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_owned(),
                    std::io::ErrorKind::InvalidData => "not a UTF-8 text file".to_owned(),
                    _ => e.to_string(),
                };
                return invalid(format!("{name}: {why}"));
            }
        };
        match Part::parse(&text) {
            Ok(p) => parts.push((name, p)),
            Err(e) => return invalid(format!("{name}: {e}")),
        }
    }
    let merged = match shard::merge(parts) {
        Ok(m) => m,
        Err(e) => return invalid(e),
    };
    let h = merged.header;
    let text = match h.command {
        Command::Sweep => {
            let sweep = Sweep::from_runs(
                h.scenario.name,
                h.settings.set.iter().map(|s| s.path.clone()).collect(),
                h.grid.seeds,
                h.grid.variants,
                &merged.runs,
                &h.settings.figures,
            );
            (
                sweep_text(&sweep, &h.settings.figures, args.json, args.csv),
                sweep.stops,
                sweep.stopped,
                !args.json && !args.csv,
            )
        }
        Command::Run => {
            if args.csv {
                return invalid(
                    "--csv: these are parts of `eventflow run --replications`, which prints a table or --json, not CSV",
                );
            }
            let replicated = Replicated::from_runs(
                h.scenario.name,
                h.grid.seeds,
                h.grid.duration_s,
                h.grid.warmup_s,
                &merged.runs,
            );
            let stops = replicated.samples.stops.clone();
            let n = stops.len();
            (
                replicated_text(&replicated, args.json),
                stops,
                n,
                !args.json,
            )
        }
    };
    super::print_stopped_counted(&text.0, &text.1, text.2, text.3)
}
