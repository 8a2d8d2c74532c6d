//! The first validation pass: the raw JSON of a scenario against the JSON Schema generated from
//! the model types ([`crate::model::json_schema`], schemars), collecting every problem at once,
//! each with its JSON path and in the user's words ("concurrency must be a whole number from 1
//! to 10,000, got -3"). The meaning (references, combinations, lints) is checked afterwards, by
//! `validate.rs` on the typed scenario.
//!
//! Because the schema is generated from the types, a field added to the model is checked here
//! with no change to this file.
//!
//! A validator of our own rather than a general crate (`jsonschema`): schemars emits a small
//! subset of draft 2020-12 ([`KEYWORDS`]; a unit test fails if the generated schema ever uses
//! another), and what this pass is for is its words — a whole-number range, one line for an
//! unknown enum value with a "did you mean", unknown fields with a hint — which a general
//! validator's messages ("-3 is less than the minimum of 1", JSON pointers) would have to be
//! parsed back from. `jsonschema` with its default features off still builds some twenty crates
//! (fancy-regex, referencing, …) for keywords eventflow never emits; the one keyword that needs
//! an engine, `pattern`, uses `regex-lite`.
//!
//! `oneOf` is read as `anyOf`: schemars writes `oneOf` for serde enums, whose branches exclude
//! each other (unit variants as `const`s, externally tagged variants by their single key), and
//! serde itself takes the first branch that reads.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex_lite::Regex;
use serde_json::{Map, Value};

use super::problem::Problem;
use crate::names::did_you_mean;

/// The validation keywords this pass applies: everything schemars emits for eventflow's types.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "the unit test keeps the generated schema within these"
    )
)]
pub const KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "const",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "anyOf",
    "oneOf",
    "allOf",
];

/// Keywords that say something to a reader or an editor and nothing to validation.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "the unit test keeps the generated schema within these"
    )
)]
pub const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$defs",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// The most unknown fields of one object listed one by one; the rest are one problem that
/// counts them (a file of 5,000 misspelt keys still gives a readable list).
pub const MAX_UNKNOWN_LISTED: usize = 64;

/// How many of the unlisted unknown fields the summary names.
const SUMMARY_NAMES: usize = 20;

/// The scenario schema, generated once per process.
fn scenario_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(crate::model::json_schema)
}

/// Every problem of `value` against the scenario schema, in document order.
#[must_use]
pub fn check(value: &Value) -> Vec<Problem> {
    check_against(value, scenario_schema())
}

/// Every problem of `value` against `schema` (a root with its `$defs`).
#[must_use]
pub fn check_against(value: &Value, schema: &Value) -> Vec<Problem> {
    let mut v = Validator {
        root: schema,
        regexes: BTreeMap::new(),
    };
    let mut out = Vec::new();
    v.check(value, schema, "", &mut out);
    out
}

struct Validator<'s> {
    root: &'s Value,
    /// Compiled `pattern`s (`None`: a pattern this engine cannot read, not applied).
    regexes: BTreeMap<&'s str, Option<Regex>>,
}

