//! Capacity panel: what queueing theory predicts for each consumer at the load a run measured,
//! and the smallest concurrency (and partition count) that would meet its targets.
//!
//! For every consumer the panel takes the measured arrival rate λ (per second, over the
//! measured window), the service rate of one slot μ = `batch_size` / mean service time, and the
//! number of servers, and sets the prediction beside the simulated figures:
//!
//! | source | servers | model |
//! |---|---|---|
//! | queue | `concurrency` | M/M/c (Erlang C) for exponential service, else Allen–Cunneen |
//! | stream | e = min(`concurrency`, `partitions`) | each instance an M/M/1 (or Kingman/Allen–Cunneen with c = 1) fed λ/e |
//! | function invoked asynchronously | `concurrency` | M/M/c (Erlang C): Lambda's own queue is the waiting line |
//! | service called by a rule target | `concurrency` | Erlang B: the probability a call is throttled (HTTP 429) |
//! | function or service called only by state machine Tasks | `concurrency` | Erlang B: Step Functions calls synchronously, so a call that finds every slot busy fails the Task at once |
//!
//! λ is always the measured arrivals, so a Task's retries count as the calls they are.
//!
//! Arrivals are taken as Poisson (ca² = 1): filtering and merging Poisson streams keeps them
//! Poisson, and it is what the producers' default `arrivals` gives. A prediction is labelled
//! [`Accuracy::Exact`] only when that and every other M/M/c assumption hold (exponential service,
//! one message per invocation, Poisson producers without schedules, no failures, faults, timeouts
//! or breakers on the consumer); otherwise it is an approximation, and the `notes` say why.
//!
//! A stream consumer group is not one pooled M/M/c: each partition is read in order by one
//! instance, so with e instances the group behaves like e single-server queues, each fed about
//! λ/e when keys spread evenly (hot keys make one of them hotter; see
//! [`partitions_for_hot_key`]).
//!
//! Recommendations follow `queueing.md`'s capacity-planning section: the smallest concurrency with
//! utilization ≤ the target (`slo.utilization`, default 2/3, the design notes' ×1.5 rule); the
//! smallest concurrency whose Erlang C wait quantile meets `slo.wait` (quantile `slo.quantile`,
//! default 0.99); and for a stream, the partitions that let the group keep up with its hottest
//! key's share ([`hottest_key_share`], estimated from the producers' event templates).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::IdMap;
use super::queueing::{
    Accuracy, DEFAULT_TARGET_UTILIZATION, HotKeyPlan, Prediction, WaitTarget, allen_cunneen,
    backlog_growth_per_s, drain_time_s, erlang_b, mmc, partitions_for_hot_key,
    servers_for_utilization, servers_for_wait,
};
use crate::metrics::{Metric, SeriesData};
use crate::model::{Arrivals, Consumer, Distribution, Scenario};
use crate::sim::{NodeResult, Results};

/// How a consumer gets its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// It reads a queue: one pooled waiting line (M/M/c).
    Queue,
    /// It is a consumer group reading a partitioned stream.
    Stream,
    /// A rule target calls it synchronously (a service): no waiting line, throttled when busy.
    Direct,
    /// A function invoked asynchronously (by rule targets, topics or `emits`): Lambda's own
    /// queue is its waiting line (M/M/c).
    Async,
    /// Called only by state machine Tasks. Step Functions invokes a function synchronously
    /// (`RequestResponse`) and calls a service synchronously, so, like [`Source::Direct`],
    /// there is no waiting line: a call that finds every slot busy fails the Task at once, and
    /// only the Task's `Retry` tries again.
    Task,
}

impl Source {
    /// A loss system (Erlang B): calls that find every slot busy are refused, not queued.
    #[must_use]
    pub fn is_loss(self) -> bool {
        matches!(self, Source::Direct | Source::Task)
    }
}

/// What the run measured, to set beside [`Prediction`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Simulated {
    /// Utilization ρ.
    pub rho: f64,
    /// Mean wait before service Wq, seconds.
    pub wq_s: f64,
    /// Mean time in system W, seconds.
    pub w_s: f64,
    /// Time-average number waiting Lq.
    pub lq: f64,
    /// Time-average number in system L.
    pub l: f64,
}

