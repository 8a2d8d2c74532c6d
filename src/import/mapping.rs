//! Resources → scenario components, by the table of `reference/import-mapping.md`.
//!
//! Two passes: first every resource eventflow models becomes a component under its logical id
//! (so references can be checked), then the resources that connect them (rules and targets,
//! subscriptions, event source mappings, invoke configurations, archives, schedules) fill in
//! the settings. A reference that leads outside the template (an ARN of another stack, an
//! imported value, a resource type eventflow does not model) becomes an *external*
//! placeholder component with an assumption, never a dangling id.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::ImportError;
use super::intrinsics::{EXTERNAL, Template, text_of};
use super::report::{Assumption, Entry, Report};
use super::sam::{ENTRY, Resource};

/// Kinds of component the importer writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A producer (entry point of traffic).
    Producer,
    /// A bus with its rules.
    Bus,
    /// A queue.
    Queue,
    /// A stream (Kinesis, `DynamoDB`, Kafka).
    Stream,
    /// A topic with its subscriptions.
    Topic,
    /// A consumer: a function or a service.
    Consumer,
    /// A pipe.
    Pipe,
    /// A state machine.
    StateMachine,
}

/// What a reference may lead to, which decides a placeholder's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Something events are sent to (a rule target, a destination): a service stands in.
    Target,
    /// A queue (dead-letter queues).
    Queue,
    /// A queue or a topic (a function's dead-letter target).
    QueueOrTopic,
    /// A bus.
    Bus,
    /// A topic.
    Topic,
    /// A queue or stream that is read.
    Source,
}

/// Lambda's default per-account concurrency quota, the concurrency an unreserved function may
/// reach. <https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html>
pub const LAMBDA_ACCOUNT_CONCURRENCY: u64 = 1000;
/// An API destination's default `InvocationRateLimitPerSecond`.
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateApiDestination.html>
pub const API_DESTINATION_RATE: f64 = 300.0;
/// Shards of a new on-demand Kinesis stream (4 MB/s of write capacity, 1 MB/s per shard).
/// <https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html>
pub const KINESIS_ON_DEMAND_SHARDS: u64 = 4;

/// A component being built.
#[derive(Clone, Debug)]
pub struct Comp {
    /// Its kind.
    pub kind: Kind,
    /// Its JSON object (with `id`).
    pub body: Map<String, Value>,
    /// A placeholder for something outside the template.
    pub external: bool,
}

/// An event source mapping waiting for its function's consumers to be settled.
#[derive(Clone, Debug)]
struct Esm {
    id: String,
    function: String,
    settings: Map<String, Value>,
}

/// The scenario under construction.
pub struct Built {
    /// Components by id, in creation order.
    pub comps: Vec<Comp>,
    index: BTreeMap<String, usize>,
    /// The report's entries, in template order.
    pub entries: Vec<Entry>,
    /// Assumptions, in the order made.
    pub assumptions: Vec<Assumption>,
    /// Ids something in the template sends to (rule targets, subscriptions, pipes, emits).
    pub written: BTreeSet<String>,
    /// Queues that are some component's dead-letter queue or failure destination.
    pub dead_letters: BTreeSet<String>,
    /// Functions invoked directly (rule targets, subscriptions, pipes, tasks, destinations).
    pub invoked: BTreeSet<String>,
    esms: Vec<Esm>,
    /// Entry points outside the template: (producer id, target id, what, line).
    pub entry_points: Vec<(String, String, String)>,
    /// Which rule each SAM event became (`F.Events.E` → rule id).
    pub origins: BTreeMap<String, String>,
    /// Resources that name another component (a stream consumer, a function alias or version).
    aliases: BTreeMap<String, String>,
}

fn secs(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn dur(s: u64) -> Value {
    Value::String(format!("{s}s"))
}

/// A JSON value that may be written as a JSON string (patterns, policies).
fn json_or_string(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => serde_json::from_str(s).ok(),
        Value::Object(_) => Some(v.clone()),
        _ => None,
    }
}

/// The name at the end of an ARN or URL: `arn:aws:sqs:r:a:name`, `…:function:name[:alias]`,
/// `…:event-bus/name`, `…:table/name/stream/…`, `https://sqs…/acct/name`.
fn arn_name(s: &str) -> Option<(String, String)> {
    if let Some(rest) = s.strip_prefix("https://") {
        let service = rest.split('.').next().unwrap_or_default().to_owned();
        return rest.rsplit('/').next().map(|n| (service, n.to_owned()));
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return None;
    }
    let service = parts[2].to_owned();
    let resource = parts[5];
    let name = match service.as_str() {
        "lambda" => resource
            .strip_prefix("function:")
            .map(|r| r.split(':').next().unwrap_or(r)),
        "states" => resource
            .strip_prefix("stateMachine:")
            .map(|r| r.split(':').next().unwrap_or(r)),
        "dynamodb" | "kinesis" | "events" => resource.split('/').nth(1),
        // An API's route ARN (`api-id/stage/METHOD/path`) names the API first.
        "execute-api" => resource.split('/').next(),
        _ => resource
            .rsplit(['/', ':'])
            .find(|seg| seg.chars().any(|c| c.is_ascii_alphanumeric())),
    };
    name.filter(|n| !n.is_empty())
        .map(|n| (service, n.to_owned()))
}

/// An id made from a name outside the template (letters, digits and `-_.` kept).
fn clean_id(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() { "external".into() } else { s }
}

impl Built {
    fn new() -> Self {
        Built {
            comps: Vec::new(),
            index: BTreeMap::new(),
            entries: Vec::new(),
            assumptions: Vec::new(),
            written: BTreeSet::new(),
            dead_letters: BTreeSet::new(),
            invoked: BTreeSet::new(),
            esms: Vec::new(),
            entry_points: Vec::new(),
            origins: BTreeMap::new(),
            aliases: BTreeMap::new(),
        }
    }

    /// The component with this id.
    pub fn get(&self, id: &str) -> Option<&Comp> {
        self.index.get(id).map(|&i| &self.comps[i])
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Comp> {
        self.index.get(id).map(|&i| &mut self.comps[i])
    }

    /// Whether an id is taken (by a component or a rule).
    pub fn taken(&self, id: &str) -> bool {
        self.index.contains_key(id)
            || self.comps.iter().any(|c| {
                c.kind == Kind::Bus
                    && c.body["rules"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| r["id"] == id))
            })
    }

    /// A free id starting from `base`.
    pub fn fresh(&self, base: &str) -> String {
        if !self.taken(base) {
            return base.to_owned();
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|c| !self.taken(c))
            .unwrap_or_default()
    }

    /// Adds a component; its `id` must be free.
    pub fn add(&mut self, kind: Kind, id: &str, mut body: Map<String, Value>, external: bool) {
        let mut full = Map::new();
        full.insert("id".into(), Value::String(id.to_owned()));
        full.append(&mut body);
        self.index.insert(id.to_owned(), self.comps.len());
        self.comps.push(Comp {
            kind,
            body: full,
            external,
        });
    }

    /// Notes an assumption about a component.
    pub fn assume(&mut self, component: Option<&str>, text: impl Into<String>) {
        let a = Assumption {
            component: component.map(str::to_owned),
            text: text.into(),
        };
        if !self.assumptions.contains(&a) {
            self.assumptions.push(a);
        }
    }

    fn became(&mut self, r: &Resource, what: impl Into<String>) {
        self.entries.push(Entry {
            logical_id: r.id.clone(),
            kind: r.kind.clone(),
            line: r.line,
            origin: r.origin.clone(),
            became: Some(what.into()),
            not_modelled: None,
        });
    }

    fn left_out(&mut self, r: &Resource, why: impl Into<String>) {
        self.entries.push(Entry {
            logical_id: r.id.clone(),
            kind: r.kind.clone(),
            line: r.line,
            origin: r.origin.clone(),
            became: None,
            not_modelled: Some(why.into()),
        });
    }

