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

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::defaults::effective_template;
use super::{EmitOn, Kind, Scenario, TimelineAction};
use crate::pattern::Pattern;

impl Kind {
    /// Every kind, in file order.
    pub const ALL: [Kind; 5] = [
        Kind::Producer,
        Kind::Bus,
        Kind::Queue,
        Kind::Stream,
        Kind::Consumer,
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

/// A place in a scenario where a component is named by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Site {
    /// `producers[producer].to`: where a producer sends.
    ProducerTo {
        /// Producer index.
        producer: usize,
    },
    /// `buses[bus].rules[rule].targets[target].to`: a rule target.
    TargetTo {
        /// Bus index.
        bus: usize,
        /// Rule index within the bus.
        rule: usize,
        /// Target index within the rule.
        target: usize,
    },
    /// `buses[bus].rules[rule].targets[target].dead_letter`: a target's dead-letter queue.
    TargetDeadLetter {
        /// Bus index.
        bus: usize,
        /// Rule index within the bus.
        rule: usize,
        /// Target index within the rule.
        target: usize,
    },
    /// `queues[queue].dead_letter`: a queue's redrive policy target.
    QueueDeadLetter {
        /// Queue index.
        queue: usize,
    },
    /// `consumers[consumer].from`: the queue or stream a consumer reads.
    ConsumerFrom {
        /// Consumer index.
        consumer: usize,
    },
    /// `consumers[consumer].emits[emit].to`: where a consumer publishes.
    EmitTo {
        /// Consumer index.
        consumer: usize,
        /// Emit index within the consumer.
        emit: usize,
    },
    /// `faults[fault].target`: the component a fault window hits.
    FaultTarget {
        /// Fault index.
        fault: usize,
    },
    /// `timeline[entry].redrive`: the dead-letter queue a redrive empties.
    RedriveFrom {
        /// Timeline entry index.
        entry: usize,
    },
    /// `timeline[entry].to`: the queue a redrive moves messages back to.
    RedriveTo {
        /// Timeline entry index.
        entry: usize,
    },
    /// `timeline[entry].replay`: the archiving bus a replay re-publishes from.
    ReplayBus {
        /// Timeline entry index.
        entry: usize,
    },
}

/// What producers and consumers' `emits` send to.
pub const SINKS: &[Kind] = &[Kind::Bus, Kind::Queue, Kind::Stream];
/// What a rule target may name.
pub const TARGETS: &[Kind] = &[Kind::Consumer, Kind::Queue, Kind::Stream, Kind::Bus];
/// What a `dead_letter` or a redrive names.
pub const QUEUE: &[Kind] = &[Kind::Queue];
/// What a consumer may read (`from`).
pub const SOURCES: &[Kind] = &[Kind::Queue, Kind::Stream];
/// What a fault window may hit.
pub const FAULTABLE: &[Kind] = &[Kind::Consumer, Kind::Queue, Kind::Bus, Kind::Stream];
/// What a replay names.
pub const BUS: &[Kind] = &[Kind::Bus];

impl Site {
    /// The JSON path of the field, e.g. `consumers[2].from`.
    #[must_use]
    pub fn path(self) -> String {
        match self {
            Site::ProducerTo { producer } => format!("producers[{producer}].to"),
            Site::TargetTo { bus, rule, target } => {
                format!("buses[{bus}].rules[{rule}].targets[{target}].to")
            }
            Site::TargetDeadLetter { bus, rule, target } => {
                format!("buses[{bus}].rules[{rule}].targets[{target}].dead_letter")
            }
            Site::QueueDeadLetter { queue } => format!("queues[{queue}].dead_letter"),
            Site::ConsumerFrom { consumer } => format!("consumers[{consumer}].from"),
            Site::EmitTo { consumer, emit } => format!("consumers[{consumer}].emits[{emit}].to"),
            Site::FaultTarget { fault } => format!("faults[{fault}].target"),
            Site::RedriveFrom { entry } => format!("timeline[{entry}].redrive"),
            Site::RedriveTo { entry } => format!("timeline[{entry}].to"),
            Site::ReplayBus { entry } => format!("timeline[{entry}].replay"),
        }
    }

