//! Fuzzing on the stable toolchain: structured generation and mutation at scale.
//!
//! Why not a coverage-guided fuzzer: cargo-fuzz needs nightly, and cargo-afl needs AFL++ built
//! with clang and LLVM plugins matching rustc's LLVM, which this toolchain's machines do not
//! have. So each target here draws its inputs from a seeded generator (reproducible: a failure
//! prints the case seed) — mutants of a seed corpus (`fuzz/corpus/` and the bundled
//! scenarios), JSON-aware mutations (extreme numbers, wrong types, deleted and duplicated keys,
//! deep nesting) and, for the engine, generated valid scenarios.
//!
//! Targets: the scenario loader, the pattern parser and matcher, the input transformer, and the
//! engine (every run ends within its guards, conservation balances, two runs are byte-identical).
//! `cargo test --profile ci fuzz` runs a smoke of each (a few seconds); `scripts/fuzz-long.sh`
//! runs them for hours: `EVENTFLOW_FUZZ_CASES` sets cases per target, `EVENTFLOW_FUZZ_SEED`
//! the first case seed.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use eventflow::pattern::{Pattern, Transform};
use eventflow::scenario;
use eventflow::sim::{self, RunOptions};

/// A small seeded generator (SplitMix64): the same cases on every machine.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Cases per target: the smoke size unless `EVENTFLOW_FUZZ_CASES` says otherwise.
fn cases(smoke: u64) -> u64 {
    std::env::var("EVENTFLOW_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(smoke)
}

/// The first case seed (`EVENTFLOW_FUZZ_SEED`, default 1).
fn first_seed() -> u64 {
    std::env::var("EVENTFLOW_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Runs `case` for each case seed, reporting the seed of a failing (panicking) case.
fn for_each_case(target: &str, smoke: u64, mut case: impl FnMut(&mut Gen)) {
    let start = Instant::now();
    let first = first_seed();
    let n = cases(smoke);
    for seed in first..first + n {
        let mut g = Gen(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ stable(target));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&mut g)));
        assert!(
            r.is_ok(),
            "fuzz target {target}: case seed {seed} failed (reproduce: EVENTFLOW_FUZZ_SEED={seed} EVENTFLOW_FUZZ_CASES=1 cargo test --profile ci fuzz_{target})"
        );
    }
    eprintln!("fuzz {target}: {n} cases in {:.1?}", start.elapsed());
}

fn stable(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The seed corpus: `fuzz/corpus/*.json` and the bundled scenarios.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["fuzz/corpus", "scenarios"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "json") {
                    files.push(e.path());
                }
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

/// Values that broke or nearly broke loaders before: extremes, wrong types, odd strings.
fn extreme(g: &mut Gen) -> Value {
    let deep = (0..g.below(200)).fold(json!(1), |v, _| json!([v]));
    let choices = [
        json!(-1),
        json!(0),
        json!(4_294_967_295_u64),
        json!(4_294_967_296_u64),
        json!(u64::MAX),
        json!(1e300),
        json!(-1e300),
        json!(1.5),
        json!(1e6),
        json!("abc"),
        json!(""),
        json!("0s"),
        json!("-5s"),
        json!("999999999999d"),
        json!(null),
        json!(true),
        json!({}),
        json!([]),
        json!({ "constant": "0s" }),
        json!("*".repeat(g.below(3000))),
        json!("<a>".repeat(g.below(3000))),
        deep,
    ];
    g.pick(&choices).clone()
}

/// One JSON-aware mutation somewhere in `v`.
fn mutate_value(v: &mut Value, g: &mut Gen, depth: usize) {
    let dive = depth < 12 && g.chance(0.75);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = g.pick(&keys).clone();
            if dive {
                if let Some(child) = m.get_mut(&k) {
                    mutate_value(child, g, depth + 1);
                }
                return;
            }
            match g.below(4) {
                0 => {
                    m.shift_remove(&k);
                }
                1 => {
                    m.insert(format!("{k}x"), extreme(g));
                }
                2 => {
                    let other = m.get(g.pick(&keys)).cloned().unwrap_or(Value::Null);
                    m.insert(k, other);
                }
                _ => {
                    m.insert(k, extreme(g));
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = g.below(a.len());
            if dive {
                mutate_value(&mut a[i], g, depth + 1);
                return;
            }
            match g.below(3) {
                0 => {
                    a.remove(i);
                }
                1 => {
                    let copy = a[i].clone();
                    for _ in 0..g.below(50) {
                        a.push(copy.clone());
                    }
                }
                _ => a[i] = extreme(g),
            }
        }
        other => *other = extreme(g),
    }
}

/// A byte-level mutation of `text` (flips, cuts, splices, inserted punctuation).
fn mutate_text(text: &str, g: &mut Gen) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..=g.below(4) {
        if b.is_empty() {
            break;
        }
        let i = g.below(b.len());
        match g.below(6) {
            0 => b[i] ^= 1 << g.below(8),
            1 => b.truncate(i),
            2 => {
                let j = g.below(b.len());
                let (lo, hi) = (i.min(j), i.max(j));
                let chunk = b[lo..hi].to_vec();
                b.splice(i..i, chunk);
            }
            3 => b.insert(i, *g.pick(b"{}[],:\"\\\n0-e")),
            4 => {
                b.splice(i..i, "\u{feff}".bytes());
            }
            _ => {
                let j = (i + g.below(16)).min(b.len());
                b.drain(i..j);
            }
        }
    }
    b
}

