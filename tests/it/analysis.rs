//! Measurement and capacity analysis, checked against `shared/reference/queueing.md`: confidence
//! intervals that cover the Erlang C value, Little's law on long runs, sweeps that agree with
//! M/M/c monotonicity, deterministic replications, series that round-trip, bounded memory.
//!
//! The statistical tests are sized for `cargo test --release` (about 20 s of CPU in all).

use std::process::Command;

use eventflow::analysis::capacity::Source;
use eventflow::analysis::compare::compare;
use eventflow::analysis::health::{HealthState, Signal};
use eventflow::analysis::replicate::replicate;
use eventflow::analysis::sweep::{SetSpec, check_figures, sweep, variants};
use eventflow::analysis::{analyze, mmc};
use eventflow::metrics::SeriesData;
use eventflow::model::Scenario;
use eventflow::sim::{self, RunOptions};
use serde_json::{Value, json};

fn scenario(v: Value) -> Scenario {
    match eventflow::scenario::from_value(v) {
        Ok(l) => l.scenario,
        Err(p) => panic!("invalid test scenario: {p:?}"),
    }
}

/// A queue read by `c` servers: Poisson arrivals at `lambda`/s, exponential service of mean
/// `1/mu` seconds: an M/M/c queue.
fn mmc_scenario(lambda: f64, mu: f64, c: u32, duration_s: f64, warmup_s: f64) -> Scenario {
    scenario(json!({
        "name": "M/M/c", "seed": 1, "duration": duration_s, "warmup": warmup_s,
        "producers": [ { "id": "p", "to": "q", "rate": lambda } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "w", "from": "q", "concurrency": c,
                         "service_time": { "exponential": { "mean": 1.0 / mu } } } ]
    }))
}

/// queueing.md: "run independent replications and report a 95 % confidence interval: the
/// analytical value should fall inside it about 95 % of the time". 20 independent experiments
/// of 10 replications each; the number of intervals that miss is Binomial(20, 0.05), so ≥ 17
/// covering fails by chance with probability below 2 %.
#[test]
fn wq_interval_covers_erlang_c_about_95_percent_of_the_time() {
    let (lambda, mu, c) = (800.0, 100.0, 10);
    let exact = mmc(lambda, mu, c).unwrap().wq_s.unwrap();
    let s = mmc_scenario(lambda, mu, c, 60.0, 5.0);
    let mut covered = 0;
    for experiment in 0..20_u64 {
        let opts = RunOptions {
            seed: Some(1_000 + experiment * 100),
            ..RunOptions::default()
        };
        let r = replicate(&s, &opts, 10).unwrap();
        let e = r.estimate("w.wait_s.mean").unwrap();
        let h = e.ci95_half_width.unwrap();
        assert!(
            h < 0.25 * exact,
            "interval too wide to mean anything: ±{h} around {exact}"
        );
        if e.contains(exact).unwrap() {
            covered += 1;
        }
    }
    assert!(
        covered >= 17,
        "the Erlang C Wq {exact} was inside only {covered} of 20 intervals"
    );
}

/// A function a rule invokes asynchronously waits in Lambda's queue: Little's law holds for that
/// line (Lq = λWq), and a service the rule calls directly has no line at all (Lq = 0: a busy one
/// throttles). The waiting level used to be left stale when a slot started or freed.
#[test]
fn waiting_lines_of_invoked_consumers_follow_littles_law() {
    let s = scenario(json!({
        "format": "eventflow/2", "name": "invoked", "seed": 5, "duration": "2000s", "warmup": "20s",
        "producers": [ { "id": "p", "to": "bus", "rate": 15 } ],
        "buses": [ { "id": "bus", "rules": [ { "id": "all", "pattern": { "source": [ { "prefix": "" } ] },
            "targets": [ { "to": "f" }, { "to": "svc" } ] } ] } ],
        "queues": [ { "id": "dlq" } ],
        "consumers": [
            { "id": "f", "kind": "function", "concurrency": 2,
              "service_time": { "exponential": { "mean": "100ms" } },
              "async": { "on_failure": "dlq" } },
            { "id": "svc", "kind": "service", "concurrency": 50,
              "service_time": { "exponential": { "mean": "100ms" } } } ]
    }));
    let results = sim::run(&s, &RunOptions::default()).unwrap();
    let f = results.nodes.get("f").unwrap();
    let lambda_wq = f.arrival_rate * f.wait_s.mean_s;
    // ρ = 15 × 0.1 / 2 = 0.75: a real line forms.
    assert!(lambda_wq > 0.5, "λWq {lambda_wq}");
    let gap = (f.queue_depth.mean - lambda_wq).abs() / lambda_wq;
    assert!(gap < 0.01, "Lq {} vs λWq {lambda_wq}", f.queue_depth.mean);
    let svc = results.nodes.get("svc").unwrap();
    assert_eq!(svc.queue_depth.mean, 0.0);
    assert_eq!(svc.wait_s.mean_s, 0.0);
}

