//! `EventBridge` Pipes at run time: filtering against the generator's distribution, enrichment
//! time in end-to-end latency, conservation through queue- and stream-sourced pipes, an SQS
//! source's redrive policy, every target kind, and state machine targets.

use crate::support::{balanced, binomial_close, eventflow, results, scenario_file, stderr, stdout};

/// A producer of orders, 30% `NEW`, into `source`; a pipe from it with `pipe_extra` fields.
fn orders(source_section: &str, pipe: &str, rest: &str) -> String {
    format!(
        r#"{{ "format": "eventflow/2", "name": "pipe", "duration": "10m", "seed": 11,
  "producers": [ {{ "id": "p", "to": "src", "rate": 20,
    "event": {{ "source": "shop", "detail-type": "Order",
               "detail": {{ "status": {{ "$choice": {{ "NEW": 0.3, "PAID": 0.7 }} }} }} }} }} ],
  {source_section},
  "pipes": [ {pipe} ]{rest} }}"#
    )
}

const SQS_SOURCE: &str = r#""queues": [ { "id": "src" }, { "id": "out" } ]"#;
const SINK: &str = r#", "consumers": [
    { "id": "enrich", "kind": "service", "concurrency": 50, "service_time": { "constant": "200ms" } },
    { "id": "sink", "from": "out", "concurrency": 20, "service_time": { "constant": "20ms" } } ]"#;

#[test]
fn the_filtered_share_matches_the_generator_and_filtered_events_complete() {
    let text = orders(
        SQS_SOURCE,
        r#"{ "id": "pp", "source": "src", "batch_size": 1, "concurrency": 5,
             "filter": [ { "detail": { "status": ["NEW"] } } ], "target": "out" }"#,
        SINK,
    );
    let r = results(&text);
    balanced(&r);
    let pipe = r.nodes.get("pp").unwrap().pipe.clone().unwrap();
    let produced = r.nodes.get("p").unwrap().completed;
    assert_eq!(pipe.read, produced, "a sole reader reads every event once");
    // 70% of events are not NEW: filtered, the rest delivered (the run drains: 20 ms sink).
    binomial_close(pipe.filtered, pipe.read, 0.7, 4.0);
    let in_flight = r.conservation.in_flight;
    assert!(pipe.delivered + pipe.filtered + in_flight >= pipe.read);
    assert!(pipe.delivered + pipe.filtered <= pipe.read);
    assert_eq!(r.nodes.get("out").unwrap().arrived, pipe.delivered);
    assert_eq!(pipe.enrichment_calls, 0);
    // Filtered events are completed deliveries, not lost ones.
    assert_eq!(r.conservation.dropped + r.conservation.dead_lettered, 0);
}

