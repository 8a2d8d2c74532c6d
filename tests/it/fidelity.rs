//! AWS as documented (format version 2): asynchronous Lambda invocation, SQS and stream event
//! source mappings, rule targets in an outage, paced redrives, and the migration of version-1
//! files. Each expected figure is worked out in the test from the AWS documentation's numbers.

use eventflow::model::Scenario;
use eventflow::sim::{NodeResult, Results, RunOptions, Simulation, run};

use crate::support::{eventflow, scenario, stderr};

const SEC: f64 = 1e9;

fn results(text: &str) -> Results {
    run(&scenario(text), &RunOptions::default()).unwrap()
}

fn node<'a>(r: &'a Results, id: &str) -> &'a NodeResult {
    r.nodes.get(id).unwrap_or_else(|| panic!("no node {id}"))
}

fn balanced(r: &Results) {
    let c = r.conservation;
    assert!(c.balanced(), "{c:?}");
}

/// |x − n·p| within `sigmas` binomial standard deviations.
fn binomial_close(what: &str, x: u64, n: u64, p: f64, sigmas: f64) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (x as f64 - mean).abs() <= sigmas * sd,
        "{what}: {x} of {n}, expected {mean:.1} ± {:.1}",
        sigmas * sd
    );
}

// ----- asynchronous invocation ----------------------------------------------------------------

#[test]
fn a_function_that_always_fails_runs_three_times_and_reaches_on_failure_about_three_minutes_later()
{
    // "by default Lambda attempts to run it two more times, with a one-minute wait between the
    // first two attempts, and two minutes between the second and third attempts"
    // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
    // One event at t = 1 s; each try takes 100 ms: tries at 1 s, 61.1 s and 181.2 s; the record
    // reaches the destination at 181.3 s.
    let r = results(
        r#"{ "format": "eventflow/2", "name": "async", "duration": "10m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1, "limit": 1, "arrivals": "uniform" } ],
            "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
                "targets": [ { "to": "fn" } ] } ] } ],
            "queues": [ { "id": "failures" } ],
            "consumers": [ { "id": "fn", "failure_rate": 1, "service_time": { "constant": "100ms" },
                             "async": { "on_failure": "failures" } } ] }"#,
    );
    balanced(&r);
    let f = node(&r, "fn");
    assert_eq!(f.failed, 3, "1 try + 2 retries");
    let a = f.asynchronous.as_ref().expect("async figures");
    assert_eq!(a.retries, 2);
    assert_eq!(a.to_on_failure, 1);
    // The rule target saw a success: no EventBridge retry, no EventBridge DLQ.
    assert_eq!(node(&r, "bus").retried, 0);
    assert_eq!(node(&r, "failures").arrived, 1);
    assert_eq!(r.conservation.dead_lettered, 1);
    // The record arrived 180.3 s after the event: its age at the end of the run.
    let age = node(&r, "failures").lag_s.unwrap();
    let expected_age = 600.0 - (1.0 + 60.0 + 120.0 + 0.3);
    assert!((age - expected_age).abs() < 0.01, "{age} vs {expected_age}");
}

