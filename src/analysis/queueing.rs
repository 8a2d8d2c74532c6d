//! Queueing formulas and capacity figures: what theory says a consumer, queue or stream should do.
//!
//! Notation follows `shared/reference/queueing.md`: λ arrival rate (per second), μ the service
//! rate of one server (1 / mean service time), c servers (a consumer's `concurrency`),
//! a = λ/μ the offered load in Erlangs, ρ = a/c the utilization.
//!
//! Everything here takes rates that come from a user's scenario, so every function validates its
//! inputs and returns a [`QueueingError`] naming the bad argument instead of producing NaN. An
//! overloaded system (ρ ≥ 1) is not an error: it is a valid answer, reported with
//! [`Prediction::stable`] `== false` and no steady-state figures (`None`), because there is no
//! steady state; [`backlog_growth_per_s`] says how fast it falls behind instead.
//!
//! Which results are exact:
//!
//! | model | function | accuracy |
//! |---|---|---|
//! | M/M/c (Erlang C) | [`mmc`] | exact |
//! | M/G/1 (Pollaczek–Khinchine) | [`mg1`] | exact (means) |
//! | M/D/1 | [`md1`] | exact (means) |
//! | G/G/1 (Kingman) | [`kingman`] | approximation |
//! | G/G/c (Allen–Cunneen) | [`allen_cunneen`] | approximation |

use serde::Serialize;
use thiserror::Error;

/// Default utilization target for [`servers_for_utilization`]: 2/3, i.e. the design notes' rule of
/// thumb "provision 1.5 × the offered load" (c = ceil(1.5 λ / μ), about 67 % busy).
///
/// It is exactly 2/3 rather than the rounded 0.67 so the result agrees with the ×1.5 rule for
/// every load (with 0.67, 1000 handlers' worth of load would give 1493 rather than 1500).
pub const DEFAULT_TARGET_UTILIZATION: f64 = 2.0 / 3.0;

/// Relative tolerance used when rounding a server count up: a ratio that is an integer in exact
/// arithmetic but comes out as 15.000000000000002 in floating point must give 15, not 16.
const ROUNDING_TOLERANCE: f64 = 1e-9;

/// How far past the stable minimum [`servers_for_wait`] searches before giving up. Erlang C
/// falls off faster than exponentially once c exceeds a by a few √a, so any reachable target is
/// met long before this; the bound only guards against a pathological loop.
const MAX_EXTRA_SERVERS: u32 = 1_000_000;

/// An argument a queueing formula cannot work with.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum QueueingError {
    /// An argument is outside its domain (negative rate, zero servers, probability above 1, …).
    #[error("{name} must be {requirement}, got {value}")]
    InvalidInput {
        /// The argument's name as the caller knows it (`lambda`, `mu`, `servers`, …).
        name: &'static str,
        /// The value that was passed.
        value: f64,
        /// What the argument must be, phrased to complete "must be …".
        requirement: &'static str,
    },
    /// No server count representable as `u32` (or within the search bound) meets the target.
    #[error("no server count up to {limit} meets the target")]
    NoSolution {
        /// The largest server count that was considered.
        limit: u64,
    },
}

/// The queueing model a [`Prediction`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Poisson arrivals, exponential service, c servers (Erlang C).
    Mmc,
    /// Poisson arrivals, general service, one server (Pollaczek–Khinchine).
    Mg1,
    /// Poisson arrivals, constant service, one server.
    Md1,
    /// General arrivals and service, one server (Kingman's heavy-traffic formula).
    Kingman,
    /// General arrivals and service, c servers (Allen–Cunneen).
    AllenCunneen,
}

/// Whether a prediction is a theorem for its model or an engineering approximation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Accuracy {
    /// Exact for the model's assumptions: a long simulation must agree within noise.
    Exact,
    /// An approximation: label it as such; a simulation may legitimately differ.
    Approximation,
}

impl Model {
    /// Whether this model's mean figures are exact or approximate.
    #[must_use]
    pub fn accuracy(self) -> Accuracy {
        match self {
            Model::Mmc | Model::Mg1 | Model::Md1 => Accuracy::Exact,
            Model::Kingman | Model::AllenCunneen => Accuracy::Approximation,
        }
    }
}

