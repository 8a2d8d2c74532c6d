//! The scenario as a graph, written once: which ids name which components, every place a
//! scenario refers to a component by id, the edges events travel, which queues are dead-letter
//! queues, and the event routing loops.
//!
//! [`Topology::new`] reads a [`Scenario`] (valid or not) and is what the validator (reference
//! checks, unique ids), the lint (unread queues, uninvoked consumers, loops), the UI (canvas
//! graph, rename), the analysis (health signals) and the engine (id lookups, dead-letter
//! queues, the loop guard's cycles) consult, so a new component kind or reference field is added
//! here and every one of them sees it.
//!
//! ```text
//!   Scenario ─► Topology::new ─► nodes      id → Component { kind, index within its section }
//!                               references  Site (JSON path, allowed kinds, role) → id
//!                               ids         IdSite (component or rule id) → id
//!                               edges       producer→sink, bus→rule, rule→target, rule/queue→DLQ,
//!                                           source→consumer, consumer→emits, redrive DLQ→queue
//!                               DLQs        queues named as some `dead_letter`
//!                               cycles()    consumer → … → the same consumer, through rules
//! ```
//!
//! Ids are resolved the way the scenario's readers always have: an id names the first component
//! with that id in file order (producers, buses, queues, streams, consumers). Rules are not
//! components (nothing refers to a rule), but their ids share the namespace, so they are listed
//! too. A lookup of an unknown id gives `None`, never a default.
//!
//! Files: this one builds the graph and answers lookups; `site.rs` (reference and id sites, and
//! the kinds each may name), `cycles.rs` ([`Topology::cycles`]).

use std::collections::BTreeMap;

use super::{EmitOn, Kind, Scenario, TimelineAction};

mod cycles;
mod site;

pub use site::{
    BUS, CONSUMER, FAULTABLE, IdSite, PIPE_TARGETS, QUEUE, SINKS, SOURCES, SUBSCRIBERS, Site,
    TARGETS,
};

impl Kind {
    /// Every kind, in file order.
    pub const ALL: [Kind; 8] = [
        Kind::Producer,
        Kind::Bus,
        Kind::Queue,
        Kind::Stream,
        Kind::Consumer,
        Kind::Topic,
        Kind::Pipe,
        Kind::StateMachine,
    ];

    /// The scenario section that lists components of this kind (`producers`, `buses`, …).
    #[must_use]
    pub fn section(self) -> &'static str {
        match self {
            Kind::Producer => "producers",
            Kind::Bus => "buses",
            Kind::Queue => "queues",
            Kind::Stream => "streams",
            Kind::Consumer => "consumers",
            Kind::Topic => "topics",
            Kind::Pipe => "pipes",
            Kind::StateMachine => "state_machines",
        }
    }
}

/// A component: its kind and its index within its section (`queues[index]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Component {
    /// What it is.
    pub kind: Kind,
    /// Position in its section of the scenario.
    pub index: usize,
}

/// One component, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its id.
    pub id: String,
    /// Its kind and index.
    pub component: Component,
}

/// One rule of a bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleNode {
    /// The rule's id.
    pub id: String,
    /// Index of its bus in `buses`.
    pub bus: usize,
    /// Index of the rule in its bus's `rules`.
    pub index: usize,
}

/// One reference: a site and the id written there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Where it is written.
    pub site: Site,
    /// The id it names.
    pub id: String,
    /// The component that id names, if any (of any kind: check [`Reference::is_allowed`]).
    pub resolved: Option<Component>,
}

impl Reference {
    /// Does it name an existing component of an allowed kind?
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        self.resolved
            .is_some_and(|c| self.site.allowed().contains(&c.kind))
    }
}

/// An end of an edge: a component or a rule (by index in [`Topology::rules`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// A component.
    Component(Component),
    /// A rule, by its index in [`Topology::rules`].
    Rule(usize),
}

