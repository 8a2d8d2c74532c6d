//! Loading, validating, migrating and saving scenario files.
//!
//! Loading reports every problem it can find at once: JSON syntax errors with file, line and
//! column; type and unknown-field errors with the JSON path (`consumers[2].from`) and a
//! "did you mean" hint; then the meaning of the scenario (references, ranges, patterns).
//! Saving writes pretty JSON in a stable key order to a temporary file and renames it over the
//! target, so a crash mid-save never loses the user's work.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::{Distribution, FORMAT, FaultKind, Kind, QueueType, Scenario, TimelineAction};

/// How serious a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The scenario cannot run.
    Error,
    /// It runs, but probably not as meant.
    Warning,
}

/// One thing wrong with a scenario, located by JSON path.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// JSON path, e.g. `consumers[2].from` (empty for the whole file).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What would probably be right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Problem {
    /// An error at `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// With a hint.
    #[must_use]
    pub fn hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.path.is_empty() {
            write!(f, "{sev}: {}", self.message)?;
        } else {
            write!(f, "{sev}: {}: {}", self.path, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error, in words.
        message: String,
    },
    /// The file is not valid JSON.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser found.
        message: String,
    },
    /// The JSON does not describe a valid scenario.
    #[error("{}", render_problems(file, problems))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem found (errors first).
        problems: Vec<Problem>,
    },
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let mut out = format!(
        "{file}: {errors} problem{}",
        if errors == 1 { "" } else { "s" }
    );
    for p in problems {
        out.push_str(&format!("\n  {p}"));
    }
    out
}

impl LoadError {
    /// The problems as a list (a syntax or I/O error is one problem at the root).
    #[must_use]
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            LoadError::Io { message, .. } => vec![Problem::error("", message.clone())],
            LoadError::Syntax {
                line,
                column,
                message,
                ..
            } => {
                vec![Problem::error(
                    "",
                    format!("line {line}, column {column}: {message}"),
                )]
            }
            LoadError::Invalid { problems, .. } => problems.clone(),
        }
    }
}

/// A scenario that loaded, with the warnings found on the way.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Lint warnings (the scenario runs, but may not do what its author meant).
    pub warnings: Vec<Problem>,
}

/// Reads, migrates and validates a scenario file.
///
/// # Errors
/// Every problem found, located by line:column (syntax) or JSON path (meaning).
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
        file: file.clone(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            std::io::ErrorKind::InvalidData => "not a UTF-8 text file".to_owned(),
            _ => e.to_string(),
        },
    })?;
    parse(&text, &file)
}