/// queueing.md: "A simulator whose L and λW disagree by more than a few tenths of a percent on a
/// long run is mis-measuring." Checked with exponential and log-normal service.
#[test]
fn littles_law_gap_is_below_one_percent_on_long_runs() {
    for service in [
        json!({ "exponential": { "mean": "10ms" } }),
        json!({ "lognormal": { "mean": "10ms", "stddev": "20ms" } }),
    ] {
        let s = scenario(json!({
            "name": "long", "seed": 3, "duration": "400s", "warmup": "10s",
            "producers": [ { "id": "p", "to": "q", "rate": 850 } ],
            "queues": [ { "id": "q" } ],
            "consumers": [ { "id": "w", "from": "q", "concurrency": 10, "service_time": service } ]
        }));
        let results = sim::run(&s, &RunOptions::default()).unwrap();
        let a = analyze(&s, &results);
        let w = a.littles_law.nodes.get("w").unwrap();
        assert!(w.gap.unwrap() < 0.01, "L {} vs λW {}", w.l, w.lambda_w);
        assert!(
            w.lq_gap.unwrap() < 0.01,
            "Lq {} vs λWq {}",
            w.lq,
            w.lambda_wq
        );
        assert!(a.littles_law.system.gap.unwrap() < 0.01);
        // L is the measured time average, not λW restated.
        assert!((w.l - results.nodes.get("w").unwrap().mean_number_in_system).abs() < 1e-12);
    }
}

/// The capacity panel at a measured load: M/M/c prediction beside the simulation, the design
/// notes' ×1.5 rule, and the SLO recommendation checked against Erlang C directly.
#[test]
fn capacity_panel_predictions_and_recommendations() {
    let mut v = json!({
        "name": "capacity", "seed": 5, "duration": "200s", "warmup": "10s",
        "producers": [ { "id": "p", "to": "q", "rate": 900 } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "w", "from": "q", "concurrency": 12,
                         "service_time": { "exponential": { "mean": "10ms" } },
                         "slo": { "wait": "20ms", "quantile": 0.99 } } ]
    });
    let s = scenario(v.clone());
    let results = sim::run(&s, &RunOptions::default()).unwrap();
    let a = analyze(&s, &results);
    let w = a.capacity.get("w").unwrap();
    assert_eq!(w.source, Source::Queue);
    assert_eq!(w.accuracy, eventflow::analysis::Accuracy::Exact);
    let p = w.predicted.unwrap();
    assert_eq!(p, mmc(w.lambda, 100.0, 12).unwrap());
    assert!((w.simulated.rho - p.rho).abs() < 0.02);
    // ×1.5 rule: c = ceil(1.5 λ/μ).
    let expected = (1.5 * w.lambda / 100.0).ceil() as u32;
    assert_eq!(w.recommendation.concurrency_for_utilization, Some(expected));
    // Smallest c with P(wait > 20 ms) = C(c, a) e^{−(cμ−λ)t} ≤ 1 %.
    let tail = |c: u32| {
        let pc = mmc(w.lambda, 100.0, c).unwrap();
        pc.p_wait.unwrap() * (-(f64::from(c) * 100.0 - w.lambda) * 0.02).exp()
    };
    let cw = w.recommendation.concurrency_for_wait.unwrap();
    assert!(tail(cw) <= 0.01 && tail(cw - 1) > 0.01, "c = {cw}");
    assert_eq!(w.backlog_growth_per_s, 0.0);

    // Non-exponential service is labelled as an approximation (Allen–Cunneen).
    v["consumers"][0]["service_time"] = json!({ "constant": "10ms" });
    let s = scenario(v);
    let results = sim::run(
        &s,
        &RunOptions {
            duration: Some(eventflow::model::Duration::from_secs(30)),
            ..Default::default()
        },
    )
    .unwrap();
    let w = analyze(&s, &results).capacity.0.remove(0).1;
    assert_eq!(w.accuracy, eventflow::analysis::Accuracy::Approximation);
    assert_eq!(
        w.predicted.unwrap().model,
        eventflow::analysis::Model::AllenCunneen
    );
}

