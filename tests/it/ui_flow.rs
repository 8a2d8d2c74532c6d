//! The app's topics, pipes and state machines, driven by label through `egui_kittest`: their
//! inspector forms check what is typed (an SNS filter policy, an ASL definition) and apply
//! only what parses; a state machine opens on the canvas to list its states with the run's
//! counts; the version-2 consumer settings show where they apply and edit the scenario; an
//! imported template's assumptions badge the nodes they concern.

use std::path::{Path, PathBuf};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use eventflow::model::Duration;
use eventflow::ui::app::Action;
use eventflow::ui::{AppOptions, EventflowApp, FilePicker};
use eventflow::worker::RunState;
use serde_json::json;

/// No file dialogs: every file is opened through an action.
struct NoDialogs;

impl FilePicker for NoDialogs {
    fn pick_open(&mut self, _start_dir: Option<&Path>) -> Option<PathBuf> {
        None
    }

    fn pick_save(&mut self, _start_dir: Option<&Path>, _file_name: &str) -> Option<PathBuf> {
        None
    }
}

/// A topic, a pipe, a saga state machine whose first Task always fails into a compensation,
/// and consumers reading a queue, a stream, or invoked.
const FLOW: &str = r#"{ "format": "eventflow/2", "name": "flow ui", "duration": "1m", "seed": 3,
  "producers": [
    { "id": "checkout", "to": "orders", "rate": 20,
      "event": { "source": "shop", "attributes": { "kind": "order" }, "detail": { "id": 1 } } },
    { "id": "saga-start", "to": "saga", "rate": 5, "event": { "detail": {} } },
    { "id": "clicks", "to": "clicks-stream", "rate": 5 },
    { "id": "feed", "to": "piped-q", "rate": 5 } ],
  "topics": [ { "id": "orders", "subscriptions": [ { "to": "orders-q" } ] } ],
  "queues": [ { "id": "orders-q" }, { "id": "piped-q" } ],
  "streams": [ { "id": "clicks-stream", "partitions": 2 } ],
  "pipes": [ { "id": "enrich", "source": "piped-q", "target": "notify" } ],
  "consumers": [
    { "id": "worker", "from": "orders-q", "service_time": { "constant": "10ms" } },
    { "id": "clicker", "from": "clicks-stream", "service_time": { "constant": "5ms" } },
    { "id": "notify", "service_time": { "constant": "5ms" } },
    { "id": "reserve", "kind": "service", "concurrency": 50,
      "service_time": { "constant": "10ms" }, "failure_rate": 1.0 },
    { "id": "ship", "kind": "service", "concurrency": 50, "service_time": { "constant": "10ms" } } ],
  "state_machines": [ { "id": "saga", "definition": { "StartAt": "Reserve", "States": {
      "Reserve": { "Type": "Task", "Resource": "reserve", "Next": "Ship",
                   "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "Undo" } ] },
      "Ship": { "Type": "Task", "Resource": "ship", "End": true },
      "Undo": { "Type": "Pass", "End": true } } } } ] }"#;

fn open(text: &str) -> (tempfile::TempDir, Harness<'static, EventflowApp>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.json");
    std::fs::write(&path, text).unwrap();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_eframe(|cc| EventflowApp::new(cc, AppOptions::for_tests(Box::new(NoDialogs))));
    h.run_steps(2);
    h.state_mut().perform(Action::OpenPath(path));
    h.run_steps(3);
    assert!(h.state().load_failure().is_none(), "the scenario opens");
    (dir, h)
}

fn select(h: &mut Harness<'_, EventflowApp>, id: &str) {
    h.state_mut().perform(Action::Select(Some(id.to_owned())));
    h.run_steps(3);
}

/// What a node says: AccessKit keeps a `Role::Label` node's text in its value.
fn text_of(node: &egui_kittest::Node<'_>) -> String {
    let n = node.accesskit_node();
    n.label().or_else(|| n.value()).unwrap_or_default()
}

