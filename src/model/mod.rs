//! The scenario model: what a scenario file says, as plain serde types.
//!
//! These types mirror `scenario-format.md` (format `eventflow/2`; version-1 files are migrated on load) field for field. They hold no
//! behaviour beyond small accessors: loading with good errors lives in [`crate::scenario`], and
//! the engine compiles a scenario into its own fast form in [`crate::sim`]. Optional fields are
//! skipped when saving so a saved file stays as small as the one the author wrote.

pub mod asl;
pub mod defaults;
mod duration;
mod flow;
pub mod topology;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use duration::Duration;
pub use flow::{
    FilterScopeName, Invocation, Pipe, StateMachine, StateMachineType, Subscription,
    SubscriptionRetry, Topic, TopicType,
};

/// The format version this build writes (version 1 files are migrated on load, see
/// [`crate::scenario::migrate`]).
pub const FORMAT: &str = "eventflow/2";

/// The version-1 format, read and migrated.
pub const FORMAT_V1: &str = "eventflow/1";

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The JSON Schema an editor checks and completes the file with (`eventflow schema`
    /// prints it); ignored by eventflow.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Format version, `eventflow/2` (`eventflow/1` files are migrated on load).
    #[serde(default = "default_format")]
    pub format: String,
    /// Was this scenario migrated from a version-1 file on load? (Some checks that are errors
    /// in a version-2 file are warnings in a migrated one.) Never saved.
    #[serde(skip)]
    #[schemars(skip)]
    pub migrated: Migrated,
    /// Display name.
    pub name: String,
    /// Markdown for the notes panel: what to watch, what to change, what will happen.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seed of every random stream.
    #[serde(default)]
    pub seed: u64,
    /// Simulated time to run.
    pub duration: Duration,
    /// Statistics ignore events that arrive before this time.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warmup: Duration,
    /// Event sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub producers: Vec<Producer>,
    /// EventBridge-style buses with their rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buses: Vec<Bus>,
    /// SQS-style queues (standard or FIFO).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<Queue>,
    /// Kafka/Kinesis-style partitioned streams.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<Stream>,
    /// Handlers reading queues or streams, or invoked directly by rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<Consumer>,
    /// SNS topics with their subscriptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<Topic>,
    /// `EventBridge` pipes: source, filter, enrichment, target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipes: Vec<Pipe>,
    /// Step Functions state machines (Amazon States Language definitions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state_machines: Vec<StateMachine>,
    /// Outage, slowdown and error windows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// Operator actions at given times: redrives and replays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    /// Canvas positions by component id, written by the GUI; never affects results.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layout: BTreeMap<String, [f32; 2]>,
    /// Health thresholds (defaults from the design notes' monitoring table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthThresholds>,
    /// Engine and measurement settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
}

/// Whether a scenario was migrated on load. Not part of its meaning: two scenarios that say
/// the same thing are equal however they were read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Migrated(pub bool);

impl PartialEq for Migrated {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

fn default_format() -> String {
    FORMAT.to_owned()
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(d: &Duration) -> bool {
    d.0 == 0
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
}

fn one() -> u32 {
    1
}

/// Engine and measurement settings, all optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Number of time-series buckets over the run (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_buckets: Option<u32>,
    /// Loop guard: stop the run once this many events have been produced (default 10 million).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_events: Option<u64>,
    /// Memory guard: stop the run once this many messages are alive at once (default 20
    /// million, about 2 GB of waiting messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u64>,
}

/// Thresholds that give each node a health state over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HealthThresholds {
    /// Consumer lag (messages waiting) for a warning.
    pub lag_warning: u64,
    /// Consumer lag for critical.
    pub lag_critical: u64,
    /// Dead-letter queue depth for a warning.
    pub dlq_warning: u64,
    /// Dead-letter queue depth for critical.
    pub dlq_critical: u64,
    /// Failed / attempted for a warning.
    pub error_rate_warning: f64,
    /// Failed / attempted for critical.
    pub error_rate_critical: f64,
}

impl Default for HealthThresholds {
    /// The design notes' monitoring table.
    fn default() -> Self {
        HealthThresholds {
            lag_warning: 10_000,
            lag_critical: 100_000,
            dlq_warning: 100,
            dlq_critical: 1_000,
            error_rate_warning: 0.001,
            error_rate_critical: 0.01,
        }
    }
}

