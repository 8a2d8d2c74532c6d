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

// ── Topics at run time ───────────────────────────────────────────────────────────────────

use crate::support::{balanced, binomial_close, results};

const FAN_OUT: &str = r#"{ "name": "fan-out", "duration": "10m", "seed": 7,
  "producers": [ { "id": "p", "to": "t", "rate": 20,
    "event": { "source": "shop", "detail-type": "OrderPlaced",
               "attributes": { "tier": { "$choice": { "gold": 0.25, "basic": 0.75 } } },
               "detail": { "total": { "$uniform": [0, 1000] } } } } ],
  "topics": [ { "id": "t", "subscriptions": [
      { "to": "gold-q", "filter": { "tier": ["gold"] } },
      { "to": "big-q", "filter": { "detail": { "total": [ { "numeric": [">=", 800] } ] } }, "filter_scope": "body" },
      { "to": "all-q" },
      { "to": "nobody-q", "filter": { "tier": ["platinum"] } } ] } ],
  "queues": [ { "id": "gold-q" }, { "id": "big-q" }, { "id": "all-q" }, { "id": "nobody-q" } ],
  "consumers": [
    { "id": "g", "from": "gold-q", "concurrency": 5, "service_time": { "constant": "10ms" } },
    { "id": "b", "from": "big-q", "concurrency": 5, "service_time": { "constant": "10ms" } },
    { "id": "a", "from": "all-q", "concurrency": 5, "service_time": { "constant": "10ms" } },
    { "id": "n", "from": "nobody-q", "service_time": { "constant": "10ms" } } ] }"#;

#[test]
fn subscription_filters_share_the_generator_distribution() {
    let r = results(FAN_OUT);
    balanced(&r);
    let t = r.nodes.get("t").expect("topic node");
    assert_eq!(t.kind.as_str(), "topic");
    let n = t.completed;
    assert!(n > 10_000, "{n}");
    let subs = &t.subscriptions;
    assert_eq!(subs.len(), 4);
    // $choice gold 0.25 → the gold subscription's share; total uniform on [0, 1000] → P(≥ 800)
    // = 0.2; no filter → all; platinum never generated → none.
    binomial_close(subs[0].deliveries, n, 0.25, 4.0);
    binomial_close(subs[1].deliveries, n, 0.2, 4.0);
    assert_eq!(subs[2].deliveries, n);
    assert_eq!(subs[3].deliveries, 0);
    for s in subs {
        assert_eq!(s.deliveries + s.filtered, n, "{s:?}");
    }
    // Every copy reaches its queue: what the subscription passed arrived there.
    assert_eq!(r.nodes.get("gold-q").unwrap().arrived, subs[0].deliveries);
    assert_eq!(r.nodes.get("all-q").unwrap().arrived, n);
    // Fan-out: every event owes one copy per passing subscription.
    let c = r.conservation;
    assert_eq!(c.unmatched, 0);
}

#[test]
fn a_message_no_subscription_takes_is_unmatched() {
    let text = FAN_OUT.replace(r#"{ "to": "all-q" },"#, "");
    let r = results(&text);
    balanced(&r);
    let t = r.nodes.get("t").unwrap();
    let subs = &t.subscriptions;
    // Neither gold nor ≥ 800: (1 − 0.25) × (1 − 0.8) of the messages → 0.6.
    let taken_by_none = r.conservation.unmatched;
    let produced = r.conservation.produced;
    binomial_close(taken_by_none, produced, 0.75 * 0.8, 4.0);
    assert_eq!(subs.len(), 3);
}

#[test]
fn a_failing_service_subscriber_is_retried_three_times_then_dead_lettered() {
    // SNS's HTTP/S default: 3 retries 20 s apart, then the subscription's DLQ.
    let text = r#"{ "name": "svc", "duration": "10m",
      "producers": [ { "id": "p", "to": "t", "rate": 1, "limit": 50, "arrivals": "uniform" } ],
      "topics": [ { "id": "t", "subscriptions": [ { "to": "api", "dead_letter": "dlq" } ] } ],
      "queues": [ { "id": "dlq" } ],
      "consumers": [ { "id": "api", "kind": "service", "failure_rate": 1.0, "concurrency": 10,
                       "service_time": { "constant": "10ms" } } ] }"#;
    let r = results(text);
    balanced(&r);
    let api = r.nodes.get("api").unwrap();
    assert_eq!(api.arrived, 50 * 4, "one try and 3 retries each");
    assert_eq!(api.throttled, 0);
    assert_eq!(r.nodes.get("t").unwrap().retried, 50 * 3);
    let t = r.nodes.get("t").unwrap();
    assert_eq!(t.subscriptions[0].dead_lettered, 50);
    assert_eq!(r.nodes.get("dlq").unwrap().arrived, 50);
}