/// Overload: the backlog grows at λ − cμ (queueing.md) and the panel says so.
#[test]
fn overload_backlog_growth() {
    let s = mmc_scenario(1_200.0, 100.0, 10, 60.0, 0.0);
    let results = sim::run(&s, &RunOptions::default()).unwrap();
    let w = analyze(&s, &results).capacity.0.remove(0).1;
    assert!(!w.predicted.unwrap().stable);
    assert!((w.backlog_growth_per_s - (w.lambda - 1_000.0)).abs() < 1e-9);
    // The backlog left at the end is about (λ − cμ) × 60 s.
    let end = w.backlog_end.unwrap() as f64;
    assert!(
        (end / (200.0 * 60.0) - 1.0).abs() < 0.1,
        "backlog at end {end}"
    );
    assert_eq!(w.drain_time_end_s, None, "it never drains at this load");
}

/// A stream consumer group with a hot key: the partition advice follows the producers' Zipf
/// template (share of the hottest key = 1/H(n, s)).
#[test]
fn stream_partition_advice_from_the_hot_key() {
    let s = scenario(json!({
        "name": "stream", "seed": 2, "duration": "20s",
        "producers": [ { "id": "p", "to": "orders", "rate": 500,
                         "event": { "detail": { "customerId": { "$key": { "count": 1000, "skew": 1.1, "prefix": "C-" } } } } } ],
        "streams": [ { "id": "orders", "partitions": 8, "key": "detail.customerId" } ],
        "consumers": [ { "id": "g", "from": "orders", "concurrency": 12,
                         "service_time": { "constant": "5ms" } } ]
    }));
    let results = sim::run(&s, &RunOptions::default()).unwrap();
    let g = analyze(&s, &results).capacity.0.remove(0).1;
    assert_eq!(g.source, Source::Stream);
    assert_eq!(g.servers, 8, "instances beyond the partitions sit idle");
    let advice = g.recommendation.partitions.unwrap();
    let h: f64 = (1..=1000).map(|k| f64::from(k).powf(-1.1)).sum();
    assert!((advice.hottest_key_share - 1.0 / h).abs() < 1e-12);
    assert_eq!(
        advice.plan,
        Some(eventflow::analysis::partitions_for_hot_key(g.lambda, 200.0, 1.0 / h).unwrap())
    );
}

/// Replications run in parallel but collect in seed order: the output is identical with one
/// thread and with four.
#[test]
fn replications_do_not_depend_on_the_thread_count() {
    let s = mmc_scenario(500.0, 100.0, 6, 10.0, 1.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| replicate(&s, &RunOptions::default(), 6).unwrap().to_json())
    };
    let one = run(1);
    assert_eq!(one, run(4));
    assert_eq!(one["seeds"], json!([1, 2, 3, 4, 5, 6]));
    assert!(one["nodes"]["w"]["wait_s"]["p99"]["ci95"].is_number());
    // Same key order as a single run's results.
    let keys: Vec<&String> = one["nodes"]["w"]
        .as_object()
        .unwrap()
        .keys()
        .take(3)
        .collect();
    assert_eq!(keys, ["kind", "arrived", "completed"]);
}

/// Comparing a scenario with itself under common random numbers: every difference is exactly 0.
/// With a real change, shared components (the producer) still draw the same numbers.
#[test]
fn compare_uses_common_random_numbers() {
    let a = mmc_scenario(500.0, 100.0, 6, 10.0, 1.0);
    let same = compare(&a, &a, &RunOptions::default(), 4).unwrap();
    for row in &same.rows {
        let d = row
            .b_minus_a
            .unwrap_or_else(|| panic!("{} has no difference", row.name));
        assert_eq!(
            (d.mean, d.ci95_half_width),
            (0.0, Some(0.0)),
            "{}",
            row.name
        );
    }
    let b = mmc_scenario(500.0, 100.0, 8, 10.0, 1.0);
    let c = compare(&a, &b, &RunOptions::default(), 4).unwrap();
    let arrivals = c.row("w.arrived").unwrap().b_minus_a.unwrap();
    assert_eq!(arrivals.mean, 0.0, "same arrivals in A and B");
    let wait = c.row("w.wait_s.mean").unwrap();
    assert!(wait.significant() && wait.b_minus_a.unwrap().mean < 0.0);
}