    fn service_body() -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("kind".into(), "service".into());
        m.insert("concurrency".into(), 100.into());
        m.insert(
            "service_time".into(),
            json!({ "lognormal": { "mean": "50ms", "stddev": "25ms" } }),
        );
        m
    }

    /// A placeholder for something outside the template.
    fn placeholder(&mut self, name: &str, want: Want, service: &str, why: &str) -> String {
        let id = clean_id(name);
        let kind = match (want, service) {
            (Want::Queue, _) | (Want::QueueOrTopic | Want::Source | Want::Target, "sqs") => {
                Kind::Queue
            }
            (Want::Topic, _) | (Want::QueueOrTopic | Want::Target, "sns") => Kind::Topic,
            (Want::Bus, _) | (Want::Target, "events") => Kind::Bus,
            (Want::Source | Want::Target, "kinesis" | "dynamodb" | "kafka") => Kind::Stream,
            (Want::QueueOrTopic, _) => Kind::Queue,
            (Want::Source, _) => Kind::Queue,
            (Want::Target, _) => Kind::Consumer,
        };
        if let Some(c) = self.get(&id)
            && (c.kind == kind || (want == Want::Target && c.kind != Kind::Producer))
        {
            return id;
        }
        let id = if self.taken(&id) {
            self.fresh(&format!("{id}-external"))
        } else {
            id
        };
        let (body, words) = match kind {
            Kind::Queue => (Map::new(), "queue"),
            Kind::Topic => (
                json!({ "subscriptions": [] })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                "topic",
            ),
            Kind::Bus => (
                json!({ "rules": [] })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                "bus",
            ),
            Kind::Stream => {
                let ty = if service == "dynamodb" {
                    "dynamodb"
                } else if service == "kafka" {
                    "kafka"
                } else {
                    "kinesis"
                };
                (
                    json!({ "type": ty, "partitions": 1 })
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    "stream with 1 partition",
                )
            }
            _ => (
                Self::service_body(),
                "service (concurrency 100, lognormal service time, mean 50 ms)",
            ),
        };
        self.add(kind, &id, body, true);
        self.assume(
            Some(&id),
            format!("{why}: a placeholder {words} `{id}` stands in for it"),
        );
        id
    }

    /// The component a resolved reference names, or a placeholder; `None` for no reference.
    fn refer(&mut self, t: &Template, v: &Value, want: Want, site: &str) -> Option<String> {
        let s = match v {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Null => return None,
            Value::String(_) => return None,
            other => {
                self.assume(
                    None,
                    format!("{site}: {other} could not be resolved to a resource: left out"),
                );
                return None;
            }
        };
        let s = self.aliases.get(&s).cloned().unwrap_or(s);
        if let Some(c) = self.get(&s)
            && c.kind != Kind::Producer
        {
            return Some(s);
        }
        if let Some(rest) = s.strip_prefix(EXTERNAL) {
            let service = arn_name(rest).map(|(svc, _)| svc).unwrap_or_default();
            let name = arn_name(rest).map_or_else(|| rest.to_owned(), |(_, n)| n);
            return Some(self.placeholder(
                &name,
                want,
                &service,
                &format!("{site}: {rest} is outside the template"),
            ));
        }
        if let Some(kind) = t.type_of(&s) {
            // A resource of the template that eventflow does not model (a log group, an API …).
            let kind = kind.to_owned();
            let service = kind
                .split("::")
                .nth(1)
                .unwrap_or_default()
                .to_ascii_lowercase();
            return Some(self.placeholder(
                &s,
                want,
                &service,
                &format!("{site}: {s} ({kind}) is not modelled"),
            ));
        }
        let (service, name) = arn_name(&s).unwrap_or_default();
        let name = if name.is_empty() { s.clone() } else { name };
        // A physical name (or the end of an ARN) of a resource in the template.
        let by_name = self
            .comps
            .iter()
            .filter(|c| !c.external)
            .map(|c| c.body["id"].as_str().unwrap_or_default().to_owned())
            .find(|id| t.physical_name(id) == Some(name.as_str()) || *id == name);
        if let Some(id) = by_name {
            return Some(id);
        }
        let what = if s.starts_with("arn:") {
            s.clone()
        } else {
            format!("\"{s}\"")
        };
        Some(self.placeholder(
            &name,
            want,
            &service,
            &format!("{site}: {what} is not defined in this template"),
        ))
    }

    fn function_body(&mut self, r: &Resource) -> Map<String, Value> {
        let p = &r.props;
        let mut m = Map::new();
        m.insert("kind".into(), "function".into());
        let reserved = p.get("ReservedConcurrentExecutions").and_then(secs);
        match reserved {
            Some(0) => {
                m.insert("concurrency".into(), 1.into());
                self.assume(Some(&r.id), "ReservedConcurrentExecutions 0 stops the function in AWS; eventflow needs at least 1 slot, so concurrency is 1");
            }
            Some(n) => {
                m.insert("concurrency".into(), n.into());
            }
            None => {
                m.insert("concurrency".into(), LAMBDA_ACCOUNT_CONCURRENCY.into());
                self.assume(Some(&r.id), format!("no reserved concurrency: concurrency {LAMBDA_ACCOUNT_CONCURRENCY}, Lambda's default account quota"));
            }
        }
        m.insert(
            "service_time".into(),
            json!({ "lognormal": { "mean": "100ms", "stddev": "50ms" } }),
        );
        self.assume(Some(&r.id), "service time lognormal, mean 100 ms, standard deviation 50 ms (the template says nothing about it)");
        if let Some(s) = p.get("Timeout").and_then(secs) {
            m.insert("timeout".into(), dur(s));
        }
        m
    }

    /// A function's `DeadLetterConfig` (once every component exists).
    fn function_dead_letter(&mut self, t: &Template, r: &Resource) {
        if let Some(arn) = r.props.pointer("/DeadLetterConfig/TargetArn").cloned()
            && let Some(d) = self.refer(
                t,
                &arn,
                Want::QueueOrTopic,
                &format!("{} DeadLetterConfig", r.id),
            )
        {
            self.dead_letters.insert(d.clone());
            self.written.insert(d.clone());
            if let Some(c) = self.get_mut(&r.id) {
                let a = c.body.entry("async").or_insert_with(|| json!({}));
                a["on_failure"] = Value::String(d);
            }
        }
    }
}