#[test]
fn a_burst_into_a_busy_function_waits_in_its_queue_and_drains_at_its_capacity() {
    // 500 events/s for 60 s into a function of 10 × 100 ms = 100 per second. Asynchronous
    // invocation accepts every event (throttles wait in Lambda's queue), so nothing is lost:
    // 30,000 events, the backlog peaks at 60 × (500 − 100) = 24,000 and drains at 100/s, so the
    // last event finishes at 30,000 / 100 = 300 s, having waited 300 − 60 = 240 s.
    let text = r#"{ "format": "eventflow/2", "name": "burst", "duration": "320s",
        "producers": [ { "id": "p", "to": "bus", "rate": 500, "arrivals": "uniform",
                         "schedule": [ { "at": "60s", "rate": 0 } ] } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
            "targets": [ { "to": "fn", "dead_letter": "dlq" } ] } ] } ],
        "queues": [ { "id": "dlq" } ],
        "consumers": [ { "id": "fn", "concurrency": 10, "service_time": { "constant": "100ms" } } ] }"#;
    let r = results(text);
    balanced(&r);
    let c = r.conservation;
    assert_eq!(c.dead_lettered + c.dropped + c.rejected, 0, "{c:?}");
    assert_eq!(c.completed, 30_000);
    let f = node(&r, "fn");
    let a = f.asynchronous.as_ref().unwrap();
    let peak = 60.0 * (500.0 - 100.0);
    assert!(
        (a.queue_depth_max as f64 - peak).abs() / peak < 0.01,
        "{}",
        a.queue_depth_max
    );
    assert!((a.age_max_s - 240.0).abs() < 1.0, "{}", a.age_max_s);
    // The same burst into a synchronous service is throttled (HTTP 429): EventBridge retries
    // with backoff, so by the end many events are still waiting out their backoff.
    let service = results(&text.replace(r#""id": "fn", "#, r#""id": "fn", "kind": "service", "#));
    assert!(node(&service, "fn").throttled > 0);
    assert!(node(&service, "bus").retried > 0);
    assert!(service.conservation.completed < 30_000);
}

#[test]
fn an_old_async_event_is_not_run_and_goes_to_on_failure() {
    // async.max_age 60 s: the function is down for 5 minutes, so an event accepted at ~0 is
    // older than 60 s when a slot frees, and goes to on_failure unrun.
    let r = results(
        r#"{ "format": "eventflow/2", "name": "age", "duration": "10m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1, "limit": 1 } ],
            "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
                "targets": [ { "to": "fn" } ] } ] } ],
            "queues": [ { "id": "failures" } ],
            "consumers": [ { "id": "fn", "service_time": { "constant": "100ms" },
                             "async": { "max_age": "60s", "on_failure": "failures" } } ],
            "faults": [ { "target": "fn", "from": "0s", "to": "5m", "kind": "outage" } ] }"#,
    );
    balanced(&r);
    let f = node(&r, "fn");
    assert_eq!(f.completed + f.failed, 0, "never run");
    assert_eq!(f.dead_letter_reasons.get("max_age"), Some(&1));
    assert_eq!(node(&r, "failures").arrived, 1);
}

// ----- SQS event source mappings -----------------------------------------------------------------

/// 20,000 messages waiting, read in batches of 10 by 5 slots at full concurrency, each message
/// failing with probability 0.1; `extra` adds consumer settings.
fn batch_failures(extra: &str) -> Results {
    results(&format!(
        r#"{{ "format": "eventflow/2", "name": "batches", "duration": "2m",
            "producers": [ {{ "id": "p", "to": "q", "rate": 20000, "limit": 20000, "arrivals": "uniform" }} ],
            "queues": [ {{ "id": "q", "visibility_timeout": "5s" }} ],
            "consumers": [ {{ "id": "c", "from": "q", "concurrency": 5, "scaling": "instant",
                "batch_size": 10, "batch_window": "1s", "failure_rate": 0.1, "service_time": {{ "constant": "10ms" }} {extra} }} ] }}"#
    ))
}

