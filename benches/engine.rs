//! Engine benchmark: an M/M/10 of 10⁶ customers through producer → queue → consumer with all
//! measurement on (histograms, time averages, time series), reported in customers per second,
//! beside the lean M/M/c loop of `../shared/reference/lean-loop` run in the same minute.
//!
//! `cargo bench --bench engine` (set `EVENTFLOW_LEAN_LOOP` to the lean loop's directory when
//! it is not at `../shared/reference/lean-loop`; it is skipped when absent).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use eventflow::sim::{RunOptions, Simulation};

mod common;
use common::{erlang_c_wait, median, mm10};

const CUSTOMERS: u64 = 1_000_000;
const ROUNDS: usize = 5;

/// Customers per second of one engine run, and the run's mean wait (to check it is M/M/10).
fn engine_round(s: &eventflow::model::Scenario) -> (f64, f64) {
    let start = Instant::now();
    let mut sim =
        Simulation::new(s, &RunOptions::default()).expect("the benchmark scenario compiles");
    sim.run_to_end();
    let wall = start.elapsed().as_secs_f64();
    let r = sim.results();
    let c = r.nodes.get("c").expect("consumer c");
    assert_eq!(r.conservation.deliveries, CUSTOMERS);
    (r.conservation.completed as f64 / wall, c.wait_s.mean_s)
}

fn lean_loop_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EVENTFLOW_LEAN_LOOP").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/lean-loop"),
        PathBuf::from,
    );
    dir.join("Cargo.toml").exists().then_some(dir)
}

/// Customers per second of the lean loop, built and run by cargo.
fn lean_round(dir: &Path) -> Option<f64> {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/lean-loop"))
        .args([
            "--",
            "--lam",
            "9",
            "--mu",
            "1",
            "--c",
            "10",
            "--customers",
            &CUSTOMERS.to_string(),
            "--seed",
            "1",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
    v["customers_per_second"].as_f64()
}

fn main() {
    let s = mm10(CUSTOMERS);
    let lean = lean_loop_dir();
    if let Some(dir) = &lean {
        // Build it before timing anything.
        let _ = lean_round(dir);
    }
    let mut engine = Vec::new();
    let mut yardstick = Vec::new();
    let mut wait = 0.0;
    // Interleave the two so both see the same machine load.
    for _ in 0..ROUNDS {
        let (rate, wq) = engine_round(&s);
        engine.push(rate);
        wait = wq;
        if let Some(dir) = &lean
            && let Some(rate) = lean_round(dir)
        {
            yardstick.push(rate);
        }
    }
    let e = median(engine);
    let erlang = erlang_c_wait(9.0, 1.0, 10);
    println!(
        "engine  M/M/10, {CUSTOMERS} customers, all measurement on: {e:>12.0} customers/s (median of {ROUNDS}; mean wait {wait:.4}s, Erlang C {erlang:.4}s)"
    );
    // A benchmark of something else than an M/M/10 compares nothing with the lean loop.
    assert!(
        (wait - erlang).abs() < 0.05 * erlang,
        "the benchmark is not an M/M/10: mean wait {wait:.4}s against Erlang C {erlang:.4}s"
    );
    if yardstick.is_empty() {
        println!("lean loop: not found (set EVENTFLOW_LEAN_LOOP); no ratio");
    } else {
        let l = median(yardstick);
        println!(
            "lean loop M/M/10, {CUSTOMERS} customers, no routing or metrics: {l:>6.0} customers/s (median of {ROUNDS})"
        );
        println!(
            "engine / lean loop = {:.1} % (target ≥ 50 %, issue 16)",
            100.0 * e / l
        );
    }
}
