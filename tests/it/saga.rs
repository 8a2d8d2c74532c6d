//! Step Functions state machines at run time: Retry and Catch against the arithmetic of
//! independent failures and AWS's backoff, Choice against the generator's distribution, Map's
//! `MaxConcurrency` against timing, and the conservation balance through executions.

use eventflow::sim::{MachineFigures, Results};

use crate::support::{balanced, binomial_close, results};

fn machine<'r>(r: &'r Results, id: &str) -> &'r MachineFigures {
    let n = r.nodes.get(id).expect("machine node");
    assert_eq!(n.kind.as_str(), "state_machine");
    n.state_machine.as_ref().expect("machine figures")
}

fn state(m: &MachineFigures, name: &str) -> (u64, u64, u64) {
    let s = m.states.iter().find(|s| s.state == name).expect("state");
    (s.entries, s.failures, s.retries)
}

/// The contract's order saga: Reserve fails with p = 0.3, is retried 3 times (AWS defaults:
/// 1 s, then ×2), and is caught into a compensation.
const SAGA: &str = r#"{ "name": "saga", "duration": "10m", "seed": 11,
  "producers": [ { "id": "checkout", "to": "order-saga", "rate": 20,
                   "event": { "source": "shop", "detail": { "id": 1 } } } ],
  "consumers": [
    { "id": "reserve-inventory", "kind": "service", "concurrency": 500,
      "service_time": { "constant": "10ms" }, "failure_rate": 0.3 },
    { "id": "charge-payment", "kind": "service", "concurrency": 500, "service_time": { "constant": "10ms" } },
    { "id": "release-inventory", "kind": "service", "concurrency": 500, "service_time": { "constant": "10ms" } } ],
  "state_machines": [ { "id": "order-saga", "definition": {
    "StartAt": "Reserve",
    "States": {
      "Reserve": { "Type": "Task", "Resource": "reserve-inventory",
                   "Retry": [ { "ErrorEquals": ["States.ALL"], "MaxAttempts": 3 } ],
                   "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "Release" } ], "Next": "Charge" },
      "Charge":  { "Type": "Task", "Resource": "charge-payment", "End": true },
      "Release": { "Type": "Task", "Resource": "release-inventory", "Next": "Failed" },
      "Failed":  { "Type": "Fail" } } } } ] }"#;

#[test]
fn a_task_retried_three_times_compensates_in_p_to_the_fourth() {
    let r = results(SAGA);
    balanced(&r);
    let m = machine(&r, "order-saga");
    let ended = m.succeeded + m.failed + m.timed_out;
    assert_eq!(m.started, ended + m.running);
    assert!(ended > 10_000, "{ended}");
    // Four independent attempts (the first and three retries) all fail: p⁴.
    let p4 = 0.3_f64.powi(4);
    binomial_close(m.compensated, ended, p4, 4.0);
    // Every compensated execution ends in the Fail state; nothing else fails.
    assert_eq!(m.failed, m.compensated);
    assert_eq!(m.timed_out, 0);
    let (entries, failures, retries) = state(m, "Reserve");
    assert_eq!(failures, m.compensated);
    // Each execution that entered Reserve retried 3 times or until it succeeded.
    assert!(retries <= 3 * entries);
    let (release, _, _) = state(m, "Release");
    assert_eq!(release, m.compensated);
    // The retries' waits are 1 s, 2 s, 4 s (IntervalSeconds × BackoffRate^k): a compensated
    // execution takes 4 Reserve attempts + Release (10 ms each) + 7 s exactly, the slowest
    // there is.
    assert!(
        (m.execution_time_s.max_s - (7.0 + 5.0 * 0.01)).abs() < 1e-9,
        "{}",
        m.execution_time_s.max_s
    );
    // The Task calls are no deliveries: one owed delivery per execution.
    assert_eq!(r.conservation.deliveries, m.started);
    // A call per attempt: the service saw entries + retries calls.
    let reserve = r.nodes.get("reserve-inventory").unwrap();
    // (Executions waiting for a retry at the end have counted the retry, not made the call.)
    let calls = entries + retries;
    assert!(reserve.arrived <= calls && reserve.arrived + m.running >= calls);
    assert_eq!(reserve.failed, failures + retries);
}

