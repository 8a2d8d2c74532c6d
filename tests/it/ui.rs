//! The desktop app driven like a user would, through `egui_kittest` and by label: open a bundled
//! scenario, play, pause, select a node, edit a field (an invalid value first), undo, save to a
//! temporary file and open it again. The simulation runs in the synchronous worker mode, one
//! slice per frame, so `run_steps` drives it deterministically and no thread outlives a test.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use eframe::egui::{self, Key, Modifiers, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use eventflow::model::Duration;
use eventflow::ui::app::Action;
use eventflow::ui::examples::{self, Listed};
use eventflow::ui::{AppOptions, EventflowApp, FilePicker};
use eventflow::worker::RunState;

/// A stand-in for the file dialogs: answers from a script, never opens a window.
#[derive(Clone, Default)]
struct ScriptedPicker(Rc<RefCell<Script>>);

#[derive(Default)]
struct Script {
    open: VecDeque<PathBuf>,
    save: VecDeque<PathBuf>,
    /// Act as a machine without a dialog service.
    no_dialogs: bool,
}

impl FilePicker for ScriptedPicker {
    fn pick_open(&mut self, _start_dir: Option<&Path>) -> Option<PathBuf> {
        self.0.borrow_mut().open.pop_front()
    }

    fn pick_save(&mut self, _start_dir: Option<&Path>, _file_name: &str) -> Option<PathBuf> {
        self.0.borrow_mut().save.pop_front()
    }

    fn unavailable(&self) -> Option<String> {
        self.0
            .borrow()
            .no_dialogs
            .then(|| "No system file dialog is available here.".to_owned())
    }
}

/// Used only when the repository has no bundled scenarios yet.
const FALLBACK: &str = r#"{ "name": "UI test fan-out", "duration": "5m", "seed": 7,
  "description": "A producer, a bus with one rule, a queue and a consumer.",
  "producers": [ { "id": "checkout", "to": "orders-bus", "rate": 50,
                   "event": { "source": "shop", "detail-type": "OrderPlaced" } } ],
  "buses": [ { "id": "orders-bus", "rules": [ { "id": "all", "pattern": { "source": ["shop"] },
               "targets": [ { "to": "orders-q" } ] } ] } ],
  "queues": [ { "id": "orders-q" } ],
  "consumers": [ { "id": "worker", "from": "orders-q", "concurrency": 4,
                   "service_time": { "exponential": { "mean": "40ms" } } } ] }"#;

fn harness(picker: &ScriptedPicker) -> Harness<'static, EventflowApp> {
    let picker = picker.clone();
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_eframe(move |cc| EventflowApp::new(cc, AppOptions::for_tests(Box::new(picker))))
}

/// A bundled example with at least one consumer, preferring the default one.
fn bundled_example() -> Option<Listed> {
    let all = examples::bundled();
    let default = examples::default_example().map(|e| e.file_name);
    let mut ordered: Vec<Listed> = all
        .iter()
        .filter(|e| Some(e.example.file_name) == default)
        .cloned()
        .collect();
    ordered.extend(all);
    ordered.into_iter().find(|e| {
        eventflow::scenario::parse(e.example.text, e.example.file_name)
            .is_ok_and(|l| !l.scenario.consumers.is_empty())
    })
}

fn open_example_from_menu(h: &mut Harness<'_, EventflowApp>, example: &Listed) {
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label_contains("Open example").hover();
    h.run_steps(3);
    h.get_by_role_and_label(Role::Button, &example.name).click();
    h.run_steps(3);
}

fn run_until(h: &mut Harness<'_, EventflowApp>, what: &str, done: impl Fn(&EventflowApp) -> bool) {
    for _ in 0..600 {
        if done(h.state()) {
            return;
        }
        h.step();
    }
    panic!("gave up waiting for: {what}");
}

