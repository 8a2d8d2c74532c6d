//! Lints: warnings for a valid scenario that probably does not do what its author meant.
//!
//! Every question about the graph (which queues are dead-letter queues, who reads a queue, which
//! consumers a rule invokes, routing loops) is asked of [`Topology`], the one place that knows.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::problem::Problem;
use crate::model::defaults::effective_template;
use crate::model::topology::Topology;
use crate::model::{Kind, Scenario, TimelineAction};

/// Warnings for a valid scenario that probably does not do what its author meant: rules no
/// event can match, rule targets without a dead-letter queue, queues nobody reads, consumers
/// nobody invokes, idle stream instances, and event routing loops.
#[must_use]
pub fn lint(s: &Scenario) -> Vec<Problem> {
    lint_with(s, &Topology::new(s))
}

/// [`lint`] with the scenario's topology already built.
pub(super) fn lint_with(s: &Scenario, topology: &Topology) -> Vec<Problem> {
    let is_bus = |id: &str| topology.kind_of(id) == Some(Kind::Bus);
    let mut out = Vec::new();
    // Which event templates can reach each bus: producers and emits sending to it, and (when a
    // bus forwards untransformed to another) the templates reaching the forwarding bus.
    let mut reaching: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut opaque: BTreeSet<&str> = BTreeSet::new();
    for p in &s.producers {
        reaching
            .entry(&p.to)
            .or_default()
            .push(effective_template(&p.event));
    }
    for c in &s.consumers {
        for e in &c.emits {
            reaching
                .entry(&e.to)
                .or_default()
                .push(effective_template(&e.event));
        }
    }
    for _ in 0..s.buses.len() {
        for b in &s.buses {
            for r in &b.rules {
                for t in &r.targets {
                    if is_bus(&t.to) {
                        if t.transform.is_some() || opaque.contains(b.id.as_str()) {
                            opaque.insert(&t.to);
                        }
                        let from: Vec<Value> =
                            reaching.get(b.id.as_str()).cloned().unwrap_or_default();
                        let entry = reaching.entry(&t.to).or_default();
                        for v in from {
                            if !entry.contains(&v) {
                                entry.push(v);
                            }
                        }
                    }
                }
            }
        }
    }
    for (i, b) in s.buses.iter().enumerate() {
        let templates = reaching.get(b.id.as_str()).map_or(&[][..], Vec::as_slice);
        if templates.is_empty()
            && !s
                .timeline
                .iter()
                .any(|t| matches!(&t.action, TimelineAction::Replay { bus, .. } if *bus == b.id))
        {
            out.push(Problem::warning(
                format!("buses[{i}]"),
                format!("nothing sends events to bus \"{}\"", b.id),
            ));
            continue;
        }
        if opaque.contains(b.id.as_str()) {
            continue;
        }
        for (j, r) in b.rules.iter().enumerate() {
            let Ok(pattern) = crate::pattern::Pattern::parse(&r.pattern) else {
                continue;
            };
            if !templates.iter().any(|t| pattern.may_match_template(t)) {
                out.push(
                    Problem::warning(format!("buses[{i}].rules[{j}].pattern"), format!("rule \"{}\" can never match: no producer's or consumer's events fit its pattern", r.id))
                        .hint(Some("compare the pattern with the `event` templates sending to this bus (source, detail-type and field types must agree)".into())),
                );
            }
            for (k, t) in r.targets.iter().enumerate() {
                if t.dead_letter.is_none() && !is_bus(&t.to) {
                    out.push(
                        Problem::warning(format!("buses[{i}].rules[{j}].targets[{k}]"), format!("target \"{}\" has no dead-letter queue: events that exhaust their retries are dropped", t.to))
                            .hint(Some("add \"dead_letter\": \"<queue id>\" (an AWS best practice)".into())),
                    );
                }
            }
        }
    }
    for (i, q) in s.queues.iter().enumerate() {
        // A dead-letter queue is a sink: messages are meant to wait there.
        let read = topology.is_read(&q.id);
        if !read && !topology.is_dead_letter_queue(i) {
            out.push(Problem::warning(
                format!("queues[{i}]"),
                format!(
                    "no consumer reads queue \"{}\": its messages only pile up",
                    q.id
                ),
            ));
        }
    }
    for (i, c) in s.consumers.iter().enumerate() {
        match &c.from {
            None => {
                if !topology.is_invoked(i) {
                    out.push(
                        Problem::warning(
                            format!("consumers[{i}]"),
                            format!("consumer \"{}\" reads nothing and no rule invokes it", c.id),
                        )
                        .hint(Some(
                            "set `from` to a queue or stream, or name it as a rule target".into(),
                        )),
                    );
                }
            }
            Some(from) => {
                if let Some(st) = topology
                    .index_of(from, Kind::Stream)
                    .and_then(|x| s.streams.get(x))
                    && c.concurrency > st.partitions
                {
                    out.push(Problem::warning(
                        format!("consumers[{i}].concurrency"),
                        format!(
                            "{} instances read a stream of {} partitions: {} sit idle",
                            c.concurrency,
                            st.partitions,
                            c.concurrency - st.partitions
                        ),
                    ));
                }
            }
        }
    }
    for cycle in topology.cycles(s) {
        let path = cycle.join(" → ");
        out.push(
            Problem::warning("", format!("event routing loop: {path}"))
                .hint(Some("a consumer emits events its own rule matches again; EventBridge warns of this: it can run away (the loop guard stops runs past settings.max_events)".into())),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse;

    #[test]
    fn lints_warn_of_dead_rules_missing_dlqs_unread_queues_and_loops() {
        let text = r#"{ "name": "lint", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1, "event": { "source": "shop", "detail": { "n": { "$int": [1, 5] } } } } ],
            "buses": [ { "id": "bus", "rules": [
                { "id": "never", "pattern": { "source": ["billing"] }, "targets": [ { "to": "q", "dead_letter": "dlq" } ] },
                { "id": "maybe", "pattern": { "detail": { "n": [ { "numeric": [">", 3] } ] } }, "targets": [ { "to": "q" } ] },
                { "id": "echo", "pattern": { "source": ["echo"] }, "targets": [ { "to": "loop-q", "dead_letter": "dlq" } ] } ] } ],
            "queues": [ { "id": "q" }, { "id": "dlq" }, { "id": "orphan" }, { "id": "loop-q" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" } },
                           { "id": "echoer", "from": "loop-q", "service_time": { "constant": "1ms" },
                             "emits": [ { "to": "bus", "event": { "source": "echo" } } ] } ] }"#;
        let w: Vec<String> = parse(text, "t.json")
            .unwrap()
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        let has = |needle: &str| w.iter().any(|x| x.contains(needle));
        assert!(
            has("rules[0].pattern: rule \"never\" can never match"),
            "{w:#?}"
        );
        assert!(
            !has("rule \"maybe\" can never match"),
            "a generated number may be > 3"
        );
        assert!(
            !has("rule \"echo\" can never match"),
            "a consumer emits source echo"
        );
        assert!(has(
            "rules[1].targets[0]: target \"q\" has no dead-letter queue"
        ));
        assert!(has("no consumer reads queue \"orphan\""));
        assert!(!has("queue \"dlq\""), "a dead-letter queue is a sink");
        assert!(
            has("event routing loop: echoer → bus → loop-q → echoer"),
            "{w:#?}"
        );
    }
}
