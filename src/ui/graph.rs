//! The scenario as a directed graph for the canvas, and its automatic left-to-right layout.
//!
//! Nodes are the components plus each bus's rules (routing is what an architect wants to see);
//! dead-letter queues ([`Topology::is_dead_letter_queue`]) that no consumer reads are drawn as
//! DLQs (one with a consumer is drawn as the working queue it also is). Nodes and edges come from
//! [`Topology`], the one reading of the scenario's graph. Edges follow the flow:
//! producer → destination, bus → rule → target, queue/stream → consumer, consumer → emitted-to,
//! and dashed dead-letter edges. The layout puts each node in the layer of its longest path from
//! a source (cycles made by `emits` back into a bus are broken at their back edge), then orders
//! each layer by the mean position of its predecessors to cut crossings. Positions saved in the
//! scenario's `layout` win over the automatic ones.
//!
//! Two readings the canvas draws inside nodes live here too: a state machine's states
//! ([`state_rows`], named as the engine's figures name them) and the assumptions an import
//! listed for each component ([`assumptions_by_component`], read from the description the
//! importer wrote, so they survive a save and reopen).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::model::asl::{Definition, StateKind};
use crate::model::topology::{EdgeKind as Link, End, Topology};
use crate::model::{Kind, Scenario};

/// World units between layers (left to right).
pub const LAYER_GAP: f32 = 215.0;
/// World units between nodes of one layer (top to bottom).
pub const ROW_GAP: f32 = 90.0;

/// What a canvas node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    /// An event source.
    Producer,
    /// An EventBridge-style bus.
    Bus,
    /// A rule of a bus.
    Rule,
    /// A queue read by a consumer.
    Queue,
    /// A partitioned stream.
    Stream,
    /// A handler.
    Consumer,
    /// A queue that receives dead letters.
    Dlq,
    /// An SNS topic.
    Topic,
    /// An `EventBridge` pipe.
    Pipe,
    /// A Step Functions state machine.
    StateMachine,
}

impl NodeKind {
    /// Left-to-right rank, the tie-breaker when nothing else orders two nodes.
    fn rank(self) -> u8 {
        match self {
            NodeKind::Producer => 0,
            NodeKind::Bus | NodeKind::Topic => 1,
            NodeKind::Rule | NodeKind::Pipe => 2,
            NodeKind::Queue | NodeKind::Stream => 3,
            NodeKind::Consumer | NodeKind::StateMachine => 4,
            NodeKind::Dlq => 5,
        }
    }

    /// The word shown under the id.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Producer => "producer",
            NodeKind::Bus => "bus",
            NodeKind::Rule => "rule",
            NodeKind::Queue => "queue",
            NodeKind::Stream => "stream",
            NodeKind::Consumer => "consumer",
            NodeKind::Dlq => "dead-letter queue",
            NodeKind::Topic => "topic",
            NodeKind::Pipe => "pipe",
            NodeKind::StateMachine => "state machine",
        }
    }
}

/// One node.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// Component or rule id (the key of the scenario's `layout`).
    pub id: String,
    /// What it is.
    pub kind: NodeKind,
    /// For a rule: its bus.
    pub bus: Option<String>,
    /// Layer from the automatic layout (0 = leftmost).
    pub layer: usize,
    /// Automatic position, world units (centre of the node).
    pub auto_pos: [f32; 2],
}

/// How an edge is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// Events flowing on.
    Flow,
    /// Where failures go.
    DeadLetter,
    /// Events a consumer emits.
    Emit,
}

/// One edge, by node index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphEdge {
    /// Source node.
    pub from: usize,
    /// Destination node.
    pub to: usize,
    /// How to draw it.
    pub kind: EdgeKind,
}

/// The graph of a scenario.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Nodes, in scenario order (producers, buses with their rules, queues, streams, consumers).
    pub nodes: Vec<GraphNode>,
    /// Edges whose ends both exist.
    pub edges: Vec<GraphEdge>,
}

