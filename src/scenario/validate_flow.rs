//! Validation of the `topics`, `pipes` and `state_machines` sections: references through the
//! topology's sites, SNS filter policies, pipe filters and ranges, and each state machine's
//! Amazon States Language definition (every problem with its JSON path inside `definition`).

use super::Validator;
use crate::model::asl::Definition;
use crate::model::defaults;
use crate::model::topology::Site;
use crate::model::{Kind, QueueType, StateMachineType, TopicType};
use crate::names::did_you_mean;
use crate::pattern::FilterPolicy;

/// Largest batch of an SQS source read by a pipe or an event source mapping (standard queues).
const BATCH_MAX: u32 = 10_000;
/// Largest batch from a FIFO queue (10).
const FIFO_BATCH_MAX: u32 = 10;

impl Validator<'_> {
    /// `topics`: subscribers, filter policies, dead-letter queues of the topic's type.
    pub(super) fn topics(&mut self) {
        let s = self.s;
        for (ti, t) in s.topics.iter().enumerate() {
            if t.group_by.is_some() && t.kind != TopicType::Fifo {
                self.err(
                    format!("topics[{ti}].group_by"),
                    "group_by (the message group) applies to FIFO topics only".into(),
                );
            }
            for (si, sub) in t.subscriptions.iter().enumerate() {
                let path = format!("topics[{ti}].subscriptions[{si}]");
                let to = self.reference(Site::SubscriptionTo { topic: ti, sub: si });
                if t.kind == TopicType::Fifo
                    && let Some(c) = to
                    && c.kind != Kind::Queue
                {
                    self.err(
                        format!("{path}.to"),
                        format!(
                            "a FIFO topic delivers only to queues, not to a {} (SNS FIFO topics accept SQS subscriptions only)",
                            c.kind
                        ),
                    );
                }
                if let Some(f) = &sub.filter
                    && let Err(errors) = FilterPolicy::parse(f, sub.filter_scope_in_force())
                {
                    for e in errors {
                        let full = if e.path.is_empty() {
                            format!("{path}.filter")
                        } else {
                            format!("{path}.filter.{}", e.path)
                        };
                        self.err(full, e.message);
                    }
                }
                if sub.filter_scope.is_some() && sub.filter.is_none() {
                    self.err(
                        format!("{path}.filter_scope"),
                        "filter_scope without a filter has no effect".into(),
                    );
                }
                if let Some(r) = &sub.retry {
                    if to.is_some_and(|c| c.kind != Kind::Consumer) {
                        self.err(
                            format!("{path}.retry"),
                            "retry applies to service (HTTP/S) subscriptions: SNS retries queues and functions with its own delivery policy".into(),
                        );
                    }
                    if let Some(n) = r.retries {
                        self.count(format!("{path}.retry.retries"), "retries", n, &(0..=100));
                    }
                }
                if sub.dead_letter.is_some()
                    && let Some(q) =
                        self.reference(Site::SubscriptionDeadLetter { topic: ti, sub: si })
                    && let Some(queue) = s.queues.get(q.index)
                {
                    let fifo = queue.kind == QueueType::Fifo;
                    if fifo != (t.kind == TopicType::Fifo) {
                        self.err(
                            format!("{path}.dead_letter"),
                            format!(
                                "a subscription's dead-letter queue has the topic's type: this topic is {}, \"{}\" is {}",
                                if t.kind == TopicType::Fifo { "FIFO" } else { "standard" },
                                queue.id,
                                if fifo { "FIFO" } else { "standard" }
                            ),
                        );
                    }
                }
            }
        }
    }

    /// `pipes`: source, enrichment, target and dead-letter references, filters, batch ranges.
    pub(super) fn pipes(&mut self) {
        let s = self.s;
        for (pi, p) in s.pipes.iter().enumerate() {
            let path = format!("pipes[{pi}]");
            let source = self.reference(Site::PipeSource { pipe: pi });
            let enrichment = p
                .enrichment
                .as_ref()
                .and_then(|_| self.reference(Site::PipeEnrichment { pipe: pi }));
            let target = self.reference(Site::PipeTarget { pipe: pi });
            // A pipe calls its enrichment and a consumer target itself: one that reads a queue
            // or stream (a mapping) cannot be called.
            for (field, c) in [("enrichment", enrichment), ("target", target)] {
                if let Some(c) = c
                    && c.kind == Kind::Consumer
                    && let Some(consumer) = s.consumers.get(c.index)
                    && let Some(from) = &consumer.from
                {
                    self.err(
                        format!("{path}.{field}"),
                        format!(
                            "\"{}\" reads \"{from}\" (an event source mapping); a pipe calls a function or service that is invoked, without `from`",
                            consumer.id
                        ),
                    );
                }
            }
            if p.dead_letter.is_some()
                && let Some(q) = self.reference(Site::PipeDeadLetter { pipe: pi })
                && s.queues
                    .get(q.index)
                    .is_some_and(|q| q.kind == QueueType::Fifo)
            {
                self.err(
                    format!("{path}.dead_letter"),
                    "a pipe's dead-letter queue must be a standard queue".into(),
                );
            }
            if let (Some(src), Some(tg)) = (source, target)
                && src == tg
            {
                self.err(
                    format!("{path}.target"),
                    "a pipe's target is its own source: every event would loop".into(),
                );
            }
            for (fi, f) in p.filter.iter().enumerate() {
                self.pattern(&format!("{path}.filter[{fi}]"), f);
            }
            if let Some(n) = p.batch_size {
                let fifo = source.is_some_and(|c| {
                    c.kind == Kind::Queue
                        && s.queues
                            .get(c.index)
                            .is_some_and(|q| q.kind == QueueType::Fifo)
                });
                let max = if fifo { FIFO_BATCH_MAX } else { BATCH_MAX };
                self.count(format!("{path}.batch_size"), "batch_size", n, &(1..=max));
            }
            if let Some(w) = p.batch_window
                && w.as_secs_f64() > 300.0
            {
                self.err(
                    format!("{path}.batch_window"),
                    format!("batch_window must be at most 300s, found {w}"),
                );
            }
            if let Some(n) = p.concurrency {
                self.count(
                    format!("{path}.concurrency"),
                    "concurrency",
                    n,
                    &(1..=1_000),
                );
            }
            if let Some(n) = p.max_retry_attempts {
                self.count(
                    format!("{path}.max_retry_attempts"),
                    "max_retry_attempts",
                    n,
                    &(-1..=10_000),
                );
            }
            // A queue source retries by its visibility timeout and dead-letters by its own
            // redrive policy; these are a stream source's settings (as for a mapping).
            // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-error-troubleshooting.html
            if source.is_some_and(|c| c.kind == Kind::Queue) {
                let stream_only: [(&str, bool); 5] = [
                    ("bisect_on_error", p.bisect_on_error),
                    ("max_retry_attempts", p.max_retry_attempts.is_some()),
                    ("max_record_age", p.max_record_age.is_some()),
                    ("parallelization_factor", p.parallelization_factor.is_some()),
                    ("dead_letter", p.dead_letter.is_some()),
                ];
                for (field, _) in stream_only.iter().filter(|x| x.1) {
                    self.err(
                        format!("{path}.{field}"),
                        format!(
                            "{field} applies to a pipe reading a stream; a queue source retries after its visibility timeout and dead-letters by the queue's own dead_letter"
                        ),
                    );
                }
            }
            if let Some(a) = p.max_record_age {
                self.duration_in(
                    format!("{path}.max_record_age"),
                    "max_record_age",
                    a,
                    &defaults::STREAM_MAX_RECORD_AGE_RANGE,
                );
            }
            if let Some(n) = p.parallelization_factor {
                self.count(
                    format!("{path}.parallelization_factor"),
                    "parallelization_factor",
                    n,
                    &defaults::PARALLELIZATION_FACTOR_RANGE,
                );
            }
            for (field, set) in [
                ("event_source", p.event_source.is_some()),
                ("detail_type", p.detail_type.is_some()),
            ] {
                if set && target.is_some_and(|c| c.kind != Kind::Bus) {
                    self.err(
                        format!("{path}.{field}"),
                        format!("{field} applies to a bus target (the events the pipe puts on it)"),
                    );
                }
            }
            if p.invocation.is_some() && target.is_some_and(|c| c.kind != Kind::Consumer) {
                self.err(
                    format!("{path}.invocation"),
                    "invocation applies to a function target".into(),
                );
            }
        }
    }

    /// `state_machines`: the ASL definition, Task resources, express limits.
    pub(super) fn state_machines(&mut self) {
        let s = self.s;
        for (mi, m) in s.state_machines.iter().enumerate() {
            let path = format!("state_machines[{mi}]");
            if let Some(p) = m.duplicate_rate {
                self.probability(format!("{path}.duplicate_rate"), p);
                if m.kind != StateMachineType::Express {
                    self.err(
                        format!("{path}.duplicate_rate"),
                        "duplicate_rate applies to express machines: a standard machine starts each execution exactly once".into(),
                    );
                }
            }
            let def = match Definition::parse(&m.definition) {
                Ok(d) => d,
                Err(errors) => {
                    for e in errors {
                        let full = if e.path.is_empty() {
                            format!("{path}.definition")
                        } else {
                            format!("{path}.definition.{}", e.path)
                        };
                        self.err(full, e.message);
                    }
                    continue;
                }
            };
            if m.kind == StateMachineType::Express
                && def
                    .timeout_s
                    .is_some_and(|t| t > defaults::SFN_EXPRESS_MAX.as_secs_f64())
            {
                self.err(
                    format!("{path}.definition.TimeoutSeconds"),
                    "an express execution lasts at most 300 seconds".into(),
                );
            }
            for (state_path, resource) in def.tasks() {
                if self.topology.kind_of(&resource) != Some(Kind::Consumer) {
                    let hint = did_you_mean(&resource, s.consumers.iter().map(|c| c.id.as_str()));
                    let what = match self.topology.kind_of(&resource) {
                        Some(k) => format!(
                            "\"{resource}\" is a {}, but a Task calls a consumer (function or service)",
                            k.noun()
                        ),
                        None => format!("no consumer (function or service) has id \"{resource}\""),
                    };
                    self.err_hint(
                        format!("{path}.definition.{state_path}.Resource"),
                        what,
                        hint,
                    );
                }
            }
        }
    }
}
