//! Amazon States Language (Step Functions state machine definitions): the parsed form of a
//! `state_machines[i].definition`, and its parser.
//!
//! A scenario keeps the definition verbatim (a JSON value, as it appears in a real template);
//! [`Definition::parse`] reads it into typed states, reporting every problem with the JSON path
//! inside the definition, and refusing — by name — any state type or field a simulation of this
//! version does not cover, rather than ignoring it.
//!
//! Covered, as the Step Functions developer guide defines them:
//! - states `Task`, `Choice`, `Wait`, `Parallel`, `Map`, `Pass`, `Succeed`, `Fail`
//!   (<https://docs.aws.amazon.com/step-functions/latest/dg/concepts-states.html>);
//! - `Retry` with AWS's defaults `IntervalSeconds` 1, `MaxAttempts` 3, `BackoffRate` 2.0, and
//!   `MaxDelaySeconds`, `JitterStrategy` (`FULL` / `NONE`, default `NONE`); `Catch`
//!   (<https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>);
//! - `TimeoutSeconds` on a Task and on the whole machine (no default: AWS has none for a
//!   standard machine's Task);
//! - `InputPath`, `OutputPath`, `ResultPath` as `JSONPath` reference paths (`$`, `$.a.b`,
//!   `$.items[0]`; `ResultPath: null` discards a result), as far as Choice and Map read data
//!   (<https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html>);
//! - Choice rules with `Variable` and the `String*`, `Numeric*`, `Boolean*` comparisons (each
//!   also as `…Path`), `StringMatches`, `IsPresent`, `IsNull`, `IsNumeric`, `IsString`,
//!   `IsBoolean`, and `And` / `Or` / `Not`
//!   (<https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>);
//! - Map's `ItemsPath`, `MaxConcurrency` (0 = as many as possible) and `Iterator` or
//!   `ItemProcessor`; Parallel's `Branches`; Wait's `Seconds` / `SecondsPath`.
//!
//! A Task's `Resource` names a function or service id, or an ARN ending in one (`…:function:
//! reserve-inventory`); `arn:aws:states:::lambda:invoke` takes the function from
//! `Parameters.FunctionName`. Other `Parameters` are accepted and do not shape the Task's input
//! in the simulation (the Task sees its state input), which the module says rather than hides.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A problem in a definition: a JSON path inside `definition` and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AslError {
    /// Path inside the definition, e.g. `States.Reserve.Retry[0].BackoffRate`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(errs: &mut Vec<AslError>, path: &str, message: impl Into<String>) {
    errs.push(AslError {
        path: path.to_owned(),
        message: message.into(),
    });
}

/// A `JSONPath` reference path: `$` then `.name` or `[index]` steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(pub Vec<Step>);

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `.name` or `['name']`.
    Field(String),
    /// `[n]`.
    Index(usize),
}

impl JsonPath {
    /// Parses a reference path (`$`, `$.a.b`, `$.a[0]`, `$['a b']`).
    ///
    /// # Errors
    /// A message saying what is malformed.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let Some(mut rest) = text.strip_prefix('$') else {
            return Err(format!(
                "{text:?} is not a JSONPath: it must start with `$`"
            ));
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("['") {
                let end = r
                    .find("']")
                    .ok_or_else(|| format!("{text:?}: unclosed ['…']"))?;
                steps.push(Step::Field(r[..end].to_owned()));
                rest = &r[end + 2..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r
                    .find(']')
                    .ok_or_else(|| format!("{text:?}: unclosed [ ]"))?;
                let n = r[..end].parse::<usize>().map_err(|_| {
                    format!(
                        "{text:?}: only whole-number indexes are supported in reference paths, not [{}]",
                        &r[..end]
                    )
                })?;
                steps.push(Step::Index(n));
                rest = &r[end + 1..];
            } else if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                let name = &r[..end];
                if name.is_empty() || name.contains(['*', '?', '@', '(']) {
                    return Err(format!(
                        "{text:?}: wildcards, filters and empty names are not reference paths"
                    ));
                }
                steps.push(Step::Field(name.to_owned()));
                rest = &r[end..];
            } else {
                return Err(format!("{text:?}: expected `.name` or `[index]` after `$`"));
            }
        }
        Ok(JsonPath(steps))
    }

    /// The value at this path, if there is one.
    #[must_use]
    pub fn get<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(v, |cur, step| match step {
            Step::Field(f) => cur.get(f.as_str()),
            Step::Index(i) => cur.get(*i),
        })
    }

    /// `input` with `value` placed at this path (`ResultPath` semantics: `$` replaces the whole
    /// input; missing objects on the way are created; a step through a non-object replaces it).
    #[must_use]
    pub fn set(&self, input: Value, value: Value) -> Value {
        fn put(cur: Value, steps: &[Step], value: Value) -> Value {
            let Some((first, rest)) = steps.split_first() else {
                return value;
            };
            match first {
                Step::Field(f) => {
                    let mut m = match cur {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    };
                    let old = m.remove(f).unwrap_or(Value::Null);
                    m.insert(f.clone(), put(old, rest, value));
                    Value::Object(m)
                }
                Step::Index(i) => match cur {
                    Value::Array(mut a) if *i < a.len() => {
                        let old = std::mem::take(&mut a[*i]);
                        a[*i] = put(old, rest, value);
                        Value::Array(a)
                    }
                    other => other,
                },
            }
        }
        put(input, &self.0, value)
    }
}