#[test]
fn a_batch_with_one_failed_message_returns_whole_unless_batch_item_failures_are_reported() {
    // AWS's default: a function error returns the whole batch. A batch of 10 with per-message
    // failure p = 0.1 fails with probability 1 − 0.9¹⁰ = 0.651.
    let whole = batch_failures("");
    balanced(&whole);
    let m = node(&whole, "c").mapping.as_ref().unwrap().clone();
    assert!(m.batch_fill > 0.95, "full batches: {}", m.batch_fill);
    binomial_close(
        "failed batches",
        m.batch_failures,
        m.batches,
        1.0 - 0.9f64.powi(10),
        4.0,
    );
    // With ReportBatchItemFailures only the failed messages return: no batch fails as a whole,
    // and about a tenth of message attempts fail.
    let items = batch_failures(r#", "report_batch_item_failures": true"#);
    balanced(&items);
    let c = node(&items, "c");
    let mi = c.mapping.as_ref().unwrap();
    assert_eq!(mi.batch_failures, 0);
    assert!(mi.partial_batch_failures > 0);
    let attempts = (mi.batches as f64 * mi.batch_fill * 10.0).round() as u64;
    binomial_close("failed messages", c.failed, attempts, 0.1, 4.0);
    // Whole-batch returns multiply the work: each message is attempted 1 / 0.349 ≈ 2.9 times
    // against 1 / 0.9 ≈ 1.1.
    assert!(
        m.batches > 2 * mi.batches,
        "{} vs {}",
        m.batches,
        mi.batches
    );
}

#[test]
fn sqs_pollers_ramp_from_five_by_300_a_minute_to_their_limit() {
    // "Lambda starts processing five batches at a time … increases … by up to 300 more
    // instances per minute. The maximum number of batches … is 1,000"
    // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). With a
    // function of concurrency 1,000 and a deep backlog: 5 + 5/s · t, so 1,000 after
    // (1,000 − 5) / 5 = 199 s (3 min 19 s); at 100 s, 505.
    let text = |duration: &str| {
        format!(
            r#"{{ "format": "eventflow/2", "name": "ramp", "duration": "{duration}",
            "producers": [ {{ "id": "p", "to": "q", "rate": 20000, "limit": 400000, "arrivals": "uniform" }} ],
            "queues": [ {{ "id": "q", "visibility_timeout": "1m" }} ],
            "consumers": [ {{ "id": "c", "from": "q", "concurrency": 1000, "batch_size": 1,
                             "service_time": {{ "constant": "20s" }}, "timeout": "30s" }} ] }}"#
        )
    };
    let pollers = |d: &str| {
        node(&results(&text(d)), "c")
            .mapping
            .as_ref()
            .unwrap()
            .pollers_max
    };
    let at_100 = pollers("100s");
    assert!((500..=510).contains(&at_100), "{at_100}");
    assert!(pollers("197s") < 1000);
    assert_eq!(pollers("201s"), 1000);
}

#[test]
fn a_redriven_fifo_message_is_processed_again() {
    // FIFO deduplication keys on the deduplication id (content-based: the body) within 5
    // minutes; a message moved to the DLQ and redriven back is a new message
    // (scenario-format.md), so it is processed, not dropped as a duplicate.
    let r = results(
        r#"{ "format": "eventflow/2", "name": "redrive", "duration": "5m",
            "producers": [ { "id": "p", "to": "q", "rate": 1, "limit": 5, "arrivals": "uniform",
                             "event": { "detail": { "n": { "$seq": "" } } } } ],
            "queues": [ { "id": "q", "type": "fifo", "group_by": "detail.n", "visibility_timeout": "5s",
                          "max_receives": 1, "dead_letter": "dlq" },
                        { "id": "dlq", "type": "fifo" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "10ms" }, "timeout": "1s" } ],
            "faults": [ { "target": "c", "from": "0s", "to": "30s", "kind": "errors", "rate": 1 } ],
            "timeline": [ { "at": "60s", "redrive": "dlq", "to": "q" } ] }"#,
    );
    balanced(&r);
    assert_eq!(node(&r, "dlq").lag, Some(0));
    assert_eq!(
        node(&r, "c").completed,
        5,
        "every redriven message processed"
    );
    assert_eq!(node(&r, "q").duplicates, 0);
}

// ----- streams ------------------------------------------------------------------------------------

#[test]
fn a_stream_batch_with_two_retries_is_tried_three_times_then_lands_on_on_failure() {
    let r = results(
        r#"{ "format": "eventflow/2", "name": "stream", "duration": "1m",
            "producers": [ { "id": "p", "to": "s", "rate": 1, "limit": 1 } ],
            "streams": [ { "id": "s", "partitions": 1 } ],
            "queues": [ { "id": "discarded" } ],
            "consumers": [ { "id": "c", "from": "s", "failure_rate": 1, "max_retry_attempts": 2,
                             "on_failure": "discarded", "service_time": { "constant": "10ms" } } ] }"#,
    );
    balanced(&r);
    let c = node(&r, "c");
    assert_eq!(c.failed, 3, "1 try + 2 retries");
    assert_eq!(node(&r, "discarded").arrived, 1, "one record for the batch");
    assert_eq!(c.dead_letter_reasons.get("retries_exhausted"), Some(&1));
}

