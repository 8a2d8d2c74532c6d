//! Event journeys (`eventflow trace`): what a journey shows is what the engine did, its time adds
//! up, and tracing never changes results.

use eventflow::sim::journey::{Condition, Hop, Journey, Select};
use eventflow::sim::{self, RunOptions, TraceOptions};

use crate::support::{eventflow, scenario, stderr};

fn trace(text: &str, select: Select, count: usize) -> sim::Traced {
    sim::trace(
        &scenario(text),
        &RunOptions::default(),
        &TraceOptions { count, select },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn only(t: &sim::Traced) -> &Journey {
    assert_eq!(t.journeys.len(), 1, "{:#?}", t.journeys);
    &t.journeys[0]
}

fn hops_at<'a>(j: &'a Journey, node: &str) -> Vec<&'a Hop> {
    j.hops.iter().filter(|h| h.node == node).collect()
}

const CLOSE: f64 = 1e-6;

#[test]
fn a_dead_lettered_message_is_received_max_receives_times_a_visibility_timeout_apart() {
    let t = trace(
        r#"{ "name": "redrive", "duration": "10m",
            "producers": [ { "id": "p", "to": "q", "rate": 1, "limit": 1 } ],
            "queues": [ { "id": "q", "max_receives": 3, "visibility_timeout": "30s", "dead_letter": "dlq" },
                        { "id": "dlq" } ],
            "consumers": [ { "id": "c", "from": "q", "failure_rate": 1,
                             "service_time": { "constant": "100ms" } } ] }"#,
        Select::Where(Condition::DeadLettered),
        1,
    );
    let j = only(&t);
    let receives: Vec<&Hop> = hops_at(j, "q")
        .into_iter()
        .filter(|h| h.by.is_some())
        .collect();
    assert_eq!(receives.len(), 3, "max_receives receives: {receives:#?}");
    for (k, h) in receives.iter().enumerate() {
        assert_eq!(h.attempt, Some(k as u32 + 1));
        let started = h.started_s.expect("received");
        let ended = h.ended_s.expect("served");
        assert!((ended - started - 0.1).abs() < CLOSE, "100 ms of service");
        if k > 0 {
            // Received again a visibility timeout after the failure that hid it.
            let before = receives[k - 1].ended_s.expect("served");
            assert!(
                (started - before - 30.0).abs() < CLOSE,
                "{started} - {before}"
            );
        }
    }
    // The third receive fails too; the message moves to the DLQ when it would be received a
    // fourth time, a visibility timeout later (SQS's redrive policy), not at the failure.
    let last = receives[2];
    assert_eq!(last.outcome, "failed");
    let moved: Vec<&Hop> = hops_at(j, "q")
        .into_iter()
        .filter(|h| h.outcome == "dead_lettered")
        .collect();
    assert_eq!(moved.len(), 1, "{:#?}", hops_at(j, "q"));
    assert_eq!(moved[0].reason.as_deref(), Some("max_receives"));
    let failed_at = last.ended_s.expect("served");
    let moved_at = moved[0].ended_s.expect("moved");
    assert!(
        (moved_at - failed_at - 30.0).abs() < CLOSE,
        "{moved_at} - {failed_at}"
    );
    assert_eq!(hops_at(j, "dlq").len(), 1, "it then waits in the DLQ");
    assert_eq!(j.latency_s, None, "nothing completed");
}

#[test]
fn a_retried_delivery_waits_the_documented_exponential_backoff_between_attempts() {
    // EventBridge retries a failed target "with an exponential back off"
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html);
    // without jitter the delays are backoff × 2^(k−1): 1 s, 2 s, 4 s.
    let t = trace(
        r#"{ "name": "retries", "duration": "5m",
            "producers": [ { "id": "p", "to": "b", "rate": 1, "limit": 1 } ],
            "buses": [ { "id": "b", "rules": [ { "id": "r", "pattern": { "source": [{ "prefix": "" }] },
                "targets": [ { "to": "fn", "dead_letter": "dlq",
                               "retry": { "attempts": 3, "max_age": "1h", "backoff": "1s", "jitter": false } } ] } ] } ],
            "queues": [ { "id": "dlq" } ],
            "consumers": [ { "id": "fn", "failure_rate": 1, "service_time": { "constant": "200ms" } } ] }"#,
        Select::Where(Condition::Failed),
        1,
    );
    let j = only(&t);
    let attempts: Vec<&Hop> = j
        .hops
        .iter()
        .filter(|h| h.via.as_deref() == Some("r"))
        .collect();
    assert_eq!(
        attempts.len(),
        4,
        "the first try and 3 retries: {attempts:#?}"
    );
    let served: Vec<&Hop> = hops_at(j, "fn")
        .into_iter()
        .filter(|h| h.via.is_none())
        .collect();
    assert_eq!(served.len(), 4);
    for k in 1..4 {
        let failed_at = served[k - 1].ended_s.expect("served");
        let next = attempts[k].started_s.expect("attempted");
        let backoff = f64::from(1u32 << (k - 1));
        assert!(
            (next - failed_at - backoff).abs() < CLOSE,
            "retry {k}: {next} - {failed_at}"
        );
        assert_eq!(attempts[k].attempt, Some(k as u32 + 1));
    }
    let dead: Vec<&Hop> = j
        .hops
        .iter()
        .filter(|h| h.outcome == "dead_lettered")
        .collect();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason.as_deref(), Some("retries_exhausted"));
}