#[test]
fn enrichment_adds_its_service_time_to_end_to_end_latency() {
    let pipe = |enrich: &str| {
        format!(
            r#"{{ "id": "pp", "source": "src", "batch_size": 1, "concurrency": 50 {enrich}, "target": "out" }}"#
        )
    };
    let with = results(&orders(
        SQS_SOURCE,
        &pipe(r#", "enrichment": "enrich""#),
        SINK,
    ));
    let without = results(&orders(SQS_SOURCE, &pipe(""), SINK));
    balanced(&with);
    balanced(&without);
    // Constant times and idle slots: the enrichment's 200 ms is the whole difference.
    let d = with.end_to_end.latency_s.mean_s - without.end_to_end.latency_s.mean_s;
    assert!(
        (d - 0.2).abs() < 0.005,
        "enrichment added {d:.4}s, not 0.200s"
    );
    let p = with.nodes.get("pp").unwrap().pipe.clone().unwrap();
    assert_eq!(
        p.enrichment_calls, p.batches,
        "one enrichment call per batch"
    );
    assert_eq!(p.enrichment_failures, 0);
    let e = with.nodes.get("enrich").unwrap();
    assert_eq!(e.arrived, p.batches, "batch size 1: one event per call");
    assert!((e.latency_s.mean_s - 0.2).abs() < 1e-6);
}

#[test]
fn conservation_balances_through_an_sqs_sourced_pipe_with_failures_and_its_dlq() {
    // The enrichment fails 30% of calls; the queue's redrive policy moves a message that keeps
    // failing to its DLQ after max_receives (the pipe has no DLQ of its own for SQS).
    let text = r#"{ "format": "eventflow/2", "name": "pipe-dlq", "duration": "20m", "seed": 5,
  "producers": [ { "id": "p", "to": "src", "rate": 5 } ],
  "queues": [ { "id": "src", "visibility_timeout": "1s", "dead_letter": "dlq", "max_receives": 3 },
              { "id": "dlq" }, { "id": "out" } ],
  "consumers": [
    { "id": "enrich", "kind": "service", "concurrency": 50, "failure_rate": 0.3,
       "service_time": { "constant": "50ms" } },
    { "id": "sink", "from": "out", "concurrency": 10, "service_time": { "constant": "10ms" } } ],
  "pipes": [ { "id": "pp", "source": "src", "batch_size": 1, "concurrency": 20,
               "enrichment": "enrich", "target": "out" } ] }"#;
    let r = results(text);
    balanced(&r);
    let p = r.nodes.get("pp").unwrap().pipe.clone().unwrap();
    // A message reaches the DLQ when all max_receives = 3 receives failed: p³ of them.
    // Of the messages that finished (delivered or dead-lettered; a few are still in flight).
    let finished = p.delivered + p.dead_lettered;
    assert!(finished + 50 > p.read, "{p:?}");
    binomial_close(p.dead_lettered, finished, 0.3_f64.powi(3), 4.0);
    assert_eq!(r.nodes.get("dlq").unwrap().arrived, p.dead_lettered);
    // Each failed call is one failed batch attempt (batch size 1) and one failed event.
    assert_eq!(p.failed, p.enrichment_failures);
    // Calls: first attempts plus retries; failures are 30% of the calls.
    binomial_close(p.enrichment_failures, p.enrichment_calls, 0.3, 4.0);
    assert_eq!(
        r.nodes.get("out").unwrap().arrived,
        p.delivered,
        "what the pipe delivered reached the target"
    );
}

#[test]
fn conservation_balances_through_a_stream_sourced_pipe_with_retries_and_its_dead_letter() {
    // A failing target: stream batches are retried max_retry_attempts times, then discarded to
    // the pipe's dead_letter.
    let text = r#"{ "format": "eventflow/2", "name": "pipe-stream", "duration": "10m", "seed": 9,
  "producers": [ { "id": "p", "to": "src", "rate": 10,
    "event": { "source": "shop", "detail": { "status": { "$choice": { "NEW": 0.5, "PAID": 0.5 } } } } } ],
  "streams": [ { "id": "src", "partitions": 4 } ],
  "queues": [ { "id": "dlq" } ],
  "consumers": [
    { "id": "fn", "concurrency": 100, "failure_rate": 0.5, "service_time": { "constant": "20ms" } } ],
  "pipes": [ { "id": "pp", "source": "src", "batch_size": 1, "max_retry_attempts": 1,
               "filter": [ { "detail": { "status": ["NEW"] } } ],
               "target": "fn", "dead_letter": "dlq" } ] }"#;
    let r = results(text);
    balanced(&r);
    let p = r.nodes.get("pp").unwrap().pipe.clone().unwrap();
    binomial_close(p.filtered, p.read, 0.5, 4.0);
    // A NEW record is discarded when its first try and its one retry both fail: 0.25 of the
    // records that finished (delivered or discarded; some are still in their lanes).
    let finished = p.delivered + p.dead_lettered;
    assert!(finished + 200 > p.read - p.filtered, "{p:?}");
    binomial_close(p.dead_lettered, finished, 0.25, 4.0);
    assert_eq!(
        p.target_calls, p.batches,
        "a sync function target: a call per batch"
    );
    binomial_close(p.target_failures, p.target_calls, 0.5, 4.0);
    assert_eq!(p.delivered, p.target_calls - p.target_failures);
    // The discarded batches reach the DLQ as one record each (batch size 1).
    assert_eq!(r.nodes.get("dlq").unwrap().arrived, p.dead_lettered);
    assert!(r.nodes.get("pp").unwrap().mapping.is_some());
}