#[test]
fn bisecting_isolates_the_poison_record_without_using_the_retry_quota() {
    // Ten records in one batch, one poison (n = 4). Bisection splits 10 → 5 → 3 → 2 → 1 before
    // any retry is counted; the poison record alone then uses its retry quota (1) and is
    // discarded, while the other nine complete.
    let r = results(
        r#"{ "format": "eventflow/2", "name": "bisect", "duration": "2m",
            "producers": [ { "id": "p", "to": "s", "rate": 1000, "limit": 10, "arrivals": "uniform",
                             "event": { "detail": { "n": { "$seq": "" } } } } ],
            "streams": [ { "id": "s", "partitions": 1 } ],
            "consumers": [ { "id": "c", "from": "s", "batch_size": 10, "batch_window": "1s",
                             "bisect_on_error": true, "max_retry_attempts": 1,
                             "fail_when": { "detail": { "n": ["4"] } },
                             "service_time": { "constant": "10ms" } } ] }"#,
    );
    balanced(&r);
    let c = node(&r, "c");
    assert_eq!(c.completed, 9);
    assert_eq!(r.conservation.dropped, 1);
    assert!(c.mapping.as_ref().unwrap().bisections >= 3);
}

#[test]
fn records_older_than_the_retention_are_trimmed_and_counted_expired() {
    // A Kafka stream keeps records 1 minute; its reader is down for 3 minutes, so the records
    // of the first 2 minutes (60 s · 10/s · 2 = 1,200) expire unprocessed.
    let r = results(
        r#"{ "format": "eventflow/2", "name": "trim", "duration": "5m",
            "producers": [ { "id": "p", "to": "s", "rate": 10, "arrivals": "uniform" } ],
            "streams": [ { "id": "s", "type": "kafka", "partitions": 1, "retention": "1m" } ],
            "consumers": [ { "id": "c", "from": "s", "service_time": { "constant": "1ms" } } ],
            "faults": [ { "target": "c", "from": "0s", "to": "3m", "kind": "outage" } ] }"#,
    );
    balanced(&r);
    let expired = r.conservation.expired as f64;
    assert!((expired - 1200.0).abs() <= 20.0, "{expired}");
}

// ----- rule targets --------------------------------------------------------------------------------

#[test]
fn a_queue_target_in_an_outage_is_retried_not_lost() {
    // "If the target resource is unavailable … EventBridge retries sending the event … for 24
    // hours" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html).
    let r = results(
        r#"{ "format": "eventflow/2", "name": "outage", "duration": "10m",
            "producers": [ { "id": "p", "to": "bus", "rate": 10 } ],
            "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
                "targets": [ { "to": "q" } ] } ] } ],
            "queues": [ { "id": "q" } ],
            "consumers": [ { "id": "c", "from": "q", "concurrency": 10, "service_time": { "constant": "10ms" } } ],
            "faults": [ { "target": "q", "from": "1m", "to": "2m", "kind": "outage" } ] }"#,
    );
    balanced(&r);
    let c = r.conservation;
    assert_eq!(c.rejected + c.dropped + c.dead_lettered, 0, "{c:?}");
    assert!(node(&r, "bus").retried > 0);
}

#[test]
fn the_default_retry_policy_keeps_trying_for_about_a_day() {
    // 185 retries within 24 hours by default: a target that is down for two days gives up
    // close to the 24-hour limit (the schedule is in model::defaults::EVENTBRIDGE_MAX_BACKOFF:
    // about 23.5 h for 185 retries).
    let text = r#"{ "format": "eventflow/2", "name": "day", "duration": "30h",
            "producers": [ { "id": "p", "to": "bus", "rate": 1, "limit": 20 } ],
            "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
                "targets": [ { "to": "q", "dead_letter": "dlq" } ] } ] } ],
            "queues": [ { "id": "q" }, { "id": "dlq" } ],
            "faults": [ { "target": "q", "from": "0s", "to": "48h", "kind": "outage" } ] }"#;
    let mut sim = Simulation::new(&scenario(text), &RunOptions::default()).unwrap();
    sim.advance_to((20.0 * 3600.0 * SEC) as u64);
    assert_eq!(
        sim.summary().conservation.dead_lettered,
        0,
        "still retrying at 20 h"
    );
    sim.run_to_end();
    assert_eq!(
        sim.results().conservation.dead_lettered,
        20,
        "given up by 30 h"
    );
}