/// Parses, migrates and validates scenario text; `file` names it in messages.
///
/// # Errors
/// As [`load`].
pub fn parse(text: &str, file: &str) -> Result<Loaded, LoadError> {
    if text.trim().is_empty() {
        return Err(LoadError::Io {
            file: file.to_owned(),
            message: "the file is empty; a scenario is a JSON object (see scenarios/ for examples)"
                .into(),
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| LoadError::Syntax {
        file: file.to_owned(),
        line: e.line(),
        column: e.column(),
        message: syntax_message(&e),
    })?;
    from_value(value).map_err(|problems| LoadError::Invalid {
        file: file.to_owned(),
        problems,
    })
}

fn syntax_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the location is printed separately.
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Builds a scenario from parsed JSON.
///
/// # Errors
/// Every problem found, errors first, then warnings.
pub fn from_value(value: Value) -> Result<Loaded, Vec<Problem>> {
    let value = migrate(value).map_err(|p| vec![p])?;
    let Value::Object(mut root) = value else {
        return Err(vec![Problem::error(
            "",
            "a scenario must be a JSON object { … }",
        )]);
    };
    let mut problems = Vec::new();

    // Components are read one by one so that one bad component does not hide the others.
    let sections = [
        "producers",
        "buses",
        "queues",
        "streams",
        "consumers",
        "faults",
        "timeline",
    ];
    let mut taken: Vec<(&str, Vec<Value>)> = Vec::new();
    for key in sections {
        match root.get_mut(key) {
            Some(Value::Array(items)) => taken.push((key, std::mem::take(items))),
            Some(other) if !other.is_null() => {
                problems.push(Problem::error(
                    key,
                    format!("must be an array, found {}", crate::model::json_type(other)),
                ));
                root.remove(key);
            }
            _ => {}
        }
    }
    let scenario: Option<Scenario> = deserialize_collect(Value::Object(root), "", &mut problems);

    let mut items_ok = true;
    macro_rules! section {
        ($field:ident, $key:literal) => {{
            let mut out = Vec::new();
            if let Some((_, items)) = taken.iter_mut().find(|(k, _)| *k == $key) {
                for (i, item) in std::mem::take(items).into_iter().enumerate() {
                    match deserialize_collect(item, &format!("{}[{i}]", $key), &mut problems) {
                        Some(v) => out.push(v),
                        None => items_ok = false,
                    }
                }
            }
            out
        }};
    }
    let producers = section!(producers, "producers");
    let buses = section!(buses, "buses");
    let queues = section!(queues, "queues");
    let streams = section!(streams, "streams");
    let consumers = section!(consumers, "consumers");
    let faults = section!(faults, "faults");
    let timeline = section!(timeline, "timeline");

    let Some(mut scenario) = scenario else {
        return Err(problems);
    };
    scenario.producers = producers;
    scenario.buses = buses;
    scenario.queues = queues;
    scenario.streams = streams;
    scenario.consumers = consumers;
    scenario.faults = faults;
    scenario.timeline = timeline;
    if !items_ok || !problems.is_empty() {
        // Check references too, but only where they can still be resolved: a component that
        // failed to parse would make every reference to it look wrong.
        if items_ok {
            problems.extend(validate(&scenario));
        }
        return Err(problems);
    }
    let mut all = validate(&scenario);
    if all.iter().any(|p| p.severity == Severity::Error) {
        all.sort_by_key(|p| p.severity);
        return Err(all);
    }
    Ok(Loaded {
        scenario,
        warnings: all,
    })
}

/// Upgrades older formats to the current one (the hook for future versions).
///
/// # Errors
/// A format this build does not know.
pub fn migrate(mut value: Value) -> Result<Value, Problem> {
    let Some(obj) = value.as_object_mut() else {
        return Ok(value);
    };
    match obj.get("format") {
        None => {
            obj.insert("format".into(), Value::String(FORMAT.into()));
            Ok(value)
        }
        Some(Value::String(f)) if f == FORMAT => Ok(value),
        Some(Value::String(f)) => {
            let newer = f
                .strip_prefix("eventflow/")
                .and_then(|v| v.parse::<u32>().ok())
                .is_some_and(|v| v > 1);
            Err(Problem::error(
                "format",
                if newer {
                    format!(
                        "\"{f}\" was written by a newer eventflow; this build reads \"{FORMAT}\""
                    )
                } else {
                    format!("unknown format \"{f}\"")
                },
            )
            .hint(Some(format!("use \"{FORMAT}\""))))
        }
        Some(other) => Err(Problem::error(
            "format",
            format!("must be a string, found {}", crate::model::json_type(other)),
        )
        .hint(Some(format!("use \"{FORMAT}\"")))),
    }
}

/// Deserializes `value`, collecting every unknown field (each is removed and the parse retried)
/// and the first type error.
fn deserialize_collect<T: DeserializeOwned>(
    mut value: Value,
    base: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(v) => return Some(v),
            Err(err) => {
                let segments: Vec<Seg> = err.path().iter().map(Seg::from).collect();
                let message = err.inner().to_string();
                if let Some((field, expected)) = parse_unknown_field(&message) {
                    let mut segments = segments;
                    // The path names the unknown field itself; its object is one level up.
                    if matches!(segments.last(), Some(Seg::Key(k)) if *k == field) {
                        segments.pop();
                    }
                    let mut path = join_path(base, &segments);
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&field);
                    let hint = did_you_mean(&field, expected.iter().map(String::as_str));
                    problems.push(
                        Problem::error(path, format!("unknown field `{field}`")).hint(
                            hint.or_else(|| {
                                Some(format!("expected one of: {}", expected.join(", ")))
                            }),
                        ),
                    );
                    if remove_at(&mut value, &segments, &field) {
                        continue;
                    }
                    return None;
                }
                let path = join_path(base, &segments);
                problems.push(Problem::error(path, tidy_serde_message(&message)));
                return None;
            }
        }
    }
    None
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
    Other,
}

impl From<&serde_path_to_error::Segment> for Seg {
    fn from(s: &serde_path_to_error::Segment) -> Self {
        match s {
            serde_path_to_error::Segment::Seq { index } => Seg::Index(*index),
            serde_path_to_error::Segment::Map { key }
            | serde_path_to_error::Segment::Enum { variant: key } => Seg::Key(key.clone()),
            serde_path_to_error::Segment::Unknown => Seg::Other,
        }
    }
}