/// Steady-state figures predicted for one service station.
///
/// The steady-state fields are `None` exactly when `stable` is false: an overloaded station has
/// no steady state, its backlog grows without bound (see [`backlog_growth_per_s`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    /// The model the figures come from (see [`Prediction::accuracy`]).
    pub model: Model,
    /// Number of servers c.
    pub servers: u32,
    /// Utilization ρ = λ / (c μ); reported even when ≥ 1.
    pub rho: f64,
    /// Probability that an arrival has to wait (Erlang C for M/M/c, ρ for M/G/1); 1 when
    /// unstable; `None` where the model does not give it (the G/G approximations).
    pub p_wait: Option<f64>,
    /// Mean wait before service Wq, seconds.
    pub wq_s: Option<f64>,
    /// Mean time in system W = Wq + E\[S\], seconds.
    pub w_s: Option<f64>,
    /// Mean number waiting Lq = λ Wq.
    pub lq: Option<f64>,
    /// Mean number in system L = λ W.
    pub l: Option<f64>,
    /// ρ < 1: the station keeps up in the long run.
    pub stable: bool,
}

impl Prediction {
    /// Exact (M/M/c, M/G/1, M/D/1) or approximate (Kingman, Allen–Cunneen).
    #[must_use]
    pub fn accuracy(&self) -> Accuracy {
        self.model.accuracy()
    }

    /// Builds the figures from a mean wait; `None` wait means unstable.
    fn from_wait(
        model: Model,
        servers: u32,
        lambda: f64,
        mean_service_s: f64,
        rho: f64,
        p_wait: Option<f64>,
        wq_s: Option<f64>,
    ) -> Prediction {
        let w_s = wq_s.map(|wq| wq + mean_service_s);
        Prediction {
            model,
            servers,
            rho,
            p_wait,
            wq_s,
            w_s,
            lq: wq_s.map(|wq| lambda * wq),
            l: w_s.map(|w| lambda * w),
            stable: wq_s.is_some(),
        }
    }
}

/// A wait target for [`servers_for_wait`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum WaitTarget {
    /// Mean wait before service Wq ≤ `max_wait_s` (must be > 0: a zero mean wait needs
    /// infinitely many servers).
    Mean {
        /// The largest acceptable mean wait, seconds.
        max_wait_s: f64,
    },
    /// The `quantile` of the wait is at most `max_wait_s`, i.e.
    /// P(wait > t) = C(c, a) · e^{−(cμ − λ) t} ≤ 1 − quantile.
    Percentile {
        /// The quantile, strictly between 0 and 1 (0.99 for "p99").
        quantile: f64,
        /// The wait the quantile must not exceed, seconds (0 allowed: "99 % don't wait").
        max_wait_s: f64,
    },
}

/// The answer of [`partitions_for_hot_key`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum HotKeyPlan {
    /// This many partitions (with as many consumer instances) keep up.
    Partitions {
        /// The recommendation: the larger of the two bounds below.
        partitions: u32,
        /// Smallest count with λ / n < μ: enough total capacity.
        throughput_bound: u32,
        /// Smallest count for which the partition holding the hottest key keeps up.
        hot_key_bound: u32,
    },
    /// The hottest key alone arrives at least as fast as one instance can process it. A key's
    /// records all go to one partition (that is what preserves their order), and one partition
    /// is read by one instance, so no partition count helps: make the instance faster, spread
    /// the key (e.g. a salted key, giving up strict per-key order), or shed load.
    KeyExceedsInstance {
        /// Arrival rate of the hottest key, per second.
        key_rate_per_s: f64,
        /// Service rate of one consumer instance, per second.
        instance_rate_per_s: f64,
    },
}

// ----- input validation ------------------------------------------------------------------------

fn non_negative(name: &'static str, value: f64) -> Result<f64, QueueingError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(QueueingError::InvalidInput {
            name,
            value,
            requirement: "a finite number ≥ 0",
        })
    }
}

fn positive(name: &'static str, value: f64) -> Result<f64, QueueingError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(QueueingError::InvalidInput {
            name,
            value,
            requirement: "a finite number > 0",
        })
    }
}

fn probability(name: &'static str, value: f64) -> Result<f64, QueueingError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(QueueingError::InvalidInput {
            name,
            value,
            requirement: "a probability between 0 and 1",
        })
    }
}

fn at_least_one_server(servers: u32) -> Result<u32, QueueingError> {
    if servers == 0 {
        Err(QueueingError::InvalidInput {
            name: "servers",
            value: 0.0,
            requirement: "at least 1",
        })
    } else {
        Ok(servers)
    }
}

/// Converts a non-negative integral float to a server count, or says it is too large.
fn to_count(x: f64) -> Result<u32, QueueingError> {
    if x <= f64::from(u32::MAX) {
        // In range and integral (callers pass ceil/floor results), so the cast is exact.
        Ok(x as u32)
    } else {
        Err(QueueingError::NoSolution {
            limit: u64::from(u32::MAX),
        })
    }
}

/// ceil(x), forgiving floating-point noise just above an integer (see [`ROUNDING_TOLERANCE`]).
fn ceil_tolerant(x: f64) -> f64 {
    (x * (1.0 - ROUNDING_TOLERANCE)).ceil()
}

