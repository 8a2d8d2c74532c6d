//! The discrete-event engine: components compiled from a scenario, one event queue, one clock.
//!
//! Simulated time is integer nanoseconds. The event queue is ordered by (time, insertion
//! sequence), a total order, so simultaneous events always run in the same order. Messages live
//! in a slab with a free list and events are small `Copy` values, so the steady state of a run
//! allocates nothing per event (generated event payloads excepted: a template with generators
//! builds a JSON value per event; a static template shares one).
//!
//! Accounting: every *owed delivery* (a copy per matched rule target, a message sent straight to
//! a queue, a record per consumer group of a stream, a redriven message) ends in exactly one of
//! completed, dead-lettered, rejected, expired or dropped, or is still in flight at the end.
//! Copies nobody owes (SQS duplicates, messages sitting in a dead-letter queue) are measured at
//! their nodes but do not enter the balance.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::rng::{Stream, mix64, stable_hash};
use super::template::{Template, lookup};
use crate::metrics::{Counter, Latency, Level, Sampled, SeriesRecorder, TimeAverage};
use crate::model::{
    Arrivals, Distribution, EmitOn, FaultKind, Kind, QueueType, Scenario, TimelineAction, WhenFull,
};
use crate::pattern::{MatchScratch, Pattern, RuleMatcher, Transform};

/// Simulated time, nanoseconds.
pub type Nanos = u64;

const NONE: u32 = u32::MAX;
const SEC: f64 = 1e9;

/// Default SQS visibility timeout (SQS documentation: 30 seconds).
const DEFAULT_VISIBILITY: Nanos = 30_000_000_000;
/// Default SQS message retention (SQS documentation: 4 days).
const DEFAULT_QUEUE_RETENTION: Nanos = 4 * 86_400_000_000_000;
/// Default Kinesis retention (24 hours).
const DEFAULT_STREAM_RETENTION: Nanos = 86_400_000_000_000;
/// Default SQS FIFO deduplication interval (5 minutes).
const DEFAULT_DEDUP_WINDOW: Nanos = 300_000_000_000;
/// EventBridge retry defaults: 185 attempts over at most 24 hours.
const DEFAULT_RETRY_ATTEMPTS: u32 = 185;
const DEFAULT_MAX_AGE: Nanos = 86_400_000_000_000;
/// First retry delay and its cap for target retries (exponential backoff with jitter).
const DEFAULT_BACKOFF: Nanos = 1_000_000_000;
const DEFAULT_MAX_BACKOFF: Nanos = 300_000_000_000;
/// A failed stream batch is retried after this delay, blocking its partition meanwhile.
const STREAM_RETRY_DELAY: Nanos = 1_000_000_000;
/// How many of the oldest visible messages a standard-queue receive samples from (SQS's
/// best-effort ordering); 1 would make standard queues strictly FIFO.
const ORDERING_WINDOW: usize = 4;
/// Loop guard default: events produced before the run is stopped.
pub const DEFAULT_MAX_EVENTS: u64 = 10_000_000;

/// Why a delivery was dead-lettered or dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Target retry attempts used up.
    RetriesExhausted,
    /// Older than the target's maximum event age.
    MaxAge,
    /// Received `max_receives` times (SQS redrive).
    MaxReceives,
    /// Invocation throttled and not retried further.
    Throttled,
    /// FIFO deduplication.
    Deduplicated,
}

impl Reason {
    /// Name used in results.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::RetriesExhausted => "retries_exhausted",
            Reason::MaxAge => "max_age",
            Reason::MaxReceives => "max_receives",
            Reason::Throttled => "throttled",
            Reason::Deduplicated => "deduplicated",
        }
    }
    const ALL: [Reason; 5] = [
        Reason::RetriesExhausted,
        Reason::MaxAge,
        Reason::MaxReceives,
        Reason::Throttled,
        Reason::Deduplicated,
    ];
    fn index(self) -> usize {
        self as usize
    }
}

/// Where something is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dest {
    Bus(u32),
    Queue(u32),
    Stream(u32),
    Consumer(u32),
}

/// One message copy in the system.
#[derive(Clone, Debug)]
struct Msg {
    payload: Arc<Value>,
    /// Production order of the event (unique per produced event; copies share it).
    event_no: u64,
    /// When the root event of this chain was produced (end-to-end latency).
    origin_at: Nanos,
    /// Arrival at the current node (queue, stream lane or direct consumer).
    arrived_at: Nanos,
    /// First delivery attempt through a rule target (for `max_age`).
    first_attempt_at: Nanos,
    /// Global rule-target index, or NONE.
    target: u32,
    /// Target delivery attempts so far.
    attempts: u32,
    /// SQS receives so far at the current queue.
    receives: u32,
    /// FIFO group or stream partition lane.
    lane: u32,
    /// Duplicate pair record, or NONE.
    dup: u32,
    /// Is this an owed delivery (enters the conservation balance)?
    owed: bool,
    /// Arrived at the current node after the warm-up (statistics count it).
    measured: bool,
    /// Since when it has been waiting in line (visible, or blocked behind a stream retry).
    visible_since: Nanos,
    /// Time spent waiting in line at the current node so far (the wait, W_q).
    waited: Nanos,
    /// Blocked sender waiting for space: the producer to wake, or NONE.
    blocked_producer: u32,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Produce(u32),
    /// Deliver message to a rule target (after bus latency or a retry backoff).
    Deliver(u32),
    Done {
        consumer: u32,
        slot: u32,
    },
    /// A failed message becomes visible again (queue) or is retried (stream lane).
    Visible(u32),
    Fault {
        fault: u32,
        start: bool,
    },
    Timeline(u32),
    BreakerProbe(u32),
    /// A message still in service outlives its visibility timeout (standard queues).
    VisibilityExpired(u32),
    /// A throttled producer may send again.
    Throttled(u32),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u128,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap and we pop the earliest (time, sequence).
        other.key.cmp(&self.key)
    }
}

#[derive(Clone, Copy, Debug)]
enum Dist {
    Const(f64),
    Exp(f64),
    Unif(f64, f64),
    LogN(f64, f64),
}

impl Dist {
    fn new(d: &Distribution) -> Self {
        match d {
            Distribution::Constant(x) => Dist::Const(x.0 as f64),
            Distribution::Exponential { mean } => Dist::Exp(mean.0 as f64),
            Distribution::Uniform([a, b]) => Dist::Unif(a.0 as f64, b.0 as f64),
            Distribution::Lognormal { mean, stddev } => {
                let (mu, sigma) = super::rng::lognormal_params(mean.0 as f64, stddev.0 as f64);
                Dist::LogN(mu, sigma)
            }
        }
    }
    #[inline]
    fn sample(self, rng: &mut Stream) -> f64 {
        match self {
            Dist::Const(x) => x,
            Dist::Exp(m) => rng.exponential(m),
            Dist::Unif(a, b) => rng.uniform(a, b),
            Dist::LogN(mu, sigma) => (mu + sigma * rng.standard_normal()).exp(),
        }
    }
}

/// A token bucket (rate per second, burst).
#[derive(Clone, Debug)]
struct Bucket {
    rate_per_ns: f64,
    burst: f64,
    tokens: f64,
    last: Nanos,
}

impl Bucket {
    fn new(t: &crate::model::Throttle) -> Self {
        let burst = t.burst.unwrap_or(t.rate).max(1.0);
        Bucket {
            rate_per_ns: t.rate / SEC,
            burst,
            tokens: burst,
            last: 0,
        }
    }
    fn refill(&mut self, now: Nanos) {
        let dt = now.saturating_sub(self.last) as f64;
        self.tokens = (self.tokens + dt * self.rate_per_ns).min(self.burst);
        self.last = now;
    }
    fn take(&mut self, now: Nanos) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
    /// When the next token will be there.
    fn next_token_at(&self, now: Nanos) -> Nanos {
        let missing = (1.0 - self.tokens).max(0.0);
        now + (missing / self.rate_per_ns).ceil() as Nanos
    }
}

struct ProducerRt {
    node: u32,
    dest: Dest,
    rate: f64,
    arrivals: Arrivals,
    schedule: Vec<(Nanos, f64)>,
    next_change: usize,
    limit: u64,
    sent: u64,
    template: Template,
    static_payload: Option<Arc<Value>>,
    rng_arrivals: Stream,
    rng_event: Stream,
    throttle: Option<Bucket>,
    /// Waiting for queue space (when_full = block) or for a throttle token.
    blocked: bool,
    /// A Produce event is scheduled.
    armed: bool,
}

struct TargetRt {
    rule_name: String,
    bus: u32,
    dest: Dest,
    attempts: u32,
    max_age: Nanos,
    backoff: Nanos,
    max_backoff: Nanos,
    jitter: bool,
    dlq: Option<u32>,
    transform: Option<Transform>,
    throttle: Option<Bucket>,
}

/// An event kept by a bus archive: (put time, payload).
type Archived = (Nanos, Arc<Value>);

struct BusRt {
    node: u32,
    matcher: RuleMatcher,
    /// Targets (global indices) per rule, in rule order.
    rule_targets: Vec<Vec<u32>>,
    latency: Option<Dist>,
    archive: Option<Vec<Archived>>,
    throttle: Option<Bucket>,
    rng: Stream,
    outage: u32,
    slowdown: f64,
    error_rate: f64,
}

#[derive(Default)]
struct Group {
    waiting: VecDeque<u32>,
    in_flight: bool,
    queued_ready: bool,
}

struct QueueRt {
    node: u32,
    fifo: bool,
    capacity: u64,
    block: bool,
    visibility: Nanos,
    max_receives: u32,
    dlq: Option<u32>,
    duplicate_rate: f64,
    group_path: Option<Vec<String>>,
    dedup_window: Nanos,
    retention: Nanos,
    /// Standard queue: visible messages.
    waiting: VecDeque<u32>,
    /// FIFO: message groups, their index by key hash, and the groups ready to be received.
    groups: Vec<Group>,
    group_index: HashMap<u64, u32>,
    ready: VecDeque<u32>,
    /// Messages held: visible, in flight and invisible (capacity counts them all).
    held: u64,
    /// Visible messages.
    visible: u64,
    consumers: Vec<u32>,
    /// Some queue or rule target dead-letters into this one (its depth is plotted as DLQ depth).
    is_dlq: bool,
    /// Level statistics await an update at the end of the current event.
    dirty: bool,
    blocked: VecDeque<u32>,
    dedup: HashMap<u64, Nanos>,
    rng: Stream,
    outage: u32,
}

struct Lane {
    waiting: VecDeque<u32>,
    busy: bool,
}