/// One `Retry` entry, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    /// Error names it applies to (`States.ALL`, `States.TaskFailed`, `States.Timeout`, …).
    pub error_equals: Vec<String>,
    /// Seconds before the first retry (AWS default 1).
    pub interval_s: f64,
    /// Retries at most (AWS default 3; 0 = never).
    pub max_attempts: u32,
    /// Multiplier of the interval per retry (AWS default 2.0).
    pub backoff_rate: f64,
    /// Cap on any one delay, if set.
    pub max_delay_s: Option<f64>,
    /// `FULL` jitter: each delay drawn uniformly in [0, delay).
    pub full_jitter: bool,
}

/// AWS's retrier defaults (concepts-error-handling.html).
pub const DEFAULT_INTERVAL_S: f64 = 1.0;
/// AWS's default `MaxAttempts`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// AWS's default `BackoffRate`.
pub const DEFAULT_BACKOFF_RATE: f64 = 2.0;

impl Retrier {
    /// The delay before retry number `k` (0-based: the first retry is `k = 0`) before jitter:
    /// `IntervalSeconds × BackoffRate^k`, capped by `MaxDelaySeconds`.
    #[must_use]
    pub fn delay_s(&self, k: u32) -> f64 {
        let d = self.interval_s * self.backoff_rate.powi(i32::try_from(k).unwrap_or(i32::MAX));
        self.max_delay_s.map_or(d, |m| d.min(m))
    }

    /// Does this retrier (or catcher list entry) cover `error`?
    #[must_use]
    pub fn covers(&self, error: &str) -> bool {
        covers(&self.error_equals, error)
    }
}

/// Whether an `ErrorEquals` list covers an error name (`States.ALL` covers every error but
/// `States.Runtime`-class ones, which the simulation never raises).
#[must_use]
pub fn covers(list: &[String], error: &str) -> bool {
    list.iter().any(|e| e == "States.ALL" || e == error)
}

/// One `Catch` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    /// Error names it applies to.
    pub error_equals: Vec<String>,
    /// The state to go to.
    pub next: String,
    /// Where the error output goes in the input (default `$`: it replaces the input).
    pub result_path: Option<JsonPath>,
}

/// A Choice comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `…Equals`.
    Eq,
    /// `…LessThan`.
    Lt,
    /// `…LessThanEquals`.
    Le,
    /// `…GreaterThan`.
    Gt,
    /// `…GreaterThanEquals`.
    Ge,
}

/// What a comparison compares against: a literal or another path of the input (`…Path`).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A literal value.
    Value(Value),
    /// A path into the state input.
    Path(JsonPath),
}

/// One Choice condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `String…` comparisons (lexical, as AWS compares strings).
    Str(JsonPath, Cmp, Operand),
    /// `Numeric…` comparisons.
    Num(JsonPath, Cmp, Operand),
    /// `BooleanEquals` / `BooleanEqualsPath`.
    Bool(JsonPath, Operand),
    /// `StringMatches` with `*` wildcards (`\*` a literal star).
    Matches(JsonPath, String),
    /// `IsPresent`, `IsNull`, `IsNumeric`, `IsString`, `IsBoolean` with the expected answer.
    Is(JsonPath, TypeTest, bool),
    /// `And`.
    And(Vec<Condition>),
    /// `Or`.
    Or(Vec<Condition>),
    /// `Not`.
    Not(Box<Condition>),
}

/// The type tests of a Choice rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    /// `IsPresent`.
    Present,
    /// `IsNull`.
    Null,
    /// `IsNumeric`.
    Numeric,
    /// `IsString`.
    String,
    /// `IsBoolean`.
    Boolean,
}

impl Condition {
    /// Evaluates the condition against a state's (filtered) input.
    #[must_use]
    pub fn eval(&self, input: &Value) -> bool {
        let operand = |o: &Operand| -> Option<Value> {
            match o {
                Operand::Value(v) => Some(v.clone()),
                Operand::Path(p) => p.get(input).cloned(),
            }
        };
        let ord = |c: Cmp, o: std::cmp::Ordering| match c {
            Cmp::Eq => o.is_eq(),
            Cmp::Lt => o.is_lt(),
            Cmp::Le => o.is_le(),
            Cmp::Gt => o.is_gt(),
            Cmp::Ge => o.is_ge(),
        };
        match self {
            Condition::Str(p, c, o) => match (p.get(input), operand(o)) {
                (Some(Value::String(a)), Some(Value::String(b))) => ord(*c, a.as_str().cmp(&b)),
                _ => false,
            },
            Condition::Num(p, c, o) => {
                match (
                    p.get(input).and_then(Value::as_f64),
                    operand(o).and_then(|v| v.as_f64()),
                ) {
                    (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|x| ord(*c, x)),
                    _ => false,
                }
            }
            Condition::Bool(p, o) => match (p.get(input), operand(o)) {
                (Some(Value::Bool(a)), Some(Value::Bool(b))) => *a == b,
                _ => false,
            },
            Condition::Matches(p, pat) => match p.get(input) {
                Some(Value::String(s)) => string_matches(s, pat),
                _ => false,
            },
            Condition::Is(p, t, want) => {
                let v = p.get(input);
                let got = match t {
                    TypeTest::Present => v.is_some(),
                    TypeTest::Null => matches!(v, Some(Value::Null)),
                    TypeTest::Numeric => matches!(v, Some(Value::Number(_))),
                    TypeTest::String => matches!(v, Some(Value::String(_))),
                    TypeTest::Boolean => matches!(v, Some(Value::Bool(_))),
                };
                got == *want
            }
            Condition::And(cs) => cs.iter().all(|c| c.eval(input)),
            Condition::Or(cs) => cs.iter().any(|c| c.eval(input)),
            Condition::Not(c) => !c.eval(input),
        }
    }
}

