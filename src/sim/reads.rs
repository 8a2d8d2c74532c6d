//! Which payload fields anything in a scenario reads, so that generated events are built with
//! those fields only.
//!
//! Building a JSON envelope per event was most of a bundled scenario's run (issue 16). The
//! readers of a payload are known when the scenario is compiled: rule patterns, consumer
//! `fail_when` / `reject_when` / `filter` patterns, FIFO group and deduplication ids, stream
//! partition keys, order keys and the `$from` paths of emit templates whose copies land in a
//! field something reads (a copy nothing reads copies nothing). When every reader is one of
//! these, a template builds only the fields on their paths (and the envelope fields on them);
//! its generators off those paths still draw their random numbers, so the random streams, and
//! with them every figure, stay as they were.
//!
//! Readers that pass an event on read what they test and what is read downstream: an SNS
//! topic's filter policies (the `attributes` object, or a body policy's paths), a state
//! machine whose states hand the event on where it is (its Choice and `SecondsPath` paths), a
//! Lambda destination's record, which carries the event at `detail.requestPayload` (what is
//! read there is read of the event). A reader that may look at the whole event (an input
//! transformer, content-based deduplication, a pipe, a state machine that moves parts of its
//! input: `InputPath`, `OutputPath`, a `ResultPath` for its input, `Parallel`, `Map`) makes
//! the whole event needed.

use serde_json::Value;

use super::template::Template;
use crate::model::asl::{Condition, Definition, JsonPath, Operand, StateKind, Step, WaitFor};
use crate::model::{QueueType, Scenario};
use crate::pattern::FilterPolicy;

/// The fields read below one object: those named, each with what is read below it; or all.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Fields {
    /// Everything below is read (a pattern's leaf: the value may be a scalar or an array).
    pub(crate) all: bool,
    /// The fields read, by name (few: a linear search beats hashing).
    pub(crate) children: Vec<(String, Fields)>,
}

impl Fields {
    /// What is read below field `name`, if anything.
    #[inline]
    pub(crate) fn child(&self, name: &str) -> Option<&Fields> {
        self.children
            .iter()
            .find_map(|(k, f)| (k == name).then_some(f))
    }

    /// Is anything read at `path` or below it (or the whole of something above it)?
    fn reads_at(&self, path: &[&str]) -> bool {
        let mut cur = self;
        for k in path {
            if cur.all {
                return true;
            }
            match cur.child(k) {
                Some(c) => cur = c,
                None => return false,
            }
        }
        true
    }

    /// Marks `path` (and everything below it) read (for tests elsewhere in `sim`).
    #[cfg(test)]
    pub(crate) fn children_add(&mut self, path: &[String]) {
        self.add(path);
    }

    /// Adds everything `other` reads.
    fn merge(&mut self, other: &Fields) {
        if self.all {
            return;
        }
        if other.all {
            self.all = true;
            self.children.clear();
            return;
        }
        for (k, f) in &other.children {
            if let Some(i) = self.children.iter().position(|(x, _)| x == k) {
                self.children[i].1.merge(f);
            } else {
                self.children.push((k.clone(), f.clone()));
            }
        }
    }

    /// Marks `path` (and everything below it) read.
    fn add(&mut self, path: &[impl AsRef<str>]) {
        if self.all {
            return;
        }
        let Some((first, rest)) = path.split_first() else {
            self.all = true;
            self.children.clear();
            return;
        };
        let first = first.as_ref();
        let i = if let Some(i) = self.children.iter().position(|(k, _)| k == first) {
            i
        } else {
            self.children.push((first.to_owned(), Fields::default()));
            self.children.len() - 1
        };
        self.children[i].1.add(rest);
    }
}

/// What the scenario reads of its events.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Reads {
    /// Something may read any field: build whole events.
    Whole,
    /// Only these fields are read.
    Fields(Fields),
}