/// Builds the components from the resources.
pub fn build(t: &Template, resources: &[Resource]) -> Result<Built, ImportError> {
    let mut b = Built::new();
    for n in t.notes() {
        b.assume(None, n);
    }
    // Pass 1: the components.
    for r in resources {
        let p = &r.props;
        match r.kind.as_str() {
            "AWS::Events::EventBus" => {
                let mut m = Map::new();
                m.insert("rules".into(), json!([]));
                b.add(Kind::Bus, &r.id, m, false);
                b.became(r, format!("bus `{}`", r.id));
            }
            "AWS::SQS::Queue" => {
                let mut m = Map::new();
                let fifo = truthy(p.get("FifoQueue"));
                m.insert("type".into(), if fifo { "fifo" } else { "standard" }.into());
                if let Some(v) = p.get("VisibilityTimeout").and_then(secs) {
                    m.insert("visibility_timeout".into(), dur(v));
                }
                if let Some(v) = p.get("MessageRetentionPeriod").and_then(secs) {
                    m.insert("retention".into(), dur(v));
                }
                if fifo && !truthy(p.get("ContentBasedDeduplication")) {
                    // Senders must give a MessageDeduplicationId: each event's own id.
                    m.insert("dedup_id".into(), "id".into());
                    b.assume(Some(&r.id), "FIFO without content-based deduplication: each message's deduplication id is its event id");
                }
                if fifo {
                    b.assume(Some(&r.id), "FIFO message groups come from the senders, not the template: the queue is one message group (set group_by)");
                }
                if let Some(d) = p.get("DelaySeconds").and_then(secs).filter(|d| *d > 0) {
                    b.assume(
                        Some(&r.id),
                        format!("DelaySeconds {d} is not modelled: messages are available at once"),
                    );
                }
                b.add(Kind::Queue, &r.id, m, false);
                b.became(
                    r,
                    format!(
                        "{} queue `{}`",
                        if fifo { "FIFO" } else { "standard" },
                        r.id
                    ),
                );
            }
            "AWS::SNS::Topic" => {
                let fifo = truthy(p.get("FifoTopic"));
                let mut m = Map::new();
                m.insert("type".into(), if fifo { "fifo" } else { "standard" }.into());
                m.insert("subscriptions".into(), json!([]));
                b.add(Kind::Topic, &r.id, m, false);
                b.became(r, format!("topic `{}`", r.id));
            }
            "AWS::Kinesis::Stream" => {
                let mut m = Map::new();
                m.insert("type".into(), "kinesis".into());
                let on_demand = p
                    .pointer("/StreamModeDetails/StreamMode")
                    .and_then(Value::as_str)
                    == Some("ON_DEMAND");
                let shards = p.get("ShardCount").and_then(secs).filter(|_| !on_demand);
                m.insert(
                    "partitions".into(),
                    shards.unwrap_or(KINESIS_ON_DEMAND_SHARDS).into(),
                );
                if shards.is_none() {
                    b.assume(Some(&r.id), format!("on-demand (or no ShardCount): {KINESIS_ON_DEMAND_SHARDS} partitions, a new on-demand stream's shards"));
                }
                if let Some(h) = p.get("RetentionPeriodHours").and_then(secs) {
                    m.insert("retention".into(), Value::String(format!("{h}h")));
                }
                b.add(Kind::Stream, &r.id, m, false);
                b.became(r, format!("Kinesis stream `{}`", r.id));
            }
            "AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable" => {
                let has_stream = p
                    .get("StreamSpecification")
                    .is_some_and(|s| s.get("StreamViewType").is_some());
                if has_stream {
                    b.add(
                        Kind::Stream,
                        &r.id,
                        json!({ "type": "dynamodb", "partitions": 1 })
                            .as_object()
                            .cloned()
                            .unwrap_or_default(),
                        false,
                    );
                    b.assume(Some(&r.id), "DynamoDB stream: 1 partition (a table's partition count is not in the template)");
                    b.became(r, format!("DynamoDB stream `{}`", r.id));
                } else {
                    b.left_out(
                        r,
                        "a table without a stream: its reads and writes are not events",
                    );
                }
            }
            "AWS::Lambda::Function" => {
                let m = b.function_body(r);
                b.add(Kind::Consumer, &r.id, m, false);
                b.became(r, format!("function `{}`", r.id));
            }
            "AWS::Events::ApiDestination" => {
                let mut m = Built::service_body();
                let rate = p
                    .get("InvocationRateLimitPerSecond")
                    .and_then(secs)
                    .map_or(API_DESTINATION_RATE, |r| r as f64);
                m.insert("rate_limit".into(), json!(rate));
                b.assume(Some(&r.id), "API destination: the endpoint answers in lognormal time, mean 50 ms, 100 calls at once");
                b.add(Kind::Consumer, &r.id, m, false);
                b.became(r, format!("service `{}` (rate limit {rate}/s)", r.id));
            }
            "AWS::StepFunctions::StateMachine" => {
                if p.get("Definition").is_some() || p.get("DefinitionString").is_some() {
                    b.add(Kind::StateMachine, &r.id, Map::new(), false);
                    b.became(r, format!("state machine `{}`", r.id));
                } else {
                    b.add(Kind::Consumer, &r.id, Built::service_body(), true);
                    b.assume(Some(&r.id), "the state machine's definition is not in the template: a placeholder service stands in for it");
                    b.became(
                        r,
                        format!(
                            "placeholder service `{}` (definition not in the template)",
                            r.id
                        ),
                    );
                }
            }
            "AWS::Pipes::Pipe" => {
                if p.get("DesiredState").and_then(Value::as_str) == Some("STOPPED") {
                    b.left_out(r, "DesiredState is STOPPED");
                } else {
                    b.add(Kind::Pipe, &r.id, Map::new(), false);
                }
            }
            _ => {}
        }
    }
    // Names of components: an enhanced fan-out consumer names its stream, an alias or version
    // its function.
    for r in resources {
        if matches!(
            r.kind.as_str(),
            "AWS::Kinesis::StreamConsumer" | "AWS::Lambda::Alias" | "AWS::Lambda::Version"
        ) {
            let of = r
                .props
                .get("StreamARN")
                .or_else(|| r.props.get("FunctionName"))
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(of) = of.as_str().filter(|s| b.get(s).is_some()) {
                b.aliases.insert(r.id.clone(), of.to_owned());
            }
        }
    }
    // Pass 2: what connects them.
    for r in resources {
        match r.kind.as_str() {
            "AWS::Events::EventBus"
            | "AWS::SQS::Queue"
            | "AWS::SNS::Topic"
            | "AWS::Kinesis::Stream"
            | "AWS::DynamoDB::Table"
            | "AWS::DynamoDB::GlobalTable"
            | "AWS::Events::ApiDestination" => {}
            "AWS::Lambda::Function" => b.function_dead_letter(t, r),
            "AWS::Kinesis::StreamConsumer" | "AWS::Lambda::Alias" | "AWS::Lambda::Version" => {
                match b.aliases.get(&r.id).cloned() {
                    Some(of) => b.became(r, format!("another name of `{of}`")),
                    None => b.left_out(r, "what it names is not in the template"),
                }
            }
            "AWS::Events::Rule" => rule(&mut b, t, r),
            "AWS::Scheduler::Schedule" => schedule(&mut b, t, r),
            "AWS::Events::Archive" => {
                match b.refer(
                    t,
                    r.props.get("SourceArn").unwrap_or(&Value::Null),
                    Want::Bus,
                    &format!("{} SourceArn", r.id),
                ) {
                    Some(bus) if b.get(&bus).is_some_and(|c| c.kind == Kind::Bus) => {
                        if let Some(c) = b.get_mut(&bus) {
                            c.body.insert("archive".into(), Value::Bool(true));
                        }
                        if r.props.get("EventPattern").is_some() {
                            b.assume(Some(&bus), format!("archive {}: its EventPattern is not modelled: the archive keeps every event", r.id));
                        }
                        b.became(r, format!("archive on bus `{bus}`"));
                    }
                    _ => b.left_out(r, "its source bus is not known"),
                }
            }
            "AWS::SNS::Subscription" => subscription(&mut b, t, r),
            "AWS::Lambda::EventSourceMapping" => event_source_mapping(&mut b, t, r),
            "AWS::Lambda::EventInvokeConfig" => invoke_config(&mut b, t, r),
            "AWS::Pipes::Pipe" => {
                if b.get(&r.id).is_some() {
                    pipe(&mut b, t, r);
                }
            }
            "AWS::StepFunctions::StateMachine" => {
                if b.get(&r.id).is_some_and(|c| c.kind == Kind::StateMachine) {
                    state_machine(&mut b, t, r);
                }
            }
            ENTRY => {
                let target = r.props["Target"].as_str().unwrap_or_default().to_owned();
                let what = r.props["What"].as_str().unwrap_or_default().to_owned();
                if b.get(&target).is_some() {
                    b.invoked.insert(target.clone());
                    b.entry_points
                        .push((r.id.clone(), target.clone(), what.clone()));
                    b.became(
                        r,
                        format!(
                            "entry point: producer `{}` ({what}) invoking `{target}`",
                            r.id
                        ),
                    );
                } else {
                    b.left_out(r, format!("{what}: its target is not modelled"));
                }
            }
            other => {
                let why = not_modelled_reason(other);
                b.left_out(r, why);
            }
        }
        // Topics' inline subscriptions.
        if r.kind == "AWS::SNS::Topic"
            && let Some(Value::Array(subs)) = r.props.get("Subscription")
        {
            for (i, s) in subs.iter().enumerate() {
                let id = format!("{}.Subscription{}", r.id, i + 1);
                add_subscription(&mut b, t, &r.id, s, &id);
            }
        }
        // Queues' redrive policies.
        if r.kind == "AWS::SQS::Queue"
            && let Some(rp) = r.props.get("RedrivePolicy").and_then(json_or_string)
        {
            let target = rp
                .get("deadLetterTargetArn")
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(d) = b.refer(t, &target, Want::Queue, &format!("{} RedrivePolicy", r.id)) {
                b.dead_letters.insert(d.clone());
                if let Some(c) = b.get_mut(&r.id) {
                    c.body.insert("dead_letter".into(), Value::String(d));
                    if let Some(n) = rp.get("maxReceiveCount").and_then(secs) {
                        c.body.insert("max_receives".into(), n.into());
                    }
                }
            }
        }
    }
    settle_event_source_mappings(&mut b);
    for (id, kind, cond, line) in &t.excluded {
        b.entries.push(Entry {
            logical_id: id.clone(),
            kind: kind.clone(),
            line: *line,
            origin: None,
            became: None,
            not_modelled: Some(format!("its Condition {cond} is false")),
        });
    }
    let modelled = b.entries.iter().any(|e| e.became.is_some());
    if !modelled {
        let mut kinds: Vec<&str> = resources.iter().map(|r| r.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        return Err(ImportError::at(
            0,
            None,
            format!(
                "the template holds nothing eventflow models (buses, rules, queues, topics, streams, functions, pipes, state machines); it has {}",
                if kinds.is_empty() {
                    "no resources".to_owned()
                } else {
                    kinds.join(", ")
                }
            ),
        ));
    }
    Ok(b)
}

fn not_modelled_reason(kind: &str) -> String {
    let family = kind.split("::").nth(1).unwrap_or_default();
    match (family, kind) {
        (_, "AWS::Lambda::Permission" | "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" | "AWS::Events::EventBusPolicy")
        | ("IAM", _) => "access control: it does not change how events flow".into(),
        ("Logs" | "CloudWatch", _) => "logging and monitoring: no events flow through it".into(),
        ("Events", "AWS::Events::Connection") => "the API destination's credentials: no events flow through it".into(),
        (_, "AWS::CloudFormation::Stack" | "AWS::Serverless::Application") => "a nested stack: its template is another file (import it separately)".into(),
        (_, "AWS::Serverless::Api" | "AWS::Serverless::HttpApi") | ("ApiGateway" | "ApiGatewayV2", _) => {
            "an API: its routes' functions get producers (entry points); direct service integrations are not read".into()
        }
        _ => format!("eventflow has no model of {kind}"),
    }
}

fn retry(p: &Value) -> Option<Value> {
    let rp = p.get("RetryPolicy")?;
    let mut m = Map::new();
    if let Some(n) = rp.get("MaximumRetryAttempts").and_then(secs) {
        m.insert("attempts".into(), n.into());
    }
    if let Some(s) = rp.get("MaximumEventAgeInSeconds").and_then(secs) {
        m.insert("max_age".into(), dur(s));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// A rule target (`Targets[]` of a rule or a schedule's `Target`).
fn target(b: &mut Built, t: &Template, owner: &str, tp: &Value) -> Option<Value> {
    let to = b.refer(
        t,
        tp.get("Arn").unwrap_or(&Value::Null),
        Want::Target,
        &format!("{owner} target"),
    )?;
    b.written.insert(to.clone());
    b.invoked.insert(to.clone());
    let mut m = Map::new();
    m.insert("to".into(), Value::String(to.clone()));
    if let Some(r) = retry(tp) {
        m.insert("retry".into(), r);
    }
    if let Some(d) = tp.pointer("/DeadLetterConfig/Arn").cloned()
        && let Some(d) = b.refer(t, &d, Want::Queue, &format!("{owner} DeadLetterConfig"))
    {
        b.dead_letters.insert(d.clone());
        m.insert("dead_letter".into(), Value::String(d));
    }
    if let Some(Value::String(path)) = tp.get("InputPath") {
        m.insert("transform".into(), json!({ "input_path": path }));
    } else if let Some(it) = tp.get("InputTransformer") {
        let paths = it
            .get("InputPathsMap")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let template = it.get("InputTemplate").map(text_of).unwrap_or_default();
        m.insert(
            "transform".into(),
            json!({ "paths": paths, "template": template }),
        );
    } else if let Some(input) = tp.get("Input") {
        m.insert(
            "transform".into(),
            json!({ "paths": {}, "template": text_of(input) }),
        );
    }
    if let Some(g) = tp.pointer("/SqsParameters/MessageGroupId") {
        b.assume(
            Some(&to),
            format!(
                "{owner} sends every event with MessageGroupId {}: one message group",
                text_of(g)
            ),
        );
    }
    if let Some(Value::String(k)) = tp.pointer("/KinesisParameters/PartitionKeyPath")
        && let Some(c) = b.get_mut(&to)
        && c.kind == Kind::Stream
        && !c.body.contains_key("key")
    {
        c.body.insert(
            "key".into(),
            Value::String(k.trim_start_matches("$.").to_owned()),
        );
    }
    Some(Value::Object(m))
}

fn bus_of(b: &mut Built, t: &Template, r: &Resource) -> String {
    match r.props.get("EventBusName") {
        None => ensure_default_bus(b),
        Some(Value::String(s)) if s == "default" || s.ends_with(":event-bus/default") => {
            ensure_default_bus(b)
        }
        Some(v) => {
            let v = v.clone();
            b.refer(t, &v, Want::Bus, &format!("{} EventBusName", r.id))
                .unwrap_or_else(|| ensure_default_bus(b))
        }
    }
}

fn ensure_default_bus(b: &mut Built) -> String {
    if b.get("default").is_none_or(|c| c.kind != Kind::Bus) {
        let id = if b.taken("default") {
            b.fresh("default-bus")
        } else {
            "default".into()
        };
        if b.get(&id).is_none() {
            b.add(
                Kind::Bus,
                &id,
                json!({ "rules": [] })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                false,
            );
            b.assume(Some(&id), "rules without EventBusName are on the account's default bus, where AWS services' events arrive");
        }
        return id;
    }
    "default".into()
}

fn rule(b: &mut Built, t: &Template, r: &Resource) {
    let p = &r.props;
    if p.get("State").and_then(Value::as_str) == Some("DISABLED") {
        b.left_out(r, "State is DISABLED");
        return;
    }
    if let Some(expr) = p.get("ScheduleExpression") {
        let targets: Vec<Value> = p
            .get("Targets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        scheduled(b, t, r, expr, &targets);
        return;
    }
    let Some(pattern) = p.get("EventPattern").and_then(json_or_string) else {
        b.left_out(r, "its EventPattern is missing or not valid JSON");
        return;
    };
    let bus = bus_of(b, t, r);
    let mut targets = Vec::new();
    for tp in p
        .get("Targets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        if let Some(tv) = target(b, t, &r.id, &tp) {
            targets.push(tv);
        }
    }
    if targets.is_empty() {
        b.left_out(r, "it has no target eventflow can deliver to");
        return;
    }
    let id = if b.taken(&r.id) {
        b.fresh(&r.id)
    } else {
        r.id.clone()
    };
    if let Some(o) = &r.origin {
        b.origins.insert(o.clone(), id.clone());
    }
    let n = targets.len();
    if let Some(c) = b.get_mut(&bus)
        && let Some(Value::Array(rules)) = c.body.get_mut("rules")
    {
        rules.push(json!({ "id": id, "pattern": pattern, "targets": targets }));
    }
    b.became(
        r,
        format!(
            "rule `{id}` on bus `{bus}` ({n} target{})",
            if n == 1 { "" } else { "s" }
        ),
    );
}

/// Average events per second of `rate(…)`, `cron(…)` or `at(…)` (`None` if not understood).
pub fn schedule_rate(expr: &str) -> Option<(f64, String)> {
    let expr = expr.trim();
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
        let mut it = inner.split_whitespace();
        let n: f64 = it.next()?.parse().ok()?;
        let unit = it.next()?.trim_end_matches('s');
        let per = match unit {
            "minute" => 60.0,
            "hour" => 3600.0,
            "day" => 86_400.0,
            _ => return None,
        };
        return (n > 0.0).then(|| {
            (
                1.0 / (n * per),
                format!("{expr}: one event every {} s", n * per),
            )
        });
    }
    if let Some(inner) = expr.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')) {
        let f: Vec<&str> = inner.split_whitespace().collect();
        if f.len() != 6 {
            return None;
        }
        let minutes = cron_count(f[0], 0, 59, &[])?;
        let hours = cron_count(f[1], 0, 23, &[])?;
        const MONTHS: &[&str] = &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let months = cron_count(f[3], 1, 12, MONTHS)?;
        let any = |s: &str| s == "*" || s == "?";
        let days_per_month = if !any(f[2]) {
            cron_count(f[2], 1, 31, &[])?
        } else if !any(f[4]) {
            cron_count(f[4], 1, 7, DAYS)? * 30.4375 / 7.0
        } else {
            30.4375
        };
        let per_year = minutes * hours * days_per_month * months;
        let rate = per_year / (365.25 * 86_400.0);
        return (rate > 0.0).then(|| {
            (
                rate,
                format!("{expr}: its average rate, {per_year:.0} events a year"),
            )
        });
    }
    if expr.starts_with("at(") {
        return Some((0.0, format!("{expr}: one event")));
    }
    None
}

/// Values a cron field matches, over `lo..=hi`.
fn cron_count(field: &str, lo: u32, hi: u32, names: &[&str]) -> Option<f64> {
    let value = |s: &str| -> Option<u32> {
        let up = s.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == up) {
            return Some(i as u32 + lo);
        }
        s.parse().ok()
    };
    let mut hits = BTreeSet::new();
    for part in field.split(',') {
        if part == "*" || part == "?" {
            hits.extend(lo..=hi);
            continue;
        }
        if part.contains(['L', 'W', '#']) {
            hits.insert(lo);
            continue;
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, z) = if range == "*" {
            (lo, hi)
        } else if let Some((a, z)) = range.split_once('-') {
            (value(a)?, value(z)?)
        } else if part.contains('/') {
            (value(range)?, hi)
        } else {
            let v = value(range)?;
            (v, v)
        };
        if a > z || z > hi + 1 {
            return None;
        }
        hits.extend((a..=z.min(hi)).step_by(step as usize));
    }
    Some(hits.len() as f64)
}