/// `StringMatches`: `*` matches any run of characters, `\*` a literal `*`, `\\` a backslash.
fn string_matches(s: &str, pattern: &str) -> bool {
    // Split the pattern into literal segments separated by unescaped stars.
    let mut segs: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next()
                    && let Some(x) = segs.last_mut()
                {
                    x.push(n);
                }
            }
            '*' => segs.push(String::new()),
            _ => {
                if let Some(x) = segs.last_mut() {
                    x.push(c);
                }
            }
        }
    }
    if segs.len() == 1 {
        return s == segs[0];
    }
    let (first, rest) = segs.split_first().unwrap_or((&segs[0], &[]));
    let Some(mut tail) = s.strip_prefix(first.as_str()) else {
        return false;
    };
    let (last, middle) = rest.split_last().unwrap_or((&rest[0], &[]));
    for m in middle {
        match tail.find(m.as_str()) {
            Some(i) => tail = &tail[i + m.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last.as_str())
}

/// One Choice rule: a condition and where it leads.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    /// The condition.
    pub condition: Condition,
    /// The state it leads to.
    pub next: String,
}

/// What a Wait state waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    /// `Seconds`.
    Seconds(f64),
    /// `SecondsPath`: a number read from the input.
    SecondsPath(JsonPath),
}

/// What a state is.
#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    /// Calls a function or service.
    Task {
        /// The function or service id the Resource resolves to.
        resource: String,
        /// `TimeoutSeconds`, if set.
        timeout_s: Option<f64>,
    },
    /// Branches on the input.
    Choice {
        /// Rules in order; the first that holds wins.
        choices: Vec<ChoiceRule>,
        /// Where to go when none holds (none: the execution fails with `States.NoChoiceMatched`).
        default: Option<String>,
    },
    /// Waits.
    Wait(WaitFor),
    /// Runs branches at once and waits for all.
    Parallel {
        /// Each branch's machine.
        branches: Vec<Definition>,
    },
    /// Runs a sub-machine for each element of an input array.
    Map {
        /// Where the array is (default `$`).
        items_path: Option<JsonPath>,
        /// At most this many iterations at once (0 = no limit).
        max_concurrency: u32,
        /// The iteration's machine.
        iterator: Box<Definition>,
    },
    /// Passes its input (or `Result`) on.
    Pass {
        /// `Result`, if set.
        result: Option<Value>,
    },
    /// Ends the execution (or branch) successfully.
    Succeed,
    /// Ends the execution (or branch) with an error.
    Fail {
        /// `Error`, if set.
        error: Option<String>,
    },
}

impl StateKind {
    /// The ASL `Type` name.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Task { .. } => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Parallel { .. } => "Parallel",
            StateKind::Map { .. } => "Map",
            StateKind::Pass { .. } => "Pass",
            StateKind::Succeed => "Succeed",
            StateKind::Fail { .. } => "Fail",
        }
    }
}

/// One state.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Its name (the key in `States`).
    pub name: String,
    /// What it does.
    pub kind: StateKind,
    /// The next state (`None` with `end` true, or for Choice/Succeed/Fail).
    pub next: Option<String>,
    /// `End: true`.
    pub end: bool,
    /// `InputPath` (`None`: `$`; `Some(None)`: `null`, an empty object).
    pub input_path: Option<Option<JsonPath>>,
    /// `ResultPath` (`None`: `$`; `Some(None)`: `null`, discard the result).
    pub result_path: Option<Option<JsonPath>>,
    /// `OutputPath` (`None`: `$`; `Some(None)`: `null`, an empty object).
    pub output_path: Option<Option<JsonPath>>,
    /// `Retry`, in order.
    pub retry: Vec<Retrier>,
    /// `Catch`, in order.
    pub catch: Vec<Catcher>,
}

/// A parsed state machine (or a Parallel branch, or a Map iterator).
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The first state's index in `states`.
    pub start: usize,
    /// Every state, in the order the definition lists them.
    pub states: Vec<State>,
    /// Name → index.
    pub by_name: BTreeMap<String, usize>,
    /// The machine's `TimeoutSeconds`, if set.
    pub timeout_s: Option<f64>,
}

/// Largest `MaxAttempts`, `IntervalSeconds`, `MaxDelaySeconds` AWS accepts (99999999).
const ASL_MAX_INT: f64 = 99_999_999.0;

