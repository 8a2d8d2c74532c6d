//! Shared helpers: run the real binary, write scenario files, run scenarios through the library.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `eventflow` with `args`, feeding `stdin`.
pub fn eventflow(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventflow"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the eventflow binary runs");
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .expect("stdin accepts input");
    }
    child.wait_with_output().expect("eventflow finishes")
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scenario file in a fresh temporary directory (kept alive by the returned guard).
pub fn scenario_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, text).expect("the scenario is written");
    (dir, path)
}

/// Parses and validates scenario text, panicking with the problems when invalid.
pub fn scenario(text: &str) -> eventflow::model::Scenario {
    match eventflow::scenario::parse(text, "test.json") {
        Ok(l) => l.scenario,
        Err(e) => panic!("{e}"),
    }
}

/// Runs scenario text through the library with default options.
pub fn results(text: &str) -> eventflow::sim::Results {
    eventflow::sim::run(&scenario(text), &eventflow::sim::RunOptions::default()).unwrap()
}

/// Asserts the conservation balance: every owed delivery ended once or is still in flight.
pub fn balanced(r: &eventflow::sim::Results) {
    let c = r.conservation;
    assert_eq!(
        c.deliveries,
        c.completed + c.dead_lettered + c.rejected + c.expired + c.dropped + c.in_flight,
        "{c:?}"
    );
}

/// |x − n·p| within `sigmas` binomial standard deviations of n trials at probability p.
pub fn binomial_close(x: u64, n: u64, p: f64, sigmas: f64) {
    let mean = n as f64 * p;
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    assert!(
        (x as f64 - mean).abs() <= sigmas * sd,
        "{x} of {n}, expected {mean:.1} ± {sd:.1}"
    );
}

/// An M/M/c-style scenario: Poisson arrivals at `lambda` for about `customers` arrivals after
/// the warm-up, `c` servers, the given service time JSON. Arrivals continue to the end, so the
/// whole measured window is steady state.
pub fn queue_scenario(lambda: f64, c: u32, service: &str, customers: u64, warmup_s: f64) -> String {
    let duration_s = customers as f64 / lambda + warmup_s;
    format!(
        r#"{{ "name": "queue", "seed": 1, "duration": {duration_s:.0}, "warmup": {warmup_s},
            "producers": [ {{ "id": "p", "to": "q", "rate": {lambda} }} ],
            "queues": [ {{ "id": "q" }} ],
            "consumers": [ {{ "id": "c", "from": "q", "concurrency": {c}, "service_time": {service} }} ] }}"#
    )
}