/// The numbers in an opened machine's state label: (entries, failures, retries).
fn counts(label: &str) -> (u64, u64, u64) {
    let numbers: Vec<u64> = label
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 3, "{label}");
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn a_bad_topic_filter_policy_shows_an_error_and_a_good_one_is_applied() {
    let (_dir, mut h) = open(FLOW);
    select(&mut h, "orders");
    let original = h.state().scenario().clone();
    let field = "Filter policy (SNS; empty: every message)";

    // An operator SNS does not have: refused, with the parser's message, nothing changed.
    h.get_by_label(field)
        .set_text_value_accesskit(r#"{ "kind": [ { "sometimes": true } ] }"#);
    h.run_steps(3);
    let errors = h.state().field_errors().clone();
    assert!(
        errors.contains_key("subscriptions[0].filter"),
        "the policy is refused: {errors:?}"
    );
    assert!(
        h.query_by_label_contains("▲ subscriptions[0].filter")
            .is_some(),
        "the error is shown"
    );
    assert_eq!(
        h.state().scenario(),
        &original,
        "a bad policy changes nothing"
    );

    // Not JSON at all: refused too.
    h.get_by_label(field)
        .set_text_value_accesskit(r#"{ "kind": "#);
    h.run_steps(3);
    assert!(
        h.state().field_errors()["subscriptions[0].filter"].contains("not valid JSON"),
        "{:?}",
        h.state().field_errors()
    );

    // A valid policy (exact match on the attribute) is applied at once.
    h.get_by_label(field)
        .set_text_value_accesskit(r#"{ "kind": [ "order" ] }"#);
    h.run_steps(3);
    assert!(h.state().field_errors().is_empty());
    assert_eq!(
        h.state().scenario().topics[0].subscriptions[0].filter,
        Some(json!({ "kind": ["order"] }))
    );

    // Emptying the field removes the filter: every message is delivered.
    h.get_by_label(field).set_text_value_accesskit("");
    h.run_steps(3);
    assert_eq!(h.state().scenario().topics[0].subscriptions[0].filter, None);
}

#[test]
fn editing_a_state_machine_definition_checks_it_and_the_canvas_follows() {
    let (_dir, mut h) = open(FLOW);
    select(&mut h, "saga");
    let original = h.state().scenario().clone();
    let field = "Definition (Amazon States Language)";

    // StartAt names no state: the ASL parser's error, nothing applied.
    h.get_by_label(field).set_text_value_accesskit(
        r#"{ "StartAt": "Nowhere", "States": { "Ship": { "Type": "Task", "Resource": "ship", "End": true } } }"#,
    );
    h.run_steps(3);
    let error = h.state().field_errors().get("definition").cloned();
    assert!(
        error.as_deref().is_some_and(|e| e.contains("Nowhere")),
        "the error names the missing state: {error:?}"
    );
    assert_eq!(h.state().scenario(), &original);

    // A Task calling something that is no consumer is refused as the validator refuses it.
    h.get_by_label(field).set_text_value_accesskit(
        r#"{ "StartAt": "Ship", "States": { "Ship": { "Type": "Task", "Resource": "shipping", "End": true } } }"#,
    );
    h.run_steps(3);
    assert!(
        h.state().field_errors()["definition"].contains("\"shipping\""),
        "{:?}",
        h.state().field_errors()
    );
    assert_eq!(h.state().scenario(), &original);

    // A valid one is applied, and the opened machine lists its new states.
    let new = json!({ "StartAt": "Wait", "States": {
        "Wait": { "Type": "Wait", "Seconds": 1, "Next": "Ship" },
        "Ship": { "Type": "Task", "Resource": "ship", "End": true } } });
    h.get_by_label(field)
        .set_text_value_accesskit(&serde_json::to_string(&new).unwrap());
    h.run_steps(3);
    assert!(h.state().field_errors().is_empty());
    assert_eq!(h.state().scenario().state_machines[0].definition, new);
    h.get_by_label("Show the states of saga").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("state Wait (Wait)").is_some());
    assert!(h.query_by_label_contains("state Ship (Task)").is_some());
    assert!(h.query_by_label_contains("state Reserve").is_none());
}

/// [`FLOW`] without its pipe (and the producer feeding it), for a build that validates pipes
/// but does not simulate them yet.
fn flow_without_pipe() -> String {
    let mut v: serde_json::Value = serde_json::from_str(FLOW).unwrap();
    v["pipes"] = json!([]);
    v["producers"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["id"] != "feed");
    v.to_string()
}

#[test]
fn an_opened_state_machine_shows_its_states_with_the_runs_counts() {
    let (_dir, mut h) = open(&flow_without_pipe());
    assert!(
        h.query_by_label_contains("state Reserve").is_none(),
        "closed, a machine lists no states"
    );
    h.get_by_label("Show the states of saga").click();
    h.run_steps(3);
    for (state, kind) in [("Reserve", "Task"), ("Ship", "Task"), ("Undo", "Pass")] {
        let label = format!("state {state} ({kind}): 0 entries, 0 failures, 0 retries");
        assert!(h.query_by_label(&label).is_some(), "before a run: {label}");
    }

    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 1));
    h.state_mut().perform(Action::Play);
    for _ in 0..2000 {
        if h.state()
            .snapshot()
            .is_some_and(|s| s.state == RunState::Finished)
        {
            break;
        }
        h.step();
    }
    h.run_steps(3);
    let label = |h: &Harness<'_, EventflowApp>, state: &str| {
        text_of(&h.get_by_label_contains(&format!("state {state} (")))
    };
    let (reserve, reserve_failed, reserve_retries) = counts(&label(&h, "Reserve"));
    let (ship, _, _) = counts(&label(&h, "Ship"));
    let (undo, _, _) = counts(&label(&h, "Undo"));
    // 5 executions a second for a minute (Poisson): about 300 entered Reserve.
    assert!(
        (200..=400).contains(&reserve),
        "{reserve}: {:?} {}",
        h.state().snapshot().map(|s| (s.state, s.now_ns)),
        label(&h, "Reserve")
    );
    // Reserve always fails and has no Retry: every finished call fails into the Catch, none
    // reaches Ship, and the compensation is entered once per failure. Only executions still
    // in their 10 ms call at the end have entered without failing yet.
    assert_eq!(reserve_retries, 0);
    assert_eq!(ship, 0);
    assert_eq!(undo, reserve_failed);
    assert!(
        reserve - reserve_failed <= 3,
        "{reserve} − {reserve_failed}"
    );
    // The same figures as the run's results.
    let results = h.state().snapshot().unwrap().results.clone().unwrap();
    let m = results
        .nodes
        .get("saga")
        .unwrap()
        .state_machine
        .clone()
        .unwrap();
    let of = |name: &str| m.states.iter().find(|s| s.state == name).unwrap().entries;
    assert_eq!((of("Reserve"), of("Undo")), (reserve, undo));

    // The toggle closes it again.
    h.get_by_label("Hide the states of saga").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("state Reserve").is_none());
}