/// How a producer spaces its events.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Exponential inter-arrival times (a Poisson process).
    #[default]
    Poisson,
    /// Even spacing, 1/rate apart.
    Uniform,
}

/// A change of a producer's rate from a time on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateChange {
    /// From this simulated time.
    pub at: Duration,
    /// The new rate, events per second (0 pauses the producer).
    pub rate: f64,
}

/// A token bucket: sustained `rate` per second with bursts up to `burst`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Tokens per second.
    pub rate: f64,
    /// Bucket size (default: one second of `rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<f64>,
}

/// An event source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Producer {
    /// Unique id.
    pub id: String,
    /// A bus, queue or stream id.
    pub to: String,
    /// Events per second.
    #[schemars(range(min = 0, max = 100_000))]
    pub rate: f64,
    /// Inter-arrival process.
    #[serde(default)]
    pub arrivals: Arrivals,
    /// Rate changes over time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<RateChange>,
    /// Stop after this many events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// `EventBridge` envelope template; objects with one `$`-key are generators.
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub event: Value,
    /// Client-side rate limit on sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(serde_json::Map::is_empty)
}

/// An EventBridge-style event bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bus {
    /// Unique id.
    pub id: String,
    /// Routing rules; an event goes to every target of every rule it matches.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Delivery latency from `PutEvents` to target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Distribution>,
    /// Keep matching events for replays in the `timeline`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub archive: bool,
    /// `PutEvents` quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
}

/// A routing rule: an event pattern and the targets of the events it matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// `EventBridge` event pattern, verbatim.
    pub pattern: Value,
    /// Where matching events go.
    pub targets: Vec<Target>,
}

/// A rule target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// A consumer (invoked directly), queue, stream or bus id.
    pub to: String,
    /// Retry policy for failed deliveries (`EventBridge` defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// Queue receiving events that exhausted their retries or age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// `InputPath` / `InputTransformer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Value>,
    /// Invocation rate limit for this target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
}

/// `EventBridge` target retry policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Retry attempts after the first ([`defaults::EVENTBRIDGE_RETRY_ATTEMPTS_RANGE`]; default
    /// [`defaults::EVENTBRIDGE_RETRY_ATTEMPTS`], 185).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Give up on an event this old ([`defaults::EVENTBRIDGE_MAX_AGE_RANGE`], 60s..=24h; default
    /// [`defaults::EVENTBRIDGE_MAX_AGE`], 24h).
    #[serde(default = "default_max_age")]
    pub max_age: Duration,
    /// First backoff delay (default [`defaults::EVENTBRIDGE_BACKOFF`], 1s), doubling per attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Duration>,
    /// Longest backoff delay (default [`defaults::EVENTBRIDGE_MAX_BACKOFF`], 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backoff: Option<Duration>,
    /// Full jitter on the backoff (default [`defaults::EVENTBRIDGE_JITTER`], true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<bool>,
}

fn default_attempts() -> u32 {
    defaults::EVENTBRIDGE_RETRY_ATTEMPTS
}

fn default_max_age() -> Duration {
    defaults::EVENTBRIDGE_MAX_AGE
}

/// Standard or FIFO queue semantics.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QueueType {
    /// At-least-once, best-effort order.
    #[default]
    Standard,
    /// Strict order per message group, exactly-once within the dedup window.
    Fifo,
}

/// What a full bounded queue does with a new message.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Refuse it; counted as rejected at the sender.
    #[default]
    Reject,
    /// Make the sender wait: backpressure reaches the producer.
    Block,
}

/// An SQS-style queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// Unique id.
    pub id: String,
    /// Standard or FIFO.
    #[serde(default, rename = "type")]
    pub kind: QueueType,
    /// Bound on messages held (waiting and in flight); unbounded when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    /// Behaviour when full.
    #[serde(default)]
    pub when_full: WhenFull,
    /// How long a received message stays invisible before redelivery (default
    /// [`defaults::SQS_VISIBILITY_TIMEOUT`], 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_timeout: Option<Duration>,
    /// Redrive policy: receives before dead-lettering ([`defaults::SQS_MAX_RECEIVES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_receives: Option<u32>,
    /// Redrive target queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// Probability that a message is delivered twice (standard queues).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub duplicate_rate: f64,
    /// FIFO message group path (e.g. `detail.customerId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// FIFO deduplication window (default [`defaults::SQS_DEDUP_WINDOW`], 5 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_window: Option<Duration>,
    /// Messages older than this are deleted (default [`defaults::SQS_RETENTION`], 4 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Duration>,
    /// FIFO: the event path holding the message deduplication id; absent = content-based
    /// deduplication (a hash of the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
}