impl Reads {
    /// The fields `s` reads, given the compiled emit templates (for their `$from` paths).
    pub(crate) fn of<'t>(
        s: &Scenario,
        emit_templates: impl Iterator<Item = &'t Template>,
    ) -> Reads {
        let whole = !s.pipes.is_empty()
            || s.buses
                .iter()
                .flat_map(|b| &b.rules)
                .flat_map(|r| &r.targets)
                .any(|t| t.transform.is_some())
            || s.queues
                .iter()
                .any(|q| q.kind == QueueType::Fifo && q.dedup_id.is_none());
        if whole {
            return Reads::Whole;
        }
        let mut f = Fields::default();
        for sub in s.topics.iter().flat_map(|t| &t.subscriptions) {
            let Some(filter) = &sub.filter else { continue };
            // An invalid policy fails the build anyway; read everything meanwhile.
            match FilterPolicy::parse(filter, sub.filter_scope_in_force())
                .ok()
                .and_then(|p| p.read_paths())
            {
                Some(paths) => paths.iter().for_each(|p| f.add(p)),
                None => return Reads::Whole,
            }
        }
        for m in &s.state_machines {
            // An invalid definition fails the build anyway.
            let Ok(def) = Definition::parse(&m.definition) else {
                return Reads::Whole;
            };
            if !machine_reads(&def, &mut f) {
                return Reads::Whole;
            }
        }
        for r in s.buses.iter().flat_map(|b| &b.rules) {
            pattern_paths(&r.pattern, &mut Vec::new(), &mut f);
        }
        for c in &s.consumers {
            for p in c.fail_when.iter().chain(&c.reject_when) {
                pattern_paths(p, &mut Vec::new(), &mut f);
            }
            for p in c.filter.iter().flatten() {
                pattern_paths(p, &mut Vec::new(), &mut f);
            }
            if let Some(k) = &c.order_key {
                f.add(&dotted(k));
            }
        }
        for q in &s.queues {
            for k in q.group_by.iter().chain(&q.dedup_id) {
                f.add(&dotted(k));
            }
        }
        for k in s.streams.iter().filter_map(|x| x.key.as_ref()) {
            f.add(&dotted(k));
        }
        let records = s.consumers.iter().any(|c| {
            c.async_invoke
                .as_ref()
                .is_some_and(|a| a.on_failure.is_some() || a.on_success.is_some())
        });
        // A `$from` copy is read only when the field it fills is: then what it copies is
        // read of the triggering event, which may make another copy's field read, so until
        // nothing new is read. (A feedback loop whose copied fields nothing tests builds none.)
        let mut froms: Vec<(Vec<&str>, &[String])> =
            emit_templates.flat_map(Template::copy_outputs).collect();
        loop {
            let before = f.clone();
            froms.retain(|(at, path)| {
                let read = f.reads_at(at);
                if read {
                    f.add(path);
                }
                !read
            });
            if records {
                request_payload_reads(&mut f);
            }
            if f == before {
                break;
            }
        }
        if f.all {
            return Reads::Whole;
        }
        Reads::Fields(f)
    }
}

impl Reads {
    /// The fields to build now: `None` (the whole event) when whole events are read or a
    /// traced run shows them.
    #[inline]
    pub(crate) fn fields(&self, traced: bool) -> Option<&Fields> {
        match self {
            Reads::Fields(f) if !traced => Some(f),
            _ => None,
        }
    }
}

/// A Lambda destination's record carries the event at `detail.requestPayload`: what is read
/// there is read of the event itself (records of records too, until nothing new is read).
fn request_payload_reads(f: &mut Fields) {
    loop {
        let inner = f.child("detail").and_then(|d| {
            if d.all {
                Some(Fields {
                    all: true,
                    children: Vec::new(),
                })
            } else {
                d.child("requestPayload").cloned()
            }
        });
        let Some(inner) = inner else { return };
        let before = f.clone();
        f.merge(&inner);
        if *f == before {
            return;
        }
    }
}