/// The CPU time this thread has run (Linux: `/proc/thread-self/schedstat`), else `None`.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Loads text and checks what loading promises: no panic, bounded time, and a loaded scenario
/// saves and loads again to the same scenario.
fn load_checked(text: &str) {
    let start = Instant::now();
    let cpu = thread_cpu();
    let loaded = scenario::parse(text, "fuzz.json");
    // The bound is on the work done: CPU time of this thread where the system says it (a long
    // run at nice 19 on a busy machine once waited 13 s of wall time for a 0.2 s case).
    let took = match (cpu, thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => start.elapsed(),
    };
    assert!(took < Duration::from_secs(5), "loading took {took:?}");
    match loaded {
        Ok(l) => {
            let saved = scenario::to_json(&l.scenario);
            let again = scenario::parse(&saved, "saved.json").unwrap_or_else(|e| {
                let keep = std::env::temp_dir().join("eventflow-fuzz-failure.json");
                let _ = std::fs::write(&keep, text);
                panic!(
                    "a saved scenario does not load: {e}\n{saved}\ninput kept in {}",
                    keep.display()
                )
            });
            assert_eq!(
                again.scenario, l.scenario,
                "save → load changed the scenario"
            );
        }
        Err(e) => {
            // Rendering the problems is part of the loader (and capped).
            let text = e.to_string();
            assert!(text.len() < 200_000, "{} bytes of problems", text.len());
        }
    }
}

#[test]
fn fuzz_loader() {
    let corpus = corpus();
    assert!(!corpus.is_empty(), "a seed corpus");
    for_each_case("loader", 400, |g| {
        let base = g.pick(&corpus).clone();
        if g.chance(0.3) {
            let bytes = mutate_text(&base, g);
            load_checked(&String::from_utf8_lossy(&bytes));
        } else if let Ok(mut v) = serde_json::from_str::<Value>(&base) {
            for _ in 0..=g.below(6) {
                mutate_value(&mut v, g, 0);
            }
            load_checked(&v.to_string());
        }
    });
}

