//! Which payload fields anything in a scenario reads, so that generated events are built with
//! those fields only.
//!
//! Building a JSON envelope per event was most of a bundled scenario's run (issue 16). The
//! readers of a payload are known when the scenario is compiled: rule patterns, consumer
//! `fail_when` / `reject_when` / `filter` patterns, FIFO group and deduplication ids, stream
//! partition keys, order keys and `$from` paths in emit templates. When every reader is one of
//! these, a template builds only the fields on their paths (and the envelope fields on them);
//! its generators off those paths still draw their random numbers, so the random streams, and
//! with them every figure, stay as they were. A reader that may look at the whole event (an
//! input transformer, content-based deduplication, an SNS topic, a pipe, a state machine, a
//! Lambda record that carries the request) makes the whole event needed.

use serde_json::Value;

use super::template::Template;
use crate::model::{QueueType, Scenario};

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

    /// Marks `path` (and everything below it) read (for tests elsewhere in `sim`).
    #[cfg(test)]
    pub(crate) fn children_add(&mut self, path: &[String]) {
        self.add(path);
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
        let whole = !s.topics.is_empty()
            || !s.pipes.is_empty()
            || !s.state_machines.is_empty()
            || s.buses
                .iter()
                .flat_map(|b| &b.rules)
                .flat_map(|r| &r.targets)
                .any(|t| t.transform.is_some())
            || s.queues
                .iter()
                .any(|q| q.kind == QueueType::Fifo && q.dedup_id.is_none())
            || s.consumers.iter().any(|c| {
                c.on_failure.is_some()
                    || c.async_invoke
                        .as_ref()
                        .is_some_and(|a| a.on_failure.is_some() || a.on_success.is_some())
            });
        if whole {
            return Reads::Whole;
        }
        let mut f = Fields::default();
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
        for t in emit_templates {
            for path in t.trigger_paths() {
                f.add(path);
            }
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