#[test]
fn open_play_pause_select_edit_undo_save_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(3);

    // Open a bundled scenario (from the menu when the repository has some).
    if let Some(example) = bundled_example() {
        open_example_from_menu(&mut h, &example);
        assert_eq!(
            h.state().scenario().name,
            example.name,
            "the example opened"
        );
        assert_eq!(
            h.state().path(),
            None,
            "an example is untitled: Save must ask where"
        );
    } else {
        let path = dir.path().join("fallback.json");
        std::fs::write(&path, FALLBACK).unwrap();
        h.state_mut().perform(Action::OpenPath(path));
        h.run_steps(3);
    }
    assert!(h.state().load_failure().is_none());
    assert!(!h.state().is_dirty());
    let original = h.state().scenario().clone();
    let consumer = original.consumers[0].id.clone();

    // Play: simulated time moves on.
    h.get_by_label("▶ Play").click();
    run_until(&mut h, "the run to play", |app| {
        app.snapshot()
            .is_some_and(|s| s.state == RunState::Playing && s.now_ns > 0)
    });
    h.run_steps(5);

    // Pause: it stops.
    h.get_by_label("‖ Pause").click();
    run_until(&mut h, "the run to pause", |app| {
        app.snapshot().is_some_and(|s| s.state == RunState::Paused)
    });
    let paused_at = h.state().snapshot().unwrap().now_ns;
    h.run_steps(5);
    assert_eq!(
        h.state().snapshot().unwrap().now_ns,
        paused_at,
        "a paused run stays put"
    );

    // Select a consumer on the canvas by its label.
    h.get_by_label(&format!("{consumer} (consumer)")).click();
    h.run_steps(2);
    assert_eq!(h.state().selected(), Some(consumer.as_str()));

    // An invalid value shows an error and is not applied.
    h.get_by_label("Timeout").set_text_value_accesskit("soon");
    h.run_steps(2);
    assert!(
        h.state().field_errors().contains_key("timeout"),
        "{:?}",
        h.state().field_errors()
    );
    assert!(
        h.query_by_label_contains("is not a duration").is_some(),
        "the error is shown"
    );
    assert_eq!(
        h.state().scenario(),
        &original,
        "an invalid value changes nothing"
    );

    // A valid one is applied at once.
    h.get_by_label("Timeout").set_text_value_accesskit("2s");
    h.run_steps(2);
    assert!(h.state().field_errors().is_empty());
    assert_eq!(
        h.state().scenario().consumers[0].timeout,
        Some(eventflow::model::TimeLimit::Limit(Duration::from_secs(2)))
    );
    assert!(h.state().is_dirty());

    // Undo brings the original back; redo re-applies.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(h.state().scenario(), &original);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(
        h.state().scenario().consumers[0].timeout,
        Some(eventflow::model::TimeLimit::Limit(Duration::from_secs(2)))
    );

    // Save As to a temporary file.
    let saved = dir.path().join("edited.json");
    picker.0.borrow_mut().save.push_back(saved.clone());
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::S);
    h.run_steps(2);
    assert!(saved.is_file(), "the file was written");
    assert!(!h.state().is_dirty());
    assert_eq!(h.state().path(), Some(saved.as_path()));
    let edited = h.state().scenario().clone();

    // New, then open the saved file again: the same scenario comes back.
    h.state_mut().perform(Action::New);
    h.run_steps(2);
    assert!(h.state().scenario().consumers.is_empty());
    picker.0.borrow_mut().open.push_back(saved.clone());
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run_steps(2);
    assert_eq!(h.state().scenario(), &edited);
    assert_eq!(h.state().path(), Some(saved.as_path()));
    assert_eq!(
        h.state().recent().first().map(|p| p.file_name()),
        Some(saved.file_name())
    );

    // Played to the end at full speed, the app's figures are the command line's.
    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 1));
    h.get_by_label("▶ Play").click();
    run_until(&mut h, "the run to finish", |app| {
        app.snapshot()
            .is_some_and(|s| s.state == RunState::Finished)
    });
    let figures = |r: &eventflow::sim::Results| {
        let mut r = r.clone();
        r.engine.wall_seconds = 0.0;
        r.series = None;
        eventflow::report::json(&r)
    };
    let app_results = h
        .state()
        .snapshot()
        .and_then(|s| s.results.clone())
        .unwrap();
    let cli_results = eventflow::sim::run(&edited, &eventflow::sim::RunOptions::default()).unwrap();
    assert_eq!(figures(&app_results), figures(&cli_results));
}

#[test]
fn a_file_that_fails_to_load_lists_its_problems_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, FALLBACK).unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, FALLBACK.replace(r#""rate": 50,"#, r#""rate": 50"#)).unwrap();

    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.state_mut().perform(Action::OpenPath(good.clone()));
    h.run_steps(2);
    let before = h.state().scenario().clone();

    picker.0.borrow_mut().open.push_back(bad.clone());
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run_steps(3);
    let failure = h.state().load_failure().expect("the failure is shown");
    assert!(
        failure
            .problems
            .iter()
            .any(|p| p.message.contains("expected")),
        "{:?}",
        failure.problems
    );
    assert_eq!(h.state().scenario(), &before);
    assert_eq!(h.state().path(), Some(good.as_path()));

    h.get_by_label("Close").click();
    h.run_steps(2);
    assert!(h.state().load_failure().is_none());
}