/// A random pattern: mostly well-formed pieces of the `EventBridge` language, sometimes not.
fn gen_pattern(g: &mut Gen, depth: usize) -> Value {
    let leaf = |g: &mut Gen| -> Value {
        let ops = [
            json!("a"),
            json!(1),
            json!(null),
            json!({ "prefix": "a" }),
            json!({ "suffix": "z" }),
            json!({ "prefix": { "equals-ignore-case": "A" } }),
            json!({ "anything-but": ["a", "b"] }),
            json!({ "anything-but": { "prefix": "x" } }),
            json!({ "numeric": [">", 0, "<=", 5] }),
            json!({ "numeric": ["=", 1e300] }),
            json!({ "exists": true }),
            json!({ "exists": false }),
            json!({ "equals-ignore-case": "ab" }),
            json!({ "wildcard": "a*b*c" }),
            json!({ "wildcard": "*".repeat(g.below(40)) }),
            json!({ "cidr": "10.0.0.0/8" }),
            json!({ "cidr": "::1/300" }),
            json!({ "numeric": ["<"] }),
            json!({ "unknown-op": 1 }),
        ];
        let n = 1 + g.below(3);
        Value::Array((0..n).map(|_| g.pick(&ops).clone()).collect())
    };
    let keys = [
        "source",
        "detail-type",
        "detail",
        "a",
        "b",
        "n",
        "$or",
        "resources",
    ];
    let mut m = serde_json::Map::new();
    for _ in 0..=g.below(3) {
        let k = *g.pick(&keys);
        let v = if k == "$or" {
            Value::Array(
                (0..=g.below(3))
                    .map(|_| gen_pattern(g, depth + 1))
                    .collect(),
            )
        } else if depth < 4 && g.chance(0.3) {
            gen_pattern(g, depth + 1)
        } else {
            leaf(g)
        };
        m.insert(k.to_owned(), v);
    }
    let mut v = Value::Object(m);
    if g.chance(0.1) {
        mutate_value(&mut v, g, 0);
    }
    v
}

