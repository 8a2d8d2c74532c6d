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
    // Topics copy what reaches them to their subscribers, pipes to their targets (in file
    // order: a pipe reading a topic's queue sees the topic's templates).
    for t in &s.topics {
        let from: Vec<Value> = reaching.get(t.id.as_str()).cloned().unwrap_or_default();
        for sub in &t.subscriptions {
            reaching
                .entry(&sub.to)
                .or_default()
                .extend(from.iter().cloned());
        }
    }
    for p in &s.pipes {
        let from: Vec<Value> = reaching.get(p.source.as_str()).cloned().unwrap_or_default();
        reaching.entry(&p.target).or_default().extend(from);
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
                if let Some(ci) = async_function(s, &t.to) {
                    out.extend(no_on_failure(
                        s,
                        ci,
                        "a rule target",
                        "EventBridge",
                        &mut warned_async,
                    ));
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
    // SNS invokes a subscribed function asynchronously too: "Amazon SNS invokes your function
    // asynchronously with an event that contains a message and metadata"
    // (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html).
    for t in &s.topics {
        for sub in &t.subscriptions {
            if let Some(ci) = async_function(s, &sub.to) {
                out.extend(no_on_failure(
                    s,
                    ci,
                    "a subscription",
                    "SNS",
                    &mut warned_async,
                ));
            }
        }
    }
    for (i, q) in s.queues.iter().enumerate() {
        // A dead-letter queue is a sink: messages are meant to wait there.
        let read = topology.is_read(&q.id) || s.pipes.iter().any(|p| p.source == q.id);
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
                            "{} instances read a stream of {}: {} sit idle",
                            c.concurrency,
                            crate::names::plural(st.partitions as usize, "partition"),
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
    out.extend(flow_lints(s, &reaching));
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

/// The consumer `to` names if it is a function invoked by its caller (no `from`): rule targets
/// and topic subscriptions invoke it asynchronously.
fn async_function(s: &Scenario, to: &str) -> Option<usize> {
    s.consumers.iter().position(|c| {
        c.id == to && c.from.is_none() && c.kind_in_force() == crate::model::ConsumerKind::Function
    })
}

/// The warning (once per function) that asynchronous invocations of consumer `ci` which fail
/// all of Lambda's tries are dropped: the caller (`sender`, through `via`) handed them to
/// Lambda's queue, so its own dead-letter queue never sees them.
fn no_on_failure(
    s: &Scenario,
    ci: usize,
    via: &str,
    sender: &str,
    warned: &mut Vec<usize>,
) -> Option<Problem> {
    let c = &s.consumers[ci];
    if c.async_invoke
        .as_ref()
        .and_then(|a| a.on_failure.as_ref())
        .is_some()
        || warned.contains(&ci)
    {
        return None;
    }
    warned.push(ci);
    Some(
        Problem::warning(
            format!("consumers[{ci}]"),
            format!(
                "function \"{}\" has no async.on_failure: events that fail all of Lambda's asynchronous tries are dropped",
                c.id
            ),
        )
        .hint(Some(format!(
            "add \"async\": {{ \"on_failure\": \"<queue id>\" }} ({via}'s dead_letter does not see them: {sender} delivered them to Lambda)"
        ))),
    )
}

/// Lints of topics, pipes and state machines: a topic nobody subscribes to, a pipe whose filter
/// no event reaching its source can match, an unreachable state, a Task whose failure (after its
/// retries) has no `Catch` and so fails the whole execution.
fn flow_lints(s: &Scenario, reaching: &BTreeMap<&str, Vec<Value>>) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, t) in s.topics.iter().enumerate() {
        if t.subscriptions.is_empty() {
            out.push(
                Problem::warning(
                    format!("topics[{i}]"),
                    format!(
                        "topic \"{}\" has no subscription: SNS accepts and discards every message",
                        t.id
                    ),
                )
                .hint(Some(
                    "add a subscription to a queue, function or bus".into(),
                )),
            );
        }
    }
    for (i, p) in s.pipes.iter().enumerate() {
        if p.filter.is_empty() {
            continue;
        }
        // Templates reaching the source straight from producers and emits, and through rules
        // that target it untransformed; unknown (a transform, a topic's copy) means no lint.
        let Some(templates) = reaching.get(p.source.as_str()).filter(|t| !t.is_empty()) else {
            continue;
        };
        let transformed = s
            .buses
            .iter()
            .flat_map(|b| &b.rules)
            .flat_map(|r| &r.targets)
            .any(|t| t.to == p.source && t.transform.is_some());
        if transformed {
            continue;
        }
        let patterns: Vec<crate::pattern::Pattern> = p
            .filter
            .iter()
            .filter_map(|f| crate::pattern::Pattern::parse(f).ok())
            .collect();
        if !templates
            .iter()
            .any(|t| patterns.iter().any(|pat| pat.may_match_template(t)))
        {
            out.push(
                Problem::warning(
                    format!("pipes[{i}].filter"),
                    format!("pipe \"{}\" can never pass an event: no event reaching \"{}\" fits its filter", p.id, p.source),
                )
                .hint(Some("compare the filter patterns with the `event` templates sending to the pipe's source".into())),
            );
        }
    }
    for (i, m) in s.state_machines.iter().enumerate() {
        let Ok(def) = crate::model::asl::Definition::parse(&m.definition) else {
            continue;
        };
        machine_lints(
            &def,
            &format!("state_machines[{i}].definition"),
            &m.id,
            false,
            &mut out,
        );
    }
    out
}

/// `caught`: an enclosing Parallel or Map state has a Catch, which takes a nested Task's failure.
fn machine_lints(
    def: &crate::model::asl::Definition,
    path: &str,
    machine: &str,
    caught: bool,
    out: &mut Vec<Problem>,
) {
    use crate::model::asl::StateKind;
    let reachable = def.reachable();
    for (st, seen) in def.states.iter().zip(reachable) {
        let here = format!("{path}.States.{}", st.name);
        if !seen {
            out.push(Problem::warning(
                here.clone(),
                format!("state \"{}\" of \"{machine}\" is unreachable: no Next, Choice or Catch leads to it", st.name),
            ));
        }
        match &st.kind {
            StateKind::Task { resource, .. } if st.catch.is_empty() && !caught => {
                out.push(
                    Problem::warning(
                        here.clone(),
                        format!("Task \"{}\" (calling \"{resource}\") has no Catch: when it fails after its retries, the execution fails without compensating", st.name),
                    )
                    .hint(Some("add \"Catch\": [{\"ErrorEquals\": [\"States.ALL\"], \"Next\": \"<compensation state>\"}]".into())),
                );
            }
            StateKind::Parallel { branches } => {
                for (b, d) in branches.iter().enumerate() {
                    let caught = caught || !st.catch.is_empty();
                    machine_lints(d, &format!("{here}.Branches[{b}]"), machine, caught, out);
                }
            }
            StateKind::Map { iterator, .. } => {
                let caught = caught || !st.catch.is_empty();
                machine_lints(iterator, &format!("{here}.Iterator"), machine, caught, out);
            }
            _ => {}
        }
    }
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

    /// The warnings `parse` gives a valid scenario, as text.
    fn warnings(text: &str) -> Vec<String> {
        parse(text, "t.json")
            .unwrap()
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn rule_cycles_between_buses_and_fifo_queues_without_groups_are_warned() {
        let text = r#"{ "name": "cycle", "duration": "1m",
            "producers": [ { "id": "p", "to": "b1", "rate": 1 } ],
            "buses": [ { "id": "b1", "rules": [ { "id": "r1", "pattern": { "source": ["eventflow"] }, "targets": [ { "to": "b2" } ] } ] },
                       { "id": "b2", "rules": [ { "id": "r2", "pattern": { "source": ["eventflow"] }, "targets": [ { "to": "b1" }, { "to": "f", "dead_letter": "d" } ] } ] } ],
            "queues": [ { "id": "f", "type": "fifo" }, { "id": "d" } ],
            "consumers": [ { "id": "c", "from": "f", "service_time": { "constant": "1ms" } } ] }"#;
        let w = warnings(text);
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
    fn a_function_subscribed_to_a_topic_without_on_failure_is_warned_once() {
        // SNS invokes a subscribed function asynchronously, like an EventBridge target: the
        // function's async.on_failure is what catches events that fail all of Lambda's tries.
        let text = r#"{ "format": "eventflow/2", "name": "sns", "duration": "1m",
            "producers": [ { "id": "p", "to": "t", "rate": 1 } ],
            "topics": [ { "id": "t", "subscriptions": [ { "to": "f" }, { "to": "g" }, { "to": "f2" } ] } ],
            "queues": [ { "id": "dlq" } ],
            "consumers": [
              { "id": "f", "kind": "function", "service_time": { "constant": "1ms" } },
              { "id": "f2", "kind": "function", "service_time": { "constant": "1ms" } },
              { "id": "g", "kind": "function", "service_time": { "constant": "1ms" },
                "async": { "on_failure": "dlq" } } ] }"#;
        let w = warnings(text);
        let about = |id: &str| {
            w.iter()
                .filter(|x| x.contains(&format!("function \"{id}\" has no async.on_failure")))
                .count()
        };
        assert_eq!(about("f"), 1, "{w:#?}");
        assert_eq!(about("f2"), 1, "{w:#?}");
        assert_eq!(about("g"), 0, "{w:#?}");
        assert!(
            w.iter().any(|x| x.contains("SNS delivered them to Lambda")),
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
        let w = warnings(text);
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
