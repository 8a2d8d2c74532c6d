//! Issue 17's findings, each from its case: every bad input ends within seconds with a clear
//! message and exit 2, and `check` lists every problem at once.

use std::time::{Duration, Instant};

use super::support::{eventflow, scenario_file, stderr, stdout};

/// Runs the binary and checks it ended within a few seconds.
fn quick(args: &[&str], stdin: &str) -> std::process::Output {
    let start = Instant::now();
    let out = eventflow(args, stdin);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "eventflow {args:?} took {:?}",
        start.elapsed()
    );
    out
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `check` and `run` of `text`: (check output, run output).
fn check(text: &str) -> std::process::Output {
    let (_dir, path) = scenario_file(text);
    quick(&["check", path.to_str().unwrap()], "")
}

const CYCLE: &str = r#"{ "name": "cycle", "duration": "10s",
    "producers": [ { "id": "p", "to": "b1", "rate": 10, "limit": 5 } ],
    "buses": [ { "id": "b1", LATENCY "rules": [ { "id": "r1", "pattern": { "source": ["eventflow"] }, "targets": [ { "to": "b2" } ] } ] },
               { "id": "b2", "rules": [ { "id": "r2", "pattern": { "source": ["eventflow"] }, "targets": [ { "to": "b1" } ] } ] } ],
    "settings": { "max_events": 1000 } }"#;

#[test]
fn finding_1_a_rule_cycle_between_buses_is_warned_and_stopped() {
    for latency in ["", r#""latency": { "constant": "1ms" },"#] {
        let text = CYCLE.replace("LATENCY", latency);
        let c = check(&text);
        assert_eq!(code(&c), 0, "{}", stderr(&c));
        assert!(
            stdout(&c).contains("rule cycle between buses: b1 → b2 → b1"),
            "{}",
            stdout(&c)
        );
        let (_dir, path) = scenario_file(&text);
        let r = quick(&["run", path.to_str().unwrap()], "");
        assert_eq!(code(&r), 2, "{}", stderr(&r));
        assert!(stdout(&r).starts_with("STOPPED at "), "{}", stdout(&r));
        assert!(stderr(&r).contains("the run stopped at"), "{}", stderr(&r));
    }
}

#[test]
fn finding_2_a_zero_time_redelivery_loop_ends() {
    let text = r#"{ "name": "zero", "duration": "1m",
        "producers": [ { "id": "p", "to": "q", "rate": 1, "limit": 1 } ],
        "queues": [ { "id": "q", "visibility_timeout": "0s" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "0s" }, "failure_rate": 1 } ] }"#;
    let (_dir, path) = scenario_file(text);
    let r = quick(&["run", path.to_str().unwrap(), "--json"], "");
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    assert!(stderr(&r).contains("loop guard"), "{}", stderr(&r));
    let v: serde_json::Value = serde_json::from_str(&stdout(&r)).expect("JSON on stdout");
    assert!(v["engine"]["stopped"].is_string());
}

#[test]
fn finding_3_huge_counts_are_refused_by_check() {
    let base = r#"{ "name": "huge", "duration": "1m",
        "producers": [ { "id": "p", "to": "q", "rate": 1 } ],
        "queues": [ { "id": "q" } ], "streams": [ { "id": "s", "partitions": PARTS } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": CONC, "batch_size": BATCH, "service_time": { "constant": "1ms" } },
                       { "id": "d", "from": "s", "service_time": { "constant": "1ms" } } ],
        "settings": { "series_buckets": BUCKETS } }"#;
    let text = base
        .replace("PARTS", "4294967295")
        .replace("CONC", "4294967295")
        .replace("BATCH", "4294967295")
        .replace("BUCKETS", "100000000");
    let c = check(&text);
    assert_eq!(code(&c), 2);
    let e = stderr(&c);
    for path in [
        "streams[0].partitions",
        "consumers[0].concurrency",
        "consumers[0].batch_size",
        "settings.series_buckets",
    ] {
        assert!(e.contains(path), "{path} in {e}");
    }
    let ok = base
        .replace("PARTS", "4")
        .replace("CONC", "2")
        .replace("BATCH", "1")
        .replace("BUCKETS", "50");
    let (_dir, path) = scenario_file(&ok);
    let r = quick(
        &["run", path.to_str().unwrap(), "--buckets", "100000000"],
        "",
    );
    assert_eq!(code(&r), 2);
    assert!(stderr(&r).contains("from 1 to 10000"), "{}", stderr(&r));
}

