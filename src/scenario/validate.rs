//! Validation: what the types alone cannot check, one function per section of the file.
//!
//! Unique ids, references (through [`Topology`]'s reference sites, so every field that names a
//! component is checked the same way, with a "did you mean" hint), ranges (AWS's, from
//! [`crate::model::defaults`]), patterns, transforms and event templates. When nothing is an
//! error, the lints of [`super::lint`] follow as warnings. Problems come in file order.

use serde_json::Value;

use super::lint::lint_with;
use super::problem::{Problem, Severity};
use crate::model::defaults;
use crate::model::topology::{Component, Site, Topology};
use crate::model::{Distribution, Duration, FaultKind, Kind, QueueType, Scenario, TimelineAction};
use crate::names::did_you_mean;

#[path = "validate_flow.rs"]
mod flow;

/// Checks what the types alone cannot: unique ids, references, ranges, patterns, templates;
/// then, when there are no errors, the lints of [`super::lint`] as warnings.
#[must_use]
pub fn validate(s: &Scenario) -> Vec<Problem> {
    let mut v = Validator {
        s,
        topology: Topology::new(s),
        problems: Vec::new(),
    };
    v.settings();
    v.ids();
    v.producers();
    v.buses();
    v.queues();
    v.streams();
    v.consumers();
    v.topics();
    v.pipes();
    v.state_machines();
    v.faults();
    v.timeline();
    v.layout();
    if v.problems.iter().all(|p| p.severity != Severity::Error) {
        v.problems.extend(lint_with(s, &v.topology));
    }
    v.problems
}