/// Fields each state type may carry (Comment everywhere).
fn allowed_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "Task" => &[
            "Type",
            "Comment",
            "Resource",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Retry",
            "Catch",
            "TimeoutSeconds",
        ],
        "Choice" => &[
            "Type",
            "Comment",
            "Choices",
            "Default",
            "InputPath",
            "OutputPath",
        ],
        "Wait" => &[
            "Type",
            "Comment",
            "Seconds",
            "SecondsPath",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
        ],
        "Parallel" => &[
            "Type",
            "Comment",
            "Branches",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Retry",
            "Catch",
        ],
        "Map" => &[
            "Type",
            "Comment",
            "Iterator",
            "ItemProcessor",
            "ItemsPath",
            "MaxConcurrency",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Retry",
            "Catch",
        ],
        "Pass" => &[
            "Type",
            "Comment",
            "Result",
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
        ],
        "Succeed" => &["Type", "Comment", "InputPath", "OutputPath"],
        "Fail" => &["Type", "Comment", "Error", "Cause"],
        _ => &[],
    }
}

const STATE_TYPES: &[&str] = &[
    "Task", "Choice", "Wait", "Parallel", "Map", "Pass", "Succeed", "Fail",
];

impl Definition {
    /// Parses a definition (`StartAt`, `States`, optional `TimeoutSeconds`, `Comment`,
    /// `Version`), collecting every problem with its path.
    ///
    /// # Errors
    /// Every problem found, each with its path inside the definition.
    pub fn parse(v: &Value) -> Result<Definition, Vec<AslError>> {
        let mut errs = Vec::new();
        let d = parse_machine(v, "", &mut errs);
        match d {
            Some(d) if errs.is_empty() => Ok(d),
            _ => Err(errs),
        }
    }

    /// The state called `name`.
    #[must_use]
    pub fn state(&self, name: &str) -> Option<&State> {
        self.by_name.get(name).map(|&i| &self.states[i])
    }

    /// Indexes of the states reachable from `StartAt` (through `Next`, Choice rules and
    /// `Default`, and `Catch`).
    #[must_use]
    pub fn reachable(&self) -> Vec<bool> {
        let mut seen = vec![false; self.states.len()];
        let mut stack = vec![self.start];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let s = &self.states[i];
            let mut nexts: Vec<&String> = s.next.iter().collect();
            nexts.extend(s.catch.iter().map(|c| &c.next));
            if let StateKind::Choice { choices, default } = &s.kind {
                nexts.extend(choices.iter().map(|c| &c.next));
                nexts.extend(default.iter());
            }
            for n in nexts {
                if let Some(&j) = self.by_name.get(n) {
                    stack.push(j);
                }
            }
        }
        seen
    }

    /// Every Task's resource id in this machine and its branches and iterators, with the
    /// path of its state (`States.Reserve`, `States.Fan.Branches[0].States.Ship`).
    #[must_use]
    pub fn tasks(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.collect_tasks("", &mut out);
        out
    }

    fn collect_tasks(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        for s in &self.states {
            let here = format!("{prefix}States.{}", s.name);
            match &s.kind {
                StateKind::Task { resource, .. } => out.push((here, resource.clone())),
                StateKind::Parallel { branches } => {
                    for (i, b) in branches.iter().enumerate() {
                        b.collect_tasks(&format!("{here}.Branches[{i}]."), out);
                    }
                }
                StateKind::Map { iterator, .. } => {
                    iterator.collect_tasks(&format!("{here}.Iterator."), out);
                }
                _ => {}
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn parse_machine(v: &Value, path: &str, errs: &mut Vec<AslError>) -> Option<Definition> {
    let Value::Object(m) = v else {
        err(
            errs,
            path,
            "a state machine definition is an object with StartAt and States",
        );
        return None;
    };
    for k in m.keys() {
        if ![
            "StartAt",
            "States",
            "TimeoutSeconds",
            "Comment",
            "Version",
            "ProcessorConfig",
        ]
        .contains(&k.as_str())
        {
            err(
                errs,
                &join(path, k),
                format!(
                    "`{k}` is not supported in a state machine definition (supported: StartAt, States, TimeoutSeconds, Comment, Version)"
                ),
            );
        }
    }
    let timeout_s = positive_number(m, "TimeoutSeconds", path, errs);
    let start_at = match m.get("StartAt") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            err(
                errs,
                &join(path, "StartAt"),
                "StartAt is a state name (a string)",
            );
            None
        }
        None => {
            err(errs, path, "missing StartAt");
            None
        }
    };
    let Some(Value::Object(states)) = m.get("States") else {
        err(errs, path, "missing States (an object of named states)");
        return None;
    };
    if states.is_empty() {
        err(errs, &join(path, "States"), "States is empty");
        return None;
    }
    let mut out = Vec::new();
    let mut by_name = BTreeMap::new();
    for (name, sv) in states {
        let sp = join(&join(path, "States"), name);
        if name.chars().count() > 80 {
            err(errs, &sp, "a state name has at most 80 characters");
        }
        if let Some(s) = parse_state(name, sv, &sp, errs) {
            by_name.insert(name.clone(), out.len());
            out.push(s);
        }
    }
    // References between states.
    let known = |n: &str| states.contains_key(n);
    for s in &out {
        let sp = join(&join(path, "States"), &s.name);
        if let Some(n) = &s.next
            && !known(n)
        {
            err(
                errs,
                &join(&sp, "Next"),
                format!("no state is called {n:?}"),
            );
        }
        for (i, c) in s.catch.iter().enumerate() {
            if !known(&c.next) {
                err(
                    errs,
                    &format!("{sp}.Catch[{i}].Next"),
                    format!("no state is called {:?}", c.next),
                );
            }
        }
        if let StateKind::Choice { choices, default } = &s.kind {
            for (i, c) in choices.iter().enumerate() {
                if !known(&c.next) {
                    err(
                        errs,
                        &format!("{sp}.Choices[{i}].Next"),
                        format!("no state is called {:?}", c.next),
                    );
                }
            }
            if let Some(d) = default
                && !known(d)
            {
                err(
                    errs,
                    &join(&sp, "Default"),
                    format!("no state is called {d:?}"),
                );
            }
        }
    }
    let start_at = start_at?;
    let Some(&start) = by_name.get(&start_at) else {
        if states.contains_key(&start_at) {
            return None; // the start state itself had errors, reported above
        }
        err(
            errs,
            &join(path, "StartAt"),
            format!("StartAt names {start_at:?}, which is not in States"),
        );
        return None;
    };
    Some(Definition {
        start,
        states: out,
        by_name,
        timeout_s,
    })
}

fn positive_number(
    m: &Map<String, Value>,
    key: &str,
    path: &str,
    errs: &mut Vec<AslError>,
) -> Option<f64> {
    match m.get(key) {
        None => None,
        Some(Value::Number(n))
            if n.as_f64()
                .is_some_and(|x| (1.0..=ASL_MAX_INT).contains(&x) && x.fract() == 0.0) =>
        {
            n.as_f64()
        }
        Some(_) => {
            err(
                errs,
                &join(path, key),
                format!("{key} is a whole number of seconds from 1 to 99999999"),
            );
            None
        }
    }
}

fn opt_path(
    m: &Map<String, Value>,
    key: &str,
    path: &str,
    errs: &mut Vec<AslError>,
) -> Option<Option<JsonPath>> {
    match m.get(key)? {
        Value::Null => Some(None),
        Value::String(s) => match JsonPath::parse(s) {
            Ok(p) => Some(Some(p)),
            Err(e) => {
                err(errs, &join(path, key), e);
                None
            }
        },
        _ => {
            err(
                errs,
                &join(path, key),
                format!("{key} is a JSONPath string or null"),
            );
            None
        }
    }
}

fn string_list(v: Option<&Value>, path: &str, errs: &mut Vec<AslError>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => {
            err(
                errs,
                path,
                "ErrorEquals is a non-empty array of error names",
            );
            Vec::new()
        }
    }
}

