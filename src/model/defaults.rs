//! The AWS defaults and ranges eventflow follows, written once.
//!
//! Every value a scenario may leave out, and every range the validator enforces, is here with the
//! AWS documentation page it comes from. The model's serde defaults, the validator, the inspector
//! and the engine all read these constants, so a default can never differ between what the file
//! means, what the GUI shows and what the simulation does.
//!
//! Durations are [`Duration`]s (integer nanoseconds, the engine's `Nanos`); `Duration::as_nanos`
//! is a `const fn`, so the engine may write `const X: Nanos = defaults::X.as_nanos();`.

use std::ops::RangeInclusive;

use serde_json::Value;

use super::{
    AsyncInvoke, Consumer, ConsumerKind, Duration, Queue, RetryPolicy, Scaling, Scenario, Stream,
    StreamType, Target,
};

const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

// ── SQS ─────────────────────────────────────────────────────────────────────────────────────

/// How long a received message stays hidden before it can be received again: 30 seconds.
///
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/working-with-visibility-timeouts.html>
/// ("The default visibility timeout for a message is 30 seconds"; also
/// <https://docs.aws.amazon.com/cli/v1/reference/sqs/change-message-visibility.html>).
pub const SQS_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest visibility timeout SQS accepts: 12 hours.
///
/// <https://docs.aws.amazon.com/cli/v1/reference/sqs/change-message-visibility.html>
/// ("The minimum is 0 seconds. The maximum is 12 hours").
pub const SQS_VISIBILITY_TIMEOUT_MAX: Duration = Duration::from_secs(12 * HOUR);

/// How long SQS keeps a message nobody deleted: 4 days (`MessageRetentionPeriod` 345,600 s).
///
/// <https://docs.amazonaws.cn/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html>
/// ("Default: 345,600 (4 days)").
pub const SQS_RETENTION: Duration = Duration::from_secs(4 * DAY);

/// The FIFO deduplication interval: 5 minutes.
///
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-key-terms.html>
/// ("sent within a 5 minute deduplication interval").
pub const SQS_DEDUP_WINDOW: Duration = Duration::from_secs(300);

/// The receives a redrive policy may allow before dead-lettering (`maxReceiveCount`): 1 to 1,000.
///
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue.html>
/// (Maximum receives, 1 to 1,000). Without a redrive policy a message is received without limit.
pub const SQS_MAX_RECEIVES: RangeInclusive<u32> = 1..=1_000;

// ── SNS ─────────────────────────────────────────────────────────────────────────────────────

/// Retries of a delivery to an HTTP/S (service) subscription: 3, 20 seconds apart.
///
/// <https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.retry.html> ("By default, if
/// the initial delivery of the message fails, Amazon SNS attempts up to three retries with a
/// delay between failed attempts set at 20 seconds").
pub const SNS_HTTP_RETRIES: u32 = 3;

/// The delay between retries to an HTTP/S subscription: 20 seconds (same page).
pub const SNS_HTTP_RETRY_DELAY: Duration = Duration::from_secs(20);

/// Delivery attempts SNS makes to AWS-managed endpoints (SQS, Lambda): 100,015 over 23 days.
///
/// <https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html> (3 immediate,
/// 2 one second apart, 10 with backoff from 1 s to 20 s, 100,000 twenty seconds apart).
pub const SNS_MANAGED_ATTEMPTS: u32 = 100_015;

// ── Step Functions ──────────────────────────────────────────────────────────────────────────

/// The longest an express execution runs: 5 minutes.
///
/// <https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html>
/// (Express workflows: "Maximum duration: 5 minutes").
pub const SFN_EXPRESS_MAX: Duration = Duration::from_secs(300);

// ── EventBridge ─────────────────────────────────────────────────────────────────────────────

/// Retries of a rule target when its `retry` is absent: 185.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html>
/// ("By default, `EventBridge` retries sending the event for 24 hours and up to 185 times").
pub const EVENTBRIDGE_RETRY_ATTEMPTS: u32 = 185;