#[test]
fn a_fan_out_journey_has_one_branch_per_matching_target() {
    let text = std::fs::read_to_string("scenarios/order-fanout.json").expect("bundled scenario");
    let t = trace(&text, Select::Sample, 3);
    for j in &t.journeys {
        let bus = j
            .hops
            .iter()
            .position(|h| h.node == "orders-bus")
            .expect("the bus");
        let branches: Vec<&Hop> = j.hops.iter().filter(|h| h.parent == Some(bus)).collect();
        let mut via: Vec<&str> = branches.iter().filter_map(|h| h.via.as_deref()).collect();
        via.sort_unstable();
        assert_eq!(
            via,
            ["analytics-sub", "email-sub", "inventory-sub", "payment-sub"]
        );
    }
}

#[test]
fn a_saga_journey_shows_its_compensation_branch() {
    let text =
        std::fs::read_to_string("scenarios/saga-compensation.json").expect("bundled scenario");
    let t = trace(&text, Select::Where(Condition::Failed), 2);
    assert_eq!(t.journeys.len(), 2);
    for j in &t.journeys {
        let failed = j
            .hops
            .iter()
            .position(|h| {
                h.outcome == "failed" && h.reason.as_deref().is_some_and(|r| r.contains("handled"))
            })
            .expect("a handled failure");
        // The failure events it emitted are routed on, and reach a compensating consumer.
        let routed = j
            .hops
            .iter()
            .position(|h| h.parent == Some(failed))
            .expect("emitted");
        assert_eq!(j.hops[routed].outcome, "routed");
        assert!(j.hops.iter().skip(routed).any(|h| h.outcome == "completed"));
    }
}

#[test]
fn a_duplicated_message_shows_both_copies_and_the_idempotent_skip() {
    let t = trace(
        r#"{ "name": "dups", "duration": "1m",
            "producers": [ { "id": "p", "to": "q", "rate": 1, "limit": 1 } ],
            "queues": [ { "id": "q", "duplicate_rate": 0.999 } ],
            "consumers": [ { "id": "c", "from": "q", "idempotent": true,
                             "service_time": { "constant": "10ms" } } ] }"#,
        Select::Where(Condition::Duplicated),
        1,
    );
    let j = only(&t);
    let copies = hops_at(j, "q");
    assert_eq!(copies.len(), 2, "{copies:#?}");
    let mut outcomes: Vec<&str> = copies.iter().map(|h| h.outcome).collect();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["completed", "skipped_duplicate"]);
    assert_eq!(
        copies[0].parent, copies[1].parent,
        "siblings: both came from the producer"
    );
}