fn gen_event(g: &mut Gen, depth: usize) -> Value {
    let vals = [
        json!("a"),
        json!("A"),
        json!("abc"),
        json!(""),
        json!(0),
        json!(5),
        json!(-1.5),
        json!(1e300),
        json!(null),
        json!(true),
        json!("10.1.2.3"),
        json!(["a", 1]),
        json!([]),
    ];
    let keys = [
        "source",
        "detail-type",
        "detail",
        "a",
        "b",
        "n",
        "resources",
    ];
    let mut m = serde_json::Map::new();
    for _ in 0..=g.below(5) {
        let k = *g.pick(&keys);
        let v = if depth < 4 && g.chance(0.3) {
            gen_event(g, depth + 1)
        } else {
            g.pick(&vals).clone()
        };
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

#[test]
fn fuzz_patterns() {
    for_each_case("patterns", 3000, |g| {
        let p = gen_pattern(g, 0);
        let start = Instant::now();
        // With `$or` anywhere, a match may explain its failing alternatives too.
        let has_or = p.to_string().contains("\"$or\"");
        if let Ok(pattern) = Pattern::parse(&p) {
            for _ in 0..4 {
                let e = gen_event(g, 0);
                let m = pattern.matches(&e);
                assert_eq!(m, pattern.matches(&e), "matching is deterministic");
                let explained = pattern.explain(&e);
                if m {
                    assert!(
                        explained.iter().all(|x| x.matched) || has_or,
                        "a match explained with a failing field: {p} {e}"
                    );
                }
            }
            let _ = pattern.may_match_template(&gen_event(g, 0));
        }
        assert!(start.elapsed() < Duration::from_secs(2), "{p}");
    });
}

#[test]
fn fuzz_transforms() {
    for_each_case("transforms", 3000, |g| {
        let paths = [
            "$.detail",
            "$.detail.a",
            "$.source",
            "$.nope",
            "$",
            "detail",
            "$..x",
        ];
        let mut pm = serde_json::Map::new();
        for i in 0..g.below(5) {
            pm.insert(format!("v{i}"), json!(g.pick(&paths)));
        }
        let templates = [
            "<v0>".to_owned(),
            "{\"a\": <v0>, \"b\": \"<v1>\"}".to_owned(),
            "\"<aws.events.rule-name>\"".to_owned(),
            "<v9>".to_owned(),
            "<".to_owned(),
            "<v0>".repeat(g.below(200)),
            String::new(),
        ];
        let mut t = match g.below(3) {
            0 => json!({ "input_path": g.pick(&paths) }),
            _ => json!({ "paths": pm, "template": g.pick(&templates) }),
        };
        if g.chance(0.2) {
            mutate_value(&mut t, g, 0);
        }
        if let Ok(tr) = Transform::parse(&t) {
            let e = gen_event(g, 0);
            let a = tr.apply(&e, "rule");
            assert_eq!(a, tr.apply(&e, "rule"), "transforming is deterministic");
        }
    });
}

/// A generated scenario that should be valid (the generator stays within the ranges); the few
/// that are not are skipped.
fn gen_scenario(g: &mut Gen) -> Value {
    let nq = 1 + g.below(3);
    let ns = g.below(2);
    let nb = g.below(3);
    let queues: Vec<String> = (0..nq).map(|i| format!("q{i}")).collect();
    let streams: Vec<String> = (0..ns).map(|i| format!("s{i}")).collect();
    let buses: Vec<String> = (0..nb).map(|i| format!("b{i}")).collect();
    let fifo = g.chance(0.3);
    let mut qs = Vec::new();
    for (i, q) in queues.iter().enumerate() {
        let mut o = json!({ "id": q });
        if fifo && i == 0 {
            o["type"] = json!("fifo");
            if g.chance(0.7) {
                o["group_by"] = json!("detail.k");
            }
        }
        if g.chance(0.3) {
            o["capacity"] = json!(1 + g.below(50));
            o["when_full"] = json!(if g.chance(0.5) { "reject" } else { "block" });
        }
        if g.chance(0.5) {
            o["visibility_timeout"] = json!(*g.pick(&["0s", "1ms", "1s", "30s"]));
        }
        qs.push(o);
    }
    // The last standard queue is a dead-letter queue for the first when there are two or more.
    let dlq = (nq >= 2).then(|| queues[nq - 1].clone());
    if let Some(d) = &dlq
        && !(fifo)
    {
        qs[0]["max_receives"] = json!(1 + g.below(4));
        qs[0]["dead_letter"] = json!(d);
    }
    let ss: Vec<Value> = streams
        .iter()
        .map(|s| json!({ "id": s, "partitions": 1 + g.below(4), "key": "detail.k" }))
        .collect();
    let mut consumers = Vec::new();
    let mut direct = Vec::new();
    let services = [
        json!({ "constant": "0s" }),
        json!({ "constant": "5ms" }),
        json!({ "exponential": { "mean": "20ms" } }),
        json!({ "uniform": ["1ms", "50ms"] }),
        json!({ "lognormal": { "mean": "30ms", "stddev": "60ms" } }),
    ];
    let sources: Vec<String> = queues
        .iter()
        .take(if dlq.is_some() { nq - 1 } else { nq })
        .chain(streams.iter())
        .cloned()
        .collect();
    for (i, src) in sources.iter().enumerate() {
        let mut c = json!({ "id": format!("c{i}"), "from": src,
            "concurrency": 1 + g.below(4), "service_time": g.pick(&services).clone() });
        if g.chance(0.4) {
            c["failure_rate"] = json!(*g.pick(&[0.1, 0.5, 1.0]));
        }
        if g.chance(0.2) {
            c["batch_size"] = json!(1 + g.below(3));
        }
        if g.chance(0.2) {
            c["idempotent"] = json!(true);
        }
        if g.chance(0.2) {
            c["timeout"] = json!("10ms");
        }
        if !buses.is_empty() && g.chance(0.3) {
            c["emits"] = json!([{ "to": g.pick(&buses), "on": if g.chance(0.7) { "success" } else { "failure" },
                "probability": 0.5, "event": { "source": "b", "detail": { "k": { "$from": "detail.k" } } } }]);
        }
        consumers.push(c);
    }
    if nb > 0 && g.chance(0.5) {
        direct.push("d0".to_owned());
        consumers.push(json!({ "id": "d0", "concurrency": 1 + g.below(3),
            "service_time": g.pick(&services).clone(), "failure_rate": 0.3 }));
    }
    let mut bs = Vec::new();
    for (i, b) in buses.iter().enumerate() {
        let mut rules = Vec::new();
        for j in 0..=g.below(2) {
            let mut targets = Vec::new();
            for _ in 0..=g.below(2) {
                let mut dests: Vec<&String> = queues.iter().chain(streams.iter()).collect();
                dests.extend(direct.iter());
                // Bus-to-bus targets in any direction: rule cycles between buses, with fan-out,
                // must end within the guards (fuzz/corpus/bus-cycle-fanout.json, fixed).
                dests.extend(buses.iter().filter(|x| *x != b));
                let to = (*g.pick(&dests)).clone();
                let mut t = json!({ "to": to });
                if g.chance(0.3) {
                    t["retry"] = json!({ "attempts": g.below(4), "max_age": "60s" });
                }
                if let Some(d) = &dlq
                    && !fifo
                    && g.chance(0.3)
                {
                    t["dead_letter"] = json!(d);
                }
                targets.push(t);
            }
            let pattern = match g.below(3) {
                0 => json!({ "source": ["a"] }),
                1 => json!({ "source": [{ "prefix": "" }] }),
                _ => json!({ "detail": { "k": [{ "numeric": [">", 2] }] } }),
            };
            rules
                .push(json!({ "id": format!("r{i}_{j}"), "pattern": pattern, "targets": targets }));
        }
        let mut o = json!({ "id": b, "rules": rules });
        if g.chance(0.3) {
            o["latency"] = json!({ "constant": "1ms" });
        }
        bs.push(o);
    }
    let dests: Vec<&String> = buses
        .iter()
        .chain(queues.iter().take(1))
        .chain(streams.iter())
        .collect();
    let producers: Vec<Value> = (0..=g.below(2))
        .map(|i| {
            json!({ "id": format!("p{i}"), "to": g.pick(&dests), "rate": *g.pick(&[0.5, 5.0, 50.0, 500.0]),
                "arrivals": if g.chance(0.5) { "poisson" } else { "uniform" },
                "limit": 1 + g.below(400),
                "event": { "source": *g.pick(&["a", "b"]), "detail": { "k": { "$int": [1, 5] } } } })
        })
        .collect();
    let mut s = json!({
        "name": "fuzz", "seed": g.next() % 1000, "duration": *g.pick(&["5s", "30s", "2m"]),
        "producers": producers, "queues": qs, "streams": ss, "buses": bs, "consumers": consumers,
        "settings": { "max_events": 20_000, "max_messages": 100_000, "series_buckets": 20 }
    });
    if g.chance(0.2) {
        let target = consumers_or_queue(&s);
        s["faults"] = json!([{ "target": target, "from": "1s", "to": "3s",
            "kind": *g.pick(&["outage", "slowdown", "errors"]), "factor": 5, "rate": 0.5 }]);
    }
    if let Some(d) = &dlq
        && !fifo
        && g.chance(0.3)
    {
        s["timeline"] = json!([{ "at": "4s", "redrive": d, "to": queues[0] }]);
    }
    s
}

fn consumers_or_queue(s: &Value) -> String {
    s["consumers"][0]["id"]
        .as_str()
        .or_else(|| s["queues"][0]["id"].as_str())
        .unwrap_or("q0")
        .to_owned()
}

/// The run's JSON without its wall-clock field.
fn without_wall_clock(r: &sim::Results) -> String {
    let mut v = serde_json::to_value(r).expect("results serialize");
    v["engine"]["wall_seconds"] = json!(0);
    v.to_string()
}

#[test]
fn fuzz_engine() {
    let mut valid = 0u64;
    let mut total = 0u64;
    for_each_case("engine", 150, |g| {
        total += 1;
        let text = gen_scenario(g).to_string();
        let Ok(loaded) = scenario::parse(&text, "gen.json") else {
            return;
        };
        valid += 1;
        let opts = RunOptions::default();
        let start = Instant::now();
        let a = sim::run(&loaded.scenario, &opts).expect("a valid scenario runs");
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "a run took {:?}: {text}",
            start.elapsed()
        );
        let c = &a.conservation;
        assert_eq!(
            c.deliveries,
            c.completed + c.dead_lettered + c.rejected + c.expired + c.dropped + c.in_flight,
            "conservation: {c:?}\n{text}"
        );
        let b = sim::run(&loaded.scenario, &opts).expect("runs again");
        assert_eq!(
            without_wall_clock(&a),
            without_wall_clock(&b),
            "two runs differ: {text}"
        );
    });
    assert!(
        valid * 2 >= total,
        "only {valid} of {total} generated scenarios were valid"
    );
}

/// Small templates the importer target mutates, beside the real-world corpus when it is there.
const IMPORT_SEEDS: &[&str] = &[
    "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nParameters:\n  Env: {Type: String, Default: dev}\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nGlobals:\n  Function: {Timeout: 10}\nResources:\n  Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Sub 'orders-${Env}'}}\n  Dlq: {Type: AWS::SQS::Queue}\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: !If [IsProd, true, false]\n      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 3}\n  Rule:\n    Type: AWS::Events::Rule\n    Properties:\n      EventBusName: !Ref Bus\n      EventPattern: {source: [shop], detail: {total: [{numeric: ['>', 100]}]}}\n      Targets:\n        - Arn: !GetAtt Q.Arn\n          Id: q\n          RetryPolicy: {MaximumRetryAttempts: 2}\n          DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        FromQ: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 5, FilterCriteria: {Filters: [{Pattern: '{\"body\": {\"a\": [1]}}'}]}}}\n        Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute)}}\n        Get: {Type: Api, Properties: {Path: /x, Method: get}}\n",
    "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\"}, \"S\": {\"Type\": \"AWS::SNS::Subscription\", \"Properties\": {\"TopicArn\": {\"Ref\": \"T\"}, \"Protocol\": \"sqs\", \"Endpoint\": {\"Fn::GetAtt\": [\"Q\", \"Arn\"]}, \"FilterPolicy\": {\"k\": [\"v\"]}}}, \"Q\": {\"Type\": \"AWS::SQS::Queue\"}, \"K\": {\"Type\": \"AWS::Kinesis::Stream\", \"Properties\": {\"ShardCount\": 2}}, \"P\": {\"Type\": \"AWS::Pipes::Pipe\", \"Properties\": {\"Source\": {\"Fn::GetAtt\": [\"K\", \"Arn\"]}, \"Target\": {\"Ref\": \"M\"}}}, \"M\": {\"Type\": \"AWS::StepFunctions::StateMachine\", \"Properties\": {\"DefinitionString\": {\"Fn::Sub\": \"{\\\"StartAt\\\": \\\"A\\\", \\\"States\\\": {\\\"A\\\": {\\\"Type\\\": \\\"Pass\\\", \\\"End\\\": true}}}\"}}}}}",
];

fn import_corpus() -> Vec<String> {
    let mut seeds: Vec<String> = IMPORT_SEEDS.iter().map(|s| (*s).to_owned()).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-world/templates");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        seeds.extend(
            files
                .iter()
                .filter(|p| !p.ends_with("INDEX.tsv") && !p.ends_with("FEATURES.tsv"))
                .filter_map(|p| std::fs::read_to_string(p).ok()),
        );
    }
    seeds
}

