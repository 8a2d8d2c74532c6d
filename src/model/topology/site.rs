//! Where a scenario names components: every reference field ([`Site`]), with its JSON path, the
//! kinds it may name and its role, and every id definition ([`IdSite`]); both can read and
//! edit the field in place, which is how the validator reports and the GUI renames.

use super::Component;
use crate::model::{Kind, Scenario, TimelineAction};

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
    /// `timeline[entry].set`: the consumer whose concurrency a `set` entry changes.
    SetConsumer {
        /// Timeline entry index.
        entry: usize,
    },
    /// `topics[topic].subscriptions[sub].to`: a subscriber.
    SubscriptionTo {
        /// Topic index.
        topic: usize,
        /// Subscription index within the topic.
        sub: usize,
    },
    /// `topics[topic].subscriptions[sub].dead_letter`: a subscription's dead-letter queue.
    SubscriptionDeadLetter {
        /// Topic index.
        topic: usize,
        /// Subscription index within the topic.
        sub: usize,
    },
    /// `pipes[pipe].source`: the queue or stream a pipe reads.
    PipeSource {
        /// Pipe index.
        pipe: usize,
    },
    /// `pipes[pipe].enrichment`: the function or service a pipe calls on the way.
    PipeEnrichment {
        /// Pipe index.
        pipe: usize,
    },
    /// `pipes[pipe].target`: where a pipe delivers.
    PipeTarget {
        /// Pipe index.
        pipe: usize,
    },
    /// `pipes[pipe].dead_letter`: a pipe's dead-letter queue.
    PipeDeadLetter {
        /// Pipe index.
        pipe: usize,
    },
}