/// Partition advice for a stream consumer group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionAdvice {
    /// The stream's partitions now.
    pub partitions: u32,
    /// Share of the stream's records carried by its hottest key (0 when unkeyed or unknown).
    pub hottest_key_share: f64,
    /// Partitions (with as many instances) that keep up; `None` if it could not be computed.
    pub plan: Option<HotKeyPlan>,
}

/// The capacity recommendations for one consumer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    /// The utilization target used (`slo.utilization`, default 2/3).
    pub utilization_target: f64,
    /// Smallest concurrency with utilization ≤ the target.
    pub concurrency_for_utilization: Option<u32>,
    /// The wait target from `slo.wait`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_target: Option<WaitTarget>,
    /// Smallest concurrency meeting the wait target (Erlang C; per instance for streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_for_wait: Option<u32>,
    /// Stream consumers: the partition count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<PartitionAdvice>,
}

/// Everything the capacity panel shows for one consumer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsumerCapacity {
    /// Queue, stream or direct.
    pub source: Source,
    /// The queue or stream read (absent for direct consumers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Measured arrival rate λ, per second.
    pub lambda: f64,
    /// Service rate of one slot μ, messages per second.
    pub mu: f64,
    /// Squared coefficient of variation of the service time (1 for exponential).
    pub service_scv: f64,
    /// Configured concurrency.
    pub concurrency: u32,
    /// Servers the model uses (min(concurrency, partitions) for a stream).
    pub servers: u32,
    /// Whether the prediction is exact for the scenario or an approximation.
    pub accuracy: Accuracy,
    /// The queueing prediction at the measured λ (`None` for direct consumers or invalid rates).
    pub predicted: Option<Prediction>,
    /// The simulated figures, for comparison.
    pub simulated: Simulated,
    /// Direct consumers: Erlang B probability that an invocation finds every slot busy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_probability: Option<f64>,
    /// λ − cμ when overloaded at the mean rate, else 0 (messages per second).
    pub backlog_growth_per_s: f64,
    /// Highest mean arrival rate over any [`PEAK_WINDOW_S`] window, per second (needs the series).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_arrival_rate: Option<f64>,
    /// Backlog growth at the peak rate, messages per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_backlog_growth_per_s: Option<f64>,
    /// Messages waiting at the end of the run (queue or stream consumers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog_end: Option<u64>,
    /// Seconds to drain `backlog_end` at the arrival rate after the backlog's peak; `None` if it
    /// never drains (capacity at or below that rate, or a hot partition's key alone exceeds an
    /// instance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain_time_end_s: Option<f64>,
    /// Most messages waiting at once.
    pub backlog_peak: u64,
    /// Seconds to drain `backlog_peak` at the arrival rate after the peak (how long the worst
    /// backlog takes to clear once the burst is over); `None` if it never drains.
    pub drain_time_peak_s: Option<f64>,
    /// Capacity recommendations.
    pub recommendation: Recommendation,
    /// Why the prediction is approximate, and anything that could not be computed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Key counts up to which the Zipf normalizer is summed term by term; beyond, the tail is
/// integrated (relative error far below 10⁻⁹ there).
const ZIPF_DIRECT_TERMS: u64 = 100_000;

/// H(n, s) = Σ_{k=1..n} k^−s, the normalizer of a Zipf(s) law over n keys.
#[must_use]
pub fn zipf_normalizer(count: u64, skew: f64) -> f64 {
    let direct = count.min(ZIPF_DIRECT_TERMS);
    let mut sum: f64 = (1..=direct).map(|k| (k as f64).powf(-skew)).sum();
    if count > direct {
        // Midpoint rule for the tail: Σ_{k=m+1..n} k^−s ≈ ∫_{m+½}^{n+½} x^−s dx.
        let (a, b) = (direct as f64 + 0.5, count as f64 + 0.5);
        sum += if (skew - 1.0).abs() < 1e-12 {
            (b / a).ln()
        } else {
            (b.powf(1.0 - skew) - a.powf(1.0 - skew)) / (1.0 - skew)
        };
    }
    sum
}

/// How one producer's template fills the stream's key path.
enum KeySpec {
    /// `$key`: Zipf over `count` keys named prefix + k.
    Zipf {
        prefix: Option<String>,
        count: u64,
        skew: f64,
        normalizer: f64,
    },
    /// Fixed values with probabilities (a literal is one value with probability 1).
    Values(Vec<(String, f64)>),
    /// Unique or continuous values: no key carries a noticeable share.
    Spread,
}