/// The smallest integer strictly greater than x, treating x within the tolerance below an
/// integer as that integer (so a load of 9.999999999999998 Erlangs needs 11 servers, like 10).
fn smallest_integer_above(x: f64) -> f64 {
    (x * (1.0 + ROUNDING_TOLERANCE)).floor() + 1.0
}

// ----- Erlang B and C --------------------------------------------------------------------------

/// Erlang B recursion without validation: B(0) = 1, B(k) = a B(k−1) / (k + a B(k−1)).
///
/// Each step stays in [0, 1], so it neither overflows nor loses precision for c in the
/// thousands, unlike the factorial form.
fn erlang_b_raw(servers: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=servers {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C from Erlang B: C = B / (1 − ρ (1 − B)); 1 when ρ ≥ 1 (everyone waits eventually).
fn erlang_c_from_b(servers: u32, a: f64, b: f64) -> f64 {
    if servers == 0 {
        return 1.0;
    }
    let rho = a / f64::from(servers);
    if rho >= 1.0 {
        1.0
    } else {
        b / (1.0 - rho * (1.0 - b))
    }
}

/// Erlang B: the blocking probability of an M/M/c/c loss system with offered load
/// `offered_load` = λ/μ Erlangs, computed with the stable recursion.
///
/// # Errors
/// [`QueueingError::InvalidInput`] if the load is negative or not finite.
pub fn erlang_b(servers: u32, offered_load: f64) -> Result<f64, QueueingError> {
    let a = non_negative("offered_load", offered_load)?;
    Ok(erlang_b_raw(servers, a))
}

/// Erlang C: the probability that an arrival to an M/M/c queue must wait, computed via Erlang B
/// so it is stable for c in the hundreds and beyond. Returns 1 when the load is at or above
/// capacity (a ≥ c) or there are no servers.
///
/// # Errors
/// [`QueueingError::InvalidInput`] if the load is negative or not finite.
pub fn erlang_c(servers: u32, offered_load: f64) -> Result<f64, QueueingError> {
    let a = non_negative("offered_load", offered_load)?;
    Ok(erlang_c_from_b(servers, a, erlang_b_raw(servers, a)))
}

// ----- predictions -----------------------------------------------------------------------------

/// M/M/c: exact steady-state figures for Poisson arrivals at rate `lambda`, exponential service
/// at rate `mu` per server, and `servers` servers.
///
/// Wq = C(c, a) / (c μ − λ), W = Wq + 1/μ, Lq = λ Wq, L = λ W. With λ = 0 everything is 0 except
/// W = 1/μ (the time a hypothetical arrival would spend).
///
/// # Errors
/// [`QueueingError::InvalidInput`] for λ < 0, μ ≤ 0, non-finite values or zero servers.
pub fn mmc(lambda: f64, mu: f64, servers: u32) -> Result<Prediction, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let servers = at_least_one_server(servers)?;
    let a = lambda / mu;
    let rho = a / f64::from(servers);
    let p_wait = erlang_c_from_b(servers, a, erlang_b_raw(servers, a));
    let wq_s = (rho < 1.0).then(|| p_wait / (f64::from(servers) * mu - lambda));
    Ok(Prediction::from_wait(
        Model::Mmc,
        servers,
        lambda,
        1.0 / mu,
        rho,
        Some(p_wait),
        wq_s,
    ))
}

/// M/G/1 by Pollaczek–Khinchine: Wq = λ E\[S²\] / (2 (1 − ρ)), ρ = λ E\[S\]. Exact for the means
/// whatever the service distribution; P(wait) = ρ.
///
/// `service_second_moment_s2` is E\[S²\] = Var\[S\] + E\[S\]² in seconds².
///
/// # Errors
/// [`QueueingError::InvalidInput`] for negative or non-finite values, a zero mean, or a second
/// moment below E\[S\]² (impossible for any distribution).
pub fn mg1(
    lambda: f64,
    mean_service_s: f64,
    service_second_moment_s2: f64,
) -> Result<Prediction, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mean = positive("mean_service_s", mean_service_s)?;
    let second = non_negative("service_second_moment_s2", service_second_moment_s2)?;
    // Jensen: E[S²] ≥ E[S]². Allow rounding noise (a constant service passes mean*mean).
    if second < mean * mean * (1.0 - ROUNDING_TOLERANCE) {
        return Err(QueueingError::InvalidInput {
            name: "service_second_moment_s2",
            value: second,
            requirement: "at least the squared mean service time",
        });
    }
    Ok(pollaczek_khinchine(Model::Mg1, lambda, mean, second))
}