/// A schedule: a producer at its rate into a bus of its own, whose one rule carries the
/// targets (so retries and dead-letter queues apply as for a rule target).
fn scheduled(b: &mut Built, t: &Template, r: &Resource, expr: &Value, targets: &[Value]) {
    let text = text_of(expr);
    let Some((rate, words)) = schedule_rate(&text) else {
        b.left_out(r, format!("schedule expression {text} is not understood"));
        return;
    };
    let mut out = Vec::new();
    for tp in targets {
        if let Some(tv) = target(b, t, &r.id, tp) {
            out.push(tv);
        }
    }
    if out.is_empty() {
        b.left_out(r, "the schedule has no target eventflow can deliver to");
        return;
    }
    let producer = if b.taken(&r.id) {
        b.fresh(&r.id)
    } else {
        r.id.clone()
    };
    let bus = b.fresh(&format!("{producer}.schedule"));
    let rule_id = b.fresh(&format!("{producer}.targets"));
    b.add(
        Kind::Bus,
        &bus,
        json!({ "rules": [ { "id": rule_id, "pattern": { "source": ["aws.events", "aws.scheduler"] }, "targets": out } ] })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        false,
    );
    let mut pm = json!({
        "to": bus, "rate": rate, "arrivals": "uniform",
        "event": { "source": "aws.events", "detail-type": "Scheduled Event", "detail": {} } })
    .as_object()
    .cloned()
    .unwrap_or_default();
    if rate == 0.0 {
        pm.insert("rate".into(), json!(1.0));
        pm.insert("limit".into(), json!(1));
    }
    b.add(Kind::Producer, &producer, pm, false);
    if let Some(o) = &r.origin {
        b.origins.insert(o.clone(), rule_id.clone());
    }
    b.assume(Some(&producer), format!("schedule {words}, evenly spaced"));
    b.became(
        r,
        format!("producer `{producer}` ({words}) through bus `{bus}`"),
    );
}

