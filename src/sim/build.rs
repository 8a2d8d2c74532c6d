//! Compiling a validated scenario into an engine: ids resolved to typed indices (an unknown id
//! is an error, never a default), each component compiled by its own file's `compile`, then the
//! links between them (who reads which queue or stream, which queues are dead-letter queues)
//! and the first events (arrivals, fault windows, timeline entries).

use std::sync::Arc;

use serde_json::Value;

use super::bus::{BusRt, TargetRt};
use super::clock::{Ev, EventQueue};
use super::consumer::{ConsumerRt, EmitRt, Source};
use super::engine::{DEFAULT_MAX_EVENTS, DEFAULT_MAX_MESSAGES, Dest, Engine};
use super::faults::FaultRt;
use super::ids::{Id, NodeId, QueueId, Table};
use super::ledger::Conservation;
use super::message::Messages;
use super::producer::ProducerRt;
use super::queue::QueueRt;
use super::state_machine::{MachineRt, SmRuntime};
use super::stats::NodeStats;
use super::stream::StreamRt;
use crate::metrics::{Latency, SeriesRecorder};
use crate::model::topology::Topology;
use crate::model::{Kind, Scenario};
use crate::pattern::MatchScratch;

/// Component ids resolved through the scenario's one [`Topology`].
struct Ids<'a> {
    topology: &'a Topology,
    /// Number of buses: topics' run-time routers follow them in the bus table.
    buses: usize,
}

impl Ids<'_> {
    fn dest(&self, id: &str) -> Result<Dest, String> {
        let c = self
            .topology
            .require(
                id,
                &[
                    Kind::Bus,
                    Kind::Queue,
                    Kind::Stream,
                    Kind::Consumer,
                    Kind::Topic,
                    Kind::StateMachine,
                ],
            )
            .map_err(|e| e.to_string())?;
        Ok(match c.kind {
            Kind::Bus => Dest::Bus(Id::from_index(c.index)),
            // A topic runs as a bus after the scenario's buses (see `sim::topic`).
            Kind::Topic => Dest::Bus(Id::from_index(self.buses + c.index)),
            Kind::Queue => Dest::Queue(Id::from_index(c.index)),
            Kind::Stream => Dest::Stream(Id::from_index(c.index)),
            Kind::Consumer => Dest::Consumer(Id::from_index(c.index)),
            Kind::StateMachine => Dest::Machine(Id::from_index(c.index)),
            // `require` admits only the kinds above.
            other => return Err(format!("\"{id}\" is a {other}, which is not a destination")),
        })
    }

    fn node(&self, id: &str) -> Result<NodeId, String> {
        self.topology
            .node_of(id)
            .map(NodeId::from_index)
            .ok_or_else(|| format!("unknown component \"{id}\""))
    }

    fn queue(&self, id: &str) -> Result<QueueId, String> {
        self.topology
            .require(id, &[Kind::Queue])
            .map(|c| QueueId::from_index(c.index))
            .map_err(|e| e.to_string())
    }
}

