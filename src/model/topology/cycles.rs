//! The routing-loop finder: consumers whose emitted events can come back to them through a bus's
//! rules, for the loop guard's message and the lint.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Topology;
use crate::model::defaults::effective_template;
use crate::model::{Kind, Scenario};
use crate::pattern::Pattern;

impl Topology {
    /// Event routing loops: each as the ids from a consumer back to it (emits → bus → rules →
    /// targets → queue or stream → consumer → …). A hop through a bus follows only the rules whose
    /// patterns could match the events entering it (the emit's template, as far as it can be known
    /// statically), so a choreography whose services publish to the bus that invokes them is not
    /// a loop unless an output can match its own rule. Each cycle is reported once, from its
    /// smallest consumer id, and the list is sorted. `s` must be the scenario this topology was
    /// built from (its patterns and templates decide the bus hops).
    #[must_use]
    pub fn cycles(&self, s: &Scenario) -> Vec<Vec<String>> {
        /// What is known of the events travelling an edge: a template, or nothing.
        type Filter<'a> = Option<&'a Value>;
        /// Successors: (node id, index of the emit template on that edge).
        type Successors = Vec<(String, Option<usize>)>;

        let templates: Vec<Value> = s
            .consumers
            .iter()
            .flat_map(|c| c.emits.iter().map(|e| effective_template(&e.event)))
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
        // Emit template indexes, numbered over all consumers' emits in file order.
        let mut first_emit = Vec::with_capacity(s.consumers.len());
        let mut k = 0;
        for c in &s.consumers {
            first_emit.push(k);
            k += c.emits.len();
        }

        // Successors of a node given the filter on the edge that reached it: a bus's rule
        // targets (of the rules that may match), a queue's or stream's readers, a consumer's
        // emits. Targets and emits are followed by id, even where the id names nothing.
        let next = |node: &str, filter: Filter<'_>| -> Successors {
            let mut out = Vec::new();
            let Some(c) = self.get(node) else {
                return out;
            };
            match c.kind {
                Kind::Bus => {
                    let bi = c.index;
                    for (ri, r) in s.buses[bi].rules.iter().enumerate() {
                        let may = match (filter, &patterns[bi][ri]) {
                            (Some(t), Some(p)) => p.may_match_template(t),
                            _ => true,
                        };
                        if may {
                            out.extend(r.targets.iter().map(|t| (t.to.clone(), None)));
                        }
                    }
                }
                Kind::Queue | Kind::Stream => {
                    out.extend(
                        self.readers(c)
                            .iter()
                            .map(|&ci| (s.consumers[ci].id.clone(), None)),
                    );
                }
                Kind::Consumer => {
                    let ci = c.index;
                    out.extend(
                        s.consumers[ci]
                            .emits
                            .iter()
                            .enumerate()
                            .map(|(j, e)| (e.to.clone(), Some(first_emit[ci] + j))),
                    );
                }
                Kind::Topic => {
                    out.extend(
                        s.topics[c.index]
                            .subscriptions
                            .iter()
                            .map(|x| (x.to.clone(), None)),
                    );
                }
                Kind::Pipe => out.push((s.pipes[c.index].target.clone(), None)),
                // A state machine's Tasks call functions and services and wait for them:
                // nothing they emit comes back through the machine itself.
                Kind::Producer | Kind::StateMachine => {}
            }
            out
        };

        let emitting = |id: &str| {
            self.index_of(id, Kind::Consumer)
                .is_some_and(|ci| !s.consumers[ci].emits.is_empty())
        };
        let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
        let mut starts: Vec<&str> = s
            .consumers
            .iter()
            .filter(|c| !c.emits.is_empty())
            .map(|c| c.id.as_str())
            .collect();
        starts.sort_unstable();
        for &start in &starts {
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
                    && !(n.as_str() < start && emitting(&n))
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
}