/// A file whose values break the schema is refused, and the failure lists each problem with
/// its line and column in the file, as `eventflow check` does.
#[test]
fn a_refused_file_says_where_each_problem_is() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let text = FALLBACK.replace(r#""concurrency": 4"#, r#""concurrency": -3"#);
    std::fs::write(&bad, &text).unwrap();
    // Where the key is: its line, and its column counted in characters.
    let at = text.find(r#""concurrency""#).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;

    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.state_mut().perform(Action::OpenPath(bad));
    h.run_steps(3);
    assert!(h.state().load_failure().is_some());
    let shown = format!(
        "{line}:{column}  consumers[0].concurrency: concurrency must be a whole number from 1 to 10,000, got -3"
    );
    assert!(h.query_by_label_contains(&shown).is_some(), "{shown}");
}

/// A file whose JSON reads but whose meaning is wrong (a dangling reference) opens, with the
/// Problems panel listing what to fix and running disabled until it is valid.
#[test]
fn a_file_with_meaning_errors_opens_with_its_problems_listed() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        FALLBACK.replace(r#""from": "orders-q""#, r#""from": "order-q""#),
    )
    .unwrap();
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    picker.0.borrow_mut().open.push_back(bad.clone());
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run_steps(3);
    assert!(h.state().load_failure().is_none(), "opened, not refused");
    assert_eq!(h.state().path(), Some(bad.as_path()));
    assert!(
        h.state()
            .problems()
            .iter()
            .any(|p| p.path == "consumers[0].from"),
        "{:?}",
        h.state().problems()
    );
    assert!(
        h.query_by_label_contains("consumers[0].from").is_some(),
        "the JSON path is on screen in Problems"
    );
    assert!(
        h.query_by_label_contains("no queue or stream has id")
            .is_some()
            || h.query_by_label_contains("has id \"order-q\"").is_some(),
        "the message reads as English"
    );
    h.state_mut().perform(Action::Play);
    h.run_steps(5);
    assert!(
        h.state().snapshot().is_none(),
        "an invalid scenario does not run"
    );
    assert!(h.query_all_by_label_contains("cannot run").next().is_some());
}

#[test]
fn unsaved_changes_are_asked_about_before_opening_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    std::fs::write(&file, FALLBACK).unwrap();
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.state_mut().perform(Action::OpenPath(file.clone()));
    h.run_steps(2);

    // An edit from the palette (undoable like any other).
    h.get_by_label("+ Queue").click();
    h.run_steps(2);
    assert!(h.state().is_dirty());
    assert_eq!(h.state().selected(), Some("queue-1"));

    h.state_mut().perform(Action::New);
    h.run_steps(2);
    assert!(h.state().is_asking_to_save());
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(!h.state().is_asking_to_save());
    assert!(
        h.state()
            .scenario()
            .queues
            .iter()
            .any(|q| q.id == "queue-1"),
        "cancel keeps the edit"
    );

    h.state_mut().perform(Action::New);
    h.run_steps(2);
    h.get_by_label("Don't save").click();
    h.run_steps(2);
    assert!(
        h.state().scenario().queues.is_empty(),
        "the new, empty scenario is open"
    );
}

#[test]
fn every_input_widget_has_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    std::fs::write(&file, FALLBACK).unwrap();
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.state_mut().perform(Action::OpenPath(file));
    h.run_steps(3);
    h.state_mut().perform(Action::Select(Some("worker".into())));
    h.run_steps(3);
    h.check_accessibility();
}

/// Scenario 12's notes send users to Utilization and Little's law, and its capacity panel to
/// "15 handlers": each shows what the notes say, before and after a run.
#[test]
fn the_tabs_scenario_12_mentions_show_its_figures() {
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("capacity-planning.json".into()));
    h.run_steps(3);
    assert_eq!(h.state().path(), None, "an example opens untitled");

    // Before the run: predicted from the declared 1,000/s, not from λ = 0.
    h.get_by_label("Capacity").click();
    h.run_steps(3);
    assert!(
        h.query_by_label("For 67 % utilization: 15 handlers")
            .is_some(),
        "the capacity panel predicts from the declared rate before a run"
    );

    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 1));
    h.state_mut().perform(Action::Play);
    run_until(&mut h, "the run to finish", |app| {
        app.snapshot()
            .is_some_and(|s| s.state == RunState::Finished)
    });
    h.run_steps(2);
    h.get_by_label("Little's law").click();
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("No node reports").is_none(),
        "Little's law joins the queue's backlog with its consumer"
    );
    assert!(
        h.query_by_label("handlers").is_some(),
        "the consumer is in the legend"
    );
    h.get_by_label("L against λW").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("No node reports").is_none());

    h.get_by_label("Utilization").click();
    h.run_steps(3);
    assert!(
        h.query_by_label_contains("Concurrency unknown").is_none(),
        "the scenario's concurrency reaches the utilization plot"
    );
}