#[test]
fn retry_delays_follow_interval_times_backoff_to_the_k_capped_by_max_delay() {
    // Always failing: every execution waits 1 + 3 + 9 (capped at 5) s between 4 attempts.
    let text = r#"{ "name": "backoff", "duration": "2m",
      "producers": [ { "id": "p", "to": "m", "rate": 1, "event": { "detail": {} } } ],
      "consumers": [ { "id": "f", "kind": "service", "concurrency": 50,
                       "service_time": { "constant": "100ms" }, "failure_rate": 1.0 } ],
      "state_machines": [ { "id": "m", "definition": { "StartAt": "T", "States": {
        "T": { "Type": "Task", "Resource": "f", "End": true,
               "Retry": [ { "ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1,
                            "BackoffRate": 3.0, "MaxAttempts": 3, "MaxDelaySeconds": 5 } ] } } } } ] }"#;
    let r = results(text);
    balanced(&r);
    let m = machine(&r, "m");
    assert_eq!(m.succeeded, 0);
    assert_eq!(m.compensated, 0);
    assert!(m.failed > 100);
    let expect = 4.0 * 0.1 + 1.0 + 3.0 + 5.0;
    for x in [m.execution_time_s.mean_s, m.execution_time_s.max_s] {
        assert!((x - expect).abs() < 1e-9, "{x} vs {expect}");
    }
}

#[test]
fn a_choice_splits_as_its_conditions_predict() {
    let text = r#"{ "name": "choice", "duration": "10m", "seed": 3,
      "producers": [ { "id": "p", "to": "m", "rate": 20,
                       "event": { "detail": { "total": { "$uniform": [0, 1000] } } } } ],
      "state_machines": [ { "id": "m", "definition": { "StartAt": "Route", "States": {
        "Route": { "Type": "Choice",
                   "Choices": [ { "Variable": "$.detail.total", "NumericGreaterThanEquals": 800, "Next": "Big" } ],
                   "Default": "Small" },
        "Big": { "Type": "Pass", "End": true },
        "Small": { "Type": "Succeed" } } } } ] }"#;
    let r = results(text);
    balanced(&r);
    let m = machine(&r, "m");
    assert_eq!(m.succeeded, m.started);
    let (big, _, _) = state(m, "Big");
    let (small, _, _) = state(m, "Small");
    assert_eq!(big + small, m.started);
    // total uniform on [0, 1000]: P(total ≥ 800) = 0.2.
    binomial_close(big, m.started, 0.2, 4.0);
}

#[test]
fn map_max_concurrency_bounds_the_concurrent_task_calls() {
    // One order with 10 items, each a 1 s call; at most 2 at once: 5 rounds of 1 s.
    let text = |max: u32| {
        format!(
            r#"{{ "name": "map", "duration": "1m",
      "producers": [ {{ "id": "p", "to": "m", "rate": 1, "limit": 1,
                       "event": {{ "detail": {{ "items": [1,2,3,4,5,6,7,8,9,10] }} }} }} ],
      "consumers": [ {{ "id": "ship", "kind": "service", "concurrency": 2,
                       "service_time": {{ "constant": "1s" }} }} ],
      "state_machines": [ {{ "id": "m", "definition": {{ "StartAt": "Each", "States": {{
        "Each": {{ "Type": "Map", "ItemsPath": "$.detail.items", "MaxConcurrency": {max}, "End": true,
                  "Iterator": {{ "StartAt": "Ship", "States": {{
                    "Ship": {{ "Type": "Task", "Resource": "ship", "End": true }} }} }} }} }} }} }} ] }}"#
        )
    };
    let r = results(&text(2));
    balanced(&r);
    let m = machine(&r, "m");
    assert_eq!((m.started, m.succeeded), (1, 1));
    assert!(
        (m.execution_time_s.max_s - 5.0).abs() < 1e-9,
        "{}",
        m.execution_time_s.max_s
    );
    let ship = r.nodes.get("ship").unwrap();
    assert_eq!((ship.arrived, ship.completed, ship.throttled), (10, 10, 0));
    assert_eq!(state(m, "Each/Ship").0, 10);
    // Without the bound, 10 calls meet 2 slots: 8 are throttled and the execution fails.
    let r = results(&text(0));
    balanced(&r);
    let m = machine(&r, "m");
    assert_eq!((m.started, m.failed), (1, 1));
    assert_eq!(r.nodes.get("ship").unwrap().throttled, 8);
}