fn join_path(base: &str, segs: &[Seg]) -> String {
    let mut out = base.to_owned();
    for s in segs {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Other => {}
        }
    }
    out
}

/// Removes `field` from the object at `segs` (where serde found it unknown).
fn remove_at(value: &mut Value, segs: &[Seg], field: &str) -> bool {
    let mut cur = value;
    for s in segs {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => match m.get_mut(k) {
                Some(v) => v,
                None => return false,
            },
            (Seg::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(v) => v,
                None => return false,
            },
            (Seg::Other, v) => v,
            _ => return false,
        };
    }
    if let Value::Object(m) = cur {
        return m.shift_remove(field).is_some();
    }
    false
}

fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let end = rest.find('`')?;
    let field = rest[..end].to_owned();
    let expected = rest[end..]
        .split('`')
        .skip(2)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((field, expected))
}

fn tidy_serde_message(message: &str) -> String {
    let m = message.replace("unknown variant", "unknown value");
    if let Some(i) = m.rfind(" at line ") {
        return m[..i].to_owned();
    }
    m
}

/// Edit distance, for "did you mean" hints.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `Some("did you mean `x`?")` for the closest candidate within a sensible edit distance.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.to_owned()))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Checks what the types alone cannot: unique ids, references, ranges, patterns, templates;
/// then, when there are no errors, the lints of [`lint`] as warnings.
#[must_use]
pub fn validate(s: &Scenario) -> Vec<Problem> {
    let mut v = Validator {
        s,
        problems: Vec::new(),
    };
    v.run();
    if v.problems.iter().all(|p| p.severity != Severity::Error) {
        v.problems.extend(lint(s));
    }
    v.problems
}