/// A concurrency sweep: the M/M/c Wq never rises with more servers (theory, at the measured λ),
/// and with common random numbers neither does the simulated mean wait (each customer's wait
/// is non-increasing in the number of servers for the same arrivals and service times).
#[test]
fn sweep_more_concurrency_never_raises_wq() {
    for c in 9..40 {
        let (a, b) = (
            mmc(850.0, 100.0, c).unwrap(),
            mmc(850.0, 100.0, c + 1).unwrap(),
        );
        assert!(b.wq_s.unwrap() <= a.wq_s.unwrap());
    }
    let base = mmc_scenario(850.0, 100.0, 9, 30.0, 2.0);
    let sets: Vec<SetSpec> = vec!["consumers.w.concurrency=9,10,12,16,24".parse().unwrap()];
    let grid = variants(&base, &sets).unwrap();
    let figures = check_figures(
        &base,
        &[
            "analysis.capacity.w.predicted.wq_s".into(),
            "w.wait_s.mean".into(),
            "w.utilization".into(),
        ],
    )
    .unwrap();
    let result = sweep(
        &base,
        vec![sets[0].path.clone()],
        &grid,
        &RunOptions::default(),
        2,
        &figures,
        &|_, _| {},
    )
    .unwrap();
    let series = |figure: &str| -> Vec<f64> {
        (0..grid.len())
            .map(|v| result.estimate(v, figure).unwrap().mean)
            .collect()
    };
    for figure in ["analysis.capacity.w.predicted.wq_s", "w.wait_s.mean"] {
        let values = series(figure);
        assert!(
            values.windows(2).all(|w| w[1] <= w[0]),
            "{figure}: {values:?}"
        );
    }
    let util = series("w.utilization");
    assert!(util.windows(2).all(|w| w[1] < w[0]), "{util:?}");
}

/// Health: a consumer that always fails fills its dead-letter queue at λ; the DLQ crosses its
/// warning (100) before its critical (1000) threshold, and the consumer's error rate is critical.
#[test]
fn health_states_and_first_crossings() {
    let s = scenario(json!({
        "name": "failing", "seed": 4, "duration": "60s",
        "producers": [ { "id": "p", "to": "q", "rate": 50, "arrivals": "uniform" } ],
        "queues": [ { "id": "q", "visibility_timeout": "1s", "max_receives": 1, "dead_letter": "dlq" },
                    { "id": "dlq" } ],
        "consumers": [ { "id": "w", "from": "q", "concurrency": 4, "failure_rate": 1.0,
                         "service_time": { "constant": "10ms" } } ]
    }));
    let mut simulation = sim::Simulation::new(&s, &RunOptions::default()).unwrap();
    simulation.run_to_end();
    let results = simulation.results();
    let timeline = eventflow::analysis::health::states(&s, &simulation.series());
    let dlq = timeline.nodes.get("dlq").unwrap();
    assert_eq!(dlq.signals, [Signal::DlqDepth, Signal::Lost]);
    assert_eq!(dlq.states.first(), Some(&HealthState::Ok));
    assert_eq!(dlq.states.last(), Some(&HealthState::Critical));
    let at = |level| {
        dlq.first_crossings
            .iter()
            .find(|c| c.level == level)
            .and_then(|c| c.at_s)
            .unwrap()
    };
    let (warning, critical) = (at(HealthState::Warning), at(HealthState::Critical));
    // 50 messages/s reach the DLQ from about 1 s on (after the visibility timeout).
    assert!((2.0..=4.0).contains(&warning), "warning at {warning}");
    assert!((20.0..=23.0).contains(&critical), "critical at {critical}");
    // States only get worse as the DLQ grows.
    assert!(dlq.states.windows(2).all(|w| w[0] <= w[1]));

    let summary = analyze(&s, &results).health;
    assert!(summary.from_series);
    let w = summary.nodes.get("w").unwrap();
    assert_eq!(w.worst, HealthState::Critical);
    assert!(
        w.first_crossings
            .iter()
            .any(|c| c.signal == Signal::ErrorRate && c.level == HealthState::Critical)
    );
}