/// M/D/1 (constant service time 1/μ): the Pollaczek–Khinchine case E\[S²\] = E\[S\]², giving
/// Wq = ρ / (2 μ (1 − ρ)), half the M/M/1 wait.
///
/// # Errors
/// [`QueueingError::InvalidInput`] for λ < 0, μ ≤ 0 or non-finite values.
pub fn md1(lambda: f64, mu: f64) -> Result<Prediction, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let mean = 1.0 / mu;
    Ok(pollaczek_khinchine(Model::Md1, lambda, mean, mean * mean))
}

fn pollaczek_khinchine(model: Model, lambda: f64, mean: f64, second: f64) -> Prediction {
    let rho = lambda * mean;
    let stable = rho < 1.0;
    let wq_s = stable.then(|| lambda * second / (2.0 * (1.0 - rho)));
    let p_wait = if stable { rho } else { 1.0 };
    Prediction::from_wait(model, 1, lambda, mean, rho, Some(p_wait), wq_s)
}

/// Kingman's G/G/1 approximation: Wq ≈ (ρ / (1 − ρ)) · ((ca² + cs²) / 2) · E\[S\], where ca² and
/// cs² are the squared coefficients of variation of inter-arrival and service times (1 for
/// exponential, 0 for constant). Labelled [`Accuracy::Approximation`]; good in heavy traffic.
///
/// # Errors
/// [`QueueingError::InvalidInput`] for negative or non-finite values or a zero mean service time.
pub fn kingman(
    lambda: f64,
    mean_service_s: f64,
    arrival_cv2: f64,
    service_cv2: f64,
) -> Result<Prediction, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mean = positive("mean_service_s", mean_service_s)?;
    let ca2 = non_negative("arrival_cv2", arrival_cv2)?;
    let cs2 = non_negative("service_cv2", service_cv2)?;
    let rho = lambda * mean;
    let wq_s = (rho < 1.0).then(|| rho / (1.0 - rho) * (ca2 + cs2) / 2.0 * mean);
    Ok(Prediction::from_wait(
        Model::Kingman,
        1,
        lambda,
        mean,
        rho,
        None,
        wq_s,
    ))
}

/// Allen–Cunneen G/G/c approximation: Wq ≈ Wq(M/M/c) · (ca² + cs²) / 2. With ca² = cs² = 1 it
/// is the exact M/M/c figure; otherwise labelled [`Accuracy::Approximation`].
///
/// # Errors
/// [`QueueingError::InvalidInput`] for λ < 0, μ ≤ 0, negative or non-finite coefficients, or
/// zero servers.
pub fn allen_cunneen(
    lambda: f64,
    mu: f64,
    servers: u32,
    arrival_cv2: f64,
    service_cv2: f64,
) -> Result<Prediction, QueueingError> {
    let ca2 = non_negative("arrival_cv2", arrival_cv2)?;
    let cs2 = non_negative("service_cv2", service_cv2)?;
    let base = mmc(lambda, mu, servers)?;
    let wq_s = base.wq_s.map(|wq| wq * (ca2 + cs2) / 2.0);
    Ok(Prediction::from_wait(
        Model::AllenCunneen,
        base.servers,
        lambda,
        1.0 / mu,
        base.rho,
        None,
        wq_s,
    ))
}

// ----- capacity --------------------------------------------------------------------------------

/// Servers needed to keep utilization at or below `target_utilization`: c = ceil(λ / (μ u)),
/// at least 1. Pass [`DEFAULT_TARGET_UTILIZATION`] for the design notes' ×1.5 rule
/// (1000 events/s at 100 events/s per handler → 15 handlers).
///
/// The ceiling forgives floating-point noise of one part in 10⁹ above an integer, so ratios
/// that are integers on paper (10 / (2/3) = 15) do not round up to the next server.
///
/// # Errors
/// [`QueueingError::InvalidInput`] for λ < 0, μ ≤ 0, a target outside (0, 1) or non-finite
/// values; [`QueueingError::NoSolution`] if the count exceeds `u32::MAX`.
pub fn servers_for_utilization(
    lambda: f64,
    mu: f64,
    target_utilization: f64,
) -> Result<u32, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    if !(target_utilization > 0.0 && target_utilization < 1.0) {
        return Err(QueueingError::InvalidInput {
            name: "target_utilization",
            value: target_utilization,
            requirement: "strictly between 0 and 1",
        });
    }
    let servers = ceil_tolerant(lambda / (mu * target_utilization)).max(1.0);
    to_count(servers)
}