/// What producers and consumers' `emits` send to.
pub const SINKS: &[Kind] = &[
    Kind::Bus,
    Kind::Queue,
    Kind::Stream,
    Kind::Topic,
    Kind::StateMachine,
];
/// What a rule target may name.
pub const TARGETS: &[Kind] = &[
    Kind::Consumer,
    Kind::Queue,
    Kind::Stream,
    Kind::Bus,
    Kind::Topic,
    Kind::StateMachine,
];
/// What a topic subscription may name (SNS protocols: SQS, Lambda, HTTP/S, and `EventBridge`
/// through a rule-less bus target).
pub const SUBSCRIBERS: &[Kind] = &[Kind::Queue, Kind::Consumer, Kind::Bus];
/// What a pipe enrichment may name (a function or a service).
pub const CONSUMER: &[Kind] = &[Kind::Consumer];
/// What a pipe may deliver to.
pub const PIPE_TARGETS: &[Kind] = &[
    Kind::Bus,
    Kind::Queue,
    Kind::Stream,
    Kind::Topic,
    Kind::Consumer,
    Kind::StateMachine,
];
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
            Site::SetConsumer { entry } => format!("timeline[{entry}].set"),
            Site::SubscriptionTo { topic, sub } => {
                format!("topics[{topic}].subscriptions[{sub}].to")
            }
            Site::SubscriptionDeadLetter { topic, sub } => {
                format!("topics[{topic}].subscriptions[{sub}].dead_letter")
            }
            Site::PipeSource { pipe } => format!("pipes[{pipe}].source"),
            Site::PipeEnrichment { pipe } => format!("pipes[{pipe}].enrichment"),
            Site::PipeTarget { pipe } => format!("pipes[{pipe}].target"),
            Site::PipeDeadLetter { pipe } => format!("pipes[{pipe}].dead_letter"),
        }
    }

    /// The kinds of component this field may name.
    #[must_use]
    pub fn allowed(self) -> &'static [Kind] {
        match self {
            Site::ProducerTo { .. } => SINKS,
            // `emits` straight to a function invokes it asynchronously (format version 2).
            Site::TargetTo { .. } | Site::EmitTo { .. } => TARGETS,
            Site::TargetDeadLetter { .. }
            | Site::QueueDeadLetter { .. }
            | Site::RedriveFrom { .. }
            | Site::RedriveTo { .. }
            | Site::SubscriptionDeadLetter { .. }
            | Site::PipeDeadLetter { .. } => QUEUE,
            Site::ConsumerFrom { .. } | Site::PipeSource { .. } => SOURCES,
            Site::FaultTarget { .. } => FAULTABLE,
            Site::ReplayBus { .. } => BUS,
            Site::SubscriptionTo { .. } => SUBSCRIBERS,
            Site::PipeEnrichment { .. } | Site::SetConsumer { .. } => CONSUMER,
            Site::PipeTarget { .. } => PIPE_TARGETS,
        }
    }

    /// The allowed kinds in words, as messages say what the field must name ("a queue or stream").
    #[must_use]
    pub fn expects(self) -> &'static str {
        match self {
            Site::ProducerTo { .. } => "a bus, queue, stream, topic or state machine",
            Site::TargetTo { .. } | Site::EmitTo { .. } => {
                "a consumer, queue, stream, bus, topic or state machine"
            }
            Site::FaultTarget { .. } => "a consumer, queue, stream or bus",
            Site::TargetDeadLetter { .. }
            | Site::QueueDeadLetter { .. }
            | Site::RedriveFrom { .. }
            | Site::RedriveTo { .. }
            | Site::SubscriptionDeadLetter { .. }
            | Site::PipeDeadLetter { .. } => "a queue",
            Site::ConsumerFrom { .. } | Site::PipeSource { .. } => "a queue or stream",
            Site::ReplayBus { .. } => "a bus",
            Site::SetConsumer { .. } => "a consumer",
            Site::SubscriptionTo { .. } => "a queue, consumer or bus",
            Site::PipeEnrichment { .. } => "a consumer (function or service)",
            Site::PipeTarget { .. } => "a bus, queue, stream, topic, consumer or state machine",
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
            Site::SetConsumer { .. } => "consumer whose concurrency changes",
            Site::SubscriptionTo { .. } => "subscriber",
            Site::SubscriptionDeadLetter { .. } => "subscription dead-letter queue",
            Site::PipeSource { .. } => "pipe source",
            Site::PipeEnrichment { .. } => "pipe enrichment",
            Site::PipeTarget { .. } => "pipe target",
            Site::PipeDeadLetter { .. } => "pipe dead-letter queue",
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
                _ => return None,
            },
            Site::RedriveTo { entry } => match &s.timeline.get(entry)?.action {
                TimelineAction::Redrive { to, .. } => to,
                _ => return None,
            },
            Site::ReplayBus { entry } => match &s.timeline.get(entry)?.action {
                TimelineAction::Replay { bus, .. } => bus,
                _ => return None,
            },
            Site::SetConsumer { entry } => match &s.timeline.get(entry)?.action {
                TimelineAction::SetConcurrency { consumer, .. } => consumer,
                _ => return None,
            },
            Site::SubscriptionTo { topic, sub } => &s.topics.get(topic)?.subscriptions.get(sub)?.to,
            Site::SubscriptionDeadLetter { topic, sub } => s
                .topics
                .get(topic)?
                .subscriptions
                .get(sub)?
                .dead_letter
                .as_deref()?,
            Site::PipeSource { pipe } => &s.pipes.get(pipe)?.source,
            Site::PipeEnrichment { pipe } => s.pipes.get(pipe)?.enrichment.as_deref()?,
            Site::PipeTarget { pipe } => &s.pipes.get(pipe)?.target,
            Site::PipeDeadLetter { pipe } => s.pipes.get(pipe)?.dead_letter.as_deref()?,
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
                _ => return None,
            },
            Site::RedriveTo { entry } => match &mut s.timeline.get_mut(entry)?.action {
                TimelineAction::Redrive { to, .. } => to,
                _ => return None,
            },
            Site::ReplayBus { entry } => match &mut s.timeline.get_mut(entry)?.action {
                TimelineAction::Replay { bus, .. } => bus,
                _ => return None,
            },
            Site::SetConsumer { entry } => match &mut s.timeline.get_mut(entry)?.action {
                TimelineAction::SetConcurrency { consumer, .. } => consumer,
                _ => return None,
            },
            Site::SubscriptionTo { topic, sub } => {
                &mut s.topics.get_mut(topic)?.subscriptions.get_mut(sub)?.to
            }
            Site::SubscriptionDeadLetter { topic, sub } => s
                .topics
                .get_mut(topic)?
                .subscriptions
                .get_mut(sub)?
                .dead_letter
                .as_mut()?,
            Site::PipeSource { pipe } => &mut s.pipes.get_mut(pipe)?.source,
            Site::PipeEnrichment { pipe } => s.pipes.get_mut(pipe)?.enrichment.as_mut()?,
            Site::PipeTarget { pipe } => &mut s.pipes.get_mut(pipe)?.target,
            Site::PipeDeadLetter { pipe } => s.pipes.get_mut(pipe)?.dead_letter.as_mut()?,
        })
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
                Kind::Topic => &mut s.topics.get_mut(index)?.id,
                Kind::Pipe => &mut s.pipes.get_mut(index)?.id,
                Kind::StateMachine => &mut s.state_machines.get_mut(index)?.id,
            },
            IdSite::Rule { bus, rule } => &mut s.buses.get_mut(bus)?.rules.get_mut(rule)?.id,
        })
    }
}