impl<'s> Validator<'s> {
    /// `#/$defs/Name` → its schema.
    fn resolve(&self, reference: &str) -> Option<&'s Value> {
        let name = reference.strip_prefix("#/$defs/")?;
        self.root.get("$defs")?.get(name)
    }

    fn check(&mut self, value: &Value, schema: &'s Value, path: &str, out: &mut Vec<Problem>) {
        let Some(s) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                out.push(Problem::error(
                    path,
                    format!("{} is not allowed here", subject(path)),
                ));
            }
            return;
        };
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
        {
            self.check_def(value, target, path, out);
        }
        for branches in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = s.get(branches) {
                self.alternatives(value, branches, path, out);
            }
        }
        if let Some(Value::Array(all)) = s.get("allOf") {
            for branch in all {
                self.check(value, branch, path, out);
            }
        }
        if let Some(types) = s.get("type")
            && !type_admits(types, value)
        {
            out.push(mismatch(path, &words(s), value));
            return;
        }
        if !self.scalar(value, s, path, out) {
            return;
        }
        match value {
            Value::Object(o) => self.object(o, s, path, out),
            Value::Array(a) => self.array(a, s, path, out),
            _ => {}
        }
    }

    /// A `$ref`'d definition. A scalar definition with a description (a duration) that the value
    /// does not fit at all is one problem in the description's words.
    fn check_def(&mut self, value: &Value, def: &'s Value, path: &str, out: &mut Vec<Problem>) {
        let mut inner = Vec::new();
        self.check(value, def, path, &mut inner);
        let whole = !inner.is_empty() && inner.iter().all(|p| p.path == path);
        match def_words(def) {
            Some(description) if whole && is_scalar_schema(def) => {
                out.push(mismatch(path, &description, value));
            }
            _ => out.extend(inner),
        }
    }

    /// `anyOf` / `oneOf`: fine if one branch accepts the value; else the problems of the branch
    /// the value was evidently meant for, or one problem naming what would do.
    fn alternatives(
        &mut self,
        value: &Value,
        branches: &'s [Value],
        path: &str,
        out: &mut Vec<Problem>,
    ) {
        let is_null_branch = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
        if value.is_null() && branches.iter().any(is_null_branch) {
            return;
        }
        let live: Vec<&'s Value> = branches.iter().filter(|b| !is_null_branch(b)).collect();
        let mut tried: Vec<Vec<Problem>> = Vec::new();
        for branch in &live {
            let mut problems = Vec::new();
            self.check(value, branch, path, &mut problems);
            if problems.is_empty() {
                return;
            }
            tried.push(problems);
        }
        if live.is_empty() {
            out.push(mismatch(path, "null", value));
            return;
        }
        // Unit variants of an enum: one line listing the values.
        let consts: Vec<&str> = live
            .iter()
            .filter_map(|b| b.get("const").and_then(Value::as_str))
            .collect();
        if consts.len() == live.len() {
            let list = consts
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let hint = value
                .as_str()
                .and_then(|v| did_you_mean(v, consts.iter().copied()));
            out.push(mismatch(path, &format!("one of {list}"), value).hint(hint));
            return;
        }
        // Externally tagged variants: the object's key says which one was meant.
        let tags: Vec<Option<&str>> = live.iter().map(|b| single_tag(b)).collect();
        if tags.iter().all(Option::is_some) {
            let tags: Vec<&str> = tags.into_iter().flatten().collect();
            if let Value::Object(o) = value
                && let Some(i) = tags.iter().position(|t| o.contains_key(*t))
            {
                out.append(&mut tried[i]);
                return;
            }
            let list = tags
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let hint = match value {
                Value::Object(o) => o.keys().find_map(|k| did_you_mean(k, tags.iter().copied())),
                _ => None,
            };
            out.push(
                mismatch(
                    path,
                    &format!("an object with one of the keys {list}"),
                    value,
                )
                .hint(hint),
            );
            return;
        }
        // Otherwise the branches whose type fits the value: if one, its problems.
        let fitting: Vec<usize> = (0..live.len())
            .filter(|&i| live[i].get("type").is_none_or(|t| type_admits(t, value)))
            .collect();
        if fitting.is_empty() {
            let alternatives: Vec<String> = live.iter().map(|b| branch_words(self, b)).collect();
            out.push(mismatch(path, &alternatives.join(" or "), value));
            return;
        }
        let best = fitting
            .into_iter()
            .min_by_key(|&i| tried[i].len())
            .unwrap_or(0);
        out.append(&mut tried[best]);
    }

    /// Numbers, strings and constants. False if the value was wrong (nothing more to say).
    fn scalar(
        &mut self,
        value: &Value,
        s: &'s Map<String, Value>,
        path: &str,
        out: &mut Vec<Problem>,
    ) -> bool {
        if let Some(c) = s.get("const")
            && c != value
        {
            out.push(mismatch(path, &found(c), value));
            return false;
        }
        if let Some(Value::Array(allowed)) = s.get("enum")
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(found).collect();
            out.push(mismatch(
                path,
                &format!("one of {}", list.join(", ")),
                value,
            ));
            return false;
        }
        match value {
            Value::Number(n) => {
                let ok = if is_integer(n) && wants_integer(s) {
                    let (lo, hi) = integer_bounds(s);
                    integer(n).is_some_and(|v| lo <= v && v <= hi)
                } else {
                    let (lo, hi) = number_bounds(s);
                    n.as_f64()
                        .is_some_and(|v| lo.admits(v, false) && hi.admits(v, true))
                };
                if !ok {
                    out.push(mismatch(path, &words(s), value));
                    return false;
                }
            }
            Value::String(text) => {
                let chars = text.chars().count() as u64;
                let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0);
                let max = s
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .unwrap_or(u64::MAX);
                if chars < min || chars > max {
                    out.push(mismatch(
                        path,
                        &format!("a string of {} characters", span(min, max)),
                        value,
                    ));
                    return false;
                }
                if let Some(pattern) = s.get("pattern").and_then(Value::as_str) {
                    let re = self
                        .regexes
                        .entry(pattern)
                        .or_insert_with(|| Regex::new(pattern).ok());
                    if re.as_ref().is_some_and(|re| !re.is_match(text)) {
                        out.push(mismatch(
                            path,
                            &format!("a string of the form {pattern}"),
                            value,
                        ));
                        return false;
                    }
                }
            }
            _ => {}
        }
        true
    }

    fn object(
        &mut self,
        o: &Map<String, Value>,
        s: &'s Map<String, Value>,
        path: &str,
        out: &mut Vec<Problem>,
    ) {
        let properties = s.get("properties").and_then(Value::as_object);
        let additional = s.get("additionalProperties");
        let mut unknown: Vec<&str> = Vec::new();
        for (key, v) in o {
            let at = join(path, key);
            if let Some(p) = properties.and_then(|p| p.get(key)) {
                self.check(v, p, &at, out);
                continue;
            }
            match additional {
                Some(Value::Bool(false)) => {
                    unknown.push(key);
                    if unknown.len() <= MAX_UNKNOWN_LISTED {
                        let names = properties
                            .into_iter()
                            .flat_map(Map::keys)
                            .map(String::as_str);
                        let hint = did_you_mean(key, names.clone()).or_else(|| {
                            Some(format!(
                                "expected one of: {}",
                                names.collect::<Vec<_>>().join(", ")
                            ))
                        });
                        out.push(Problem::error(at, format!("unknown field `{key}`")).hint(hint));
                    }
                }
                Some(extra @ Value::Object(_)) => self.check(v, extra, &at, out),
                _ => {}
            }
        }
        if unknown.len() > MAX_UNKNOWN_LISTED {
            let rest = &unknown[MAX_UNKNOWN_LISTED..];
            let mut names: Vec<String> = rest
                .iter()
                .take(SUMMARY_NAMES)
                .map(|k| format!("`{k}`"))
                .collect();
            if rest.len() > SUMMARY_NAMES {
                names.push("…".into());
            }
            out.push(Problem::error(
                path,
                format!(
                    "{} more unknown field{} (of {} here): {}",
                    rest.len(),
                    if rest.len() == 1 { "" } else { "s" },
                    unknown.len(),
                    names.join(", ")
                ),
            ));
        }
        if let Some(Value::Array(required)) = s.get("required") {
            for field in required.iter().filter_map(Value::as_str) {
                if !o.contains_key(field) {
                    out.push(Problem::error(
                        join(path, field),
                        format!("missing field `{field}`"),
                    ));
                }
            }
        }
    }

    fn array(
        &mut self,
        a: &[Value],
        s: &'s Map<String, Value>,
        path: &str,
        out: &mut Vec<Problem>,
    ) {
        let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = s
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        let n = a.len() as u64;
        if n < min || n > max {
            let what = if min == 2 && max == 2 {
                "an array of two values, [x, y]".to_owned()
            } else {
                format!("an array of {} items", span(min, max))
            };
            out.push(Problem::error(
                path,
                format!(
                    "{} must be {what}, got {n} item{}",
                    subject(path),
                    if n == 1 { "" } else { "s" }
                ),
            ));
            return;
        }
        let prefix = match s.get("prefixItems") {
            Some(Value::Array(p)) => p.as_slice(),
            _ => &[],
        };
        for (i, item) in a.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if let Some(p) = prefix.get(i) {
                self.check(item, p, &at, out);
            } else if let Some(items) = s.get("items") {
                self.check(item, items, &at, out);
            }
        }
    }
}

