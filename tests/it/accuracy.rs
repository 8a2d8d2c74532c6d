//! The engine against queueing theory (`reference/queueing.md`): M/M/1, M/M/c and M/D/1 mean
//! wait, time in system and number in system on ≥ 10⁶ customers, and Little's law per node.
//!
//! "Within noise" is made precise with independent replications: the theoretical value must lie
//! within four standard errors of the replicated mean, and the standard error itself must be
//! small (so a loose test cannot pass by being noisy).

use eventflow::sim::{RunOptions, run};

use crate::support::{queue_scenario, scenario};

struct Figures {
    wq: f64,
    w: f64,
    l: f64,
}

/// Runs `reps` seeds of `customers` each and returns the per-replication (Wq, W, L).
fn replicate(text: &str, reps: u64) -> Vec<Figures> {
    let s = scenario(text);
    (0..reps)
        .map(|i| {
            let r = run(
                &s,
                &RunOptions {
                    seed: Some(1000 + i),
                    ..RunOptions::default()
                },
            )
            .unwrap();
            let c = r.nodes.get("c").unwrap();
            // Little's law on every node with traffic, every replication: within 1 %.
            for (id, n) in &r.nodes.0 {
                if n.kind != eventflow::model::Kind::Producer && n.mean_number_in_system > 0.0 {
                    let gap = (n.mean_number_in_system - n.littles_law_lambda_w).abs()
                        / n.mean_number_in_system;
                    assert!(
                        gap < 0.01,
                        "{id}: L = {} but λW = {}",
                        n.mean_number_in_system,
                        n.littles_law_lambda_w
                    );
                }
            }
            Figures {
                wq: c.wait_s.mean_s,
                w: c.mean_time_in_system_s,
                l: c.mean_number_in_system,
            }
        })
        .collect()
}

fn check(name: &str, values: &[f64], theory: f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    assert!(
        se / theory < 0.03,
        "{name}: standard error {se} is too large for a meaningful test"
    );
    assert!(
        (mean - theory).abs() < 4.0 * se,
        "{name}: simulated {mean:.4} ± {se:.4} (s.e.) but theory says {theory:.4}"
    );
}

fn check_all(runs: &[Figures], wq: f64, w: f64, l: f64) {
    check("Wq", &runs.iter().map(|f| f.wq).collect::<Vec<_>>(), wq);
    check("W", &runs.iter().map(|f| f.w).collect::<Vec<_>>(), w);
    check("L", &runs.iter().map(|f| f.l).collect::<Vec<_>>(), l);
}

#[test]
fn mm1_matches_theory() {
    // λ = 0.8, μ = 1: W = 1/(μ−λ) = 5, Wq = ρ/(μ−λ) = 4, L = ρ/(1−ρ) = 4.
    let text = queue_scenario(
        0.8,
        1,
        r#"{ "exponential": { "mean": "1s" } }"#,
        125_000,
        2_000.0,
    );
    check_all(&replicate(&text, 8), 4.0, 5.0, 4.0);
}

#[test]
fn mmc_matches_erlang_c() {
    // λ = 9, μ = 1, c = 10: C ≈ 0.6687, Wq ≈ 0.6687, W ≈ 1.6687, L ≈ 15.02 (queueing.md).
    let text = queue_scenario(
        9.0,
        10,
        r#"{ "exponential": { "mean": "1s" } }"#,
        125_000,
        500.0,
    );
    check_all(&replicate(&text, 8), 0.6687, 1.6687, 15.018);
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    // λ = 0.8, constant service 1 s: Wq = ρ/(2μ(1−ρ)) = 2, W = 3, L = λW = 2.4.
    let text = queue_scenario(0.8, 1, r#"{ "constant": "1s" }"#, 125_000, 2_000.0);
    check_all(&replicate(&text, 8), 2.0, 3.0, 2.4);
}

#[test]
fn utilization_is_rho() {
    let text = queue_scenario(
        9.0,
        10,
        r#"{ "exponential": { "mean": "1s" } }"#,
        200_000,
        500.0,
    );
    let r = run(&scenario(&text), &RunOptions::default()).unwrap();
    let u = r.nodes.get("c").unwrap().utilization;
    assert!((u - 0.9).abs() < 0.01, "utilization {u}");
}
