//! Edits of a scenario that touch more than one field: adding a component with a fresh id and
//! sensible defaults, removing one, renaming one together with every reference to it.
//!
//! Pure functions of [`Scenario`], so they are tested without a UI; the inspector and the
//! palette call them and record an undo step around each. Which fields hold ids and references
//! is [`Topology`]'s to say, so a rename follows every reference the validator checks.

use serde_json::json;

use crate::model::topology::Topology;
use crate::model::{
    Arrivals, Bus, Consumer, Distribution, Duration, Kind, Producer, Queue, QueueType, Rule,
    Scenario, Stream, Target, WhenFull,
};

/// `base-1`, `base-2`, … : the first id not used by a component or a rule.
#[must_use]
pub fn unique_id(s: &Scenario, base: &str) -> String {
    (1..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !id_in_use(s, id))
        .unwrap_or_else(|| base.to_owned())
}

/// Is `id` taken by a component or a rule?
#[must_use]
pub fn id_in_use(s: &Scenario, id: &str) -> bool {
    Topology::new(s).is_taken(id)
}

/// Adds a component of `kind` with defaults that run, wired to the first plausible neighbour,
/// and returns its id.
pub fn add_component(s: &mut Scenario, kind: Kind) -> String {
    let id = unique_id(s, kind.as_str());
    let first_sink = s
        .buses
        .first()
        .map(|b| b.id.clone())
        .or_else(|| s.queues.first().map(|q| q.id.clone()))
        .or_else(|| s.streams.first().map(|x| x.id.clone()));
    match kind {
        Kind::Producer => s.producers.push(Producer {
            id: id.clone(),
            to: first_sink.unwrap_or_default(),
            rate: 10.0,
            arrivals: Arrivals::Poisson,
            schedule: vec![],
            limit: None,
            event: json!({ "source": "app", "detail-type": "Created", "detail": { "id": { "$seq": "E-" } } }),
            throttle: None,
        }),
        Kind::Bus => s.buses.push(Bus { id: id.clone(), rules: vec![], latency: None, archive: false, throttle: None }),
        Kind::Queue => s.queues.push(Queue {
            id: id.clone(),
            kind: QueueType::Standard,
            capacity: None,
            when_full: WhenFull::Reject,
            visibility_timeout: None,
            max_receives: None,
            dead_letter: None,
            duplicate_rate: 0.0,
            group_by: None,
            dedup_window: None,
            retention: None,
            dedup_id: None,
        }),
        Kind::Stream => s.streams.push(Stream { id: id.clone(), partitions: 4, key: None, retention: None, kind: None, write_limit: None }),
        Kind::Consumer => {
            // Read the first queue or stream nobody reads yet (else be invoked directly). A
            // dead-letter queue is left alone: reading it would silently consume the failures
            // the design keeps for inspection or redrive.
            let read: Vec<&str> = s.consumers.iter().filter_map(|c| c.from.as_deref()).collect();
            let topology = crate::model::topology::Topology::new(s);
            let from = s
                .queues
                .iter()
                .enumerate()
                .filter(|(i, _)| !topology.is_dead_letter_queue(*i))
                .map(|(_, q)| q.id.as_str())
                .chain(s.streams.iter().map(|x| x.id.as_str()))
                .find(|q| !read.contains(q))
                .map(str::to_owned);
            s.consumers.push(Consumer::new(
                &id,
                from,
                Distribution::Exponential { mean: Duration::from_millis(50) },
            ));
        }
        Kind::Topic => s.topics.push(crate::model::Topic {
            id: id.clone(),
            kind: crate::model::TopicType::Standard,
            group_by: None,
            subscriptions: vec![],
        }),
        Kind::Pipe => {
            // A pipe needs a source and a target: the first queue or stream, and the first
            // bus (or queue) that is not that source.
            let source = s
                .queues
                .first()
                .map(|q| q.id.clone())
                .or_else(|| s.streams.first().map(|x| x.id.clone()))
                .unwrap_or_default();
            let target = s
                .buses
                .first()
                .map(|b| b.id.clone())
                .or_else(|| s.queues.iter().map(|q| q.id.clone()).find(|q| *q != source))
                .unwrap_or_default();
            s.pipes.push(crate::model::Pipe {
                id: id.clone(),
                source,
                batch_size: None,
                batch_window: None,
                concurrency: None,
                filter: vec![],
                enrichment: None,
                target,
                invocation: None,
                event_source: None,
                detail_type: None,
                dead_letter: None,
                max_retry_attempts: None,
                max_record_age: None,
                bisect_on_error: false,
                parallelization_factor: None,
            });
        }
        Kind::StateMachine => s.state_machines.push(crate::model::StateMachine {
            id: id.clone(),
            kind: crate::model::StateMachineType::Standard,
            definition: json!({ "StartAt": "Done", "States": { "Done": { "Type": "Succeed" } } }),
            duplicate_rate: None,
        }),
    }
    id
}

