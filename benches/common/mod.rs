//! Shared by the engine benchmarks: the M/M/10 benchmark scenario and timing helpers.

use std::time::Instant;

use eventflow::model::Scenario;
use eventflow::sim::{RunOptions, Simulation};

/// The M/M/10 scenario of `benches/engine.rs`: `customers` customers through producer → queue
/// → consumer (λ = 9/s, μ = 1/s, 10 servers), all measurement on.
pub fn mm10(customers: u64) -> Scenario {
    let text = format!(
        r#"{{ "name": "M/M/10 benchmark", "seed": 1, "duration": "{}s",
            "producers": [ {{ "id": "p", "to": "q", "rate": 9, "limit": {customers} }} ],
            "queues": [ {{ "id": "q" }} ],
            "consumers": [ {{ "id": "c", "from": "q", "concurrency": 10,
                             "service_time": {{ "exponential": {{ "mean": "1s" }} }} }} ] }}"#,
        customers / 9 + 1000
    );
    match eventflow::scenario::parse(&text, "bench.json") {
        Ok(l) => l.scenario,
        Err(e) => panic!("{e}"),
    }
}

/// One engine run of a scenario to its end: (engine events handled, wall seconds of the run
/// itself, compiling the simulation excluded).
pub fn engine_run(s: &Scenario) -> (u64, f64) {
    let mut sim = match Simulation::new(s, &RunOptions::default()) {
        Ok(sim) => sim,
        Err(e) => panic!("{}: {e}", s.name),
    };
    let start = Instant::now();
    sim.run_to_end();
    let wall = start.elapsed().as_secs_f64();
    (sim.events_processed(), wall)
}

/// Median of a non-empty sample.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
