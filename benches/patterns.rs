//! Rule-matching throughput: 10⁶ realistic `EventBridge` events against rule sets of 10, 100 and
//! 1,000 mixed-operator rules, through `RuleMatcher` (one core).
//!
//! Run with `cargo bench --no-default-features --bench patterns`. For each rule count prints
//! events/s, ns/event, the average number of matching rules per event and of candidate
//! sub-rules checked per event, then the slowdown from 10 to 1,000 rules. Targets: ≥ 1 M
//! events/s at 100 rules and a slowdown below 3×.
//!
//! Events are generated deterministically (splitmix64) in chunks of 256, so 10⁶ distinct
//! events are matched without holding them all in memory, and each is matched while still in
//! cache, as in the engine (which matches an event right after creating it). Only matching is
//! timed. Every rule set sees the same events. The event universe is a mid-sized organisation's
//! bus: 40 sources, 10 detail-types each, order-like details with numbers, IPs, tags and arrays
//! of objects. Rules are what architects write: almost all pin `source` and/or `detail-type`
//! (or a `detail-type` prefix), with content filters of every kind on top (exact, prefix,
//! numeric, anything-but, exists, cidr, wildcard, equals-ignore-case, suffix, `$or`, nested
//! arrays of objects).
//!
//! For profiling, `EVENTFLOW_BENCH_EVENTS=N` matches N events instead of 10⁶ and
//! `EVENTFLOW_BENCH_ONLY=A1000` (mix letter, rule count) runs one row only, e.g. under
//! `valgrind --tool=callgrind --toggle-collect='*RuleMatcher*matching*'`.
//!
//! Two rule mixes, both reported:
//! - **A, dense**: every rule targets one of the 40 live sources, so the rules an event
//!   (nearly) matches grow with the rule count (0.04 matches/event at 10 rules, 2.4 at 1,000).
//!   Any matcher must do work per matching rule, so this mix measures that growth too.
//! - **B, constant matches**: the same rule shapes, but rules target one of 4·n sources (n = rule
//!   count) while events still come from the 40 live ones: about 10 rules are live at every
//!   size, as on a large shared bus where most rules are for other traffic. This isolates how
//!   cost depends on the number of rules alone (event-ruler's claim).

use std::hint::black_box;
use std::time::{Duration, Instant};

use eventflow::pattern::{MatchScratch, Pattern, RuleMatcher};
use serde_json::{Value, json};

const EVENTS: usize = 1_000_000;
const CHUNK: usize = 256;
const SOURCES: u64 = 40;
const TYPES_PER_SOURCE: u64 = 10;

/// splitmix64: tiny, fast, and the same numbers everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const CURRENCIES: &[&str] = &["USD", "EUR", "GBP", "JPY", "usd"];
const STATUSES: &[&str] = &[
    "created",
    "paid",
    "shipped",
    "cancelled",
    "refunded",
    "failed",
];
const CHANNELS: &[&str] = &["web", "mobile", "store", "partner"];
const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];

fn source(i: u64) -> String {
    format!("com.shop.svc{i}")
}

fn detail_type(src: u64, j: u64) -> String {
    format!("Svc{src}.Event{j}")
}

fn event(r: &mut Rng, n: u64) -> Value {
    let s = r.below(SOURCES);
    let t = r.below(TYPES_PER_SOURCE);
    let items: Vec<Value> = (0..=r.below(3))
        .map(|_| json!({"sku": format!("SKU-{}", r.below(500)), "qty": 1 + r.below(4)}))
        .collect();
    let mut detail = json!({
        "orderId": format!("ORD-{n}"),
        "customerId": format!("C-{}", r.below(10_000)),
        "amount": (r.unit() * 5000.0 * 100.0).round() / 100.0,
        "currency": r.pick(CURRENCIES),
        "status": r.pick(STATUSES),
        "channel": r.pick(CHANNELS),
        "ip": format!("10.{}.{}.{}", r.below(4), r.below(256), r.below(256)),
        "tags": [r.pick(&["vip", "new", "returning", "b2b"]), r.pick(&["promo", "none"])],
        "items": items,
    });
    if r.below(10) == 0 {
        detail["coupon"] = json!(format!("SAVE{}", r.below(50)));
    }
    json!({
        "version": "0",
        "id": format!("e-{n:08}"),
        "detail-type": detail_type(s, t),
        "source": source(s),
        "account": "111122223333",
        "time": "2024-05-01T12:00:00Z",
        "region": r.pick(REGIONS),
        "resources": [],
        "detail": detail,
    })
}

