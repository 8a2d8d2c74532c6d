//! Scenario-mix benchmark: every bundled scenario (`scenarios/*.json`) run to its end through
//! the library, reported in engine events per second (events handled / wall time of the run),
//! each and for the mix as a whole (total events / total wall), beside the M/M/10 benchmark of
//! `benches/engine.rs` run in the same rounds.
//!
//! `cargo bench --bench scenarios` (`EVENTFLOW_BENCH_ROUNDS` sets the rounds, default 5).
//! Targets (issue 16): the mix at ≥ 40 % of the M/M/10 benchmark's engine events per second,
//! the slowest scenario at ≥ 25 %. The wall time of a run excludes compiling the simulation
//! (the same for the M/M/10 figure here, which is why it can differ from `benches/engine.rs`,
//! whose customers-per-second figure includes it). Each figure is the median over the rounds;
//! the rounds interleave all the runs so that every figure sees the same machine load.

mod common;

use std::path::PathBuf;

use common::{engine_run, median, mm10};

const CUSTOMERS: u64 = 1_000_000;

fn main() {
    let rounds: usize = std::env::var("EVENTFLOW_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    files.sort();
    let scenarios: Vec<(String, eventflow::model::Scenario)> = files
        .iter()
        .map(|f| {
            let name = f
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            match eventflow::scenario::load(f) {
                Ok(l) => (name, l.scenario),
                Err(e) => panic!("{e}"),
            }
        })
        .collect();
    let reference = mm10(CUSTOMERS);

    let mut events = vec![0u64; scenarios.len()];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); scenarios.len()];
    let mut ref_events = 0;
    let mut ref_walls = Vec::new();
    for _ in 0..rounds {
        let (n, w) = engine_run(&reference);
        ref_events = n;
        ref_walls.push(w);
        for (i, (name, s)) in scenarios.iter().enumerate() {
            let (n, w) = engine_run(s);
            // Deterministic: every round handles the same events.
            assert!(
                events[i] == 0 || events[i] == n,
                "{name}: event count changed"
            );
            events[i] = n;
            walls[i].push(w);
        }
    }
    let ref_rate = ref_events as f64 / median(ref_walls);

    println!(
        "eventflow scenario mix: {} bundled scenarios, median of {rounds} rounds, one core",
        scenarios.len()
    );
    println!(
        "{:<30} {:>12} {:>10} {:>14} {:>9}",
        "scenario", "events", "wall ms", "events/s", "of M/M/10"
    );
    let mut total_events = 0u64;
    let mut total_wall = 0.0;
    let mut slowest: Option<(&str, f64)> = None;
    for (i, (name, _)) in scenarios.iter().enumerate() {
        let wall = median(walls[i].clone());
        let rate = events[i] as f64 / wall;
        total_events += events[i];
        total_wall += wall;
        if slowest.is_none_or(|(_, r)| rate < r) {
            slowest = Some((name, rate));
        }
        println!(
            "{name:<30} {:>12} {:>10.1} {rate:>14.0} {:>8.1} %",
            events[i],
            wall * 1e3,
            100.0 * rate / ref_rate
        );
    }
    let mix = total_events as f64 / total_wall;
    println!(
        "{:<30} {total_events:>12} {:>10.1} {mix:>14.0} {:>8.1} %",
        "mix (total events / total wall)",
        total_wall * 1e3,
        100.0 * mix / ref_rate
    );
    println!(
        "{:<30} {ref_events:>12} {:>10} {ref_rate:>14.0} {:>8.1} %",
        "M/M/10 benchmark (reference)", "", 100.0
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let mix_pct = 100.0 * mix / ref_rate;
    println!(
        "mix / M/M/10 = {mix_pct:.1} % (target ≥ 40 %: {})",
        verdict(mix_pct >= 40.0)
    );
    if let Some((name, rate)) = slowest {
        let pct = 100.0 * rate / ref_rate;
        println!(
            "slowest ({name}) / M/M/10 = {pct:.1} % (target ≥ 25 %: {})",
            verdict(pct >= 25.0)
        );
    }
}