#[test]
fn a_journeys_time_adds_up_along_its_critical_path() {
    let mut checked = 0;
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        let t = trace(&text, Select::Sample, 5);
        assert!(t.journeys.len() <= 5, "bounded by the sample");
        for j in &t.journeys {
            let Some(latency) = j.latency_s else { continue };
            assert!(
                (latency - j.critical_path_s()).abs() < CLOSE,
                "{}: root {} latency {latency} ≠ critical path {}",
                f.display(),
                j.root,
                j.critical_path_s()
            );
            // Each hop on it starts where its parent ended.
            for w in j.critical_path.windows(2) {
                let (parent, child) = (&j.hops[w[0]], &j.hops[w[1]]);
                assert!((child.arrived_s - parent.ended_s.unwrap_or(f64::NAN)).abs() < CLOSE);
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked} journeys checked");
}

#[test]
fn tracing_never_changes_results() {
    for name in [
        "retries-dlq",
        "saga-compensation",
        "ordering-standard-vs-fifo",
        "hot-partition",
    ] {
        let text = std::fs::read_to_string(format!("scenarios/{name}.json")).expect("bundled");
        let s = scenario(&text);
        let plain = sim::run(&s, &RunOptions::default()).expect("runs");
        for select in [Select::Sample, Select::Where(Condition::Slowest)] {
            let traced = sim::trace(
                &s,
                &RunOptions::default(),
                &TraceOptions { count: 10, select },
            )
            .expect("traces");
            let strip = |r: &sim::Results| {
                let mut r = r.clone();
                r.engine.wall_seconds = 0.0;
                serde_json::to_string(&r).expect("serializes")
            };
            assert_eq!(strip(&plain), strip(&traced.results), "{name}");
        }
    }
}

#[test]
fn the_slowest_journeys_come_longest_first() {
    let text = std::fs::read_to_string("scenarios/order-fanout.json").expect("bundled");
    let t = trace(&text, Select::Where(Condition::Slowest), 5);
    let lat: Vec<f64> = t.journeys.iter().filter_map(|j| j.latency_s).collect();
    assert_eq!(lat.len(), 5);
    assert!(lat.windows(2).all(|w| w[0] >= w[1]), "{lat:?}");
    // The slowest journey is the run's longest end-to-end latency (an exact maximum).
    let max = t.results.end_to_end.latency_s.max_s;
    assert!((lat[0] - max).abs() < CLOSE, "{} vs max {max}", lat[0]);
}

#[test]
fn bad_trace_requests_are_clear_and_exit_2() {
    let out = eventflow(
        &[
            "trace",
            "scenarios/order-fanout.json",
            "--where",
            "sideways",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("dead-lettered"), "{}", stderr(&out));
    let out = eventflow(
        &[
            "trace",
            "scenarios/order-fanout.json",
            "--event",
            "ORD-NOPE",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ORD-NOPE"), "{}", stderr(&out));
    let out = eventflow(
        &[
            "trace",
            "scenarios/order-fanout.json",
            "--event",
            "ORD-7",
            "--json",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let journeys: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("JSON journeys");
    assert_eq!(journeys.len(), 1);
    assert!(journeys[0]["hops"].as_array().is_some_and(|h| h.len() >= 6));
}

#[test]
fn a_state_machines_journey_shows_each_task_call_its_retries_and_the_catch() {
    // Charge always fails: one retry after 1 s, then the Catch runs Release; the execution
    // ends in Fail, compensated.
    let text = r#"{ "format": "eventflow/2", "name": "sfn", "duration": "1m", "seed": 2,
      "producers": [ { "id": "p", "to": "m", "rate": 1, "limit": 1, "event": { "detail": {} } } ],
      "consumers": [
        { "id": "reserve", "kind": "service", "concurrency": 5, "service_time": { "constant": "10ms" } },
        { "id": "charge", "kind": "service", "concurrency": 5, "service_time": { "constant": "20ms" }, "failure_rate": 1.0 },
        { "id": "release", "kind": "service", "concurrency": 5, "service_time": { "constant": "30ms" } } ],
      "state_machines": [ { "id": "m", "definition": { "StartAt": "Reserve", "States": {
        "Reserve": { "Type": "Task", "Resource": "reserve", "Next": "Charge" },
        "Charge": { "Type": "Task", "Resource": "charge", "Next": "Done",
                    "Retry": [ { "ErrorEquals": ["States.ALL"], "MaxAttempts": 1 } ],
                    "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "Release" } ] },
        "Release": { "Type": "Task", "Resource": "release", "Next": "Failed" },
        "Failed": { "Type": "Fail" },
        "Done": { "Type": "Succeed" } } } } ] }"#;
    let t = trace(text, Select::Sample, 1);
    let j = only(&t);
    let machine: Vec<&Hop> = hops_at(j, "m");
    assert_eq!(machine.len(), 1);
    let mh = machine[0];
    assert_eq!(mh.outcome, "failed");
    assert!(
        mh.reason.as_deref().unwrap().contains("compensated"),
        "{mh:?}"
    );
    // 10 ms + 20 ms + 1 s + 20 ms + 30 ms: the machine's hop lasts the execution.
    let exec_s = 0.01 + 0.02 + 1.0 + 0.02 + 0.03;
    assert!(
        (mh.ended_s.unwrap() - mh.arrived_s - exec_s).abs() < 1e-9,
        "{mh:?}"
    );
    assert!((j.latency_s.unwrap() - exec_s).abs() < 1e-9);
    assert!((j.critical_path_s() - exec_s).abs() < 1e-9);
    let machine_index = j.hops.iter().position(|h| h.node == "m").unwrap();
    let calls: Vec<&Hop> = j
        .hops
        .iter()
        .filter(|h| h.kind.as_str() == "consumer")
        .collect();
    let seen: Vec<(&str, Option<&str>, Option<u32>, &str)> = calls
        .iter()
        .map(|h| (h.node.as_str(), h.via.as_deref(), h.attempt, h.outcome))
        .collect();
    assert_eq!(
        seen,
        [
            ("reserve", Some("Task Reserve"), Some(1), "completed"),
            ("charge", Some("Task Charge"), Some(1), "failed"),
            ("charge", Some("Task Charge"), Some(2), "failed"),
            ("release", Some("Task Release"), Some(1), "completed"),
        ]
    );
    for h in &calls {
        assert_eq!(
            h.parent,
            Some(machine_index),
            "calls hang under the machine"
        );
    }
    let first = calls[1].reason.as_deref().unwrap();
    assert!(
        first.contains("Retry 1 of 1: next attempt after 1.000s"),
        "{first}"
    );
    let second = calls[2].reason.as_deref().unwrap();
    assert!(second.contains("caught by Catch → Release"), "{second}");
    // The retry's wait shows as the gap between the two calls.
    assert!((calls[2].arrived_s - calls[1].ended_s.unwrap() - 1.0).abs() < 1e-9);
    // --where failed finds it; tracing changes no figure.
    assert_eq!(
        trace(text, Select::Where(Condition::Failed), 5)
            .journeys
            .len(),
        1
    );
    let plain = sim::run(&scenario(text), &RunOptions::default()).unwrap();
    assert_eq!(
        serde_json::to_value(&plain.nodes).unwrap(),
        serde_json::to_value(&t.results.nodes).unwrap()
    );
}
