//! `eventflow trace`: follow sampled root events through the system and print their journeys.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::exit::EXIT_INTERNAL;
use crate::model::Duration;
use crate::sim::journey::{Condition, Journey, Select};
use crate::sim::{self, RunOptions, TraceOptions};

use super::{invalid, load};

/// Which journeys `--where` picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WhereArg {
    /// A copy ended in a dead-letter queue.
    DeadLettered,
    /// A delivery or a handler failed.
    Failed,
    /// The longest end-to-end latencies.
    Slowest,
    /// A copy was delivered twice.
    Duplicated,
    /// A copy was served after a later event of its key.
    OutOfOrder,
}

/// Flags of `eventflow trace`.
#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Journeys to show: N root events spread over the run (with --where, the first N that did).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub sample: usize,
    /// Only journeys that did this.
    #[arg(
        long = "where",
        value_enum,
        value_name = "WHAT",
        conflicts_with = "event"
    )]
    pub filter: Option<WhereArg>,
    /// The root event whose generated id, or a field value (e.g. an order id), is this.
    #[arg(long, value_name = "ID")]
    pub event: Option<String>,
    /// Seed instead of the scenario's.
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Run length instead of the scenario's (e.g. 10m).
    #[arg(long)]
    pub duration: Option<String>,
    /// Print the journeys as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `eventflow trace`.
pub fn run(args: &TraceArgs) -> ExitCode {
    if args.sample == 0 || args.sample > 10_000 {
        return invalid("--sample: give a number of journeys from 1 to 10000");
    }
    let duration = match args.duration.as_deref().map(Duration::parse).transpose() {
        Ok(d) => d,
        Err(e) => return invalid(format!("--duration: {e}")),
    };
    let loaded = match load(&args.file) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let select = match (&args.event, args.filter) {
        (Some(id), _) => Select::Event(id.clone()),
        (None, Some(w)) => Select::Where(match w {
            WhereArg::DeadLettered => Condition::DeadLettered,
            WhereArg::Failed => Condition::Failed,
            WhereArg::Slowest => Condition::Slowest,
            WhereArg::Duplicated => Condition::Duplicated,
            WhereArg::OutOfOrder => Condition::OutOfOrder,
        }),
        (None, None) => Select::Sample,
    };
    let opts = RunOptions {
        seed: args.seed,
        duration,
        series_buckets: Some(1),
    };
    let traced = match sim::trace(
        &loaded.scenario,
        &opts,
        &TraceOptions {
            count: if args.event.is_some() { 1 } else { args.sample },
            select,
        },
    ) {
        Ok(t) => t,
        Err(e) => return invalid(format!("{}: {e}", args.file.display())),
    };
    let text = if args.json {
        serde_json::to_string_pretty(&traced.journeys).unwrap_or_default()
    } else {
        traced
            .journeys
            .iter()
            .enumerate()
            .fold(String::new(), |mut out, (i, j)| {
                out.push_str(&journey_text(i + 1, j));
                out
            })
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", text.trim_end()).is_err() {
        return ExitCode::from(EXIT_INTERNAL);
    }
    ExitCode::SUCCESS
}

fn secs(s: f64) -> String {
    if s.abs() < 1.0 {
        format!("{:.1}ms", s * 1e3)
    } else {
        format!("{s:.3}s")
    }
}

/// One journey as an indented tree.
#[must_use]
pub fn journey_text(n: usize, j: &Journey) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "journey {n}: event {} (root #{}) produced at {}",
        j.event_id,
        j.root,
        secs(j.produced_at_s)
    );
    match j.latency_s {
        Some(l) => {
            let _ = writeln!(
                out,
                "; end to end {} (critical path {} over {})",
                secs(l),
                secs(j.critical_path_s()),
                crate::names::plural(j.critical_path.len(), "hop")
            );
        }
        None => {
            let _ = writeln!(out, "; no copy completed at the end of its chain");
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); j.hops.len()];
    for (i, h) in j.hops.iter().enumerate() {
        if let Some(p) = h.parent {
            children[p].push(i);
        }
    }
    let mut stack = vec![(0usize, 0usize)];
    while let Some((h, depth)) = stack.pop() {
        let hop = &j.hops[h];
        let mark = if j.critical_path.contains(&h) {
            '*'
        } else {
            ' '
        };
        let _ = write!(
            out,
            "{mark} {:indent$}{} ({})",
            "",
            hop.node,
            hop.kind.as_str(),
            indent = depth * 2
        );
        if let Some(via) = &hop.via {
            let _ = write!(out, " via {via}");
        }
        if let Some(by) = &hop.by {
            let _ = write!(out, " by {by}");
        }
        if let Some(a) = hop.attempt {
            let _ = write!(out, " #{a}");
        }
        let _ = write!(out, ": arrived {}", secs(hop.arrived_s));
        if let Some(w) = hop.wait_s()
            && w > 0.0
        {
            let _ = write!(out, ", waited {}", secs(w));
        }
        if let (Some(s), Some(e)) = (hop.started_s, hop.ended_s)
            && e > s
        {
            let _ = write!(out, ", worked {}", secs(e - s));
        }
        if let Some(e) = hop.ended_s {
            let _ = write!(out, ", left {}", secs(e));
        }
        let _ = write!(out, " → {}", hop.outcome);
        if let Some(r) = &hop.reason {
            let _ = write!(out, " ({r})");
        }
        out.push('\n');
        for &c in children[h].iter().rev() {
            stack.push((c, depth + 1));
        }
    }
    if j.truncated {
        out.push_str("  … more hops than are kept (10,000)\n");
    }
    out.push('\n');
    out
}