impl Engine {
    /// Compiles a validated scenario. `seed` overrides the scenario's.
    ///
    /// # Errors
    /// A message when the scenario cannot be compiled (it should have been validated first).
    pub fn new(s: &Scenario, seed: u64, series_buckets: u32) -> Result<Self, String> {
        let warmup = s.warmup.0;
        let end = s.duration.0;
        let topology = Topology::new(s);
        let ids = Ids {
            topology: &topology,
            buses: s.buses.len(),
        };
        let mut stats: Table<NodeId, NodeStats> = topology
            .nodes()
            .iter()
            .map(|n| NodeStats::new(&n.id, n.component.kind, warmup))
            .collect();

        let mut producers = Table::with_capacity(s.producers.len());
        for p in &s.producers {
            producers.push(ProducerRt::compile(
                p,
                ids.node(&p.id)?,
                ids.dest(&p.to)?,
                seed,
            )?);
        }

        let mut targets = Table::new();
        let mut buses = Table::with_capacity(s.buses.len());
        for (bi, b) in s.buses.iter().enumerate() {
            let mut rule_targets = Vec::with_capacity(b.rules.len());
            for r in &b.rules {
                let mut ts = Vec::with_capacity(r.targets.len());
                for t in &r.targets {
                    let dlq = t.dead_letter.as_deref().map(|q| ids.queue(q)).transpose()?;
                    let target =
                        TargetRt::compile(t, r, Id::from_index(bi), ids.dest(&t.to)?, dlq)?;
                    ts.push(targets.push(target));
                }
                rule_targets.push(ts);
            }
            buses.push(BusRt::compile(b, ids.node(&b.id)?, rule_targets, seed)?);
        }
        for (ti, t) in s.topics.iter().enumerate() {
            let mut subs = Vec::with_capacity(t.subscriptions.len());
            for sub in &t.subscriptions {
                let dlq = sub
                    .dead_letter
                    .as_deref()
                    .map(|q| ids.queue(q))
                    .transpose()?;
                let service = topology
                    .index_of(&sub.to, Kind::Consumer)
                    .and_then(|c| s.consumers.get(c))
                    .is_some_and(|c| c.kind_in_force() == crate::model::ConsumerKind::Service);
                subs.push((ids.dest(&sub.to)?, dlq, service));
            }
            let bus = Id::from_index(s.buses.len() + ti);
            let (rt, ts) = super::topic::compile(t, ids.node(&t.id)?, bus, &subs, seed)?;
            let rule_targets = ts.into_iter().map(|x| vec![targets.push(x)]).collect();
            buses.push(BusRt { rule_targets, ..rt });
        }

        let mut queues: Table<QueueId, QueueRt> = Table::with_capacity(s.queues.len());
        for q in &s.queues {
            let dlq = q.dead_letter.as_deref().map(|d| ids.queue(d)).transpose()?;
            queues.push(QueueRt::compile(q, ids.node(&q.id)?, dlq, seed));
        }

        let mut streams = Table::with_capacity(s.streams.len());
        for st in &s.streams {
            streams.push(StreamRt::compile(st, ids.node(&st.id)?));
        }

        let mut consumers = Table::with_capacity(s.consumers.len());
        for (ci, c) in s.consumers.iter().enumerate() {
            let me = Id::from_index(ci);
            let (source, source_key) = match c.from.as_deref().map(|f| ids.dest(f)).transpose()? {
                None => (Source::Direct, None),
                Some(Dest::Queue(q)) => {
                    queues[q].consumers.push(me);
                    (Source::Queue(q), queues[q].group_path.clone())
                }
                Some(Dest::Stream(si)) => {
                    let group = streams[si].add_group(
                        me,
                        c.parallelization_factor.unwrap_or(1),
                        c.batch_size_in_force(s.source_kind(c)),
                    );
                    (
                        Source::Stream { stream: si, group },
                        streams[si].key_path.clone(),
                    )
                }
                Some(_) => {
                    return Err(format!(
                        "consumer {} reads neither a queue nor a stream",
                        c.id
                    ));
                }
            };
            let mut emits = Vec::with_capacity(c.emits.len());
            for e in &c.emits {
                emits.push(EmitRt::compile(e, &c.id, ids.dest(&e.to)?)?);
            }
            let node = ids.node(&c.id)?;
            stats[node].concurrency = c.concurrency;
            let mut rt =
                ConsumerRt::compile(c, s.source_kind(c), node, source, emits, source_key, seed)?;
            if source == Source::Direct && c.kind_in_force() == crate::model::ConsumerKind::Function
            {
                let a = c.async_invoke.as_ref();
                let dest = |d: Option<&String>| d.map(|d| ids.dest(d)).transpose();
                rt.make_async(
                    c,
                    dest(a.and_then(|a| a.on_failure.as_ref()))?,
                    dest(a.and_then(|a| a.on_success.as_ref()))?,
                );
            }
            rt.stream_on_failure = c.on_failure.as_deref().map(|d| ids.dest(d)).transpose()?;
            consumers.push(rt);
        }
        for p in &s.pipes {
            consumers.push(compile_pipe(
                p,
                s,
                &ids,
                &mut queues,
                &mut streams,
                &consumers,
                seed,
            )?);
        }
        let mut machines = Table::with_capacity(s.state_machines.len());
        for m in &s.state_machines {
            let consumer = |id: &str| {
                topology
                    .index_of(id, Kind::Consumer)
                    .map(super::ids::ConsumerId::from_index)
            };
            machines.push(MachineRt::compile(m, ids.node(&m.id)?, &consumer, seed)?);
        }
        let dlqs: Vec<QueueId> = queues
            .iter()
            .filter_map(|q| q.dlq)
            .chain(targets.iter().filter_map(|t: &TargetRt| t.dlq))
            .chain(consumers.iter().flat_map(|c| {
                let on_failure = c.asynchronous.as_deref().and_then(|a| a.on_failure);
                [on_failure, c.stream_on_failure]
                    .into_iter()
                    .filter_map(|d| match d {
                        Some(Dest::Queue(q)) => Some(q),
                        _ => None,
                    })
            }))
            .collect();
        for dlq in dlqs {
            queues[dlq].is_dlq = true;
        }

        link_payload_readers(&mut queues, &mut consumers, s, &ids);
        // Plain readers (every reader and pipe is known by now): see `ConsumerRt::plain_for`.
        for c in consumers.ids() {
            let plain = consumers[c].plain_for(c, &queues);
            consumers[c].plain = plain;
            if let (true, Source::Queue(q)) = (plain, consumers[c].source) {
                queues[q].plain_reader = Some(c);
            }
        }

        // A payload is only built per event when something reads it: a bus, topic, pipe or state
        // machine (patterns, filter policies, Choice), a FIFO queue (group key, content-based
        // deduplication), a stream's partition key, or a consumer (`fail_when`, `reject_when`,
        // `filter`, `order_key`, emits). A producer nothing reads from sends one shared payload:
        // its template's random stream (`rng_event`) feeds nothing else, so skipping the draws
        // changes no other figure. A traced run still builds each event (its journeys show it).
        let payload_read = !s.buses.is_empty()
            || !s.topics.is_empty()
            || !s.pipes.is_empty()
            || !s.state_machines.is_empty()
            || s.queues
                .iter()
                .any(|q| q.group_by.is_some() || q.kind == crate::model::QueueType::Fifo)
            || s.streams.iter().any(|x| x.key.is_some())
            || s.consumers.iter().any(|c| {
                !c.emits.is_empty()
                    || c.order_key.is_some()
                    || c.fail_when.is_some()
                    || c.reject_when.is_some()
                    || c.filter.is_some()
            });
        for p in producers.iter_mut() {
            if !payload_read {
                if p.template.is_static {
                    p.static_payload =
                        Some(Arc::new(p.template.generate(&mut p.rng_event, 0, None)));
                } else {
                    p.payload_unread = true;
                }
            }
        }

        let reads = super::reads::Reads::of(
            s,
            consumers
                .iter()
                .flat_map(|c| c.emits.iter().map(|e| &e.template)),
        );
        for t in producers.iter_mut().map(|p| &mut p.template).chain(
            consumers
                .iter_mut()
                .flat_map(|c| c.emits.iter_mut().map(|e| &mut e.template)),
        ) {
            t.prepare(reads.fields(false));
        }
        let mut constants = Vec::new();
        for t in producers.iter_mut().map(|p| &mut p.template).chain(
            consumers
                .iter_mut()
                .flat_map(|c| c.emits.iter_mut().map(|e| &mut e.template)),
        ) {
            t.share_constants(&mut constants);
        }

        let faults = s
            .faults
            .iter()
            .map(|f| FaultRt {
                fault: f.clone(),
                dest: ids.dest(&f.target).ok(),
            })
            .collect();
        let node_names: Vec<String> = stats.iter().map(|n| n.id.clone()).collect();
        let series = SeriesRecorder::new(node_names, series_buckets.max(1) as usize, end);

        let mut engine = Engine {
            now: 0,
            end,
            warmup,
            events: EventQueue::new(),
            events_processed: 0,
            msgs: Messages::new(),
            producers,
            buses,
            targets,
            queues,
            streams,
            consumers,
            machines,
            sm: SmRuntime::default(),
            faults,
            timeline: s.timeline.iter().cloned().collect(),
            stats,
            e2e: Latency::new(),
            cons: Conservation::default(),
            series,
            stopped: None,
            max_events: s
                .settings
                .as_ref()
                .and_then(|x| x.max_events)
                .unwrap_or(DEFAULT_MAX_EVENTS),
            max_messages: s
                .settings
                .as_ref()
                .and_then(|x| x.max_messages)
                .unwrap_or(DEFAULT_MAX_MESSAGES),
            max_deliveries: 0,
            max_steps: 0,
            steps_this_instant: 0,
            route_depth: 0,
            cycles: topology.cycles(s),
            scratch: MatchScratch::default(),
            matched: Vec::new(),
            batch_buf: Vec::new(),
            returned_buf: Vec::new(),
            call_results: Vec::new(),
            fail_buf: Vec::new(),
            batch_groups: Vec::new(),
            blocked_groups: Vec::new(),
            receive_groups: Vec::new(),
            moving: false,
            redrive_left: vec![0; s.timeline.len()],
            replays: Vec::new(),
            dirty_queues: Vec::new(),
            seed,
            released: Arc::new(Value::Null),
            times: super::envelope::TimeText::default(),
            reads,
            tracer: None,
            cause: super::journey::Cause::NONE,
        };
        engine.max_deliveries = engine
            .max_events
            .saturating_mul(super::engine::COPIES_PER_EVENT);
        engine.max_steps = engine
            .max_events
            .saturating_mul(super::engine::STEPS_PER_EVENT);
        for p in engine.producers.ids().collect::<Vec<_>>() {
            engine.arm_producer(p, 0);
        }
        for (i, f) in s.faults.iter().enumerate() {
            let fault = Id::from_index(i);
            engine
                .events
                .schedule(f.from.0, Ev::Fault { fault, start: true });
            engine.events.schedule(
                f.to.0,
                Ev::Fault {
                    fault,
                    start: false,
                },
            );
        }
        for (i, t) in s.timeline.iter().enumerate() {
            engine
                .events
                .schedule(t.at.0, Ev::Timeline(Id::from_index(i)));
        }
        Ok(engine)
    }
}