/// What travels an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// Produced events: producer → bus, queue or stream.
    Send,
    /// A bus's events offered to one of its rules: bus → rule.
    Rule,
    /// Matched events: rule → target (consumer, queue, stream or bus).
    Target,
    /// Undeliverable events: rule → its target's dead-letter queue, or queue → the queue its
    /// redrive policy names.
    DeadLetter,
    /// Messages or records read: queue or stream → consumer.
    Read,
    /// Events a consumer publishes: consumer → bus, queue or stream.
    Emit(EmitOn),
    /// An operator's redrive: dead-letter queue → queue (a `timeline` entry).
    Redrive,
    /// A topic's copy to a subscriber: topic → queue, consumer or bus.
    Subscription,
    /// A pipe's enrichment call: pipe → consumer.
    Enrich,
    /// A state machine's Task: state machine → the function or service its `Resource` names.
    Task,
}

/// One edge whose ends both exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Where events come from.
    pub from: End,
    /// Where they go.
    pub to: End,
    /// What travels it.
    pub kind: EdgeKind,
    /// The reference that makes it (none for bus → rule).
    pub site: Option<Site>,
}

/// The graph of a scenario; see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    nodes: Vec<Node>,
    by_id: BTreeMap<String, Component>,
    offsets: [usize; 8],
    rules: Vec<RuleNode>,
    ids: Vec<(IdSite, String)>,
    references: Vec<Reference>,
    by_site: BTreeMap<Site, usize>,
    edges: Vec<Edge>,
    dead_letter: Vec<bool>,
    readers: BTreeMap<Component, Vec<usize>>,
    invoked: Vec<bool>,
}

/// An id that does not name a component of the kind asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("\"{id}\" is not {expected}")]
pub struct NotFound {
    /// The id looked up.
    pub id: String,
    /// What it had to name, in words.
    pub expected: String,
}