#[test]
fn a_stream_pipe_bisects_a_failing_batch() {
    let text = r#"{ "format": "eventflow/2", "name": "pipe-bisect", "duration": "2m", "seed": 4,
  "producers": [ { "id": "p", "to": "src", "rate": 50,
    "event": { "source": "shop", "detail": { "poison": { "$bool": 0.02 } } } } ],
  "streams": [ { "id": "src", "partitions": 1 } ],
  "queues": [ { "id": "dlq" } ],
  "consumers": [
    { "id": "fn", "concurrency": 10, "fail_when": { "detail": { "poison": [true] } },
      "service_time": { "constant": "10ms" } } ],
  "pipes": [ { "id": "pp", "source": "src", "batch_size": 8, "batch_window": "200ms",
               "bisect_on_error": true, "max_retry_attempts": 0,
               "target": "fn", "dead_letter": "dlq" } ] }"#;
    let r = results(text);
    balanced(&r);
    let n = r.nodes.get("pp").unwrap();
    assert!(n.mapping.as_ref().unwrap().bisections > 0);
    // Splitting isolates each poison record: only batches of one poison record are discarded,
    // so at most a few healthy records share their fate.
    let p = n.pipe.clone().unwrap();
    assert!(
        p.dead_lettered > 0 && p.dead_lettered < p.read / 10,
        "{p:?}"
    );
}

/// Each target kind: what the pipe delivered arrives there.
#[test]
fn every_target_kind_receives_what_the_pipe_delivered() {
    const AFTER: &str = r#", { "id": "after" }"#;
    let targets = [
        // A bus receives events of source `Pipe <id>`, detail-type `Event from aws:sqs`.
        (
            "bus",
            AFTER,
            r#", "buses": [ { "id": "t", "rules": [ { "id": "all", "pattern": { "source": ["Pipe pp"], "detail-type": ["Event from aws:sqs"], "detail": { "source": ["shop"] } }, "targets": [ { "to": "after" } ] } ] } ]"#,
        ),
        ("queue", r#", { "id": "t" }"#, ""),
        (
            "stream",
            "",
            r#", "streams": [ { "id": "t", "partitions": 2 } ]"#,
        ),
        (
            "topic",
            AFTER,
            r#", "topics": [ { "id": "t", "subscriptions": [ { "to": "after" } ] } ]"#,
        ),
        (
            "function, sync",
            "",
            r#", "consumers": [ { "id": "t", "service_time": { "constant": "5ms" }, "concurrency": 20 } ]"#,
        ),
        (
            "service",
            "",
            r#", "consumers": [ { "id": "t", "kind": "service", "service_time": { "constant": "5ms" }, "concurrency": 20 } ]"#,
        ),
        (
            "state machine",
            "",
            r#", "state_machines": [ { "id": "t", "definition": { "StartAt": "Done", "States": { "Done": { "Type": "Succeed" } } } } ]"#,
        ),
    ];
    for (what, queues, section) in targets {
        let text = format!(
            r#"{{ "format": "eventflow/2", "name": "t", "duration": "2m", "seed": 2,
  "producers": [ {{ "id": "p", "to": "src", "rate": 10, "event": {{ "source": "shop", "detail": {{}} }} }} ],
  "queues": [ {{ "id": "src" }}{queues} ]{section},
  "pipes": [ {{ "id": "pp", "source": "src", "batch_size": 1, "concurrency": 5, "target": "t" }} ] }}"#
        );
        let r = results(&text);
        balanced(&r);
        let p = r.nodes.get("pp").unwrap().pipe.clone().unwrap();
        // 10/s for 2 minutes, less what is still in flight at the end.
        assert!(p.delivered > 1000, "{what}: {p:?}");
        let t = r.nodes.get("t").unwrap();
        assert_eq!(t.arrived, p.delivered, "{what}: the target's arrivals");
        if queues == AFTER {
            assert_eq!(
                r.nodes.get("after").unwrap().arrived,
                p.delivered,
                "{what}: routed on"
            );
        }
    }
}