/// The plot panel keeps its height from tab to tab (its tab bar stays put), and the inspector
/// keeps its width when a long error appears; the error shows below the fields, so fields do
/// not move under the mouse when it goes.
#[test]
fn panels_keep_their_size_across_tabs_and_errors() {
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("retries-dlq.json".into()));
    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 1));
    h.state_mut().perform(Action::Play);
    run_until(&mut h, "the run to finish", |app| {
        app.snapshot()
            .is_some_and(|s| s.state == RunState::Finished)
    });
    h.run_steps(2);
    let top = |h: &Harness<'_, EventflowApp>| h.get_by_label("Throughput").rect().top();
    let first = top(&h);
    for tab in [
        "Backlog & lag",
        "Latency",
        "Little's law",
        "DLQ & errors",
        "Utilization",
        "Throughput",
    ] {
        h.get_by_label(tab).click();
        h.run_steps(3);
        assert!(
            (top(&h) - first).abs() < 0.5,
            "the plot panel changed height on {tab}: {} → {}",
            first,
            top(&h)
        );
    }

    let consumer = h.state().scenario().consumers[0].id.clone();
    h.state_mut().perform(Action::Select(Some(consumer)));
    h.run_steps(3);
    let field = |h: &Harness<'_, EventflowApp>| h.get_by_label("Timeout").rect();
    let before = field(&h);
    h.get_by_label("Timeout")
        .set_text_value_accesskit(&"soon ".repeat(60));
    h.run_steps(3);
    assert!(h.query_by_label_contains("is not a duration").is_some());
    let with_error = field(&h);
    assert!(
        (with_error.width() - before.width()).abs() < 0.5
            && (with_error.left() - before.left()).abs() < 0.5,
        "the inspector widened: {before:?} → {with_error:?}"
    );
    h.get_by_label("Timeout").set_text_value_accesskit("2s");
    h.run_steps(3);
    assert!(
        (field(&h).top() - before.top()).abs() < 0.5,
        "fields stay put"
    );
}

/// Without a native dialog service, Save As… and Open… fall back to the in-app dialog and say
/// why, instead of failing silently.
#[test]
fn without_a_dialog_service_the_in_app_dialog_opens_and_saves() {
    let dir = tempfile::tempdir().unwrap();
    let picker = ScriptedPicker::default();
    picker.0.borrow_mut().no_dialogs = true;
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("order-fanout.json".into()));
    h.run_steps(2);
    // Save on an untitled example asks where: the in-app dialog, with the example's name.
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_steps(3);
    h.get_by_label_contains("No system file dialog");
    let target = dir.path().join("mine.json");
    h.get_by_label("File name")
        .set_text_value_accesskit(target.to_str().unwrap());
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Save").click();
    h.run_steps(3);
    assert!(target.is_file(), "saved through the in-app dialog");
    assert_eq!(h.state().path(), Some(target.as_path()));

    h.state_mut().perform(Action::New);
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run_steps(3);
    h.get_by_label("File name")
        .set_text_value_accesskit(target.to_str().unwrap());
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Open").click();
    h.run_steps(3);
    assert_eq!(
        h.state().path(),
        Some(target.as_path()),
        "opened through it"
    );
}