impl Topology {
    /// Reads the graph of `s`. Works on any scenario, valid or not: references to unknown ids
    /// are kept (unresolved) so the validator can report them.
    #[must_use]
    pub fn new(s: &Scenario) -> Self {
        let mut t = Topology::default();
        let counts = [
            s.producers.len(),
            s.buses.len(),
            s.queues.len(),
            s.streams.len(),
            s.consumers.len(),
            s.topics.len(),
            s.pipes.len(),
            s.state_machines.len(),
        ];
        let mut offset = 0;
        for (i, n) in counts.iter().enumerate() {
            t.offsets[i] = offset;
            offset += n;
        }
        for (id, kind) in s.components() {
            let component = Component {
                kind,
                index: t.nodes.len() - t.offsets[kind_slot(kind)],
            };
            t.by_id.entry(id.to_owned()).or_insert(component);
            t.nodes.push(Node {
                id: id.to_owned(),
                component,
            });
        }

        // Ids in the order the file defines them: each bus followed by its rules.
        for (i, p) in s.producers.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::Producer, i)), p.id.clone()));
        }
        for (i, b) in s.buses.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::Bus, i)), b.id.clone()));
            for (j, r) in b.rules.iter().enumerate() {
                t.ids.push((IdSite::Rule { bus: i, rule: j }, r.id.clone()));
                t.rules.push(RuleNode {
                    id: r.id.clone(),
                    bus: i,
                    index: j,
                });
            }
        }
        for (i, q) in s.queues.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::Queue, i)), q.id.clone()));
        }
        for (i, x) in s.streams.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::Stream, i)), x.id.clone()));
        }
        for (i, c) in s.consumers.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::Consumer, i)), c.id.clone()));
        }
        for (i, x) in s.topics.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::Topic, i)), x.id.clone()));
        }
        for (i, x) in s.pipes.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::Pipe, i)), x.id.clone()));
        }
        for (i, x) in s.state_machines.iter().enumerate() {
            t.ids
                .push((IdSite::Component(comp(Kind::StateMachine, i)), x.id.clone()));
        }

        // References and the edges they make, in file order.
        for (i, p) in s.producers.iter().enumerate() {
            let to = t.reference(Site::ProducerTo { producer: i }, &p.to);
            t.edge(
                Some(comp(Kind::Producer, i)),
                to,
                EdgeKind::Send,
                Some(Site::ProducerTo { producer: i }),
            );
        }
        let mut rule_no = 0;
        for (bi, b) in s.buses.iter().enumerate() {
            for (ri, r) in b.rules.iter().enumerate() {
                t.edges.push(Edge {
                    from: End::Component(comp(Kind::Bus, bi)),
                    to: End::Rule(rule_no),
                    kind: EdgeKind::Rule,
                    site: None,
                });
                for (ti, tg) in r.targets.iter().enumerate() {
                    let site = Site::TargetTo {
                        bus: bi,
                        rule: ri,
                        target: ti,
                    };
                    if let Some(to) = t.reference(site, &tg.to) {
                        t.edges.push(Edge {
                            from: End::Rule(rule_no),
                            to: End::Component(to),
                            kind: EdgeKind::Target,
                            site: Some(site),
                        });
                        if to.kind == Kind::Consumer {
                            t.invoked_mark(to.index, s.consumers.len());
                        }
                    }
                    if let Some(d) = &tg.dead_letter {
                        let site = Site::TargetDeadLetter {
                            bus: bi,
                            rule: ri,
                            target: ti,
                        };
                        if let Some(to) = t.reference(site, d) {
                            t.edges.push(Edge {
                                from: End::Rule(rule_no),
                                to: End::Component(to),
                                kind: EdgeKind::DeadLetter,
                                site: Some(site),
                            });
                        }
                    }
                }
                rule_no += 1;
            }
        }
        for (i, q) in s.queues.iter().enumerate() {
            if let Some(d) = &q.dead_letter {
                let site = Site::QueueDeadLetter { queue: i };
                let to = t.reference(site, d);
                t.edge(
                    Some(comp(Kind::Queue, i)),
                    to,
                    EdgeKind::DeadLetter,
                    Some(site),
                );
            }
        }
        for (i, c) in s.consumers.iter().enumerate() {
            if let Some(from) = &c.from {
                let site = Site::ConsumerFrom { consumer: i };
                let source = t.reference(site, from);
                if let Some(src) = source {
                    t.readers.entry(src).or_default().push(i);
                }
                t.edge(
                    source,
                    Some(comp(Kind::Consumer, i)),
                    EdgeKind::Read,
                    Some(site),
                );
            }
            for (j, e) in c.emits.iter().enumerate() {
                let site = Site::EmitTo {
                    consumer: i,
                    emit: j,
                };
                let to = t.reference(site, &e.to);
                t.edge(
                    Some(comp(Kind::Consumer, i)),
                    to,
                    EdgeKind::Emit(e.on),
                    Some(site),
                );
            }
        }
        t.flow_references(s);
        // Lambda destinations: a function's async.on_failure / on_success and a stream
        // mapping's on_failure (the validator checks these ids).
        let mut failure_queues = Vec::new();
        for (i, c) in s.consumers.iter().enumerate() {
            let a = c.async_invoke.as_ref();
            let failures = [a.and_then(|a| a.on_failure.as_ref()), c.on_failure.as_ref()];
            for id in failures.into_iter().flatten() {
                let to = t.get(id);
                if let Some(Component {
                    kind: Kind::Queue,
                    index,
                }) = to
                {
                    failure_queues.push(index);
                }
                t.edge(
                    Some(comp(Kind::Consumer, i)),
                    to,
                    EdgeKind::DeadLetter,
                    None,
                );
            }
            if let Some(id) = a.and_then(|a| a.on_success.as_ref()) {
                let to = t.get(id);
                t.edge(
                    Some(comp(Kind::Consumer, i)),
                    to,
                    EdgeKind::Emit(EmitOn::Success),
                    None,
                );
            }
        }
        for (i, f) in s.faults.iter().enumerate() {
            t.reference(Site::FaultTarget { fault: i }, &f.target);
        }
        for (i, entry) in s.timeline.iter().enumerate() {
            match &entry.action {
                TimelineAction::Redrive { dlq, to, .. } => {
                    let from = t.reference(Site::RedriveFrom { entry: i }, dlq);
                    let to = t.reference(Site::RedriveTo { entry: i }, to);
                    t.edge(
                        from,
                        to,
                        EdgeKind::Redrive,
                        Some(Site::RedriveTo { entry: i }),
                    );
                }
                TimelineAction::Replay { bus, .. } => {
                    t.reference(Site::ReplayBus { entry: i }, bus);
                }
                TimelineAction::SetConcurrency { consumer, .. } => {
                    t.reference(Site::SetConsumer { entry: i }, consumer);
                }
            }
        }

        // Dead-letter queues: the queues some `dead_letter` names (a queue's redrive policy or
        // a rule target's), as SQS and EventBridge define them.
        t.dead_letter = vec![false; s.queues.len()];
        for r in &t.references {
            if matches!(
                r.site,
                Site::QueueDeadLetter { .. }
                    | Site::TargetDeadLetter { .. }
                    | Site::SubscriptionDeadLetter { .. }
                    | Site::PipeDeadLetter { .. }
            ) && let Some(Component {
                kind: Kind::Queue,
                index,
            }) = r.resolved
            {
                t.dead_letter[index] = true;
            }
        }
        for index in failure_queues {
            t.dead_letter[index] = true;
        }
        t.invoked.resize(s.consumers.len(), false);
        t
    }

    /// References and edges of topics, pipes and state machines (Task resources are edges
    /// only: they live inside the verbatim ASL definition, which the validator checks).
    fn flow_references(&mut self, s: &Scenario) {
        for (ti, topic) in s.topics.iter().enumerate() {
            for (si, sub) in topic.subscriptions.iter().enumerate() {
                let site = Site::SubscriptionTo { topic: ti, sub: si };
                let to = self.reference(site, &sub.to);
                self.edge(
                    Some(comp(Kind::Topic, ti)),
                    to,
                    EdgeKind::Subscription,
                    Some(site),
                );
                if let Some(c) = to.filter(|c| c.kind == Kind::Consumer) {
                    self.invoked_mark(c.index, s.consumers.len());
                }
                if let Some(d) = &sub.dead_letter {
                    let site = Site::SubscriptionDeadLetter { topic: ti, sub: si };
                    let to = self.reference(site, d);
                    self.edge(
                        Some(comp(Kind::Topic, ti)),
                        to,
                        EdgeKind::DeadLetter,
                        Some(site),
                    );
                }
            }
        }
        for (pi, p) in s.pipes.iter().enumerate() {
            let me = Some(comp(Kind::Pipe, pi));
            let site = Site::PipeSource { pipe: pi };
            let src = self.reference(site, &p.source);
            self.edge(src, me, EdgeKind::Read, Some(site));
            if let Some(e) = &p.enrichment {
                let site = Site::PipeEnrichment { pipe: pi };
                let to = self.reference(site, e);
                self.edge(me, to, EdgeKind::Enrich, Some(site));
                if let Some(c) = to.filter(|c| c.kind == Kind::Consumer) {
                    self.invoked_mark(c.index, s.consumers.len());
                }
            }
            let site = Site::PipeTarget { pipe: pi };
            let to = self.reference(site, &p.target);
            self.edge(me, to, EdgeKind::Target, Some(site));
            if let Some(c) = to.filter(|c| c.kind == Kind::Consumer) {
                self.invoked_mark(c.index, s.consumers.len());
            }
            if let Some(d) = &p.dead_letter {
                let site = Site::PipeDeadLetter { pipe: pi };
                let to = self.reference(site, d);
                self.edge(me, to, EdgeKind::DeadLetter, Some(site));
            }
        }
        for (mi, m) in s.state_machines.iter().enumerate() {
            let Ok(def) = super::asl::Definition::parse(&m.definition) else {
                continue;
            };
            let mut seen = std::collections::BTreeSet::new();
            for (_, resource) in def.tasks() {
                if let Some(c) = self.get(&resource).filter(|c| c.kind == Kind::Consumer)
                    && seen.insert(c.index)
                {
                    self.edge(
                        Some(comp(Kind::StateMachine, mi)),
                        Some(c),
                        EdgeKind::Task,
                        None,
                    );
                    self.invoked_mark(c.index, s.consumers.len());
                }
            }
        }
    }

    fn reference(&mut self, site: Site, id: &str) -> Option<Component> {
        let resolved = self.by_id.get(id).copied();
        self.by_site.insert(site, self.references.len());
        self.references.push(Reference {
            site,
            id: id.to_owned(),
            resolved,
        });
        resolved
    }

    fn edge(
        &mut self,
        from: Option<Component>,
        to: Option<Component>,
        kind: EdgeKind,
        site: Option<Site>,
    ) {
        if let (Some(from), Some(to)) = (from, to) {
            self.edges.push(Edge {
                from: End::Component(from),
                to: End::Component(to),
                kind,
                site,
            });
        }
    }

    fn invoked_mark(&mut self, consumer: usize, consumers: usize) {
        if self.invoked.len() < consumers {
            self.invoked.resize(consumers, false);
        }
        self.invoked[consumer] = true;
    }

    // ── Lookups ─────────────────────────────────────────────────────────────────────────────

    /// Every component in file order (producers, buses, queues, streams, consumers); the
    /// position in this list is the component's node index ([`Topology::node_index`]).
    #[must_use]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The component `id` names (the first with that id in file order), if any.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<Component> {
        self.by_id.get(id).copied()
    }

    /// The kind of component `id` names, if any.
    #[must_use]
    pub fn kind_of(&self, id: &str) -> Option<Kind> {
        self.get(id).map(|c| c.kind)
    }

    /// The index within its section of the component of `kind` that `id` names, if it names one.
    #[must_use]
    pub fn index_of(&self, id: &str, kind: Kind) -> Option<usize> {
        self.get(id).filter(|c| c.kind == kind).map(|c| c.index)
    }

    /// The component `id` names if it is of one of `kinds`, else an error saying what it had to be.
    ///
    /// # Errors
    /// [`NotFound`] when `id` names nothing, or a component of another kind.
    pub fn require(&self, id: &str, kinds: &[Kind]) -> Result<Component, NotFound> {
        self.get(id)
            .filter(|c| kinds.contains(&c.kind))
            .ok_or_else(|| NotFound {
                id: id.to_owned(),
                expected: kinds_in_words(kinds),
            })
    }

    /// The node index (position in [`Topology::nodes`], the results' file order) of a component.
    #[must_use]
    pub fn node_index(&self, c: Component) -> usize {
        self.offsets[kind_slot(c.kind)] + c.index
    }

    /// The node index of the component `id` names, if any.
    #[must_use]
    pub fn node_of(&self, id: &str) -> Option<usize> {
        self.get(id).map(|c| self.node_index(c))
    }

    /// The id of a component.
    #[must_use]
    pub fn id(&self, c: Component) -> &str {
        &self.nodes[self.node_index(c)].id
    }

    /// Every rule, bus by bus in file order.
    #[must_use]
    pub fn rules(&self) -> &[RuleNode] {
        &self.rules
    }

    /// The JSON path of the component or rule `id` names (`consumers[2]`, `buses[0].rules[1]`),
    /// as the validator's paths begin.
    #[must_use]
    pub fn path_of(&self, id: &str) -> Option<String> {
        if let Some(c) = self.get(id) {
            return Some(format!("{}[{}]", c.kind.section(), c.index));
        }
        self.rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| format!("buses[{}].rules[{}]", r.bus, r.index))
    }

    /// Is `id` taken, by a component or a rule?
    #[must_use]
    pub fn is_taken(&self, id: &str) -> bool {
        self.by_id.contains_key(id) || self.rules.iter().any(|r| r.id == id)
    }

    /// Every id definition (components and rules) in file order, each bus followed by its rules.
    #[must_use]
    pub fn ids(&self) -> &[(IdSite, String)] {
        &self.ids
    }

    /// Every reference to a component, in file order.
    #[must_use]
    pub fn references(&self) -> &[Reference] {
        &self.references
    }

    /// The reference written at `site`, if the scenario has that field.
    #[must_use]
    pub fn reference_at(&self, site: Site) -> Option<&Reference> {
        self.by_site.get(&site).map(|&i| &self.references[i])
    }

    /// Every edge whose ends both exist, in file order.
    #[must_use]
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    // ── What the edges mean ─────────────────────────────────────────────────────────────────

    /// Is `queues[queue]` a dead-letter queue: named as the `dead_letter` of a queue's redrive
    /// policy or of a rule target? The one definition, used by the engine (DLQ depth series),
    /// the health grading, the canvas and the lint.
    #[must_use]
    pub fn is_dead_letter_queue(&self, queue: usize) -> bool {
        self.dead_letter.get(queue).copied().unwrap_or(false)
    }

    /// Is the component `id` names a dead-letter queue?
    #[must_use]
    pub fn is_dead_letter_id(&self, id: &str) -> bool {
        self.index_of(id, Kind::Queue)
            .is_some_and(|q| self.is_dead_letter_queue(q))
    }

    /// The consumers (indexes) reading a queue or stream, in file order.
    #[must_use]
    pub fn readers(&self, source: Component) -> &[usize] {
        self.readers.get(&source).map_or(&[], Vec::as_slice)
    }

    /// Does some consumer read the component `id` names?
    #[must_use]
    pub fn is_read(&self, id: &str) -> bool {
        self.get(id).is_some_and(|c| !self.readers(c).is_empty())
    }

    /// Is `consumers[consumer]` a rule target (invoked directly)?
    #[must_use]
    pub fn is_invoked(&self, consumer: usize) -> bool {
        self.invoked.get(consumer).copied().unwrap_or(false)
    }
}