#[test]
fn version_2_consumer_settings_show_where_they_apply_and_edit_the_scenario() {
    let (_dir, mut h) = open(FLOW);
    let consumer = |h: &Harness<'_, EventflowApp>, id: &str| {
        h.state()
            .scenario()
            .consumers
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .clone()
    };

    // An SQS reader: SQS settings, no stream or asynchronous ones.
    select(&mut h, "worker");
    assert!(h.query_by_label("Max concurrency").is_some());
    assert!(h.query_by_label("Bisect a failing batch").is_none());
    assert!(h.query_by_label("Async retries").is_none());
    // Below SQS's minimum of 2: refused, the scenario unchanged.
    h.get_by_label("Max concurrency")
        .set_text_value_accesskit("1");
    h.run_steps(3);
    assert!(
        h.state().field_errors()["max_concurrency"].contains("from 2 to 1000"),
        "{:?}",
        h.state().field_errors()
    );
    assert_eq!(consumer(&h, "worker").max_concurrency, None);
    h.get_by_label("Max concurrency")
        .set_text_value_accesskit("5");
    h.run_steps(3);
    assert_eq!(consumer(&h, "worker").max_concurrency, Some(5));
    h.get_by_label("Batch window")
        .set_text_value_accesskit("2s");
    h.run_steps(3);
    assert_eq!(
        consumer(&h, "worker").batch_window,
        Some(Duration::from_secs(2))
    );
    h.get_by_label("Report batch item failures").click();
    h.run_steps(3);
    assert!(consumer(&h, "worker").report_batch_item_failures);

    // A stream reader: the stream settings.
    select(&mut h, "clicker");
    assert!(h.query_by_label("Max concurrency").is_none());
    h.get_by_label("Bisect a failing batch").click();
    h.run_steps(3);
    assert!(consumer(&h, "clicker").bisect_on_error);
    h.get_by_label("Parallelization factor")
        .set_text_value_accesskit("11");
    h.run_steps(3);
    assert!(
        h.state()
            .field_errors()
            .contains_key("parallelization_factor")
    );
    h.get_by_label("Parallelization factor")
        .set_text_value_accesskit("4");
    h.run_steps(3);
    assert_eq!(consumer(&h, "clicker").parallelization_factor, Some(4));

    // An invoked function: asynchronous invocation, no batch.
    select(&mut h, "notify");
    assert!(h.query_by_label("Batch size").is_none());
    assert!(h.query_by_label("Rate limit (calls/s)").is_none());
    h.get_by_label("Async retries")
        .set_text_value_accesskit("3");
    h.run_steps(3);
    assert!(h.state().field_errors().contains_key("async.retries"));
    h.get_by_label("Async retries")
        .set_text_value_accesskit("0");
    h.run_steps(3);
    assert_eq!(
        consumer(&h, "notify").async_invoke.and_then(|a| a.retries),
        Some(0)
    );
    // Emptied again, the setting goes and AWS's default applies.
    h.get_by_label("Async retries").set_text_value_accesskit("");
    h.run_steps(3);
    assert_eq!(consumer(&h, "notify").async_invoke, None);

    // A service: its rate limit, no asynchronous settings.
    select(&mut h, "ship");
    assert!(h.query_by_label("Async retries").is_none());
    h.get_by_label("Rate limit (calls/s)")
        .set_text_value_accesskit("25");
    h.run_steps(3);
    assert_eq!(consumer(&h, "ship").rate_limit, Some(25.0));
}

