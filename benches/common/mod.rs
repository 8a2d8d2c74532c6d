//! Shared by the engine benchmarks: the M/M/10 benchmark scenario and timing helpers.

// Each benchmark includes this module and uses a part of it.
#![allow(dead_code)]

use std::time::Instant;

use eventflow::model::Scenario;
use eventflow::sim::{RunOptions, Simulation};

/// The M/M/10 scenario of `benches/engine.rs`: `customers` customers through producer → queue
/// → consumer (λ = 9/s, μ = 1/s, 10 servers), all measurement on. A version-1 file (no
/// `format`): its consumer is a service taking one message at a time. In version 2 a consumer
/// is a Lambda function by default, with SQS batches of up to ten and cold starts, which is
/// not an M/M/10 (its mean wait is about 10 % above Erlang C even with `batch_size` 1).
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

/// The mean wait in queue of an M/M/c (Erlang C, `../shared/reference/queueing.md`):
/// Wq = C(c, a) / (cμ − λ) with a = λ/μ and
/// C(c, a) = (aᶜ/c!)·c/(c − a) / (Σₖ₌₀^{c−1} aᵏ/k! + (aᶜ/c!)·c/(c − a)).
pub fn erlang_c_wait(lambda: f64, mu: f64, c: u32) -> f64 {
    let a = lambda / mu;
    let (mut term, mut sum) = (1.0, 0.0); // aᵏ/k!, from k = 0
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let queued = term * f64::from(c) / (f64::from(c) - a);
    queued / (sum + queued) / (f64::from(c) * mu - lambda)
}

/// Median of a non-empty sample.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
