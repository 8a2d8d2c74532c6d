//! Unit tests of the Amazon States Language parser: defaults from the Step Functions guide,
//! every supported state, and unsupported states and fields refused by name.

use serde_json::{Value, json};

use super::*;

fn parse(v: Value) -> Definition {
    Definition::parse(&v).unwrap_or_else(|e| panic!("{e:?}"))
}

fn errors(v: Value) -> Vec<AslError> {
    Definition::parse(&v).expect_err("definition should be refused")
}

fn saga() -> Value {
    json!({
        "StartAt": "Reserve",
        "States": {
            "Reserve": { "Type": "Task", "Resource": "reserve-inventory",
                         "Retry": [ { "ErrorEquals": ["States.ALL"], "MaxAttempts": 3 } ],
                         "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "Release" } ], "Next": "Charge" },
            "Charge":  { "Type": "Task", "Resource": "charge-payment", "End": true },
            "Release": { "Type": "Task", "Resource": "release-inventory", "Next": "Failed" },
            "Failed":  { "Type": "Fail" } } })
}

#[test]
fn the_contract_saga_parses() {
    let d = parse(saga());
    assert_eq!(d.states.len(), 4);
    assert_eq!(d.states[d.start].name, "Reserve");
    assert_eq!(
        d.tasks(),
        [
            ("States.Reserve".to_owned(), "reserve-inventory".to_owned()),
            ("States.Charge".to_owned(), "charge-payment".to_owned()),
            ("States.Release".to_owned(), "release-inventory".to_owned()),
        ]
    );
    assert!(d.reachable().iter().all(|r| *r));
}

#[test]
fn retry_defaults_are_aws_defaults() {
    // concepts-error-handling.html: IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0.
    let d = parse(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "f",
        "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": true}}}),
    );
    let r = &d.states[0].retry[0];
    assert_eq!(
        (r.interval_s, r.max_attempts, r.backoff_rate),
        (1.0, 3, 2.0)
    );
    assert!(!r.full_jitter && r.max_delay_s.is_none());
    // Delays IntervalSeconds × BackoffRate^k: 1, 2, 4.
    assert_eq!([r.delay_s(0), r.delay_s(1), r.delay_s(2)], [1.0, 2.0, 4.0]);
    let d = parse(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "f",
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 3, "BackoffRate": 1.5,
                   "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}], "End": true}}}),
    );
    let r = &d.states[0].retry[0];
    assert_eq!([r.delay_s(0), r.delay_s(1), r.delay_s(2)], [3.0, 4.5, 5.0]);
    assert!(r.full_jitter);
    assert!(r.covers("States.TaskFailed") && !r.covers("States.Timeout"));
}

#[test]
fn arns_and_lambda_invoke_resolve_to_ids() {
    let d = parse(json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:reserve:live", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "charge", "Payload.$": "$"}, "End": true}}}));
    assert_eq!(d.tasks()[0].1, "reserve");
    assert_eq!(d.tasks()[1].1, "charge");
    let e = errors(json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": true}}}));
    assert_eq!(e[0].path, "States.A.Resource");
}

#[test]
fn choice_rules_evaluate() {
    let d = parse(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.detail.total", "NumericGreaterThanEquals": 1000, "Next": "Big"},
            {"And": [{"Variable": "$.detail.currency", "StringEquals": "EUR"},
                     {"Not": {"Variable": "$.detail.gift", "BooleanEquals": true}}], "Next": "Eur"},
            {"Variable": "$.detail.sku", "StringMatches": "A-*-x", "Next": "Eur"}
        ], "Default": "Small"},
        "Big": {"Type": "Succeed"}, "Eur": {"Type": "Succeed"}, "Small": {"Type": "Pass", "End": true}}}));
    let StateKind::Choice { choices, default } = &d.states[0].kind else {
        panic!()
    };
    assert_eq!(default.as_deref(), Some("Small"));
    let pick = |input: Value| {
        choices
            .iter()
            .find(|c| c.condition.eval(&input))
            .map(|c| c.next.clone())
    };
    assert_eq!(
        pick(json!({"detail": {"total": 1000}})).as_deref(),
        Some("Big")
    );
    assert_eq!(
        pick(json!({"detail": {"total": 5, "currency": "EUR"}})).as_deref(),
        Some("Eur")
    );
    assert_eq!(
        pick(json!({"detail": {"total": 5, "currency": "EUR", "gift": true}})),
        None
    );
    assert_eq!(
        pick(json!({"detail": {"sku": "A-123-x"}})).as_deref(),
        Some("Eur")
    );
    assert_eq!(pick(json!({"detail": {"sku": "A-123-y"}})), None);
}