/// The retry attempts a retry policy may set (`MaximumRetryAttempts`): 0 to 185.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html>
pub const EVENTBRIDGE_RETRY_ATTEMPTS_RANGE: RangeInclusive<u32> = 0..=185;

/// The maximum event age when a target's `retry` is absent or leaves it out: 24 hours.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html>
pub const EVENTBRIDGE_MAX_AGE: Duration = Duration::from_secs(DAY);

/// The maximum event age a retry policy may set (`MaximumEventAgeInSeconds`): 60 s to 24 h.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html>
/// ("Minimum value of 60. Maximum value of 86400").
pub const EVENTBRIDGE_MAX_AGE_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(60)..=Duration::from_secs(DAY);

/// First retry delay of a rule target (doubling per attempt): 1 second.
///
/// `EventBridge` retries "with an exponential back off and jitter"
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html>) but
/// publishes no delays; 1 s is eventflow's choice, and `retry.backoff` overrides it.
pub const EVENTBRIDGE_BACKOFF: Duration = Duration::from_secs(1);

/// Longest retry delay of a rule target: 16 minutes (eventflow's choice, as
/// [`EVENTBRIDGE_BACKOFF`]; `retry.max_backoff` overrides it).
///
/// `EventBridge` documents that with the defaults it retries "for 24 hours and up to 185 times"
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html>), so
/// the schedule must spread 185 retries over about a day. With full jitter a capped delay
/// averages half the cap: the doubling from 1 s reaches 960 s after 10 retries (about 8.5
/// minutes in all), and the other 175 average 480 s, so the 185 retries take about
/// 175 × 480 s + 512 s ≈ 23.5 h, and the 24-hour age limit ends about as many schedules as
/// the attempt count does. (A 5-minute cap would give up after about 7.4 hours.)
pub const EVENTBRIDGE_MAX_BACKOFF: Duration = Duration::from_secs(960);

/// Full jitter on the retry delay: on, as `EventBridge` does ("exponential back off and jitter",
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html>).
pub const EVENTBRIDGE_JITTER: bool = true;

/// Targets a rule may have: 5.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html> and
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutTargets.html>
/// ("Each rule can have up to five (5) targets").
pub const EVENTBRIDGE_TARGETS_PER_RULE: usize = 5;

/// The envelope's `version` when a template leaves it out: `"0"`.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html>
/// ("By default, this is set to 0 (zero) in all events"). The other envelope defaults below are
/// placeholders in the documented shape (a 12-digit account, a Region name), as the same page
/// describes each field.
pub const ENVELOPE_VERSION: &str = "0";
/// The envelope's `detail-type` when a template leaves it out.
pub const ENVELOPE_DETAIL_TYPE: &str = "Event";
/// The envelope's `source` when a template leaves it out.
pub const ENVELOPE_SOURCE: &str = "eventflow";
/// The envelope's `account` when a template leaves it out (a 12-digit account number).
pub const ENVELOPE_ACCOUNT: &str = "123456789012";
/// The envelope's `region` when a template leaves it out.
pub const ENVELOPE_REGION: &str = "us-east-1";

/// The string envelope fields a template may leave out, with their defaults, in the order the
/// engine fills them (`id` and `time` are the engine's per event; `resources` defaults to `[]`
/// and `detail` to `{}`).
pub const ENVELOPE_STRING_DEFAULTS: [(&str, &str); 5] = [
    ("version", ENVELOPE_VERSION),
    ("detail-type", ENVELOPE_DETAIL_TYPE),
    ("source", ENVELOPE_SOURCE),
    ("account", ENVELOPE_ACCOUNT),
    ("region", ENVELOPE_REGION),
];