impl KeySpec {
    fn from_template(value: Option<&Value>) -> KeySpec {
        let Some(value) = value else {
            return KeySpec::Spread;
        };
        match value {
            Value::Object(o) if o.len() == 1 => {
                let Some((k, arg)) = o.iter().next() else {
                    return KeySpec::Spread;
                };
                match k.as_str() {
                    "$key" => {
                        let count = arg.get("count").and_then(Value::as_u64).unwrap_or(1).max(1);
                        let skew = arg.get("skew").and_then(Value::as_f64).unwrap_or(0.0);
                        let prefix = arg.get("prefix").and_then(Value::as_str).map(str::to_owned);
                        KeySpec::Zipf {
                            prefix,
                            count,
                            skew,
                            normalizer: zipf_normalizer(count, skew),
                        }
                    }
                    "$choice" => {
                        let weights: Vec<(String, f64)> = arg
                            .as_object()
                            .map(|m| {
                                m.iter()
                                    .filter_map(|(v, w)| w.as_f64().map(|w| (v.clone(), w)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let total: f64 = weights.iter().map(|(_, w)| w).sum();
                        if total > 0.0 {
                            KeySpec::Values(
                                weights.into_iter().map(|(v, w)| (v, w / total)).collect(),
                            )
                        } else {
                            KeySpec::Spread
                        }
                    }
                    name if name.starts_with('$') => KeySpec::Spread,
                    _ => KeySpec::Values(vec![(key_name(value), 1.0)]),
                }
            }
            other => KeySpec::Values(vec![(key_name(other), 1.0)]),
        }
    }

    /// The hottest key names this spec could contribute.
    fn candidates(&self) -> Vec<String> {
        match self {
            KeySpec::Zipf { prefix, .. } => {
                vec![format!("{}1", prefix.as_deref().unwrap_or(""))]
            }
            KeySpec::Values(v) => v.iter().map(|(n, _)| n.clone()).collect(),
            KeySpec::Spread => Vec::new(),
        }
    }

    /// Probability that one event carries key `name`.
    fn probability(&self, name: &str) -> f64 {
        match self {
            KeySpec::Zipf {
                prefix,
                count,
                skew,
                normalizer,
            } => {
                let rest = name.strip_prefix(prefix.as_deref().unwrap_or(""));
                match rest.and_then(|r| r.parse::<u64>().ok()) {
                    Some(k) if (1..=*count).contains(&k) => (k as f64).powf(-skew) / normalizer,
                    _ => 0.0,
                }
            }
            KeySpec::Values(v) => v.iter().filter(|(n, _)| n == name).map(|(_, p)| p).sum(),
            KeySpec::Spread => 0.0,
        }
    }
}

fn key_name(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn template_at<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(event, |v, segment| v.as_object()?.get(segment))
}

/// The share of a stream's records carried by its hottest key, estimated from the event
/// templates of the producers whose events reach it (directly, or through a bus rule target
/// without a transform), weighted by their base rates.
///
/// `Some(0.0)` for an unkeyed stream (records spread round-robin); `None` when no producer is
/// known to feed it (e.g. only consumers' `emits` do) or it has no id of that name. The figure
/// assumes every rule passes the same fraction of each producer's keys, and ignores schedules.
#[must_use]
pub fn hottest_key_share(scenario: &Scenario, stream: &str) -> Option<f64> {
    let s = scenario.streams.iter().find(|s| s.id == stream)?;
    let Some(key) = &s.key else {
        return Some(0.0);
    };
    let mut feeds: Vec<(f64, KeySpec)> = Vec::new();
    for p in &scenario.producers {
        let reaches = p.to == stream
            || scenario.buses.iter().any(|b| {
                b.id == p.to
                    && b.rules.iter().any(|r| {
                        r.targets
                            .iter()
                            .any(|t| t.to == stream && t.transform.is_none())
                    })
            });
        if reaches && p.rate > 0.0 {
            feeds.push((p.rate, KeySpec::from_template(template_at(&p.event, key))));
        }
    }
    let total: f64 = feeds.iter().map(|(r, _)| r).sum();
    if total <= 0.0 {
        return None;
    }
    let mut best = 0.0_f64;
    for (_, spec) in &feeds {
        for name in spec.candidates() {
            let rate: f64 = feeds.iter().map(|(r, s)| r * s.probability(&name)).sum();
            best = best.max(rate / total);
        }
    }
    Some(best.min(1.0))
}

/// Why an M/M/c prediction for this consumer is only an approximation (empty: exact).
fn approximation_reasons(scenario: &Scenario, c: &Consumer, source: Source) -> Vec<String> {
    let mut notes = Vec::new();
    // Erlang B is insensitive to the service distribution: only the queueing models care.
    if !source.is_loss() && !matches!(c.service_time, Distribution::Exponential { .. }) {
        notes.push(format!(
            "service time is not exponential (cs² = {:.2}): Allen–Cunneen approximation",
            c.service_time.scv()
        ));
    }
    let batch = c.batch_size_in_force(scenario.source_kind(c));
    if batch > 1 {
        notes.push(format!(
            "batches of {batch}: μ counts messages, assuming full batches"
        ));
    }
    if source == Source::Stream {
        notes.push(
            "stream: each instance modelled as a single server fed an even share of the partitions"
                .into(),
        );
    }
    if scenario
        .producers
        .iter()
        .any(|p| p.arrivals != Arrivals::Poisson || !p.schedule.is_empty())
    {
        notes.push("not every producer is a constant-rate Poisson process".into());
    }
    if c.failure_rate > 0.0 || c.fail_when.is_some() || c.timeout.is_some_and(|t| t.limit().is_some())
        // Lambda's default timeout matters only where the service time may reach it.
        || (c.timeout.is_none()
            && c
                .timeout_in_force()
                .is_some_and(|t| c.service_time.may_exceed(t)))
    {
        notes.push("failures and retries change the arrival process".into());
    }
    if c.circuit_breaker.is_some() || scenario.faults.iter().any(|f| f.target == c.id) {
        notes.push("faults or a circuit breaker interrupt service".into());
    }
    notes
}

/// M/M/c if exponential, Allen–Cunneen (Poisson arrivals) otherwise.
fn predict(
    lambda: f64,
    mu: f64,
    servers: u32,
    service: &Distribution,
) -> Result<Prediction, super::QueueingError> {
    if matches!(service, Distribution::Exponential { .. }) {
        mmc(lambda, mu, servers)
    } else {
        allen_cunneen(lambda, mu, servers, 1.0, service.scv())
    }
}

/// Smallest number of stream instances e (each an M/M/1 fed λ/e) whose wait quantile meets the
/// target: P(wait > t) = ρ e^{−(μ − λ/e) t} ≤ 1 − q.
fn instances_for_wait(lambda: f64, mu: f64, quantile: f64, max_wait_s: f64) -> Option<u32> {
    let start = (lambda / mu).floor() as u64 + 1;
    (start..start.saturating_add(1_000_000)).find_map(|e| {
        let per = lambda / e as f64;
        let rho = per / mu;
        let tail = rho * (-(mu - per) * max_wait_s).exp();
        (tail <= 1.0 - quantile)
            .then(|| u32::try_from(e).ok())
            .flatten()
    })
}

/// Seconds over which the peak arrival rate is averaged: one bucket of a 500-bucket series is a
/// second or so, whose Poisson noise alone reads 120/s as 150/s; a half-minute mean is within a
/// few percent of the rate in force and still catches a burst of a minute or more.
pub const PEAK_WINDOW_S: f64 = 30.0;

/// Buckets in a window of [`PEAK_WINDOW_S`] (at least one).
fn window_buckets(series: &SeriesData) -> usize {
    if series.bucket_s > 0.0 {
        ((PEAK_WINDOW_S / series.bucket_s).round() as usize).max(1)
    } else {
        1
    }
}

/// The largest mean arrival rate over any [`PEAK_WINDOW_S`] window (the whole run if shorter).
fn peak_rate(series: Option<&SeriesData>, look: &Lookup<'_>, id: &str) -> Option<f64> {
    let series = series?;
    let node = look.series_node(id)?;
    let values: Vec<f64> = series
        .get(node, Metric::Arrivals)?
        .values
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect();
    if values.is_empty() {
        return None;
    }
    let w = window_buckets(series).min(values.len());
    let mut sum: f64 = values[..w].iter().sum();
    let mut best = sum;
    for i in w..values.len() {
        sum += values[i] - values[i - w];
        best = best.max(sum);
    }
    Some(best / w as f64)
}

/// The arrival rate a backlog drains against: the consumer's mean arrival rate after the
/// source's backlog peaked (the burst is over by then), or over the last window when the
/// backlog peaks at the end. `None` without series (the caller falls back to the run's mean).
fn drain_rate(
    series: Option<&SeriesData>,
    look: &Lookup<'_>,
    consumer: &str,
    source: Option<&str>,
) -> Option<f64> {
    let series = series?;
    let index = |id: &str| look.series_node(id);
    let arrivals = &series.get(index(consumer)?, Metric::Arrivals)?.values;
    let backlog = source.and_then(index).and_then(|q| {
        series
            .get(q, Metric::Backlog)
            .or_else(|| series.get(q, Metric::Lag))
    })?;
    let (peak, _) = backlog
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, (*v)?)))
        .fold(
            (0, f64::MIN),
            |best, (i, v)| if v > best.1 { (i, v) } else { best },
        );
    let n = arrivals.len();
    let from = if peak + 1 < n {
        peak + 1
    } else {
        n.saturating_sub(window_buckets(series))
    };
    let after: Vec<f64> = arrivals[from..].iter().flatten().copied().collect();
    (!after.is_empty()).then(|| after.iter().sum::<f64>() / after.len() as f64)
}

/// The lookups the capacity of every consumer needs, built once: by id, not by a scan per
/// consumer (10,000 consumers made the analysis quadratic).
struct Lookup<'a> {
    /// Each node's results.
    nodes: BTreeMap<&'a str, &'a NodeResult>,
    /// Each node's index in the run's series.
    series: BTreeMap<&'a str, usize>,
    /// Each stream's partitions.
    partitions: BTreeMap<&'a str, u32>,
    /// Per consumer (by index): (called by a state machine Task, invoked any other way).
    callers: Vec<(bool, bool)>,
}

