//! Same scenario + seed = the same results, byte for byte; another seed differs; how the run is
//! stepped and what else is in the scenario do not change a component's random numbers.

use eventflow::sim::{RunOptions, Simulation, run};

use crate::support::{eventflow, scenario, scenario_file, stdout};

const PIPELINE: &str = r#"{ "name": "pipeline", "seed": 7, "duration": "2m", "warmup": "10s",
  "producers": [ { "id": "checkout", "to": "orders", "rate": 50,
    "event": { "source": "shop", "detail-type": "OrderPlaced",
      "detail": { "orderId": { "$seq": "O-" }, "amount": { "$lognormal": { "mean": 120, "stddev": 300 } },
                  "customer": { "$key": { "count": 100, "skew": 1.1, "prefix": "C-" } } } } } ],
  "buses": [ { "id": "orders", "rules": [
    { "id": "big", "pattern": { "detail": { "amount": [ { "numeric": [">=", 200] } ] } }, "targets": [ { "to": "fraud-q" } ] },
    { "id": "all", "pattern": { "source": ["shop"] }, "targets": [ { "to": "ship-q" } ] } ] } ],
  "queues": [ { "id": "fraud-q" }, { "id": "ship-q", "duplicate_rate": 0.01 } ],
  "consumers": [
    { "id": "fraud", "from": "fraud-q", "concurrency": 2, "service_time": { "exponential": { "mean": "50ms" } }, "failure_rate": 0.05 },
    { "id": "ship", "from": "ship-q", "concurrency": 4, "service_time": { "lognormal": { "mean": "60ms", "stddev": "30ms" } } } ] }"#;

/// The JSON results with the one wall-clock field removed.
fn masked(json: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["engine"].as_object_mut().unwrap().remove("wall_seconds");
    serde_json::to_string(&v).unwrap()
}

#[test]
fn two_runs_are_byte_identical_and_another_seed_differs() {
    let (_dir, path) = scenario_file(PIPELINE);
    let p = path.to_str().unwrap();
    let a = stdout(&eventflow(&["run", p, "--json"], ""));
    let b = stdout(&eventflow(&["run", p, "--json"], ""));
    assert!(a.contains("\"series\""), "--json carries the time series");
    assert!(a.contains("\"conservation\""));
    assert_eq!(masked(&a), masked(&b));
    let c = stdout(&eventflow(&["run", p, "--json", "--seed", "8"], ""));
    assert_ne!(masked(&a).len(), 0);
    let ship = |j: &str| {
        serde_json::from_str::<serde_json::Value>(j).unwrap()["nodes"]["ship"]["completed"].clone()
    };
    assert_ne!(ship(&a), ship(&c), "a different seed gives a different run");
}

#[test]
fn stepping_in_chunks_gives_the_same_results() {
    let s = scenario(PIPELINE);
    let whole = run(&s, &RunOptions::default()).unwrap();
    let mut sim = Simulation::new(&s, &RunOptions::default()).unwrap();
    let mut t = 0;
    // Uneven steps, as a GUI at a varying frame rate would take.
    let mut step = 1_000_000u64;
    while sim.advance_to(t) {
        t += step;
        step = step * 7 % 3_000_000_007 + 13;
    }
    let stepped = sim.results();
    let j = |r: &eventflow::sim::Results| {
        let mut v = serde_json::to_value(r).unwrap();
        v["engine"].as_object_mut().unwrap().remove("wall_seconds");
        v.to_string()
    };
    assert_eq!(j(&whole), j(&stepped));
}

#[test]
fn adding_a_component_does_not_change_another_ones_numbers() {
    let base = scenario(PIPELINE);
    let mut more = base.clone();
    let extra: eventflow::model::Scenario = scenario(
        r#"{ "name": "x", "duration": "2m",
            "producers": [ { "id": "audit-src", "to": "audit-q", "rate": 30 } ],
            "queues": [ { "id": "audit-q" } ],
            "consumers": [ { "id": "audit", "from": "audit-q", "service_time": { "exponential": { "mean": "10ms" } } } ] }"#,
    );
    // Put the new components first, so positions shift too.
    more.producers.insert(0, extra.producers[0].clone());
    more.queues.insert(0, extra.queues[0].clone());
    more.consumers.insert(0, extra.consumers[0].clone());
    let a = run(&base, &RunOptions::default()).unwrap();
    let b = run(&more, &RunOptions::default()).unwrap();
    for id in ["checkout", "orders", "fraud", "ship", "ship-q"] {
        let (x, y) = (a.nodes.get(id).unwrap(), b.nodes.get(id).unwrap());
        assert_eq!(
            serde_json::to_string(x).unwrap(),
            serde_json::to_string(y).unwrap(),
            "{id} changed"
        );
    }
}

#[test]
fn conservation_balances() {
    let r = run(&scenario(PIPELINE), &RunOptions::default()).unwrap();
    let c = r.conservation;
    assert!(c.deliveries > 0);
    assert_eq!(
        c.deliveries,
        c.completed + c.dead_lettered + c.rejected + c.expired + c.dropped + c.in_flight
    );
}