/// A template as the engine will send it: the envelope defaults filled in (`id` and `time`
/// stay absent, which the pattern's static check treats as unknown).
pub(crate) fn effective_template(t: &Value) -> Value {
    let mut v = t.clone();
    if let Some(o) = v.as_object_mut() {
        for (k, d) in [
            ("version", "0"),
            ("detail-type", "Event"),
            ("source", "eventflow"),
            ("account", "123456789012"),
            ("region", "us-east-1"),
        ] {
            o.entry(k).or_insert_with(|| Value::String(d.into()));
        }
        o.entry("detail")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    v
}

/// Warnings for a valid scenario that probably does not do what its author meant: rules no
/// event can match, rule targets without a dead-letter queue, queues nobody reads, consumers
/// nobody invokes, idle stream instances, and event routing loops.
#[must_use]
pub fn lint(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    // Which event templates can reach each bus: producers and emits sending to it, and (when a
    // bus forwards untransformed to another) the templates reaching the forwarding bus.
    let mut reaching: std::collections::BTreeMap<&str, Vec<Value>> =
        std::collections::BTreeMap::new();
    let mut opaque: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for p in &s.producers {
        reaching
            .entry(&p.to)
            .or_default()
            .push(effective_template(&p.event));
    }
    for c in &s.consumers {
        for e in &c.emits {
            reaching
                .entry(&e.to)
                .or_default()
                .push(effective_template(&e.event));
        }
    }
    for _ in 0..s.buses.len() {
        for b in &s.buses {
            for r in &b.rules {
                for t in &r.targets {
                    if s.buses.iter().any(|x| x.id == t.to) {
                        if t.transform.is_some() || opaque.contains(b.id.as_str()) {
                            opaque.insert(&t.to);
                        }
                        let from: Vec<Value> =
                            reaching.get(b.id.as_str()).cloned().unwrap_or_default();
                        let entry = reaching.entry(&t.to).or_default();
                        for v in from {
                            if !entry.contains(&v) {
                                entry.push(v);
                            }
                        }
                    }
                }
            }
        }
    }
    for (i, b) in s.buses.iter().enumerate() {
        let templates = reaching.get(b.id.as_str()).map_or(&[][..], Vec::as_slice);
        if templates.is_empty()
            && !s
                .timeline
                .iter()
                .any(|t| matches!(&t.action, TimelineAction::Replay { bus, .. } if *bus == b.id))
        {
            out.push(Problem::warning(
                format!("buses[{i}]"),
                format!("nothing sends events to bus \"{}\"", b.id),
            ));
            continue;
        }
        if opaque.contains(b.id.as_str()) {
            continue;
        }
        for (j, r) in b.rules.iter().enumerate() {
            let Ok(pattern) = crate::pattern::Pattern::parse(&r.pattern) else {
                continue;
            };
            if !templates.iter().any(|t| pattern.may_match_template(t)) {
                out.push(
                    Problem::warning(format!("buses[{i}].rules[{j}].pattern"), format!("rule \"{}\" can never match: no producer's or consumer's events fit its pattern", r.id))
                        .hint(Some("compare the pattern with the `event` templates sending to this bus (source, detail-type and field types must agree)".into())),
                );
            }
            for (k, t) in r.targets.iter().enumerate() {
                if t.dead_letter.is_none() && s.buses.iter().all(|x| x.id != t.to) {
                    out.push(
                        Problem::warning(format!("buses[{i}].rules[{j}].targets[{k}]"), format!("target \"{}\" has no dead-letter queue: events that exhaust their retries are dropped", t.to))
                            .hint(Some("add \"dead_letter\": \"<queue id>\" (an AWS best practice)".into())),
                    );
                }
            }
        }
    }
    let dlqs: std::collections::BTreeSet<&str> = s
        .queues
        .iter()
        .filter_map(|q| q.dead_letter.as_deref())
        .chain(s.buses.iter().flat_map(|b| {
            b.rules
                .iter()
                .flat_map(|r| r.targets.iter().filter_map(|t| t.dead_letter.as_deref()))
        }))
        .collect();
    for (i, q) in s.queues.iter().enumerate() {
        let read = s
            .consumers
            .iter()
            .any(|c| c.from.as_deref() == Some(q.id.as_str()));
        if !read && !dlqs.contains(q.id.as_str()) {
            out.push(Problem::warning(
                format!("queues[{i}]"),
                format!(
                    "no consumer reads queue \"{}\": its messages only pile up",
                    q.id
                ),
            ));
        }
    }
    for (i, c) in s.consumers.iter().enumerate() {
        match &c.from {
            None => {
                let invoked = s.buses.iter().any(|b| {
                    b.rules
                        .iter()
                        .any(|r| r.targets.iter().any(|t| t.to == c.id))
                });
                if !invoked {
                    out.push(
                        Problem::warning(
                            format!("consumers[{i}]"),
                            format!("consumer \"{}\" reads nothing and no rule invokes it", c.id),
                        )
                        .hint(Some(
                            "set `from` to a queue or stream, or name it as a rule target".into(),
                        )),
                    );
                }
            }
            Some(from) => {
                if let Some(st) = s.streams.iter().find(|x| &x.id == from)
                    && c.concurrency > st.partitions
                {
                    out.push(Problem::warning(
                        format!("consumers[{i}].concurrency"),
                        format!(
                            "{} instances read a stream of {} partitions: {} sit idle",
                            c.concurrency,
                            st.partitions,
                            c.concurrency - st.partitions
                        ),
                    ));
                }
            }
        }
    }
    for cycle in crate::sim::find_cycles(s) {
        let path = cycle.join(" → ");
        out.push(
            Problem::warning("", format!("event routing loop: {path}"))
                .hint(Some("a consumer emits events its own rule matches again; EventBridge warns of this: it can run away (the loop guard stops runs past settings.max_events)".into())),
        );
    }
    out
}

struct Validator<'a> {
    s: &'a Scenario,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn err(&mut self, path: String, message: String) {
        self.problems.push(Problem::error(path, message));
    }

    fn err_hint(&mut self, path: String, message: String, hint: Option<String>) {
        self.problems.push(Problem::error(path, message).hint(hint));
    }

    /// Checks that `id` names a component of one of `kinds`.
    fn reference(&mut self, path: String, id: &str, kinds: &[Kind], what: &str) -> Option<Kind> {
        let comps = self.s.components();
        match comps.iter().find(|(i, _)| *i == id) {
            Some((_, k)) if kinds.contains(k) => Some(*k),
            Some((_, k)) => {
                self.err(
                    path,
                    format!("\"{id}\" is a {}, but this must be {what}", k.as_str()),
                );
                None
            }
            None => {
                let hint = did_you_mean(
                    id,
                    comps
                        .iter()
                        .filter(|(_, k)| kinds.contains(k))
                        .map(|(i, _)| *i),
                );
                self.err_hint(path, format!("no {what} has id \"{id}\""), hint);
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

    fn run(&mut self) {
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
        if let Some(st) = &s.settings
            && st.series_buckets == Some(0)
        {
            self.err(
                "settings.series_buckets".into(),
                "needs at least one bucket".into(),
            );
        }

        // Ids: non-empty and unique across the whole file.
        let mut seen: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
        let mut ids: Vec<(String, &str)> = Vec::new();
        for (i, p) in s.producers.iter().enumerate() {
            ids.push((format!("producers[{i}].id"), &p.id));
        }
        for (i, b) in s.buses.iter().enumerate() {
            ids.push((format!("buses[{i}].id"), &b.id));
            for (j, r) in b.rules.iter().enumerate() {
                ids.push((format!("buses[{i}].rules[{j}].id"), &r.id));
            }
        }
        for (i, q) in s.queues.iter().enumerate() {
            ids.push((format!("queues[{i}].id"), &q.id));
        }
        for (i, st) in s.streams.iter().enumerate() {
            ids.push((format!("streams[{i}].id"), &st.id));
        }
        for (i, c) in s.consumers.iter().enumerate() {
            ids.push((format!("consumers[{i}].id"), &c.id));
        }
        for (path, id) in ids {
            if id.trim().is_empty() {
                self.err(path, "id must not be empty".into());
            } else if let Some(first) = seen.get(id) {
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

        let sinks = [Kind::Bus, Kind::Queue, Kind::Stream];
        for (i, p) in s.producers.iter().enumerate() {
            let base = format!("producers[{i}]");
            self.reference(
                format!("{base}.to"),
                &p.to,
                &sinks,
                "a bus, queue or stream",
            );
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
            if !p.event.is_object() {
                self.err(
                    format!("{base}.event"),
                    "the event template must be a JSON object".into(),
                );
            } else {
                self.template(&format!("{base}.event"), &p.event, false);
            }
        }

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
                if r.targets.len() > 5 {
                    // EventBridge quota: 5 targets per rule.
                    self.problems.push(Problem::warning(
                        format!("{rbase}.targets"),
                        "EventBridge allows at most 5 targets per rule",
                    ));
                }
                for (k, t) in r.targets.iter().enumerate() {
                    let tbase = format!("{rbase}.targets[{k}]");
                    let kinds = [Kind::Consumer, Kind::Queue, Kind::Stream, Kind::Bus];
                    if self.reference(
                        format!("{tbase}.to"),
                        &t.to,
                        &kinds,
                        "a consumer, queue, stream or bus",
                    ) == Some(Kind::Consumer)
                        && let Some(c) = s.consumers.iter().find(|c| c.id == t.to)
                        && let Some(from) = &c.from
                    {
                        self.err(
                                    format!("{tbase}.to"),
                                    format!("consumer \"{}\" reads \"{from}\"; a rule can only invoke a consumer without `from`", c.id),
                                );
                    }
                    if t.to == b.id {
                        self.err(
                            format!("{tbase}.to"),
                            "a rule cannot target its own bus".into(),
                        );
                    }
                    if let Some(dlq) = &t.dead_letter {
                        self.reference(
                            format!("{tbase}.dead_letter"),
                            dlq,
                            &[Kind::Queue],
                            "a queue",
                        );
                    }
                    if let Some(r) = &t.retry {
                        if r.attempts > 185 {
                            self.err(
                                format!("{tbase}.retry.attempts"),
                                format!(
                                    "EventBridge allows 0 to 185 retry attempts, found {}",
                                    r.attempts
                                ),
                            );
                        }
                        if r.max_age.0 < 60_000_000_000 || r.max_age.0 > 86_400_000_000_000 {
                            self.err(format!("{tbase}.retry.max_age"), format!("EventBridge allows a maximum event age from 60s to 24h, found {}", r.max_age));
                        }
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

        for (i, q) in s.queues.iter().enumerate() {
            let base = format!("queues[{i}]");
            if q.capacity == Some(0) {
                self.err(
                    format!("{base}.capacity"),
                    "capacity must be at least 1 (omit it for unbounded)".into(),
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
                } else if self
                    .reference(
                        format!("{base}.dead_letter"),
                        dlq,
                        &[Kind::Queue],
                        "a queue",
                    )
                    .is_some()
                {
                    let target = s.queues.iter().find(|x| &x.id == dlq);
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
            if q.max_receives == Some(0) || q.max_receives.is_some_and(|m| m > 1000) {
                self.err(
                    format!("{base}.max_receives"),
                    "SQS allows max_receives from 1 to 1000".into(),
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
                && v.0 > 43_200_000_000_000
            {
                self.err(
                    format!("{base}.visibility_timeout"),
                    "SQS allows a visibility timeout of at most 12h".into(),
                );
            }
        }

        for (i, st) in s.streams.iter().enumerate() {
            if st.partitions == 0 {
                self.err(
                    format!("streams[{i}].partitions"),
                    "a stream needs at least one partition".into(),
                );
            }
        }

        for (i, c) in s.consumers.iter().enumerate() {
            let base = format!("consumers[{i}]");
            if let Some(from) = &c.from {
                self.reference(
                    format!("{base}.from"),
                    from,
                    &[Kind::Queue, Kind::Stream],
                    "a queue or stream",
                );
            }
            if c.concurrency == 0 {
                self.err(
                    format!("{base}.concurrency"),
                    "concurrency must be at least 1".into(),
                );
            }
            if c.batch_size == 0 {
                self.err(
                    format!("{base}.batch_size"),
                    "batch size must be at least 1".into(),
                );
            }
            self.distribution(&format!("{base}.service_time"), &c.service_time);
            self.probability(format!("{base}.failure_rate"), c.failure_rate);
            if let Some(p) = &c.fail_when {
                self.pattern(&format!("{base}.fail_when"), p);
            }
            if let Some(cb) = &c.circuit_breaker
                && cb.failures == 0
            {
                self.err(
                    format!("{base}.circuit_breaker.failures"),
                    "must be at least 1".into(),
                );
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
                self.reference(
                    format!("{ebase}.to"),
                    &e.to,
                    &sinks,
                    "a bus, queue or stream",
                );
                if let Some(p) = e.probability {
                    self.probability(format!("{ebase}.probability"), p);
                }
                if !e.event.is_object() {
                    self.err(
                        format!("{ebase}.event"),
                        "the event template must be a JSON object".into(),
                    );
                } else {
                    self.template(&format!("{ebase}.event"), &e.event, true);
                }
            }
        }

        for (i, f) in s.faults.iter().enumerate() {
            let base = format!("faults[{i}]");
            self.reference(
                format!("{base}.target"),
                &f.target,
                &[Kind::Consumer, Kind::Queue, Kind::Bus, Kind::Stream],
                "a consumer, queue, stream or bus",
            );
            if f.from >= f.to {
                self.err(
                    format!("{base}.to"),
                    format!("the fault ends ({}) before it starts ({})", f.to, f.from),
                );
            }
            match f.kind {
                FaultKind::Slowdown => match f.factor {
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

        for (i, t) in s.timeline.iter().enumerate() {
            let base = format!("timeline[{i}]");
            match &t.action {
                TimelineAction::Redrive { dlq, to } => {
                    self.reference(format!("{base}.redrive"), dlq, &[Kind::Queue], "a queue");
                    self.reference(format!("{base}.to"), to, &[Kind::Queue], "a queue");
                }
                TimelineAction::Replay { bus, from, to } => {
                    if self
                        .reference(format!("{base}.replay"), bus, &[Kind::Bus], "a bus")
                        .is_some()
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
}

/// Pretty JSON with a stable key order (the model's field order) and a final newline.
#[must_use]
pub fn to_json(s: &Scenario) -> String {
    // Serializing these plain types cannot fail; fall back to an empty object rather than panic.
    let mut text = serde_json::to_string_pretty(s).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// Saves atomically: writes a temporary file beside `path`, flushes it, then renames it over.
///
/// # Errors
/// The I/O error, naming the file.
pub fn save(path: &Path, s: &Scenario) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = path.file_name().map_or_else(
        || "scenario.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(to_json(s).as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{ "name": "t", "duration": "1m",
        "producers": [ { "id": "p", "to": "q", "rate": 5 } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "10ms" } } ] }"#;

    #[test]
    fn a_minimal_scenario_loads() {
        let l = parse(MINIMAL, "t.json").unwrap();
        assert_eq!(l.scenario.consumers[0].concurrency, 1);
        assert_eq!(l.scenario.format, FORMAT);
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = parse("{\n  \"name\": \"x\",\n  oops\n}", "bad.json").unwrap_err();
        match err {
            LoadError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 3)),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn every_unknown_field_is_listed_with_a_hint() {
        let text = MINIMAL
            .replace(
                r#""rate": 5"#,
                r#""rat": 5, "rate": 5, "arival": "poisson""#,
            )
            .replace(r#""from": "q","#, r#""from": "q", "concurency": 2,"#);
        let problems = match parse(&text, "t.json").unwrap_err() {
            LoadError::Invalid { problems, .. } => problems,
            other => panic!("{other}"),
        };
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{text:#?}");
        assert!(text.iter().any(|t| t.contains("producers[0]")
            && t.contains("`rat`")
            && t.contains("did you mean `rate`")));
        assert!(
            text.iter()
                .any(|t| t.contains("`arival`") && t.contains("did you mean `arrivals`"))
        );
        assert!(
            text.iter()
                .any(|t| t.contains("consumers[0]") && t.contains("did you mean `concurrency`"))
        );
    }

    #[test]
    fn bad_references_and_ranges_are_all_reported() {
        let text = MINIMAL
            .replace(r#""from": "q""#, r#""from": "qq", "concurrency": 0"#)
            .replace(r#""rate": 5"#, r#""rate": -1"#);
        let problems = match parse(&text, "t.json").unwrap_err() {
            LoadError::Invalid { problems, .. } => problems,
            other => panic!("{other}"),
        };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"consumers[0].from"), "{paths:?}");
        assert!(paths.contains(&"consumers[0].concurrency"));
        assert!(paths.contains(&"producers[0].rate"));
        let from = problems
            .iter()
            .find(|p| p.path == "consumers[0].from")
            .unwrap();
        assert_eq!(from.hint.as_deref(), Some("did you mean `q`?"));
    }

    #[test]
    fn newer_formats_are_refused_older_would_migrate() {
        let text = MINIMAL.replacen('{', r#"{ "format": "eventflow/2","#, 1);
        let err = parse(&text, "t.json").unwrap_err().to_string();
        assert!(err.contains("newer eventflow"), "{err}");
    }

    #[test]
    fn save_then_load_gives_the_same_scenario() {
        let l = parse(MINIMAL, "t.json").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        save(&path, &l.scenario).unwrap();
        let again = load(&path).unwrap();
        assert_eq!(l.scenario, again.scenario);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn lints_warn_of_dead_rules_missing_dlqs_unread_queues_and_loops() {
        let text = r#"{ "name": "lint", "duration": "1m",
            "producers": [ { "id": "p", "to": "bus", "rate": 1, "event": { "source": "shop", "detail": { "n": { "$int": [1, 5] } } } } ],
            "buses": [ { "id": "bus", "rules": [
                { "id": "never", "pattern": { "source": ["billing"] }, "targets": [ { "to": "q", "dead_letter": "dlq" } ] },
                { "id": "maybe", "pattern": { "detail": { "n": [ { "numeric": [">", 3] } ] } }, "targets": [ { "to": "q" } ] },
                { "id": "echo", "pattern": { "source": ["echo"] }, "targets": [ { "to": "loop-q", "dead_letter": "dlq" } ] } ] } ],
            "queues": [ { "id": "q" }, { "id": "dlq" }, { "id": "orphan" }, { "id": "loop-q" } ],
            "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "1ms" } },
                           { "id": "echoer", "from": "loop-q", "service_time": { "constant": "1ms" },
                             "emits": [ { "to": "bus", "event": { "source": "echo" } } ] } ] }"#;
        let w: Vec<String> = parse(text, "t.json")
            .unwrap()
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        let has = |needle: &str| w.iter().any(|x| x.contains(needle));
        assert!(
            has("rules[0].pattern: rule \"never\" can never match"),
            "{w:#?}"
        );
        assert!(
            !has("rule \"maybe\" can never match"),
            "a generated number may be > 3"
        );
        assert!(
            !has("rule \"echo\" can never match"),
            "a consumer emits source echo"
        );
        assert!(has(
            "rules[1].targets[0]: target \"q\" has no dead-letter queue"
        ));
        assert!(has("no consumer reads queue \"orphan\""));
        assert!(!has("queue \"dlq\""), "a dead-letter queue is a sink");
        assert!(
            has("event routing loop: echoer → bus → loop-q → echoer"),
            "{w:#?}"
        );
    }

    #[test]
    fn empty_and_missing_files_are_clear() {
        assert!(
            parse("  \n", "e.json")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            load(Path::new("/nonexistent/x.json"))
                .unwrap_err()
                .to_string()
                .contains("no such file")
        );
    }
}