#[test]
fn a_pipe_is_edited_in_the_inspector() {
    let (_dir, mut h) = open(FLOW);
    select(&mut h, "enrich");
    h.get_by_label("Batch size").set_text_value_accesskit("0");
    h.run_steps(3);
    assert!(h.state().field_errors().contains_key("batch_size"));
    h.get_by_label("Batch size").set_text_value_accesskit("5");
    h.run_steps(3);
    assert_eq!(h.state().scenario().pipes[0].batch_size, Some(5));
    let field = "Filter patterns (EventBridge; [] passes every event)";
    h.get_by_label(field)
        .set_text_value_accesskit(r#"[ { "detail": { "n": [ { "numeric": [ ">" ] } ] } } ]"#);
    h.run_steps(3);
    assert!(h.state().field_errors().contains_key("filter"));
    h.get_by_label(field)
        .set_text_value_accesskit(r#"[ { "source": [ "shop" ] } ]"#);
    h.run_steps(3);
    assert_eq!(
        h.state().scenario().pipes[0].filter,
        vec![json!({ "source": ["shop"] })]
    );
}

#[test]
fn an_imported_templates_assumptions_badge_the_nodes_they_concern() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("orders.yaml");
    std::fs::write(
        &template,
        "Description: Orders\nResources:\n  OrdersQueue: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: 60}}\n  Worker:\n    Type: AWS::Lambda::Function\n    Properties: {Timeout: 10}\n  Mapping:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties: {EventSourceArn: !GetAtt OrdersQueue.Arn, FunctionName: !Ref Worker, BatchSize: 5}\n",
    )
    .unwrap();
    let report = eventflow::import::import_file(&template, &std::collections::BTreeMap::new())
        .unwrap()
        .report;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_eframe(|cc| EventflowApp::new(cc, AppOptions::for_tests(Box::new(NoDialogs))));
    h.run_steps(2);
    h.state_mut().perform(Action::ImportPath(template));
    h.run_steps(4);
    assert!(h.state().load_failure().is_none());
    let about_worker: Vec<&str> = report
        .assumptions
        .iter()
        .filter(|a| a.component.as_deref() == Some("Worker"))
        .map(|a| a.text.as_str())
        .collect();
    assert!(
        !about_worker.is_empty(),
        "the import assumes Worker's service time"
    );
    let badge = text_of(&h.get_by_label_contains("assumptions about Worker:"));
    for text in about_worker {
        assert!(badge.contains(text), "{badge} lists {text}");
    }
    // A component the import assumed nothing about has no badge.
    let assumed: Vec<&str> = report
        .assumptions
        .iter()
        .filter_map(|a| a.component.as_deref())
        .collect();
    if !assumed.contains(&"OrdersQueue") {
        assert!(
            h.query_by_label_contains("assumptions about OrdersQueue:")
                .is_none()
        );
    }
}