/// Adds what machine `def` reads of its input, or says it may read any of it (false): its
/// states must hand their input on where it is (no `InputPath` / `OutputPath` picking a part,
/// no `ResultPath` placing a Task's or Pass's input result elsewhere, no Parallel or Map),
/// so that what its Tasks' consumers read is read of the event; Choice and `SecondsPath`
/// paths are read.
fn machine_reads(def: &Definition, f: &mut Fields) -> bool {
    let moves = |p: &Option<Option<JsonPath>>| matches!(p, Some(Some(path)) if !path.0.is_empty());
    for st in &def.states {
        if moves(&st.input_path) || moves(&st.output_path) {
            return false;
        }
        match &st.kind {
            // Their result is their input: a `ResultPath` would move it.
            StateKind::Task { .. } | StateKind::Pass { result: None } => {
                if moves(&st.result_path) {
                    return false;
                }
            }
            StateKind::Pass { result: Some(_) } | StateKind::Succeed | StateKind::Fail { .. } => {}
            StateKind::Choice { choices, .. } => {
                for c in choices {
                    condition_paths(&c.condition, f);
                }
            }
            StateKind::Wait(w) => {
                if let WaitFor::SecondsPath(p) = w {
                    json_path_read(p, f);
                }
            }
            StateKind::Parallel { .. } | StateKind::Map { .. } => return false,
        }
    }
    true
}

fn condition_paths(c: &Condition, f: &mut Fields) {
    let operand = |o: &Operand, f: &mut Fields| {
        if let Operand::Path(p) = o {
            json_path_read(p, f);
        }
    };
    match c {
        Condition::Str(p, _, o) | Condition::Num(p, _, o) => {
            json_path_read(p, f);
            operand(o, f);
        }
        Condition::Bool(p, o) => {
            json_path_read(p, f);
            operand(o, f);
        }
        Condition::Matches(p, _) | Condition::Is(p, _, _) => json_path_read(p, f),
        Condition::And(cs) | Condition::Or(cs) => cs.iter().for_each(|c| condition_paths(c, f)),
        Condition::Not(c) => condition_paths(c, f),
    }
}

/// A reference path read: its fields up to the first index (arrays are built whole).
fn json_path_read(p: &JsonPath, f: &mut Fields) {
    let names: Vec<&str> =
        p.0.iter()
            .map_while(|s| match s {
                Step::Field(n) => Some(n.as_str()),
                Step::Index(_) => None,
            })
            .collect();
    f.add(&names);
}

fn dotted(p: &str) -> Vec<&str> {
    p.split('.').collect()
}