fn schedule(b: &mut Built, t: &Template, r: &Resource) {
    if r.props.get("State").and_then(Value::as_str) == Some("DISABLED") {
        b.left_out(r, "State is DISABLED");
        return;
    }
    let expr = r
        .props
        .get("ScheduleExpression")
        .cloned()
        .unwrap_or(Value::Null);
    let targets: Vec<Value> = r.props.get("Target").cloned().into_iter().collect();
    if r.props
        .pointer("/FlexibleTimeWindow/Mode")
        .and_then(Value::as_str)
        == Some("FLEXIBLE")
    {
        b.assume(
            Some(&r.id),
            "FlexibleTimeWindow is not modelled: the schedule fires on time",
        );
    }
    scheduled(b, t, r, &expr, &targets);
}

fn subscription(b: &mut Built, t: &Template, r: &Resource) {
    let Some(topic) = b.refer(
        t,
        r.props.get("TopicArn").unwrap_or(&Value::Null),
        Want::Topic,
        &format!("{} TopicArn", r.id),
    ) else {
        b.left_out(r, "its topic is not known");
        return;
    };
    if b.get(&topic).is_none_or(|c| c.kind != Kind::Topic) {
        b.left_out(r, format!("{topic} is not a topic"));
        return;
    }
    let props = r.props.clone();
    match add_subscription(b, t, &topic, &props, &r.id) {
        Some(to) => b.became(r, format!("subscription of topic `{topic}` to `{to}`")),
        None => b.left_out(r, "its endpoint is not known"),
    }
}

/// Adds a subscription to a topic; returns the endpoint's id.
fn add_subscription(
    b: &mut Built,
    t: &Template,
    topic: &str,
    p: &Value,
    id: &str,
) -> Option<String> {
    let protocol = p
        .get("Protocol")
        .and_then(Value::as_str)
        .unwrap_or("sqs")
        .to_ascii_lowercase();
    let endpoint = p.get("Endpoint").cloned().unwrap_or(Value::Null);
    let to = match protocol.as_str() {
        "sqs" => b.refer(t, &endpoint, Want::Queue, &format!("{id} Endpoint"))?,
        "lambda" => b.refer(t, &endpoint, Want::Target, &format!("{id} Endpoint"))?,
        other => {
            let name = clean_id(id);
            if b.get(&name).is_none() {
                b.add(Kind::Consumer, &name, Built::service_body(), true);
                b.assume(
                    Some(&name),
                    format!(
                        "{other} endpoint {}: a placeholder service stands in for it",
                        text_of(&endpoint)
                    ),
                );
            }
            name
        }
    };
    b.written.insert(to.clone());
    b.invoked.insert(to.clone());
    let mut s = Map::new();
    s.insert("to".into(), Value::String(to.clone()));
    if let Some(f) = p.get("FilterPolicy").and_then(json_or_string) {
        s.insert("filter".into(), f);
        let scope = match p.get("FilterPolicyScope").and_then(Value::as_str) {
            Some("MessageBody") => "body",
            _ => "attributes",
        };
        s.insert("filter_scope".into(), scope.into());
    }
    if let Some(rp) = p.get("RedrivePolicy").and_then(json_or_string)
        && let Some(d) = rp.get("deadLetterTargetArn").cloned()
        && let Some(d) = b.refer(t, &d, Want::Queue, &format!("{id} RedrivePolicy"))
    {
        b.dead_letters.insert(d.clone());
        s.insert("dead_letter".into(), Value::String(d));
    }
    if let Some(c) = b.get_mut(topic)
        && let Some(Value::Array(subs)) = c.body.get_mut("subscriptions")
    {
        subs.push(Value::Object(s));
    }
    Some(to)
}