/// Mutations that matter to YAML: tags, anchors, indentation, flow punctuation.
#[allow(clippy::explicit_auto_deref)] // `pick` is generic: without the `*` it would infer `T = str`
fn mutate_yaml(text: &str, g: &mut Gen) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for _ in 0..=g.below(4) {
        if lines.is_empty() {
            break;
        }
        let i = g.below(lines.len());
        match g.below(6) {
            0 => lines[i].insert_str(0, *g.pick(&["  ", "- ", "\t", "? "])),
            1 => {
                let l = lines[i].clone();
                lines.insert(g.below(lines.len()), l);
            }
            2 => lines[i].push_str(*g.pick(&[
                " !Ref X",
                " &a",
                " *a",
                " !GetAtt",
                " !Sub",
                " [",
                " {",
                " '",
                " !!binary",
            ])),
            3 => {
                lines.remove(i);
            }
            4 => lines[i] = lines[i].replace(':', *g.pick(&[" :", "::", ""])),
            _ => lines[i] = lines[i].trim_start().to_owned(),
        }
    }
    lines.join("\n")
}

#[test]
fn fuzz_import() {
    let corpus = import_corpus();
    for_each_case("import", 300, |g| {
        let base = g.pick(&corpus).clone();
        let text = match g.below(3) {
            0 => String::from_utf8_lossy(&mutate_text(&base, g)).into_owned(),
            1 => mutate_yaml(&base, g),
            _ => match eventflow::import::yaml::parse(&base) {
                Ok(node) => {
                    let mut v = node.to_json();
                    for _ in 0..=g.below(6) {
                        mutate_value(&mut v, g, 0);
                    }
                    v.to_string()
                }
                Err(_) => mutate_yaml(&base, g),
            },
        };
        let start = Instant::now();
        let r =
            eventflow::import::import(&text, "fuzz.yaml", &eventflow::import::Options::default());
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "import took {:?}",
            start.elapsed()
        );
        match r {
            Ok(i) => {
                assert_eq!(i.scenario["format"], "eventflow/2");
                let _ = i.report.text();
            }
            Err(e) => assert!(!e.message.is_empty()),
        }
    });
}