impl<'a> Lookup<'a> {
    fn new(scenario: &'a Scenario, results: &'a Results) -> Self {
        let mut series = BTreeMap::new();
        for (i, n) in results
            .series
            .iter()
            .flat_map(|s| s.nodes.iter())
            .enumerate()
        {
            series.entry(n.as_str()).or_insert(i);
        }
        Lookup {
            nodes: results
                .nodes
                .0
                .iter()
                .map(|(id, n)| (id.as_str(), n))
                .collect(),
            series,
            partitions: scenario
                .streams
                .iter()
                .map(|s| (s.id.as_str(), s.partitions))
                .collect(),
            callers: callers(scenario),
        }
    }

    /// Whether consumer `index` is called by state machine Tasks and nothing else.
    fn task_only(&self, index: usize) -> bool {
        self.callers.get(index) == Some(&(true, false))
    }

    /// Whether consumer `index` is called by a state machine Task among other callers.
    fn task_and_more(&self, index: usize) -> bool {
        self.callers.get(index) == Some(&(true, true))
    }

    fn series_node(&self, id: &str) -> Option<usize> {
        self.series.get(id).copied()
    }
}

/// Per consumer (by index): whether a state machine Task calls it, and whether anything else
/// sends it work (a rule target, a subscription, `emits`, a pipe, a producer).
fn callers(scenario: &Scenario) -> Vec<(bool, bool)> {
    use crate::model::topology::{EdgeKind, End, Topology};
    let topology = Topology::new(scenario);
    let mut out = vec![(false, false); scenario.consumers.len()];
    for e in topology.edges() {
        let End::Component(to) = e.to else { continue };
        if to.kind != crate::model::Kind::Consumer || e.kind == EdgeKind::Read {
            continue;
        }
        if let Some(slot) = out.get_mut(to.index) {
            if e.kind == EdgeKind::Task {
                slot.0 = true;
            } else {
                slot.1 = true;
            }
        }
    }
    out
}

