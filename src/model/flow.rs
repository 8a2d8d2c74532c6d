//! Scenario types of the version-2 routing components: SNS topics with their subscriptions,
//! `EventBridge` Pipes, and Step Functions state machines (`scenario-format.md`, "Topics",
//! "Pipes", "State machines"). Plain serde types; a state machine's `definition` stays the
//! Amazon States Language JSON its author wrote, read by [`super::asl`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Duration;

/// Standard or FIFO, for topics.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TopicType {
    /// Best-effort ordering, any subscriber kind.
    #[default]
    Standard,
    /// Ordered per message group; queue subscriptions only.
    Fifo,
}

/// Which part of a message a filter policy reads (SNS's `FilterPolicyScope`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FilterScopeName {
    /// `MessageAttributes` (the default): the event's `attributes` object.
    #[default]
    Attributes,
    /// `MessageBody`: the event itself.
    Body,
}

impl From<FilterScopeName> for crate::pattern::FilterScope {
    fn from(s: FilterScopeName) -> Self {
        match s {
            FilterScopeName::Attributes => crate::pattern::FilterScope::Attributes,
            FilterScopeName::Body => crate::pattern::FilterScope::Body,
        }
    }
}

/// Delivery retries to a service (HTTP/S) subscription.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRetry {
    /// Retries after the first try (default 3, 20 s apart: SNS's default HTTP/S delivery
    /// policy, `numRetries` 3 with `minDelayTarget` = `maxDelayTarget` = 20 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100))]
    pub retries: Option<u32>,
}

/// One subscription of a topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// A queue, consumer (function or service) or bus id.
    pub to: String,
    /// An SNS filter policy, verbatim; none = every message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// What the filter reads: `attributes` (default) or `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_scope: Option<FilterScopeName>,
    /// A queue (of the topic's type) receiving what cannot be delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// Delivery retries to a service subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<SubscriptionRetry>,
}

impl Subscription {
    /// The filter scope in force (SNS's default is `MessageAttributes`).
    #[must_use]
    pub fn filter_scope_in_force(&self) -> crate::pattern::FilterScope {
        self.filter_scope.unwrap_or_default().into()
    }

    /// Retries to a service in force (default 3).
    #[must_use]
    pub fn retries_in_force(&self) -> u32 {
        self.retry
            .as_ref()
            .and_then(|r| r.retries)
            .unwrap_or(super::defaults::SNS_HTTP_RETRIES)
    }
}

/// An SNS topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Unique id.
    pub id: String,
    /// `standard` (default) or `fifo`.
    #[serde(rename = "type", default, skip_serializing_if = "is_standard_topic")]
    pub kind: TopicType,
    /// The FIFO message group: a path into the event (FIFO topics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Who receives a copy of each message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_standard_topic(t: &TopicType) -> bool {
    *t == TopicType::Standard
}

/// How a pipe calls a function target.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Invocation {
    /// Waits for the function (`REQUEST_RESPONSE`, the default).
    #[default]
    Sync,
    /// Hands the event to the function's asynchronous queue (`FIRE_AND_FORGET`).
    Async,
}

/// An `EventBridge` pipe: source → filter → enrichment → target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pipe {
    /// Unique id.
    pub id: String,
    /// The queue or stream read.
    pub source: String,
    /// Records per batch (default 10 for a queue, 100 for a stream, as for an event source
    /// mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10_000))]
    pub batch_size: Option<u32>,
    /// Longest wait to fill a batch (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_window: Option<Duration>,
    /// Batches in flight at once (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub concurrency: Option<u32>,
    /// Event patterns; an event matching none is dropped (completed, counted filtered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<Value>,
    /// A function or service called synchronously before the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<String>,
    /// A bus, queue, stream, topic, function/service or state machine id.
    pub target: String,
    /// A bus target: the `source` of the events the pipe puts on it (default `Pipe <id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source: Option<String>,
    /// A bus target: the `detail-type` of the events the pipe puts on it (default
    /// `Event from aws:sqs`, `aws:kinesis`, `aws:dynamodb` or `aws:kafka`, after the source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
    /// How a function target is called: `sync` (default) or `async`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
    /// A queue receiving batches that keep failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// Retries of a failing batch (stream sources; -1 = until the record expires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry_attempts: Option<i64>,
    /// Stream sources: discard a failing batch whose oldest record is older than this (60s to
    /// 7d; absent = unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_record_age: Option<Duration>,
    /// Stream sources: split a failing batch in two and retry each half
    /// (`OnPartialBatchItemFailure: AUTOMATIC_BISECT`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub bisect_on_error: bool,
    /// Kinesis and `DynamoDB` sources: batches per shard at once, keeping order per key
    /// (1 to 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub parallelization_factor: Option<u32>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_false(b: &bool) -> bool {
    !*b
}

/// Standard or express, for state machines.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StateMachineType {
    /// Exactly-once executions up to a year long.
    #[default]
    Standard,
    /// Executions up to 5 minutes.
    Express,
}

/// A Step Functions state machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateMachine {
    /// Unique id.
    pub id: String,
    /// `standard` (default) or `express`.
    #[serde(rename = "type", default, skip_serializing_if = "is_standard_machine")]
    pub kind: StateMachineType,
    /// Amazon States Language, verbatim: `StartAt`, `States`, optional `TimeoutSeconds`.
    pub definition: Value,
    /// Express machines: the fraction of starts that run twice (AWS starts asynchronous
    /// express executions at least once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_rate: Option<f64>,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_standard_machine(t: &StateMachineType) -> bool {
    *t == StateMachineType::Standard
}