/// `a.b` (or `b` at the root).
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// What a message calls the value at `path`: its field name (`concurrency`), its item
/// (`schedule[2]`), or the scenario itself.
fn subject(path: &str) -> &str {
    if path.is_empty() {
        return "the scenario";
    }
    path.rsplit('.').next().unwrap_or(path)
}

/// "`subject` must be `expected`, got `value`".
fn mismatch(path: &str, expected: &str, value: &Value) -> Problem {
    Problem::error(
        path,
        format!("{} must be {expected}, got {}", subject(path), found(value)),
    )
}

/// The value in words: itself when short, else its JSON type.
fn found(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let mut short: String = s.chars().take(40).collect();
            if s.chars().count() > 40 {
                short.push('…');
            }
            format!("\"{short}\"")
        }
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn type_names(types: &Value) -> Vec<&str> {
    match types {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn type_admits(types: &Value, value: &Value) -> bool {
    type_names(types).into_iter().any(|t| match (t, value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("string", Value::String(_))
        | ("array", Value::Array(_))
        | ("object", Value::Object(_))
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(n)) => is_integer(n),
        _ => false,
    })
}

/// A whole number as JSON writes one (`3`, not `3.0`: serde reads no float into an integer).
fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64()
}

fn integer(n: &serde_json::Number) -> Option<i128> {
    n.as_u64()
        .map(i128::from)
        .or_else(|| n.as_i64().map(i128::from))
}