/// The workshop move: play, break a consumer from Run ▸ Break something mid-run, and the run
/// carries on from where it was (not from t = 0) with the break written into the scenario at
/// that time; Restore everything ends it there.
#[test]
fn break_something_mid_run_keeps_the_run_going() {
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("order-fanout.json".into()));
    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 2));
    h.get_by_label("▶ Play").click();
    run_until(&mut h, "a minute of simulated time", |app| {
        app.snapshot().is_some_and(|s| s.now_ns > 60_000_000_000)
    });
    // Paused mid-run (a fast engine could otherwise reach the end within a few frames), the
    // break still lands at the current simulated time; playing on continues from there.
    h.state_mut().perform(Action::Pause);
    h.run_steps(2);
    let before = h.state().snapshot().unwrap().now_ns;
    h.get_by_label("Run").click();
    h.run_steps(2);
    h.get_by_label("Break something").hover();
    h.run_steps(3);
    h.get_by_label("Take payment down").click();
    h.run_steps(3);
    let fault = h
        .state()
        .scenario()
        .faults
        .last()
        .cloned()
        .expect("a fault was written");
    assert_eq!(fault.target, "payment");
    let now = h.state().snapshot().unwrap().now_ns;
    assert!(
        fault.from.as_nanos() + 1_000_000 >= before && fault.from.as_nanos() <= now,
        "written at the current time: {} in [{before}, {now}]",
        fault.from
    );
    h.state_mut().perform(Action::Play);
    run_until(&mut h, "the run to go on past the break", |app| {
        app.snapshot()
            .is_some_and(|s| s.now_ns > before && s.state == RunState::Playing)
    });
    assert!(
        h.state().snapshot().unwrap().now_ns >= fault.from.as_nanos(),
        "the run did not restart from zero"
    );
    h.get_by_label("Run").click();
    h.run_steps(2);
    h.get_by_label("Restore everything").click();
    h.run_steps(3);
    let restored = h.state().scenario().faults.last().unwrap();
    assert!(
        restored.to < h.state().scenario().duration,
        "the outage ends when restored"
    );
}

/// An app whose autosave file is `path` (as if a previous session had left it there).
fn harness_with_autosave(path: &Path) -> Harness<'static, EventflowApp> {
    let path = path.to_path_buf();
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_eframe(move |cc| {
            let mut options = AppOptions::for_tests(Box::new(ScriptedPicker::default()));
            options.autosave = Some(path);
            EventflowApp::new(cc, options)
        })
}

/// Unsaved work a crashed session left in the autosave file is offered at start-up; Recover
/// opens it as unsaved work (so it is autosaved again), Discard removes the file.
#[test]
fn autosaved_work_is_offered_for_recovery_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autosave.json");
    let mut lost = eventflow::model::Scenario::empty("lost draft");
    lost.description = "edited before the crash".into();

    // Recover.
    eventflow::scenario::save(&path, &lost).unwrap();
    let mut h = harness_with_autosave(&path);
    h.run_steps(3);
    assert!(h.query_by_label_contains("Recover unsaved work?").is_some());
    assert!(
        h.query_by_label_contains("eventflow ended without saving \"lost draft\"")
            .is_some()
    );
    assert_ne!(
        h.state().scenario().name,
        "lost draft",
        "not before the user says so"
    );
    h.get_by_role_and_label(Role::Button, "Recover").click();
    h.run_steps(3);
    assert_eq!(h.state().scenario().name, "lost draft");
    assert_eq!(h.state().scenario().description, "edited before the crash");
    assert!(h.state().is_dirty(), "recovered work is still unsaved");
    assert!(h.query_by_label_contains("Recover unsaved work?").is_none());
    let again = eventflow::scenario::load(&path).expect("autosaved again as unsaved work");
    assert_eq!(again.scenario.name, "lost draft");
    drop(h);

    // Discard.
    eventflow::scenario::save(&path, &lost).unwrap();
    let mut h = harness_with_autosave(&path);
    h.run_steps(3);
    h.get_by_role_and_label(Role::Button, "Discard").click();
    h.run_steps(3);
    assert!(h.query_by_label_contains("Recover unsaved work?").is_none());
    assert_ne!(h.state().scenario().name, "lost draft");
    assert!(!h.state().is_dirty());
    assert!(!path.exists(), "discarded work leaves no autosave");
}

#[test]
fn file_export_writes_a_plot_and_the_results_of_the_run() {
    use eventflow::ui::export::{Export, Format};
    let dir = tempfile::tempdir().unwrap();
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("order-fanout.json".into()));
    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 1));
    h.get_by_label("▶ Play").click();
    run_until(&mut h, "the run to finish", |app| {
        app.snapshot()
            .is_some_and(|s| s.state == RunState::Finished)
    });
    let buckets = h
        .state()
        .snapshot()
        .and_then(|s| s.series.as_ref())
        .map(|s| s.times_s.len())
        .unwrap();

    // From the menu, as a user would: File ▸ Export ▸ Backlog & lag plot as SVG….
    let svg_path = dir.path().join("backlog.svg");
    picker.0.borrow_mut().save.push_back(svg_path.clone());
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export").hover();
    h.run_steps(3);
    h.get_by_label("Backlog & lag plot as SVG…").click();
    h.run_steps(3);
    let svg = std::fs::read_to_string(&svg_path).expect("the SVG was written");
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("Backlog &amp; lag") || svg.contains("Backlog & lag"));
    // The backlog is a level, drawn at every bucket of the finished run.
    let longest = svg
        .split("points=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().split_whitespace().count())
        .max()
        .unwrap();
    assert!(longest > 3 && longest <= buckets, "{longest} of {buckets}");

    let png_path = dir.path().join("throughput.png");
    picker.0.borrow_mut().save.push_back(png_path.clone());
    h.state_mut()
        .perform(Action::Export(Export::Plot("throughput", Format::Png)));
    let png = std::fs::read(&png_path).expect("the PNG was written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let json_path = dir.path().join("results.json");
    picker.0.borrow_mut().save.push_back(json_path.clone());
    h.state_mut().perform(Action::Export(Export::ResultsJson));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(v["seed"], h.state().scenario().seed);
    assert_eq!(
        v["series"]["times_s"].as_array().map(Vec::len),
        Some(buckets)
    );

    let csv_path = dir.path().join("series.csv");
    picker.0.borrow_mut().save.push_back(csv_path.clone());
    h.state_mut().perform(Action::Export(Export::ResultsCsv));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        csv.starts_with("time_s,node,metric,value"),
        "{}",
        &csv[..40]
    );
}