/// A Kafka/Kinesis-style partitioned stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// Unique id.
    pub id: String,
    /// Number of partitions (shards).
    #[schemars(range(min = 1, max = 10_000))]
    pub partitions: u32,
    /// Partition key path; records without it are spread round-robin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// How long records are kept (default [`defaults::STREAM_RETENTION`], 24h; Kinesis 24h to
    /// 365d, `DynamoDB` fixed at 24h, Kafka any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Duration>,
    /// `kinesis` (the default), `dynamodb` or `kafka`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<StreamType>,
    /// Records per second per partition a writer may put (Kinesis: 1,000); writes over it are
    /// throttled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_limit: Option<f64>,
}

/// What a stream is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StreamType {
    /// Amazon Kinesis Data Streams.
    #[default]
    Kinesis,
    /// `DynamoDB` Streams (24 h retention).
    Dynamodb,
    /// Apache Kafka (Amazon MSK or self-managed): any retention.
    Kafka,
}

/// A service-time or latency distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// Always this long.
    Constant(Duration),
    /// Exponential with this mean.
    Exponential {
        /// Mean.
        mean: Duration,
    },
    /// Uniform between two bounds.
    Uniform([Duration; 2]),
    /// Log-normal with this mean and standard deviation (of the time itself).
    Lognormal {
        /// Mean.
        mean: Duration,
        /// Standard deviation.
        stddev: Duration,
    },
}

impl Distribution {
    /// Mean, nanoseconds.
    #[must_use]
    pub fn mean_ns(&self) -> f64 {
        match self {
            Distribution::Constant(d) => d.0 as f64,
            Distribution::Exponential { mean } | Distribution::Lognormal { mean, .. } => {
                mean.0 as f64
            }
            Distribution::Uniform([lo, hi]) => f64::midpoint(lo.0 as f64, hi.0 as f64),
        }
    }

    /// Can a sample plausibly exceed `limit` (beyond four standard deviations above the mean
    /// for the unbounded ones)? Used to say whether a timeout matters.
    #[must_use]
    pub fn may_exceed(&self, limit: Duration) -> bool {
        let l = limit.0 as f64;
        match self {
            Distribution::Constant(d) => d.0 as f64 > l,
            Distribution::Uniform([_, hi]) => hi.0 as f64 > l,
            Distribution::Exponential { .. } | Distribution::Lognormal { .. } => {
                let m = self.mean_ns();
                m + 4.0 * m * self.scv().sqrt() > l
            }
        }
    }

    /// Squared coefficient of variation (variance / mean²), for the G/G/c approximations.
    #[must_use]
    pub fn scv(&self) -> f64 {
        let m = self.mean_ns();
        if m <= 0.0 {
            return 0.0;
        }
        match self {
            Distribution::Constant(_) => 0.0,
            Distribution::Exponential { .. } => 1.0,
            Distribution::Uniform([lo, hi]) => {
                let w = hi.0 as f64 - lo.0 as f64;
                w * w / 12.0 / (m * m)
            }
            Distribution::Lognormal { stddev, .. } => {
                let s = stddev.0 as f64;
                s * s / (m * m)
            }
        }
    }
}

/// A circuit breaker around a consumer's handler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Consecutive failures that open it.
    pub failures: u32,
    /// How long it stays open before a half-open probe.
    pub cooldown: Duration,
}

/// When an `emits` entry fires.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EmitOn {
    /// After successful processing.
    #[default]
    Success,
    /// After a failed attempt that will not be retried by this consumer.
    Failure,
}

/// An event a consumer publishes after handling one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Emit {
    /// On success or on failure.
    #[serde(default)]
    pub on: EmitOn,
    /// A bus, queue or stream id.
    pub to: String,
    /// Envelope template; `$from` copies a path from the triggering event.
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub event: Value,
    /// Emit only this fraction of the time (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// A service-level objective for capacity recommendations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// The wait (queueing delay) target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Duration>,
    /// Which quantile of the wait must meet it (default 0.99).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
    /// Utilization target (default 0.67).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
}

