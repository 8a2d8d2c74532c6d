//! SNS topics at run time.
//!
//! A topic runs as a bus whose "rules" are its subscriptions: [`super::bus`]'s routing offers
//! each published message to every subscription's filter policy ([`crate::pattern::FilterPolicy`],
//! SNS semantics) and sends one copy to each that passes, through the same delivery attempts,
//! retry schedule, dead-letter queue, statistics and conservation accounting as a rule target.
//! A message no subscription takes is counted `unmatched` (SNS accepts and discards it).
//!
//! Delivery retries follow SNS's delivery policies
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>):
//! - to queues, functions and buses (AWS-managed endpoints): 100,015 attempts over 23 days. The
//!   schedule is approximated as a backoff doubling from 1 s to 20 s, then 20 s apart, up to
//!   [`defaults::SNS_MANAGED_ATTEMPTS`] attempts within 23 days: practically never lost.
//! - to a service (an HTTP/S endpoint): the subscription's `retry.retries` (default 3), 20 s
//!   apart ([`defaults::SNS_HTTP_RETRIES`], [`defaults::SNS_HTTP_RETRY_DELAY`]).
//!
//! A copy for a function is an asynchronous invocation ([`super::consumer`]'s `invoke`): the
//! function's own queue accepts it at once (SNS sees a success) and Lambda's retries and
//! destinations take over; a copy for a service is a synchronous call whose failures and
//! throttles SNS retries.

use super::bus::{BusRt, Routing, TargetRt};
use super::engine::Dest;
use super::faults::FaultState;
use super::ids::{BusId, NodeId, QueueId};
use super::rng::Stream;
use crate::model::{Topic, defaults};
use crate::pattern::FilterPolicy;

/// Nanoseconds in a second.
const SEC: u64 = 1_000_000_000;
/// How long SNS keeps retrying an AWS-managed endpoint: 23 days (same page).
const MANAGED_MAX_AGE: u64 = 23 * 86_400 * SEC;

/// The delivery policy of one subscription, as a rule target's retry fields: (retries,
/// first backoff, largest backoff, longest age).
fn delivery(service: bool, retries: u32) -> (u32, u64, u64, u64) {
    if service {
        // An HTTP/S endpoint: the subscription's retries, 20 s apart.
        let d = defaults::SNS_HTTP_RETRY_DELAY.as_nanos();
        (retries, d, d, u64::from(retries + 1) * d)
    } else {
        (
            defaults::SNS_MANAGED_ATTEMPTS - 1,
            SEC,
            20 * SEC,
            MANAGED_MAX_AGE,
        )
    }
}

/// Compiles topic `t` into a bus-shaped router at bus index `bus` and its subscriptions into
/// targets; `subs[i]` is subscription `i`'s resolved subscriber, dead-letter queue and
/// whether the subscriber is a service (HTTP/S).
pub(crate) fn compile(
    t: &Topic,
    node: NodeId,
    bus: BusId,
    subs: &[(Dest, Option<QueueId>, bool)],
    seed: u64,
) -> Result<(BusRt, Vec<TargetRt>), String> {
    let mut policies = Vec::with_capacity(t.subscriptions.len());
    let mut targets = Vec::with_capacity(t.subscriptions.len());
    for (i, sub) in t.subscriptions.iter().enumerate() {
        let policy = sub
            .filter
            .as_ref()
            .map(|f| {
                FilterPolicy::parse(f, sub.filter_scope_in_force()).map_err(|e| {
                    format!(
                        "topic {} subscription {i}: {}",
                        t.id,
                        e.first().map_or(String::new(), ToString::to_string)
                    )
                })
            })
            .transpose()?;
        policies.push(policy);
        let (dest, dlq, service) = subs[i];
        let (attempts, backoff, max_backoff, max_age) = delivery(service, sub.retries_in_force());
        targets.push(TargetRt {
            rule_name: format!("{}→{}", t.id, sub.to),
            bus,
            dest,
            attempts,
            max_age,
            backoff,
            max_backoff,
            jitter: false,
            dlq,
            transform: None,
            throttle: None,
            dead_lettered: 0,
        });
    }
    let n = policies.len();
    let rt = BusRt {
        node,
        routing: Routing::Policies(policies),
        rule_targets: Vec::new(),
        rule_matched: vec![0; n],
        latency: None,
        archive: None,
        throttle: None,
        rng: Stream::new(seed, &t.id, "latency"),
        faults: FaultState::NONE,
        memo: None,
    };
    Ok((rt, targets))
}
