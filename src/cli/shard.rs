//! `--shard K/N`, `--out FILE` and `--plan` of `eventflow sweep` and `eventflow run
//! --replications`: run one slice of the grid and write it as a part file, or print the plan.
//!
//! The flags are validated before any run starts (a bad `--shard`, or more shards than runs,
//! exits 2); the part is written atomically (a temporary file beside it, then a rename), so a
//! scheduler that kills a task never leaves half a part for `merge` to read. Dealing and merging
//! live in [`crate::analysis::shard`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value};

use crate::analysis::shard::{self, Header, Shard};
use crate::analysis::sweep::label;
use crate::model::Scenario;
use crate::sim::RunOptions;

use super::sweep::{print, progress_bar};
use super::{EXIT_INTERNAL, invalid};

/// Flags for running a slice of the grid on one machine of many.
#[derive(clap::Args, Debug, Default)]
pub struct ShardArgs {
    /// Run only the K-th of N balanced slices of the (variant × replication) grid, e.g. 2/8,
    /// and write it to --out; `eventflow merge` puts the parts back together.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Write the runs' raw figures to this part file (atomically) instead of printing results;
    /// without --shard, the whole grid as shard 1/1.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the grid and each shard's size (N from --shard, else 1) and run nothing.
    #[arg(long)]
    pub plan: bool,
}

impl ShardArgs {
    /// Whether any of the flags is given (the command then shards instead of printing results).
    #[must_use]
    pub fn active(&self) -> bool {
        self.shard.is_some() || self.out.is_some() || self.plan
    }

    /// The shard asked for (1/1 without `--shard`).
    ///
    /// # Errors
    /// A bad `--shard`, or `--shard` with neither `--out` nor `--plan`.
    pub fn parse(&self) -> Result<Shard, String> {
        let shard = match &self.shard {
            Some(text) => text.parse::<Shard>().map_err(|e| e.to_string())?,
            None => Shard::WHOLE,
        };
        if self.out.is_none() && !self.plan {
            return Err(format!(
                "--shard {shard}: needs --out FILE, the part file this slice's runs go to (or --plan to see the slices)"
            ));
        }
        Ok(shard)
    }
}

/// Runs the shard the flags ask for, or prints the plan. `json` and `csv` are the output flags
/// of the command: only `--plan` prints, so with `--out` they are refused.
pub(crate) fn execute(
    flags: &ShardArgs,
    json: bool,
    csv: bool,
    header: Header,
    jobs: &[(&Scenario, u64)],
    opts: &RunOptions,
) -> ExitCode {
    let shard = match flags
        .parse()
        .and_then(|s| s.check(header.grid.runs).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return invalid(e),
    };
    if flags.plan {
        if csv {
            return invalid("--plan: prints a table or, with --json, JSON; leave out --csv");
        }
        let text = if json {
            serde_json::to_string_pretty(&plan_json(&header, shard.count)).unwrap_or_default()
        } else {
            plan_table(&header, shard.count)
        };
        return print(&text);
    }
    if json || csv {
        return invalid(format!(
            "--{}: with --out the runs go to the part file and nothing is printed; choose the output at `eventflow merge` (--json, --csv)",
            if json { "json" } else { "csv" }
        ));
    }
    let Some(out) = &flags.out else {
        return invalid("--shard: needs --out FILE");
    };
    let size = shard.size(header.grid.runs);
    let bar = progress_bar();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = || {
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Some(bar) = &bar {
            bar(d, size);
        }
    };
    let file = header.scenario.file.clone();
    let total = header.grid.runs;
    let part = match shard::run_shard(header, shard, jobs, opts, &progress) {
        Ok(p) => p,
        Err(e) => return invalid(format!("{file}: {e}")),
    };
    let text = match part.to_text() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("part {shard}: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    if let Err(e) = write_atomically(out, &text) {
        return invalid(format!("--out {}: {e}", out.display()));
    }
    eprintln!("{}: shard {shard}, {size} of {total} runs", out.display());
    ExitCode::SUCCESS
}

/// Writes `text` to a temporary file beside `path`, flushes it to disk, then renames it over
/// `path`; creates missing parent directories.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "part.json".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The plan as a table: the grid, how runs are dealt, and each shard's size.
fn plan_table(h: &Header, count: usize) -> String {
    use std::fmt::Write as _;
    let g = &h.grid;
    let r = g.seeds.len();
    let mut out = String::new();
    let seeds = match (g.seeds.first(), g.seeds.last()) {
        (Some(a), Some(b)) if a != b => format!("seeds {a}…{b}"),
        (Some(a), _) => format!("seed {a}"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{} — `{}`: {} variant{} × {r} replication{} ({seeds}) = {} runs in {count} shard{}",
        h.scenario.name,
        h.command.usage(),
        g.variants.len(),
        if g.variants.len() == 1 { "" } else { "s" },
        if r == 1 { "" } else { "s" },
        g.runs,
        if count == 1 { "" } else { "s" },
    );
    let _ = writeln!(
        out,
        "runs are numbered variant by variant (run = variant × {r} + replicate) and dealt round-robin: run i goes to shard (i mod {count}) + 1"
    );
    if h.command == shard::Command::Sweep {
        let _ = writeln!(out);
        let _ = writeln!(out, "variant  set");
        for (v, a) in g.variants.iter().enumerate() {
            let _ = writeln!(out, "{:>7}  {}", v, label(a));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{:>9}  runs", "shard");
    for (k, size) in shard::sizes(g.runs, count).iter().enumerate() {
        let _ = writeln!(out, "{:>9}  {size:>4}", format!("{}/{count}", k + 1));
    }
    out
}

/// The plan as JSON.
fn plan_json(h: &Header, count: usize) -> Value {
    let g = &h.grid;
    let mut out = Map::new();
    out.insert("scenario".into(), Value::from(h.scenario.name.clone()));
    out.insert(
        "command".into(),
        serde_json::to_value(h.command).unwrap_or(Value::Null),
    );
    let variants: Vec<Value> = g
        .variants
        .iter()
        .map(|a| Value::Object(a.iter().cloned().collect()))
        .collect();
    out.insert("variants".into(), Value::Array(variants));
    out.insert("replications".into(), Value::from(g.seeds.len()));
    out.insert("seeds".into(), Value::from(g.seeds.clone()));
    out.insert("runs".into(), Value::from(g.runs));
    out.insert("dealing".into(), Value::from("round-robin"));
    let shards: Vec<Value> = shard::sizes(g.runs, count)
        .into_iter()
        .enumerate()
        .map(|(k, size)| {
            let mut m = Map::new();
            m.insert("shard".into(), Value::from(format!("{}/{count}", k + 1)));
            m.insert("runs".into(), Value::from(size));
            Value::Object(m)
        })
        .collect();
    out.insert("shards".into(), Value::Array(shards));
    Value::Object(out)
}