/// What a consumer is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerKind {
    /// An AWS Lambda function: invoked asynchronously by rules, topics and `emits`, or through
    /// an event source mapping.
    #[default]
    Function,
    /// A synchronous endpoint (an HTTP API, a container service, an API destination).
    Service,
}

/// How an SQS event source mapping scales its pollers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// As AWS documents: five concurrent batches, then up to 300 more per minute.
    #[default]
    Aws,
    /// Every slot at once (the version-1 behaviour).
    Instant,
}

/// A function's time limit: a duration, or `"none"` (a service, or a migrated version-1
/// consumer that had none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeLimit {
    /// Attempts longer than this fail with reason `timeout`.
    Limit(Duration),
    /// No limit.
    Unlimited,
}

impl TimeLimit {
    /// The limit, if any.
    #[must_use]
    pub fn limit(self) -> Option<Duration> {
        match self {
            TimeLimit::Limit(d) => Some(d),
            TimeLimit::Unlimited => None,
        }
    }
}

impl std::fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeLimit::Limit(d) => d.fmt(f),
            TimeLimit::Unlimited => f.write_str("none"),
        }
    }
}

impl Serialize for TimeLimit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TimeLimit::Limit(d) => d.serialize(s),
            TimeLimit::Unlimited => s.serialize_str("none"),
        }
    }
}

impl<'de> Deserialize<'de> for TimeLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if v.as_str() == Some("none") {
            return Ok(TimeLimit::Unlimited);
        }
        serde_json::from_value::<Duration>(v)
            .map(TimeLimit::Limit)
            .map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for TimeLimit {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimeLimit".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let duration = generator.subschema_for::<Duration>();
        schemars::json_schema!({
            "description": "A duration, or \"none\" for no time limit.",
            "anyOf": [ duration, { "const": "none" } ]
        })
    }
}

/// A function's asynchronous invocation settings (Lambda's `EventInvokeConfig`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncInvoke {
    /// Retries after a function error, 0 to 2 (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Events older than this are dropped unprocessed (60s to 6h, default 6h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<Duration>,
    /// Where failed or expired invocations go: a standard queue, a standard topic, a bus or a
    /// function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
    /// Where successful invocations' records go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<String>,
}

/// A handler: a function or a service reading a queue or stream (an event source mapping), or
/// invoked by rule targets, topics and `emits`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Consumer {
    /// Unique id.
    pub id: String,
    /// `function` (the default) or `service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ConsumerKind>,
    /// The queue or stream read (an event source mapping); absent for a consumer invoked by
    /// rule targets, topics or `emits`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A function's reserved concurrency, a service's requests at once, or the instances of a
    /// stream consumer group.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10_000))]
    pub concurrency: u32,
    /// Messages per invocation (default 10 for SQS, 100 for streams, 1 when invoked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10_000))]
    pub batch_size: Option<u32>,
    /// How long an event source mapping waits to fill a batch (0 to 300s; default 0, Kafka
    /// 500ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_window: Option<Duration>,
    /// Only the failed messages of a batch return to the queue (Lambda's
    /// `ReportBatchItemFailures`); otherwise a failure returns the whole batch.
    #[serde(default, skip_serializing_if = "is_false")]
    pub report_batch_item_failures: bool,
    /// SQS: most concurrent batches the mapping runs (2 to 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// SQS: `aws` (ramp up as AWS does, the default) or `instant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    /// Event patterns (Lambda's `FilterCriteria`): a message matching none is deleted without
    /// invoking the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Vec<Value>>,
    /// Streams: split a failing batch in two and retry each half.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bisect_on_error: bool,
    /// Streams: retries of a failed batch (-1 = until the record expires, the default; 0 to
    /// 10,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry_attempts: Option<i64>,
    /// Streams: discard a failed batch whose oldest record is older than this (60s to 7d;
    /// absent = unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_record_age: Option<Duration>,
    /// Kinesis and `DynamoDB`: batches per partition at once, keeping order per key (1 to 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelization_factor: Option<u32>,
    /// Streams: where a discarded batch goes (a queue or topic), as one record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
    /// A function's asynchronous invocation settings.
    #[serde(default, rename = "async", skip_serializing_if = "Option::is_none")]
    pub async_invoke: Option<AsyncInvoke>,
    /// Handler time per invocation.
    pub service_time: Distribution,
    /// Added to `service_time` for each message of a batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_message: Option<Duration>,
    /// Probability that an attempt fails.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub failure_rate: f64,
    /// Events matching this pattern always fail (poison messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_when: Option<Value>,
    /// A service: events matching this pattern are refused without retry (HTTP 4xx other than
    /// 429) and go straight to the rule target's dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_when: Option<Value>,
    /// A service: requests per second it accepts (an API destination's
    /// `InvocationRateLimitPerSecond`); calls over it are held back, not failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
    /// Attempts taking longer fail with reason `timeout` (a function's default is 3s, a
    /// service's none; `"none"` for no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<TimeLimit>,
    /// Skips events it has already processed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub idempotent: bool,
    /// Opens after consecutive failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Events published after handling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emits: Vec<Emit>,
    /// Event path whose order matters, for `out_of_order`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_key: Option<String>,
    /// Capacity-planning targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
}