#[test]
fn view_presentation_collapses_to_canvas_and_one_plot_and_restores() {
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("order-fanout.json".into()));
    h.run_steps(2);
    assert!(h.state().panels().notes && h.state().panels().inspector);
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label_contains("Presentation").click();
    h.run_steps(3);
    let app = h.state();
    assert!(app.panels().presentation);
    assert!(!app.panels().notes && !app.panels().inspector && app.panels().plots);
    assert_eq!(
        h.ctx.zoom_factor(),
        eventflow::ui::app::PRESENTATION_ZOOM,
        "large type"
    );
    assert_eq!(
        h.state().plots().line_width(),
        eventflow::ui::app::PRESENTATION_LINE_WIDTH
    );
    // F5 turns it off again and brings the panels back as they were.
    h.key_press(Key::F5);
    h.run_steps(3);
    let app = h.state();
    assert!(!app.panels().presentation);
    assert!(app.panels().notes && app.panels().inspector && app.panels().plots);
    assert_eq!(h.ctx.zoom_factor(), 1.0);
}

/// File ▸ Import template… and dropping a template on the window both import it: an untitled
/// document named after the template, its logical ids as component ids, its assumptions in the
/// notes panel.
#[test]
fn import_template_from_the_menu_and_by_dropping_it() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("orders.yaml");
    std::fs::write(
        &template,
        "Description: Orders\nResources:\n  OrdersQueue: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: 60}}\n  Worker:\n    Type: AWS::Lambda::Function\n    Properties: {Timeout: 10}\n  Mapping:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties: {EventSourceArn: !GetAtt OrdersQueue.Arn, FunctionName: !Ref Worker, BatchSize: 5}\n",
    )
    .unwrap();
    let v2 = eventflow::scenario::parse(
        r#"{"format": "eventflow/2", "name": "p", "duration": "1s"}"#,
        "p.json",
    )
    .is_ok();
    let picker = ScriptedPicker::default();
    picker.0.borrow_mut().open.push_back(template.clone());
    let mut h = harness(&picker);
    h.run_steps(3);
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Import template…").click();
    h.run_steps(4);
    if !v2 {
        eprintln!(
            "SKIPPED (the imported scenario's display): this build's loader does not read eventflow/2 yet"
        );
        assert!(
            h.state().load_failure().is_some(),
            "the import says why it cannot be shown"
        );
        return;
    }
    assert!(h.state().load_failure().is_none());
    let s = h.state().scenario();
    assert_eq!(s.name, "Orders");
    assert!(s.queues.iter().any(|q| q.id == "OrdersQueue"));
    assert!(
        s.consumers
            .iter()
            .any(|c| c.id == "Worker" && c.from.as_deref() == Some("OrdersQueue"))
    );
    assert!(s.description.contains("**Assumptions**"));
    assert_eq!(
        h.state().path(),
        None,
        "an import is untitled: Save asks where"
    );
    assert!(
        h.query_by_label_contains("Assumptions").is_some(),
        "the notes panel shows them"
    );

    // Dropping the template on a new document imports it too.
    h.state_mut().perform(Action::New);
    h.run_steps(2);
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(template)));
    h.run_steps(4);
    assert!(
        h.state()
            .scenario()
            .consumers
            .iter()
            .any(|c| c.id == "Worker")
    );
}