/// A template as the engine will send it, for static checks: the envelope defaults filled in.
/// `id` and `time` stay absent (they differ per event), and so does `resources`, which the
/// pattern's static check then treats as unknown.
#[must_use]
pub fn effective_template(t: &Value) -> Value {
    let mut v = t.clone();
    if let Some(o) = v.as_object_mut() {
        for (k, d) in ENVELOPE_STRING_DEFAULTS {
            o.entry(k).or_insert_with(|| Value::String(d.into()));
        }
        o.entry("detail")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    v
}

// ── Lambda ──────────────────────────────────────────────────────────────────────────────────

/// A function's timeout when the file gives none: 3 seconds.
///
/// <https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html> ("The default
/// timeout value is 3 seconds"; at most 900 seconds).
pub const LAMBDA_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest function timeout Lambda accepts: 15 minutes.
///
/// <https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html>
pub const LAMBDA_TIMEOUT_MAX: Duration = Duration::from_secs(900);

/// Retries of a failed asynchronous invocation (`MaximumRetryAttempts`): 2 by default, 0 to 2.
///
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html> ("by
/// default Lambda attempts to run it two more times") and
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html> ("between
/// 0 and 2").
pub const LAMBDA_ASYNC_RETRIES: u32 = 2;
/// See [`LAMBDA_ASYNC_RETRIES`].
pub const LAMBDA_ASYNC_RETRIES_RANGE: RangeInclusive<u32> = 0..=2;

/// The wait before the first and the second retry of a failed asynchronous invocation: 1 and
/// 2 minutes.
///
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html> ("with a
/// one-minute wait between the first two attempts, and two minutes between the second and
/// third attempts").
pub const LAMBDA_ASYNC_RETRY_DELAYS: [Duration; 2] =
    [Duration::from_secs(60), Duration::from_secs(120)];

/// How long Lambda keeps an asynchronous event (`MaximumEventAgeInSeconds`): 6 hours by
/// default, 60 s to 6 h.
///
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html> ("up to 6
/// hours") and <https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html>
/// (minimum 60, maximum 21,600).
pub const LAMBDA_ASYNC_MAX_AGE: Duration = Duration::from_secs(6 * HOUR);
/// See [`LAMBDA_ASYNC_MAX_AGE`].
pub const LAMBDA_ASYNC_MAX_AGE_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(60)..=Duration::from_secs(6 * HOUR);

/// SQS event source mapping: concurrent batches when messages appear (5), the most it adds
/// per minute while messages remain (300) and its ceiling (1,000).
///
/// <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html> ("Lambda starts
/// processing five batches at a time … increases the number of processes that are reading
/// batches by up to 300 more instances per minute. The maximum number of batches that an event
/// source mapping can process simultaneously is 1,000").
pub const SQS_POLLERS_START: u32 = 5;
/// See [`SQS_POLLERS_START`].
pub const SQS_POLLERS_PER_MINUTE: u32 = 300;
/// See [`SQS_POLLERS_START`].
pub const SQS_POLLERS_MAX: u32 = 1_000;

/// An SQS mapping's `MaximumConcurrency`: 2 to 1,000.
///
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-eventsourcemapping-scalingconfig.html>
pub const SQS_MAX_CONCURRENCY_RANGE: RangeInclusive<u32> = 2..=1_000;

/// Batch sizes of event source mappings: SQS standard default 10 (up to 10,000), SQS FIFO up
/// to 10, streams default 100 (up to 10,000).
///
/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html>
/// (`BatchSize`: "Amazon SQS standard – Default 10. Max 10,000 … Amazon SQS FIFO – Default 10.
/// Max 10 … Amazon Kinesis – Default 100. Max 10,000").
pub const SQS_BATCH_SIZE: u32 = 10;
/// See [`SQS_BATCH_SIZE`].
pub const SQS_FIFO_BATCH_SIZE_MAX: u32 = 10;
/// See [`SQS_BATCH_SIZE`].
pub const STREAM_BATCH_SIZE: u32 = 100;

/// The batching window (`MaximumBatchingWindowInSeconds`): 0 to 300 s, default 0 (Kafka's
/// default 500 ms); an SQS batch size above 10 needs a window of at least 1 s; FIFO queues have
/// none.
///
/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html>
/// (`MaximumBatchingWindowInSeconds`: "Valid Range: Minimum value of 0. Maximum value of 300",
/// "When you set `BatchSize` to a value greater than 10, you must set
/// `MaximumBatchingWindowInSeconds` to at least 1") and
/// <https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html> (500 ms default).
pub const BATCH_WINDOW_MAX: Duration = Duration::from_secs(300);
/// See [`BATCH_WINDOW_MAX`].
pub const KAFKA_BATCH_WINDOW: Duration = Duration::from_millis(500);

/// A stream mapping's `MaximumRetryAttempts`: -1 (until the record expires, the default) or 0
/// to 10,000; `MaximumRecordAgeInSeconds`: -1 (unlimited) or 60 s to 7 days;
/// `ParallelizationFactor`: 1 to 10, default 1.
///
/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html>
pub const STREAM_MAX_RETRY_ATTEMPTS: RangeInclusive<i64> = -1..=10_000;
/// See [`STREAM_MAX_RETRY_ATTEMPTS`].
pub const STREAM_MAX_RECORD_AGE_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(60)..=Duration::from_secs(7 * DAY);
/// See [`STREAM_MAX_RETRY_ATTEMPTS`].
pub const PARALLELIZATION_FACTOR_RANGE: RangeInclusive<u32> = 1..=10;

/// Kinesis data retention: 24 hours to 365 days. `DynamoDB` Streams keep records 24 hours.
///
/// <https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html> and
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html> ("stream
/// records … are removed automatically after 24 hours").
pub const KINESIS_RETENTION_RANGE: RangeInclusive<Duration> =
    Duration::from_secs(DAY)..=Duration::from_secs(365 * DAY);

/// A Kinesis shard's write limit: 1,000 records per second.
///
/// <https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html> ("Each shard
/// can support up to 1,000 records per second for writes").
pub const KINESIS_WRITE_LIMIT: f64 = 1_000.0;

/// The pace of a DLQ redrive (an SQS message move task): at most 500 messages per second, and
/// eventflow's assumption when a redrive gives no `rate`.
///
/// <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_StartMessageMoveTask.html>
/// (`MaxNumberOfMessagesPerSecond`: "The maximum number of messages per second that can be
/// moved … maximum 500").
pub const REDRIVE_RATE_MAX: f64 = 500.0;

/// Archive replay: `EventBridge` replays events "in order of one-minute slices of event time"
/// and documents no speed
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html>).
/// eventflow's assumption: each one-minute slice is replayed over this long, its events evenly
/// spaced in archive order (real time: replaying 5 minutes of events takes 5 minutes).
pub const REPLAY_SLICE: Duration = Duration::from_secs(60);

// ── Kinesis-style streams ───────────────────────────────────────────────────────────────────

/// How long a stream keeps records: 24 hours.
///
/// <https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention>
/// ("A Kinesis data stream stores records from 24 hours by default").
pub const STREAM_RETENTION: Duration = Duration::from_secs(DAY);

/// A failed stream batch is retried after this delay, blocking its partition meanwhile: 1 s.
///
/// Lambda's stream event sources retry a failed batch until it succeeds or expires, in order per
/// shard; the delay is eventflow's choice.
pub const STREAM_RETRY_DELAY: Duration = Duration::from_secs(1);

// ── Counts and rates: every number a scenario gives has a range ───────────────────────────

/// A consumer's concurrency (parallel slots, or instances of a stream consumer group): 1 to
/// 10,000.
///
/// Lambda's concurrency quota starts at 1,000 per Region and "can be increased to tens of
/// thousands" (<https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>); the
/// SQS event source's maximum concurrency is 2 to 1,000
/// (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html>). 10,000 is
/// eventflow's bound: each slot is held in memory.
pub const CONCURRENCY_RANGE: RangeInclusive<u32> = 1..=10_000;

/// Messages per invocation (`BatchSize`): 1 to 10,000.
///
/// <https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html>
/// ("Amazon SQS standard: Default 10. Max 10,000"; Kinesis and `DynamoDB`: "Max 10,000").
pub const BATCH_SIZE_RANGE: RangeInclusive<u32> = 1..=10_000;

/// Partitions (shards) of a stream: 1 to 10,000.
///
/// Kinesis's default shard quota is 500 or 200 per account and Region, raised on request
/// (<https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html>); 10,000 is
/// eventflow's bound: each partition is held in memory.
pub const PARTITIONS_RANGE: RangeInclusive<u32> = 1..=10_000;

/// A queue's `capacity` (messages held): 1 to 100 million. SQS itself has no bound on stored
/// messages (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html>);
/// a bound above [`MAX_MESSAGES_RANGE`] would never be reached.
pub const QUEUE_CAPACITY_RANGE: RangeInclusive<u64> = 1..=100_000_000;

/// Consecutive failures that open a circuit breaker: 1 to 10,000 (eventflow's bound).
pub const CIRCUIT_BREAKER_FAILURES_RANGE: RangeInclusive<u32> = 1..=10_000;

/// Time-series buckets over a run (`settings.series_buckets`, `--buckets`): 1 to 10,000
/// (eventflow's bound: more buckets than a screen has pixels show nothing more, and every node
/// keeps every bucket).
pub const SERIES_BUCKETS_RANGE: RangeInclusive<u32> = 1..=10_000;

/// The loop guard (`settings.max_events`): 1 to 1 billion produced events.
pub const MAX_EVENTS_RANGE: RangeInclusive<u64> = 1..=1_000_000_000;

/// The memory guard (`settings.max_messages`): 1 to 100 million messages alive at once (about
/// 11 GB at ~110 bytes a waiting message).
pub const MAX_MESSAGES_RANGE: RangeInclusive<u64> = 1..=100_000_000;

/// The largest rate (events per second) a producer, a schedule entry or a throttle may have:
/// 100,000.
///
/// Ten times `EventBridge`'s largest default `PutEvents` quota (10,000 per second in the largest
/// Regions, <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html>); a run
/// at this rate produces the loop guard's 10 million events in under two minutes of simulated
/// time. Rates above it (1e6 to 1e300 were seen) are mistakes, not load.
pub const MAX_RATE: f64 = 100_000.0;

/// Variables an input transformer may define (`InputPathsMap`): at most 100.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_InputTransformer.html>
/// ("Maximum number of 100 items").
pub const INPUT_PATHS_MAX: usize = 100;

/// The longest input template (`InputTemplate`): 8,192 characters.
///
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_InputTransformer.html>
/// ("Maximum length of 8192").
pub const INPUT_TEMPLATE_MAX_LEN: usize = 8_192;

/// The largest slowdown factor of a fault: 1,000 (eventflow's bound; a service 1,000 times
/// slower is an outage).
pub const SLOWDOWN_FACTOR_MAX: f64 = 1_000.0;

/// The range of a whole-number field, by its name in the file, for messages that explain a
/// value of the wrong type or sign ("concurrency must be a whole number from 1 to 10,000").
#[must_use]
pub fn count_range(field: &str) -> Option<(u64, u64)> {
    let r32 = |r: RangeInclusive<u32>| Some((u64::from(*r.start()), u64::from(*r.end())));
    let r64 = |r: RangeInclusive<u64>| Some((*r.start(), *r.end()));
    match field {
        "concurrency" => r32(CONCURRENCY_RANGE),
        "batch_size" => r32(BATCH_SIZE_RANGE),
        "partitions" => r32(PARTITIONS_RANGE),
        "capacity" => r64(QUEUE_CAPACITY_RANGE),
        "failures" => r32(CIRCUIT_BREAKER_FAILURES_RANGE),
        "series_buckets" => r32(SERIES_BUCKETS_RANGE),
        "max_events" => r64(MAX_EVENTS_RANGE),
        "max_messages" => r64(MAX_MESSAGES_RANGE),
        "max_receives" => r32(SQS_MAX_RECEIVES),
        "attempts" => r32(EVENTBRIDGE_RETRY_ATTEMPTS_RANGE),
        "limit" => Some((1, u64::MAX)),
        _ => None,
    }
}

/// `"{n}s to {m}h"` for a range of durations whose ends are whole seconds and whole hours, as
/// the validator's and the inspector's messages write AWS ranges (`60s to 24h`).
#[must_use]
pub fn seconds_to_hours(range: &RangeInclusive<Duration>) -> String {
    format!(
        "{}s to {}h",
        range.start().as_secs(),
        range.end().as_secs() / HOUR
    )
}

/// `"{n}h"` for a whole number of hours (`24h`, `12h`), as messages and hints write them where
/// [`Duration`]'s own display would say `1d`.
#[must_use]
pub fn hours(d: Duration) -> String {
    format!("{}h", d.as_secs() / HOUR)
}

// ── Values in force ─────────────────────────────────────────────────────────────────────────

impl Queue {
    /// The visibility timeout in force (the file's, else [`SQS_VISIBILITY_TIMEOUT`]).
    #[must_use]
    pub fn visibility_timeout_in_force(&self) -> Duration {
        self.visibility_timeout.unwrap_or(SQS_VISIBILITY_TIMEOUT)
    }

    /// The retention in force (the file's, else [`SQS_RETENTION`]).
    #[must_use]
    pub fn retention_in_force(&self) -> Duration {
        self.retention.unwrap_or(SQS_RETENTION)
    }

    /// The FIFO deduplication window in force (the file's, else [`SQS_DEDUP_WINDOW`]).
    #[must_use]
    pub fn dedup_window_in_force(&self) -> Duration {
        self.dedup_window.unwrap_or(SQS_DEDUP_WINDOW)
    }
}

impl Stream {
    /// The retention in force (the file's, else [`STREAM_RETENTION`]; `DynamoDB` Streams' is
    /// fixed at 24 hours).
    #[must_use]
    pub fn retention_in_force(&self) -> Duration {
        if self.kind_in_force() == StreamType::Dynamodb {
            return STREAM_RETENTION;
        }
        self.retention.unwrap_or(STREAM_RETENTION)
    }

    /// The stream type in force (Kinesis unless the file says otherwise).
    #[must_use]
    pub fn kind_in_force(&self) -> StreamType {
        self.kind.unwrap_or_default()
    }
}

/// Where a consumer's messages come from, as far as its defaults care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// Invoked by rule targets, topics or `emits`.
    Invoked,
    /// An SQS queue (FIFO or not).
    Queue {
        /// A FIFO queue?
        fifo: bool,
    },
    /// A stream of this type.
    Stream(StreamType),
}

impl Scenario {
    /// What consumer `c` reads, for its defaults (an unknown `from` counts as invoked).
    #[must_use]
    pub fn source_kind(&self, c: &Consumer) -> SourceKind {
        let Some(from) = c.from.as_deref() else {
            return SourceKind::Invoked;
        };
        if let Some(q) = self.queues.iter().find(|q| q.id == from) {
            return SourceKind::Queue {
                fifo: q.kind == super::QueueType::Fifo,
            };
        }
        if let Some(s) = self.streams.iter().find(|s| s.id == from) {
            return SourceKind::Stream(s.kind_in_force());
        }
        SourceKind::Invoked
    }
}

/// Batches a pipe reading a queue has in flight at once when the file sets no `concurrency`.
/// A pipe reading a stream reads each shard (times its parallelization factor) with one batch
/// at once, in order, as an event source mapping does: "`EventBridge` Pipes maintains the order of
/// records from the data stream"
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-kinesis.html>). "`EventBridge`
/// reads messages in batches and invokes your pipe once for each batch … By default, `EventBridge`
/// polls up to 10 messages in your queue simultaneously"
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-sqs.html>): the batch size
/// defaults are [`SQS_BATCH_SIZE`] and [`STREAM_BATCH_SIZE`], as for a mapping.
pub const PIPE_QUEUE_CONCURRENCY: u32 = 1;

impl super::Pipe {
    /// Records per batch in force: the file's, else a mapping's default for the source.
    #[must_use]
    pub fn batch_size_in_force(&self, source: SourceKind) -> u32 {
        self.batch_size.unwrap_or(match source {
            SourceKind::Stream(_) => STREAM_BATCH_SIZE,
            _ => SQS_BATCH_SIZE,
        })
    }

    /// Batches in flight at once: the file's, else [`PIPE_QUEUE_CONCURRENCY`] for a queue and
    /// one per stream lane (`lanes`: shards × parallelization factor) for a stream.
    #[must_use]
    pub fn concurrency_in_force(&self, source: SourceKind, lanes: u32) -> u32 {
        self.concurrency.unwrap_or(match source {
            SourceKind::Stream(_) => lanes.max(1),
            _ => PIPE_QUEUE_CONCURRENCY,
        })
    }
}

impl Consumer {
    /// The kind in force (a function unless the file says otherwise).
    #[must_use]
    pub fn kind_in_force(&self) -> ConsumerKind {
        self.kind.unwrap_or_default()
    }

    /// Messages per invocation in force: the file's, else AWS's default for the source
    /// ([`SQS_BATCH_SIZE`], [`STREAM_BATCH_SIZE`], 1 when invoked).
    #[must_use]
    pub fn batch_size_in_force(&self, source: SourceKind) -> u32 {
        self.batch_size.unwrap_or(match source {
            SourceKind::Invoked => 1,
            SourceKind::Queue { .. } => SQS_BATCH_SIZE,
            SourceKind::Stream(_) => STREAM_BATCH_SIZE,
        })
    }

    /// The time limit in force: the file's, else [`LAMBDA_TIMEOUT`] for a function and none
    /// for a service.
    #[must_use]
    pub fn timeout_in_force(&self) -> Option<Duration> {
        match self.timeout {
            Some(t) => t.limit(),
            None if self.kind_in_force() == ConsumerKind::Function => Some(LAMBDA_TIMEOUT),
            None => None,
        }
    }

    /// The batching window in force (the file's, else 0; Kafka's default [`KAFKA_BATCH_WINDOW`]).
    #[must_use]
    pub fn batch_window_in_force(&self, source: SourceKind) -> Duration {
        self.batch_window.unwrap_or(match source {
            SourceKind::Stream(StreamType::Kafka) => KAFKA_BATCH_WINDOW,
            _ => Duration::ZERO,
        })
    }

    /// The SQS poller scaling in force (AWS's ramp unless the file says `instant`).
    #[must_use]
    pub fn scaling_in_force(&self) -> Scaling {
        self.scaling.unwrap_or_default()
    }

    /// Asynchronous invocation settings with Lambda's defaults filled in.
    #[must_use]
    pub fn async_in_force(&self) -> AsyncInForce {
        let a: Option<&AsyncInvoke> = self.async_invoke.as_ref();
        AsyncInForce {
            retries: a.and_then(|a| a.retries).unwrap_or(LAMBDA_ASYNC_RETRIES),
            max_age: a.and_then(|a| a.max_age).unwrap_or(LAMBDA_ASYNC_MAX_AGE),
        }
    }

    /// A new consumer with every optional setting left to its default.
    #[must_use]
    pub fn new(id: &str, from: Option<String>, service_time: super::Distribution) -> Consumer {
        Consumer {
            id: id.to_owned(),
            kind: None,
            from,
            concurrency: 1,
            batch_size: None,
            batch_window: None,
            report_batch_item_failures: false,
            max_concurrency: None,
            scaling: None,
            filter: None,
            bisect_on_error: false,
            max_retry_attempts: None,
            max_record_age: None,
            parallelization_factor: None,
            on_failure: None,
            async_invoke: None,
            service_time,
            per_message: None,
            failure_rate: 0.0,
            fail_when: None,
            reject_when: None,
            rate_limit: None,
            timeout: None,
            idempotent: false,
            circuit_breaker: None,
            emits: Vec::new(),
            order_key: None,
            slo: None,
        }
    }
}

/// A function's asynchronous invocation settings with every default filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsyncInForce {
    /// Retries after a function error.
    pub retries: u32,
    /// Events older than this are dropped (sent to `on_failure`).
    pub max_age: Duration,
}

/// A rule target's retry policy with every default filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryInForce {
    /// Retries after the first attempt.
    pub attempts: u32,
    /// Give up on an event this old.
    pub max_age: Duration,
    /// First backoff delay.
    pub backoff: Duration,
    /// Longest backoff delay.
    pub max_backoff: Duration,
    /// Full jitter on the delay.
    pub jitter: bool,
}