fn consumer_capacity(
    scenario: &Scenario,
    results: &Results,
    look: &Lookup<'_>,
    index: usize,
    c: &Consumer,
    n: &NodeResult,
) -> ConsumerCapacity {
    let partitions = c
        .from
        .as_deref()
        .and_then(|id| look.partitions.get(id).copied());
    let (source, from) = match &c.from {
        Some(id) if partitions.is_some() => (Source::Stream, Some(id)),
        Some(id) => (Source::Queue, Some(id)),
        None if look.task_only(index) => (Source::Task, None),
        None if c.kind_in_force() == crate::model::ConsumerKind::Function => (Source::Async, None),
        None => (Source::Direct, None),
    };
    let mut notes = approximation_reasons(scenario, c, source);
    let accuracy = if notes.is_empty() {
        Accuracy::Exact
    } else {
        Accuracy::Approximation
    };
    let lambda = n.arrival_rate;
    let mean_s = c.service_time.mean_ns() / 1e9;
    let mu = if mean_s > 0.0 {
        f64::from(c.batch_size_in_force(scenario.source_kind(c)).max(1)) / mean_s
    } else {
        f64::INFINITY
    };
    let concurrency = c.concurrency;
    let servers = match partitions {
        Some(p) => concurrency.min(p),
        None => concurrency,
    };
    let mut note_err = |what: &str, e: &dyn std::fmt::Display| notes.push(format!("{what}: {e}"));

    let predicted = match source {
        Source::Direct | Source::Task => None,
        Source::Queue | Source::Async => predict(lambda, mu, servers, &c.service_time)
            .map_err(|e| note_err("prediction", &e))
            .ok(),
        Source::Stream => {
            predict(lambda / f64::from(servers.max(1)), mu, 1, &c.service_time)
                .map_err(|e| note_err("prediction", &e))
                .ok()
                // The instances together: report the group's figures (L and Lq add up).
                .map(|mut p| {
                    let e = f64::from(servers.max(1));
                    p.servers = servers;
                    p.lq = p.lq.map(|x| x * e);
                    p.l = p.l.map(|x| x * e);
                    p
                })
        }
    };
    let throttle_probability = source
        .is_loss()
        .then(|| erlang_b(concurrency, lambda / mu).ok())
        .flatten();
    match source {
        Source::Direct => notes.push(
            "a service called synchronously: no waiting line; throttled calls are retried by the rule target (Erlang B)"
                .into(),
        ),
        Source::Async => notes.push(
            "invoked asynchronously: Lambda's own queue is the waiting line (M/M/c, Erlang C), not a loss system"
                .into(),
        ),
        Source::Task => notes.push(
            "called synchronously by state machine Tasks: no waiting line; a call that finds every slot busy fails the Task at once and only its Retry tries again (Erlang B; λ counts the retries)"
                .into(),
        ),
        Source::Queue
            if c.kind_in_force() == crate::model::ConsumerKind::Function
                && c.scaling_in_force() == crate::model::Scaling::Aws
                && !matches!(scenario.source_kind(c), crate::model::defaults::SourceKind::Queue { fifo: true }) =>
        {
            notes.push(
                "SQS pollers start at 5 concurrent batches and add up to 300 a minute: during a ramp fewer than c serve"
                    .into(),
            );
        }
        _ => {}
    }

    if look.task_and_more(index) {
        notes.push(
            "also called by state machine Tasks: those calls do not queue; one that finds every slot busy fails its Task at once"
                .into(),
        );
    }

    let growth = |rate: f64| backlog_growth_per_s(rate, mu, servers).ok();
    let backlog_growth = growth(lambda).unwrap_or(0.0);
    let peak_arrival_rate = peak_rate(results.series.as_ref(), look, &c.id);
    let peak_backlog_growth_per_s = peak_arrival_rate.and_then(growth);
    let backlog_end = from
        .and_then(|id| look.nodes.get(id.as_str()))
        .and_then(|q| q.lag);
    // A backlog drains against the rate after the burst, not the run's mean; on a stream the
    // hottest partition drains last, at one instance's μ less the hottest key's arrivals.
    let series = results.series.as_ref();
    let lambda_drain = drain_rate(series, look, &c.id, from.map(String::as_str)).unwrap_or(lambda);
    let hot_share = match source {
        Source::Stream => from.and_then(|id| hottest_key_share(scenario, id)),
        _ => None,
    };
    let drain = |b: u64| match hot_share {
        Some(share) if mu - lambda_drain * share <= 0.0 && b > 0 => None,
        _ => drain_time_s(b as f64, lambda_drain, mu, servers)
            .ok()
            .flatten(),
    };
    let drain_time_end_s = backlog_end.and_then(drain);
    // A direct consumer has no waiting line to back up.
    let backlog_peak = if source.is_loss() {
        0
    } else {
        n.queue_depth.max
    };
    let drain_time_peak_s = drain(backlog_peak);

    // Recommendations.
    let slo = c.slo.as_ref();
    let utilization_target = slo
        .and_then(|s| s.utilization)
        .unwrap_or(DEFAULT_TARGET_UTILIZATION);
    let concurrency_for_utilization = servers_for_utilization(lambda, mu, utilization_target)
        .map_err(|e| notes.push(format!("utilization target: {e}")))
        .ok();
    let wait_target = slo.and_then(|s| {
        s.wait.map(|w| WaitTarget::Percentile {
            quantile: s.quantile.unwrap_or(0.99),
            max_wait_s: w.0 as f64 / 1e9,
        })
    });
    let concurrency_for_wait = match (wait_target, source) {
        (
            Some(WaitTarget::Percentile {
                quantile,
                max_wait_s,
            }),
            Source::Stream,
        ) => instances_for_wait(lambda, mu, quantile, max_wait_s),
        (Some(target), Source::Queue) => servers_for_wait(lambda, mu, target)
            .map_err(|e| notes.push(format!("wait target: {e}")))
            .ok(),
        _ => None,
    };
    let partitions = partitions.map(|p| {
        let share = from.and_then(|id| hottest_key_share(scenario, id));
        if share.is_none() {
            notes.push(
                "the hottest key's share is unknown (no producer template feeds the stream); 0 assumed"
                    .into(),
            );
        }
        let share = share.unwrap_or(0.0);
        PartitionAdvice {
            partitions: p,
            hottest_key_share: share,
            plan: partitions_for_hot_key(lambda, mu, share)
                .map_err(|e| notes.push(format!("partitions: {e}")))
                .ok(),
        }
    });

    ConsumerCapacity {
        source,
        from: from.cloned(),
        lambda,
        mu,
        service_scv: c.service_time.scv(),
        concurrency,
        servers,
        accuracy,
        predicted,
        simulated: Simulated {
            rho: n.utilization,
            wq_s: n.wait_s.mean_s,
            w_s: n.mean_time_in_system_s,
            lq: n.queue_depth.mean,
            l: n.mean_number_in_system,
        },
        throttle_probability,
        backlog_growth_per_s: backlog_growth,
        peak_arrival_rate,
        peak_backlog_growth_per_s,
        backlog_end,
        drain_time_end_s,
        backlog_peak,
        drain_time_peak_s,
        recommendation: Recommendation {
            utilization_target,
            concurrency_for_utilization,
            wait_target,
            concurrency_for_wait,
            partitions,
        },
        notes,
    }
}