#[test]
fn parallel_waits_for_every_branch_and_wait_waits() {
    let text = r#"{ "name": "par", "duration": "1m",
      "producers": [ { "id": "p", "to": "m", "rate": 1, "limit": 3, "event": { "detail": {} } } ],
      "consumers": [ { "id": "a", "kind": "service", "concurrency": 10, "service_time": { "constant": "2s" } } ],
      "state_machines": [ { "id": "m", "definition": { "StartAt": "Both", "States": {
        "Both": { "Type": "Parallel", "Next": "Pause", "Branches": [
          { "StartAt": "A", "States": { "A": { "Type": "Task", "Resource": "a", "End": true } } },
          { "StartAt": "B", "States": { "B": { "Type": "Wait", "Seconds": 3, "End": true } } } ] },
        "Pause": { "Type": "Wait", "Seconds": 1.5, "End": true } } } } ] }"#;
    let r = results(text);
    balanced(&r);
    let m = machine(&r, "m");
    assert_eq!((m.started, m.succeeded), (3, 3));
    // max(2 s, 3 s) + 1.5 s.
    assert!((m.execution_time_s.max_s - 4.5).abs() < 1e-9);
    assert!((m.execution_time_s.mean_s - 4.5).abs() < 1e-9);
}

#[test]
fn timeouts_raise_states_timeout_and_end_executions() {
    // A 2 s call under a 1 s TimeoutSeconds: caught as States.Timeout (TaskFailed does not
    // cover it, ALL does); the machine's own 10 s limit ends the Wait that follows.
    let text = r#"{ "name": "timeouts", "duration": "1m",
      "producers": [ { "id": "p", "to": "m", "rate": 1, "limit": 5, "event": { "detail": {} } } ],
      "consumers": [ { "id": "slow", "kind": "service", "concurrency": 10, "service_time": { "constant": "2s" } } ],
      "state_machines": [ { "id": "m", "definition": { "TimeoutSeconds": 10, "StartAt": "T", "States": {
        "T": { "Type": "Task", "Resource": "slow", "TimeoutSeconds": 1, "Next": "Done",
               "Retry": [ { "ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 5 } ],
               "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "Long" } ] },
        "Long": { "Type": "Wait", "Seconds": 60, "Next": "Done" },
        "Done": { "Type": "Succeed" } } } } ] }"#;
    let r = results(text);
    balanced(&r);
    let m = machine(&r, "m");
    assert_eq!((m.started, m.timed_out, m.compensated), (5, 5, 5));
    assert_eq!(state(m, "T"), (5, 5, 0));
    assert!((m.execution_time_s.max_s - 10.0).abs() < 1e-9);
    assert_eq!(r.conservation.completed, 5);
}

#[test]
fn a_rule_target_starts_executions_and_a_run_balances_with_executions_running() {
    let text = r#"{ "name": "rule", "duration": "30s",
      "producers": [ { "id": "p", "to": "bus", "rate": 10, "event": { "source": "shop", "detail": {} } } ],
      "buses": [ { "id": "bus", "rules": [ { "id": "r", "pattern": { "source": ["shop"] },
                                            "targets": [ { "to": "m" } ] } ] } ],
      "state_machines": [ { "id": "m", "definition": { "StartAt": "W", "States": {
        "W": { "Type": "Wait", "Seconds": 5, "End": true } } } } ] }"#;
    let r = results(text);
    balanced(&r);
    let m = machine(&r, "m");
    assert!(m.running > 0 && m.succeeded > 0);
    assert_eq!(m.started, m.succeeded + m.running);
    assert_eq!(r.conservation.in_flight, m.running);
}

#[test]
fn express_executions_end_at_five_minutes_and_duplicates_owe_nothing() {
    // An express machine waiting 400 s is ended at AWS's 300 s limit; with duplicate_rate 0.5
    // about half the starts run twice, and only the first of each pair is a delivery.
    let text = r#"{ "name": "express", "duration": "20m", "seed": 5,
      "producers": [ { "id": "p", "to": "m", "rate": 2, "limit": 1000, "event": { "detail": {} } } ],
      "state_machines": [ { "id": "m", "type": "express", "duplicate_rate": 0.5, "definition": {
        "StartAt": "W", "States": { "W": { "Type": "Wait", "Seconds": 400, "End": true } } } } ] }"#;
    let r = results(text);
    balanced(&r);
    let m = machine(&r, "m");
    assert_eq!(r.conservation.deliveries, 1000);
    assert_eq!(r.conservation.completed, 1000);
    assert_eq!(m.started, m.timed_out);
    binomial_close(m.started - 1000, 1000, 0.5, 4.0);
    assert!((m.execution_time_s.max_s - 300.0).abs() < 1e-9);
}