// ----- migration and bad input -----------------------------------------------------------------

#[test]
fn every_version_1_bundled_scenario_loads_and_its_migrated_form_gives_identical_results() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"eventflow/1\""),
            "{} is a version-1 file",
            path.display()
        );
        let v1: Scenario = scenario(&text);
        assert!(v1.migrated.0);
        let saved = eventflow::scenario::to_json(&v1);
        assert!(saved.contains("\"eventflow/2\""));
        let v2: Scenario = scenario(&saved);
        let opts = RunOptions::default();
        let (mut a, mut b) = (run(&v1, &opts).unwrap(), run(&v2, &opts).unwrap());
        a.engine.wall_seconds = 0.0;
        b.engine.wall_seconds = 0.0;
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap(),
            "{}",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 12, "{n} version-1 files");
}

#[test]
fn version_2_settings_out_of_range_or_in_the_wrong_place_are_meaning_errors() {
    let (_dir, path) = crate::support::scenario_file(
        r#"{ "format": "eventflow/2", "name": "bad", "duration": "1m",
            "buses": [ { "id": "bus", "rules": [ { "id": "r", "pattern": { "source": ["eventflow"] },
                "targets": [ { "to": "fn", "dead_letter": "fifo.dlq" } ] } ] } ],
            "queues": [ { "id": "q", "visibility_timeout": "10s" }, { "id": "fifo.dlq", "type": "fifo" },
                        { "id": "f", "type": "fifo" } ],
            "consumers": [
              { "id": "fn", "service_time": { "constant": "1ms" },
                "async": { "retries": 3, "max_age": "7h" } },
              { "id": "reader", "from": "q", "bisect_on_error": true, "timeout": "20s",
                "async": { "retries": 1 }, "max_concurrency": 1, "service_time": { "constant": "1ms" } },
              { "id": "fifo-reader", "from": "f", "batch_size": 11, "batch_window": "1s",
                "service_time": { "constant": "1ms" } } ] }"#,
    );
    let out = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for expected in [
        "buses[0].rules[0].targets[0].dead_letter",
        "consumers[0].async.retries",
        "consumers[0].async.max_age",
        "consumers[1].bisect_on_error",
        "consumers[1].timeout",
        "consumers[1].async",
        "consumers[1].max_concurrency",
        "consumers[2].batch_size",
        "consumers[2].batch_window",
    ] {
        assert!(err.contains(expected), "{expected} missing from:\n{err}");
    }
}

