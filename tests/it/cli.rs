//! The `eventflow` binary as a user runs it: exit codes, messages, output formats.

use crate::support::{eventflow, scenario_file, stderr, stdout};

const VALID: &str = r#"{ "name": "Order pipeline", "seed": 42, "duration": "2m", "warmup": "10s",
  "producers": [ { "id": "checkout", "to": "orders-q", "rate": 20 } ],
  "queues": [ { "id": "orders-q" } ],
  "consumers": [ { "id": "inventory", "from": "orders-q", "concurrency": 2,
                   "service_time": { "exponential": { "mean": "50ms" } } } ] }"#;

fn code(o: &std::process::Output) -> i32 {
    o.status
        .code()
        .expect("exited normally, not by a signal (a panic would abort here)")
}

#[test]
fn run_prints_a_summary_table() {
    let (_d, path) = scenario_file(VALID);
    let o = eventflow(&["run", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Order pipeline"));
    assert!(out.contains("inventory") && out.contains("consumer"));
    assert!(out.contains("conservation:"));
}

#[test]
fn json_follows_the_results_contract() {
    let (_d, path) = scenario_file(VALID);
    let o = eventflow(
        &[
            "run",
            path.to_str().unwrap(),
            "--json",
            "--seed",
            "3",
            "--duration",
            "90s",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&o)).expect("stdout is one JSON object");
    assert_eq!(v["seed"], 3);
    assert_eq!(v["duration_s"], 90.0);
    assert_eq!(v["warmup_s"], 10.0);
    assert!(v["engine"]["events_processed"].as_u64().unwrap() > 0);
    let inv = &v["nodes"]["inventory"];
    for field in [
        "kind",
        "arrived",
        "completed",
        "failed",
        "retried",
        "throttled",
        "dead_lettered",
        "rejected",
        "expired",
        "duplicates",
        "out_of_order",
        "arrival_rate",
        "throughput",
        "concurrency",
        "mean_number_in_system",
        "mean_time_in_system_s",
        "littles_law_lambda_w",
        "utilization",
        "wait_s",
        "latency_s",
        "queue_depth",
    ] {
        assert!(!inv[field].is_null(), "nodes.inventory.{field} is missing");
    }
    for q in ["mean", "p50", "p95", "p99", "max"] {
        assert!(inv["wait_s"][q].is_number() && v["end_to_end"]["latency_s"][q].is_number());
    }
    assert_eq!(inv["kind"], "consumer");
    assert_eq!(inv["concurrency"], 2);
    // The time series come with --json (500 buckets by default) unless --no-series.
    assert_eq!(v["series"]["times_s"].as_array().unwrap().len(), 500);
    let o = eventflow(
        &["run", path.to_str().unwrap(), "--json", "--no-series"],
        "",
    );
    let lean: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(lean.get("series").is_none());
    let c = &v["conservation"];
    let sum: u64 = [
        "completed",
        "dead_lettered",
        "rejected",
        "expired",
        "dropped",
        "in_flight",
    ]
    .iter()
    .map(|k| c[*k].as_u64().unwrap())
    .sum();
    assert_eq!(c["deliveries"].as_u64().unwrap(), sum);
}

#[test]
fn csv_writes_a_tidy_series() {
    let (dir, path) = scenario_file(VALID);
    let out = dir.path().join("out");
    let o = eventflow(
        &[
            "run",
            path.to_str().unwrap(),
            "--csv",
            out.to_str().unwrap(),
            "--buckets",
            "20",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("series.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("time_s,node,metric,value"));
    assert!(csv.lines().any(|l| l.contains(",inventory,completions,")));
}

#[test]
fn check_accepts_a_valid_file() {
    let (_d, path) = scenario_file(VALID);
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("ok"));
}

#[test]
fn check_lists_every_problem_with_paths_and_hints() {
    let bad = VALID
        .replace(
            r#""from": "orders-q""#,
            r#""from": "order-q", "concurency": 3"#,
        )
        .replace(r#""rate": 20"#, r#""rate": 0"#)
        .replace(r#""duration": "2m""#, r#""duration": "2m", "warmpu": "1s""#);
    let (_d, path) = scenario_file(&bad);
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("consumers[0].concurency") && err.contains("did you mean `concurrency`"),
        "{err}"
    );
    assert!(
        err.contains("warmpu") && err.contains("did you mean `warmup`"),
        "{err}"
    );
    // Reference and range problems of the same file are listed too, not only the first.
    let bad2 = VALID
        .replace(r#""from": "orders-q""#, r#""from": "order-q""#)
        .replace(r#""rate": 20"#, r#""rate": -5"#);
    let (_d2, path2) = scenario_file(&bad2);
    let o = eventflow(&["check", path2.to_str().unwrap()], "");
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("consumers[0].from") && err.contains("did you mean `orders-q`"),
        "{err}"
    );
    assert!(err.contains("producers[0].rate"), "{err}");
}

#[test]
fn a_sixth_rule_target_is_an_error() {
    // EventBridge: "Each rule can have up to five (5) targets"; the format contract makes more
    // a meaning error, so `check` fails with the rule's path.
    let targets: Vec<String> = (0..6).map(|i| format!(r#"{{ "to": "q{i}" }}"#)).collect();
    let queues: Vec<String> = (0..6).map(|i| format!(r#"{{ "id": "q{i}" }}"#)).collect();
    let text = format!(
        r#"{{ "name": "six", "seed": 1, "duration": "10s",
  "producers": [ {{ "id": "p", "to": "bus", "rate": 1 }} ],
  "buses": [ {{ "id": "bus", "rules": [ {{ "id": "all", "pattern": {{ "source": [ {{ "prefix": "" }} ] }},
                                          "targets": [ {} ] }} ] }} ],
  "queues": [ {} ] }}"#,
        targets.join(", "),
        queues.join(", ")
    );
    let (_d, path) = scenario_file(&text);
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("buses[0].rules[0].targets") && err.contains("at most 5"),
        "{err}"
    );
    // Five is allowed.
    let five = text.replace(r#", { "to": "q5" }"#, "");
    let (_d5, path5) = scenario_file(&five);
    let o = eventflow(&["check", path5.to_str().unwrap()], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn json_syntax_errors_name_file_line_and_column() {
    let (_d, path) = scenario_file("{\n  \"name\": \"x\",\n  \"duration\": 10s\n}\n");
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:3:", path.display())), "{err}");
}

#[test]
fn wrong_types_and_bad_durations_are_explained() {
    let (_d, path) =
        scenario_file(&VALID.replace(r#""concurrency": 2"#, r#""concurrency": "two""#));
    let o = eventflow(&["run", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("consumers[0].concurrency"),
        "{}",
        stderr(&o)
    );

    let (_d, path) = scenario_file(&VALID.replace(r#""2m""#, r#""2""#));
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no unit"), "{}", stderr(&o));
}

#[test]
fn missing_empty_and_non_object_files_exit_2() {
    let o = eventflow(&["run", "/nonexistent/scenario.json"], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no such file"));
    let (_d, path) = scenario_file("");
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("empty"));
    let (_d, path) = scenario_file("[1, 2]");
    let o = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("JSON object"));
}

#[test]
fn bad_flags_exit_2() {
    let (_d, path) = scenario_file(VALID);
    let p = path.to_str().unwrap();
    for args in [
        vec!["run", p, "--duration", "soon"],
        vec!["run", p, "--duration", "0s"],
        vec!["run", p, "--seed", "-1"],
        vec!["run", p, "--frobnicate"],
        vec!["nosuchcommand"],
    ] {
        let o = eventflow(&args, "");
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty());
    }
}

#[test]
fn help_exits_0() {
    let o = eventflow(&["--help"], "");
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("run") && stdout(&o).contains("check"));
}

#[test]
fn examples_lists_every_bundled_scenario_and_prints_one_byte_for_byte() {
    let o = eventflow(&["examples"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let listing = stdout(&o);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the bundled scenarios: {files:?}");
    for file in &files {
        let stem = file.file_stem().unwrap().to_str().unwrap();
        assert!(
            listing
                .lines()
                .any(|l| l.split_whitespace().next() == Some(stem)),
            "{stem} is not listed:\n{listing}"
        );
        let o = eventflow(&["examples", stem], "");
        assert_eq!(code(&o), 0, "{stem}: {}", stderr(&o));
        // sweep::print trims the end and adds one newline.
        let on_disk = std::fs::read_to_string(file).unwrap();
        assert_eq!(stdout(&o).trim_end(), on_disk.trim_end(), "{stem}");
    }
}

#[test]
fn a_printed_example_is_a_valid_scenario_away_from_the_source_tree() {
    let o = eventflow(&["examples", "order-fanout.json"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (_d, path) = scenario_file(&stdout(&o));
    let c = eventflow(&["check", path.to_str().unwrap()], "");
    assert_eq!(code(&c), 0, "{}", stderr(&c));
}

#[test]
fn an_unknown_example_exits_2_with_a_hint() {
    let o = eventflow(&["examples", "order-fanot"], "");
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("no bundled example `order-fanot`"), "{err}");
    assert!(err.contains("did you mean `order-fanout`?"), "{err}");
    assert!(stdout(&o).is_empty());
}

/// Point counts of the `<polyline>`s in an SVG with more than three points: the legend's samples
/// have two, and each dash of a dashed line two or three (at these bucket counts a bucket is
/// wider than a dash), so what is left are the solid lines.
fn svg_polylines(svg: &str) -> Vec<usize> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let points = p.split("points=\"").nth(1)?.split('"').next()?;
            Some(points.split_whitespace().count())
        })
        .filter(|n| *n > 3)
        .collect()
}

#[test]
fn run_plots_writes_png_and_svg_files_drawn_from_the_run() {
    let (dir, path) = scenario_file(VALID);
    for buckets in [37_usize, 53] {
        let out = dir.path().join(format!("plots-{buckets}"));
        let o = eventflow(
            &[
                "run",
                path.to_str().unwrap(),
                "--buckets",
                &buckets.to_string(),
                "--plots",
                out.to_str().unwrap(),
            ],
            "",
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        // No dead-letter queue, no stream, no failures configured: those plots are left out,
        // and no temporary file is left behind.
        assert_eq!(
            names,
            [
                "backlog.png",
                "backlog.svg",
                "lag_s.png",
                "lag_s.svg",
                "latency.png",
                "latency.svg",
                "little.png",
                "little.svg",
                "throughput.png",
                "throughput.svg",
                "utilization.png",
                "utilization.svg",
            ]
        );
        // Every solid line has a point per bucket (the run is shorter than the plot is wide, so
        // decimation keeps every point): the drawing follows the run's series.
        let svg = std::fs::read_to_string(out.join("throughput.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let lines = svg_polylines(&svg);
        assert!(!lines.is_empty(), "no line in the throughput plot");
        assert!(
            lines.iter().all(|n| *n == buckets),
            "{buckets} buckets, lines of {lines:?} points"
        );
        // Arrivals at the queue and at the consumer: two solid lines.
        assert_eq!(lines.len(), 2, "{lines:?}");
        let png_bytes = std::fs::read(out.join("throughput.png")).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .expect("a valid PNG");
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).expect("PNG data decodes");
        assert_eq!((info.width, info.height), (1200, 600));
        let distinct: std::collections::BTreeSet<&[u8]> = pixels.chunks(3).collect();
        assert!(distinct.len() > 10, "more than a blank image");
    }
}

#[test]
fn run_plots_refuses_replications_and_an_unwritable_directory() {
    let (dir, path) = scenario_file(VALID);
    let o = eventflow(
        &[
            "run",
            path.to_str().unwrap(),
            "--replications",
            "3",
            "--plots",
            "x",
        ],
        "",
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--plots draws a single run"),
        "{}",
        stderr(&o)
    );
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let o = eventflow(
        &[
            "run",
            path.to_str().unwrap(),
            "--plots",
            blocker.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--plots"), "{}", stderr(&o));
}

#[test]
fn the_run_table_lists_a_state_machines_executions_and_states() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/saga-orchestration.json"
    );
    let o = eventflow(&["run", path], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let o = eventflow(&["run", path, "--json"], "");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let m = &v["nodes"]["order-saga"]["state_machine"];
    // Counts are printed with thousands separators (`names::count`, unit-tested there).
    let grouped = eventflow::names::count;
    let started = grouped(m["started"].as_u64().unwrap());
    assert!(
        text.contains(&format!("executions: started {started},")),
        "{text}"
    );
    let states = m["states"].as_array().unwrap();
    assert!(!states.is_empty());
    for st in states {
        let name = st["state"].as_str().unwrap();
        let entries = grouped(st["entries"].as_u64().unwrap());
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for state {name}:\n{text}"));
        assert!(
            line.contains("entered") && line.contains(&entries),
            "{line}"
        );
        let retries = st["retries"].as_u64().unwrap();
        assert_eq!(line.contains("retried"), retries > 0, "{line}");
    }
}