    /// The kinds of component this field may name.
    #[must_use]
    pub fn allowed(self) -> &'static [Kind] {
        match self {
            Site::ProducerTo { .. } | Site::EmitTo { .. } => SINKS,
            Site::TargetTo { .. } => TARGETS,
            Site::TargetDeadLetter { .. }
            | Site::QueueDeadLetter { .. }
            | Site::RedriveFrom { .. }
            | Site::RedriveTo { .. } => QUEUE,
            Site::ConsumerFrom { .. } => SOURCES,
            Site::FaultTarget { .. } => FAULTABLE,
            Site::ReplayBus { .. } => BUS,
        }
    }

    /// The allowed kinds in words, as messages say what the field must name ("a queue or stream").
    #[must_use]
    pub fn expects(self) -> &'static str {
        match self {
            Site::ProducerTo { .. } | Site::EmitTo { .. } => "a bus, queue or stream",
            Site::TargetTo { .. } | Site::FaultTarget { .. } => "a consumer, queue, stream or bus",
            Site::TargetDeadLetter { .. }
            | Site::QueueDeadLetter { .. }
            | Site::RedriveFrom { .. }
            | Site::RedriveTo { .. } => "a queue",
            Site::ConsumerFrom { .. } => "a queue or stream",
            Site::ReplayBus { .. } => "a bus",
        }
    }

    /// What the field is, in words (for the UI).
    #[must_use]
    pub fn role(self) -> &'static str {
        match self {
            Site::ProducerTo { .. } => "producer destination",
            Site::TargetTo { .. } => "rule target",
            Site::TargetDeadLetter { .. } => "target dead-letter queue",
            Site::QueueDeadLetter { .. } => "queue dead-letter queue",
            Site::ConsumerFrom { .. } => "consumer source",
            Site::EmitTo { .. } => "emit destination",
            Site::FaultTarget { .. } => "fault target",
            Site::RedriveFrom { .. } => "redrive source",
            Site::RedriveTo { .. } => "redrive destination",
            Site::ReplayBus { .. } => "replayed bus",
        }
    }

    /// The id written at this site in `s`, if the site exists and holds one.
    #[must_use]
    pub fn get(self, s: &Scenario) -> Option<&str> {
        Some(match self {
            Site::ProducerTo { producer } => &s.producers.get(producer)?.to,
            Site::TargetTo { bus, rule, target } => {
                &s.buses.get(bus)?.rules.get(rule)?.targets.get(target)?.to
            }
            Site::TargetDeadLetter { bus, rule, target } => s
                .buses
                .get(bus)?
                .rules
                .get(rule)?
                .targets
                .get(target)?
                .dead_letter
                .as_deref()?,
            Site::QueueDeadLetter { queue } => s.queues.get(queue)?.dead_letter.as_deref()?,
            Site::ConsumerFrom { consumer } => s.consumers.get(consumer)?.from.as_deref()?,
            Site::EmitTo { consumer, emit } => &s.consumers.get(consumer)?.emits.get(emit)?.to,
            Site::FaultTarget { fault } => &s.faults.get(fault)?.target,
            Site::RedriveFrom { entry } => match &s.timeline.get(entry)?.action {
                TimelineAction::Redrive { dlq, .. } => dlq,
                TimelineAction::Replay { .. } => return None,
            },
            Site::RedriveTo { entry } => match &s.timeline.get(entry)?.action {
                TimelineAction::Redrive { to, .. } => to,
                TimelineAction::Replay { .. } => return None,
            },
            Site::ReplayBus { entry } => match &s.timeline.get(entry)?.action {
                TimelineAction::Replay { bus, .. } => bus,
                TimelineAction::Redrive { .. } => return None,
            },
        })
    }

    /// The id written at this site, for editing (rename).
    pub fn get_mut(self, s: &mut Scenario) -> Option<&mut String> {
        Some(match self {
            Site::ProducerTo { producer } => &mut s.producers.get_mut(producer)?.to,
            Site::TargetTo { bus, rule, target } => {
                &mut s
                    .buses
                    .get_mut(bus)?
                    .rules
                    .get_mut(rule)?
                    .targets
                    .get_mut(target)?
                    .to
            }
            Site::TargetDeadLetter { bus, rule, target } => s
                .buses
                .get_mut(bus)?
                .rules
                .get_mut(rule)?
                .targets
                .get_mut(target)?
                .dead_letter
                .as_mut()?,
            Site::QueueDeadLetter { queue } => s.queues.get_mut(queue)?.dead_letter.as_mut()?,
            Site::ConsumerFrom { consumer } => s.consumers.get_mut(consumer)?.from.as_mut()?,
            Site::EmitTo { consumer, emit } => {
                &mut s.consumers.get_mut(consumer)?.emits.get_mut(emit)?.to
            }
            Site::FaultTarget { fault } => &mut s.faults.get_mut(fault)?.target,
            Site::RedriveFrom { entry } => match &mut s.timeline.get_mut(entry)?.action {
                TimelineAction::Redrive { dlq, .. } => dlq,
                TimelineAction::Replay { .. } => return None,
            },
            Site::RedriveTo { entry } => match &mut s.timeline.get_mut(entry)?.action {
                TimelineAction::Redrive { to, .. } => to,
                TimelineAction::Replay { .. } => return None,
            },
            Site::ReplayBus { entry } => match &mut s.timeline.get_mut(entry)?.action {
                TimelineAction::Replay { bus, .. } => bus,
                TimelineAction::Redrive { .. } => return None,
            },
        })
    }
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