/// A file dropped onto the window, as the platform layer hands it to egui.
#[derive(Debug)]
struct DroppedPath(PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Change it while it runs: raising a consumer's concurrency in the inspector mid-run keeps the
/// run where it was and writes a `set` entry at that time (the file's own value stays); the
/// finished run's figures are byte for byte those of a fresh run of the saved file, through the
/// library and through `eventflow run --json`.
#[test]
fn an_inspector_edit_mid_run_takes_effect_from_now_and_the_saved_file_replays_it() {
    use egui_kittest::kittest::NodeT;
    use eventflow::model::TimelineAction;
    let dir = tempfile::tempdir().unwrap();
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("order-fanout.json".into()));
    h.state_mut()
        .perform(Action::Select(Some("payment".into())));
    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 2));
    h.state_mut().perform(Action::Play);
    run_until(&mut h, "a minute of simulated time", |app| {
        app.snapshot().is_some_and(|s| s.now_ns > 60_000_000_000)
    });
    h.state_mut().perform(Action::Pause);
    h.run_steps(2);
    let paused_at = h.state().snapshot().unwrap().now_ns;
    let index = h
        .state()
        .scenario()
        .consumers
        .iter()
        .position(|c| c.id == "payment")
        .unwrap();
    let own = h.state().scenario().consumers[index].concurrency;

    h.get_by_label("Concurrency")
        .set_value_accesskit(f64::from(own + 6));
    h.run_steps(2);
    let s = h.state().scenario().clone();
    assert_eq!(
        s.consumers[index].concurrency, own,
        "the file's value stays"
    );
    let entry = s.timeline.last().expect("a timeline entry was written");
    assert_eq!(
        entry.action,
        TimelineAction::SetConcurrency {
            consumer: "payment".into(),
            concurrency: own + 6
        }
    );
    assert_eq!(entry.at.as_nanos(), paused_at / 1_000_000 * 1_000_000);
    // The form shows the value in force now.
    assert_eq!(
        h.get_by_label("Concurrency")
            .accesskit_node()
            .numeric_value(),
        Some(f64::from(own + 6))
    );

    // The run is rebuilt with the entry and carried back to where it was, not to t = 0.
    for _ in 0..60 {
        h.step();
    }
    let s_now = h.state().snapshot().unwrap().now_ns;
    assert_eq!(s_now, paused_at, "fast-forwarded to the same time");

    h.state_mut()
        .perform(Action::SetSpeed(eventflow::ui::toolbar::SPEEDS.len() - 1));
    h.state_mut().perform(Action::Play);
    run_until(&mut h, "the run to finish", |app| {
        app.snapshot()
            .is_some_and(|s| s.state == RunState::Finished)
    });
    let figures = |r: &eventflow::sim::Results| {
        let mut r = r.clone();
        r.engine.wall_seconds = 0.0;
        r.series = None;
        eventflow::report::json(&r)
    };
    let live = figures(h.state().snapshot().unwrap().results.as_ref().unwrap());

    let saved = dir.path().join("edited.json");
    h.state_mut().perform(Action::SaveTo(saved.clone()));
    let loaded = eventflow::scenario::load(&saved).unwrap().scenario;
    let replay = eventflow::sim::run(
        &loaded,
        &eventflow::sim::RunOptions {
            seed: Some(loaded.seed),
            ..eventflow::sim::RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(live, figures(&replay));

    let o = crate::support::eventflow(&["run", saved.to_str().unwrap(), "--json"], "");
    assert_eq!(o.status.code(), Some(0), "{}", crate::support::stderr(&o));
    let cli: serde_json::Value = serde_json::from_str(&crate::support::stdout(&o)).unwrap();
    let app: serde_json::Value = serde_json::from_str(&live).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&cli["nodes"]).unwrap(),
        serde_json::to_string_pretty(&app["nodes"]).unwrap()
    );
}

