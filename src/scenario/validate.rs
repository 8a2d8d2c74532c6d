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
use crate::model::{Distribution, FaultKind, Kind, QueueType, Scenario, TimelineAction};
use crate::names::did_you_mean;

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
                    format!("\"{id}\" is a {}, but this must be {what}", c.kind.as_str()),
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
                    self.problems.push(Problem::warning(
                        format!("{rbase}.targets"),
                        format!(
                            "EventBridge allows at most {} targets per rule",
                            defaults::EVENTBRIDGE_TARGETS_PER_RULE
                        ),
                    ));
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
                    if t.dead_letter.is_some() {
                        self.reference(Site::TargetDeadLetter {
                            bus: i,
                            rule: j,
                            target: k,
                        });
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
            for (j, e) in c.emits.iter().enumerate() {
                let ebase = format!("{base}.emits[{j}]");
                self.reference(Site::EmitTo {
                    consumer: i,
                    emit: j,
                });
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

    /// Timeline entries: redrive queues, replayed bus and its archive, replay window.
    fn timeline(&mut self) {
        let s = self.s;
        for (i, t) in s.timeline.iter().enumerate() {
            let base = format!("timeline[{i}]");
            match &t.action {
                TimelineAction::Redrive { dlq, to, .. } => {
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
            }
        }
    }
}