/// Resolves a Task's `Resource` (and `Parameters.FunctionName`) to a component id.
fn task_resource(m: &Map<String, Value>, path: &str, errs: &mut Vec<AslError>) -> Option<String> {
    let Some(Value::String(r)) = m.get("Resource") else {
        err(
            errs,
            path,
            "a Task needs a Resource (a function or service id, or an ARN ending in one)",
        );
        return None;
    };
    let from_params = || {
        m.get("Parameters")
            .and_then(|p| p.get("FunctionName"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let id = if r.starts_with("arn:aws:states:::lambda:invoke") {
        let Some(f) = from_params() else {
            err(
                errs,
                &join(path, "Parameters.FunctionName"),
                "arn:aws:states:::lambda:invoke needs Parameters.FunctionName naming the function",
            );
            return None;
        };
        f
    } else if r.starts_with("arn:aws:states:::") {
        err(
            errs,
            &join(path, "Resource"),
            format!(
                "the service integration {r:?} is not simulated; name a function or service id, an ARN ending in one, or arn:aws:states:::lambda:invoke"
            ),
        );
        return None;
    } else {
        r.clone()
    };
    // `arn:aws:lambda:region:account:function:name[:alias]` or any ARN: its last name part.
    let id = if id.starts_with("arn:") {
        let parts: Vec<&str> = id.split(':').collect();
        match parts.iter().position(|p| *p == "function") {
            Some(i) if i + 1 < parts.len() => parts[i + 1].to_owned(),
            _ => parts.last().map_or(String::new(), |s| (*s).to_owned()),
        }
    } else {
        id
    };
    Some(id)
}

#[allow(clippy::too_many_lines)] // one arm per state type, each short
fn parse_state(name: &str, v: &Value, path: &str, errs: &mut Vec<AslError>) -> Option<State> {
    let Value::Object(m) = v else {
        err(errs, path, "a state is an object with a Type");
        return None;
    };
    let ty = match m.get("Type") {
        Some(Value::String(t)) if STATE_TYPES.contains(&t.as_str()) => t.as_str(),
        Some(Value::String(t)) => {
            err(
                errs,
                &join(path, "Type"),
                format!(
                    "state {name:?}: Type {t:?} is not supported (supported: {})",
                    STATE_TYPES.join(", ")
                ),
            );
            return None;
        }
        _ => {
            err(errs, path, format!("state {name:?} has no Type"));
            return None;
        }
    };
    let before = errs.len();
    let allowed = allowed_fields(ty);
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            err(
                errs,
                &join(path, k),
                format!("state {name:?} ({ty}): field `{k}` is not supported"),
            );
        }
    }
    let next = match m.get("Next") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            err(errs, &join(path, "Next"), "Next is a state name");
            None
        }
        None => None,
    };
    let end = matches!(m.get("End"), Some(Value::Bool(true)));
    if let Some(e) = m.get("End")
        && !e.is_boolean()
    {
        err(errs, &join(path, "End"), "End is true or false");
    }
    let terminal_by_type = matches!(ty, "Choice" | "Succeed" | "Fail");
    if !terminal_by_type {
        if next.is_some() && end {
            err(errs, path, format!("state {name:?} has both Next and End"));
        } else if next.is_none() && !end {
            err(
                errs,
                path,
                format!("state {name:?} needs Next or \"End\": true"),
            );
        }
    }
    let input_path = opt_path(m, "InputPath", path, errs);
    let output_path = opt_path(m, "OutputPath", path, errs);
    let result_path = opt_path(m, "ResultPath", path, errs);

    let mut retry = Vec::new();
    if let Some(r) = m.get("Retry") {
        let Value::Array(items) = r else {
            err(errs, &join(path, "Retry"), "Retry is an array of retriers");
            return None;
        };
        for (i, item) in items.iter().enumerate() {
            let rp = format!("{path}.Retry[{i}]");
            if let Some(x) = parse_retrier(item, &rp, errs) {
                retry.push(x);
            }
        }
        check_all_last(
            retry.iter().map(|r| r.error_equals.as_slice()),
            &join(path, "Retry"),
            errs,
        );
    }
    let mut catch = Vec::new();
    if let Some(c) = m.get("Catch") {
        let Value::Array(items) = c else {
            err(errs, &join(path, "Catch"), "Catch is an array of catchers");
            return None;
        };
        for (i, item) in items.iter().enumerate() {
            let cp = format!("{path}.Catch[{i}]");
            let Value::Object(cm) = item else {
                err(
                    errs,
                    &cp,
                    "a catcher is an object with ErrorEquals and Next",
                );
                continue;
            };
            for k in cm.keys() {
                if !["ErrorEquals", "Next", "ResultPath", "Comment"].contains(&k.as_str()) {
                    err(
                        errs,
                        &join(&cp, k),
                        format!("state {name:?}: catcher field `{k}` is not supported"),
                    );
                }
            }
            let error_equals = string_list(cm.get("ErrorEquals"), &join(&cp, "ErrorEquals"), errs);
            let Some(Value::String(n)) = cm.get("Next") else {
                err(errs, &cp, "a catcher needs Next");
                continue;
            };
            let result_path = opt_path(cm, "ResultPath", &cp, errs).flatten();
            catch.push(Catcher {
                error_equals,
                next: n.clone(),
                result_path,
            });
        }
        check_all_last(
            catch.iter().map(|c| c.error_equals.as_slice()),
            &join(path, "Catch"),
            errs,
        );
    }

    let kind = match ty {
        "Task" => {
            let resource = task_resource(m, path, errs)?;
            let timeout_s = positive_number(m, "TimeoutSeconds", path, errs);
            StateKind::Task {
                resource,
                timeout_s,
            }
        }
        "Choice" => {
            let Some(Value::Array(items)) = m.get("Choices") else {
                err(
                    errs,
                    path,
                    format!("Choice state {name:?} needs a non-empty Choices array"),
                );
                return None;
            };
            if items.is_empty() {
                err(errs, &join(path, "Choices"), "Choices is empty");
            }
            let mut choices = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let cp = format!("{path}.Choices[{i}]");
                let Some(Value::String(n)) = item.get("Next") else {
                    err(errs, &cp, "a top-level choice rule needs Next");
                    continue;
                };
                if let Some(condition) = parse_condition(item, &cp, true, errs) {
                    choices.push(ChoiceRule {
                        condition,
                        next: n.clone(),
                    });
                }
            }
            let default = match m.get("Default") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    err(errs, &join(path, "Default"), "Default is a state name");
                    None
                }
                None => None,
            };
            StateKind::Choice { choices, default }
        }
        "Wait" => match (m.get("Seconds"), m.get("SecondsPath")) {
            (Some(Value::Number(n)), None) if n.as_f64().is_some_and(|x| x >= 0.0) => {
                StateKind::Wait(WaitFor::Seconds(n.as_f64().unwrap_or(0.0)))
            }
            (None, Some(Value::String(p))) => match JsonPath::parse(p) {
                Ok(p) => StateKind::Wait(WaitFor::SecondsPath(p)),
                Err(e) => {
                    err(errs, &join(path, "SecondsPath"), e);
                    return None;
                }
            },
            _ => {
                err(
                    errs,
                    path,
                    format!(
                        "Wait state {name:?} needs exactly one of Seconds (a non-negative number) or SecondsPath (Timestamp and TimestampPath are not supported)"
                    ),
                );
                return None;
            }
        },
        "Parallel" => {
            let Some(Value::Array(items)) = m.get("Branches") else {
                err(
                    errs,
                    path,
                    format!("Parallel state {name:?} needs a Branches array"),
                );
                return None;
            };
            if items.is_empty() {
                err(errs, &join(path, "Branches"), "Branches is empty");
            }
            let branches = items
                .iter()
                .enumerate()
                .filter_map(|(i, b)| parse_machine(b, &format!("{path}.Branches[{i}]"), errs))
                .collect();
            StateKind::Parallel { branches }
        }
        "Map" => {
            let (key, it) = match (m.get("Iterator"), m.get("ItemProcessor")) {
                (Some(i), None) => ("Iterator", i),
                (None, Some(i)) => ("ItemProcessor", i),
                _ => {
                    err(
                        errs,
                        path,
                        format!("Map state {name:?} needs one Iterator or ItemProcessor"),
                    );
                    return None;
                }
            };
            if let Some(mode) = it
                .get("ProcessorConfig")
                .and_then(|c| c.get("Mode"))
                .and_then(Value::as_str)
                && mode != "INLINE"
            {
                err(
                    errs,
                    &format!("{path}.{key}.ProcessorConfig.Mode"),
                    format!(
                        "Map state {name:?}: Mode {mode:?} (a distributed map) is not supported; use INLINE"
                    ),
                );
            }
            let iterator = parse_machine(it, &join(path, key), errs)?;
            let items_path = opt_path(m, "ItemsPath", path, errs).flatten();
            let max_concurrency = match m.get("MaxConcurrency") {
                None => 0,
                Some(Value::Number(n)) if n.as_u64().is_some() => {
                    u32::try_from(n.as_u64().unwrap_or(0)).unwrap_or(u32::MAX)
                }
                Some(_) => {
                    err(
                        errs,
                        &join(path, "MaxConcurrency"),
                        "MaxConcurrency is a whole number (0 = no limit)",
                    );
                    0
                }
            };
            StateKind::Map {
                items_path,
                max_concurrency,
                iterator: Box::new(iterator),
            }
        }
        "Pass" => StateKind::Pass {
            result: m.get("Result").cloned(),
        },
        "Succeed" => StateKind::Succeed,
        "Fail" => StateKind::Fail {
            error: m.get("Error").and_then(Value::as_str).map(str::to_owned),
        },
        _ => return None,
    };
    if errs.len() > before {
        return None;
    }
    Some(State {
        name: name.to_owned(),
        kind,
        next,
        end,
        input_path,
        result_path,
        output_path,
        retry,
        catch,
    })
}