#[test]
fn finding_4_absurd_rates_and_huge_transforms_are_meaning_errors() {
    let placeholders: String = (0..3000).map(|i| format!("<v{}>", i % 100)).collect();
    let paths: serde_json::Map<String, serde_json::Value> = (0..150)
        .map(|i| (format!("v{i}"), serde_json::json!("$.detail")))
        .collect();
    let text = serde_json::json!({
        "name": "absurd", "duration": "1m",
        "producers": [ { "id": "p", "to": "b", "rate": 1e300 } ],
        "buses": [ { "id": "b", "rules": [ { "id": "r", "pattern": { "source": ["eventflow"] },
            "targets": [ { "to": "q", "transform": { "paths": paths, "template": placeholders } } ] } ] } ],
        "queues": [ { "id": "q" } ]
    })
    .to_string();
    let c = check(&text);
    assert_eq!(code(&c), 2);
    let e = stderr(&c);
    assert!(
        e.contains("producers[0].rate") && e.contains("100000"),
        "{e}"
    );
    assert!(
        e.contains("transform.paths") && e.contains("at most 100"),
        "{e}"
    );
    assert!(
        e.contains("transform.template") && e.contains("8192"),
        "{e}"
    );
}

#[test]
fn finding_6_redrive_sources_and_targets_are_validated() {
    let text = r#"{ "name": "redrive", "duration": "1m",
        "producers": [ { "id": "p", "to": "q", "rate": 1 } ],
        "queues": [ { "id": "q", "max_receives": 2, "dead_letter": "dlq" }, { "id": "dlq" }, { "id": "other" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" } },
                       { "id": "o", "from": "other", "service_time": { "constant": "1ms" } } ],
        "timeline": [ { "at": "10s", "redrive": "q", "to": "other" },
                      { "at": "20s", "redrive": "dlq", "to": "dlq" } ] }"#;
    let c = check(text);
    assert_eq!(code(&c), 2);
    let e = stderr(&c);
    assert!(
        e.contains("timeline[0].redrive") && e.contains("no queue's dead-letter queue"),
        "{e}"
    );
    assert!(
        e.contains("timeline[1].to") && e.contains("back into it"),
        "{e}"
    );
}