/// The smallest server count meeting a wait target under M/M/c, searching upward from the
/// smallest stable count (the first c > λ/μ).
///
/// Erlang B is advanced one server at a time (B(c+1) from B(c)), so the search costs O(c) in
/// total even for hundreds of servers.
///
/// # Errors
/// [`QueueingError::InvalidInput`] for bad rates or a bad target (mean wait ≤ 0, quantile
/// outside (0, 1), negative wait); [`QueueingError::NoSolution`] if no count within the search
/// bound or `u32` meets it.
pub fn servers_for_wait(lambda: f64, mu: f64, target: WaitTarget) -> Result<u32, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let meets: Box<dyn Fn(f64, f64) -> bool> = match target {
        WaitTarget::Mean { max_wait_s } => {
            let t = positive("max_wait_s", max_wait_s)?;
            Box::new(move |c_wait, net_rate| c_wait / net_rate <= t)
        }
        WaitTarget::Percentile {
            quantile,
            max_wait_s,
        } => {
            if !(quantile > 0.0 && quantile < 1.0) {
                return Err(QueueingError::InvalidInput {
                    name: "quantile",
                    value: quantile,
                    requirement: "strictly between 0 and 1",
                });
            }
            let t = non_negative("max_wait_s", max_wait_s)?;
            Box::new(move |c_wait, net_rate| c_wait * (-net_rate * t).exp() <= 1.0 - quantile)
        }
    };
    let a = lambda / mu;
    let first = to_count(smallest_integer_above(a))?;
    let limit = first.saturating_add(MAX_EXTRA_SERVERS);
    let mut b = erlang_b_raw(first, a);
    let mut c = first;
    loop {
        let net_rate = f64::from(c) * mu - lambda;
        if net_rate > 0.0 && meets(erlang_c_from_b(c, a, b), net_rate) {
            return Ok(c);
        }
        if c >= limit {
            return Err(QueueingError::NoSolution {
                limit: u64::from(limit),
            });
        }
        c += 1;
        b = a * b / (f64::from(c) + a * b);
    }
}

/// Partitions a keyed stream needs so that every partition keeps up, given the total rate
/// `lambda`, one consumer instance's rate `mu_per_instance` (one instance per partition), and
/// the share of all records carried by the hottest key.
///
/// Two bounds, and the answer is the larger:
/// - throughput: n > λ/μ, so the partitions together keep up;
/// - hot key: the hottest key's records all land in one partition (a key cannot be split without
///   losing its order), together with an even share of the other keys, so that partition gets
///   sλ + (1 − s)λ/n and needs n > (1 − s)λ / (μ − sλ). The even spread of the other keys is
///   an assumption (hashing only approximates it); treat the figure as a minimum.
///
/// If the hottest key alone needs at least one instance's full rate (sλ ≥ μ), no partition count
/// helps and the answer is [`HotKeyPlan::KeyExceedsInstance`]. Remember too that effective
/// parallelism is min(instances, partitions).
///
/// # Errors
/// [`QueueingError::InvalidInput`] for λ < 0, μ ≤ 0, a share outside [0, 1] or non-finite
/// values; [`QueueingError::NoSolution`] if the count exceeds `u32::MAX`.
pub fn partitions_for_hot_key(
    lambda: f64,
    mu_per_instance: f64,
    hottest_key_share: f64,
) -> Result<HotKeyPlan, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu_per_instance", mu_per_instance)?;
    let share = probability("hottest_key_share", hottest_key_share)?;
    let key_rate = share * lambda;
    if key_rate >= mu {
        return Ok(HotKeyPlan::KeyExceedsInstance {
            key_rate_per_s: key_rate,
            instance_rate_per_s: mu,
        });
    }
    let throughput_bound = to_count(smallest_integer_above(lambda / mu))?;
    let hot_key_bound = to_count(smallest_integer_above(
        (1.0 - share) * lambda / (mu - key_rate),
    ))?;
    Ok(HotKeyPlan::Partitions {
        partitions: throughput_bound.max(hot_key_bound),
        throughput_bound,
        hot_key_bound,
    })
}

/// How fast the backlog grows when overloaded: λ − c μ per second, or 0 when the servers keep up.
///
/// # Errors
/// [`QueueingError::InvalidInput`] for λ < 0, μ ≤ 0 or non-finite values.
pub fn backlog_growth_per_s(lambda: f64, mu: f64, servers: u32) -> Result<f64, QueueingError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    Ok((lambda - f64::from(servers) * mu).max(0.0))
}

/// Seconds to drain a backlog of `backlog` messages once capacity exceeds the arrival rate:
/// B / (c μ − λ). `None` when c μ ≤ λ and a non-empty backlog never drains.
///
/// # Errors
/// [`QueueingError::InvalidInput`] for a negative backlog, λ < 0, μ ≤ 0 or non-finite values.
pub fn drain_time_s(
    backlog: f64,
    lambda: f64,
    mu: f64,
    servers: u32,
) -> Result<Option<f64>, QueueingError> {
    let backlog = non_negative("backlog", backlog)?;
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    if backlog == 0.0 {
        return Ok(Some(0.0));
    }
    let net = f64::from(servers) * mu - lambda;
    Ok((net > 0.0).then(|| backlog / net))
}