fn wants_integer(s: &Map<String, Value>) -> bool {
    s.get("type")
        .is_some_and(|t| type_names(t).contains(&"integer"))
}

/// The range of an integer schema: `minimum` and `maximum` within its `format`'s.
fn integer_bounds(s: &Map<String, Value>) -> (i128, i128) {
    let (mut lo, mut hi) = match s.get("format").and_then(Value::as_str) {
        Some("uint8") => (0, i128::from(u8::MAX)),
        Some("uint16") => (0, i128::from(u16::MAX)),
        Some("uint32") => (0, i128::from(u32::MAX)),
        Some("uint64" | "uint") => (0, i128::from(u64::MAX)),
        Some("int8") => (i128::from(i8::MIN), i128::from(i8::MAX)),
        Some("int16") => (i128::from(i16::MIN), i128::from(i16::MAX)),
        Some("int32") => (i128::from(i32::MIN), i128::from(i32::MAX)),
        _ => (i128::from(i64::MIN), i128::from(u64::MAX)),
    };
    // Bounds are whole numbers in eventflow's schema; a fractional one rounds inwards.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "clamped to the format's range"
    )]
    let whole = |v: f64| v as i128;
    if let Some(m) = s.get("minimum").and_then(Value::as_f64) {
        lo = lo.max(whole(m.ceil()));
    }
    if let Some(m) = s.get("exclusiveMinimum").and_then(Value::as_f64) {
        lo = lo.max(whole(m.floor()) + 1);
    }
    if let Some(m) = s.get("maximum").and_then(Value::as_f64) {
        hi = hi.min(whole(m.floor()));
    }
    if let Some(m) = s.get("exclusiveMaximum").and_then(Value::as_f64) {
        hi = hi.min(whole(m.ceil()) - 1);
    }
    (lo, hi)
}

/// One end of a number range.
#[derive(Clone, Copy)]
struct End {
    value: f64,
    exclusive: bool,
}

impl End {
    /// Is `v` on the right side of this end (`upper`: at or below it)?
    fn admits(self, v: f64, upper: bool) -> bool {
        match (upper, self.exclusive) {
            (false, false) => v >= self.value,
            (false, true) => v > self.value,
            (true, false) => v <= self.value,
            (true, true) => v < self.value,
        }
    }
}

fn number_bounds(s: &Map<String, Value>) -> (End, End) {
    let f32_max = f64::from(f32::MAX);
    let (mut lo, mut hi) = match s.get("format").and_then(Value::as_str) {
        Some("float") => (-f32_max, f32_max),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let (mut lo_x, mut hi_x) = (false, false);
    if let Some(m) = s.get("minimum").and_then(Value::as_f64) {
        lo = lo.max(m);
    }
    if let Some(m) = s.get("exclusiveMinimum").and_then(Value::as_f64)
        && m >= lo
    {
        (lo, lo_x) = (m, true);
    }
    if let Some(m) = s.get("maximum").and_then(Value::as_f64) {
        hi = hi.min(m);
    }
    if let Some(m) = s.get("exclusiveMaximum").and_then(Value::as_f64)
        && m <= hi
    {
        (hi, hi_x) = (m, true);
    }
    (
        End {
            value: lo,
            exclusive: lo_x,
        },
        End {
            value: hi,
            exclusive: hi_x,
        },
    )
}

/// `1,000,000` for 1000000.
fn grouped(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation, reason = "a whole number below 1e15")]
        let whole = v as i128;
        grouped(whole)
    } else if (1e-6..1e15).contains(&v.abs()) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// "from 2 to 2", "at least 1", "at most 8" (counts).