struct StreamRt {
    node: u32,
    partitions: u32,
    key_path: Option<Vec<String>>,
    retention: Nanos,
    /// Per consumer group (consumer index, lanes per partition).
    groups: Vec<(u32, Vec<Lane>)>,
    round_robin: u32,
    outage: u32,
    records: u64,
    /// Arrival times of records no consumer group reads (kept until retention passes).
    orphans: VecDeque<Nanos>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Direct,
    Queue(u32),
    Stream { stream: u32, group: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Breaker {
    Closed,
    Open,
    HalfOpen,
}

struct EmitRt {
    on: EmitOn,
    dest: Dest,
    template: Template,
    probability: f64,
    seq: u64,
}

struct Slot {
    msgs: Vec<u32>,
    timed_out: bool,
    /// Stream partition being served, or NONE.
    lane: u32,
}

struct ConsumerRt {
    node: u32,
    source: Source,
    /// The only consumer of its queue: its system includes the queue's waiting line.
    owns_queue: bool,
    concurrency: u32,
    batch: usize,
    service: Dist,
    failure_rate: f64,
    fail_when: Option<Pattern>,
    timeout: Option<Nanos>,
    idempotent: bool,
    breaker_cfg: Option<(u32, Nanos)>,
    breaker: Breaker,
    consecutive_failures: u32,
    emits: Vec<EmitRt>,
    handles_failures: bool,
    emits_on_success: bool,
    order_key: Option<Vec<String>>,
    last_order: HashMap<u64, u64>,
    rng_service: Stream,
    rng_fail: Stream,
    rng_emit: Stream,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    busy: u32,
    /// Messages in the busy slots.
    in_service: u64,
    outage: u32,
    slowdown: f64,
    error_rate: f64,
    /// Instances of a stream consumer group: round-robin position per instance.
    instance_cursor: Vec<u32>,
}

impl ConsumerRt {
    /// A fault window on this consumer (or its queue) starts or ends.
    fn apply_fault(&mut self, kind: FaultKind, start: bool, factor: f64, rate: f64) {
        let sign: i32 = if start { 1 } else { -1 };
        match kind {
            FaultKind::Outage => self.outage = self.outage.saturating_add_signed(sign),
            FaultKind::Slowdown => {
                self.slowdown = if start {
                    self.slowdown * factor
                } else {
                    self.slowdown / factor
                };
            }
            FaultKind::Errors => {
                self.error_rate = (self.error_rate + f64::from(sign) * rate).clamp(0.0, 1.0);
            }
        }
    }
}

struct DupPair {
    processed: bool,
    live: u8,
}

/// Per-node counters and collectors.
pub struct NodeStats {
    /// Component id.
    pub id: String,
    /// Component kind.
    pub kind: Kind,
    /// Slots (consumers) or 0.
    pub concurrency: u32,
    pub(crate) arrived: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) retried: u64,
    pub(crate) throttled: u64,
    pub(crate) dead_lettered: u64,
    pub(crate) rejected: u64,
    pub(crate) expired: u64,
    pub(crate) duplicates: u64,
    pub(crate) out_of_order: u64,
    pub(crate) attempts: u64,
    /// First attempts (each event once): retry amplification = attempts / first attempts.
    pub(crate) first_attempts: u64,
    pub(crate) unique_completed: u64,
    pub(crate) breaker_transitions: u64,
    pub(crate) emitted: u64,
    pub(crate) reasons: [u64; 5],
    pub(crate) in_system: TimeAverage,
    pub(crate) waiting: TimeAverage,
    pub(crate) busy: TimeAverage,
    pub(crate) sojourn_ns: u128,
    pub(crate) departures: u64,
    pub(crate) wait: Latency,
    pub(crate) latency: Latency,
}

impl NodeStats {
    fn new(id: &str, kind: Kind, warmup: Nanos) -> Self {
        NodeStats {
            id: id.to_owned(),
            kind,
            concurrency: 0,
            arrived: 0,
            completed: 0,
            failed: 0,
            retried: 0,
            throttled: 0,
            dead_lettered: 0,
            rejected: 0,
            expired: 0,
            duplicates: 0,
            out_of_order: 0,
            attempts: 0,
            first_attempts: 0,
            unique_completed: 0,
            breaker_transitions: 0,
            emitted: 0,
            reasons: [0; 5],
            in_system: TimeAverage::new(warmup),
            waiting: TimeAverage::new(warmup),
            busy: TimeAverage::new(warmup),
            sojourn_ns: 0,
            departures: 0,
            wait: Latency::new(),
            latency: Latency::new(),
        }
    }
}

/// The conservation counters (whole run, not windowed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Conservation {
    /// Events created by producers and `emits`.
    pub produced: u64,
    /// Events a bus routed nowhere.
    pub unmatched: u64,
    /// Owed copies.
    pub deliveries: u64,
    /// Owed copies completed.
    pub completed: u64,
    /// Owed copies dead-lettered.
    pub dead_lettered: u64,
    /// Owed copies rejected (full queue, outage).
    pub rejected: u64,
    /// Owed copies expired (retention).
    pub expired: u64,
    /// Owed copies dropped (no DLQ, deduplicated).
    pub dropped: u64,
    /// Owed copies still in the system.
    pub in_flight: u64,
    /// Events a bus refused at PutEvents (throttle or outage); not deliveries.
    pub put_rejected: u64,
    /// Events re-published from an archive.
    pub replayed: u64,
}

/// Why a run ended early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// Simulated time of the stop.
    pub at: Nanos,
    /// What happened, in words (names the cycle for the loop guard).
    pub reason: String,
}

/// A compiled, running simulation.
pub struct Engine {
    pub(crate) now: Nanos,
    pub(crate) end: Nanos,
    pub(crate) warmup: Nanos,
    heap: BinaryHeap<Entry>,
    seq: u64,
    pub(crate) events_processed: u64,
    msgs: Vec<Msg>,
    free_msgs: Vec<u32>,
    dups: Vec<DupPair>,
    free_dups: Vec<u32>,
    producers: Vec<ProducerRt>,
    buses: Vec<BusRt>,
    targets: Vec<TargetRt>,
    queues: Vec<QueueRt>,
    streams: Vec<StreamRt>,
    consumers: Vec<ConsumerRt>,
    faults: Vec<crate::model::Fault>,
    fault_dest: Vec<Option<Dest>>,
    timeline: Vec<crate::model::TimelineEntry>,
    pub(crate) stats: Vec<NodeStats>,
    pub(crate) e2e: Latency,
    pub(crate) cons: Conservation,
    pub(crate) series: SeriesRecorder,
    pub(crate) stopped: Option<Stop>,
    max_events: u64,
    cycles: Vec<Vec<String>>,
    scratch: MatchScratch,
    matched: Vec<usize>,
    batch_buf: Vec<u32>,
    returned_buf: Vec<u32>,
    dirty_queues: Vec<u32>,
    pub(crate) seed: u64,
}

fn path_of(p: &str) -> Vec<String> {
    p.split('.').map(str::to_owned).collect()
}

fn hash_value(v: &Value) -> u64 {
    match v {
        Value::String(s) => stable_hash(s.as_bytes()),
        Value::Number(n) => n.as_f64().map_or(0, |x| mix64(x.to_bits())),
        Value::Bool(b) => mix64(u64::from(*b) + 7),
        Value::Null => 0x9e37,
        other => stable_hash(other.to_string().as_bytes()),
    }
}

