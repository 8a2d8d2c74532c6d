//! Sampling primitives compiled from the scenario: service-time and latency distributions, and
//! token buckets (throttles on producers, buses and rule targets).

use super::clock::{Nanos, SEC};
use super::rng::{Stream, lognormal_params};
use crate::model::{Distribution, Throttle};

/// A distribution in nanoseconds, ready to sample.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dist {
    Const(f64),
    Exp(f64),
    Unif(f64, f64),
    LogN(f64, f64),
}

impl Dist {
    pub(crate) fn new(d: &Distribution) -> Self {
        match d {
            Distribution::Constant(x) => Dist::Const(x.0 as f64),
            Distribution::Exponential { mean } => Dist::Exp(mean.0 as f64),
            Distribution::Uniform([a, b]) => Dist::Unif(a.0 as f64, b.0 as f64),
            Distribution::Lognormal { mean, stddev } => {
                let (mu, sigma) = lognormal_params(mean.0 as f64, stddev.0 as f64);
                Dist::LogN(mu, sigma)
            }
        }
    }

    /// One draw, nanoseconds.
    #[inline]
    pub(crate) fn sample(self, rng: &mut Stream) -> f64 {
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
pub(crate) struct Bucket {
    rate_per_ns: f64,
    burst: f64,
    tokens: f64,
    last: Nanos,
}

impl Bucket {
    pub(crate) fn new(t: &Throttle) -> Self {
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

    /// Takes a token if there is one.
    pub(crate) fn take(&mut self, now: Nanos) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next token will be there.
    pub(crate) fn next_token_at(&self, now: Nanos) -> Nanos {
        let missing = (1.0 - self.tokens).max(0.0);
        now + (missing / self.rate_per_ns).ceil() as Nanos
    }
}