/// The time series, end to end through the binary: `--csv DIR` and `--json` describe
/// the same data, and both round-trip exactly.
#[test]
fn series_round_trip_through_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    std::fs::write(
        &file,
        json!({
            "name": "series", "seed": 9, "duration": "20s",
            "producers": [ { "id": "p", "to": "q", "rate": 300 } ],
            "queues": [ { "id": "q" } ],
            "consumers": [ { "id": "w", "from": "q", "concurrency": 4,
                             "service_time": { "exponential": { "mean": "10ms" } } } ]
        })
        .to_string(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eventflow"))
        .args(["run", "--json", "--buckets", "50", "--csv"])
        .arg(dir.path())
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let csv = std::fs::read(dir.path().join("series.csv")).unwrap();
    let from_csv = SeriesData::read_csv(csv.as_slice()).unwrap();

    let series = &json["series"];
    assert_eq!(series["times_s"].as_array().unwrap().len(), 50);
    let nodes: Vec<&str> = series["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let mut compared = 0;
    for s in series["series"].as_array().unwrap() {
        let node = nodes[s["node"].as_u64().unwrap() as usize];
        let metric: eventflow::metrics::Metric = s["metric"].as_str().unwrap().parse().unwrap();
        let values: Vec<Option<f64>> = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_f64)
            .collect();
        assert_eq!(values.len(), 50);
        let index = from_csv.nodes.iter().position(|n| n == node).unwrap();
        let csv_values = &from_csv.get(index, metric).unwrap().values;
        assert_eq!(csv_values.len(), values.len());
        for (a, b) in csv_values.iter().zip(&values) {
            // serde_json's default float parser (used to read stdout here) may be off by an
            // ulp; the CSV reader uses Rust's correctly rounded one.
            match (a, b) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-15 * a.abs().max(b.abs()),
                    "{node} {metric}: {a} vs {b}"
                ),
                (a, b) => assert_eq!(a, b, "{node} {metric}"),
            }
        }
        compared += 1;
    }
    assert_eq!(compared, from_csv.series.len());
    // Written back, the CSV is byte for byte the file the binary wrote.
    let mut again = Vec::new();
    from_csv.write_csv(&mut again).unwrap();
    assert_eq!(again, csv);
    // The consumer's completions over the run agree with the summary's count.
    let w = from_csv.nodes.iter().position(|n| n == "w").unwrap();
    let completions: f64 = from_csv
        .get(w, eventflow::metrics::Metric::Completions)
        .unwrap()
        .values
        .iter()
        .flatten()
        .sum::<f64>()
        * from_csv.bucket_s;
    let completed = json["nodes"]["w"]["completed"].as_f64().unwrap();
    assert!(
        (completions - completed).abs() < 1.0,
        "{completions} vs {completed}"
    );
}

/// Memory stays fixed by the bucket count: a run of more than 10⁷ engine events has exactly as
/// many series values as a run a tenth as long.
#[test]
fn a_ten_million_event_run_keeps_its_series_at_the_bucket_count() {
    let count = |duration_s: f64| {
        let s = mmc_scenario(1_000.0, 100.0, 12, duration_s, 0.0);
        let r = sim::run(&s, &RunOptions::default()).unwrap();
        let series = r.series.unwrap();
        let values: usize = series.series.iter().map(|s| s.values.len()).sum();
        assert!(
            series
                .series
                .iter()
                .all(|s| s.values.len() == series.times_s.len())
        );
        (r.engine.events_processed, series.times_s.len(), values)
    };
    let (events, buckets, values) = count(5_400.0);
    assert!(events >= 10_000_000, "only {events} events");
    assert_eq!(buckets, eventflow::metrics::DEFAULT_BUCKETS);
    let (_, short_buckets, short_values) = count(540.0);
    assert_eq!((buckets, values), (short_buckets, short_values));
}

/// The command line: replications, compare and sweep, and their invalid-input exits.
#[test]
fn cli_replications_compare_and_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.json");
    std::fs::write(
        &file,
        serde_json::to_string(&mmc_scenario(500.0, 100.0, 6, 5.0, 1.0)).unwrap(),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_eventflow"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let f = file.to_str().unwrap();

    let (code, out, _) = run(&["run", f, "--replications", "3", "--json"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["replications"], 3);
    assert!(v["nodes"]["w"]["utilization"]["ci95"].is_number());
    let (code, out, _) = run(&["run", f, "--replications", "3"]);
    assert_eq!(code, Some(0));
    assert!(out.contains(" ± "), "{out}");
    let (code, out, _) = run(&["run", f, "--json"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["analysis"]["capacity"]["w"]["predicted"]["wq_s"].is_number());

    let (code, out, _) = run(&["compare", f, f, "--replications", "2"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("B − A"));
    let (code, out, _) = run(&["sweep", f, "--set", "consumers.w.concurrency=6,8", "--csv"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.starts_with("consumers.w.concurrency,"));

    for (args, needle) in [
        (
            vec!["run", f, "--replications", "0"],
            "must be a whole number from 1 to 10000, got 0",
        ),
        (
            vec!["sweep", f, "--set", "consumers.x.concurrency=2"],
            "did you mean `w`?",
        ),
        (
            vec!["sweep", f, "--set", "consumers.w.concurrency=two"],
            "not a number",
        ),
        (
            vec![
                "sweep",
                f,
                "--set",
                "consumers.w.concurrency=2",
                "--figure",
                "w.utilisation",
            ],
            "did you mean `w.utilization`?",
        ),
        (vec!["compare", f, "/nonexistent.json"], "no such file"),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