/// A random rule pinning one of `sources` sources (the first `SOURCES` are live).
fn rule(r: &mut Rng, sources: u64) -> Value {
    let s = r.below(sources);
    let t = r.below(TYPES_PER_SOURCE);
    let mut p = match r.below(20) {
        0..=9 => json!({"source": [source(s)], "detail-type": [detail_type(s, t)]}),
        10..=14 => {
            json!({"detail-type": [detail_type(s, t), detail_type(s, (t + 1) % TYPES_PER_SOURCE)]})
        }
        15..=17 => json!({"source": [source(s)]}),
        _ => json!({"detail-type": [{"prefix": format!("Svc{s}.")}]}),
    };
    let mut detail = serde_json::Map::new();
    for _ in 0..=r.below(2) {
        match r.below(9) {
            0 => {
                let lo = r.below(4000);
                detail.insert(
                    "amount".into(),
                    json!([{"numeric": [">=", lo, "<", lo + 500]}]),
                );
            }
            1 => {
                detail.insert(
                    "status".into(),
                    json!([{"anything-but": [r.pick(STATUSES), r.pick(STATUSES)]}]),
                );
            }
            2 => {
                detail.insert("coupon".into(), json!([{"exists": r.below(2) == 0}]));
            }
            3 => {
                detail.insert(
                    "ip".into(),
                    json!([{"cidr": format!("10.{}.0.0/16", r.below(4))}]),
                );
            }
            4 => {
                detail.insert(
                    "customerId".into(),
                    json!([{"wildcard": format!("C-{}*", r.below(10))}]),
                );
            }
            5 => {
                detail.insert(
                    "currency".into(),
                    json!([{"equals-ignore-case": r.pick(CURRENCIES)}]),
                );
            }
            6 => {
                detail.insert(
                    "items".into(),
                    json!({"sku": [{"prefix": format!("SKU-{}", r.below(5))}], "qty": [{"numeric": [">", 1]}]}),
                );
            }
            7 => {
                detail.insert(
                    "$or".into(),
                    json!([{"currency": ["USD", "EUR"]}, {"amount": [{"numeric": [">", 2500]}]}]),
                );
            }
            _ => {
                detail.insert(
                    "tags".into(),
                    json!([r.pick(&["vip", "b2b"]), {"suffix": "mo"}]),
                );
            }
        }
    }
    p["detail"] = Value::Object(detail);
    p
}

fn rules(n: usize, sources: u64) -> Vec<Pattern> {
    let mut r = Rng(0xfeed_0000 + n as u64);
    (0..n)
        .map(|_| match Pattern::parse(&rule(&mut r, sources)) {
            Ok(p) => p,
            Err(e) => panic!("bench rule invalid: {e:?}"),
        })
        .collect()
}

/// Matches the 10⁶ events; returns (matching time, total matches, sub-rules evaluated in full).
fn run(m: &RuleMatcher, events: usize) -> (Duration, u64, u64) {
    let mut r = Rng(42);
    let mut scratch = MatchScratch::default();
    let mut out = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut elapsed = Duration::ZERO;
    let mut matches = 0u64;
    let mut evaluated = 0u64;
    let mut n = 0u64;
    while (n as usize) < events {
        chunk.clear();
        for _ in 0..CHUNK {
            chunk.push(event(&mut r, n));
            n += 1;
        }
        let start = Instant::now();
        for e in &chunk {
            m.matching(black_box(e), &mut scratch, &mut out);
            matches += out.len() as u64;
            evaluated += scratch.last_evaluated() as u64;
        }
        elapsed += start.elapsed();
    }
    (elapsed, black_box(matches), evaluated)
}

/// How many sources the rules of a mix spread over, given the rule count.
type RuleSources = fn(usize) -> u64;

fn main() {
    let events = std::env::var("EVENTFLOW_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(EVENTS);
    let only = std::env::var("EVENTFLOW_BENCH_ONLY").ok();
    println!("eventflow pattern matching: {events} events, one core");
    let mixes: [(&str, RuleSources); 2] = [
        ("A, dense (rules over the 40 live sources)", |_| SOURCES),
        (
            "B, constant matches (rules over 4·n sources, 40 live)",
            |n| 4 * n as u64,
        ),
    ];
    for (name, sources) in mixes {
        println!("mix {name}:");
        let mut rates = Vec::new();
        for n in [10usize, 100, 1000] {
            if only
                .as_ref()
                .is_some_and(|o| *o != format!("{}{n}", &name[..1]))
            {
                continue;
            }
            let m = RuleMatcher::new(rules(n, sources(n)));
            let (t, matches, evaluated) = run(&m, events);
            let rate = events as f64 / t.as_secs_f64();
            println!(
                "{n:>5} rules: {:>6.2} M events/s  {:>5.0} ns/event  {:.3} matching rules/event  {:.2} candidates checked/event  {} unindexed",
                rate / 1e6,
                t.as_nanos() as f64 / events as f64,
                matches as f64 / events as f64,
                evaluated as f64 / events as f64,
                m.unindexed_count()
            );
            rates.push(rate);
        }
        if let [first, .., last] = rates[..]
            && rates.len() == 3
        {
            println!("  slowdown 10 → 1,000 rules: {:.2}×", first / last);
        }
    }
}