/// The same routing two ways — SNS fan-out with filter policies (body scope) and an
/// `EventBridge` bus with one rule per destination — sends the same events to the same queues:
/// with the same producer (same id, same seed, so the same events), every queue receives
/// exactly the same number of messages.
#[test]
fn sns_fan_out_and_eventbridge_rules_route_alike() {
    let producer = r#"{ "id": "checkout", "to": "ROUTER", "rate": 50,
        "event": { "source": "shop", "detail-type": "OrderPlaced",
                   "detail": { "currency": { "$choice": { "USD": 0.6, "EUR": 0.3, "GBP": 0.1 } },
                               "total": { "$uniform": [0, 2000] } } } }"#;
    let queues = r#""queues": [ { "id": "usd-q" }, { "id": "big-q" }, { "id": "audit-q" } ],
      "consumers": [ { "id": "u", "from": "usd-q", "concurrency": 5, "service_time": { "constant": "5ms" } },
                     { "id": "b", "from": "big-q", "concurrency": 5, "service_time": { "constant": "5ms" } },
                     { "id": "a", "from": "audit-q", "concurrency": 5, "service_time": { "constant": "5ms" } } ]"#;
    let sns = format!(
        r#"{{ "name": "sns", "duration": "5m", "seed": 3, "producers": [ {} ],
          "topics": [ {{ "id": "orders", "subscriptions": [
            {{ "to": "usd-q", "filter": {{ "detail": {{ "currency": ["USD"] }} }}, "filter_scope": "body" }},
            {{ "to": "big-q", "filter": {{ "detail": {{ "total": [ {{ "numeric": [">=", 1500] }} ] }} }}, "filter_scope": "body" }},
            {{ "to": "audit-q" }} ] }} ], {queues} }}"#,
        producer.replace("ROUTER", "orders")
    );
    let eb = format!(
        r#"{{ "name": "eb", "duration": "5m", "seed": 3, "producers": [ {} ],
          "buses": [ {{ "id": "orders", "rules": [
            {{ "id": "usd", "pattern": {{ "detail": {{ "currency": ["USD"] }} }}, "targets": [ {{ "to": "usd-q" }} ] }},
            {{ "id": "big", "pattern": {{ "detail": {{ "total": [ {{ "numeric": [">=", 1500] }} ] }} }}, "targets": [ {{ "to": "big-q" }} ] }},
            {{ "id": "audit", "pattern": {{ "source": ["shop"] }}, "targets": [ {{ "to": "audit-q" }} ] }} ] }} ], {queues} }}"#,
        producer.replace("ROUTER", "orders")
    );
    let (a, b) = (results(&sns), results(&eb));
    balanced(&a);
    balanced(&b);
    for q in ["usd-q", "big-q", "audit-q"] {
        let (x, y) = (
            a.nodes.get(q).unwrap().arrived,
            b.nodes.get(q).unwrap().arrived,
        );
        assert_eq!(x, y, "{q}");
        assert!(x > 0, "{q}");
    }
    // And the shares follow the generator: USD 0.6, total ≥ 1500 on [0, 2000] is 0.25.
    let n = a.conservation.produced;
    binomial_close(a.nodes.get("usd-q").unwrap().arrived, n, 0.6, 4.0);
    binomial_close(a.nodes.get("big-q").unwrap().arrived, n, 0.25, 4.0);
}