/// Compiles pipe `p` into the event source mapping that reads its source, with its enrichment
/// and target attached (see `sim::pipe`); it takes the next consumer id.
fn compile_pipe(
    p: &crate::model::Pipe,
    s: &Scenario,
    ids: &Ids<'_>,
    queues: &mut Table<QueueId, QueueRt>,
    streams: &mut Table<super::ids::StreamId, StreamRt>,
    consumers: &Table<super::ids::ConsumerId, ConsumerRt>,
    seed: u64,
) -> Result<ConsumerRt, String> {
    use super::pipe::{PipeRt, PipeTarget, mapping_of};
    use crate::model::defaults::SourceKind;
    let me = Id::from_index(consumers.len());
    let node = ids.node(&p.id)?;
    let invoked = |id: &str| -> Result<super::ids::ConsumerId, String> {
        let c = ids
            .topology
            .require(id, &[Kind::Consumer])
            .map_err(|e| format!("pipe {}: {e}", p.id))?;
        if s.consumers.get(c.index).is_some_and(|x| x.from.is_some()) {
            return Err(format!(
                "pipe {}: \"{id}\" reads a queue or stream; a pipe calls a function or service that is invoked",
                p.id
            ));
        }
        Ok(Id::from_index(c.index))
    };
    let enrichment = p.enrichment.as_deref().map(invoked).transpose()?;
    let target = match ids.dest(&p.target)? {
        Dest::Consumer(_) => {
            let t = invoked(&p.target)?;
            let function =
                s.consumers[t.index()].kind_in_force() == crate::model::ConsumerKind::Function;
            if function && p.invocation == Some(crate::model::Invocation::Async) {
                PipeTarget::Forward(Dest::Consumer(t))
            } else {
                PipeTarget::Call(t)
            }
        }
        d => PipeTarget::Forward(d),
    };
    let (source, key, kind, lanes) = match ids.dest(&p.source)? {
        Dest::Queue(q) => {
            let fifo = queues[q].fifo;
            (
                Source::Queue(q),
                queues[q].group_path.clone(),
                SourceKind::Queue { fifo },
                1,
            )
        }
        Dest::Stream(si) => {
            let kind = s.streams.get(si.index()).map_or(
                crate::model::StreamType::Kafka,
                crate::model::Stream::kind_in_force,
            );
            let lanes = streams[si].partitions * p.parallelization_factor.unwrap_or(1).max(1);
            (
                Source::Stream {
                    stream: si,
                    group: 0,
                },
                streams[si].key_path.clone(),
                SourceKind::Stream(kind),
                lanes,
            )
        }
        _ => return Err(format!("pipe {} reads neither a queue nor a stream", p.id)),
    };
    let mapping = mapping_of(p, kind, lanes);
    let source = match source {
        Source::Queue(q) => {
            queues[q].consumers.push(me);
            source
        }
        Source::Stream { stream, .. } => Source::Stream {
            stream,
            group: streams[stream].add_group(
                me,
                mapping.parallelization_factor.unwrap_or(1),
                mapping.batch_size_in_force(kind),
            ),
        },
        Source::Direct => source,
    };
    let mut rt = ConsumerRt::compile(&mapping, kind, node, source, Vec::new(), key, seed)?;
    rt.stream_on_failure = p
        .dead_letter
        .as_deref()
        .map(|d| ids.queue(d).map(Dest::Queue))
        .transpose()?;
    // A bus target gets events, not bare records: the pipe's `source` and `detail-type`
    // (EventBridgeEventBusParameters) around each record.
    let bus_envelope = (ids.topology.kind_of(&p.target) == Some(Kind::Bus)).then(|| {
        (
            p.event_source
                .clone()
                .unwrap_or_else(|| format!("Pipe {}", p.id)),
            p.detail_type
                .clone()
                .unwrap_or_else(|| format!("Event from {}", pipe_source_name(kind))),
        )
    });
    let pipe = PipeRt::new(enrichment, target, bus_envelope, rt.concurrency);
    // Its completions end a chain only when nothing goes on from the target.
    rt.emits_on_success =
        pipe.forwards() || matches!(target, PipeTarget::Call(t) if consumers[t].emits_on_success);
    // It hands each event on (or to its enrichment), so the payload waits with it.
    rt.reads_payload = true;
    rt.pipe = Some(Box::new(pipe));
    Ok(rt)
}

