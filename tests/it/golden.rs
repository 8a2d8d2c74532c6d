//! Recorded behaviour of every bundled scenario: a refactor must keep it byte for byte.
//!
//! For each file in `scenarios/` and seeds 1 and 2, `tests/golden/` holds the `run --json
//! --no-series` output (readable in a diff), a digest of the full `run --json` output (the time
//! series included), and the `check` output. `engine.wall_seconds`, the one field that differs
//! between identical runs, is blanked before comparing.
//!
//! When a change of behaviour is intended (and explained in its commit), re-record with
//! `EVENTFLOW_BLESS=1 cargo test --profile ci golden` and commit the new files beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::support::{eventflow, stderr, stdout};

const SEEDS: [u64; 2] = [1, 2];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The output with the wall-clock field's value replaced by 0.
fn without_wall_clock(text: &str) -> String {
    let key = "\"wall_seconds\": ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        out.push('0');
        rest = &rest[i + key.len()..];
        let end = rest.find([',', '\n', '}']).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn bundled() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .expect("scenarios/ is readable")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
    files.sort();
    files
}

fn run(args: &[&str]) -> String {
    let out = eventflow(args, "");
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 2),
        "eventflow {args:?} failed: {}",
        stderr(&out)
    );
    format!("{}{}", stdout(&out), stderr(&out))
}

#[test]
fn bundled_scenarios_give_the_recorded_results() {
    let bless = std::env::var_os("EVENTFLOW_BLESS").is_some();
    let dir = golden_dir();
    let mut digests = String::new();
    let mut mismatches = Vec::new();
    for file in bundled() {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        // Relative (tests run in the package root), so messages that name the file read the
        // same in every checkout.
        let path = format!("scenarios/{name}.json");
        let mut outputs = vec![(format!("{name}.check.txt"), run(&["check", &path]))];
        for seed in SEEDS {
            let s = seed.to_string();
            let full = without_wall_clock(&run(&["run", &path, "--json", "--seed", &s]));
            let _ = writeln!(
                digests,
                "{name} seed {seed}: {:016x} ({} bytes)",
                eventflow::sim::rng::stable_hash(full.as_bytes()),
                full.len()
            );
            let short =
                without_wall_clock(&run(&["run", &path, "--json", "--no-series", "--seed", &s]));
            outputs.push((format!("{name}.seed{seed}.json"), short));
        }
        for (file, text) in outputs {
            let golden = dir.join(&file);
            if bless {
                std::fs::create_dir_all(&dir).expect("tests/golden is writable");
                std::fs::write(&golden, &text).expect("a golden file is written");
            } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(text.as_str()) {
                mismatches.push(file);
            }
        }
    }
    let digest_file = dir.join("series-digests.txt");
    if bless {
        std::fs::write(&digest_file, &digests).expect("the digests are written");
    } else if std::fs::read_to_string(&digest_file).ok().as_deref() != Some(digests.as_str()) {
        mismatches.push("series-digests.txt (the full output, time series included)".to_owned());
    }
    assert!(
        mismatches.is_empty(),
        "bundled scenarios no longer give their recorded results: {mismatches:?}\n\
         (diff tests/golden/ after EVENTFLOW_BLESS=1 to see what changed)"
    );
}

#[test]
fn the_wall_clock_is_the_only_field_blanked() {
    assert_eq!(
        without_wall_clock("{\"wall_seconds\": 0.123,\n\"x\": 1, \"wall_seconds\": 4e-5}"),
        "{\"wall_seconds\": 0,\n\"x\": 1, \"wall_seconds\": 0}"
    );
}
