//! The event-cycle finder used by the loop guard's message and the linter.

use serde_json::Value;

use crate::model::Scenario;
use crate::pattern::Pattern;

/// Event cycles in the component graph (emits → bus → rule targets → consumers → emits …),
/// each as a list of ids from a consumer back to it, for the loop guard's message and the
/// linter. A hop through a bus only follows the rules whose patterns could match the events
/// entering it (the emit's template, as far as it can be known statically), so a choreography
/// whose services publish to the bus that invokes them is not a loop unless an output can
/// match its own rule. Each cycle is reported once.
#[must_use]
pub fn find_cycles(s: &Scenario) -> Vec<Vec<String>> {
    use std::collections::BTreeSet;

    /// What is known of the events travelling an edge: a template, or nothing (all may pass).
    type Filter<'a> = Option<&'a Value>;
    /// Successors: (node id, index of the emit template on that edge).
    type Successors = Vec<(String, Option<usize>)>;

    let templates: Vec<Value> = s
        .consumers
        .iter()
        .flat_map(|c| {
            c.emits
                .iter()
                .map(|e| crate::model::defaults::effective_template(&e.event))
        })
        .collect();
    let patterns: Vec<Vec<Option<Pattern>>> = s
        .buses
        .iter()
        .map(|b| {
            b.rules
                .iter()
                .map(|r| Pattern::parse(&r.pattern).ok())
                .collect()
        })
        .collect();

    // Successors of a node given the filter on the edge that reached it.
    let next = |node: &str, filter: Filter<'_>| -> Successors {
        let mut out = Vec::new();
        if let Some(bi) = s.buses.iter().position(|b| b.id == node) {
            for (ri, r) in s.buses[bi].rules.iter().enumerate() {
                let may = match (filter, &patterns[bi][ri]) {
                    (Some(t), Some(p)) => p.may_match_template(t),
                    _ => true,
                };
                if may {
                    for t in &r.targets {
                        out.push((t.to.clone(), None));
                    }
                }
            }
        }
        if s.queues.iter().any(|q| q.id == node) || s.streams.iter().any(|x| x.id == node) {
            for c in s
                .consumers
                .iter()
                .filter(|c| c.from.as_deref() == Some(node))
            {
                out.push((c.id.clone(), None));
            }
        }
        let mut k = 0;
        for c in &s.consumers {
            for e in &c.emits {
                if c.id == node {
                    out.push((e.to.clone(), Some(k)));
                }
                k += 1;
            }
        }
        out
    };

    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut consumers: Vec<&str> = s
        .consumers
        .iter()
        .filter(|c| !c.emits.is_empty())
        .map(|c| c.id.as_str())
        .collect();
    consumers.sort_unstable();
    for &start in &consumers {
        // Depth-first over (node, template index of the edge into it); a cycle is recorded
        // from its smallest consumer id so each is found once.
        let mut path: Vec<String> = vec![start.to_owned()];
        let mut stack: Vec<(Successors, usize)> = vec![(next(start, None), 0)];
        while let Some((succ, i)) = stack.last_mut() {
            let Some((n, tpl)) = succ.get(*i).cloned() else {
                stack.pop();
                path.pop();
                continue;
            };
            *i += 1;
            if n == start {
                let mut cycle = path.clone();
                cycle.push(start.to_owned());
                found.insert(cycle);
            } else if !path.contains(&n)
                && path.len() < 32
                && found.len() < 100
                && !s
                    .consumers
                    .iter()
                    .any(|c| c.id == n && c.id.as_str() < start && !c.emits.is_empty())
            {
                let filter = tpl.map(|k| &templates[k]);
                let succ = next(&n, filter);
                path.push(n);
                stack.push((succ, 0));
            }
        }
    }
    found.into_iter().collect()
}