#[test]
fn finding_7_check_lists_every_problem_at_once() {
    let text = r#"{ "name": "t", "duration": "1m", "seed": "abc",
      "producers": [ { "id": "p", "to": "qq", "rate": "fast" } ],
      "queues": [ { "id": "q", "capacity": -4 } ],
      "consumers": [ { "id": "c", "from": "q", "concurrency": -3, "batch_size": "x", "service_time": { "constant": "10ms" } },
                     { "id": "d", "from": "nope", "service_time": { "constant": "10ms" } } ] }"#;
    let c = check(text);
    assert_eq!(code(&c), 2);
    let e = stderr(&c);
    assert!(e.contains("7 problems"), "{e}");
    assert!(
        e.contains("seed: seed must be a whole number ≥ 0, got \"abc\""),
        "{e}"
    );
    assert!(
        e.contains(
            "consumers[0].concurrency: concurrency must be a whole number from 1 to 10,000, got -3"
        ),
        "{e}"
    );
    assert!(e.contains("consumers[0].batch_size"), "{e}");
    assert!(
        e.contains("producers[0].rate: rate must be a number"),
        "{e}"
    );
    assert!(
        e.contains("producers[0].to: no bus, queue, stream, topic or state machine has id \"qq\""),
        "{e}"
    );
    assert!(e.contains("consumers[1].from"), "{e}");
    assert!(
        !e.contains("expected u32") && !e.contains("expected f64"),
        "{e}"
    );

    // More than 64 unknown fields: 64 listed, the rest counted (and named) in one line.
    let extra: String = (0..80).map(|i| format!(r#""zz{i}": 1, "#)).collect();
    let many = text.replace(r#""id": "q","#, &format!(r#"{extra} "id": "q","#));
    let e = stderr(&check(&many));
    assert!(e.contains("zz79") && e.contains("zz0`"), "{e}");
    assert!(e.contains("unknown field `zz63`"), "{e}");
    assert!(!e.contains("unknown field `zz64`"), "{e}");
    assert!(
        e.contains("queues[0]: 16 more unknown fields (of 80 here): `zz64`, `zz65`,"),
        "{e}"
    );
    assert!(e.contains(&format!("{} problems", 7 + 64 + 1)), "{e}");
}

/// Line and column of the first occurrence of `needle` in `text` (1-based, in characters).
fn line_col(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).expect("needle in text");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].chars().count() + 1)
}

#[test]
fn check_lists_problems_in_four_components_with_line_and_column() {
    let text = r#"{ "name": "four", "duration": "1m",
  "producers": [ { "id": "p", "to": "q", "rate": 5, "arrivals": "poison" } ],
  "queues": [ { "id": "q", "visibility_timeout": "soon" } ],
  "streams": [ { "id": "s", "partitions": 20000 } ],
  "consumers": [ { "id": "c", "from": "q", "concurrency": 2.5,
                   "service_time": { "constant": "10ms" } } ] }"#;
    let c = check(text);
    assert_eq!(code(&c), 2);
    let e = stderr(&c);
    assert!(e.contains("4 problems"), "{e}");
    for (key, path, words) in [
        (
            r#""arrivals""#,
            "producers[0].arrivals",
            r#"arrivals must be one of "poisson", "uniform", got "poison" (did you mean `poisson`?)"#,
        ),
        (
            r#""visibility_timeout""#,
            "queues[0].visibility_timeout",
            "visibility_timeout must be a duration",
        ),
        (
            r#""partitions""#,
            "streams[0].partitions",
            "partitions must be a whole number from 1 to 10,000, got 20000",
        ),
        (
            r#""concurrency""#,
            "consumers[0].concurrency",
            "concurrency must be a whole number from 1 to 10,000, got 2.5",
        ),
    ] {
        let (line, column) = line_col(text, key);
        let expected = format!("error: {line}:{column}: {path}: {words}");
        assert!(e.contains(&expected), "{expected}\n{e}");
    }
    // In the order of the file.
    let order: Vec<usize> = ["producers[0]", "queues[0]", "streams[0]", "consumers[0]"]
        .iter()
        .map(|p| e.find(p).expect("listed"))
        .collect();
    assert!(order.is_sorted(), "{e}");
}