/// Attempts per event when each attempt fails with probability `failure_probability` and up to
/// `max_retries` retries follow the first attempt: 1 + p + … + p^r = (1 − p^{r+1}) / (1 − p),
/// and r + 1 when p = 1. This is the load multiplier the capacity panel shows.
///
/// # Errors
/// [`QueueingError::InvalidInput`] if the probability is outside [0, 1].
pub fn retry_amplification(
    failure_probability: f64,
    max_retries: u32,
) -> Result<f64, QueueingError> {
    let p = probability("failure_probability", failure_probability)?;
    let attempts = f64::from(max_retries) + 1.0;
    if p == 1.0 {
        return Ok(attempts);
    }
    if p == 0.0 {
        return Ok(1.0);
    }
    // 1 − p^{n} via expm1 keeps precision when p is close to 1 (naive subtraction cancels).
    Ok(-(attempts * p.ln()).exp_m1() / (1.0 - p))
}

/// Fraction of events that exhaust their retries and go to the dead-letter queue: p^{r+1}.
///
/// # Errors
/// [`QueueingError::InvalidInput`] if the probability is outside [0, 1].
pub fn dead_letter_fraction(
    failure_probability: f64,
    max_retries: u32,
) -> Result<f64, QueueingError> {
    let p = probability("failure_probability", failure_probability)?;
    Ok(p.powf(f64::from(max_retries) + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol,
            "expected {expected} ± {tol}, got {actual}"
        );
    }

    #[test]
    fn mm1_worked_example() {
        let p = mmc(0.9, 1.0, 1).unwrap();
        assert!(p.stable);
        assert_eq!(p.accuracy(), Accuracy::Exact);
        close(p.rho, 0.9, 1e-12);
        close(p.p_wait.unwrap(), 0.9, 1e-12);
        close(p.l.unwrap(), 9.0, 1e-9);
        close(p.w_s.unwrap(), 10.0, 1e-9);
        close(p.wq_s.unwrap(), 9.0, 1e-9);
        close(p.lq.unwrap(), 8.1, 1e-9);
    }

    #[test]
    fn mmc_worked_example() {
        let p = mmc(9.0, 1.0, 10).unwrap();
        close(p.p_wait.unwrap(), 0.6687, 1e-4);
        close(p.wq_s.unwrap(), 0.6687, 1e-4);
        close(p.w_s.unwrap(), 1.6687, 1e-4);
        close(p.l.unwrap(), 15.02, 5e-3);
        // Little's law inside the prediction.
        close(p.l.unwrap(), 9.0 * p.w_s.unwrap(), 1e-12);
    }

    #[test]
    fn erlang_c_matches_the_factorial_formula() {
        // P0 form from queueing.md, evaluated directly for a small case.
        let (c, a) = (4_u32, 3.0_f64);
        let mut sum = 0.0;
        let mut term = 1.0; // a^k / k!
        for k in 0..c {
            if k > 0 {
                term *= a / f64::from(k);
            }
            sum += term;
        }
        let top = term * a / f64::from(c) / (1.0 - a / f64::from(c)); // a^c / (c! (1 − ρ))
        let expected = top / (sum + top);
        close(erlang_c(c, a).unwrap(), expected, 1e-12);
    }

    #[test]
    fn large_server_counts_do_not_overflow() {
        // c = 500 at ρ = 0.96: compare against the P0 formula evaluated in log space.
        let (c, a) = (500_u32, 480.0_f64);
        let ln_terms: Vec<f64> = (0..c)
            .scan(0.0_f64, |ln_fact, k| {
                if k > 0 {
                    *ln_fact += f64::from(k).ln();
                }
                Some(f64::from(k) * a.ln() - *ln_fact)
            })
            .collect();
        let ln_c_fact: f64 = (1..=c).map(|k| f64::from(k).ln()).sum();
        let ln_top = f64::from(c) * a.ln() - ln_c_fact - (1.0 - a / f64::from(c)).ln();
        let max = ln_terms.iter().copied().fold(ln_top, f64::max);
        let sum: f64 = ln_terms.iter().map(|t| (t - max).exp()).sum();
        let expected = (ln_top - max).exp() / (sum + (ln_top - max).exp());
        let got = erlang_c(c, a).unwrap();
        assert!(got.is_finite() && got > 0.0 && got < 1.0);
        close(got, expected, 1e-9);
        let p = mmc(480.0, 1.0, 500).unwrap();
        assert!(p.wq_s.unwrap().is_finite());
        // Very large counts too.
        assert!(erlang_c(100_000, 99_000.0).unwrap().is_finite());
    }

    #[test]
    fn unstable_is_reported_not_infinite() {
        for (lambda, servers) in [(10.0, 10), (11.0, 10), (1.0, 1)] {
            let p = mmc(lambda, 1.0, servers).unwrap();
            assert!(!p.stable);
            assert_eq!(p.p_wait, Some(1.0));
            assert_eq!((p.wq_s, p.w_s, p.lq, p.l), (None, None, None, None));
            assert!(p.rho >= 1.0);
        }
        assert!(!md1(1.0, 1.0).unwrap().stable);
        assert!(!kingman(2.0, 1.0, 1.0, 1.0).unwrap().stable);
        assert!(!allen_cunneen(5.0, 1.0, 5, 1.0, 0.5).unwrap().stable);
    }

    #[test]
    fn zero_arrivals() {
        let p = mmc(0.0, 2.0, 3).unwrap();
        assert!(p.stable);
        assert_eq!(p.p_wait, Some(0.0));
        assert_eq!(p.wq_s, Some(0.0));
        assert_eq!(p.w_s, Some(0.5));
        assert_eq!(p.l, Some(0.0));
    }

    #[test]
    fn md1_worked_example() {
        let p = md1(0.9, 1.0).unwrap();
        close(p.wq_s.unwrap(), 4.5, 1e-9);
        close(p.w_s.unwrap(), 5.5, 1e-9);
        assert_eq!(p.model, Model::Md1);
        assert_eq!(p.accuracy(), Accuracy::Exact);
        // M/G/1 with exponential service (E[S²] = 2 E[S]²) is M/M/1.
        let g = mg1(0.9, 1.0, 2.0).unwrap();
        close(g.wq_s.unwrap(), 9.0, 1e-9);
    }

    #[test]
    fn approximations_reduce_to_exact_cases_and_are_labelled() {
        let k = kingman(0.9, 1.0, 1.0, 1.0).unwrap();
        assert_eq!(k.accuracy(), Accuracy::Approximation);
        close(k.wq_s.unwrap(), 9.0, 1e-9);
        let ac = allen_cunneen(9.0, 1.0, 10, 1.0, 1.0).unwrap();
        assert_eq!(ac.accuracy(), Accuracy::Approximation);
        close(
            ac.wq_s.unwrap(),
            mmc(9.0, 1.0, 10).unwrap().wq_s.unwrap(),
            1e-12,
        );
        // Poisson arrivals, constant service, one server: Allen–Cunneen gives the M/D/1 value.
        close(
            allen_cunneen(0.9, 1.0, 1, 1.0, 0.0).unwrap().wq_s.unwrap(),
            4.5,
            1e-9,
        );
        // Kingman and Allen–Cunneen agree at c = 1.
        close(
            kingman(0.5, 1.0, 0.3, 2.0).unwrap().wq_s.unwrap(),
            allen_cunneen(0.5, 1.0, 1, 0.3, 2.0).unwrap().wq_s.unwrap(),
            1e-12,
        );
    }

    #[test]
    fn bad_inputs_are_errors_not_nan() {
        assert!(mmc(-1.0, 1.0, 1).is_err());
        assert!(mmc(1.0, 0.0, 1).is_err());
        assert!(mmc(f64::NAN, 1.0, 1).is_err());
        assert!(mmc(1.0, f64::INFINITY, 1).is_err());
        assert!(mmc(1.0, 2.0, 0).is_err());
        assert!(mg1(0.5, 1.0, 0.5).is_err(), "E[S²] < E[S]² is impossible");
        assert!(erlang_b(3, -1.0).is_err());
        assert!(servers_for_utilization(1.0, 1.0, 1.0).is_err());
        assert!(servers_for_utilization(1.0, 1.0, 0.0).is_err());
        assert!(retry_amplification(1.5, 2).is_err());
        assert!(partitions_for_hot_key(10.0, 1.0, -0.1).is_err());
        let err = mmc(1.0, -2.0, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mu must be a finite number > 0, got -2",
            "the message names the argument"
        );
    }

    #[test]
    fn capacity_rule_of_thumb() {
        assert_eq!(servers_for_utilization(1000.0, 100.0, 0.67).unwrap(), 15);
        assert_eq!(
            servers_for_utilization(1000.0, 100.0, DEFAULT_TARGET_UTILIZATION).unwrap(),
            15
        );
        // The default is the ×1.5 rule for every load, including ones where 0.67 would differ.
        for load in [1.0, 2.0, 7.0, 10.0, 100.0, 1000.0] {
            let expected = (1.5_f64 * load).ceil() as u32;
            assert_eq!(
                servers_for_utilization(load * 3.0, 3.0, DEFAULT_TARGET_UTILIZATION).unwrap(),
                expected,
                "load {load}"
            );
        }
        assert_eq!(servers_for_utilization(0.0, 1.0, 0.5).unwrap(), 1);
        assert_eq!(servers_for_utilization(10.0, 1.0, 0.5).unwrap(), 20);
        assert_eq!(servers_for_utilization(10.1, 1.0, 0.5).unwrap(), 21);
    }

    #[test]
    fn servers_for_wait_is_the_smallest_meeting_the_target() {
        let (lambda, mu) = (9.0, 1.0);
        let c = servers_for_wait(lambda, mu, WaitTarget::Mean { max_wait_s: 0.1 }).unwrap();
        assert!(mmc(lambda, mu, c).unwrap().wq_s.unwrap() <= 0.1);
        assert!(mmc(lambda, mu, c - 1).unwrap().wq_s.is_none_or(|w| w > 0.1));
        // A loose target is met by the first stable count.
        let c = servers_for_wait(lambda, mu, WaitTarget::Mean { max_wait_s: 100.0 }).unwrap();
        assert_eq!(c, 10);

        let target = WaitTarget::Percentile {
            quantile: 0.99,
            max_wait_s: 0.5,
        };
        let c = servers_for_wait(lambda, mu, target).unwrap();
        let tail = |c: u32| {
            erlang_c(c, lambda / mu).unwrap() * (-(f64::from(c) * mu - lambda) * 0.5).exp()
        };
        assert!(tail(c) <= 0.01);
        assert!(c == 10 || tail(c - 1) > 0.01);
        // "99 % don't wait at all" needs more servers than "p99 wait ≤ 0.5 s".
        let no_wait = WaitTarget::Percentile {
            quantile: 0.99,
            max_wait_s: 0.0,
        };
        assert!(servers_for_wait(lambda, mu, no_wait).unwrap() > c);
        // Hundreds of servers are found quickly.
        let big = servers_for_wait(450.0, 1.0, WaitTarget::Mean { max_wait_s: 0.01 }).unwrap();
        assert!(big > 450 && big < 520);
        assert!(servers_for_wait(1.0, 1.0, WaitTarget::Mean { max_wait_s: 0.0 }).is_err());
    }

    #[test]
    fn hot_key_partitions() {
        // 1000/s, 100/s per instance, hottest key 5 %: its partition gets 50 + 950/n < 100.
        assert_eq!(
            partitions_for_hot_key(1000.0, 100.0, 0.05).unwrap(),
            HotKeyPlan::Partitions {
                partitions: 20,
                throughput_bound: 11,
                hot_key_bound: 20,
            }
        );
        // No skew: the throughput bound alone (n > 10).
        assert_eq!(
            partitions_for_hot_key(1000.0, 100.0, 0.0).unwrap(),
            HotKeyPlan::Partitions {
                partitions: 11,
                throughput_bound: 11,
                hot_key_bound: 11,
            }
        );
        // A key hotter than one instance: no partition count helps.
        assert_eq!(
            partitions_for_hot_key(1000.0, 100.0, 0.2).unwrap(),
            HotKeyPlan::KeyExceedsInstance {
                key_rate_per_s: 200.0,
                instance_rate_per_s: 100.0,
            }
        );
    }

    #[test]
    fn backlog_and_drain() {
        assert_eq!(backlog_growth_per_s(120.0, 10.0, 10).unwrap(), 20.0);
        assert_eq!(backlog_growth_per_s(90.0, 10.0, 10).unwrap(), 0.0);
        assert_eq!(drain_time_s(1000.0, 90.0, 10.0, 10).unwrap(), Some(100.0));
        assert_eq!(drain_time_s(1000.0, 100.0, 10.0, 10).unwrap(), None);
        assert_eq!(drain_time_s(0.0, 100.0, 10.0, 10).unwrap(), Some(0.0));
    }

    #[test]
    fn retries() {
        close(retry_amplification(0.5, 2).unwrap(), 1.75, 1e-12);
        close(dead_letter_fraction(0.5, 2).unwrap(), 0.125, 1e-12);
        assert_eq!(retry_amplification(1.0, 3).unwrap(), 4.0);
        assert_eq!(dead_letter_fraction(1.0, 3).unwrap(), 1.0);
        assert_eq!(retry_amplification(0.0, 3).unwrap(), 1.0);
        assert_eq!(dead_letter_fraction(0.0, 3).unwrap(), 0.0);
        // Near p = 1 the closed form stays accurate (compare with the direct sum).
        let p: f64 = 1.0 - 1e-12;
        let direct: f64 = (0..=5).map(|k| p.powi(k)).sum();
        close(retry_amplification(p, 5).unwrap(), direct, 1e-9);
    }
}