impl Target {
    /// The retry policy in force: the target's `retry` with `EventBridge`'s defaults where it is
    /// silent, or the defaults alone when it has none.
    #[must_use]
    pub fn retry_in_force(&self) -> RetryInForce {
        let r: Option<&RetryPolicy> = self.retry.as_ref();
        RetryInForce {
            attempts: r.map_or(EVENTBRIDGE_RETRY_ATTEMPTS, |r| r.attempts),
            max_age: r.map_or(EVENTBRIDGE_MAX_AGE, |r| r.max_age),
            backoff: r.and_then(|r| r.backoff).unwrap_or(EVENTBRIDGE_BACKOFF),
            max_backoff: r
                .and_then(|r| r.max_backoff)
                .unwrap_or(EVENTBRIDGE_MAX_BACKOFF),
            jitter: r.and_then(|r| r.jitter).unwrap_or(EVENTBRIDGE_JITTER),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_lie_inside_their_ranges() {
        assert!(EVENTBRIDGE_RETRY_ATTEMPTS_RANGE.contains(&EVENTBRIDGE_RETRY_ATTEMPTS));
        assert!(EVENTBRIDGE_MAX_AGE_RANGE.contains(&EVENTBRIDGE_MAX_AGE));
        assert!(SQS_VISIBILITY_TIMEOUT <= SQS_VISIBILITY_TIMEOUT_MAX);
        assert!(EVENTBRIDGE_BACKOFF <= EVENTBRIDGE_MAX_BACKOFF);
    }

    #[test]
    fn values_in_nanoseconds_as_the_engine_keeps_them() {
        assert_eq!(SQS_VISIBILITY_TIMEOUT.as_nanos(), 30_000_000_000);
        assert_eq!(SQS_RETENTION.as_nanos(), 4 * 86_400_000_000_000);
        assert_eq!(SQS_DEDUP_WINDOW.as_nanos(), 300_000_000_000);
        assert_eq!(STREAM_RETENTION.as_nanos(), 86_400_000_000_000);
        assert_eq!(EVENTBRIDGE_MAX_AGE.as_nanos(), 86_400_000_000_000);
        assert_eq!(EVENTBRIDGE_MAX_BACKOFF.as_nanos(), 960_000_000_000);
    }

    #[test]
    fn values_in_force_fall_back_to_the_defaults() {
        let q: Queue = serde_json::from_str(r#"{ "id": "q", "retention": "1h" }"#).unwrap();
        assert_eq!(q.visibility_timeout_in_force(), SQS_VISIBILITY_TIMEOUT);
        assert_eq!(q.retention_in_force(), Duration::from_secs(3600));
        let t: Target =
            serde_json::from_str(r#"{ "to": "q", "retry": { "attempts": 3 } }"#).unwrap();
        let r = t.retry_in_force();
        assert_eq!((r.attempts, r.max_age), (3, EVENTBRIDGE_MAX_AGE));
        let bare: Target = serde_json::from_str(r#"{ "to": "q" }"#).unwrap();
        assert_eq!(bare.retry_in_force().attempts, EVENTBRIDGE_RETRY_ATTEMPTS);
    }

    #[test]
    fn texts_as_messages_write_them() {
        assert_eq!(seconds_to_hours(&EVENTBRIDGE_MAX_AGE_RANGE), "60s to 24h");
        assert_eq!(hours(SQS_VISIBILITY_TIMEOUT_MAX), "12h");
        assert_eq!(hours(STREAM_RETENTION), "24h");
        assert_eq!(SQS_VISIBILITY_TIMEOUT.to_string(), "30s");
        assert_eq!(SQS_DEDUP_WINDOW.to_string(), "5m");
    }

    #[test]
    fn effective_templates_fill_the_envelope_but_not_per_event_fields() {
        let t = effective_template(&serde_json::json!({ "source": "shop" }));
        assert_eq!(t["source"], "shop");
        assert_eq!(t["detail-type"], "Event");
        assert_eq!(t["account"], "123456789012");
        assert!(t.get("id").is_none() && t.get("time").is_none() && t.get("resources").is_none());
        assert!(t["detail"].is_object());
    }
}