/// Gives the newly added node `id` a free spot on the canvas when its automatic position would
/// land on a node the user has dragged there: the same column, one row below the lowest node.
/// Returns whether a position was written into the layout.
pub fn place_new_node(s: &mut Scenario, id: &str) -> bool {
    use crate::ui::graph::{Graph, LAYER_GAP, ROW_GAP};
    let graph = Graph::build(s);
    let Some(new) = graph.find(id) else {
        return false;
    };
    let at = graph.position(s, new);
    let others: Vec<[f32; 2]> = (0..graph.nodes.len())
        .filter(|&i| i != new)
        .map(|i| graph.position(s, i))
        .collect();
    let overlaps = |p: [f32; 2]| {
        others
            .iter()
            .any(|o| (o[0] - p[0]).abs() < LAYER_GAP * 0.6 && (o[1] - p[1]).abs() < ROW_GAP * 0.8)
    };
    if !overlaps(at) {
        return false;
    }
    let lowest = others
        .iter()
        .filter(|o| (o[0] - at[0]).abs() < LAYER_GAP * 0.6)
        .map(|o| o[1])
        .fold(at[1], f32::max);
    let mut spot = [at[0], lowest + ROW_GAP];
    while overlaps(spot) {
        spot[1] += ROW_GAP;
    }
    s.layout
        .insert(id.to_owned(), [spot[0].round(), spot[1].round()]);
    true
}

/// The pattern a new rule starts with: it matches no event until edited, so adding a rule never
/// rewires a working design (a match-all pattern would copy every event to its target at once).
pub const NEW_RULE_PATTERN: &str = "replace-me";

/// Adds a rule to `bus` targeting the first queue, with a pattern that matches nothing until it
/// is edited (`{"source": ["replace-me"]}`), and returns its id.
pub fn add_rule(s: &mut Scenario, bus: &str) -> Option<String> {
    let id = unique_id(s, "rule");
    let to = s
        .queues
        .first()
        .map(|q| q.id.clone())
        .or_else(|| s.consumers.first().map(|c| c.id.clone()));
    let b = s.buses.iter_mut().find(|b| b.id == bus)?;
    b.rules.push(Rule {
        id: id.clone(),
        pattern: json!({ "source": [NEW_RULE_PATTERN] }),
        targets: to.map(new_target).into_iter().collect(),
    });
    Some(id)
}

/// A target with no retry policy of its own (`EventBridge` defaults).
#[must_use]
pub fn new_target(to: String) -> Target {
    Target {
        to,
        retry: None,
        dead_letter: None,
        transform: None,
        throttle: None,
    }
}

/// Removes the component or rule `id` and its canvas position. References to it stay, so the
/// validator lists them where the user can fix or undo.
pub fn remove(s: &mut Scenario, id: &str) -> bool {
    let before = count(s);
    s.producers.retain(|p| p.id != id);
    s.buses.retain(|b| b.id != id);
    s.queues.retain(|q| q.id != id);
    s.streams.retain(|x| x.id != id);
    s.consumers.retain(|c| c.id != id);
    for b in &mut s.buses {
        b.rules.retain(|r| r.id != id);
    }
    s.layout.remove(id);
    count(s) != before
}

fn count(s: &Scenario) -> usize {
    s.components().len() + s.buses.iter().map(|b| b.rules.len()).sum::<usize>()
}