#[test]
fn a_migrated_consumer_slower_than_its_visibility_timeout_saves_and_loads_as_a_service() {
    // Lambda refuses a mapping whose function timeout exceeds the queue's visibility timeout;
    // version 1 allowed it (the message reappears mid-service). The migration keeps that
    // meaning as a service polling the queue, so the saved version-2 file loads again.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/v1-timeout-beyond-visibility.json"),
    )
    .unwrap();
    let v1 = scenario(&text);
    assert_eq!(
        v1.consumers[0].kind,
        Some(eventflow::model::ConsumerKind::Service)
    );
    let v2 = scenario(&eventflow::scenario::to_json(&v1));
    let opts = RunOptions::default();
    let (mut a, mut b) = (run(&v1, &opts).unwrap(), run(&v2, &opts).unwrap());
    a.engine.wall_seconds = 0.0;
    b.engine.wall_seconds = 0.0;
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn an_asynchronously_invoked_function_is_predicted_as_m_m_c_not_as_a_loss_system() {
    // Lambda's own queue is the waiting line of a function invoked asynchronously, so the
    // capacity figures use Erlang C (queueing.md) rather than Erlang B. λ = 50/s, c = 10,
    // μ = 10/s: ρ = 50 / (10 × 10) = 0.5.
    let text = r#"{ "format": "eventflow/2", "name": "mmc", "duration": "10m", "warmup": "1m",
        "producers": [ { "id": "p", "to": "bus", "rate": 50 } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
            "targets": [ { "to": "fn" } ] } ] } ],
        "consumers": [ { "id": "fn", "concurrency": 10,
                         "service_time": { "exponential": { "mean": "100ms" } } } ] }"#;
    let s = scenario(text);
    let r = run(&s, &RunOptions::default()).unwrap();
    let cap = eventflow::analysis::capacity::capacity(&s, &r);
    let f = cap.get("fn").unwrap();
    assert_eq!(f.source, eventflow::analysis::capacity::Source::Async);
    assert!(f.throttle_probability.is_none(), "not a loss system");
    let p = f.predicted.as_ref().expect("an M/M/c prediction");
    assert_eq!(p.model, eventflow::analysis::queueing::Model::Mmc);
    assert!((p.rho - 0.5).abs() < 0.02, "{}", p.rho);
    assert!(
        (f.simulated.rho - p.rho).abs() < 0.03,
        "{} vs {}",
        f.simulated.rho,
        p.rho
    );
}

#[test]
fn a_fifo_batch_mixes_message_groups_in_order_within_each() {
    // "each batch may contain messages from more than one message group, but the order of the
    // messages is maintained" (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
    // 1,000 messages over 100 groups, batches of 10, one slot of 100 ms a batch: full batches
    // of several groups clear them in 1,000 / 10 × 0.1 s = 10 s; one group per batch (one
    // message each, a group's next waits for it) would take 100 s.
    let r = results(
        r#"{ "format": "eventflow/2", "name": "fifo", "duration": "60s",
            "producers": [ { "id": "p", "to": "q", "rate": 10000, "limit": 1000, "arrivals": "uniform",
                             "event": { "detail": { "g": { "$key": { "count": 100, "prefix": "G-" } }, "n": { "$seq": "" } } } } ],
            "queues": [ { "id": "q", "type": "fifo", "group_by": "detail.g" } ],
            "consumers": [ { "id": "c", "from": "q", "batch_size": 10, "order_key": "detail.g",
                             "service_time": { "constant": "100ms" } } ] }"#,
    );
    balanced(&r);
    let c = node(&r, "c");
    assert_eq!(c.completed, 1000);
    assert_eq!(c.out_of_order, 0);
    let m = c.mapping.as_ref().unwrap();
    assert!(m.batch_fill > 0.95, "{}", m.batch_fill);
    assert!(c.latency_s.max_s < 11.0, "{:?}", c.latency_s);
}

#[test]
fn lambda_destinations_are_edges_and_their_queues_dead_letter_queues() {
    use eventflow::model::topology::{EdgeKind, Topology};
    let s = scenario(
        r#"{ "format": "eventflow/2", "name": "dest", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
            "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": ["eventflow"] },
                "targets": [ { "to": "fn" } ] } ] }, { "id": "audit" } ],
            "queues": [ { "id": "failures" } ],
            "consumers": [ { "id": "fn", "service_time": { "constant": "1ms" },
                             "async": { "on_failure": "failures", "on_success": "audit" } } ] }"#,
    );
    let t = Topology::new(&s);
    let names = |kind: EdgeKind| -> Vec<(String, String)> {
        t.edges()
            .iter()
            .filter(|e| e.kind == kind)
            .filter_map(|e| match (e.from, e.to) {
                (
                    eventflow::model::topology::End::Component(a),
                    eventflow::model::topology::End::Component(b),
                ) => Some((t.id(a).to_owned(), t.id(b).to_owned())),
                _ => None,
            })
            .collect()
    };
    assert!(names(EdgeKind::DeadLetter).contains(&("fn".into(), "failures".into())));
    assert!(
        names(EdgeKind::Emit(eventflow::model::EmitOn::Success))
            .contains(&("fn".into(), "audit".into()))
    );
    assert!(t.is_dead_letter_id("failures"));
}