/// A place in a scenario where an id is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdSite {
    /// `<section>[index].id` of a component.
    Component(Component),
    /// `buses[bus].rules[rule].id`.
    Rule {
        /// Bus index.
        bus: usize,
        /// Rule index within the bus.
        rule: usize,
    },
}

impl IdSite {
    /// The JSON path of the id, e.g. `buses[0].rules[1].id`.
    #[must_use]
    pub fn path(self) -> String {
        match self {
            IdSite::Component(c) => format!("{}[{}].id", c.kind.section(), c.index),
            IdSite::Rule { bus, rule } => format!("buses[{bus}].rules[{rule}].id"),
        }
    }

    /// The id defined here, for editing (rename).
    pub fn get_mut(self, s: &mut Scenario) -> Option<&mut String> {
        Some(match self {
            IdSite::Component(Component { kind, index }) => match kind {
                Kind::Producer => &mut s.producers.get_mut(index)?.id,
                Kind::Bus => &mut s.buses.get_mut(index)?.id,
                Kind::Queue => &mut s.queues.get_mut(index)?.id,
                Kind::Stream => &mut s.streams.get_mut(index)?.id,
                Kind::Consumer => &mut s.consumers.get_mut(index)?.id,
            },
            IdSite::Rule { bus, rule } => &mut s.buses.get_mut(bus)?.rules.get_mut(rule)?.id,
        })
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
    offsets: [usize; 5],
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
        for (i, f) in s.faults.iter().enumerate() {
            t.reference(Site::FaultTarget { fault: i }, &f.target);
        }
        for (i, entry) in s.timeline.iter().enumerate() {
            match &entry.action {
                TimelineAction::Redrive { dlq, to } => {
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
            }
        }

        // Dead-letter queues: the queues some `dead_letter` names (a queue's redrive policy or
        // a rule target's), as SQS and EventBridge define them.
        t.dead_letter = vec![false; s.queues.len()];
        for r in &t.references {
            if matches!(
                r.site,
                Site::QueueDeadLetter { .. } | Site::TargetDeadLetter { .. }
            ) && let Some(Component {
                kind: Kind::Queue,
                index,
            }) = r.resolved
            {
                t.dead_letter[index] = true;
            }
        }
        t.invoked.resize(s.consumers.len(), false);
        t
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
                Kind::Producer => {}
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

    /// The port of the engine's cycle finder gives the same loops. (Remove the comparison with
    /// `crate::sim::find_cycles` once the engine uses [`Topology::cycles`].)
    #[test]
    fn cycles_match_the_engines_finder() {
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
        let mut loops = 0;
        for s in &scenarios {
            let ours = Topology::new(s).cycles(s);
            assert_eq!(ours, crate::sim::find_cycles(s), "{}", s.name);
            loops += ours.len();
        }
        assert!(loops >= 2, "the comparison saw loops");
        assert_eq!(
            Topology::new(&scenarios[0]).cycles(&scenarios[0]),
            vec![vec!["echoer", "bus", "loop-q", "echoer"]]
        );
    }
}