#[test]
fn an_async_function_target_is_handed_each_event_and_a_state_machine_starts_executions() {
    let text = r#"{ "format": "eventflow/2", "name": "t", "duration": "2m", "seed": 2,
  "producers": [ { "id": "p", "to": "src", "rate": 10, "event": { "source": "shop", "detail": {} } } ],
  "streams": [ { "id": "src", "partitions": 2 } ],
  "queues": [ { "id": "q2" } ],
  "consumers": [ { "id": "fn", "service_time": { "constant": "5ms" }, "concurrency": 5 },
                 { "id": "task", "service_time": { "constant": "30ms" }, "concurrency": 50 } ],
  "pipes": [ { "id": "to-fn", "source": "src", "batch_size": 1, "target": "fn", "invocation": "async" },
             { "id": "to-sm", "source": "src", "batch_size": 1, "target": "saga" } ],
  "state_machines": [ { "id": "saga", "definition": { "StartAt": "Work",
      "States": { "Work": { "Type": "Task", "Resource": "task", "End": true } } } } ] }"#;
    let r = results(text);
    balanced(&r);
    let produced = r.nodes.get("p").unwrap().completed;
    let fn_pipe = r.nodes.get("to-fn").unwrap().pipe.clone().unwrap();
    assert_eq!(fn_pipe.target_calls, 0, "async: handed on, not waited for");
    assert_eq!(r.nodes.get("fn").unwrap().arrived, fn_pipe.delivered);
    let sm_pipe = r.nodes.get("to-sm").unwrap().pipe.clone().unwrap();
    // Each stream consumer group reads every record: both pipes read all of them.
    assert_eq!(sm_pipe.read, produced);
    let sm = r.nodes.get("saga").unwrap().state_machine.clone().unwrap();
    assert_eq!(sm.started, sm_pipe.delivered, "one execution per event");
    assert!(sm.started + 10 >= produced, "{} of {produced}", sm.started);
    // Fire-and-forget: the pipe does not wait for the 30 ms Task.
    assert_eq!(sm_pipe.target_calls, 0);
    assert_eq!(
        r.nodes.get("task").unwrap().arrived,
        sm.succeeded + sm.running
    );
}

#[test]
fn pipe_figures_are_in_run_json_and_settings_out_of_place_are_errors() {
    let text = orders(
        SQS_SOURCE,
        r#"{ "id": "pp", "source": "src", "target": "out", "enrichment": "enrich" }"#,
        SINK,
    );
    let (_dir, path) = scenario_file(&text);
    let o = eventflow(&["run", &path.to_string_lossy(), "--json"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let p = &v["nodes"]["pp"]["pipe"];
    for field in [
        "read",
        "filtered",
        "batches",
        "enrichment_calls",
        "enrichment_failures",
        "target_calls",
        "target_failures",
        "delivered",
        "failed",
        "dead_lettered",
    ] {
        assert!(p[field].is_u64(), "{field} in {p}");
    }
    // A queue source's dead-letter queue is the queue's own; stream settings do not apply.
    let bad = orders(
        SQS_SOURCE,
        r#"{ "id": "pp", "source": "src", "target": "out", "bisect_on_error": true,
             "dead_letter": "out", "enrichment": "sink" }"#,
        SINK,
    );
    let (_dir, path) = scenario_file(&bad);
    let o = eventflow(&["check", &path.to_string_lossy()], "");
    assert_eq!(o.status.code(), Some(2));
    let out = stderr(&o) + &stdout(&o);
    assert!(out.contains("pipes[0].bisect_on_error"), "{out}");
    assert!(out.contains("pipes[0].dead_letter"), "{out}");
    assert!(
        out.contains("pipes[0].enrichment") && out.contains("event source mapping"),
        "{out}"
    );
}