/// `States.ALL` must appear alone in its `ErrorEquals` and in the last retrier or catcher.
fn check_all_last<'a>(
    lists: impl Iterator<Item = &'a [String]>,
    path: &str,
    errs: &mut Vec<AslError>,
) {
    let lists: Vec<&[String]> = lists.collect();
    for (i, l) in lists.iter().enumerate() {
        if l.iter().any(|e| e == "States.ALL") && (l.len() > 1 || i + 1 < lists.len()) {
            err(
                errs,
                &format!("{path}[{i}].ErrorEquals"),
                "States.ALL must appear alone, in the last entry",
            );
        }
    }
}

fn parse_retrier(v: &Value, path: &str, errs: &mut Vec<AslError>) -> Option<Retrier> {
    let Value::Object(m) = v else {
        err(errs, path, "a retrier is an object with ErrorEquals");
        return None;
    };
    for k in m.keys() {
        if ![
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
            "Comment",
        ]
        .contains(&k.as_str())
        {
            err(
                errs,
                &join(path, k),
                format!("retrier field `{k}` is not supported"),
            );
        }
    }
    let error_equals = string_list(m.get("ErrorEquals"), &join(path, "ErrorEquals"), errs);
    let interval_s =
        positive_number(m, "IntervalSeconds", path, errs).unwrap_or(DEFAULT_INTERVAL_S);
    let max_attempts = match m.get("MaxAttempts") {
        None => DEFAULT_MAX_ATTEMPTS,
        Some(Value::Number(n)) if n.as_u64().is_some_and(|x| x <= 99_999_999) => {
            u32::try_from(n.as_u64().unwrap_or(0)).unwrap_or(0)
        }
        Some(_) => {
            err(
                errs,
                &join(path, "MaxAttempts"),
                "MaxAttempts is a whole number from 0 to 99999999",
            );
            0
        }
    };
    let backoff_rate = match m.get("BackoffRate") {
        None => DEFAULT_BACKOFF_RATE,
        Some(Value::Number(n)) if n.as_f64().is_some_and(|x| x >= 1.0) => n.as_f64().unwrap_or(1.0),
        Some(_) => {
            err(
                errs,
                &join(path, "BackoffRate"),
                "BackoffRate is a number of at least 1.0",
            );
            1.0
        }
    };
    let max_delay_s = positive_number(m, "MaxDelaySeconds", path, errs);
    let full_jitter = match m.get("JitterStrategy") {
        None => false,
        Some(Value::String(s)) if s == "FULL" => true,
        Some(Value::String(s)) if s == "NONE" => false,
        Some(_) => {
            err(
                errs,
                &join(path, "JitterStrategy"),
                "JitterStrategy is \"FULL\" or \"NONE\"",
            );
            false
        }
    };
    Some(Retrier {
        error_equals,
        interval_s,
        max_attempts,
        backoff_rate,
        max_delay_s,
        full_jitter,
    })
}

