//! Topics (SNS), pipes and state machines (Step Functions): validation and lint through the real
//! `check` command, with the contract's own examples and the errors they must give.

use crate::support::{eventflow, scenario_file, stderr, stdout};

/// The version-2 contract's examples (topic, pipe and the order saga) in one scenario.
const SAGA: &str = r#"{ "name": "flow", "duration": "1m",
  "producers": [ { "id": "checkout", "to": "orders-topic", "rate": 10,
                   "event": { "source": "shop", "detail-type": "OrderPlaced",
                              "attributes": { "tier": { "$choice": { "gold": 0.2, "basic": 0.8 } } },
                              "detail": { "status": "NEW", "totalAmount": { "$uniform": [1, 500] } } } },
                 { "id": "raw", "to": "orders-stream", "rate": 5,
                   "event": { "source": "shop", "detail": { "status": "NEW" } } } ],
  "queues": [ { "id": "billing-q" }, { "id": "billing-sub-dlq" } ],
  "streams": [ { "id": "orders-stream", "partitions": 2 } ],
  "consumers": [
    { "id": "billing", "from": "billing-q", "service_time": { "constant": "10ms" } },
    { "id": "email-fn", "service_time": { "constant": "10ms" } },
    { "id": "lookup-customer", "service_time": { "constant": "20ms" } },
    { "id": "reserve-inventory", "service_time": { "constant": "30ms" }, "failure_rate": 0.1 },
    { "id": "charge-payment", "service_time": { "constant": "30ms" } },
    { "id": "release-inventory", "service_time": { "constant": "10ms" } } ],
  "topics": [ { "id": "orders-topic", "type": "standard",
    "subscriptions": [
      { "to": "billing-q", "filter": { "detail": { "totalAmount": [ { "numeric": [">", 100] } ] } },
        "filter_scope": "body", "dead_letter": "billing-sub-dlq" },
      { "to": "email-fn", "filter": { "tier": ["gold"] } } ] } ],
  "pipes": [ { "id": "orders-pipe", "source": "orders-stream", "batch_size": 10,
               "filter": [ { "detail": { "status": ["NEW"] } } ],
               "enrichment": "lookup-customer", "target": "order-saga" } ],
  "state_machines": [ { "id": "order-saga", "type": "standard", "definition": {
    "StartAt": "Reserve",
    "States": {
      "Reserve": { "Type": "Task", "Resource": "reserve-inventory",
                   "Retry": [ { "ErrorEquals": ["States.ALL"], "MaxAttempts": 3 } ],
                   "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "Release" } ], "Next": "Charge" },
      "Charge":  { "Type": "Task", "Resource": "charge-payment", "End": true },
      "Release": { "Type": "Task", "Resource": "release-inventory", "Next": "Failed" },
      "Failed":  { "Type": "Fail" } } } } ] }"#;

fn check(text: &str) -> (Option<i32>, String) {
    let (_dir, path) = scenario_file(text);
    let o = eventflow(&["check", &path.to_string_lossy()], "");
    (o.status.code(), format!("{}{}", stdout(&o), stderr(&o)))
}

#[test]
fn the_contract_examples_are_valid_with_lints() {
    let (code, out) = check(SAGA);
    assert_eq!(code, Some(0), "{out}");
    // Charge and Release have no Catch: their failure fails the execution uncompensated.
    assert!(
        out.contains("state_machines[0].definition.States.Charge") && out.contains("no Catch"),
        "{out}"
    );
    assert!(!out.contains("States.Reserve:"), "{out}");
    // The stream is read by the pipe, the enrichment and Task consumers are invoked.
    assert!(!out.contains("reads nothing"), "{out}");
}

#[test]
fn bad_references_and_policies_name_their_paths() {
    let bad = SAGA
        .replace(r#""to": "email-fn""#, r#""to": "emial-fn""#)
        .replace(r#""tier": ["gold"]"#, r#""tier": [{"wildcard": "g*"}]"#)
        .replace(
            r#""enrichment": "lookup-customer""#,
            r#""enrichment": "billing-q""#,
        )
        .replace(
            r#""Resource": "charge-payment""#,
            r#""Resource": "charge-paymnt""#,
        );
    let (code, out) = check(&bad);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(
            "topics[0].subscriptions[1].to: no queue, consumer or bus has id \"emial-fn\""
        ),
        "{out}"
    );
    assert!(out.contains("did you mean `email-fn`?"), "{out}");
    assert!(
        out.contains("topics[0].subscriptions[1].filter.tier[0].wildcard"),
        "{out}"
    );
    assert!(
        out.contains("pipes[0].enrichment: \"billing-q\" is a queue"),
        "{out}"
    );
    assert!(
        out.contains("state_machines[0].definition.States.Charge.Resource: no consumer"),
        "{out}"
    );
}

#[test]
fn unsupported_asl_is_a_meaning_error_naming_state_and_field() {
    let bad = SAGA.replace(
        r#""Charge":  { "Type": "Task", "Resource": "charge-payment", "End": true }"#,
        r#""Charge":  { "Type": "Task", "Resource": "charge-payment", "HeartbeatSeconds": 10, "End": true }"#,
    );
    let (code, out) = check(&bad);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("state_machines[0].definition.States.Charge.HeartbeatSeconds")
            && out.contains("state \"Charge\" (Task): field `HeartbeatSeconds` is not supported"),
        "{out}"
    );
    let bad = SAGA.replace(r#""Type": "Fail""#, r#""Type": "Sleep""#);
    let (code, out) = check(&bad);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("state_machines[0].definition.States.Failed.Type")
            && out.contains("Type \"Sleep\" is not supported"),
        "{out}"
    );
}

#[test]
fn fifo_topics_and_dead_letter_types() {
    let bad = SAGA
        .replace(r#""type": "standard","#, r#""type": "fifo","#)
        .replace(
            r#"{ "id": "billing-q" }"#,
            r#"{ "id": "billing-q", "type": "fifo", "group_by": "detail.status" }"#,
        );
    let (code, out) = check(&bad);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("topics[0].subscriptions[1].to: a FIFO topic delivers only to queues"),
        "{out}"
    );
    assert!(
        out.contains("topics[0].subscriptions[0].dead_letter"),
        "{out}"
    );
    // A nested policy with the attributes scope is refused, as SNS refuses it.
    let bad = SAGA.replace(r#""filter_scope": "body", "#, "");
    let (code, out) = check(&bad);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("topics[0].subscriptions[0].filter.detail: SNS does not accept nested"),
        "{out}"
    );
}

#[test]
fn lints_for_topics_pipes_and_states() {
    let s = SAGA
        .replace(
            r#""filter": [ { "detail": { "status": ["NEW"] } } ]"#,
            r#""filter": [ { "detail": { "status": ["CANCELLED"] } } ]"#,
        )
        .replace(
            r#""Failed":  { "Type": "Fail" } }"#,
            r#""Failed":  { "Type": "Fail" }, "Orphan": { "Type": "Succeed" } }"#,
        )
        .replace(r#""topics": [ {"#, r#""topics": [ { "id": "lonely" }, {"#);
    let (code, out) = check(&s);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("topics[0]") && out.contains("\"lonely\" has no subscription"),
        "{out}"
    );
    assert!(
        out.contains("pipes[0].filter") && out.contains("can never pass an event"),
        "{out}"
    );
    assert!(
        out.contains("States.Orphan") && out.contains("unreachable"),
        "{out}"
    );
}