/// The event source name in a pipe's default `detail-type` (`Event from aws:sqs` …).
fn pipe_source_name(kind: crate::model::defaults::SourceKind) -> &'static str {
    use crate::model::StreamType;
    use crate::model::defaults::SourceKind;
    match kind {
        SourceKind::Stream(StreamType::Kinesis) => "aws:kinesis",
        SourceKind::Stream(StreamType::Dynamodb) => "aws:dynamodb",
        SourceKind::Stream(StreamType::Kafka) => "aws:kafka",
        SourceKind::Queue { .. } | SourceKind::Invoked => "aws:sqs",
    }
}

/// Decides, per queue, which key its consumers check ordering on (hashed into each message on
/// arrival) and whether a waiting message must keep its payload: when a consumer reads it, or
/// when it may move on (dead-letter, redrive) to a queue that keys on it or keeps it.
fn link_payload_readers(
    queues: &mut Table<QueueId, QueueRt>,
    consumers: &mut Table<super::ids::ConsumerId, ConsumerRt>,
    s: &Scenario,
    ids: &Ids<'_>,
) {
    for q in queues.ids().collect::<Vec<_>>() {
        let readers = queues[q].consumers.clone();
        let first = readers.first().map(|c| consumers[*c].order_key.clone());
        let agree = readers
            .iter()
            .all(|c| Some(&consumers[*c].order_key) == first.as_ref());
        if agree {
            queues[q].order_path = first.flatten();
        } else {
            for &c in &readers {
                consumers[c].order_from_payload = true;
            }
        }
        queues[q].keep_payload = !agree || readers.iter().any(|c| consumers[*c].reads_payload);
    }
    // Where a waiting message may go next: its DLQ, and redrive targets.
    let mut next: Vec<(QueueId, QueueId)> = queues
        .iter_ids()
        .filter_map(|(q, qr)| qr.dlq.map(|d| (q, d)))
        .collect();
    for t in &s.timeline {
        if let crate::model::TimelineAction::Redrive { dlq, to, .. } = &t.action
            && let (Ok(from), Ok(to)) = (ids.queue(dlq), ids.queue(to))
        {
            next.push((from, to));
        }
    }
    // A fixpoint: the graph is small and each pass only turns flags on.
    let mut changed = true;
    while changed {
        changed = false;
        for &(from, to) in &next {
            let to_needs = queues[to].keep_payload
                || queues[to].order_path.is_some()
                || queues[to].group_path.is_some();
            if to_needs && !queues[from].keep_payload {
                queues[from].keep_payload = true;
                changed = true;
            }
        }
    }
}