impl Graph {
    /// Builds the graph of `s` and lays it out.
    #[must_use]
    pub fn build(s: &Scenario) -> Graph {
        let topology = Topology::new(s);
        let mut nodes = Vec::new();
        // Graph node of each component (by topology node index) and of each rule.
        let mut of_component = vec![0; topology.nodes().len()];
        let mut of_rule = vec![0; topology.rules().len()];
        let node = |id: &str, kind, bus: Option<&str>| GraphNode {
            id: id.to_owned(),
            kind,
            bus: bus.map(str::to_owned),
            layer: 0,
            auto_pos: [0.0, 0.0],
        };
        let mut rules = topology.rules().iter().enumerate().peekable();
        for (n, c) in topology.nodes().iter().enumerate() {
            let kind = match c.component.kind {
                Kind::Producer => NodeKind::Producer,
                Kind::Bus => NodeKind::Bus,
                Kind::Queue
                    if topology.is_dead_letter_queue(c.component.index)
                        && !topology.is_read(&c.id) =>
                {
                    NodeKind::Dlq
                }
                Kind::Queue => NodeKind::Queue,
                Kind::Stream => NodeKind::Stream,
                Kind::Consumer => NodeKind::Consumer,
                Kind::Topic => NodeKind::Topic,
                Kind::Pipe => NodeKind::Pipe,
                Kind::StateMachine => NodeKind::StateMachine,
            };
            of_component[n] = nodes.len();
            nodes.push(node(&c.id, kind, None));
            // Each bus is followed by its rules.
            while let Some((r, rule)) =
                rules.next_if(|(_, r)| c.component.kind == Kind::Bus && r.bus == c.component.index)
            {
                of_rule[r] = nodes.len();
                nodes.push(node(&rule.id, NodeKind::Rule, Some(&c.id)));
            }
        }

        let at = |end: End| match end {
            End::Component(c) => of_component[topology.node_index(c)],
            End::Rule(r) => of_rule[r],
        };
        let mut edges = Vec::new();
        for e in topology.edges() {
            let kind = match e.kind {
                Link::Send
                | Link::Rule
                | Link::Target
                | Link::Read
                | Link::Subscription
                | Link::Enrich
                | Link::Task => EdgeKind::Flow,
                Link::DeadLetter => EdgeKind::DeadLetter,
                Link::Emit(_) => EdgeKind::Emit,
                // An operator's action, not a path events take on their own.
                Link::Redrive => continue,
            };
            let edge = GraphEdge {
                from: at(e.from),
                to: at(e.to),
                kind,
            };
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
        let mut g = Graph { nodes, edges };
        g.layout();
        g
    }

    /// The node with this id.
    #[must_use]
    pub fn find(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The component kind of a node (rules belong to their bus; DLQs are queues).
    #[must_use]
    pub fn component_kind(&self, node: usize) -> Option<Kind> {
        Some(match self.nodes.get(node)?.kind {
            NodeKind::Producer => Kind::Producer,
            NodeKind::Bus => Kind::Bus,
            NodeKind::Rule => return None,
            NodeKind::Queue | NodeKind::Dlq => Kind::Queue,
            NodeKind::Stream => Kind::Stream,
            NodeKind::Consumer => Kind::Consumer,
            NodeKind::Topic => Kind::Topic,
            NodeKind::Pipe => Kind::Pipe,
            NodeKind::StateMachine => Kind::StateMachine,
        })
    }

    /// Edges that close a cycle (found by depth-first search from the sources in node order).
    fn back_edges(&self) -> BTreeSet<usize> {
        let n = self.nodes.len();
        let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut indegree = vec![0usize; n];
        for (i, e) in self.edges.iter().enumerate() {
            out_edges[e.from].push(i);
            indegree[e.to] += 1;
        }
        // 0 unvisited, 1 on the stack, 2 done.
        let mut state = vec![0u8; n];
        let mut back = BTreeSet::new();
        let mut roots: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        roots.extend(0..n);
        for root in roots {
            if state[root] != 0 {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            state[root] = 1;
            while let Some((v, next)) = stack.last_mut() {
                let v = *v;
                if let Some(&ei) = out_edges[v].get(*next) {
                    *next += 1;
                    let w = self.edges[ei].to;
                    match state[w] {
                        0 => {
                            state[w] = 1;
                            stack.push((w, 0));
                        }
                        1 => {
                            back.insert(ei);
                        }
                        _ => {}
                    }
                } else {
                    state[v] = 2;
                    stack.pop();
                }
            }
        }
        back
    }

    /// Assigns layers (longest path from a source) and automatic positions.
    fn layout(&mut self) {
        let n = self.nodes.len();
        if n == 0 {
            return;
        }
        let back = self.back_edges();
        let forward: Vec<GraphEdge> = self
            .edges
            .iter()
            .enumerate()
            .filter(|(i, _)| !back.contains(i))
            .map(|(_, e)| *e)
            .collect();
        // Longest path by relaxation over the acyclic forward edges (n rounds at most).
        let mut layer = vec![0usize; n];
        for _ in 0..n {
            let mut changed = false;
            for e in &forward {
                if layer[e.to] < layer[e.from] + 1 {
                    layer[e.to] = layer[e.from] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // A component no edge reaches (an unwired consumer, say) sits in its kind's usual column.
        let touched: BTreeSet<usize> = self.edges.iter().flat_map(|e| [e.from, e.to]).collect();
        for (i, node) in self.nodes.iter().enumerate() {
            if !touched.contains(&i) {
                layer[i] = usize::from(node.kind.rank());
            }
        }
        let layers = layer.iter().max().map_or(0, |m| m + 1);
        let mut rows: Vec<f32> = vec![0.0; n];
        for l in 0..layers {
            let mut members: Vec<(f32, u8, usize)> = (0..n)
                .filter(|&i| layer[i] == l)
                .map(|i| {
                    let preds: Vec<f32> = forward
                        .iter()
                        .filter(|e| e.to == i && layer[e.from] < l)
                        .map(|e| rows[e.from])
                        .collect();
                    let key = if preds.is_empty() {
                        i as f32
                    } else {
                        preds.iter().sum::<f32>() / preds.len() as f32
                    };
                    (key, self.nodes[i].kind.rank(), i)
                })
                .collect();
            members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let count = members.len() as f32;
            for (row, (_, _, i)) in members.into_iter().enumerate() {
                rows[i] = row as f32 - (count - 1.0) / 2.0;
            }
        }
        for (i, node) in self.nodes.iter_mut().enumerate() {
            node.layer = layer[i];
            node.auto_pos = [layer[i] as f32 * LAYER_GAP, rows[i] * ROW_GAP];
        }
    }

    /// Where a node is drawn: its saved position, else the automatic one.
    #[must_use]
    pub fn position(&self, s: &Scenario, node: usize) -> [f32; 2] {
        let n = &self.nodes[node];
        s.layout.get(&n.id).copied().unwrap_or(n.auto_pos)
    }
}

/// One state of a state machine, as an opened machine lists it on the canvas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRow {
    /// Its name in the run's figures: `Fan/0/Ship` inside a Parallel's first branch, `Map/Ship`
    /// inside a Map's iterator (the engine's `StateResult::state`).
    pub name: String,
    /// Its own name (the key in `States`).
    pub label: String,
    /// 0 for the machine's states, one more per enclosing Parallel or Map.
    pub depth: usize,
    /// The ASL `Type`.
    pub kind: &'static str,
    /// Is it its (sub-)machine's `StartAt`?
    pub start: bool,
}

/// The states of an ASL definition in the order written, each Parallel's branches and each
/// Map's iterator listed under it.
///
/// # Errors
/// The first problem of a definition that does not parse.
pub fn state_rows(definition: &Value) -> Result<Vec<StateRow>, String> {
    fn walk(def: &Definition, prefix: &str, depth: usize, out: &mut Vec<StateRow>) {
        for (i, s) in def.states.iter().enumerate() {
            out.push(StateRow {
                name: format!("{prefix}{}", s.name),
                label: s.name.clone(),
                depth,
                kind: s.kind.type_name(),
                start: i == def.start,
            });
            match &s.kind {
                StateKind::Parallel { branches } => {
                    for (b, branch) in branches.iter().enumerate() {
                        walk(branch, &format!("{prefix}{}/{b}/", s.name), depth + 1, out);
                    }
                }
                StateKind::Map { iterator, .. } => {
                    walk(iterator, &format!("{prefix}{}/", s.name), depth + 1, out);
                }
                _ => {}
            }
        }
    }
    let def = Definition::parse(definition).map_err(|errs| {
        errs.first().map_or_else(
            || "invalid definition".to_owned(),
            |e| {
                if e.path.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.path, e.message)
                }
            },
        )
    })?;
    let mut out = Vec::new();
    walk(&def, "", 0, &mut out);
    Ok(out)
}

/// The assumptions an import made, by the component (or rule) they concern: the items
/// ``- `id`: text`` of the **Assumptions** list `eventflow import` writes into a scenario's
/// description (`import::mapping`'s `finish`). Assumptions about no one component are left out.
#[must_use]
pub fn assumptions_by_component(description: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut lines = description
        .lines()
        .skip_while(|l| l.trim() != "**Assumptions**");
    if lines.next().is_none() {
        return out;
    }
    for line in lines.map(str::trim).skip_while(|l| l.is_empty()) {
        let Some(item) = line.strip_prefix("- ") else {
            break;
        };
        if let Some(rest) = item.strip_prefix('`')
            && let Some((id, text)) = rest.split_once("`: ")
        {
            out.entry(id.to_owned())
                .or_default()
                .push(text.trim().to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FANOUT: &str = r#"{ "name": "t", "duration": "1m",
        "producers": [ { "id": "shop", "to": "bus", "rate": 1 } ],
        "buses": [ { "id": "bus", "rules": [
            { "id": "all", "pattern": { "source": ["shop"] },
              "targets": [ { "to": "q" }, { "to": "direct", "dead_letter": "dlq" } ] } ] } ],
        "queues": [ { "id": "q", "dead_letter": "dlq", "max_receives": 3 }, { "id": "dlq" } ],
        "consumers": [
            { "id": "worker", "from": "q", "service_time": { "constant": "10ms" },
              "emits": [ { "to": "bus" } ] },
            { "id": "direct", "service_time": { "constant": "10ms" } } ] }"#;

    fn graph() -> (Scenario, Graph) {
        let s: Scenario = serde_json::from_str(FANOUT).unwrap();
        let g = Graph::build(&s);
        (s, g)
    }

    #[test]
    fn layers_follow_the_flow_and_dlqs_come_last() {
        let (_, g) = graph();
        let layer = |id: &str| g.nodes[g.find(id).unwrap()].layer;
        assert_eq!(layer("shop"), 0);
        assert_eq!(layer("bus"), 1);
        assert_eq!(layer("all"), 2);
        assert_eq!(layer("q"), 3);
        assert_eq!(layer("direct"), 3);
        assert_eq!(layer("worker"), 4);
        assert_eq!(layer("dlq"), 4);
        assert_eq!(g.nodes[g.find("dlq").unwrap()].kind, NodeKind::Dlq);
        // The emit back to the bus is drawn but does not stretch the layout.
        assert!(g.edges.iter().any(|e| e.kind == EdgeKind::Emit));
    }

    #[test]
    fn saved_positions_win_and_nodes_do_not_overlap() {
        let (mut s, g) = graph();
        for (i, a) in g.nodes.iter().enumerate() {
            for b in &g.nodes[i + 1..] {
                assert_ne!(a.auto_pos, b.auto_pos, "{} and {} overlap", a.id, b.id);
            }
        }
        s.layout.insert("q".into(), [5.0, 6.0]);
        assert_eq!(g.position(&s, g.find("q").unwrap()), [5.0, 6.0]);
    }

    #[test]
    fn state_rows_nest_branches_under_their_state_with_the_engines_names() {
        let def = serde_json::json!({ "StartAt": "Fan", "States": {
            "Fan": { "Type": "Parallel", "Next": "Done", "Branches": [
                { "StartAt": "Ship", "States": { "Ship": { "Type": "Pass", "End": true } } },
                { "StartAt": "Bill", "States": { "Bill": { "Type": "Pass", "End": true } } } ] },
            "Done": { "Type": "Succeed" } } });
        let rows = state_rows(&def).unwrap();
        let names: Vec<(&str, usize, &str, bool)> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.depth, r.kind, r.start))
            .collect();
        assert_eq!(
            names,
            [
                ("Fan", 0, "Parallel", true),
                ("Fan/0/Ship", 1, "Pass", true),
                ("Fan/1/Bill", 1, "Pass", true),
                ("Done", 0, "Succeed", false),
            ]
        );
        assert!(state_rows(&serde_json::json!({ "States": {} })).is_err());
    }

    #[test]
    fn assumptions_are_read_per_component_from_the_import_description() {
        let d = "Imported from `t.yaml` by `eventflow import`.\n\n**Assumptions**\n\n\
                 - `Orders`: rate 1/s assumed\n- `Orders`: service time 100ms assumed\n\
                 - a parameter had no default\n- `Queue`: visibility 30s\n\nMore text\n- `Not`: this";
        let a = assumptions_by_component(d);
        assert_eq!(
            a.get("Orders").map(Vec::len),
            Some(2),
            "both of Orders' assumptions: {a:?}"
        );
        assert_eq!(a["Queue"], ["visibility 30s"]);
        assert!(
            !a.contains_key("Not"),
            "the list ends at its first non-item"
        );
        assert!(assumptions_by_component("no list here").is_empty());
    }
}