/// `FilterCriteria` as eventflow filters: SQS patterns name the record's `body` and Kinesis
/// patterns its `data` (that level is stripped: eventflow's records are the events
/// themselves); `DynamoDB` patterns match typed values (`{"S": …}`), which are untyped.
fn filters(b: &mut Built, owner: &str, fc: Option<&Value>, source_kind: &str) -> Option<Value> {
    let list = fc?.get("Filters")?.as_array()?;
    let mut out = Vec::new();
    for f in list {
        let Some(pattern) = f.get("Pattern").and_then(json_or_string) else {
            b.assume(
                Some(owner),
                "a FilterCriteria pattern is not valid JSON: left out",
            );
            continue;
        };
        let level = match source_kind {
            "sqs" => Some("body"),
            "kinesis" => Some("data"),
            _ => None,
        };
        let Some(level) = level else {
            out.push(untype(&pattern));
            continue;
        };
        let Value::Object(m) = &pattern else { continue };
        let others: Vec<&str> = m
            .keys()
            .filter(|k| *k != level)
            .map(String::as_str)
            .collect();
        if !others.is_empty() {
            b.assume(Some(owner), format!("filter on record metadata ({}) is not modelled: only its `{level}` part is kept", others.join(", ")));
        }
        match m.get(level) {
            Some(Value::Object(inner)) => out.push(Value::Object(inner.clone())),
            _ => b.assume(
                Some(owner),
                format!("a filter without a `{level}` object matches metadata only: left out"),
            ),
        }
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// `DynamoDB`'s typed attribute values (`{"S": ["x"]}`) as plain ones (`["x"]`).
fn untype(v: &Value) -> Value {
    const TYPES: &[&str] = &["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];
    match v {
        Value::Object(m) => {
            if m.len() == 1
                && let Some((k, inner)) = m.iter().next()
                && TYPES.contains(&k.as_str())
            {
                return untype(inner);
            }
            Value::Object(m.iter().map(|(k, v)| (k.clone(), untype(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(untype).collect()),
        other => other.clone(),
    }
}

/// The source kind of a queue or stream component: `sqs`, `kinesis`, `dynamodb`, `kafka`.
fn source_kind(b: &Built, id: &str) -> &'static str {
    match b.get(id) {
        Some(c) if c.kind == Kind::Queue => "sqs",
        Some(c) if c.kind == Kind::Stream => match c.body.get("type").and_then(Value::as_str) {
            Some("dynamodb") => "dynamodb",
            Some("kafka") => "kafka",
            _ => "kinesis",
        },
        _ => "",
    }
}

fn event_source_mapping(b: &mut Built, t: &Template, r: &Resource) {
    let p = &r.props;
    if p.get("Enabled") == Some(&Value::Bool(false)) {
        b.left_out(r, "Enabled is false");
        return;
    }
    let sam_kind = p
        .get("SourceKind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let hint = match sam_kind {
        "MSK" | "SelfManagedKafka" => "kafka",
        "Kinesis" => "kinesis",
        "DynamoDB" => "dynamodb",
        _ => "",
    };
    let source = p.get("EventSourceArn").cloned().unwrap_or(Value::Null);
    let source = match source.as_str().and_then(|s| b.aliases.get(s)) {
        Some(of) => Value::String(of.clone()),
        None => source,
    };
    let from = match &source {
        Value::String(s) if !hint.is_empty() && !s.starts_with("arn:") && b.get(s).is_none() => {
            let (id, service) = (s.strip_prefix(EXTERNAL).unwrap_or(s).to_owned(), hint);
            Some(b.placeholder(&id, Want::Source, service, &format!("{} source {s}", r.id)))
        }
        _ => b.refer(
            t,
            &source,
            Want::Source,
            &format!("{} EventSourceArn", r.id),
        ),
    };
    let Some(from) = from else {
        b.left_out(r, "its event source is not known");
        return;
    };
    let kind = source_kind(b, &from);
    if kind.is_empty() {
        b.left_out(
            r,
            format!("its source {from} is neither a queue nor a stream"),
        );
        return;
    }
    let func_v = p.get("FunctionName").cloned().unwrap_or(Value::Null);
    let func = match &func_v {
        Value::String(s) => s
            .split(':')
            .next()
            .filter(|_| !s.starts_with("arn:"))
            .map(str::to_owned),
        _ => None,
    }
    .filter(|s| b.get(s).is_some_and(|c| c.kind == Kind::Consumer))
    .or_else(|| b.refer(t, &func_v, Want::Target, &format!("{} FunctionName", r.id)));
    let Some(func) = func else {
        b.left_out(r, "its function is not known");
        return;
    };
    let mut m = Map::new();
    m.insert("from".into(), Value::String(from.clone()));
    if let Some(n) = p.get("BatchSize").and_then(secs) {
        m.insert("batch_size".into(), n.into());
    }
    if let Some(s) = p.get("MaximumBatchingWindowInSeconds").and_then(secs) {
        m.insert("batch_window".into(), dur(s));
    }
    if p.get("FunctionResponseTypes")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == "ReportBatchItemFailures"))
    {
        m.insert("report_batch_item_failures".into(), Value::Bool(true));
    }
    if let Some(n) = p
        .pointer("/ScalingConfig/MaximumConcurrency")
        .and_then(secs)
    {
        m.insert("max_concurrency".into(), n.into());
    }
    if kind == "kinesis" || kind == "dynamodb" {
        if let Some(n) = p.get("ParallelizationFactor").and_then(secs) {
            m.insert("parallelization_factor".into(), n.into());
        }
        if truthy(p.get("BisectBatchOnFunctionError")) {
            m.insert("bisect_on_error".into(), Value::Bool(true));
        }
        if let Some(n) = p.get("MaximumRetryAttempts").and_then(int) {
            m.insert("max_retry_attempts".into(), n.into());
        }
        if let Some(n) = p.get("MaximumRecordAgeInSeconds").and_then(int) {
            m.insert(
                "max_record_age".into(),
                if n < 0 { json!(-1) } else { dur(n as u64) },
            );
        }
    }
    if let Some(d) = p
        .pointer("/DestinationConfig/OnFailure/Destination")
        .cloned()
        && let Some(d) = b.refer(
            t,
            &d,
            Want::QueueOrTopic,
            &format!("{} DestinationConfig", r.id),
        )
    {
        b.dead_letters.insert(d.clone());
        b.written.insert(d.clone());
        m.insert("on_failure".into(), Value::String(d));
    }
    if let Some(f) = filters(b, &func, p.get("FilterCriteria"), kind) {
        m.insert("filter".into(), f);
    }
    if kind == "kafka" && p.get("Topics").is_some() {
        b.assume(Some(&from), "the Kafka topics read are one stream");
    }
    b.esms.push(Esm {
        id: r.id.clone(),
        function: func.clone(),
        settings: m,
    });
    b.became(r, format!("`{func}` reads `{from}`"));
}

/// Each function with event source mappings: the first mapping's settings go on the function's
/// own consumer unless something invokes it directly; every other mapping is a consumer of its
/// own (its logical id), with the function's settings.
fn settle_event_source_mappings(b: &mut Built) {
    let esms = std::mem::take(&mut b.esms);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for e in esms {
        let Some(base) = b.get(&e.function).cloned() else {
            continue;
        };
        if base.kind != Kind::Consumer {
            continue;
        }
        let first = seen.insert(e.function.clone());
        if first && !b.invoked.contains(&e.function) {
            let mut dropped_async = false;
            if let Some(c) = b.get_mut(&e.function) {
                dropped_async = c.body.remove("async").is_some();
                c.body.extend(e.settings);
            }
            if dropped_async {
                // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
                b.assume(
                    Some(&e.function),
                    "its asynchronous settings (DeadLetterConfig, EventInvokeConfig) apply only to asynchronous invocations, and nothing in the template invokes it asynchronously: left out",
                );
            }
            continue;
        }
        let id = b.fresh(&e.id);
        let mut body = base.body.clone();
        body.remove("id");
        body.remove("async"); // an event source mapping invokes synchronously
        body.extend(e.settings);
        b.add(Kind::Consumer, &id, body, false);
        b.assume(Some(&id), format!("`{id}` is function `{}` reading a second source: a consumer of its own with the function's settings (concurrency not shared)", e.function));
    }
}

fn invoke_config(b: &mut Built, t: &Template, r: &Resource) {
    let p = &r.props;
    let f = p.get("FunctionName").cloned().unwrap_or(Value::Null);
    let Some(func) = b.refer(t, &f, Want::Target, &format!("{} FunctionName", r.id)) else {
        b.left_out(r, "its function is not known");
        return;
    };
    let mut a = b
        .get(&func)
        .and_then(|c| c.body.get("async"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(n) = p.get("MaximumRetryAttempts").and_then(secs) {
        a.insert("retries".into(), n.into());
    }
    if let Some(s) = p.get("MaximumEventAgeInSeconds").and_then(secs) {
        a.insert("max_age".into(), dur(s));
    }
    for (key, field) in [("OnFailure", "on_failure"), ("OnSuccess", "on_success")] {
        if let Some(d) = p
            .pointer(&format!("/DestinationConfig/{key}/Destination"))
            .cloned()
            && let Some(d) = b.refer(t, &d, Want::Target, &format!("{} {key}", r.id))
        {
            b.written.insert(d.clone());
            b.invoked.insert(d.clone());
            if key == "OnFailure" {
                b.dead_letters.insert(d.clone());
            }
            a.insert(field.into(), Value::String(d));
        }
    }
    if let Some(c) = b.get_mut(&func)
        && c.kind == Kind::Consumer
    {
        c.body.insert("async".into(), Value::Object(a));
        b.became(r, format!("`async` of function `{func}`"));
    } else {
        b.left_out(r, format!("{func} is not a function"));
    }
}

fn pipe(b: &mut Built, t: &Template, r: &Resource) {
    let p = &r.props;
    let Some(source) = b.refer(
        t,
        p.get("Source").unwrap_or(&Value::Null),
        Want::Source,
        &format!("{} Source", r.id),
    ) else {
        b.left_out(r, "its source is not known");
        return;
    };
    let kind = source_kind(b, &source);
    let Some(target) = b.refer(
        t,
        p.get("Target").unwrap_or(&Value::Null),
        Want::Target,
        &format!("{} Target", r.id),
    ) else {
        b.left_out(r, "its target is not known");
        return;
    };
    b.written.insert(target.clone());
    b.invoked.insert(target.clone());
    let mut m = Map::new();
    m.insert("source".into(), Value::String(source.clone()));
    let sp = p.get("SourceParameters").cloned().unwrap_or(Value::Null);
    let params = [
        "SqsQueueParameters",
        "KinesisStreamParameters",
        "DynamoDBStreamParameters",
        "ManagedStreamingKafkaParameters",
        "SelfManagedKafkaParameters",
    ]
    .iter()
    .find_map(|k| sp.get(*k))
    .cloned()
    .unwrap_or(Value::Null);
    if let Some(n) = params.get("BatchSize").and_then(secs) {
        m.insert("batch_size".into(), n.into());
    }
    if let Some(s) = params.get("MaximumBatchingWindowInSeconds").and_then(secs) {
        m.insert("batch_window".into(), dur(s));
    }
    if let Some(n) = params.get("ParallelizationFactor").and_then(secs) {
        m.insert("parallelization_factor".into(), n.into());
    }
    if let Some(n) = params.get("MaximumRetryAttempts").and_then(int) {
        m.insert("max_retry_attempts".into(), n.into());
    }
    if let Some(n) = params.get("MaximumRecordAgeInSeconds").and_then(int) {
        m.insert(
            "max_record_age".into(),
            if n < 0 { json!(-1) } else { dur(n as u64) },
        );
    }
    if params
        .get("OnPartialBatchItemFailure")
        .and_then(Value::as_str)
        == Some("AUTOMATIC_BISECT")
    {
        m.insert("bisect_on_error".into(), Value::Bool(true));
    }
    if let Some(d) = params.pointer("/DeadLetterConfig/Arn").cloned()
        && let Some(d) = b.refer(
            t,
            &d,
            Want::QueueOrTopic,
            &format!("{} DeadLetterConfig", r.id),
        )
    {
        b.dead_letters.insert(d.clone());
        b.written.insert(d.clone());
        m.insert("dead_letter".into(), Value::String(d));
    }
    if let Some(f) = filters(b, &r.id, sp.get("FilterCriteria"), kind) {
        m.insert("filter".into(), f);
    }
    if let Some(e) = p.get("Enrichment").cloned()
        && let Some(e) = b.refer(t, &e, Want::Target, &format!("{} Enrichment", r.id))
    {
        b.invoked.insert(e.clone());
        m.insert("enrichment".into(), Value::String(e));
    }
    m.insert("target".into(), Value::String(target.clone()));
    let tp = p.get("TargetParameters").cloned().unwrap_or(Value::Null);
    if tp
        .pointer("/LambdaFunctionParameters/InvocationType")
        .and_then(Value::as_str)
        == Some("FIRE_AND_FORGET")
    {
        m.insert("invocation".into(), "async".into());
    }
    // A bus target: the events' `source` and `detail-type` (the simulator's defaults are
    // AWS's, `Pipe <name>` and `Event from aws:…`).
    if let Some(bp) = tp.get("EventBridgeEventBusParameters") {
        for (key, field) in [("Source", "event_source"), ("DetailType", "detail_type")] {
            if let Some(v) = bp.get(key).and_then(Value::as_str) {
                m.insert(field.into(), Value::String(v.to_owned()));
            }
        }
    }
    if tp.get("InputTemplate").is_some() {
        b.assume(
            Some(&r.id),
            "the target's InputTemplate is not modelled: the target receives each event as it is",
        );
    }
    if let Some(g) = tp.pointer("/SqsQueueParameters/MessageGroupId") {
        b.assume(
            Some(&target),
            format!(
                "{} sends with MessageGroupId {}: one message group",
                r.id,
                text_of(g)
            ),
        );
    }
    if let Some(c) = b.get_mut(&r.id) {
        c.body.extend(m);
    }
    b.became(r, format!("pipe `{}`: `{source}` → `{target}`", r.id));
}

/// Replaces `${key}` in every string of a definition.
fn substitute(v: &mut Value, subs: &Map<String, Value>) {
    match v {
        Value::String(s) if s.contains("${") => {
            for (k, val) in subs {
                *s = s.replace(&format!("${{{k}}}"), &text_of(val));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, subs)),
        Value::Object(m) => m.values_mut().for_each(|x| substitute(x, subs)),
        _ => {}
    }
}

fn state_machine(b: &mut Built, t: &Template, r: &Resource) {
    let p = &r.props;
    let subs = p
        .get("DefinitionSubstitutions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let def = match (p.get("Definition"), p.get("DefinitionString")) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(Value::String(s))) => {
            let mut s = s.clone();
            for (k, val) in &subs {
                s = s.replace(&format!("${{{k}}}"), &text_of(val));
            }
            serde_json::from_str(&s)
                .ok()
                .or_else(|| super::yaml::parse(&s).ok().map(|n| n.to_json()))
        }
        _ => None,
    };
    let Some(mut def) = def.filter(Value::is_object) else {
        // Replace the machine by a placeholder service.
        if let Some(c) = b.get_mut(&r.id) {
            c.kind = Kind::Consumer;
            c.external = true;
            let id = r.id.clone();
            let mut body = Built::service_body();
            body.insert("id".into(), Value::String(id.clone()));
            c.body = body;
        }
        b.assume(Some(&r.id), "its definition could not be read: a placeholder service stands in for the state machine");
        return;
    };
    substitute(&mut def, &subs);
    let mut tasks = Vec::new();
    collect_tasks(&mut def, &r.id, &mut tasks);
    for (path, resource, fname) in tasks {
        let what = fname.clone().unwrap_or_else(|| resource.clone());
        let v = Value::String(what.clone());
        let id = if let Some(stripped) = resource
            .strip_prefix("arn:aws:states:::")
            .filter(|_| fname.is_none())
        {
            // A service integration (sqs:sendMessage, dynamodb:putItem …): a placeholder.
            let name = format!(
                "{}.{}",
                r.id,
                stripped
                    .split('.')
                    .next()
                    .unwrap_or(stripped)
                    .replace(':', "-")
            );
            Some(b.placeholder(
                &name,
                Want::Target,
                "states",
                &format!("{} task {path} calls {resource}", r.id),
            ))
        } else {
            let v = match v.as_str().map(|s| s.split(':').next().unwrap_or(s)) {
                Some(s) if b.get(s).is_some() => Value::String(s.to_owned()),
                _ => v,
            };
            b.refer(t, &v, Want::Target, &format!("{} task {path}", r.id))
        };
        if let Some(id) = id {
            b.invoked.insert(id.clone());
            if let Some(state) = def.pointer_mut(&path) {
                state["Resource"] = Value::String(id);
            }
        }
    }
    let ty = match p.get("StateMachineType").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("EXPRESS") => "express",
        _ => "standard",
    };
    if let Some(c) = b.get_mut(&r.id) {
        c.body.insert("type".into(), ty.into());
        c.body.insert("definition".into(), def);
    }
}

/// Every Task state (nested in Parallel branches and Map processors too): its JSON pointer, its
/// `Resource`, and for `lambda:invoke` the `Parameters.FunctionName`.
fn collect_tasks(def: &mut Value, machine: &str, out: &mut Vec<(String, String, Option<String>)>) {
    fn walk(v: &Value, at: &str, out: &mut Vec<(String, String, Option<String>)>) {
        let Some(states) = v.get("States").and_then(Value::as_object) else {
            return;
        };
        for (name, s) in states {
            let path = format!("{at}/States/{}", name.replace('~', "~0").replace('/', "~1"));
            if s.get("Type").and_then(Value::as_str) == Some("Task")
                && let Some(res) = s.get("Resource").and_then(Value::as_str)
            {
                let fname = if res.starts_with("arn:aws:states:::lambda:invoke") {
                    s.pointer("/Parameters/FunctionName")
                        .or_else(|| s.pointer("/Parameters/FunctionName.$"))
                        .or_else(|| s.pointer("/Arguments/FunctionName"))
                        .map(text_of)
                } else {
                    None
                };
                out.push((path.clone(), res.to_owned(), fname));
            }
            if let Some(Value::Array(branches)) = s.get("Branches") {
                for (i, br) in branches.iter().enumerate() {
                    walk(br, &format!("{path}/Branches/{i}"), out);
                }
            }
            for key in ["Iterator", "ItemProcessor"] {
                if let Some(p) = s.get(key) {
                    walk(p, &format!("{path}/{key}"), out);
                }
            }
        }
    }
    let _ = machine;
    walk(def, "", out);
}

impl Built {
    /// The scenario JSON and the report.
    pub fn finish(self, t: &Template, file: &str) -> super::Imported {
        let name = t
            .description
            .as_deref()
            .map(|d| d.lines().next().unwrap_or_default().trim().to_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| file.to_owned());
        let mut description = format!("Imported from `{file}` by `eventflow import`.\n");
        if let Some(d) = &t.description {
            description.push_str(&format!("\n{}\n", d.trim()));
        }
        description.push_str("\n**Assumptions**\n\n");
        if self.assumptions.is_empty() {
            description.push_str("- none\n");
        }
        for a in &self.assumptions {
            match &a.component {
                Some(c) => description.push_str(&format!("- `{c}`: {}\n", a.text)),
                None => description.push_str(&format!("- {}\n", a.text)),
            }
        }
        let mut s = Map::new();
        s.insert("format".into(), super::FORMAT_V2.into());
        s.insert(
            "name".into(),
            Value::String(name.chars().take(200).collect()),
        );
        s.insert("description".into(), Value::String(description));
        s.insert("seed".into(), 1.into());
        s.insert("duration".into(), "10m".into());
        let sections = [
            (Kind::Producer, "producers"),
            (Kind::Bus, "buses"),
            (Kind::Queue, "queues"),
            (Kind::Stream, "streams"),
            (Kind::Topic, "topics"),
            (Kind::Consumer, "consumers"),
            (Kind::Pipe, "pipes"),
            (Kind::StateMachine, "state_machines"),
        ];
        for (kind, key) in sections {
            let items: Vec<Value> = self
                .comps
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| Value::Object(c.body.clone()))
                .collect();
            if !items.is_empty() {
                s.insert(key.into(), Value::Array(items));
            }
        }
        let report = Report {
            template: file.to_owned(),
            entries: self.entries,
            assumptions: self.assumptions,
            origins: self.origins,
        };
        super::Imported {
            scenario: Value::Object(s),
            report,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_names() {
        assert_eq!(
            arn_name("arn:aws:sqs:us-east-1:1:orders"),
            Some(("sqs".into(), "orders".into()))
        );
        assert_eq!(
            arn_name("arn:aws:lambda:us-east-1:1:function:f:live"),
            Some(("lambda".into(), "f".into()))
        );
        assert_eq!(
            arn_name("arn:aws:events:us-east-1:1:event-bus/b"),
            Some(("events".into(), "b".into()))
        );
        assert_eq!(
            arn_name("arn:aws:dynamodb:r:a:table/T/stream/2020"),
            Some(("dynamodb".into(), "T".into()))
        );
        assert_eq!(
            arn_name("https://sqs.us-east-1.amazonaws.com/1/q"),
            Some(("sqs".into(), "q".into()))
        );
        assert_eq!(arn_name("plain"), None);
    }

    #[test]
    fn schedule_rates() {
        assert_eq!(
            schedule_rate("rate(5 minutes)").map(|r| r.0),
            Some(1.0 / 300.0)
        );
        assert_eq!(
            schedule_rate("rate(1 hour)").map(|r| r.0),
            Some(1.0 / 3600.0)
        );
        // Every 15 minutes, every day: 96 a day.
        let r = schedule_rate("cron(0/15 * * * ? *)").expect("cron").0;
        assert!((r - 96.0 / 86_400.0).abs() < 1e-9, "{r}");
        // 10:00 on weekdays: 5 of 7 days.
        let r = schedule_rate("cron(0 10 ? * MON-FRI *)").expect("cron").0;
        assert!((r - 5.0 / 7.0 / 86_400.0).abs() < 1e-9, "{r}");
        assert!(schedule_rate("every tuesday").is_none());
    }

    #[test]
    fn dynamodb_filters_are_untyped() {
        let p = json!({"dynamodb": {"NewImage": {"status": {"S": ["NEW"]}, "n": {"N": [{"numeric": [">", 1]}]}}}});
        assert_eq!(
            untype(&p),
            json!({"dynamodb": {"NewImage": {"status": ["NEW"], "n": [{"numeric": [">", 1]}]}}})
        );
    }
}