/// Kinds of fault window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Nothing is processed (or accepted, for a bus).
    Outage,
    /// Service times multiplied by `factor`.
    Slowdown,
    /// Attempts fail with probability `rate`.
    Errors,
}

/// A fault on one component over a window of simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Consumer, queue or bus id.
    pub target: String,
    /// Start.
    pub from: Duration,
    /// End.
    pub to: Duration,
    /// What goes wrong.
    pub kind: FaultKind,
    /// Slowdown factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Error probability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

/// An operator action at a simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TimelineRepr", into = "TimelineRepr")]
pub struct TimelineEntry {
    /// When.
    pub at: Duration,
    /// What.
    pub action: TimelineAction,
}

/// What a timeline entry does.
#[derive(Clone, Debug, PartialEq)]
pub enum TimelineAction {
    /// Move every message of a dead-letter queue back to a queue.
    Redrive {
        /// Messages moved per second (at most 500, the SQS move-task limit; default 500).
        rate: Option<f64>,
        /// The dead-letter queue.
        dlq: String,
        /// The queue to move them to.
        to: String,
    },
    /// Re-publish a bus's archived events produced in [from, to).
    Replay {
        /// The archiving bus.
        bus: String,
        /// Window start.
        from: Duration,
        /// Window end.
        to: Duration,
    },
    /// Change a consumer's concurrency from this time on (an operator raising or lowering a
    /// function's reserved concurrency, or a service's worker count, mid-run): on disk
    /// `{ "at": "2m", "set": "payments", "concurrency": 20 }`. Extra slots start taking work at
    /// once; when it drops, busy slots beyond the new value finish what they hold and then
    /// take no more.
    SetConcurrency {
        /// The consumer (one reading a queue, or invoked directly).
        consumer: String,
        /// Its concurrency from `at` on.
        concurrency: u32,
    },
}

impl schemars::JsonSchema for TimelineEntry {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimelineEntry".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        TimelineRepr::json_schema(generator)
    }
}

/// The on-disk shape of a timeline entry: `to` is a queue id for a redrive and a time for a replay.
#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TimelineRepr {
    at: Duration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redrive: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replay: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<Value>,
    /// A redrive's pace: messages per second (at most 500; default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    /// The consumer whose `concurrency` changes at `at` (with `concurrency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set: Option<String>,
    /// The consumer's concurrency from `at` on (with `set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    concurrency: Option<u32>,
}