/// Deterministic EventBridge-like id (UUID-shaped) from the seed and the event number.
fn event_id(seed: u64, n: u64) -> String {
    let a = mix64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let b = mix64(a ^ n);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        a as u16 & 0x0fff,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// ISO-8601 time of a simulated instant (simulations start at 2026-01-01T00:00:00Z).
fn event_time(t: Nanos) -> String {
    let secs = t / 1_000_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 2026-01-01 (Howard Hinnant's algorithm, from 1970).
    let z = days as i64 + 20_454 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Engine {
    /// Compiles a validated scenario. `seed` overrides the scenario's.
    ///
    /// # Errors
    /// A message when the scenario cannot be compiled (it should have been validated first).
    #[allow(clippy::too_many_lines)]
    pub fn new(s: &Scenario, seed: u64, series_buckets: u32) -> Result<Self, String> {
        let warmup = s.warmup.0;
        let end = s.duration.0;
        let mut stats = Vec::new();
        let mut index: HashMap<&str, Dest> = HashMap::new();
        let mut node_of: HashMap<&str, u32> = HashMap::new();
        for (id, kind) in s.components() {
            node_of.insert(id, stats.len() as u32);
            stats.push(NodeStats::new(id, kind, warmup));
        }
        for (i, b) in s.buses.iter().enumerate() {
            index.insert(&b.id, Dest::Bus(i as u32));
        }
        for (i, q) in s.queues.iter().enumerate() {
            index.insert(&q.id, Dest::Queue(i as u32));
        }
        for (i, st) in s.streams.iter().enumerate() {
            index.insert(&st.id, Dest::Stream(i as u32));
        }
        for (i, c) in s.consumers.iter().enumerate() {
            index.insert(&c.id, Dest::Consumer(i as u32));
        }
        let dest = |id: &str| {
            index
                .get(id)
                .copied()
                .ok_or_else(|| format!("unknown component \"{id}\""))
        };
        let node = |id: &str| node_of.get(id).copied().unwrap_or(0);
        let queue_idx = |id: &str| match index.get(id) {
            Some(Dest::Queue(q)) => Ok(*q),
            _ => Err(format!("\"{id}\" is not a queue")),
        };

        let mut producers = Vec::new();
        for p in &s.producers {
            let template = Template::compile(&p.event, false).map_err(|e| {
                format!(
                    "producer {}: {}",
                    p.id,
                    e.first().map_or("", |x| x.1.as_str())
                )
            })?;
            let mut schedule: Vec<(Nanos, f64)> =
                p.schedule.iter().map(|c| (c.at.0, c.rate)).collect();
            schedule.sort_by_key(|c| c.0);
            producers.push(ProducerRt {
                node: node(&p.id),
                dest: dest(&p.to)?,
                rate: p.rate,
                arrivals: p.arrivals,
                schedule,
                next_change: 0,
                limit: p.limit.unwrap_or(u64::MAX),
                sent: 0,
                static_payload: None,
                template,
                rng_arrivals: Stream::new(seed, &p.id, "arrivals"),
                rng_event: Stream::new(seed, &p.id, "event"),
                throttle: p.throttle.as_ref().map(Bucket::new),
                blocked: false,
                armed: false,
            });
        }

        let mut targets = Vec::new();
        let mut buses = Vec::new();
        for (bi, b) in s.buses.iter().enumerate() {
            let mut patterns = Vec::new();
            let mut rule_targets = Vec::new();
            for r in &b.rules {
                let pat = Pattern::parse(&r.pattern).map_err(|e| {
                    format!(
                        "rule {}: {}",
                        r.id,
                        e.first().map_or(String::new(), ToString::to_string)
                    )
                })?;
                patterns.push(pat);
                let mut ts = Vec::new();
                for t in &r.targets {
                    let retry = t.retry.as_ref();
                    ts.push(targets.len() as u32);
                    targets.push(TargetRt {
                        rule_name: r.id.clone(),
                        bus: bi as u32,
                        dest: dest(&t.to)?,
                        attempts: retry.map_or(DEFAULT_RETRY_ATTEMPTS, |r| r.attempts),
                        max_age: retry.map_or(DEFAULT_MAX_AGE, |r| r.max_age.0),
                        backoff: retry
                            .and_then(|r| r.backoff)
                            .map_or(DEFAULT_BACKOFF, |d| d.0),
                        max_backoff: retry
                            .and_then(|r| r.max_backoff)
                            .map_or(DEFAULT_MAX_BACKOFF, |d| d.0),
                        jitter: retry.and_then(|r| r.jitter).unwrap_or(true),
                        dlq: t.dead_letter.as_deref().map(queue_idx).transpose()?,
                        transform: t
                            .transform
                            .as_ref()
                            .map(|v| {
                                Transform::parse(v)
                                    .map_err(|_| format!("rule {}: invalid transform", r.id))
                            })
                            .transpose()?,
                        throttle: t.throttle.as_ref().map(Bucket::new),
                    });
                }
                rule_targets.push(ts);
            }
            buses.push(BusRt {
                node: node(&b.id),
                matcher: RuleMatcher::new(patterns),
                rule_targets,
                latency: b.latency.as_ref().map(Dist::new),
                archive: b.archive.then(Vec::new),
                throttle: b.throttle.as_ref().map(Bucket::new),
                rng: Stream::new(seed, &b.id, "latency"),
                outage: 0,
                slowdown: 1.0,
                error_rate: 0.0,
            });
        }

        let mut queues = Vec::new();
        for q in &s.queues {
            queues.push(QueueRt {
                node: node(&q.id),
                fifo: q.kind == QueueType::Fifo,
                capacity: q.capacity.unwrap_or(u64::MAX),
                block: q.when_full == WhenFull::Block,
                visibility: q.visibility_timeout.map_or(DEFAULT_VISIBILITY, |d| d.0),
                max_receives: q.max_receives.unwrap_or(u32::MAX),
                dlq: q.dead_letter.as_deref().map(queue_idx).transpose()?,
                duplicate_rate: q.duplicate_rate,
                group_path: q.group_by.as_deref().map(path_of),
                dedup_window: q.dedup_window.map_or(DEFAULT_DEDUP_WINDOW, |d| d.0),
                retention: q.retention.map_or(DEFAULT_QUEUE_RETENTION, |d| d.0),
                waiting: VecDeque::new(),
                groups: Vec::new(),
                group_index: HashMap::new(),
                ready: VecDeque::new(),
                held: 0,
                visible: 0,
                consumers: Vec::new(),
                is_dlq: false,
                dirty: false,
                blocked: VecDeque::new(),
                dedup: HashMap::new(),
                rng: Stream::new(seed, &q.id, "duplicates"),
                outage: 0,
            });
        }

        let mut streams = Vec::new();
        for st in &s.streams {
            streams.push(StreamRt {
                node: node(&st.id),
                partitions: st.partitions.max(1),
                key_path: st.key.as_deref().map(path_of),
                retention: st.retention.map_or(DEFAULT_STREAM_RETENTION, |d| d.0),
                groups: Vec::new(),
                round_robin: 0,
                outage: 0,
                records: 0,
                orphans: VecDeque::new(),
            });
        }

        let mut consumers = Vec::new();
        for (ci, c) in s.consumers.iter().enumerate() {
            let source = match c.from.as_deref().map(dest).transpose()? {
                None => Source::Direct,
                Some(Dest::Queue(q)) => {
                    queues[q as usize].consumers.push(ci as u32);
                    Source::Queue(q)
                }
                Some(Dest::Stream(si)) => {
                    let st = &mut streams[si as usize];
                    let lanes = (0..st.partitions)
                        .map(|_| Lane {
                            waiting: VecDeque::new(),
                            busy: false,
                        })
                        .collect();
                    st.groups.push((ci as u32, lanes));
                    Source::Stream {
                        stream: si,
                        group: st.groups.len() as u32 - 1,
                    }
                }
                Some(_) => {
                    return Err(format!(
                        "consumer {} reads neither a queue nor a stream",
                        c.id
                    ));
                }
            };
            let mut emits = Vec::new();
            for e in &c.emits {
                emits.push(EmitRt {
                    on: e.on,
                    dest: dest(&e.to)?,
                    template: Template::compile(&e.event, true)
                        .map_err(|_| format!("consumer {}: invalid emits template", c.id))?,
                    probability: e.probability.unwrap_or(1.0),
                    seq: 0,
                });
            }
            // The order key defaults to the FIFO group or the stream key, as the contract says.
            let order_key = c
                .order_key
                .as_deref()
                .map(path_of)
                .or_else(|| match source {
                    Source::Queue(q) => queues[q as usize].group_path.clone(),
                    Source::Stream { stream, .. } => streams[stream as usize].key_path.clone(),
                    Source::Direct => None,
                });
            let slots = (0..c.concurrency.max(1))
                .map(|_| Slot {
                    msgs: Vec::with_capacity(c.batch_size as usize),
                    timed_out: false,
                    lane: NONE,
                })
                .collect();
            let n = node(&c.id);
            stats[n as usize].concurrency = c.concurrency;
            consumers.push(ConsumerRt {
                node: n,
                source,
                owns_queue: false,
                concurrency: c.concurrency.max(1),
                batch: c.batch_size.max(1) as usize,
                service: Dist::new(&c.service_time),
                failure_rate: c.failure_rate,
                fail_when: c
                    .fail_when
                    .as_ref()
                    .map(|p| {
                        Pattern::parse(p)
                            .map_err(|_| format!("consumer {}: invalid fail_when", c.id))
                    })
                    .transpose()?,
                timeout: c.timeout.map(|d| d.0),
                idempotent: c.idempotent,
                breaker_cfg: c
                    .circuit_breaker
                    .as_ref()
                    .map(|b| (b.failures.max(1), b.cooldown.0)),
                breaker: Breaker::Closed,
                consecutive_failures: 0,
                handles_failures: emits.iter().any(|e| e.on == EmitOn::Failure),
                emits_on_success: emits.iter().any(|e| e.on == EmitOn::Success),
                emits,
                order_key,
                last_order: HashMap::new(),
                rng_service: Stream::new(seed, &c.id, "service"),
                rng_fail: Stream::new(seed, &c.id, "failures"),
                rng_emit: Stream::new(seed, &c.id, "emits"),
                // Free slots are taken from the end: reversed so slot 0 is used first.
                free_slots: (0..c.concurrency.max(1)).rev().collect(),
                slots,
                busy: 0,
                in_service: 0,
                outage: 0,
                slowdown: 1.0,
                error_rate: 0.0,
                instance_cursor: vec![0; c.concurrency.max(1) as usize],
            });
        }
        for dlq in queues
            .iter()
            .filter_map(|q| q.dlq)
            .chain(targets.iter().filter_map(|t| t.dlq))
            .collect::<Vec<_>>()
        {
            queues[dlq as usize].is_dlq = true;
        }
        for q in &queues {
            if q.consumers.len() == 1 {
                consumers[q.consumers[0] as usize].owns_queue = true;
            }
        }

        // A payload is only built per event when something reads it.
        let payload_read = !s.buses.is_empty()
            || s.queues.iter().any(|q| q.group_by.is_some())
            || s.streams.iter().any(|x| x.key.is_some())
            || s.consumers
                .iter()
                .any(|c| !c.emits.is_empty() || c.order_key.is_some() || c.fail_when.is_some());
        for p in &mut producers {
            if p.template.is_static && !payload_read {
                p.static_payload = Some(Arc::new(p.template.generate(&mut p.rng_event, 0, None)));
            }
        }

        let fault_dest = s
            .faults
            .iter()
            .map(|f| index.get(f.target.as_str()).copied())
            .collect();
        let node_names: Vec<String> = stats.iter().map(|n| n.id.clone()).collect();
        let buckets = series_buckets.max(1);
        let series = SeriesRecorder::new(node_names, buckets as usize, end);
        let cycles = find_cycles(s);

        let mut engine = Engine {
            now: 0,
            end,
            warmup,
            heap: BinaryHeap::with_capacity(1024),
            seq: 0,
            events_processed: 0,
            msgs: Vec::with_capacity(1024),
            free_msgs: Vec::new(),
            dups: Vec::new(),
            free_dups: Vec::new(),
            producers,
            buses,
            targets,
            queues,
            streams,
            consumers,
            faults: s.faults.clone(),
            fault_dest,
            timeline: s.timeline.clone(),
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
            cycles,
            scratch: MatchScratch::default(),
            matched: Vec::new(),
            batch_buf: Vec::new(),
            returned_buf: Vec::new(),
            dirty_queues: Vec::new(),
            seed,
        };
        for p in 0..engine.producers.len() {
            engine.arm_producer(p as u32, 0);
        }
        for (i, f) in s.faults.iter().enumerate() {
            engine.schedule(
                f.from.0,
                Ev::Fault {
                    fault: i as u32,
                    start: true,
                },
            );
            engine.schedule(
                f.to.0,
                Ev::Fault {
                    fault: i as u32,
                    start: false,
                },
            );
        }
        for (i, t) in s.timeline.iter().enumerate() {
            engine.schedule(t.at.0, Ev::Timeline(i as u32));
        }
        Ok(engine)
    }

    #[inline]
    fn schedule(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        self.heap.push(Entry {
            key: (u128::from(at) << 64) | u128::from(self.seq),
            ev,
        });
    }

    /// Runs every event up to and including `until` (capped at the end of the run). Returns
    /// false once the run is over.
    pub fn run_until(&mut self, until: Nanos) -> bool {
        let until = until.min(self.end);
        while self.stopped.is_none() {
            let Some(top) = self.heap.peek() else { break };
            let t = (top.key >> 64) as Nanos;
            if t > until {
                break;
            }
            let Some(Entry { ev, .. }) = self.heap.pop() else {
                break;
            };
            self.now = t;
            self.events_processed += 1;
            self.dispatch(ev);
            self.flush_levels();
        }
        if self.stopped.is_none() {
            self.now = self.now.max(until);
        }
        !self.finished()
    }

    /// Has the run reached its end (or been stopped)?
    #[must_use]
    pub fn finished(&self) -> bool {
        self.stopped.is_some() || self.now >= self.end
    }

    /// The current simulated time.
    #[must_use]
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The end of the run.
    #[must_use]
    pub fn end(&self) -> Nanos {
        self.end
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Produce(p) => self.produce(p),
            Ev::Deliver(m) => self.deliver_to_target(m),
            Ev::Done { consumer, slot } => self.done(consumer, slot),
            Ev::Visible(m) => self.visible_again(m),
            Ev::VisibilityExpired(m) => self.reappear(m),
            Ev::Fault { fault, start } => self.fault_edge(fault, start),
            Ev::Timeline(i) => self.timeline_action(i),
            Ev::BreakerProbe(c) => self.breaker_probe(c),
            Ev::Throttled(p) => {
                self.producers[p as usize].blocked = false;
                self.produce_now(p);
            }
        }
    }

    // ----- messages -------------------------------------------------------------------------

    fn alloc(&mut self, msg: Msg) -> u32 {
        if let Some(i) = self.free_msgs.pop() {
            self.msgs[i as usize] = msg;
            i
        } else {
            self.msgs.push(msg);
            self.msgs.len() as u32 - 1
        }
    }

    fn free(&mut self, m: u32) {
        let dup = self.msgs[m as usize].dup;
        if dup != NONE {
            let d = &mut self.dups[dup as usize];
            d.live -= 1;
            if d.live == 0 {
                self.free_dups.push(dup);
            }
        }
        // The payload reference is dropped when the slot is reused: bounded by the slab's size.
        self.free_msgs.push(m);
    }

    fn new_msg(&self, payload: Arc<Value>, event_no: u64, origin_at: Nanos) -> Msg {
        Msg {
            payload,
            event_no,
            origin_at,
            arrived_at: self.now,
            first_attempt_at: self.now,
            target: NONE,
            attempts: 0,
            receives: 0,
            lane: NONE,
            dup: NONE,
            owed: true,
            measured: self.now >= self.warmup,
            visible_since: self.now,
            waited: 0,
            blocked_producer: NONE,
        }
    }

    /// An owed delivery ends.
    fn settle(&mut self, m: u32, outcome: Outcome) {
        if self.msgs[m as usize].owed {
            match outcome {
                Outcome::Completed => self.cons.completed += 1,
                Outcome::DeadLettered => self.cons.dead_lettered += 1,
                Outcome::Rejected => self.cons.rejected += 1,
                Outcome::Expired => self.cons.expired += 1,
                Outcome::Dropped => self.cons.dropped += 1,
            }
        }
    }

    fn measuring(&self) -> bool {
        self.now >= self.warmup
    }

    // ----- producers ------------------------------------------------------------------------

    fn current_rate(&mut self, p: u32) -> f64 {
        let now = self.now;
        let pr = &mut self.producers[p as usize];
        while pr.next_change < pr.schedule.len() && pr.schedule[pr.next_change].0 <= now {
            pr.rate = pr.schedule[pr.next_change].1;
            pr.next_change += 1;
        }
        pr.rate
    }

    /// Schedules the producer's next arrival after `from`.
    fn arm_producer(&mut self, p: u32, from: Nanos) {
        let saved = self.now;
        self.now = from;
        let rate = self.current_rate(p);
        self.now = saved;
        let pr = &mut self.producers[p as usize];
        if pr.sent >= pr.limit || pr.armed || pr.blocked {
            return;
        }
        if rate <= 0.0 {
            // Paused: wake at the next schedule change that may restart it.
            if let Some(&(at, _)) = pr.schedule.get(pr.next_change) {
                pr.armed = true;
                self.schedule(at, Ev::Produce(p));
            }
            return;
        }
        let gap = match pr.arrivals {
            Arrivals::Poisson => pr.rng_arrivals.exponential(SEC / rate),
            Arrivals::Uniform => SEC / rate,
        };
        let mut at = from.saturating_add(gap.round().max(1.0) as Nanos);
        // A rate change before the next arrival restarts the clock at the new rate (memoryless
        // for Poisson; for even spacing it makes the new rate take effect at once).
        if let Some(&(change, _)) = pr.schedule.get(pr.next_change)
            && change < at
        {
            at = change;
            pr.armed = true;
            self.seq += 1;
            self.heap.push(Entry {
                key: (u128::from(at) << 64) | u128::from(self.seq),
                ev: Ev::Produce(p | 1 << 31),
            });
            return;
        }
        pr.armed = true;
        self.schedule(at, Ev::Produce(p));
    }

    fn produce(&mut self, p_raw: u32) {
        let p = p_raw & !(1 << 31);
        self.producers[p as usize].armed = false;
        if p_raw & (1 << 31) != 0
            || self.producers[p as usize].rate <= 0.0 && self.current_rate(p) <= 0.0
        {
            // A schedule change, not an arrival: re-arm at the new rate.
            self.current_rate(p);
            let now = self.now;
            self.arm_producer(p, now);
            return;
        }
        self.produce_now(p);
    }

    fn produce_now(&mut self, p: u32) {
        let now = self.now;
        if let Some(bucket) = &mut self.producers[p as usize].throttle
            && !bucket.take(now)
        {
            // Client-side rate limit: the producer waits for a token.
            let at = bucket.next_token_at(now);
            let node = self.producers[p as usize].node;
            if self.measuring() {
                self.stats[node as usize].throttled += 1;
            }
            self.series.count(node as usize, Counter::Throttles, now, 1);
            self.producers[p as usize].blocked = true;
            self.schedule(at, Ev::Throttled(p));
            return;
        }
        let seq = {
            let pr = &mut self.producers[p as usize];
            pr.sent += 1;
            pr.sent
        };
        let event_no = self.next_event_no();
        let payload = match &self.producers[p as usize].static_payload {
            Some(shared) => Arc::clone(shared),
            None => {
                let pr = &mut self.producers[p as usize];
                let mut v = pr.template.generate(&mut pr.rng_event, seq, None);
                fill_envelope(&mut v, self.seed, event_no, now);
                Arc::new(v)
            }
        };
        let node = self.producers[p as usize].node;
        if self.measuring() {
            let st = &mut self.stats[node as usize];
            st.arrived += 1;
            st.completed += 1;
        }
        self.series
            .count(node as usize, Counter::Completions, now, 1);
        let dest = self.producers[p as usize].dest;
        let blocked = self.send(dest, payload, event_no, now, p);
        if !blocked {
            self.arm_producer(p, now);
        }
        self.check_loop_guard();
    }

    fn next_event_no(&mut self) -> u64 {
        self.cons.produced += 1;
        self.cons.produced
    }

    // ----- sending and routing --------------------------------------------------------------

    /// Sends a new event to a bus, queue or stream. Returns true when the sender is blocked
    /// (a full queue with `when_full: block`).
    fn send(
        &mut self,
        dest: Dest,
        payload: Arc<Value>,
        event_no: u64,
        origin_at: Nanos,
        producer: u32,
    ) -> bool {
        match dest {
            Dest::Bus(b) => {
                self.put_event(b, payload, event_no, origin_at);
                false
            }
            Dest::Queue(q) => {
                self.cons.deliveries += 1;
                let mut msg = self.new_msg(payload, event_no, origin_at);
                msg.blocked_producer = producer;
                let m = self.alloc(msg);
                self.enqueue(q, m)
            }
            Dest::Stream(s) => {
                self.append(s, payload, event_no, origin_at);
                false
            }
            Dest::Consumer(c) => {
                // Not reachable from validated scenarios (producers and emits send to buses,
                // queues and streams); kept total for safety.
                self.cons.deliveries += 1;
                let msg = self.new_msg(payload, event_no, origin_at);
                let m = self.alloc(msg);
                self.invoke(c, m);
                false
            }
        }
    }

    /// PutEvents: route an event through a bus's rules.
    fn put_event(&mut self, b: u32, payload: Arc<Value>, event_no: u64, origin_at: Nanos) {
        let now = self.now;
        let node = self.buses[b as usize].node as usize;
        let measuring = self.measuring();
        if measuring {
            self.stats[node].arrived += 1;
        }
        self.series.count(node, Counter::Arrivals, now, 1);
        let bus = &mut self.buses[b as usize];
        let refused = bus.outage > 0 || bus.throttle.as_mut().is_some_and(|t| !t.take(now));
        if refused {
            self.cons.put_rejected += 1;
            let throttled = self.buses[b as usize].outage == 0;
            if measuring {
                self.stats[node].rejected += 1;
                if throttled {
                    self.stats[node].throttled += 1;
                }
            }
            self.series.count(node, Counter::Rejected, now, 1);
            return;
        }
        if let Some(archive) = &mut self.buses[b as usize].archive {
            archive.push((now, Arc::clone(&payload)));
        }
        self.route(b, payload, event_no, origin_at);
    }

    fn route(&mut self, b: u32, payload: Arc<Value>, event_no: u64, origin_at: Nanos) {
        let now = self.now;
        let node = self.buses[b as usize].node as usize;
        let mut matched = std::mem::take(&mut self.matched);
        self.buses[b as usize]
            .matcher
            .matching(&payload, &mut self.scratch, &mut matched);
        if self.measuring() {
            self.stats[node].completed += 1;
        }
        self.series.count(node, Counter::Completions, now, 1);
        if matched.is_empty() {
            self.cons.unmatched += 1;
        }
        for &rule in &matched {
            for ti in 0..self.buses[b as usize].rule_targets[rule].len() {
                let t = self.buses[b as usize].rule_targets[rule][ti];
                self.cons.deliveries += 1;
                let target = &self.targets[t as usize];
                let copy = match &target.transform {
                    Some(tr) => Arc::new(tr.apply(&payload, &target.rule_name)),
                    None => Arc::clone(&payload),
                };
                let mut msg = self.new_msg(copy, event_no, origin_at);
                msg.target = t;
                let m = self.alloc(msg);
                let bus = &mut self.buses[b as usize];
                match bus.latency {
                    Some(d) => {
                        let delay =
                            (d.sample(&mut bus.rng) * bus.slowdown).round().max(0.0) as Nanos;
                        self.schedule(now + delay, Ev::Deliver(m));
                    }
                    None => self.deliver_to_target(m),
                }
            }
        }
        matched.clear();
        self.matched = matched;
    }

    /// One delivery attempt of a rule-target copy.
    fn deliver_to_target(&mut self, m: u32) {
        let now = self.now;
        let t = self.msgs[m as usize].target;
        self.msgs[m as usize].attempts += 1;
        if self.msgs[m as usize].attempts == 1 {
            self.msgs[m as usize].first_attempt_at = now;
        }
        let target_dest = self.targets[t as usize].dest;
        let bus = self.targets[t as usize].bus as usize;
        let bus_node = self.buses[bus].node as usize;
        if self.measuring() {
            self.stats[bus_node].attempts += 1;
        }
        if let Some(bucket) = &mut self.targets[t as usize].throttle
            && !bucket.take(now)
        {
            if self.measuring() {
                self.stats[bus_node].throttled += 1;
            }
            self.series.count(bus_node, Counter::Throttles, now, 1);
            self.target_failed(m, Reason::Throttled);
            return;
        }
        let err = self.buses[bus].error_rate;
        if err > 0.0 && self.buses[bus].rng.chance(err) {
            if self.measuring() {
                self.stats[bus_node].failed += 1;
            }
            self.target_failed(m, Reason::RetriesExhausted);
            return;
        }
        self.msgs[m as usize].arrived_at = now;
        self.msgs[m as usize].measured = now >= self.warmup;
        match target_dest {
            Dest::Queue(q) => {
                self.enqueue(q, m);
            }
            Dest::Stream(s) => {
                // The copy becomes one owed record per consumer group: settle this copy as
                // handed over and let the stream create the group records.
                let (payload, event_no, origin_at) = {
                    let msg = &self.msgs[m as usize];
                    (Arc::clone(&msg.payload), msg.event_no, msg.origin_at)
                };
                self.cons.deliveries -= 1;
                self.free(m);
                self.append(s, payload, event_no, origin_at);
            }
            Dest::Bus(b2) => {
                let (payload, event_no, origin_at) = {
                    let msg = &self.msgs[m as usize];
                    (Arc::clone(&msg.payload), msg.event_no, msg.origin_at)
                };
                self.settle(m, Outcome::Completed);
                self.free(m);
                self.put_event(b2, payload, event_no, origin_at);
            }
            Dest::Consumer(c) => self.invoke(c, m),
        }
    }

    /// A target delivery failed: retry with backoff, or dead-letter / drop.
    fn target_failed(&mut self, m: u32, reason: Reason) {
        let now = self.now;
        let t = self.msgs[m as usize].target as usize;
        let bus_node = self.buses[self.targets[t].bus as usize].node as usize;
        let attempts = self.msgs[m as usize].attempts;
        let target = &self.targets[t];
        // `attempts` counts the first try; the policy's `attempts` counts retries after it.
        if attempts > target.attempts {
            let r = if reason == Reason::Throttled && target.attempts == 0 {
                Reason::Throttled
            } else {
                Reason::RetriesExhausted
            };
            self.dead_letter(m, target.dlq, bus_node, r);
            return;
        }
        let exp = attempts.saturating_sub(1).min(40);
        let mut delay = target
            .backoff
            .saturating_mul(1u64 << exp)
            .min(target.max_backoff);
        if target.jitter && delay > 0 {
            let bus = self.targets[t].bus as usize;
            delay = (self.buses[bus].rng.open01() * delay as f64) as Nanos;
        }
        let target = &self.targets[t];
        if now + delay - self.msgs[m as usize].first_attempt_at > target.max_age {
            self.dead_letter(m, target.dlq, bus_node, Reason::MaxAge);
            return;
        }
        if self.measuring() {
            self.stats[bus_node].retried += 1;
        }
        self.series.count(bus_node, Counter::Retries, now, 1);
        self.schedule(now + delay, Ev::Deliver(m));
    }

    /// Moves a message to a dead-letter queue (or drops it when there is none).
    fn dead_letter(&mut self, m: u32, dlq: Option<u32>, node: usize, reason: Reason) {
        let now = self.now;
        let measuring = self.measuring();
        match dlq {
            Some(q) => {
                if measuring {
                    self.stats[node].dead_lettered += 1;
                    self.stats[node].reasons[reason.index()] += 1;
                }
                self.series.count(node, Counter::DeadLettered, now, 1);
                self.settle(m, Outcome::DeadLettered);
                let msg = &mut self.msgs[m as usize];
                msg.owed = false;
                msg.target = NONE;
                msg.receives = 0;
                msg.blocked_producer = NONE;
                msg.arrived_at = now;
                msg.measured = measuring;
                self.enqueue(q, m);
            }
            None => {
                if measuring {
                    self.stats[node].reasons[reason.index()] += 1;
                }
                self.series.count(node, Counter::Expired, now, 1);
                self.settle(m, Outcome::Dropped);
                self.free(m);
            }
        }
    }

    // ----- queues ---------------------------------------------------------------------------

    /// A message arrives at a queue. Returns true when the sender is blocked.
    fn enqueue(&mut self, q: u32, m: u32) -> bool {
        let now = self.now;
        let qi = q as usize;
        let node = self.queues[qi].node as usize;
        let measuring = self.measuring();
        if self.queues[qi].outage > 0 {
            if measuring {
                self.stats[node].rejected += 1;
            }
            self.series.count(node, Counter::Rejected, now, 1);
            self.reject(m);
            return false;
        }
        if self.queues[qi].held >= self.queues[qi].capacity {
            if self.queues[qi].block && self.msgs[m as usize].target != NONE {
                // EventBridge cannot wait on a target: a full queue fails the delivery, which
                // the rule target's retry policy then retries (or dead-letters).
                if measuring {
                    self.stats[node].throttled += 1;
                }
                self.series.count(node, Counter::Throttles, now, 1);
                self.target_failed(m, Reason::Throttled);
                return false;
            }
            if self.queues[qi].block {
                let p = self.msgs[m as usize].blocked_producer;
                if p != NONE {
                    self.producers[p as usize].blocked = true;
                }
                self.queues[qi].blocked.push_back(m);
                return p != NONE;
            }
            if measuring {
                self.stats[node].rejected += 1;
            }
            self.series.count(node, Counter::Rejected, now, 1);
            self.reject(m);
            return false;
        }
        // FIFO deduplication on the event's identity within the window.
        if self.queues[qi].fifo {
            let key = self.msgs[m as usize].event_no;
            let window = self.queues[qi].dedup_window;
            if let Some(&seen) = self.queues[qi].dedup.get(&key)
                && now.saturating_sub(seen) < window
            {
                if measuring {
                    self.stats[node].duplicates += 1;
                    self.stats[node].reasons[Reason::Deduplicated.index()] += 1;
                }
                self.settle(m, Outcome::Dropped);
                self.free(m);
                return false;
            }
            if self.queues[qi].dedup.len() > 100_000 {
                // Bounded memory: forget entries older than the window.
                self.queues[qi]
                    .dedup
                    .retain(|_, t| now.saturating_sub(*t) < window);
            }
            self.queues[qi].dedup.insert(key, now);
        }
        {
            let msg = &mut self.msgs[m as usize];
            msg.arrived_at = now;
            msg.measured = measuring;
            msg.receives = 0;
            msg.visible_since = now;
            msg.waited = 0;
        }
        self.arrive_at_queue(q, m);
        // Standard queues deliver at least once: sometimes a second, unowed copy.
        let dup_rate = self.queues[qi].duplicate_rate;
        if dup_rate > 0.0 && self.queues[qi].rng.chance(dup_rate) {
            let pair = self.new_dup_pair();
            self.msgs[m as usize].dup = pair;
            let mut copy = self.msgs[m as usize].clone();
            copy.owed = false;
            copy.blocked_producer = NONE;
            let c = self.alloc(copy);
            self.dups[pair as usize].live = 2;
            if measuring {
                self.stats[node].duplicates += 1;
            }
            self.arrive_at_queue(q, c);
        }
        self.pump_queue(q);
        false
    }

    fn new_dup_pair(&mut self) -> u32 {
        let pair = DupPair {
            processed: false,
            live: 0,
        };
        if let Some(i) = self.free_dups.pop() {
            self.dups[i as usize] = pair;
            i
        } else {
            self.dups.push(pair);
            self.dups.len() as u32 - 1
        }
    }

    fn reject(&mut self, m: u32) {
        self.settle(m, Outcome::Rejected);
        self.free(m);
    }

    /// Puts an accepted message into the queue's waiting line.
    fn arrive_at_queue(&mut self, q: u32, m: u32) {
        let now = self.now;
        let qi = q as usize;
        let node = self.queues[qi].node as usize;
        let measured = self.msgs[m as usize].measured;
        if measured {
            self.stats[node].arrived += 1;
        }
        self.series.count(node, Counter::Arrivals, now, 1);
        self.queues[qi].held += 1;
        if self.queues[qi].fifo {
            let key = match &self.queues[qi].group_path {
                Some(path) => lookup(&self.msgs[m as usize].payload, path).map_or(0, hash_value),
                None => 0,
            };
            let next = self.queues[qi].groups.len() as u32;
            let g = *self.queues[qi].group_index.entry(key).or_insert(next);
            if g == next {
                self.queues[qi].groups.push(Group::default());
            }
            self.msgs[m as usize].lane = g;
            self.queues[qi].groups[g as usize].waiting.push_back(m);
            self.mark_group_ready(q, g);
        } else {
            self.queues[qi].waiting.push_back(m);
        }
        self.queues[qi].visible += 1;
        self.queue_levels(q);
        // The owning consumer's arrivals are the queue's.
        if let Some(c) = self.sole_consumer(q) {
            let cn = self.consumers[c as usize].node as usize;
            if measured {
                self.stats[cn].arrived += 1;
            }
            self.series.count(cn, Counter::Arrivals, now, 1);
        }
    }

    fn sole_consumer(&self, q: u32) -> Option<u32> {
        let qr = &self.queues[q as usize];
        (qr.consumers.len() == 1).then(|| qr.consumers[0])
    }

    fn mark_group_ready(&mut self, q: u32, g: u32) {
        let group = &mut self.queues[q as usize].groups[g as usize];
        if !group.in_flight && !group.queued_ready && !group.waiting.is_empty() {
            group.queued_ready = true;
            self.queues[q as usize].ready.push_back(g);
        }
    }

    /// Marks the queue's level statistics for an update at the end of the current event: every
    /// change within one event happens at the same instant, so one update per event is exact
    /// (and momentary in-between states are not counted as waiting).
    #[inline]
    fn queue_levels(&mut self, q: u32) {
        let qr = &mut self.queues[q as usize];
        if !qr.dirty {
            qr.dirty = true;
            self.dirty_queues.push(q);
        }
    }

    /// Applies the pending level updates of [`Engine::queue_levels`].
    fn flush_levels(&mut self) {
        while let Some(q) = self.dirty_queues.pop() {
            self.queues[q as usize].dirty = false;
            self.update_queue_levels(q);
        }
    }

    /// Updates the queue's (and its owning consumer's) level statistics.
    fn update_queue_levels(&mut self, q: u32) {
        let now = self.now;
        let qr = &self.queues[q as usize];
        let (node, held, visible) = (qr.node as usize, qr.held, qr.visible);
        let oldest = if visible > 0 {
            qr.waiting
                .front()
                .map(|m| now.saturating_sub(self.msgs[*m as usize].arrived_at))
        } else {
            None
        };
        let is_dlq = qr.is_dlq;
        let st = &mut self.stats[node];
        st.in_system.set(now, held);
        st.waiting.set(now, visible);
        self.series.level(node, Level::Backlog, now, held);
        self.series.level(node, Level::Lag, now, visible);
        if is_dlq {
            self.series.level(node, Level::DlqDepth, now, held);
        }
        if let Some(age) = oldest {
            self.series
                .observe_max(node, Sampled::LagS, now, age as f64 / 1e9);
        }
        if let Some(c) = self.sole_consumer(q) {
            let cr = &self.consumers[c as usize];
            let cn = cr.node as usize;
            let st = &mut self.stats[cn];
            st.in_system.set(now, held);
            // The waiting line is the visible messages (invisible ones wait for their
            // visibility timeout, not in line). The backlog series is the queue's: the
            // consumer shares it (one series, not two).
            st.waiting.set(now, visible);
        }
    }

    /// Starts work on a queue while it has visible messages and its consumers free slots.
    fn pump_queue(&mut self, q: u32) {
        let n_consumers = self.queues[q as usize].consumers.len();
        if n_consumers == 0 {
            return;
        }
        // Competing consumers take turns in file order, each filling its free slots.
        let mut progress = true;
        while progress && self.queues[q as usize].visible > 0 {
            progress = false;
            for k in 0..n_consumers {
                let c = self.queues[q as usize].consumers[k];
                if !self.can_start(c) {
                    continue;
                }
                if !self.take_batch(q, c) {
                    break;
                }
                progress = true;
            }
        }
        // Unblock senders waiting for space.
        while self.queues[q as usize].held < self.queues[q as usize].capacity {
            let Some(m) = self.queues[q as usize].blocked.pop_front() else {
                break;
            };
            let p = self.msgs[m as usize].blocked_producer;
            self.msgs[m as usize].blocked_producer = NONE;
            self.enqueue(q, m);
            if p != NONE {
                self.producers[p as usize].blocked = false;
                let now = self.now;
                self.arm_producer(p, now);
            }
        }
    }

    fn can_start(&self, c: u32) -> bool {
        let cr = &self.consumers[c as usize];
        !cr.free_slots.is_empty()
            && cr.outage == 0
            && cr.breaker != Breaker::Open
            && !(cr.breaker == Breaker::HalfOpen && cr.busy > 0)
    }

    /// Receives one batch from queue `q` into a free slot of consumer `c`.
    fn take_batch(&mut self, q: u32, c: u32) -> bool {
        let qi = q as usize;
        let batch = self.consumers[c as usize].batch;
        let mut buf = std::mem::take(&mut self.batch_buf);
        buf.clear();
        let mut fifo_group = None;
        if self.queues[qi].fifo {
            while let Some(g) = self.queues[qi].ready.pop_front() {
                let group = &mut self.queues[qi].groups[g as usize];
                group.queued_ready = false;
                if group.in_flight || group.waiting.is_empty() {
                    continue;
                }
                while buf.len() < batch {
                    match group.waiting.pop_front() {
                        Some(m) => buf.push(m),
                        None => break,
                    }
                }
                group.in_flight = true;
                fifo_group = Some(g);
                break;
            }
        } else {
            while buf.len() < batch {
                // SQS standard queues order on a best-effort basis: a receive samples among
                // the oldest few visible messages rather than taking strictly the oldest.
                let window = self.queues[qi].waiting.len().min(ORDERING_WINDOW);
                if window == 0 {
                    break;
                }
                let pick = if window > 1 {
                    (self.queues[qi].rng.next_u64() % window as u64) as usize
                } else {
                    0
                };
                if let Some(m) = self.queues[qi].waiting.remove(pick) {
                    buf.push(m);
                }
            }
        }
        // Messages past the retention period are deleted instead of delivered.
        let retention = self.queues[qi].retention;
        let now = self.now;
        let mut kept = 0;
        let taken = buf.len();
        for i in 0..buf.len() {
            let m = buf[i];
            if now.saturating_sub(self.msgs[m as usize].arrived_at) >= retention {
                self.queues[qi].visible -= 1;
                self.leave_queue(q, m);
                let node = self.queues[qi].node as usize;
                self.expire(node, m);
            } else {
                buf[kept] = m;
                kept += 1;
            }
        }
        buf.truncate(kept);
        if buf.is_empty() {
            if let Some(g) = fifo_group {
                // Every message taken had expired: the group may be received again.
                self.queues[qi].groups[g as usize].in_flight = false;
                self.mark_group_ready(q, g);
            }
            self.batch_buf = buf;
            // Progress only if expired messages were removed (then try again).
            return taken > 0;
        }
        self.queues[qi].visible -= buf.len() as u64;
        for &m in &buf {
            self.msgs[m as usize].receives += 1;
        }
        self.start_batch(c, &buf, NONE);
        self.batch_buf = buf;
        self.queue_levels(q);
        true
    }

    /// A failed queue message becomes visible again (SQS visibility timeout), or a stream
    /// batch is retried.
    fn visible_again(&mut self, m: u32) {
        let now = self.now;
        let lane = self.msgs[m as usize].lane;
        // Which queue or stream holds it is kept in `target` for this purpose.
        let holder = self.msgs[m as usize].target;
        if holder & (1 << 31) != 0 {
            // Stream lane retry: put it back at the head and serve the lane again.
            let s = holder & !(1 << 31);
            let (si, gi) = ((s >> 16) as usize, (s & 0xffff) as usize);
            self.msgs[m as usize].target = NONE;
            self.streams[si].groups[gi].1[lane as usize]
                .waiting
                .push_front(m);
            self.streams[si].groups[gi].1[lane as usize].busy = false;
            let c = self.streams[si].groups[gi].0;
            let node = self.consumers[c as usize].node as usize;
            if self.measuring() {
                self.stats[node].retried += 1;
            }
            self.series.count(node, Counter::Retries, now, 1);
            self.pump_stream(si as u32, gi as u32);
            return;
        }
        let q = holder;
        self.msgs[m as usize].target = NONE;
        let qi = q as usize;
        let node = self.queues[qi].node as usize;
        if self.measuring() {
            self.stats[node].retried += 1;
        }
        self.series.count(node, Counter::Retries, now, 1);
        if let Some(c) = self.sole_consumer(q) {
            let cn = self.consumers[c as usize].node as usize;
            if self.measuring() {
                self.stats[cn].retried += 1;
            }
            self.series.count(cn, Counter::Retries, now, 1);
        }
        if now.saturating_sub(self.msgs[m as usize].arrived_at) >= self.queues[qi].retention {
            self.leave_queue(q, m);
            self.expire(node, m);
            return;
        }
        self.msgs[m as usize].visible_since = now;
        if self.queues[qi].fifo {
            // Back at the head of its group, which stays blocked until now.
            self.queues[qi].groups[lane as usize].waiting.push_front(m);
            self.queues[qi].groups[lane as usize].in_flight = false;
            self.mark_group_ready(q, lane);
        } else {
            self.queues[qi].waiting.push_back(m);
        }
        self.queues[qi].visible += 1;
        self.queue_levels(q);
        self.pump_queue(q);
    }

    fn expire(&mut self, node: usize, m: u32) {
        if self.measuring() {
            self.stats[node].expired += 1;
        }
        self.series.count(node, Counter::Expired, self.now, 1);
        self.settle(m, Outcome::Expired);
        self.free(m);
    }

    /// A message leaves the queue's system (deleted, dead-lettered or expired).
    fn leave_queue(&mut self, q: u32, m: u32) {
        let now = self.now;
        let qi = q as usize;
        self.queues[qi].held -= 1;
        let msg = &self.msgs[m as usize];
        if msg.measured {
            let sojourn = now - msg.arrived_at;
            let node = self.queues[qi].node as usize;
            self.stats[node].sojourn_ns += u128::from(sojourn);
            self.stats[node].departures += 1;
            let waited = msg.waited;
            if let Some(c) = self.sole_consumer(q) {
                let cn = self.consumers[c as usize].node as usize;
                self.stats[cn].sojourn_ns += u128::from(sojourn);
                self.stats[cn].departures += 1;
                self.stats[cn].wait.record(waited);
            }
        }
    }

    // ----- streams --------------------------------------------------------------------------

    fn append(&mut self, s: u32, payload: Arc<Value>, event_no: u64, origin_at: Nanos) {
        let now = self.now;
        let si = s as usize;
        let node = self.streams[si].node as usize;
        let measuring = self.measuring();
        if self.streams[si].outage > 0 {
            self.cons.deliveries += 1;
            self.cons.rejected += 1;
            if measuring {
                self.stats[node].rejected += 1;
            }
            return;
        }
        let partition = match &self.streams[si].key_path {
            Some(path) => match lookup(&payload, path) {
                Some(v) => (hash_value(v) % u64::from(self.streams[si].partitions)) as u32,
                None => self.next_round_robin(s),
            },
            None => self.next_round_robin(s),
        };
        if measuring {
            self.stats[node].arrived += 1;
        }
        self.series.count(node, Counter::Arrivals, now, 1);
        self.streams[si].records += 1;
        let groups = self.streams[si].groups.len();
        if groups == 0 {
            // Nobody reads it: the record is retained until its retention passes; it counts as
            // in flight (owed to a consumer group that may never come).
            self.cons.deliveries += 1;
            // Records older than the retention period are deleted from the stream.
            let retention = self.streams[si].retention;
            while self.streams[si]
                .orphans
                .front()
                .is_some_and(|t| now.saturating_sub(*t) >= retention)
            {
                self.streams[si].orphans.pop_front();
                self.cons.expired += 1;
                if measuring {
                    self.stats[node].expired += 1;
                }
            }
            self.streams[si].orphans.push_back(now);
            return;
        }
        for g in 0..groups {
            self.cons.deliveries += 1;
            let mut msg = self.new_msg(Arc::clone(&payload), event_no, origin_at);
            msg.lane = partition;
            let m = self.alloc(msg);
            let c = self.streams[si].groups[g].0;
            let cn = self.consumers[c as usize].node as usize;
            if measuring {
                self.stats[cn].arrived += 1;
            }
            self.series.count(cn, Counter::Arrivals, now, 1);
            self.streams[si].groups[g].1[partition as usize]
                .waiting
                .push_back(m);
            self.consumer_held(c, 1);
            self.pump_stream(s, g as u32);
        }
        self.stream_levels(s);
    }

    fn next_round_robin(&mut self, s: u32) -> u32 {
        let st = &mut self.streams[s as usize];
        let p = st.round_robin % st.partitions;
        st.round_robin = st.round_robin.wrapping_add(1);
        p
    }

    fn stream_levels(&mut self, s: u32) {
        let now = self.now;
        let st = &self.streams[s as usize];
        let behind: u64 = st
            .groups
            .iter()
            .flat_map(|(_, l)| l.iter())
            .map(|l| l.waiting.len() as u64)
            .sum();
        let node = st.node as usize;
        self.stats[node].in_system.set(now, behind);
        self.stats[node].waiting.set(now, behind);
        self.series.level(node, Level::Lag, now, behind);
    }

    /// A stream consumer's system: the records its group has not finished.
    fn consumer_held(&mut self, c: u32, delta: i64) {
        let now = self.now;
        let cn = self.consumers[c as usize].node as usize;
        self.stats[cn].in_system.add(now, delta);
        let lvl = self.stats[cn].in_system.level();
        let msgs_in_service = self.consumers[c as usize].in_service;
        self.stats[cn]
            .waiting
            .set(now, lvl.saturating_sub(msgs_in_service));
        self.series.level(cn, Level::Backlog, now, lvl);
    }

    /// Lets idle instances of a consumer group pick up the next record of their partitions.
    fn pump_stream(&mut self, s: u32, g: u32) {
        let (si, gi) = (s as usize, g as usize);
        let c = self.streams[si].groups[gi].0;
        let partitions = self.streams[si].partitions;
        let instances = self.consumers[c as usize].concurrency;
        let batch = self.consumers[c as usize].batch;
        // Instance i reads partitions p with p % instances == i; instances beyond the
        // partition count own none and sit idle, as in Kafka and Kinesis.
        for inst in 0..instances.min(partitions) {
            if !self.consumers[c as usize].free_slots.contains(&inst) || !self.can_start(c) {
                continue;
            }
            let owned = partitions.div_ceil(instances).max(1);
            let start = self.consumers[c as usize].instance_cursor[inst as usize];
            let mut chosen = None;
            for k in 0..owned {
                let idx = (start + k) % owned;
                let p = inst + idx * instances;
                if p >= partitions {
                    continue;
                }
                let lane = &self.streams[si].groups[gi].1[p as usize];
                if !lane.busy && !lane.waiting.is_empty() {
                    chosen = Some((p, idx));
                    break;
                }
            }
            let Some((p, idx)) = chosen else { continue };
            self.consumers[c as usize].instance_cursor[inst as usize] = (idx + 1) % owned;
            let mut buf = std::mem::take(&mut self.batch_buf);
            buf.clear();
            {
                let lane = &mut self.streams[si].groups[gi].1[p as usize];
                lane.busy = true;
                while buf.len() < batch {
                    match lane.waiting.pop_front() {
                        Some(m) => buf.push(m),
                        None => break,
                    }
                }
            }
            for &m in &buf {
                self.msgs[m as usize].receives += 1;
            }
            // Take exactly this instance's slot.
            let cr = &mut self.consumers[c as usize];
            if let Some(pos) = cr.free_slots.iter().position(|x| *x == inst) {
                cr.free_slots.swap_remove(pos);
                cr.free_slots.push(inst);
            }
            self.start_batch(c, &buf, p);
            self.batch_buf = buf;
        }
        self.stream_levels(s);
    }

    // ----- consumers ------------------------------------------------------------------------

    /// Direct (Lambda-like) invocation by a rule target.
    fn invoke(&mut self, c: u32, m: u32) {
        let now = self.now;
        let cn = self.consumers[c as usize].node as usize;
        let measuring = self.measuring();
        if measuring {
            self.stats[cn].attempts += 1;
            self.stats[cn].first_attempts += u64::from(self.msgs[m as usize].attempts <= 1);
        }
        if !self.can_start(c) {
            // All slots busy (or broken open): throttled; the target's retry policy applies.
            if measuring {
                self.stats[cn].throttled += 1;
            }
            self.series.count(cn, Counter::Throttles, now, 1);
            if self.msgs[m as usize].target == NONE {
                self.settle(m, Outcome::Dropped);
                self.free(m);
            } else {
                self.target_failed(m, Reason::Throttled);
            }
            return;
        }
        {
            let msg = &mut self.msgs[m as usize];
            msg.arrived_at = now;
            msg.measured = measuring;
            msg.visible_since = now;
            msg.waited = 0;
        }
        if measuring {
            self.stats[cn].arrived += 1;
        }
        self.series.count(cn, Counter::Arrivals, now, 1);
        self.consumer_held(c, 1);
        let mut buf = std::mem::take(&mut self.batch_buf);
        buf.clear();
        buf.push(m);
        self.start_batch(c, &buf, NONE);
        self.batch_buf = buf;
    }

    /// Starts a batch in a free slot (the last of `free_slots`).
    fn start_batch(&mut self, c: u32, msgs: &[u32], lane: u32) {
        let now = self.now;
        let ci = c as usize;
        let cn = self.consumers[ci].node as usize;
        let measuring = self.measuring();
        let Some(slot) = self.consumers[ci].free_slots.pop() else {
            return;
        };
        let mut work = 0usize;
        for &m in msgs {
            let msg = &mut self.msgs[m as usize];
            // The wait is recorded when the message leaves: with redeliveries it waits in
            // line more than once, and Lq = λ·Wq holds only for the total.
            msg.waited += now - msg.visible_since;
            if measuring && self.consumers[ci].source != Source::Direct {
                self.stats[cn].attempts += 1;
                self.stats[cn].first_attempts += u64::from(msg.receives <= 1);
            }
            // Ordering: a start after a later-produced event of the same key is out of order.
            if let Some(path) = &self.consumers[ci].order_key
                && let Some(v) = lookup(&self.msgs[m as usize].payload, path)
            {
                let key = hash_value(v);
                let no = self.msgs[m as usize].event_no;
                let last = self.consumers[ci].last_order.entry(key).or_insert(0);
                if no < *last {
                    if measuring {
                        self.stats[cn].out_of_order += 1;
                    }
                } else {
                    *last = no;
                }
            }
            work += 1;
        }
        let cr = &mut self.consumers[ci];
        cr.slots[slot as usize].msgs.clear();
        cr.slots[slot as usize].msgs.extend_from_slice(msgs);
        cr.slots[slot as usize].lane = lane;
        cr.busy += 1;
        cr.in_service += msgs.len() as u64;
        let mut service = cr.service.sample(&mut cr.rng_service) * cr.slowdown;
        if work == 0 {
            service = 0.0;
        }
        let mut dt = service.round().max(0.0) as Nanos;
        cr.slots[slot as usize].timed_out = false;
        if let Some(limit) = cr.timeout
            && dt > limit
        {
            dt = limit;
            cr.slots[slot as usize].timed_out = true;
        }
        let busy = u64::from(cr.busy);
        self.stats[cn].busy.set(now, busy);
        self.series.level(cn, Level::Busy, now, busy);
        self.schedule(now + dt, Ev::Done { consumer: c, slot });
        // SQS: a handler slower than the visibility timeout does not keep the message hidden;
        // it becomes visible again mid-processing and another receive gets it too.
        if let Source::Queue(q) = self.consumers[ci].source {
            let queue = &self.queues[q as usize];
            if !queue.fifo && dt > queue.visibility {
                let at = now + queue.visibility;
                for &m in msgs {
                    self.schedule(at, Ev::VisibilityExpired(m));
                }
            }
        }
    }

    /// A message in service reached its visibility timeout: unless some copy of it has already
    /// been processed (and so deleted), a copy becomes visible and is received again. The copy
    /// owes nothing (the first delivery does); an idempotent consumer skips it if a twin
    /// finished first, another processes it twice (counted as a duplicate).
    fn reappear(&mut self, m: u32) {
        let Some(q) = self.queue_of_in_service(m) else {
            return;
        };
        let dup = self.msgs[m as usize].dup;
        if dup != NONE && (self.dups[dup as usize].processed || self.dups[dup as usize].live >= 100)
        {
            return;
        }
        let pair = if dup == NONE {
            let pair = self.new_dup_pair();
            self.msgs[m as usize].dup = pair;
            self.dups[pair as usize].live = 1;
            pair
        } else {
            dup
        };
        let mut copy = self.msgs[m as usize].clone();
        copy.owed = false;
        copy.dup = pair;
        copy.blocked_producer = NONE;
        copy.arrived_at = self.now;
        copy.visible_since = self.now;
        copy.waited = 0;
        copy.measured = self.measuring();
        let c = self.alloc(copy);
        self.dups[pair as usize].live += 1;
        let node = self.queues[q as usize].node as usize;
        if self.measuring() {
            self.stats[node].retried += 1;
        }
        self.series.count(node, Counter::Retries, self.now, 1);
        self.arrive_at_queue(q, c);
        self.pump_queue(q);
    }

    /// The standard queue whose consumer is processing message `m`, if it is in service.
    fn queue_of_in_service(&self, m: u32) -> Option<u32> {
        self.consumers.iter().find_map(|c| match c.source {
            Source::Queue(q) if c.slots.iter().any(|s| s.msgs.contains(&m)) => Some(q),
            _ => None,
        })
    }

    /// A batch finishes.
    #[allow(clippy::too_many_lines)]
    fn done(&mut self, c: u32, slot: u32) {
        let now = self.now;
        let ci = c as usize;
        let cn = self.consumers[ci].node as usize;
        let measuring = self.measuring();
        let msgs = std::mem::take(&mut self.consumers[ci].slots[slot as usize].msgs);
        let lane = self.consumers[ci].slots[slot as usize].lane;
        let timed_out = self.consumers[ci].slots[slot as usize].timed_out;
        let source = self.consumers[ci].source;
        let mut any_failed = false;
        let mut any_ok = false;
        // FIFO groups and stream partitions are ordered: after a failure that will be
        // redelivered, the rest of the batch is not processed but returned, in order, behind it.
        let fifo_group = match source {
            Source::Queue(q) if self.queues[q as usize].fifo => {
                msgs.first().map_or(NONE, |m| self.msgs[*m as usize].lane)
            }
            _ => NONE,
        };
        let ordered = fifo_group != NONE || matches!(source, Source::Stream { .. });
        let mut blocked = false;
        let mut returned = std::mem::take(&mut self.returned_buf);
        returned.clear();
        for &m in &msgs {
            if blocked {
                returned.push(m);
                continue;
            }
            // Idempotent consumers skip a duplicate whose twin was already processed.
            let dup = self.msgs[m as usize].dup;
            let is_dup = dup != NONE && self.dups[dup as usize].processed;
            let cr = &mut self.consumers[ci];
            let fails = !is_dup || !cr.idempotent;
            let failed = fails
                && (timed_out
                    || cr
                        .fail_when
                        .as_ref()
                        .is_some_and(|p| p.matches(&self.msgs[m as usize].payload))
                    || cr.rng_fail.chance(cr.failure_rate)
                    || (cr.error_rate > 0.0 && cr.rng_fail.chance(cr.error_rate)));
            if failed {
                any_failed = true;
                if measuring {
                    self.stats[cn].failed += 1;
                }
                self.series.count(cn, Counter::Failures, now, 1);
                if self.consumers[ci].handles_failures {
                    // The handler catches the failure, publishes its failure events and
                    // acknowledges the message: a handled failure ends the delivery.
                    self.fire_emits(c, m, EmitOn::Failure);
                    self.finish_message(c, m, source, true);
                } else if self.fail_message(c, m, source, lane) && ordered {
                    blocked = true;
                }
            } else {
                any_ok = true;
                if is_dup {
                    if measuring {
                        self.stats[cn].duplicates += 1;
                    }
                    if self.consumers[ci].idempotent {
                        self.finish_message(c, m, source, false);
                        continue;
                    }
                }
                if dup != NONE {
                    self.dups[dup as usize].processed = true;
                }
                if measuring {
                    self.stats[cn].completed += 1;
                    if !is_dup && self.msgs[m as usize].owed {
                        self.stats[cn].unique_completed += 1;
                    }
                }
                self.series.count(cn, Counter::Completions, now, 1);
                self.fire_emits(c, m, EmitOn::Success);
                self.finish_message(c, m, source, true);
            }
        }
        self.return_to_lane(source, lane, fifo_group, &returned);
        self.returned_buf = returned;
        if fifo_group != NONE
            && !blocked
            && let Source::Queue(q) = source
        {
            self.queues[q as usize].groups[fifo_group as usize].in_flight = false;
            self.mark_group_ready(q, fifo_group);
        }
        // Slot release.
        let cr = &mut self.consumers[ci];
        cr.in_service -= msgs.len() as u64;
        cr.slots[slot as usize].msgs = msgs;
        cr.slots[slot as usize].msgs.clear();
        cr.slots[slot as usize].lane = NONE;
        cr.busy -= 1;
        cr.free_slots.push(slot);
        let busy = u64::from(cr.busy);
        self.stats[cn].busy.set(now, busy);
        self.series.level(cn, Level::Busy, now, busy);
        self.breaker_after(c, any_failed, any_ok);
        // A stream lane frees up unless a failure blocks its partition until the retry.
        if let Source::Stream { stream, group } = source
            && lane != NONE
            && !blocked
        {
            self.streams[stream as usize].groups[group as usize].1[lane as usize].busy = false;
        }
        self.wake_consumer(c);
    }

    /// After a slot frees or a fault/breaker changes: look for more work.
    fn wake_consumer(&mut self, c: u32) {
        match self.consumers[c as usize].source {
            Source::Queue(q) => {
                self.queue_levels(q);
                self.pump_queue(q);
            }
            Source::Stream { stream, group } => self.pump_stream(stream, group),
            Source::Direct => {}
        }
    }

    /// Success (or a handled failure): the message leaves the consumer's system.
    fn finish_message(&mut self, c: u32, m: u32, source: Source, record: bool) {
        let now = self.now;
        let cn = self.consumers[c as usize].node as usize;
        let msg = &self.msgs[m as usize];
        if record && msg.measured {
            let lat = now - msg.arrived_at;
            self.stats[cn].latency.record(lat);
            self.series.latency(cn, now, lat);
            if !self.consumers[c as usize].emits_on_success && msg.owed {
                self.e2e.record(now - msg.origin_at);
            }
        }
        match source {
            Source::Queue(q) => {
                if self.msgs[m as usize].measured {
                    let qn = self.queues[q as usize].node as usize;
                    self.stats[qn].completed += 1;
                }
                self.leave_queue(q, m);
            }
            Source::Stream { .. } | Source::Direct => {
                if msg.measured {
                    let sojourn = u128::from(now - msg.arrived_at);
                    self.stats[cn].sojourn_ns += sojourn;
                    self.stats[cn].departures += 1;
                    self.stats[cn].wait.record(msg.waited);
                }
                self.consumer_held(c, -1);
            }
        }
        self.settle(m, Outcome::Completed);
        self.free(m);
    }

    /// Puts messages of an ordered batch back at the head of their FIFO group or stream lane,
    /// in their order, behind the failed message that blocks it.
    fn return_to_lane(&mut self, source: Source, lane: u32, fifo_group: u32, msgs: &[u32]) {
        if msgs.is_empty() {
            return;
        }
        for &m in msgs {
            self.msgs[m as usize].visible_since = self.now;
        }
        match source {
            Source::Queue(q) if fifo_group != NONE => {
                let qi = q as usize;
                for &m in msgs.iter().rev() {
                    self.queues[qi].groups[fifo_group as usize]
                        .waiting
                        .push_front(m);
                }
                self.queues[qi].visible += msgs.len() as u64;
                self.queue_levels(q);
            }
            Source::Stream { stream, group } if lane != NONE => {
                for &m in msgs.iter().rev() {
                    self.streams[stream as usize].groups[group as usize].1[lane as usize]
                        .waiting
                        .push_front(m);
                }
            }
            _ => {}
        }
    }

    /// An unhandled failure: redelivery by the source's rules. Returns true when the message
    /// will be delivered again from the same source (and so blocks an ordered lane).
    fn fail_message(&mut self, c: u32, m: u32, source: Source, lane: u32) -> bool {
        let now = self.now;
        let cn = self.consumers[c as usize].node as usize;
        match source {
            Source::Direct => {
                // The message leaves the consumer; the rule target retries or dead-letters it.
                let msg = &self.msgs[m as usize];
                if msg.measured {
                    self.stats[cn].sojourn_ns += u128::from(now - msg.arrived_at);
                    self.stats[cn].departures += 1;
                    self.stats[cn].wait.record(msg.waited);
                }
                self.consumer_held(c, -1);
                if self.msgs[m as usize].target == NONE {
                    self.settle(m, Outcome::Dropped);
                    self.free(m);
                } else {
                    self.target_failed(m, Reason::RetriesExhausted);
                }
                false
            }
            Source::Queue(q) => {
                let qi = q as usize;
                let qnode = self.queues[qi].node as usize;
                if self.msgs[m as usize].receives >= self.queues[qi].max_receives {
                    let dlq = self.queues[qi].dlq;
                    self.leave_queue(q, m);
                    if self.measuring() {
                        self.stats[cn].dead_lettered += 1;
                        self.stats[cn].reasons[Reason::MaxReceives.index()] += 1;
                    }
                    self.dead_letter(m, dlq, qnode, Reason::MaxReceives);
                    false
                } else {
                    // Invisible until the visibility timeout passes, then received again.
                    self.msgs[m as usize].target = q;
                    let vis = self.queues[qi].visibility;
                    self.schedule(now + vis, Ev::Visible(m));
                    true
                }
            }
            Source::Stream { stream, group } => {
                // The record waits (its partition blocked) until the retry.
                self.msgs[m as usize].visible_since = now;
                self.msgs[m as usize].target = 1 << 31 | stream << 16 | group;
                self.msgs[m as usize].lane = lane;
                self.schedule(now + STREAM_RETRY_DELAY, Ev::Visible(m));
                true
            }
        }
    }

    fn fire_emits(&mut self, c: u32, m: u32, on: EmitOn) {
        let n = self.consumers[c as usize].emits.len();
        if n == 0 {
            return;
        }
        let now = self.now;
        let trigger = Arc::clone(&self.msgs[m as usize].payload);
        let origin_at = self.msgs[m as usize].origin_at;
        for i in 0..n {
            let cr = &mut self.consumers[c as usize];
            if cr.emits[i].on != on {
                continue;
            }
            let p = cr.emits[i].probability;
            if p < 1.0 && !cr.rng_emit.chance(p) {
                continue;
            }
            cr.emits[i].seq += 1;
            let seq = cr.emits[i].seq;
            let dest = cr.emits[i].dest;
            let event_no = self.next_event_no();
            let cr = &mut self.consumers[c as usize];
            let mut v = cr.emits[i]
                .template
                .generate(&mut cr.rng_emit, seq, Some(&trigger));
            fill_envelope(&mut v, self.seed, event_no, now);
            let node = self.consumers[c as usize].node as usize;
            if self.measuring() {
                self.stats[node].emitted += 1;
            }
            self.send(dest, Arc::new(v), event_no, origin_at, NONE);
            if self.check_loop_guard() {
                return;
            }
        }
    }

    fn breaker_after(&mut self, c: u32, failed: bool, ok: bool) {
        let now = self.now;
        let cn = self.consumers[c as usize].node as usize;
        let Some((threshold, cooldown)) = self.consumers[c as usize].breaker_cfg else {
            return;
        };
        let cr = &mut self.consumers[c as usize];
        let before = cr.breaker;
        if failed && !ok {
            cr.consecutive_failures += 1;
            if cr.breaker == Breaker::HalfOpen || cr.consecutive_failures >= threshold {
                cr.breaker = Breaker::Open;
            }
        } else if ok {
            cr.consecutive_failures = 0;
            cr.breaker = Breaker::Closed;
        }
        if cr.breaker != before {
            if self.measuring() {
                self.stats[cn].breaker_transitions += 1;
            }
            if self.consumers[c as usize].breaker == Breaker::Open {
                self.schedule(now + cooldown, Ev::BreakerProbe(c));
            }
        }
    }

    fn breaker_probe(&mut self, c: u32) {
        let cn = self.consumers[c as usize].node as usize;
        if self.consumers[c as usize].breaker == Breaker::Open {
            self.consumers[c as usize].breaker = Breaker::HalfOpen;
            if self.measuring() {
                self.stats[cn].breaker_transitions += 1;
            }
            self.wake_consumer(c);
        }
    }

    // ----- faults and timeline --------------------------------------------------------------

    fn fault_edge(&mut self, f: u32, start: bool) {
        let Some(dest) = self.fault_dest[f as usize] else {
            return;
        };
        let fault = &self.faults[f as usize];
        let (kind, factor, rate) = (
            fault.kind,
            fault.factor.unwrap_or(1.0),
            fault.rate.unwrap_or(0.0),
        );
        let sign: i32 = if start { 1 } else { -1 };
        match dest {
            Dest::Consumer(c) => {
                self.consumers[c as usize].apply_fault(kind, start, factor, rate);
                if !start {
                    self.wake_consumer(c);
                }
            }
            Dest::Queue(q) => {
                let qr = &mut self.queues[q as usize];
                if kind == FaultKind::Outage {
                    qr.outage = qr.outage.saturating_add_signed(sign);
                }
                // A slowed or erroring queue slows or fails its consumers.
                let consumers = qr.consumers.clone();
                for c in consumers {
                    self.consumers[c as usize].apply_fault(kind, start, factor, rate);
                }
                if !start {
                    self.pump_queue(q);
                }
            }
            Dest::Stream(s) => {
                let st = &mut self.streams[s as usize];
                if kind == FaultKind::Outage {
                    st.outage = st.outage.saturating_add_signed(sign);
                }
            }
            Dest::Bus(b) => {
                let bus = &mut self.buses[b as usize];
                match kind {
                    FaultKind::Outage => bus.outage = bus.outage.saturating_add_signed(sign),
                    FaultKind::Slowdown => {
                        bus.slowdown = if start {
                            bus.slowdown * factor
                        } else {
                            bus.slowdown / factor
                        }
                    }
                    FaultKind::Errors => {
                        bus.error_rate = (bus.error_rate + f64::from(sign) * rate).clamp(0.0, 1.0)
                    }
                }
            }
        }
    }

    fn timeline_action(&mut self, i: u32) {
        let action = self.timeline[i as usize].action.clone();
        match action {
            TimelineAction::Redrive { dlq, to } => {
                let (Some(from), Some(to)) = (self.queue_by_id(&dlq), self.queue_by_id(&to)) else {
                    return;
                };
                // Everything visible in the DLQ moves back: each becomes an owed delivery again.
                let mut moved = Vec::new();
                let fq = from as usize;
                if self.queues[fq].fifo {
                    for g in 0..self.queues[fq].groups.len() {
                        moved.extend(self.queues[fq].groups[g].waiting.drain(..));
                    }
                    self.queues[fq].ready.clear();
                    for g in &mut self.queues[fq].groups {
                        g.queued_ready = false;
                    }
                } else {
                    moved.extend(self.queues[fq].waiting.drain(..));
                }
                for &m in &moved {
                    self.queues[fq].visible -= 1;
                    self.leave_queue(from, m);
                }
                self.queue_levels(from);
                for m in moved {
                    self.cons.deliveries += 1;
                    let msg = &mut self.msgs[m as usize];
                    msg.owed = true;
                    msg.target = NONE;
                    self.enqueue(to, m);
                }
            }
            TimelineAction::Replay { bus, from, to } => {
                let Some(b) = self
                    .buses
                    .iter()
                    .position(|x| self.stats[x.node as usize].id == bus)
                else {
                    return;
                };
                let events: Vec<Arc<Value>> = self.buses[b]
                    .archive
                    .as_ref()
                    .map(|a| {
                        a.iter()
                            .filter(|(t, _)| *t >= from.0 && *t < to.0)
                            .map(|(_, p)| Arc::clone(p))
                            .collect()
                    })
                    .unwrap_or_default();
                let now = self.now;
                for payload in events {
                    self.cons.replayed += 1;
                    // A replayed event is a new event (EventBridge gives it a new id and adds
                    // `replay-name`), so idempotency by id does not hide it.
                    let event_no = self.cons.produced + self.cons.replayed + (1 << 40);
                    let mut v = (*payload).clone();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("replay-name".into(), Value::String(format!("replay-{i}")));
                    }
                    self.route(b as u32, Arc::new(v), event_no, now);
                }
            }
        }
    }

    fn queue_by_id(&self, id: &str) -> Option<u32> {
        self.queues
            .iter()
            .position(|q| self.stats[q.node as usize].id == id)
            .map(|i| i as u32)
    }

    // ----- loop guard -----------------------------------------------------------------------

    fn check_loop_guard(&mut self) -> bool {
        if self.cons.produced <= self.max_events || self.stopped.is_some() {
            return self.stopped.is_some();
        }
        let cycle = if self.cycles.is_empty() {
            "no event cycle was found; raise settings.max_events if the load is meant".to_owned()
        } else {
            // Name the cycle through the consumer that emitted the most.
            let hottest = self
                .consumers
                .iter()
                .max_by_key(|c| self.stats[c.node as usize].emitted)
                .map(|c| self.stats[c.node as usize].id.clone())
                .unwrap_or_default();
            let cycle = self
                .cycles
                .iter()
                .find(|c| c.contains(&hottest))
                .unwrap_or(&self.cycles[0]);
            format!("event cycle {}", cycle.join(" → "))
        };
        self.stopped = Some(Stop {
            at: self.now,
            reason: format!(
                "loop guard: more than {} events produced; {cycle}",
                self.max_events
            ),
        });
        true
    }

    // ----- observation ----------------------------------------------------------------------

    /// Owed messages still in the system (the conservation `in_flight`).
    #[must_use]
    pub fn in_flight(&self) -> u64 {
        let c = &self.cons;
        c.deliveries - c.completed - c.dead_lettered - c.rejected - c.expired - c.dropped
    }

    /// Current circuit-breaker state of each consumer that has one, by node index.
    pub(crate) fn breaker_states(&self) -> Vec<(usize, &'static str)> {
        self.consumers
            .iter()
            .filter(|c| c.breaker_cfg.is_some())
            .map(|c| {
                let state = match c.breaker {
                    Breaker::Closed => "closed",
                    Breaker::Open => "open",
                    Breaker::HalfOpen => "half_open",
                };
                (c.node as usize, state)
            })
            .collect()
    }

    /// Faults in force now, as (node index, kind).
    pub(crate) fn active_faults(&self) -> Vec<(usize, &'static str)> {
        self.faults
            .iter()
            .filter(|f| f.from.0 <= self.now && self.now < f.to.0)
            .filter_map(|f| {
                let node = self.stats.iter().position(|n| n.id == f.target)?;
                let kind = match f.kind {
                    FaultKind::Outage => "outage",
                    FaultKind::Slowdown => "slowdown",
                    FaultKind::Errors => "errors",
                };
                Some((node, kind))
            })
            .collect()
    }

    /// Messages waiting in each queue (by queue order), for the final report.
    pub(crate) fn queue_snapshot(&self) -> Vec<(usize, u64, u64, Option<Nanos>)> {
        self.queues
            .iter()
            .map(|q| {
                let oldest = if q.fifo {
                    q.groups
                        .iter()
                        .filter_map(|g| g.waiting.front())
                        .map(|m| self.msgs[*m as usize].arrived_at)
                        .min()
                } else {
                    q.waiting.front().map(|m| self.msgs[*m as usize].arrived_at)
                };
                (q.node as usize, q.held, q.visible, oldest)
            })
            .collect()
    }

    /// Records behind and oldest record per stream.
    pub(crate) fn stream_snapshot(&self) -> Vec<(usize, u64, Option<Nanos>)> {
        self.streams
            .iter()
            .map(|s| {
                let behind = s
                    .groups
                    .iter()
                    .flat_map(|(_, l)| l.iter())
                    .map(|l| l.waiting.len() as u64)
                    .sum();
                let oldest = s
                    .groups
                    .iter()
                    .flat_map(|(_, l)| l.iter())
                    .filter_map(|l| l.waiting.front())
                    .map(|m| self.msgs[*m as usize].arrived_at)
                    .min();
                (s.node as usize, behind, oldest)
            })
            .collect()
    }

    /// Reason names, for results.
    #[must_use]
    pub fn reason_names() -> [&'static str; 5] {
        Reason::ALL.map(Reason::as_str)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Completed,
    DeadLettered,
    Rejected,
    Expired,
    Dropped,
}

/// Fills the envelope fields the engine owns, as EventBridge would.
fn fill_envelope(v: &mut Value, seed: u64, event_no: u64, now: Nanos) {
    if let Some(o) = v.as_object_mut() {
        o.entry("version")
            .or_insert_with(|| Value::String("0".into()));
        o.insert("id".into(), Value::String(event_id(seed, event_no)));
        o.entry("detail-type")
            .or_insert_with(|| Value::String("Event".into()));
        o.entry("source")
            .or_insert_with(|| Value::String("eventflow".into()));
        o.entry("account")
            .or_insert_with(|| Value::String("123456789012".into()));
        o.insert("time".into(), Value::String(event_time(now)));
        o.entry("region")
            .or_insert_with(|| Value::String("us-east-1".into()));
        o.entry("resources")
            .or_insert_with(|| Value::Array(Vec::new()));
        o.entry("detail")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
}

/// Event cycles in the component graph (emits → bus → rule targets → consumers → emits …),
/// each as a list of ids from a consumer back to it, for the loop guard's message and the
/// linter. A hop through a bus only follows the rules whose patterns could match the events
/// entering it (the emit's template, as far as it can be known statically), so a choreography
/// whose services publish to the bus that invokes them is not a loop unless an output can
/// match its own rule. Each cycle is reported once.
#[must_use]
pub fn find_cycles(s: &Scenario) -> Vec<Vec<String>> {
    use std::collections::BTreeSet;

    /// What is known of the events travelling an edge: a template, or nothing (all may pass).
    type Filter<'a> = Option<&'a Value>;
    /// Successors: (node id, index of the emit template on that edge).
    type Successors = Vec<(String, Option<usize>)>;

    let templates: Vec<Value> = s
        .consumers
        .iter()
        .flat_map(|c| {
            c.emits
                .iter()
                .map(|e| crate::model::defaults::effective_template(&e.event))
        })
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

    // Successors of a node given the filter on the edge that reached it.
    let next = |node: &str, filter: Filter<'_>| -> Successors {
        let mut out = Vec::new();
        if let Some(bi) = s.buses.iter().position(|b| b.id == node) {
            for (ri, r) in s.buses[bi].rules.iter().enumerate() {
                let may = match (filter, &patterns[bi][ri]) {
                    (Some(t), Some(p)) => p.may_match_template(t),
                    _ => true,
                };
                if may {
                    for t in &r.targets {
                        out.push((t.to.clone(), None));
                    }
                }
            }
        }
        if s.queues.iter().any(|q| q.id == node) || s.streams.iter().any(|x| x.id == node) {
            for c in s
                .consumers
                .iter()
                .filter(|c| c.from.as_deref() == Some(node))
            {
                out.push((c.id.clone(), None));
            }
        }
        let mut k = 0;
        for c in &s.consumers {
            for e in &c.emits {
                if c.id == node {
                    out.push((e.to.clone(), Some(k)));
                }
                k += 1;
            }
        }
        out
    };

    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut consumers: Vec<&str> = s
        .consumers
        .iter()
        .filter(|c| !c.emits.is_empty())
        .map(|c| c.id.as_str())
        .collect();
    consumers.sort_unstable();
    for &start in &consumers {
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
                && !s
                    .consumers
                    .iter()
                    .any(|c| c.id == n && c.id.as_str() < start && !c.emits.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_are_civil_dates() {
        assert_eq!(event_time(0), "2026-01-01T00:00:00Z");
        assert_eq!(
            event_time(86_400_000_000_000 * 59 + 3_661_000_000_000),
            "2026-03-01T01:01:01Z"
        );
        assert_eq!(event_time(86_400_000_000_000 * 365), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn event_ids_are_uuid_shaped_and_deterministic() {
        let a = event_id(1, 5);
        assert_eq!(a.len(), 36);
        assert_eq!(a, event_id(1, 5));
        assert_ne!(a, event_id(1, 6));
        assert_eq!(&a[14..15], "4");
    }
}