/// Renames the component or rule `old` to `new` and every reference to it.
///
/// # Errors
/// When `new` is empty, has spaces, or is taken.
pub fn rename(s: &mut Scenario, old: &str, new: &str) -> Result<(), String> {
    if new == old {
        return Ok(());
    }
    if new.is_empty() {
        return Err("an id cannot be empty".into());
    }
    if new.chars().any(char::is_whitespace) {
        return Err("an id cannot contain spaces".into());
    }
    if id_in_use(s, new) {
        return Err(format!("\"{new}\" is already the id of another component"));
    }
    let topology = Topology::new(s);
    for (site, id) in topology.ids() {
        if id == old
            && let Some(x) = site.get_mut(s)
        {
            new.clone_into(x);
        }
    }
    for r in topology.references() {
        if r.id == old
            && let Some(x) = r.site.get_mut(s)
        {
            new.clone_into(x);
        }
    }
    if let Some(pos) = s.layout.remove(old) {
        s.layout.insert(new.to_owned(), pos);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Scenario {
        let mut s = Scenario::empty("t");
        add_component(&mut s, Kind::Bus);
        add_component(&mut s, Kind::Queue);
        add_component(&mut s, Kind::Producer);
        add_component(&mut s, Kind::Consumer);
        add_rule(&mut s, "bus-1");
        s
    }

    #[test]
    fn added_components_are_wired_and_valid() {
        let s = sample();
        assert_eq!(s.producers[0].to, "bus-1");
        assert_eq!(s.consumers[0].from.as_deref(), Some("queue-1"));
        assert_eq!(s.buses[0].rules[0].targets[0].to, "queue-1");
        let errors: Vec<_> = crate::scenario::validate(&s)
            .into_iter()
            .filter(|p| p.severity == crate::scenario::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn palette_defaults_do_not_rewire_a_design() {
        let mut s = sample();
        // A queue that is some queue's dead-letter queue, and nobody reads.
        add_component(&mut s, Kind::Queue);
        s.queues[0].dead_letter = Some("queue-2".into());
        s.queues[0].max_receives = Some(3);
        let id = add_component(&mut s, Kind::Consumer);
        let c = s.consumers.iter().find(|c| c.id == id).unwrap();
        assert_eq!(
            c.from, None,
            "a new consumer never reads a dead-letter queue"
        );
        // A new rule matches nothing until edited.
        let rule = add_rule(&mut s, "bus-1").unwrap();
        let r = s.buses[0].rules.iter().find(|r| r.id == rule).unwrap();
        let p = crate::pattern::Pattern::parse(&r.pattern).unwrap();
        for producer in &s.producers {
            assert!(!p.matches(&producer.event), "{}", r.pattern);
        }
    }

    #[test]
    fn a_new_node_does_not_land_on_a_dragged_one() {
        let mut s = sample();
        let id = add_component(&mut s, Kind::Queue);
        // Drag queue-1 onto where the new queue would go automatically.
        let g = crate::ui::graph::Graph::build(&s);
        let auto = g.position(&s, g.find(&id).unwrap());
        s.layout.insert("queue-1".into(), auto);
        assert!(place_new_node(&mut s, &id));
        let placed = s.layout[&id];
        assert!(
            (placed[1] - auto[1]).abs() >= crate::ui::graph::ROW_GAP * 0.8,
            "{placed:?}"
        );
        let mut t = sample();
        let id = add_component(&mut t, Kind::Stream);
        assert!(!place_new_node(&mut t, &id), "auto layout already has room");
    }

    #[test]
    fn rename_follows_every_reference() {
        let mut s = sample();
        s.layout.insert("queue-1".into(), [1.0, 2.0]);
        rename(&mut s, "queue-1", "orders-q").unwrap();
        assert_eq!(s.queues[0].id, "orders-q");
        assert_eq!(s.consumers[0].from.as_deref(), Some("orders-q"));
        assert_eq!(s.buses[0].rules[0].targets[0].to, "orders-q");
        assert_eq!(s.layout.get("orders-q"), Some(&[1.0, 2.0]));
        assert!(rename(&mut s, "orders-q", "bus-1").is_err());
        assert!(rename(&mut s, "orders-q", "has space").is_err());
    }

    #[test]
    fn rename_follows_every_reference_site_of_the_topology() {
        let mut s: Scenario = serde_json::from_str(
            r#"{ "name": "t", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
            "buses": [ { "id": "bus", "archive": true, "rules": [
                { "id": "r", "pattern": { "source": ["x"] },
                  "targets": [ { "to": "direct", "dead_letter": "dlq" }, { "to": "q" } ] } ] } ],
            "queues": [ { "id": "q", "dead_letter": "dlq", "max_receives": 3 }, { "id": "dlq" } ],
            "consumers": [
                { "id": "direct", "service_time": { "constant": "1ms" } },
                { "id": "worker", "from": "q", "service_time": { "constant": "1ms" },
                  "emits": [ { "to": "bus" } ] } ],
            "faults": [ { "target": "worker", "from": "1s", "to": "2s", "kind": "outage" } ],
            "timeline": [ { "at": "30s", "redrive": "dlq", "to": "q" },
                          { "at": "40s", "replay": "bus", "from": "0s", "to": "10s" } ] }"#,
        )
        .unwrap();
        let before = Topology::new(&s).references().len();
        for id in ["p", "bus", "r", "direct", "q", "dlq", "worker"] {
            let new = format!("{id}-renamed");
            rename(&mut s, id, &new).unwrap();
            let t = Topology::new(&s);
            assert!(
                t.references().iter().all(|r| r.id != id && r.is_allowed()),
                "{id}"
            );
            assert!(!t.is_taken(id) && t.is_taken(&new), "{id}");
        }
        assert_eq!(Topology::new(&s).references().len(), before);
        let errors: Vec<_> = crate::scenario::validate(&s)
            .into_iter()
            .filter(|p| p.severity == crate::scenario::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn remove_drops_the_component_and_its_position() {
        let mut s = sample();
        s.layout.insert("consumer-1".into(), [0.0, 0.0]);
        assert!(remove(&mut s, "consumer-1"));
        assert!(s.consumers.is_empty() && s.layout.is_empty());
        assert!(remove(&mut s, "rule-1"));
        assert!(s.buses[0].rules.is_empty());
        assert!(!remove(&mut s, "nothing"));
    }
}