impl TryFrom<TimelineRepr> for TimelineEntry {
    type Error = String;
    fn try_from(r: TimelineRepr) -> Result<Self, String> {
        if let Some(consumer) = r.set {
            if r.redrive.is_some() || r.replay.is_some() {
                return Err("an entry is one of `redrive`, `replay` or `set`, not several".into());
            }
            if r.from.is_some() || r.to.is_some() || r.rate.is_some() {
                return Err("a `set` entry takes only `at`, `set` and `concurrency`".into());
            }
            let Some(concurrency) = r.concurrency else {
                return Err(format!(
                    "a `set` entry needs `concurrency`: the slots \"{consumer}\" has from `at` on"
                ));
            };
            return Ok(TimelineEntry {
                at: r.at,
                action: TimelineAction::SetConcurrency {
                    consumer,
                    concurrency,
                },
            });
        }
        if r.concurrency.is_some() {
            return Err(
                "`concurrency` belongs to a `set` entry: name the consumer in `set`".into(),
            );
        }
        let action =
            match (r.redrive, r.replay) {
                (Some(dlq), None) => {
                    if r.from.is_some() {
                        return Err(
                            "a redrive has no `from`; it moves the whole dead-letter queue".into(),
                        );
                    }
                    match r.to {
                        Some(Value::String(to)) => TimelineAction::Redrive {
                            rate: r.rate,
                            dlq,
                            to,
                        },
                        _ => return Err(
                            "a redrive needs `to`: the id of the queue to move messages back to"
                                .into(),
                        ),
                    }
                }
                (None, Some(bus)) => {
                    if r.rate.is_some() {
                        return Err("a replay has no `rate`; only a redrive is paced by one".into());
                    }
                    let to = match r.to {
                        Some(v) => serde_json::from_value::<Duration>(v)
                            .map_err(|e| format!("replay `to` must be a time: {e}"))?,
                        None => return Err("a replay needs `from` and `to` times".into()),
                    };
                    TimelineAction::Replay {
                        bus,
                        from: r.from.unwrap_or_default(),
                        to,
                    }
                }
                (Some(_), Some(_)) => {
                    return Err("an entry is either a `redrive` or a `replay`, not both".into());
                }
                (None, None) => {
                    return Err("a timeline entry needs `redrive`, `replay` or `set`".into());
                }
            };
        Ok(TimelineEntry { at: r.at, action })
    }
}

impl From<TimelineEntry> for TimelineRepr {
    fn from(e: TimelineEntry) -> Self {
        match e.action {
            TimelineAction::Redrive { rate, dlq, to } => TimelineRepr {
                at: e.at,
                redrive: Some(dlq),
                replay: None,
                from: None,
                to: Some(Value::String(to)),
                rate,
                set: None,
                concurrency: None,
            },
            TimelineAction::Replay { bus, from, to } => TimelineRepr {
                at: e.at,
                redrive: None,
                replay: Some(bus),
                from: Some(from),
                to: Some(Value::String(to.to_string())),
                rate: None,
                set: None,
                concurrency: None,
            },
            TimelineAction::SetConcurrency {
                consumer,
                concurrency,
            } => TimelineRepr {
                at: e.at,
                redrive: None,
                replay: None,
                from: None,
                to: None,
                rate: None,
                set: Some(consumer),
                concurrency: Some(concurrency),
            },
        }
    }
}

/// What kind of component an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A producer.
    Producer,
    /// A bus.
    Bus,
    /// A queue.
    Queue,
    /// A stream.
    Stream,
    /// A consumer.
    Consumer,
    /// An SNS topic.
    Topic,
    /// An `EventBridge` pipe.
    Pipe,
    /// A Step Functions state machine.
    StateMachine,
}

impl Kind {
    /// Lower-case name as in the results contract.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Producer => "producer",
            Kind::Bus => "bus",
            Kind::Queue => "queue",
            Kind::Stream => "stream",
            Kind::Consumer => "consumer",
            Kind::Topic => "topic",
            Kind::Pipe => "pipe",
            Kind::StateMachine => "state_machine",
        }
    }

    /// The kind in prose (`state machine`, not the contract's `state_machine`), for messages.
    #[must_use]
    pub fn noun(self) -> &'static str {
        match self {
            Kind::StateMachine => "state machine",
            k => k.as_str(),
        }
    }

    /// The kind named by its lower-case name (`"queue"`), as results and figures write it.
    #[must_use]
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    /// The lower-case name; honours width and alignment (`{:<9}`) like a `str`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The JSON Schema of a scenario file (draft 2020-12), generated from these types: what
/// `eventflow schema` prints and the bundled files name in `"$schema"` for editor completion.
#[must_use]
pub fn json_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Scenario)).unwrap_or(Value::Null);
    if let Some(o) = schema.as_object_mut() {
        o.insert(
            "title".into(),
            Value::from("eventflow scenario (eventflow/2)"),
        );
    }
    schema
}

impl Scenario {
    /// Every component's id and kind, in file order (producers, buses, queues, streams, consumers,
    /// topics, pipes, state machines).
    #[must_use]
    pub fn components(&self) -> Vec<(&str, Kind)> {
        let mut out = Vec::new();
        out.extend(
            self.producers
                .iter()
                .map(|p| (p.id.as_str(), Kind::Producer)),
        );
        out.extend(self.buses.iter().map(|b| (b.id.as_str(), Kind::Bus)));
        out.extend(self.queues.iter().map(|q| (q.id.as_str(), Kind::Queue)));
        out.extend(self.streams.iter().map(|s| (s.id.as_str(), Kind::Stream)));
        out.extend(
            self.consumers
                .iter()
                .map(|c| (c.id.as_str(), Kind::Consumer)),
        );
        out.extend(self.topics.iter().map(|t| (t.id.as_str(), Kind::Topic)));
        out.extend(self.pipes.iter().map(|p| (p.id.as_str(), Kind::Pipe)));
        out.extend(
            self.state_machines
                .iter()
                .map(|m| (m.id.as_str(), Kind::StateMachine)),
        );
        out
    }