struct Validator<'a> {
    s: &'a Scenario,
    topology: Topology,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn err(&mut self, path: String, message: String) {
        self.problems.push(Problem::error(path, message));
    }

    fn err_hint(&mut self, path: String, message: String, hint: Option<String>) {
        self.problems.push(Problem::error(path, message).hint(hint));
    }

    /// Checks that the reference at `site` names a component of a kind the field allows, and
    /// returns it.
    fn reference(&mut self, site: Site) -> Option<Component> {
        let r = self.topology.reference_at(site)?;
        let (id, allowed, what) = (r.id.clone(), site.allowed(), site.expects());
        match r.resolved {
            Some(c) if allowed.contains(&c.kind) => Some(c),
            Some(c) => {
                self.err(
                    site.path(),
                    format!("\"{id}\" is a {}, but this must be {what}", c.kind.noun()),
                );
                None
            }
            None => {
                let hint = did_you_mean(
                    &id,
                    self.topology
                        .nodes()
                        .iter()
                        .filter(|n| allowed.contains(&n.component.kind))
                        .map(|n| n.id.as_str()),
                );
                // "no queue has id …", not "no a queue has id …".
                let what = what
                    .strip_prefix("a ")
                    .or_else(|| what.strip_prefix("an "))
                    .unwrap_or(what);
                self.err_hint(site.path(), format!("no {what} has id \"{id}\""), hint);
                None
            }
        }
    }

    fn positive_rate(&mut self, path: String, rate: f64, allow_zero: bool) {
        if !rate.is_finite() || rate < 0.0 || (!allow_zero && rate == 0.0) {
            self.err(
                path,
                format!("rate must be a positive number of events per second, found {rate}"),
            );
        } else if rate > defaults::MAX_RATE {
            self.err_hint(
                path,
                format!(
                    "rate {rate} events per second is above eventflow's bound of {}",
                    defaults::MAX_RATE
                ),
                Some("a simulated run of more than 100,000 events per second only fills memory; scale the scenario down (rates, concurrency) and scale the results up".into()),
            );
        }
    }

    /// A count outside its range (AWS's where one exists, [`defaults`]) is an error.
    fn count<N>(&mut self, path: String, what: &str, n: N, range: &std::ops::RangeInclusive<N>)
    where
        N: PartialOrd + std::fmt::Display + Copy,
    {
        if !range.contains(&n) {
            self.err(
                path,
                format!(
                    "{what} must be from {} to {}, found {n}",
                    range.start(),
                    range.end()
                ),
            );
        }
    }

    fn probability(&mut self, path: String, p: f64) {
        if !(0.0..=1.0).contains(&p) || !p.is_finite() {
            self.err(
                path,
                format!("must be a probability between 0 and 1, found {p}"),
            );
        }
    }

    fn distribution(&mut self, path: &str, d: &Distribution) {
        match d {
            Distribution::Constant(_) => {}
            Distribution::Exponential { mean } => {
                if mean.0 == 0 {
                    self.err(
                        format!("{path}.exponential.mean"),
                        "mean must be above zero".into(),
                    );
                }
            }
            Distribution::Uniform([lo, hi]) => {
                if lo > hi {
                    self.err(
                        format!("{path}.uniform"),
                        format!("lower bound {lo} is above upper bound {hi}"),
                    );
                }
            }
            Distribution::Lognormal { mean, .. } => {
                if mean.0 == 0 {
                    self.err(
                        format!("{path}.lognormal.mean"),
                        "mean must be above zero".into(),
                    );
                }
            }
        }
    }

    fn template(&mut self, path: &str, template: &Value, in_emits: bool) {
        if let Err(errors) = crate::sim::template::Template::compile(template, in_emits) {
            for (p, m) in errors {
                let full = if p.is_empty() {
                    path.to_owned()
                } else {
                    format!("{path}.{p}")
                };
                self.err(full, m);
            }
        }
    }

    fn pattern(&mut self, path: &str, pattern: &Value) {
        if let Err(errors) = crate::pattern::Pattern::parse(pattern) {
            for e in errors {
                let full = if e.path.is_empty() {
                    path.to_owned()
                } else {
                    format!("{path}.{}", e.path)
                };
                self.err(full, e.message);
            }
        }
    }

    fn throttle(&mut self, path: &str, t: &crate::model::Throttle) {
        if !(t.rate.is_finite() && t.rate > 0.0) {
            self.err(
                format!("{path}.rate"),
                format!("must be above zero, found {}", t.rate),
            );
        }
        if let Some(b) = t.burst
            && !(b.is_finite() && b >= 1.0)
        {
            self.err(
                format!("{path}.burst"),
                format!("must be at least 1, found {b}"),
            );
        }
    }

    /// The run as a whole: duration, warm-up, settings.
    fn settings(&mut self) {
        let s = self.s;
        if s.duration.0 == 0 {
            self.err(
                "duration".into(),
                "the run must last longer than zero".into(),
            );
        }
        if s.warmup >= s.duration && s.duration.0 > 0 {
            self.err(
                "warmup".into(),
                format!(
                    "warm-up {} is not shorter than the run ({})",
                    s.warmup, s.duration
                ),
            );
        }
        if let Some(st) = &s.settings {
            if let Some(n) = st.series_buckets {
                self.count(
                    "settings.series_buckets".into(),
                    "series_buckets",
                    n,
                    &defaults::SERIES_BUCKETS_RANGE,
                );
            }
            if let Some(n) = st.max_events {
                self.count(
                    "settings.max_events".into(),
                    "max_events",
                    n,
                    &defaults::MAX_EVENTS_RANGE,
                );
            }
            if let Some(n) = st.max_messages {
                self.count(
                    "settings.max_messages".into(),
                    "max_messages",
                    n,
                    &defaults::MAX_MESSAGES_RANGE,
                );
            }
        }
    }

    /// Canvas positions: finite numbers (a coordinate beyond f32's range, such as 1e300, reads
    /// as infinity, and the scenario could then not be saved). Found by the loader fuzz target.
    fn layout(&mut self) {
        let bad: Vec<String> = self
            .s
            .layout
            .iter()
            .filter(|(_, p)| !p.iter().all(|x| x.is_finite()))
            .map(|(id, _)| id.clone())
            .collect();
        for id in bad {
            self.err(
                format!("layout.{id}"),
                format!(
                    "a canvas position is two numbers within ±{:e}, [x, y]",
                    f32::MAX
                ),
            );
        }
    }

    /// Ids: non-empty and unique across the whole file (components and rules).
    fn ids(&mut self) {
        let mut seen: std::collections::BTreeMap<String, String> =
            std::collections::BTreeMap::new();
        let ids: Vec<(String, String)> = self
            .topology
            .ids()
            .iter()
            .map(|(site, id)| (site.path(), id.clone()))
            .collect();
        for (path, id) in ids {
            if id.trim().is_empty() {
                self.err(path, "id must not be empty".into());
            } else if let Some(first) = seen.get(&id) {
                self.err(
                    path,
                    format!(
                        "id \"{id}\" is already used at {first}; ids are unique across the file"
                    ),
                );
            } else {
                seen.insert(id, path);
            }
        }
    }

    /// An input transformer within `EventBridge`'s sizes: at most 100 `paths`, a template of at
    /// most 8,192 characters.
    fn transform_size(&mut self, tbase: &str, tr: &Value) {
        if let Some(paths) = tr.get("paths").and_then(Value::as_object)
            && paths.len() > defaults::INPUT_PATHS_MAX
        {
            self.err(
                format!("{tbase}.transform.paths"),
                format!(
                    "EventBridge allows at most {} input paths, found {}",
                    defaults::INPUT_PATHS_MAX,
                    paths.len()
                ),
            );
        }
        if let Some(t) = tr.get("template").and_then(Value::as_str)
            && t.chars().count() > defaults::INPUT_TEMPLATE_MAX_LEN
        {
            self.err(
                format!("{tbase}.transform.template"),
                format!(
                    "EventBridge allows an input template of at most {} characters, found {}",
                    defaults::INPUT_TEMPLATE_MAX_LEN,
                    t.chars().count()
                ),
            );
        }
    }

    /// Producers: destination, rates and schedule, limit, throttle, event template.
    fn producers(&mut self) {
        let s = self.s;
        for (i, p) in s.producers.iter().enumerate() {
            let base = format!("producers[{i}]");
            self.reference(Site::ProducerTo { producer: i });
            self.positive_rate(format!("{base}.rate"), p.rate, !p.schedule.is_empty());
            let mut last = None;
            for (j, ch) in p.schedule.iter().enumerate() {
                self.positive_rate(format!("{base}.schedule[{j}].rate"), ch.rate, true);
                if last.is_some_and(|l| ch.at < l) {
                    self.err(
                        format!("{base}.schedule[{j}].at"),
                        "schedule entries must be in time order".into(),
                    );
                }
                last = Some(ch.at);
            }
            if p.limit == Some(0) {
                self.err(
                    format!("{base}.limit"),
                    "a limit of 0 produces nothing; remove it or raise it".into(),
                );
            }
            if let Some(t) = &p.throttle {
                self.throttle(&format!("{base}.throttle"), t);
            }
            if p.event.is_object() {
                self.template(&format!("{base}.event"), &p.event, false);
            } else {
                self.err(
                    format!("{base}.event"),
                    "the event template must be a JSON object".into(),
                );
            }
        }
    }

    /// Buses and their rules: latency, throttle, patterns, targets (references, retry policy,
    /// transform, throttle).
    fn buses(&mut self) {
        let s = self.s;
        for (i, b) in s.buses.iter().enumerate() {
            let base = format!("buses[{i}]");
            if let Some(d) = &b.latency {
                self.distribution(&format!("{base}.latency"), d);
            }
            if let Some(t) = &b.throttle {
                self.throttle(&format!("{base}.throttle"), t);
            }
            for (j, r) in b.rules.iter().enumerate() {
                let rbase = format!("{base}.rules[{j}]");
                self.pattern(&format!("{rbase}.pattern"), &r.pattern);
                if r.targets.is_empty() {
                    self.err(
                        format!("{rbase}.targets"),
                        "a rule needs at least one target".into(),
                    );
                }
                if r.targets.len() > defaults::EVENTBRIDGE_TARGETS_PER_RULE {
                    // The format contract makes this a meaning error: EventBridge refuses the
                    // sixth target (PutTargets fails), so no real system routes that way.
                    self.err(
                        format!("{rbase}.targets"),
                        format!(
                            "{} targets, but EventBridge allows at most {} per rule (add a \
                             second rule with the same pattern for the rest)",
                            r.targets.len(),
                            defaults::EVENTBRIDGE_TARGETS_PER_RULE
                        ),
                    );
                }
                for (k, t) in r.targets.iter().enumerate() {
                    let tbase = format!("{rbase}.targets[{k}]");
                    let site = Site::TargetTo {
                        bus: i,
                        rule: j,
                        target: k,
                    };
                    if let Some(Component {
                        kind: Kind::Consumer,
                        index,
                    }) = self.reference(site)
                        && let Some(c) = s.consumers.get(index)
                        && let Some(from) = &c.from
                    {
                        self.err(
                            format!("{tbase}.to"),
                            format!(
                                "consumer \"{}\" reads \"{from}\"; a rule can only invoke a consumer without `from`",
                                c.id
                            ),
                        );
                    }
                    if t.to == b.id {
                        self.err(
                            format!("{tbase}.to"),
                            "a rule cannot target its own bus".into(),
                        );
                    }
                    if t.dead_letter.is_some()
                        && let Some(Component {
                            kind: Kind::Queue,
                            index,
                        }) = self.reference(Site::TargetDeadLetter {
                            bus: i,
                            rule: j,
                            target: k,
                        })
                        && s.queues
                            .get(index)
                            .is_some_and(|q| q.kind == QueueType::Fifo)
                    {
                        // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
                        self.err(
                            format!("{tbase}.dead_letter"),
                            "an EventBridge dead-letter queue must be a standard queue, not FIFO"
                                .into(),
                        );
                    }
                    if let Some(r) = &t.retry {
                        let attempts = defaults::EVENTBRIDGE_RETRY_ATTEMPTS_RANGE;
                        if !attempts.contains(&r.attempts) {
                            self.err(
                                format!("{tbase}.retry.attempts"),
                                format!(
                                    "EventBridge allows {} to {} retry attempts, found {}",
                                    attempts.start(),
                                    attempts.end(),
                                    r.attempts
                                ),
                            );
                        }
                        let ages = defaults::EVENTBRIDGE_MAX_AGE_RANGE;
                        if !ages.contains(&r.max_age) {
                            self.err(
                                format!("{tbase}.retry.max_age"),
                                format!(
                                    "EventBridge allows a maximum event age from {}, found {}",
                                    defaults::seconds_to_hours(&ages),
                                    r.max_age
                                ),
                            );
                        }
                    }
                    if let Some(tr) = &t.transform {
                        self.transform_size(&tbase, tr);
                    }
                    if let Some(tr) = &t.transform
                        && let Err(errors) = crate::pattern::Transform::parse(tr)
                    {
                        for e in errors {
                            let full = if e.path.is_empty() {
                                format!("{tbase}.transform")
                            } else {
                                format!("{tbase}.transform.{}", e.path)
                            };
                            self.err(full, e.message);
                        }
                    }
                    if let Some(th) = &t.throttle {
                        self.throttle(&format!("{tbase}.throttle"), th);
                    }
                }
            }
        }
    }

    /// Queues: capacity, duplicates, redrive policy and its dead-letter queue, FIFO-only
    /// settings, visibility timeout.
    fn queues(&mut self) {
        let s = self.s;
        for (i, q) in s.queues.iter().enumerate() {
            let base = format!("queues[{i}]");
            if q.capacity == Some(0) {
                self.err(
                    format!("{base}.capacity"),
                    "capacity must be at least 1 (omit it for unbounded)".into(),
                );
            } else if let Some(c) = q.capacity {
                self.count(
                    format!("{base}.capacity"),
                    "capacity",
                    c,
                    &defaults::QUEUE_CAPACITY_RANGE,
                );
            }
            self.probability(format!("{base}.duplicate_rate"), q.duplicate_rate);
            if q.duplicate_rate >= 1.0 {
                self.err(
                    format!("{base}.duplicate_rate"),
                    "a duplicate rate of 1 would duplicate forever; use less than 1".into(),
                );
            }
            if let Some(dlq) = &q.dead_letter {
                if dlq == &q.id {
                    self.err(
                        format!("{base}.dead_letter"),
                        "a queue cannot be its own dead-letter queue".into(),
                    );
                } else if let Some(target) = self.reference(Site::QueueDeadLetter { queue: i }) {
                    let target = s.queues.get(target.index);
                    if target.is_some_and(|t| t.kind != q.kind) {
                        // SQS: the dead-letter queue of a FIFO queue must be FIFO, and of a standard queue standard.
                        self.err(format!("{base}.dead_letter"), format!("\"{dlq}\" must be the same type ({:?}) as this queue, as SQS requires", q.kind).to_lowercase());
                    }
                }
                if q.max_receives.is_none() {
                    self.err_hint(
                        format!("{base}.max_receives"),
                        "a redrive policy needs `max_receives` with `dead_letter`".into(),
                        Some("SQS moves a message after this many receives, e.g. 5".into()),
                    );
                }
            } else if q.max_receives.is_some() {
                self.err_hint(
                    format!("{base}.dead_letter"),
                    "`max_receives` needs a `dead_letter` queue".into(),
                    None,
                );
            }
            let receives = defaults::SQS_MAX_RECEIVES;
            if q.max_receives.is_some_and(|m| !receives.contains(&m)) {
                self.err(
                    format!("{base}.max_receives"),
                    format!(
                        "SQS allows max_receives from {} to {}",
                        receives.start(),
                        receives.end()
                    ),
                );
            }
            if q.kind == QueueType::Standard {
                if q.group_by.is_some() {
                    self.err_hint(
                        format!("{base}.group_by"),
                        "message groups need a FIFO queue".into(),
                        Some("add \"type\": \"fifo\"".into()),
                    );
                }
                if q.dedup_window.is_some() {
                    self.err_hint(
                        format!("{base}.dedup_window"),
                        "deduplication needs a FIFO queue".into(),
                        Some("add \"type\": \"fifo\"".into()),
                    );
                }
            } else if q.duplicate_rate > 0.0 {
                self.err(
                    format!("{base}.duplicate_rate"),
                    "FIFO queues deliver exactly once; duplicates apply to standard queues".into(),
                );
            }
            if let Some(v) = q.visibility_timeout
                && v > defaults::SQS_VISIBILITY_TIMEOUT_MAX
            {
                self.err(
                    format!("{base}.visibility_timeout"),
                    format!(
                        "SQS allows a visibility timeout of at most {}",
                        defaults::hours(defaults::SQS_VISIBILITY_TIMEOUT_MAX)
                    ),
                );
            }
        }
    }

    /// Streams: partitions.
    fn streams(&mut self) {
        let s = self.s;
        for (i, st) in s.streams.iter().enumerate() {
            if st.partitions == 0 {
                self.err(
                    format!("streams[{i}].partitions"),
                    "a stream needs at least one partition".into(),
                );
            } else {
                self.count(
                    format!("streams[{i}].partitions"),
                    "partitions",
                    st.partitions,
                    &defaults::PARTITIONS_RANGE,
                );
            }
            match (st.kind_in_force(), st.retention) {
                (crate::model::StreamType::Kinesis, Some(r)) => self.duration_in(
                    format!("streams[{i}].retention"),
                    "a Kinesis stream's retention",
                    r,
                    &defaults::KINESIS_RETENTION_RANGE,
                ),
                (crate::model::StreamType::Dynamodb, Some(_)) => self.warn(
                    format!("streams[{i}].retention"),
                    "DynamoDB Streams keep records 24 hours; this retention is ignored".into(),
                ),
                _ => {}
            }
            if let Some(w) = st.write_limit {
                self.positive_rate(format!("streams[{i}].write_limit"), w, false);
            }
        }
    }

    /// Consumers: source, concurrency and batch, service time, failures, circuit breaker,
    /// SLO, emits.
    fn consumers(&mut self) {
        let s = self.s;
        for (i, c) in s.consumers.iter().enumerate() {
            let base = format!("consumers[{i}]");
            if c.from.is_some() {
                self.reference(Site::ConsumerFrom { consumer: i });
            }
            if c.concurrency == 0 {
                self.err(
                    format!("{base}.concurrency"),
                    "concurrency must be at least 1".into(),
                );
            } else {
                self.count(
                    format!("{base}.concurrency"),
                    "concurrency",
                    c.concurrency,
                    &defaults::CONCURRENCY_RANGE,
                );
            }
            match c.batch_size {
                Some(0) => self.err(
                    format!("{base}.batch_size"),
                    "batch size must be at least 1".into(),
                ),
                Some(b) => self.count(
                    format!("{base}.batch_size"),
                    "batch_size",
                    b,
                    &defaults::BATCH_SIZE_RANGE,
                ),
                None => {}
            }
            self.distribution(&format!("{base}.service_time"), &c.service_time);
            self.probability(format!("{base}.failure_rate"), c.failure_rate);
            if let Some(p) = &c.fail_when {
                self.pattern(&format!("{base}.fail_when"), p);
            }
            if let Some(cb) = &c.circuit_breaker {
                if cb.failures == 0 {
                    self.err(
                        format!("{base}.circuit_breaker.failures"),
                        "must be at least 1".into(),
                    );
                } else {
                    self.count(
                        format!("{base}.circuit_breaker.failures"),
                        "failures",
                        cb.failures,
                        &defaults::CIRCUIT_BREAKER_FAILURES_RANGE,
                    );
                }
            }
            if let Some(slo) = &c.slo {
                if let Some(q) = slo.quantile
                    && !(q > 0.0 && q < 1.0)
                {
                    self.err(
                        format!("{base}.slo.quantile"),
                        format!("must be between 0 and 1 (e.g. 0.99), found {q}"),
                    );
                }
                if let Some(u) = slo.utilization
                    && !(u > 0.0 && u < 1.0)
                {
                    self.err(
                        format!("{base}.slo.utilization"),
                        format!("must be between 0 and 1 (e.g. 0.67), found {u}"),
                    );
                }
            }
            self.consumer_v2(i, c);
            for (j, e) in c.emits.iter().enumerate() {
                let ebase = format!("{base}.emits[{j}]");
                if let Some(Component {
                    kind: Kind::Consumer,
                    index,
                }) = self.reference(Site::EmitTo {
                    consumer: i,
                    emit: j,
                }) && let Some(to) = s.consumers.get(index)
                    && let Some(from) = &to.from
                {
                    self.err(
                        format!("{ebase}.to"),
                        format!(
                            "consumer \"{}\" reads \"{from}\"; `emits` can only invoke a consumer without `from`",
                            to.id
                        ),
                    );
                }
                if let Some(p) = e.probability {
                    self.probability(format!("{ebase}.probability"), p);
                }
                if e.event.is_object() {
                    self.template(&format!("{ebase}.event"), &e.event, true);
                } else {
                    self.err(
                        format!("{ebase}.event"),
                        "the event template must be a JSON object".into(),
                    );
                }
            }
        }
    }

    fn warn(&mut self, path: String, message: String) {
        self.problems.push(Problem::warning(path, message));
    }

    /// A duration inside an AWS range, or an error saying the range.
    fn duration_in(
        &mut self,
        path: String,
        what: &str,
        d: Duration,
        range: &std::ops::RangeInclusive<Duration>,
    ) {
        if !range.contains(&d) {
            self.err(
                path,
                format!(
                    "{what} must be from {} to {}, found {d}",
                    range.start(),
                    range.end()
                ),
            );
        }
    }

    /// A destination (`async.on_failure`, `on_success`, a stream mapping's `on_failure`): it
    /// must exist and be one of `kinds`; a queue must be standard where AWS says so.
    fn destination(&mut self, path: String, id: &str, kinds: &[Kind], standard_queue: bool) {
        let s = self.s;
        match s.kind_of(id) {
            None => {
                let hint = did_you_mean(
                    id,
                    s.components()
                        .into_iter()
                        .filter(|(_, k)| kinds.contains(k))
                        .map(|(i, _)| i),
                );
                self.err_hint(path, format!("no component has id \"{id}\""), hint);
            }
            Some(k) if !kinds.contains(&k) => {
                let names: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
                self.err(
                    path,
                    format!(
                        "\"{id}\" is a {}, but this must be a {}",
                        k.noun(),
                        names.join(" or ")
                    ),
                );
            }
            Some(Kind::Queue) if standard_queue => {
                if s.queues
                    .iter()
                    .any(|q| q.id == id && q.kind == QueueType::Fifo)
                {
                    self.err(
                        path,
                        format!(
                            "\"{id}\" is a FIFO queue; AWS sends here only to a standard queue"
                        ),
                    );
                }
            }
            Some(_) => {}
        }
    }

    /// The version-2 settings of consumer `i`: each in AWS's range, and each only where AWS
    /// has it (an SQS setting on a stream reader is an error; one that AWS accepts but that
    /// does nothing is a warning).
    #[allow(clippy::too_many_lines)] // one check per setting, in the format reference's order
    fn consumer_v2(&mut self, i: usize, c: &crate::model::Consumer) {
        use crate::model::defaults::SourceKind;
        use crate::model::{ConsumerKind, StreamType};
        let s = self.s;
        let base = format!("consumers[{i}]");
        let source = s.source_kind(c);
        let function = c.kind_in_force() == ConsumerKind::Function;
        let invoked = c.from.is_none();
        let is_sqs = matches!(source, SourceKind::Queue { .. });
        let is_stream = matches!(source, SourceKind::Stream(_));
        let fifo = source == SourceKind::Queue { fifo: true };
        let place = |what: &str| match source {
            SourceKind::Invoked => format!(
                "`{what}` is a setting of an event source mapping; this consumer has no `from`"
            ),
            SourceKind::Queue { .. } => format!(
                "`{what}` is a stream setting; \"{}\" is a queue",
                c.from.as_deref().unwrap_or_default()
            ),
            SourceKind::Stream(_) => format!(
                "`{what}` is an SQS setting; \"{}\" is a stream",
                c.from.as_deref().unwrap_or_default()
            ),
        };
        // Batch sizes by source.
        if let Some(b) = c.batch_size {
            if fifo && b > defaults::SQS_FIFO_BATCH_SIZE_MAX {
                self.err(
                    format!("{base}.batch_size"),
                    format!(
                        "a FIFO queue's batch size is at most {}, found {b}",
                        defaults::SQS_FIFO_BATCH_SIZE_MAX
                    ),
                );
            }
            if is_sqs
                && !fifo
                && b > defaults::SQS_BATCH_SIZE
                && c.batch_window.is_none_or(|w| w < Duration::from_secs(1))
            {
                self.err_hint(
                    format!("{base}.batch_size"),
                    format!("an SQS batch size above 10 needs a batch_window of at least 1s, found batch size {b}"),
                    Some("add \"batch_window\": \"1s\"".into()),
                );
            }
        }
        if let Some(w) = c.batch_window {
            if invoked {
                self.err(format!("{base}.batch_window"), place("batch_window"));
            } else if fifo {
                self.err(
                    format!("{base}.batch_window"),
                    "a FIFO queue's event source mapping has no batching window".into(),
                );
            } else if w > defaults::BATCH_WINDOW_MAX {
                self.err(
                    format!("{base}.batch_window"),
                    format!(
                        "batch_window must be from 0s to {}, found {w}",
                        defaults::BATCH_WINDOW_MAX
                    ),
                );
            }
        }
        if c.report_batch_item_failures && invoked {
            self.warn(
                format!("{base}.report_batch_item_failures"),
                "only an event source mapping reports batch item failures; this consumer has no `from`, so it does nothing".into(),
            );
        }
        if let Some(m) = c.max_concurrency {
            if is_sqs {
                self.count(
                    format!("{base}.max_concurrency"),
                    "max_concurrency",
                    m,
                    &defaults::SQS_MAX_CONCURRENCY_RANGE,
                );
            } else {
                self.err(
                    format!("{base}.max_concurrency"),
                    place("max_concurrency").replace("a stream setting", "an SQS setting"),
                );
            }
        }
        if c.scaling.is_some() && !is_sqs {
            self.err(
                format!("{base}.scaling"),
                if is_stream {
                    place("scaling")
                } else {
                    place("scaling").replace(
                        "a setting of an event source mapping",
                        "an SQS event source mapping setting",
                    )
                },
            );
        }
        if let Some(f) = &c.filter {
            if invoked {
                self.err(format!("{base}.filter"), place("filter"));
            }
            for (j, p) in f.iter().enumerate() {
                self.pattern(&format!("{base}.filter[{j}]"), p);
            }
        }
        // Stream-only settings.
        let stream_only: [(&str, bool); 5] = [
            ("bisect_on_error", c.bisect_on_error),
            ("max_retry_attempts", c.max_retry_attempts.is_some()),
            ("max_record_age", c.max_record_age.is_some()),
            ("parallelization_factor", c.parallelization_factor.is_some()),
            ("on_failure", c.on_failure.is_some()),
        ];
        for (field, set) in stream_only {
            if set && !is_stream {
                self.err(format!("{base}.{field}"), place(field));
            }
        }
        if is_stream {
            if let Some(n) = c.max_retry_attempts {
                self.count(
                    format!("{base}.max_retry_attempts"),
                    "max_retry_attempts",
                    n,
                    &defaults::STREAM_MAX_RETRY_ATTEMPTS,
                );
            }
            if let Some(a) = c.max_record_age {
                self.duration_in(
                    format!("{base}.max_record_age"),
                    "max_record_age",
                    a,
                    &defaults::STREAM_MAX_RECORD_AGE_RANGE,
                );
            }
            if let Some(p) = c.parallelization_factor {
                self.count(
                    format!("{base}.parallelization_factor"),
                    "parallelization_factor",
                    p,
                    &defaults::PARALLELIZATION_FACTOR_RANGE,
                );
                if source == SourceKind::Stream(StreamType::Kafka) && p > 1 {
                    self.err(
                        format!("{base}.parallelization_factor"),
                        "Kafka event sources have no parallelization factor (Kinesis and DynamoDB only)".into(),
                    );
                }
            }
            if let Some(d) = &c.on_failure {
                self.destination(format!("{base}.on_failure"), d, &[Kind::Queue], true);
            }
        }
        // Asynchronous invocation.
        if let Some(a) = &c.async_invoke {
            let targeted = s
                .buses
                .iter()
                .flat_map(|b| &b.rules)
                .flat_map(|r| &r.targets)
                .any(|t| t.to == c.id)
                || s.consumers
                    .iter()
                    .flat_map(|x| &x.emits)
                    .any(|e| e.to == c.id)
                // An SNS subscription invokes a function asynchronously, as a rule target does.
                || s.topics
                    .iter()
                    .flat_map(|t| &t.subscriptions)
                    .any(|sub| sub.to == c.id);
            if !function {
                self.err(
                    format!("{base}.async"),
                    "a service is called synchronously; `async` is a function setting".into(),
                );
            } else if !invoked {
                self.err(
                    format!("{base}.async"),
                    format!("this function is invoked by an event source mapping (it reads \"{}\"), never asynchronously; `async` does nothing here", c.from.as_deref().unwrap_or_default()),
                );
            } else if !targeted {
                self.warn(
                    format!("{base}.async"),
                    "no rule target, topic subscription or `emits` invokes this function, so its `async` settings never apply".into(),
                );
            }
            if let Some(r) = a.retries {
                self.count(
                    format!("{base}.async.retries"),
                    "async.retries",
                    r,
                    &defaults::LAMBDA_ASYNC_RETRIES_RANGE,
                );
            }
            if let Some(m) = a.max_age {
                self.duration_in(
                    format!("{base}.async.max_age"),
                    "async.max_age",
                    m,
                    &defaults::LAMBDA_ASYNC_MAX_AGE_RANGE,
                );
            }
            let kinds = [Kind::Queue, Kind::Bus, Kind::Consumer];
            if let Some(d) = &a.on_failure {
                self.destination(format!("{base}.async.on_failure"), d, &kinds, true);
            }
            if let Some(d) = &a.on_success {
                self.destination(format!("{base}.async.on_success"), d, &kinds, true);
            }
        }
        // Service-only settings.
        if function {
            for (field, set) in [
                ("reject_when", c.reject_when.is_some()),
                ("rate_limit", c.rate_limit.is_some()),
            ] {
                if set {
                    self.err(format!("{base}.{field}"), format!("`{field}` is a setting of a service (\"kind\": \"service\"), not of a function"));
                }
            }
        }
        if let Some(p) = &c.reject_when {
            self.pattern(&format!("{base}.reject_when"), p);
        }
        if let Some(r) = c.rate_limit {
            self.positive_rate(format!("{base}.rate_limit"), r, false);
        }
        // A function's timeout: at most 15 minutes, and not longer than the visibility timeout
        // of the queue it reads (Lambda refuses such a mapping).
        if !function
            && s.migrated.0
            && let Some(t) = c.timeout.and_then(crate::model::TimeLimit::limit)
            && let Some(q) = c
                .from
                .as_deref()
                .and_then(|f| s.queues.iter().find(|q| q.id == f))
            && t > q.visibility_timeout_in_force()
        {
            self.warn(
                format!("{base}.timeout"),
                format!(
                    "the timeout {t} is longer than queue \"{}\"'s visibility timeout {}: Lambda would refuse this mapping, so the migrated consumer is a service polling the queue (a message reappears while still in service)",
                    q.id,
                    q.visibility_timeout_in_force()
                ),
            );
        }
        if function && let Some(t) = c.timeout.and_then(crate::model::TimeLimit::limit) {
            if t > defaults::LAMBDA_TIMEOUT_MAX {
                self.err(
                    format!("{base}.timeout"),
                    format!(
                        "a function's timeout is at most {}, found {t}",
                        defaults::LAMBDA_TIMEOUT_MAX
                    ),
                );
            }
            if let Some(q) = c
                .from
                .as_deref()
                .and_then(|f| s.queues.iter().find(|q| q.id == f))
            {
                let vis = q.visibility_timeout_in_force();
                if t > vis {
                    let message = format!(
                        "the function's timeout {t} is longer than queue \"{}\"'s visibility timeout {vis}: a message would reappear while still in service (Lambda refuses this mapping)",
                        q.id
                    );
                    if s.migrated.0 {
                        self.warn(format!("{base}.timeout"), message);
                    } else {
                        self.err(format!("{base}.timeout"), message);
                    }
                }
            }
        }
    }

    /// Fault windows: target, window, the factor or rate their kind needs.
    fn faults(&mut self) {
        let s = self.s;
        for (i, f) in s.faults.iter().enumerate() {
            let base = format!("faults[{i}]");
            self.reference(Site::FaultTarget { fault: i });
            if f.from >= f.to {
                self.err(
                    format!("{base}.to"),
                    format!("the fault ends ({}) before it starts ({})", f.to, f.from),
                );
            }
            match f.kind {
                FaultKind::Slowdown => match f.factor {
                    Some(x) if x.is_finite() && x > defaults::SLOWDOWN_FACTOR_MAX => self.err(
                        format!("{base}.factor"),
                        format!(
                            "factor must be at most {} (a service that much slower is an outage), found {x}",
                            defaults::SLOWDOWN_FACTOR_MAX
                        ),
                    ),
                    Some(x) if x.is_finite() && x > 0.0 => {}
                    Some(x) => self.err(
                        format!("{base}.factor"),
                        format!("factor must be above zero, found {x}"),
                    ),
                    None => self.err_hint(
                        format!("{base}.factor"),
                        "a slowdown needs `factor`".into(),
                        Some("e.g. \"factor\": 5 makes service 5× slower".into()),
                    ),
                },
                FaultKind::Errors => match f.rate {
                    Some(p) => self.probability(format!("{base}.rate"), p),
                    None => self.err_hint(
                        format!("{base}.rate"),
                        "an errors fault needs `rate`".into(),
                        Some("e.g. \"rate\": 0.5 fails half the attempts".into()),
                    ),
                },
                FaultKind::Outage => {}
            }
        }
    }

    /// Timeline entries: redrive queues, replayed bus and its archive, replay window, the
    /// consumer and value of a concurrency change.
    fn timeline(&mut self) {
        let s = self.s;
        for (i, t) in s.timeline.iter().enumerate() {
            let base = format!("timeline[{i}]");
            match &t.action {
                TimelineAction::Redrive { dlq, to, rate } => {
                    if let Some(r) = *rate
                        && !(r.is_finite() && r > 0.0 && r <= defaults::REDRIVE_RATE_MAX)
                    {
                        self.err(
                            format!("{base}.rate"),
                            format!(
                                "an SQS message move task moves 1 to {} messages per second, found {r}",
                                defaults::REDRIVE_RATE_MAX
                            ),
                        );
                    }
                    let from = self.reference(Site::RedriveFrom { entry: i });
                    self.reference(Site::RedriveTo { entry: i });
                    if dlq == to {
                        self.err(
                            format!("{base}.to"),
                            format!("a redrive moves messages out of \"{dlq}\"; it cannot move them back into it"),
                        );
                    } else if let Some(from) = from
                        && !self.topology.is_dead_letter_queue(from.index)
                    {
                        self.err_hint(
                            format!("{base}.redrive"),
                            format!("\"{dlq}\" is no queue's dead-letter queue; a redrive moves a dead-letter queue's messages back"),
                            Some("name a queue that some queue's `dead_letter` points to (SQS redrives only from dead-letter queues)".into()),
                        );
                    }
                }
                TimelineAction::Replay { bus, from, to } => {
                    if self.reference(Site::ReplayBus { entry: i }).is_some()
                        && !s.buses.iter().any(|b| &b.id == bus && b.archive)
                    {
                        self.err_hint(
                            format!("{base}.replay"),
                            format!("bus \"{bus}\" keeps no archive to replay"),
                            Some("add \"archive\": true to the bus".into()),
                        );
                    }
                    if from >= to {
                        self.err(
                            format!("{base}.to"),
                            "the replay window ends before it starts".into(),
                        );
                    }
                    if *from > t.at {
                        self.err(
                            format!("{base}.from"),
                            "a replay can only replay the past".into(),
                        );
                    }
                }
                TimelineAction::SetConcurrency {
                    consumer,
                    concurrency,
                } => {
                    self.count(
                        format!("{base}.concurrency"),
                        "concurrency",
                        *concurrency,
                        &defaults::CONCURRENCY_RANGE,
                    );
                    let reads_stream =
                        s.consumers
                            .iter()
                            .find(|c| &c.id == consumer)
                            .is_some_and(|c| {
                                c.from
                                    .as_deref()
                                    .is_some_and(|f| s.streams.iter().any(|x| x.id == f))
                            });
                    if self.reference(Site::SetConsumer { entry: i }).is_some() && reads_stream {
                        self.err_hint(
                            format!("{base}.set"),
                            format!("\"{consumer}\" reads a stream: its concurrency is one instance per shard and cannot change mid-run"),
                            Some("change a consumer that reads a queue or is invoked directly".into()),
                        );
                    }
                }
            }
        }
    }
}