/// Adds the field paths an `EventBridge` pattern (or `fail_when`-style pattern) tests.
fn pattern_paths<'v>(p: &'v Value, prefix: &mut Vec<&'v str>, f: &mut Fields) {
    match p {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$or" {
                    // `$or` holds alternative patterns at this same level.
                    for alt in v.as_array().into_iter().flatten() {
                        pattern_paths(alt, prefix, f);
                    }
                    continue;
                }
                prefix.push(k);
                if v.is_object() {
                    pattern_paths(v, prefix, f);
                } else {
                    f.add(prefix);
                }
                prefix.pop();
            }
        }
        // Not an object where a pattern expects one: whatever it means, read everything.
        _ => f.add(prefix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(v: &Value) -> Scenario {
        crate::scenario::parse(&v.to_string(), "t.json")
            .map_or_else(|e| panic!("{e}"), |l| l.scenario)
    }

    fn paths(f: &Fields, prefix: &str, out: &mut Vec<String>) {
        if f.all {
            out.push(prefix.to_owned());
        }
        for (k, c) in &f.children {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            paths(c, &p, out);
        }
    }

    #[test]
    fn patterns_keys_and_orders_name_the_fields_read() {
        let s = scenario(&json!({
            "format": "eventflow/2", "name": "t", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
            "buses": [ { "id": "bus", "rules": [
                { "id": "r", "pattern": { "source": ["shop"],
                    "detail": { "total": [ { "numeric": [">", 1] } ],
                                "$or": [ { "kind": ["a"] }, { "region": { "name": ["eu"] } } ] } },
                  "targets": [ { "to": "q" } ] } ] } ],
            "queues": [ { "id": "q" } ],
            "consumers": [ { "id": "c", "from": "q", "order_key": "detail.orderId",
                             "fail_when": { "detail": { "poison": [true] } },
                             "service_time": { "constant": "1ms" } } ] }));
        let Reads::Fields(f) = Reads::of(&s, std::iter::empty()) else {
            panic!("no whole reader here");
        };
        let mut got = Vec::new();
        paths(&f, "", &mut got);
        got.sort();
        assert_eq!(
            got,
            [
                "detail.kind",
                "detail.orderId",
                "detail.poison",
                "detail.region.name",
                "detail.total",
                "source"
            ]
        );
    }

    #[test]
    fn a_transform_or_content_deduplication_reads_the_whole_event() {
        let s = scenario(&json!({
            "format": "eventflow/2", "name": "t", "duration": "1m",
            "producers": [ { "id": "p", "to": "q", "rate": 1 } ],
            "queues": [ { "id": "q", "type": "fifo" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" } } ] }));
        assert_eq!(Reads::of(&s, std::iter::empty()), Reads::Whole);
    }

    fn read_paths(s: &Scenario) -> Vec<String> {
        let Reads::Fields(f) = Reads::of(s, std::iter::empty()) else {
            panic!("no whole reader here");
        };
        let mut got = Vec::new();
        paths(&f, "", &mut got);
        got.sort();
        got
    }

    #[test]
    fn a_topic_reads_its_policies_attributes_or_body_paths() {
        let topic = |filter: &Value, scope: &str| {
            scenario(&json!({
                "format": "eventflow/2", "name": "t", "duration": "1m",
                "producers": [ { "id": "p", "to": "t", "rate": 1 } ],
                "topics": [ { "id": "t", "subscriptions": [
                    { "to": "q" },
                    { "to": "q", "filter": filter, "filter_scope": scope } ] } ],
                "queues": [ { "id": "q" } ] }))
        };
        let attrs = topic(&json!({ "market": ["EU"] }), "attributes");
        assert_eq!(read_paths(&attrs), ["attributes"]);
        let body = topic(
            &json!({ "detail": { "total": [ { "numeric": [">", 1] } ], "kind": ["a"] } }),
            "body",
        );
        assert_eq!(read_paths(&body), ["detail.kind", "detail.total"]);
        // `exists: false` on a body asks whether the body has any field at all.
        let absent = topic(
            &json!({ "detail": { "x": [ { "exists": false } ] } }),
            "body",
        );
        assert_eq!(Reads::of(&absent, std::iter::empty()), Reads::Whole);
    }

    fn machine(states: &Value) -> Scenario {
        scenario(&json!({
            "format": "eventflow/2", "name": "t", "duration": "1m",
            "producers": [ { "id": "p", "to": "m", "rate": 1 } ],
            "consumers": [ { "id": "svc", "kind": "service",
                             "fail_when": { "detail": { "poison": [true] } },
                             "service_time": { "constant": "1ms" } } ],
            "state_machines": [ { "id": "m", "definition":
                { "StartAt": "A", "States": states } } ] }))
    }

    #[test]
    fn a_machine_that_hands_its_input_on_reads_its_choices_and_its_tasks_reads() {
        let s = machine(&json!({
            "A": { "Type": "Choice", "Choices": [
                { "Variable": "$.detail.total", "NumericGreaterThanPath": "$.detail.limit[0]",
                  "Next": "B" } ], "Default": "B" },
            "B": { "Type": "Task", "Resource": "svc", "ResultPath": null,
                   "Catch": [ { "ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                "Next": "C" } ], "Next": "C" },
            "C": { "Type": "Succeed" } }));
        assert_eq!(
            read_paths(&s),
            ["detail.limit", "detail.poison", "detail.total"]
        );
    }

    #[test]
    fn a_machine_that_moves_parts_of_its_input_reads_the_whole_event() {
        for moved in [
            json!({ "A": { "Type": "Task", "Resource": "svc", "InputPath": "$.detail", "End": true } }),
            json!({ "A": { "Type": "Task", "Resource": "svc", "ResultPath": "$.r", "End": true } }),
            json!({ "A": { "Type": "Pass", "OutputPath": "$.detail", "End": true } }),
            json!({ "A": { "Type": "Parallel", "End": true, "Branches": [
                { "StartAt": "X", "States": { "X": { "Type": "Succeed" } } } ] } }),
        ] {
            assert_eq!(
                Reads::of(&machine(&moved), std::iter::empty()),
                Reads::Whole,
                "{moved}"
            );
        }
    }

    #[test]
    fn what_a_destination_record_reader_reads_of_the_request_is_read_of_the_event() {
        let s = scenario(&json!({
            "format": "eventflow/2", "name": "t", "duration": "1m",
            "producers": [ { "id": "p", "to": "in", "rate": 1 } ],
            "buses": [ { "id": "in", "rules": [
                { "id": "call", "pattern": { "source": ["shop"] }, "targets": [ { "to": "f" } ] } ] },
                       { "id": "bus", "rules": [
                { "id": "r", "pattern": { "detail": { "requestPayload":
                    { "detail": { "kind": ["a"] } } } },
                  "targets": [ { "to": "q" } ] } ] } ],
            "queues": [ { "id": "q" } ],
            "consumers": [ { "id": "f", "kind": "function", "async": { "on_failure": "bus" },
                             "service_time": { "constant": "1ms" } } ] }));
        assert_eq!(
            read_paths(&s),
            ["detail.kind", "detail.requestPayload.detail.kind", "source"]
        );
    }

    #[test]
    fn a_from_copy_is_read_only_when_the_field_it_fills_is() {
        let s = scenario(&json!({
            "format": "eventflow/2", "name": "t", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
            "buses": [ { "id": "bus", "rules": [
                { "id": "r", "pattern": { "source": ["a"],
                    "detail": { "parent": [ { "exists": true } ] } },
                  "targets": [ { "to": "q" } ] } ] } ],
            "queues": [ { "id": "q" } ] }));
        let tpl = |v: Value| Template::compile(&v, true).unwrap_or_else(|e| panic!("{e:?}"));
        // Listed first, this one's `detail.id` is read only once the second's copy is.
        let chained = tpl(json!({ "detail": { "id": { "$from": "detail.root" },
                                            "x": { "$from": "detail.never" } } }));
        let tested = tpl(json!({ "source": "a", "detail": {
            "parent": { "$from": "detail.id" },
            "copy": { "$from": "detail.other" },
            "list": [ { "$from": "detail.inList" } ] } }));
        let Reads::Fields(f) = Reads::of(&s, [&chained, &tested].into_iter()) else {
            panic!("no whole reader here");
        };
        let mut got = Vec::new();
        paths(&f, "", &mut got);
        got.sort();
        assert_eq!(got, ["detail.id", "detail.parent", "detail.root", "source"]);
        // A feedback loop whose copies nothing tests reads only what its rules test.
        let loop_only = tpl(json!({ "source": "a", "detail": {
            "symbol": { "$from": "detail.symbol" } } }));
        let plain = scenario(&json!({
            "format": "eventflow/2", "name": "t", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
            "buses": [ { "id": "bus", "rules": [
                { "id": "r", "pattern": { "source": ["a"] }, "targets": [ { "to": "q" } ] } ] } ],
            "queues": [ { "id": "q" } ] }));
        let Reads::Fields(f) = Reads::of(&plain, std::iter::once(&loop_only)) else {
            panic!("no whole reader here");
        };
        let mut got = Vec::new();
        paths(&f, "", &mut got);
        assert_eq!(got, ["source"]);
    }

    #[test]
    fn a_read_path_covers_the_paths_below_it() {
        let mut f = Fields::default();
        f.add(&["detail", "a"]);
        f.add(&["detail"]);
        f.add(&["detail", "b"]);
        assert!(
            f.child("detail")
                .is_some_and(|d| d.all && d.children.is_empty())
        );
    }
}