fn span(min: u64, max: u64) -> String {
    match (min, max) {
        (lo, hi) if lo == hi => format!("exactly {lo}"),
        (0, hi) => format!("at most {hi}"),
        (lo, u64::MAX) => format!("at least {lo}"),
        (lo, hi) => format!("{lo} to {hi}"),
    }
}

/// What a schema wants, in words ("a whole number from 1 to 10,000", "a string or null").
fn words(s: &Map<String, Value>) -> String {
    let Some(types) = s.get("type") else {
        return "a value of the right kind".into();
    };
    let names = type_names(types);
    let shown: Vec<&str> = if names.len() > 1 {
        names.iter().copied().filter(|t| *t != "null").collect()
    } else {
        names
    };
    let mut out: Vec<String> = shown
        .into_iter()
        .map(|t| match t {
            "integer" => {
                let (lo, hi) = integer_bounds(s);
                if hi >= i128::from(u64::MAX) {
                    format!("a whole number ≥ {}", grouped(lo))
                } else {
                    format!("a whole number from {} to {}", grouped(lo), grouped(hi))
                }
            }
            "number" => {
                let (lo, hi) = number_bounds(s);
                let ge = if lo.exclusive { ">" } else { "≥" };
                let le = if hi.exclusive { "<" } else { "≤" };
                match (lo.value.is_finite(), hi.value.is_finite()) {
                    (true, true) if !lo.exclusive && !hi.exclusive => format!(
                        "a number from {} to {}",
                        number_text(lo.value),
                        number_text(hi.value)
                    ),
                    (true, true) => format!(
                        "a number {ge} {} and {le} {}",
                        number_text(lo.value),
                        number_text(hi.value)
                    ),
                    (true, false) => format!("a number {ge} {}", number_text(lo.value)),
                    (false, true) => format!("a number {le} {}", number_text(hi.value)),
                    (false, false) => "a number".into(),
                }
            }
            "string" => "a string".into(),
            "boolean" => "true or false".into(),
            "array" => "an array [ … ]".into(),
            "object" => "an object { … }".into(),
            "null" => "null".into(),
            other => other.to_owned(),
        })
        .collect();
    out.dedup();
    out.join(" or ")
}

/// What one branch of an `anyOf` wants, in words.
fn branch_words(v: &Validator<'_>, branch: &Value) -> String {
    let target = branch
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| v.resolve(r))
        .unwrap_or(branch);
    if let Some(description) = def_words(target).filter(|_| is_scalar_schema(target)) {
        return description;
    }
    target
        .as_object()
        .map_or_else(|| "a value of the right kind".into(), words)
}

/// A definition's description as the words of "must be …": its first sentence, when it is
/// written as a noun phrase ("A duration: a string with a unit … or a number of seconds.").
fn def_words(def: &Value) -> Option<String> {
    let d = def.get("description")?.as_str()?;
    let first = d.lines().next()?.trim().trim_end_matches('.');
    let rest = first
        .strip_prefix("A ")
        .map(|r| format!("a {r}"))
        .or_else(|| first.strip_prefix("An ").map(|r| format!("an {r}")))?;
    Some(rest)
}

fn is_object_schema(s: &Value) -> bool {
    s.get("type")
        .is_some_and(|t| type_names(t).contains(&"object"))
}

/// Does the schema take only scalars (strings, numbers, …: a duration), in every branch?
fn is_scalar_schema(s: &Value) -> bool {
    if let Some(t) = s.get("type") {
        return !type_names(t)
            .iter()
            .any(|t| matches!(*t, "object" | "array"));
    }
    ["anyOf", "oneOf"].iter().any(|k| {
        s.get(*k)
            .and_then(Value::as_array)
            .is_some_and(|bs| !bs.is_empty() && bs.iter().all(is_scalar_schema))
    })
}

/// An externally tagged enum variant (`{ "constant": … }`): its one required key.
fn single_tag(branch: &Value) -> Option<&str> {
    match branch.get("required")?.as_array()?.as_slice() {
        [Value::String(tag)] if is_object_schema(branch) => {
            let properties = branch.get("properties")?.as_object()?;
            (properties.len() == 1).then_some(tag.as_str())
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
