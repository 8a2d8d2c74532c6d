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
    let mut warned_async: Vec<usize> = Vec::new();
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
                // A function target is invoked asynchronously: EventBridge's delivery succeeds
                // at Lambda's queue, so what matters is the function's `async.on_failure`.
                let async_fn = s.consumers.iter().position(|c| {
                    c.id == t.to
                        && c.from.is_none()
                        && c.kind_in_force() == crate::model::ConsumerKind::Function
                });
                if let Some(ci) = async_fn {
                    let c = &s.consumers[ci];
                    if c.async_invoke
                        .as_ref()
                        .and_then(|a| a.on_failure.as_ref())
                        .is_none()
                        && !warned_async.contains(&ci)
                    {
                        warned_async.push(ci);
                        out.push(
                            Problem::warning(format!("consumers[{ci}]"), format!("function \"{}\" has no async.on_failure: events that fail all of Lambda's asynchronous tries are dropped", c.id))
                                .hint(Some("add \"async\": { \"on_failure\": \"<queue id>\" } (a rule target's dead_letter does not see them: EventBridge delivered them to Lambda)".into())),
                        );
                    }
                    continue;
                }
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
    for (i, q) in s.queues.iter().enumerate() {
        if q.kind == crate::model::QueueType::Fifo && q.group_by.is_none() {
            out.push(
                Problem::warning(
                    format!("queues[{i}].group_by"),
                    format!(
                        "FIFO queue \"{}\" has no `group_by`: the whole queue is one message group, processed one batch at a time",
                        q.id
                    ),
                )
                .hint(Some(
                    "set \"group_by\" to the event path whose order matters, e.g. \"detail.customerId\"".into(),
                )),
            );
        }
    }
    for cycle in bus_cycles(s, topology) {
        let path = cycle.join(" → ");
        out.push(
            Problem::warning("", format!("rule cycle between buses: {path}"))
                .hint(Some("an event one of these rules matches is forwarded around the cycle for ever (each bus copies it on); the loop guard stops such a run: make one rule's pattern exclude what the other forwards".into())),
        );
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

/// The most bus cycles reported (a dense mesh of buses has very many).
const MAX_BUS_CYCLES: usize = 10;

/// Cycles of bus-to-bus rule targets (`b1`'s rule targets `b2`, whose rule targets `b1`), each
/// as the bus ids from its smallest id back to it, sorted; at most [`MAX_BUS_CYCLES`]. Rules
/// whose pattern does not parse are skipped (their error is reported elsewhere).
fn bus_cycles(s: &Scenario, topology: &Topology) -> Vec<Vec<String>> {
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for b in &s.buses {
        for r in &b.rules {
            for t in &r.targets {
                if t.to != b.id && topology.kind_of(&t.to) == Some(Kind::Bus) {
                    next.entry(b.id.as_str()).or_default().insert(t.to.as_str());
                }
            }
        }
    }
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    // Depth-first from each bus, only through buses with a larger id than the start, so each
    // cycle is found once, from its smallest id. Bounded work: stop at the report limit.
    let mut steps = 0usize;
    for &start in next.keys() {
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, vec![start])];
        while let Some((node, path)) = stack.pop() {
            steps += 1;
            if found.len() >= MAX_BUS_CYCLES || steps > 100_000 {
                break;
            }
            for &n in next.get(node).into_iter().flatten() {
                if n == start {
                    let mut c: Vec<String> = path.iter().map(|x| (*x).to_owned()).collect();
                    c.push(start.to_owned());
                    found.insert(c);
                } else if n > start && !path.contains(&n) {
                    let mut p = path.clone();
                    p.push(n);
                    stack.push((n, p));
                }
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse;

    #[test]
    fn rule_cycles_between_buses_and_fifo_queues_without_groups_are_warned() {
        let text = r#"{ "name": "cycle", "duration": "1m",
            "producers": [ { "id": "p", "to": "b1", "rate": 1 } ],
            "buses": [ { "id": "b1", "rules": [ { "id": "r1", "pattern": { "source": ["eventflow"] }, "targets": [ { "to": "b2" } ] } ] },
                       { "id": "b2", "rules": [ { "id": "r2", "pattern": { "source": ["eventflow"] }, "targets": [ { "to": "b1" }, { "to": "f", "dead_letter": "d" } ] } ] } ],
            "queues": [ { "id": "f", "type": "fifo" }, { "id": "d" } ],
            "consumers": [ { "id": "c", "from": "f", "service_time": { "constant": "1ms" } } ] }"#;
        let w: Vec<String> = parse(text, "t.json")
            .unwrap()
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            w.iter()
                .any(|x| x.contains("rule cycle between buses: b1 → b2 → b1")),
            "{w:#?}"
        );
        assert!(
            w.iter()
                .any(|x| x.contains("queues[0].group_by") && x.contains("one message group")),
            "{w:#?}"
        );
    }

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