    /// The kind of the component with this id.
    #[must_use]
    pub fn kind_of(&self, id: &str) -> Option<Kind> {
        self.components()
            .into_iter()
            .find(|(i, _)| *i == id)
            .map(|(_, k)| k)
    }

    /// Health thresholds in force.
    #[must_use]
    pub fn health_thresholds(&self) -> HealthThresholds {
        self.health.clone().unwrap_or_default()
    }

    /// An empty scenario, as File ▸ New makes.
    #[must_use]
    pub fn empty(name: &str) -> Self {
        Scenario {
            schema: None,
            format: FORMAT.into(),
            migrated: Migrated(false),
            name: name.into(),
            description: String::new(),
            seed: 1,
            duration: Duration::from_secs(600),
            warmup: Duration::ZERO,
            producers: vec![],
            buses: vec![],
            queues: vec![],
            streams: vec![],
            consumers: vec![],
            topics: vec![],
            pipes: vec![],
            state_machines: vec![],
            faults: vec![],
            timeline: vec![],
            layout: BTreeMap::new(),
            health: None,
            settings: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_read_the_contract_forms() {
        let c: Distribution = serde_json::from_str(r#"{ "constant": "10ms" }"#).unwrap();
        assert_eq!(c, Distribution::Constant(Duration::from_millis(10)));
        let e: Distribution =
            serde_json::from_str(r#"{ "exponential": { "mean": "80ms" } }"#).unwrap();
        assert_eq!(e.mean_ns(), 80e6);
        let u: Distribution = serde_json::from_str(r#"{ "uniform": ["5ms", "20ms"] }"#).unwrap();
        assert_eq!(u.mean_ns(), 12.5e6);
        let l: Distribution =
            serde_json::from_str(r#"{ "lognormal": { "mean": "80ms", "stddev": "40ms" } }"#)
                .unwrap();
        assert!((l.scv() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn timeline_entries_round_trip() {
        let text = r#"[ { "at": "8m", "redrive": "inventory-dlq", "to": "inventory-q" },
                        { "at": "9m", "replay": "orders-bus", "from": "0s", "to": "5m" } ]"#;
        let entries: Vec<TimelineEntry> = serde_json::from_str(text).unwrap();
        assert_eq!(
            entries[1].action,
            TimelineAction::Replay {
                bus: "orders-bus".into(),
                from: Duration::ZERO,
                to: Duration::from_secs(300)
            }
        );
        let again: Vec<TimelineEntry> =
            serde_json::from_str(&serde_json::to_string(&entries).unwrap()).unwrap();
        assert_eq!(entries, again);
        assert!(serde_json::from_str::<TimelineEntry>(r#"{ "at": "1m" }"#).is_err());
    }

    #[test]
    fn a_concurrency_change_reads_and_writes_as_documented() {
        let text = r#"{ "at": "2m", "set": "payments", "concurrency": 20 }"#;
        let e: TimelineEntry = serde_json::from_str(text).unwrap();
        assert_eq!(e.at, Duration::from_secs(120));
        assert_eq!(
            e.action,
            TimelineAction::SetConcurrency {
                consumer: "payments".into(),
                concurrency: 20
            }
        );
        let written = serde_json::to_value(&e).unwrap();
        assert_eq!(
            written,
            serde_json::json!({ "at": "2m", "set": "payments", "concurrency": 20 })
        );
        for bad in [
            r#"{ "at": "2m", "set": "payments" }"#,
            r#"{ "at": "2m", "concurrency": 3 }"#,
            r#"{ "at": "2m", "set": "p", "concurrency": 3, "redrive": "d" }"#,
            r#"{ "at": "2m", "set": "p", "concurrency": 3, "rate": 1 }"#,
        ] {
            assert!(serde_json::from_str::<TimelineEntry>(bad).is_err(), "{bad}");
        }
    }
}