#[test]
fn json_paths_get_and_set() {
    let p = JsonPath::parse("$.a.b[1]").unwrap();
    assert_eq!(p.get(&json!({"a": {"b": [1, 2]}})), Some(&json!(2)));
    assert_eq!(
        JsonPath::parse("$['x y']").unwrap().get(&json!({"x y": 1})),
        Some(&json!(1))
    );
    let r = JsonPath::parse("$.result.value").unwrap();
    assert_eq!(
        r.set(json!({"a": 1}), json!(5)),
        json!({"a": 1, "result": {"value": 5}})
    );
    assert_eq!(
        JsonPath::parse("$").unwrap().set(json!({"a": 1}), json!(5)),
        json!(5)
    );
    assert!(JsonPath::parse("a.b").is_err());
    assert!(JsonPath::parse("$.items[*]").is_err());
}

#[test]
fn map_parallel_wait_parse() {
    let d = parse(json!({"StartAt": "M", "TimeoutSeconds": 300, "States": {
        "M": {"Type": "Map", "ItemsPath": "$.detail.items", "MaxConcurrency": 2,
              "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Ship",
                                "States": {"Ship": {"Type": "Task", "Resource": "ship", "End": true}}},
              "Next": "P"},
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}},
            {"StartAt": "N", "States": {"N": {"Type": "Task", "Resource": "notify", "End": true}}}],
              "End": true}}}));
    assert_eq!(d.timeout_s, Some(300.0));
    let StateKind::Map {
        max_concurrency,
        items_path,
        ..
    } = &d.states[0].kind
    else {
        panic!()
    };
    assert_eq!(*max_concurrency, 2);
    assert!(items_path.is_some());
    assert_eq!(
        d.tasks().iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        [
            "States.M.Iterator.States.Ship",
            "States.P.Branches[1].States.N"
        ]
    );
}

#[test]
fn unsupported_states_and_fields_are_named() {
    let e = errors(json!({"StartAt": "A", "States": {"A": {"Type": "Poll", "End": true}}}));
    assert_eq!(e[0].path, "States.A.Type");
    assert!(
        e[0].message.contains("\"A\"") && e[0].message.contains("Poll"),
        "{}",
        e[0].message
    );
    let e = errors(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f",
        "HeartbeatSeconds": 5, "End": true}}}),
    );
    assert_eq!(e[0].path, "States.A.HeartbeatSeconds");
    assert!(e[0].message.contains("HeartbeatSeconds"));
    let e = errors(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2026-01-01T00:00:00Z", "End": true}}}),
    );
    assert!(e.iter().any(|x| x.path == "States.W.Timestamp"), "{e:?}");
    let e = errors(
        json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.t", "TimestampEquals": "2026-01-01T00:00:00Z", "Next": "C"}]}}}),
    );
    assert_eq!(e[0].path, "States.C.Choices[0].TimestampEquals");
    let e = errors(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "X", "States": {"X": {"Type": "Succeed"}}}, "End": true}}}),
    );
    assert_eq!(e[0].path, "States.M.ItemProcessor.ProcessorConfig.Mode");
}

#[test]
fn structural_errors_have_paths() {
    let e = errors(json!({"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}}));
    assert_eq!(e[0].path, "StartAt");
    let e = errors(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}));
    assert_eq!(e[0].path, "States.A.Next");
    let e = errors(json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}));
    assert!(e[0].message.contains("Next or"), "{}", e[0].message);
    let e = errors(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["States.Timeout"]}]}}}),
    );
    assert_eq!(e[0].path, "States.A.Retry[0].ErrorEquals");
    let e = errors(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}]}}}),
    );
    assert_eq!(e[0].path, "States.A.Retry[0].BackoffRate");
    assert!(Definition::parse(&json!([1])).is_err());
    assert!(Definition::parse(&json!({"StartAt": "A", "States": {}})).is_err());
}

#[test]
fn unreachable_states_are_found() {
    let d = parse(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "End": true}, "Orphan": {"Type": "Succeed"}}}));
    assert_eq!(d.reachable(), [true, false]);
}