/// Steps the app until the analysis window's job has ended (it runs on its own thread).
fn wait_for_analysis(h: &mut Harness<'_, EventflowApp>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(5);
    h.run_steps(2);
    while h.state().analysis().is_running() {
        assert!(
            std::time::Instant::now() < deadline,
            "the analysis did not end"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    h.run_steps(3);
}

/// Run ▸ Replications… / Compare… / Sweep…: each works off the UI thread with a progress bar,
/// and gives exactly what `eventflow run --replications`, `eventflow compare` and
/// `eventflow sweep` print as JSON for the same file, seed and replications.
#[test]
fn replications_compare_and_sweep_in_the_app_match_the_cli() {
    use crate::support::{eventflow, stderr, stdout};
    let dir = tempfile::tempdir().unwrap();
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("order-fanout.json".into()));
    let a = dir.path().join("a.json");
    h.state_mut().perform(Action::SaveTo(a.clone()));
    let seed = h.state().scenario().seed.to_string();
    let cli = |args: &[&str]| {
        let o = eventflow(args, "");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o).trim_end().to_owned()
    };

    // Replications, from the menu.
    h.get_by_label("Run").click();
    h.run_steps(2);
    h.get_by_label("Replications…").click();
    h.run_steps(3);
    h.get_by_label("Replications N").set_value_accesskit(3.0);
    h.run_steps(2);
    h.get_by_label("Run 3 replications").click_accesskit();
    h.run_steps(1);
    assert!(
        h.state().analysis().is_running() || h.state().analysis().replicated().is_some(),
        "the job started without blocking the frame"
    );
    wait_for_analysis(&mut h);
    let r = h.state().analysis().replicated().expect("replications ran");
    assert_eq!(
        serde_json::to_string_pretty(&r.to_json()).unwrap(),
        cli(&[
            "run",
            a.to_str().unwrap(),
            "--replications",
            "3",
            "--seed",
            &seed,
            "--json"
        ])
    );
    assert!(
        h.query_by_label_contains("± 95 %").is_some(),
        "the table is shown"
    );

    // Compare with another file: payment with two more workers.
    let mut more = h.state().scenario().clone();
    let c = more
        .consumers
        .iter_mut()
        .find(|c| c.id == "payment")
        .unwrap();
    c.concurrency += 2;
    let b = dir.path().join("b.json");
    eventflow::scenario::save(&b, &more).unwrap();
    h.get_by_label("Compare").click_accesskit();
    h.run_steps(2);
    h.get_by_label("a file").click_accesskit();
    h.run_steps(2);
    h.get_by_label("B file")
        .set_text_value_accesskit(b.to_str().unwrap());
    h.run_steps(2);
    h.get_by_label("Compare over 3 replications")
        .click_accesskit();
    wait_for_analysis(&mut h);
    let cmp = h
        .state()
        .analysis()
        .comparison()
        .expect("the comparison ran");
    assert_eq!(
        serde_json::to_string_pretty(&cmp.to_json()).unwrap(),
        cli(&[
            "compare",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--replications",
            "3",
            "--seed",
            &seed,
            "--json"
        ])
    );
    assert!(
        h.query_by_label_contains("A solid, B dashed").is_some(),
        "the overlaid plot is shown"
    );

    // Sweep payment's concurrency.
    h.get_by_label("Sweep").click_accesskit();
    h.run_steps(2);
    h.get_by_label("Field")
        .set_text_value_accesskit("consumers.payment.concurrency");
    h.get_by_label("Values").set_text_value_accesskit("2,4,8");
    h.get_by_label("Figure")
        .set_text_value_accesskit("nodes.payment.wait_s.mean");
    h.run_steps(2);
    h.get_by_label("Sweep over 3 replications per value")
        .click_accesskit();
    wait_for_analysis(&mut h);
    let sw = h.state().analysis().sweep().expect("the sweep ran");
    assert_eq!(sw.variants.len(), 3);
    assert_eq!(
        serde_json::to_string_pretty(&sw.to_json(&sw.figures)).unwrap(),
        cli(&[
            "sweep",
            a.to_str().unwrap(),
            "--set",
            "consumers.payment.concurrency=2,4,8",
            "--replications",
            "3",
            "--seed",
            &seed,
            "--figure",
            "nodes.payment.wait_s.mean",
            "--json"
        ])
    );
    // More workers, less waiting: the swept figure falls as the value grows.
    let mean = |v: usize| sw.estimate(v, "nodes.payment.wait_s.mean").unwrap().mean;
    assert!(mean(0) >= mean(2), "{} vs {}", mean(0), mean(2));
}

/// Cancel stops a long job: the window says so and keeps no result.
#[test]
fn a_long_analysis_can_be_cancelled() {
    let picker = ScriptedPicker::default();
    let mut h = harness(&picker);
    h.run_steps(2);
    h.state_mut()
        .perform(Action::OpenExample("order-fanout.json".into()));
    h.state_mut()
        .perform(Action::Analysis(eventflow::ui::analysis::Tab::Replications));
    h.run_steps(2);
    h.get_by_label("Replications N").set_value_accesskit(1000.0);
    h.run_steps(2);
    h.get_by_label("Run 1000 replications").click_accesskit();
    h.run_steps(2);
    assert!(h.state().analysis().is_running());
    h.get_by_label("Cancel").click_accesskit();
    wait_for_analysis(&mut h);
    assert_eq!(h.state().analysis().error(), Some("Cancelled."));
    assert!(h.state().analysis().replicated().is_none());
}