/// The capacity panel for every consumer of `scenario` that `results` reports, in file order.
#[must_use]
pub fn capacity(scenario: &Scenario, results: &Results) -> IdMap<ConsumerCapacity> {
    let look = Lookup::new(scenario, results);
    IdMap(
        scenario
            .consumers
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let n = *look.nodes.get(c.id.as_str())?;
                Some((
                    c.id.clone(),
                    consumer_capacity(scenario, results, &look, i, c, n),
                ))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zipf_normalizer_direct_and_tail() {
        assert_eq!(zipf_normalizer(1, 1.1), 1.0);
        assert!((zipf_normalizer(3, 0.0) - 3.0).abs() < 1e-12);
        // Tail integration agrees with the direct sum.
        let n = 300_000_u64;
        let direct: f64 = (1..=n).map(|k| (k as f64).powf(-1.1)).sum();
        assert!((zipf_normalizer(n, 1.1) - direct).abs() / direct < 1e-9);
        let direct: f64 = (1..=n).map(|k| 1.0 / k as f64).sum();
        assert!((zipf_normalizer(n, 1.0) - direct).abs() / direct < 1e-9);
    }

    fn scenario(v: serde_json::Value) -> Scenario {
        match crate::scenario::from_value(v) {
            Ok(l) => l.scenario,
            Err(p) => panic!("{p:?}"),
        }
    }

    #[test]
    fn hot_key_share_from_templates() {
        let s = scenario(json!({
            "name": "t", "duration": "10s",
            "producers": [
                { "id": "p", "to": "s", "rate": 300,
                  "event": { "detail": { "c": { "$key": { "count": 100, "skew": 1.2, "prefix": "C-" } } } } },
                { "id": "q", "to": "s", "rate": 100, "event": { "detail": { "c": "C-1" } } }
            ],
            "streams": [ { "id": "s", "partitions": 4, "key": "detail.c" },
                         { "id": "u", "partitions": 4 } ],
            "consumers": [ { "id": "k", "from": "s", "service_time": { "constant": "1ms" } },
                           { "id": "k2", "from": "u", "service_time": { "constant": "1ms" } } ]
        }));
        let h = zipf_normalizer(100, 1.2);
        let expected = (300.0 / h + 100.0) / 400.0;
        let got = hottest_key_share(&s, "s").unwrap();
        assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
        assert_eq!(hottest_key_share(&s, "u"), Some(0.0));
        assert_eq!(hottest_key_share(&s, "nope"), None);
    }

    #[test]
    fn stream_instances_for_wait() {
        // λ = 9, μ = 1 per instance: e instances of M/M/1 at 9/e each.
        let e = instances_for_wait(9.0, 1.0, 0.99, 1.0).unwrap();
        let tail = |e: u32| {
            let per = 9.0 / f64::from(e);
            per * (-(1.0 - per)).exp()
        };
        assert!(tail(e) <= 0.01);
        assert!(tail(e - 1) > 0.01 || e == 10);
    }

    #[test]
    fn a_consumer_only_a_task_calls_is_a_loss_system_at_its_measured_calls() {
        // `f` (a function) and `svc` (a service) are called only by the machine's Tasks; `g` is
        // also a rule target. Step Functions calls synchronously: no Lambda queue, Erlang B.
        let s = scenario(json!({
            "format": "eventflow/2", "name": "t", "duration": "2m", "seed": 3,
            "producers": [ { "id": "p", "to": "b", "rate": 20, "event": { "source": "x", "detail": {} } } ],
            "buses": [ { "id": "b", "rules": [ { "id": "r", "pattern": { "source": ["x"] },
                         "targets": [ { "to": "m" }, { "to": "g" } ] } ] } ],
            "consumers": [
                { "id": "f", "concurrency": 4, "service_time": { "constant": "100ms" }, "failure_rate": 0.5 },
                { "id": "svc", "kind": "service", "concurrency": 4, "service_time": { "constant": "100ms" } },
                { "id": "g", "concurrency": 4, "service_time": { "constant": "10ms" },
                  "async": { "on_failure": "b" } } ],
            "state_machines": [ { "id": "m", "definition": { "StartAt": "F", "States": {
                "F": { "Type": "Task", "Resource": "f", "Next": "S",
                       "Retry": [ { "ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1 } ],
                       "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "S" } ] },
                "S": { "Type": "Task", "Resource": "svc", "Next": "G",
                       "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "G" } ] },
                "G": { "Type": "Task", "Resource": "g", "End": true,
                       "Catch": [ { "ErrorEquals": ["States.ALL"], "Next": "Done" } ] },
                "Done": { "Type": "Succeed" } } } } ]
        }));
        let r = crate::sim::run(&s, &crate::sim::RunOptions::default()).unwrap();
        let cap = capacity(&s, &r);
        for id in ["f", "svc"] {
            let c = cap.get(id).unwrap();
            assert_eq!(c.source, Source::Task, "{id}");
            assert!(c.predicted.is_none(), "{id}: no waiting line to predict");
            assert!(
                c.notes.iter().any(|n| n.contains("state machine Tasks")),
                "{id}: {:?}",
                c.notes
            );
            assert!(
                !c.notes
                    .iter()
                    .any(|n| n.contains("rule target") || n.contains("asynchronously")),
                "{id}: {:?}",
                c.notes
            );
            // λ is the measured calls: for `f`, a retry is a call, so about 1.5 per execution.
            let n = r.nodes.get(id).unwrap();
            assert!((c.lambda - n.arrival_rate).abs() < 1e-12);
            let b = erlang_b(4, c.lambda / 10.0).unwrap();
            assert!((c.throttle_probability.unwrap() - b).abs() < 1e-12, "{id}");
        }
        let f = r.nodes.get("f").unwrap();
        let svc = r.nodes.get("svc").unwrap();
        assert!(
            f.arrived > svc.arrived + svc.arrived / 4,
            "retries are calls: {} vs {}",
            f.arrived,
            svc.arrived
        );
        // `g` is invoked asynchronously by the rule as well: Lambda's queue, with a note on
        // the Task's calls.
        let g = cap.get("g").unwrap();
        assert_eq!(g.source, Source::Async);
        assert!(
            g.notes
                .iter()
                .any(|n| n.contains("also called by state machine Tasks"))
        );
    }
}