const COMPARISONS: &[(&str, Cmp)] = &[
    ("Equals", Cmp::Eq),
    ("LessThan", Cmp::Lt),
    ("LessThanEquals", Cmp::Le),
    ("GreaterThan", Cmp::Gt),
    ("GreaterThanEquals", Cmp::Ge),
];

fn parse_condition(
    v: &Value,
    path: &str,
    top: bool,
    errs: &mut Vec<AslError>,
) -> Option<Condition> {
    let Value::Object(m) = v else {
        err(errs, path, "a choice rule is an object");
        return None;
    };
    let mut ops: Vec<&String> = m
        .keys()
        .filter(|k| !["Next", "Comment", "Variable"].contains(&k.as_str()))
        .collect();
    if ops.len() != 1 {
        err(
            errs,
            path,
            format!(
                "a choice rule has exactly one comparison or And/Or/Not, found {}",
                ops.len()
            ),
        );
        return None;
    }
    let op = ops.remove(0).as_str();
    let arg = &m[op];
    let here = join(path, op);
    if !top && m.contains_key("Next") {
        err(
            errs,
            &join(path, "Next"),
            "only top-level choice rules have Next",
        );
    }
    let sub = |errs: &mut Vec<AslError>| -> Option<Vec<Condition>> {
        let Value::Array(items) = arg else {
            err(
                errs,
                &here,
                format!("{op} takes a non-empty array of rules"),
            );
            return None;
        };
        if items.is_empty() {
            err(
                errs,
                &here,
                format!("{op} takes a non-empty array of rules"),
            );
            return None;
        }
        items
            .iter()
            .enumerate()
            .map(|(i, x)| parse_condition(x, &format!("{here}[{i}]"), false, errs))
            .collect()
    };
    match op {
        "And" => return sub(errs).map(Condition::And),
        "Or" => return sub(errs).map(Condition::Or),
        "Not" => {
            return parse_condition(arg, &here, false, errs).map(|c| Condition::Not(Box::new(c)));
        }
        _ => {}
    }
    let Some(Value::String(var_text)) = m.get("Variable") else {
        err(errs, path, format!("{op} needs a Variable (a JSONPath)"));
        return None;
    };
    let var = match JsonPath::parse(var_text) {
        Ok(p) => p,
        Err(e) => {
            err(errs, &join(path, "Variable"), e);
            return None;
        }
    };
    let is = |t: TypeTest, errs: &mut Vec<AslError>| {
        if let Value::Bool(b) = arg {
            Some(Condition::Is(var.clone(), t, *b))
        } else {
            err(errs, &here, format!("{op} takes true or false"));
            None
        }
    };
    match op {
        "IsPresent" => return is(TypeTest::Present, errs),
        "IsNull" => return is(TypeTest::Null, errs),
        "IsNumeric" => return is(TypeTest::Numeric, errs),
        "IsString" => return is(TypeTest::String, errs),
        "IsBoolean" => return is(TypeTest::Boolean, errs),
        "StringMatches" => {
            if let Value::String(s) = arg {
                return Some(Condition::Matches(var, s.clone()));
            }
            err(errs, &here, "StringMatches takes a string pattern");
            return None;
        }
        _ => {}
    }
    let (base, is_path) = match op.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (op, false),
    };
    let operand = if is_path {
        match arg.as_str().map(JsonPath::parse) {
            Some(Ok(p)) => Operand::Path(p),
            Some(Err(e)) => {
                err(errs, &here, e);
                return None;
            }
            None => {
                err(errs, &here, format!("{op} takes a JSONPath string"));
                return None;
            }
        }
    } else {
        Operand::Value(arg.clone())
    };
    let lit_ok = |want: fn(&Value) -> bool| is_path || want(arg);
    if let Some(rest) = base.strip_prefix("String")
        && let Some(&(_, c)) = COMPARISONS.iter().find(|(n, _)| *n == rest)
    {
        if !lit_ok(Value::is_string) {
            err(errs, &here, format!("{op} compares with a string"));
            return None;
        }
        return Some(Condition::Str(var, c, operand));
    }
    if let Some(rest) = base.strip_prefix("Numeric")
        && let Some(&(_, c)) = COMPARISONS.iter().find(|(n, _)| *n == rest)
    {
        if !lit_ok(Value::is_number) {
            err(errs, &here, format!("{op} compares with a number"));
            return None;
        }
        return Some(Condition::Num(var, c, operand));
    }
    if base == "BooleanEquals" {
        if !lit_ok(Value::is_boolean) {
            err(errs, &here, format!("{op} compares with true or false"));
            return None;
        }
        return Some(Condition::Bool(var, operand));
    }
    let what = if base.starts_with("Timestamp") || op == "IsTimestamp" {
        "timestamp comparisons are not supported"
    } else {
        "unknown comparison operator"
    };
    err(errs, &here, format!("choice rule `{op}`: {what}"));
    None
}

#[cfg(test)]
#[path = "asl_tests.rs"]
mod tests;