fn comp(kind: Kind, index: usize) -> Component {
    Component { kind, index }
}

fn kind_slot(kind: Kind) -> usize {
    match kind {
        Kind::Producer => 0,
        Kind::Bus => 1,
        Kind::Queue => 2,
        Kind::Stream => 3,
        Kind::Consumer => 4,
        Kind::Topic => 5,
        Kind::Pipe => 6,
        Kind::StateMachine => 7,
    }
}

/// "a queue", "a queue or stream", "a bus, queue or stream".
fn kinds_in_words(kinds: &[Kind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    match names.as_slice() {
        [] => "a component".to_owned(),
        [one] => format!("a {one}"),
        [init @ .., last] => format!("a {} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reference field once, two of them dangling.
    const ALL_SITES: &str = r#"{ "name": "t", "duration": "1m",
        "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
        "buses": [ { "id": "bus", "archive": true, "rules": [
            { "id": "r", "pattern": { "source": ["x"] },
              "targets": [ { "to": "direct", "dead_letter": "dlq" }, { "to": "q" } ] } ] } ],
        "queues": [ { "id": "q", "dead_letter": "dlq", "max_receives": 3 }, { "id": "dlq" },
                    { "id": "unread" } ],
        "streams": [ { "id": "s", "partitions": 2 } ],
        "consumers": [
            { "id": "direct", "service_time": { "constant": "1ms" } },
            { "id": "worker", "from": "q", "service_time": { "constant": "1ms" },
              "emits": [ { "to": "s" }, { "to": "nowhere" } ] },
            { "id": "reader", "from": "s", "service_time": { "constant": "1ms" } } ],
        "faults": [ { "target": "worker", "from": "1s", "to": "2s", "kind": "outage" } ],
        "timeline": [ { "at": "30s", "redrive": "dlq", "to": "q" },
                      { "at": "40s", "replay": "bus", "from": "0s", "to": "10s" },
                      { "at": "50s", "redrive": "gone", "to": "q" } ] }"#;

    fn scenario(text: &str) -> Scenario {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn ids_resolve_to_kind_and_index_and_unknown_ids_to_none() {
        let s = scenario(ALL_SITES);
        let t = Topology::new(&s);
        assert_eq!(
            t.get("dlq"),
            Some(Component {
                kind: Kind::Queue,
                index: 1
            })
        );
        assert_eq!(t.index_of("reader", Kind::Consumer), Some(2));
        assert_eq!(t.index_of("reader", Kind::Queue), None);
        assert_eq!(t.get("nowhere"), None);
        assert_eq!(t.node_of("nowhere"), None);
        let err = t.require("q", &[Kind::Queue, Kind::Stream]).map(|_| ());
        assert_eq!(err, Ok(()));
        let err = t.require("bus", &[Kind::Queue, Kind::Stream]).unwrap_err();
        assert_eq!(err.to_string(), "\"bus\" is not a queue or stream");
        assert!(t.is_taken("r") && !t.is_taken("free"));
        // Node indexes are the results' file order.
        for (i, (id, kind)) in s.components().into_iter().enumerate() {
            let c = t.get(id).unwrap();
            assert_eq!((c.kind, t.node_index(c), t.id(c)), (kind, i, id));
        }
    }

    #[test]
    fn every_reference_site_is_listed_in_file_order_with_its_path() {
        let s = scenario(ALL_SITES);
        let t = Topology::new(&s);
        let refs: Vec<(String, &str, bool)> = t
            .references()
            .iter()
            .map(|r| (r.site.path(), r.id.as_str(), r.is_allowed()))
            .collect();
        let expected = [
            ("producers[0].to", "bus", true),
            ("buses[0].rules[0].targets[0].to", "direct", true),
            ("buses[0].rules[0].targets[0].dead_letter", "dlq", true),
            ("buses[0].rules[0].targets[1].to", "q", true),
            ("queues[0].dead_letter", "dlq", true),
            ("consumers[1].from", "q", true),
            ("consumers[1].emits[0].to", "s", true),
            ("consumers[1].emits[1].to", "nowhere", false),
            ("consumers[2].from", "s", true),
            ("faults[0].target", "worker", true),
            ("timeline[0].redrive", "dlq", true),
            ("timeline[0].to", "q", true),
            ("timeline[1].replay", "bus", true),
            ("timeline[2].redrive", "gone", false),
            ("timeline[2].to", "q", true),
        ];
        let expected: Vec<(String, &str, bool)> = expected
            .iter()
            .map(|(p, i, ok)| ((*p).to_owned(), *i, *ok))
            .collect();
        assert_eq!(refs, expected);
        for r in t.references() {
            assert_eq!(r.site.get(&s), Some(r.id.as_str()), "{}", r.site.path());
        }
        let ids: Vec<String> = t.ids().iter().map(|(site, _)| site.path()).collect();
        assert_eq!(
            ids[..3],
            ["producers[0].id", "buses[0].id", "buses[0].rules[0].id"]
        );
    }

    #[test]
    fn sites_can_be_edited_in_place() {
        let mut s = scenario(ALL_SITES);
        let sites: Vec<Site> = Topology::new(&s)
            .references()
            .iter()
            .map(|r| r.site)
            .collect();
        for site in sites {
            if let Some(id) = site.get_mut(&mut s) {
                id.push('!');
            }
        }
        assert_eq!(s.consumers[1].from.as_deref(), Some("q!"));
        assert_eq!(
            s.timeline[1].action,
            TimelineAction::Replay {
                bus: "bus!".into(),
                from: crate::model::Duration::ZERO,
                to: crate::model::Duration::from_secs(10)
            }
        );
    }

    #[test]
    fn dead_letter_queues_readers_and_invocations() {
        let s = scenario(ALL_SITES);
        let t = Topology::new(&s);
        assert!(!t.is_dead_letter_queue(0));
        assert!(t.is_dead_letter_queue(1));
        assert!(
            !t.is_dead_letter_queue(2),
            "unread is not named as a dead_letter"
        );
        assert!(t.is_dead_letter_id("dlq") && !t.is_dead_letter_id("worker"));
        assert!(t.is_read("q") && t.is_read("s") && !t.is_read("dlq"));
        assert_eq!(t.readers(t.get("q").unwrap()), &[1]);
        assert!(t.is_invoked(0) && !t.is_invoked(1));
    }

    #[test]
    fn edges_join_existing_ends_only() {
        let s = scenario(ALL_SITES);
        let t = Topology::new(&s);
        let name = |e: End| match e {
            End::Component(c) => t.id(c).to_owned(),
            End::Rule(r) => format!("rule {}", t.rules()[r].id),
        };
        let edges: Vec<(String, String, EdgeKind)> = t
            .edges()
            .iter()
            .map(|e| (name(e.from), name(e.to), e.kind))
            .collect();
        let e = |a: &str, b: &str, k| (a.to_owned(), b.to_owned(), k);
        assert_eq!(
            edges,
            vec![
                e("p", "bus", EdgeKind::Send),
                e("bus", "rule r", EdgeKind::Rule),
                e("rule r", "direct", EdgeKind::Target),
                e("rule r", "dlq", EdgeKind::DeadLetter),
                e("rule r", "q", EdgeKind::Target),
                e("q", "dlq", EdgeKind::DeadLetter),
                e("q", "worker", EdgeKind::Read),
                e("worker", "s", EdgeKind::Emit(EmitOn::Success)),
                e("s", "reader", EdgeKind::Read),
                e("dlq", "q", EdgeKind::Redrive),
            ]
        );
    }

    /// The cycle finder (the engine's loop guard and the lint both use it) finds the loops of
    /// the bundled lessons and of a lint case, and only those.
    #[test]
    fn cycles_are_found_once_each() {
        let lint = r#"{ "name": "lint", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1 } ],
            "buses": [ { "id": "bus", "rules": [
                { "id": "echo", "pattern": { "source": ["echo"] }, "targets": [ { "to": "loop-q" } ] },
                { "id": "other", "pattern": { "source": ["other"] }, "targets": [ { "to": "b" } ] } ] } ],
            "queues": [ { "id": "loop-q" } ],
            "consumers": [
                { "id": "echoer", "from": "loop-q", "service_time": { "constant": "1ms" },
                  "emits": [ { "to": "bus", "event": { "source": "echo" } } ] },
                { "id": "b", "service_time": { "constant": "1ms" },
                  "emits": [ { "to": "bus", "event": { "source": "b" } } ] } ] }"#;
        let mut scenarios = vec![scenario(lint), scenario(ALL_SITES)];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        for f in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            scenarios.push(serde_json::from_str(&text).unwrap());
        }
        let loops: Vec<Vec<String>> = scenarios
            .iter()
            .flat_map(|s| Topology::new(s).cycles(s))
            .collect();
        // The bundled feedback-loop lesson's loop (and no other bundled one), and the lint case's.
        assert!(
            loops.contains(&vec![
                "order-router".to_owned(),
                "trading-bus".to_owned(),
                "order-router".to_owned()
            ]),
            "{loops:?}"
        );
        let mut unique = loops.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), loops.len(), "each cycle once: {loops:?}");
        assert_eq!(
            Topology::new(&scenarios[0]).cycles(&scenarios[0]),
            vec![vec!["echoer", "bus", "loop-q", "echoer"]]
        );
    }
}