#[test]
fn a_top_level_type_error_hides_nothing() {
    let text = r#"{ "name": 7, "duration": "1m", "seed": "abc", "warmup": -1,
      "producers": [ { "id": "p", "to": "nowhere", "rate": 5 } ],
      "settings": { "max_events": "many" } }"#;
    let c = check(text);
    assert_eq!(code(&c), 2);
    let e = stderr(&c);
    assert!(e.contains("5 problems"), "{e}");
    assert!(e.contains("name: name must be a string, got 7"), "{e}");
    assert!(
        e.contains(r#"seed: seed must be a whole number ≥ 0, got "abc""#),
        "{e}"
    );
    assert!(e.contains("warmup: warmup must be a duration"), "{e}");
    assert!(
        e.contains("producers[0].to: no bus, queue") && e.contains(r#"has id "nowhere""#),
        "{e}"
    );
    assert!(
        e.contains(r#"settings.max_events: max_events must be a whole number ≥ 0, got "many""#),
        "{e}"
    );
}

#[test]
fn finding_8_a_problem_is_reported_once_and_the_list_is_capped() {
    let wildcard = "*".repeat(5000);
    let text = serde_json::json!({
        "name": "w", "duration": "1m",
        "producers": [ { "id": "p", "to": "b", "rate": 1 } ],
        "buses": [ { "id": "b", "rules": [ { "id": "r", "pattern": { "source": [ { "wildcard": wildcard } ] }, "targets": [ { "to": "q" } ] } ] } ],
        "queues": [ { "id": "q" } ]
    })
    .to_string();
    let c = check(&text);
    assert_eq!(code(&c), 2);
    assert!(c.stderr.len() < 20_000, "{} bytes", c.stderr.len());

    let producers: Vec<serde_json::Value> = (0..500)
        .map(|i| serde_json::json!({ "id": format!("p{i}"), "to": format!("nowhere{i}"), "rate": 1 }))
        .collect();
    let text =
        serde_json::json!({ "name": "many", "duration": "1m", "producers": producers }).to_string();
    let e = stderr(&check(&text));
    assert!(e.contains("500 problems"), "{e}");
    assert!(e.contains("… and 400 more"), "{e}");
    assert!(e.lines().count() < 110);
}

#[test]
fn finding_9_a_stopped_run_exits_2_in_every_command() {
    let file = "scenarios/feedback-loop.json";
    let r = quick(&["run", file], "");
    assert_eq!(code(&r), 2);
    assert!(stdout(&r).starts_with("STOPPED at "), "{}", stdout(&r));
    assert!(stderr(&r).contains("stopped"), "{}", stderr(&r));
    let r = quick(
        &["run", file, "--replications", "2", "--duration", "30s"],
        "",
    );
    assert_eq!(code(&r), 2);
    assert!(
        stdout(&r).starts_with("STOPPED: 2 of the runs"),
        "{}",
        stdout(&r)
    );
    assert!(
        stderr(&r).contains("run stopped: seed 11"),
        "{}",
        stderr(&r)
    );
    let r = quick(
        &[
            "compare",
            file,
            file,
            "--replications",
            "2",
            "--duration",
            "30s",
        ],
        "",
    );
    assert_eq!(code(&r), 2);
    assert!(
        stdout(&r).starts_with("STOPPED: 4 of the runs"),
        "{}",
        stdout(&r)
    );
    let r = quick(
        &[
            "sweep",
            file,
            "--set",
            "consumers.order-router.concurrency=10,20",
            "--figure",
            "order-router.utilization",
            "--duration",
            "30s",
        ],
        "",
    );
    assert_eq!(code(&r), 2, "{}", stderr(&r));
    assert!(
        stdout(&r).starts_with("STOPPED: 2 of the runs"),
        "{}",
        stdout(&r)
    );
}

#[test]
fn finding_10_messages_say_what_is_wrong_in_the_users_words() {
    // A byte-order mark is accepted.
    let ok = "\u{feff}{ \"name\": \"bom\", \"duration\": \"1m\" }";
    let c = check(ok);
    assert_eq!(code(&c), 0, "{}", stderr(&c));
    // Duplicate keys are an error naming both lines.
    let c = check("{ \"name\": \"d\",\n \"duration\": \"1m\",\n \"duration\": \"2m\" }");
    assert_eq!(code(&c), 2);
    assert!(
        stderr(&c).contains("duplicate key `duration` (line 2 and line 3)"),
        "{}",
        stderr(&c)
    );
    // A negative seed is a value, explained.
    let r = quick(&["run", "scenarios/order-fanout.json", "--seed", "-1"], "");
    assert_eq!(code(&r), 2);
    assert!(
        stderr(&r).contains("must be a whole number ≥ 0, got -1"),
        "{}",
        stderr(&r)
    );
    assert!(!stderr(&r).contains("'-- -1'"));
    // No such file, before any display is tried.
    let r = quick(&["gui", "/missing/scenario.json"], "");
    assert_eq!(code(&r), 2);
    assert!(stderr(&r).contains("no such file"), "{}", stderr(&r));
    // A FIFO queue without group_by is warned about.
    let c = check(
        r#"{ "name": "f", "duration": "1m", "producers": [ { "id": "p", "to": "q", "rate": 1 } ],
        "queues": [ { "id": "q", "type": "fifo" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" } } ] }"#,
    );
    assert_eq!(code(&c), 0);
    assert!(stdout(&c).contains("the whole queue is one message group"));
}

#[cfg(unix)]
#[test]
fn finding_10_endless_inputs_are_bounded() {
    let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
    let start = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eventflow"))
        .args(["pattern", "test"])
        .stdin(zero)
        .output()
        .expect("runs");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than 1 MB"));
    let c = quick(&["check", "/dev/zero"], "");
    assert_eq!(code(&c), 2);
    assert!(stderr(&c).contains("larger than 32 MB"), "{}", stderr(&c));
}

#[test]
fn the_schema_is_printed_and_kept_in_docs() {
    let out = quick(&["schema"], "");
    assert_eq!(code(&out), 0);
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(printed["type"], "object");
    assert_eq!(printed["additionalProperties"], false);
    let kept =
        std::fs::read_to_string("docs/eventflow.schema.json").expect("docs/eventflow.schema.json");
    assert_eq!(
        kept.trim_end(),
        stdout(&out).trim_end(),
        "docs/eventflow.schema.json is out of date: eventflow schema > docs/eventflow.schema.json"
    );
}

#[test]
fn finding_4_a_huge_sweep_grid_is_refused_before_any_work() {
    let values: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let list = values.join(",");
    let a = format!("consumers.fanout-email.concurrency={list}");
    let b = format!("producers.checkout.rate={list}");
    let c = format!("consumers.fanout-email.batch_size={list}");
    let r = quick(
        &[
            "sweep",
            "scenarios/order-fanout.json",
            "--set",
            &a,
            "--set",
            &b,
            "--set",
            &c,
        ],
        "",
    );
    assert_eq!(code(&r), 2);
    assert!(
        stderr(&r).contains("1000000 variants") && stderr(&r).contains("at most 10000"),
        "{}",
        stderr(&r)
    );
}

/// Fuzz finding bus-cycle-fanout: two buses whose rules target each other twice each, without
/// latency, multiplied copies within one engine step past the memory guard (24 s, 8.9 GB).
#[test]
fn a_bus_cycle_with_fan_out_stops_at_the_memory_guard_at_once() {
    let out = quick(&["run", "fuzz/corpus/bus-cycle-fanout.json"], "");
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("memory guard"), "{}", stderr(&out));
    assert!(stderr(&out).contains("in transit"), "{}", stderr(&out));
}

/// Sweeps stream (a batch of runs at a time, reduced to rows; `analysis::sweep`'s unit test
/// counts what is held), so the number of runs has no cap; replications per variant do: one
/// variant's replications are the smallest batch.
#[test]
fn sweeps_have_no_run_cap_but_replications_have_a_stated_one() {
    for args in [
        &[
            "sweep",
            "scenarios/order-fanout.json",
            "--set",
            "consumers.fanout-email.concurrency=1,2",
            "--replications",
            "10001",
        ][..],
        &[
            "run",
            "scenarios/order-fanout.json",
            "--replications",
            "10001",
        ][..],
    ] {
        let r = quick(args, "");
        assert_eq!(code(&r), 2, "{args:?}");
        assert!(
            stderr(&r).contains("must be a whole number from 1 to 10000, got 10001"),
            "{}",
            stderr(&r)
        );
    }
}
