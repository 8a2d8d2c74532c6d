//! Amazon SNS subscription filter policies: parser, validator and matcher.
//!
//! A filter policy looks like an `EventBridge` pattern but is its own language, with its own
//! limits and a few different meanings. This module follows the SNS developer guide:
//!
//! - <https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html>: every
//!   property name of the policy must be matched (AND), at least one of its values (OR);
//!   properties of the message that the policy does not name are ignored.
//! - <https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html>:
//!   at most **5 keys**, at most **150 combinations** (the product of the value-array lengths),
//!   numbers between −10⁹ and 10⁹ with **five digits after the decimal point**; with the
//!   `MessageAttributes` scope a policy may **not be nested**, and string values are compared
//!   only with attributes of type `String` and `String.Array`.
//! - <https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html>: exact,
//!   `anything-but` (a value, a list, or `{"prefix": …}` / `{"suffix": …}`), `prefix`, `suffix`,
//!   `equals-ignore-case`, `cidr` (IP address matching); each element of a `String.Array`
//!   attribute is a separate string, and `anything-but` matches an array when some element is
//!   not listed.
//! - <https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html>: `numeric` with
//!   `=`, `<`, `<=`, `>`, `>=` and ranges; numeric operators match attributes of type `Number`
//!   (a `String` attribute holding digits is a string) and numbers in a body; prefixes are for
//!   strings only.
//! - <https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html>: `exists` works on
//!   leaves only; `"exists": true` needs a non-null, non-empty value; `"exists": false` matches
//!   only when the message has at least one attribute (an empty attribute set matches nothing).
//! - <https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html>: `"$or"` is an OR of
//!   sub-policies only when its value is an array of at least two objects; otherwise `$or` is an
//!   ordinary property name.
//!
//! What differs from an `EventBridge` pattern (each difference has a test below): no `wildcard`
//! and no `anything-but` `equals-ignore-case`/`wildcard`; the key and combination limits; the
//! numeric range and its 5-decimal precision; nesting refused for attributes; typed attributes
//! (`Number` versus `String`); `exists` refusing empty values and `exists: false` refusing an
//! empty attribute set; `$or` as a plain name when it does not hold objects.
//!
//! How an event carries SNS message attributes: the event's `attributes` object maps each name
//! either to the SNS form `{"Type": "String" | "String.Array" | "Number" | "Binary", "Value": …}`
//! or, for brevity, to a plain JSON value: a string is a `String`, a number a `Number`, an array
//! a `String.Array`, `true`/`false` the `String` `"true"`/`"false"` (SNS has no boolean type; the
//! SDKs send the text).

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use super::PatternError;
use super::matcher::{Cidr, Numeric, num_eq};

/// Largest number of keys in one filter policy (SNS quota, constraints page above).
pub const MAX_KEYS: usize = 5;
/// Largest total combination of values (SNS quota, constraints page above).
pub const MAX_COMBINATIONS: usize = 150;
/// Numbers in a policy lie in [−10⁹, 10⁹] (constraints page above).
pub const MAX_ABS_NUMBER: f64 = 1e9;
/// SNS compares numbers with five digits of accuracy after the decimal point.
const NUMERIC_SCALE: f64 = 1e5;

/// Which part of a published message a subscription's filter policy looks at (SNS's
/// `FilterPolicyScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FilterScope {
    /// `MessageAttributes` (SNS's default): the event's `attributes` object, flat.
    #[default]
    Attributes,
    /// `MessageBody`: the event itself, nested objects allowed.
    Body,
}

impl FilterScope {
    /// The scenario spelling (`"attributes"`, `"body"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FilterScope::Attributes => "attributes",
            FilterScope::Body => "body",
        }
    }
}

/// One value condition of a policy property.
#[derive(Debug, Clone)]
enum Cond {
    /// A literal string (matches `String` attributes, array elements and body strings).
    Str(String),
    /// A literal number (matches `Number` attributes and body numbers, by value).
    Num(Number),
    /// `true` / `false` (body booleans; attribute text `"true"`/`"false"`).
    Bool(bool),
    /// `null` (body nulls).
    Null,
    Prefix(String),
    Suffix(String),
    /// `equals-ignore-case`, stored lowercased.
    IgnoreCase(String),
    /// `anything-but` a list of literals.
    AnythingBut(Vec<Cond>),
    AnythingButPrefix(String),
    AnythingButSuffix(String),
    Numeric(Numeric),
    Exists(bool),
    Cidr(Cidr),
}

/// One property of one alternative: its path (one name for attributes, dotted for a body) and
/// the conditions of which at least one must hold.
#[derive(Debug, Clone)]
struct Leaf {
    path: Vec<String>,
    conds: Vec<Cond>,
}

/// A parsed, validated SNS filter policy for one scope.
#[derive(Debug, Clone)]
pub struct FilterPolicy {
    scope: FilterScope,
    /// `$or` multiplied out: the message matches when every leaf of some alternative does.
    alts: Vec<Vec<Leaf>>,
}

/// A message value as SNS compares it.
#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    Num(f64, &'a Number),
    /// A number held as text in a `{"Type": "Number", "Value": "12.5"}` attribute.
    NumText(f64),
    Bool(bool),
    Null,
    /// A value nothing compares with (a `Binary` attribute, an object).
    Opaque,
}

impl FilterPolicy {
    /// Parses and validates a filter policy for `scope`, returning every problem with its path
    /// inside the policy.
    pub fn parse(policy: &Value, scope: FilterScope) -> Result<FilterPolicy, Vec<PatternError>> {
        let mut errs = Vec::new();
        let Value::Object(map) = policy else {
            return Err(vec![PatternError::new(
                "",
                format!(
                    "a filter policy is a JSON object, not {}",
                    crate::names::json_type(policy)
                ),
            )]);
        };
        if map.is_empty() {
            return Err(vec![PatternError::new(
                "",
                "an empty filter policy matches nothing useful: leave `filter` out to receive every message",
            )]);
        }
        let alts = parse_obj(map, "", &[], scope, &mut errs);
        if !errs.is_empty() {
            return Err(errs);
        }
        let combos: usize = alts
            .iter()
            .map(|a| a.iter().map(|l| l.conds.len()).product::<usize>())
            .sum();
        if combos > MAX_COMBINATIONS {
            errs.push(PatternError::new(
                "",
                format!(
                    "the policy's values multiply to {combos} combinations; SNS allows at most {MAX_COMBINATIONS}"
                ),
            ));
        }
        for a in &alts {
            if a.len() > MAX_KEYS {
                let names: Vec<String> = a.iter().map(|l| l.path.join(".")).collect();
                errs.push(PatternError::new(
                    "",
                    format!(
                        "{} keys ({}) must hold together; an SNS filter policy has at most {MAX_KEYS}",
                        a.len(),
                        names.join(", ")
                    ),
                ));
                break;
            }
        }
        if errs.is_empty() {
            Ok(FilterPolicy { scope, alts })
        } else {
            Err(errs)
        }
    }

    /// The scope the policy was parsed for.
    #[must_use]
    pub fn scope(&self) -> FilterScope {
        self.scope
    }

    /// Number of alternatives after multiplying out `$or`.
    #[must_use]
    pub fn alternatives(&self) -> usize {
        self.alts.len()
    }

    /// Whether the event (a published message) passes the policy.
    #[must_use]
    pub fn matches(&self, event: &Value) -> bool {
        let root = match self.scope {
            FilterScope::Attributes => match event.get("attributes") {
                Some(Value::Object(m)) => Some(m),
                _ => None,
            },
            FilterScope::Body => event.as_object(),
        };
        self.alts
            .iter()
            .any(|alt| alt.iter().all(|leaf| leaf_matches(leaf, root, self.scope)))
    }

    /// The event paths the policy reads (for building events with only those fields), or
    /// `None` when it may look at the whole event: the `attributes` object with the
    /// `MessageAttributes` scope (`exists: false` asks whether it has any attribute), each
    /// property's path with the `MessageBody` scope, unless `exists: false` asks whether the
    /// body has any field.
    #[must_use]
    pub fn read_paths(&self) -> Option<Vec<Vec<String>>> {
        match self.scope {
            FilterScope::Attributes => Some(vec![vec!["attributes".to_owned()]]),
            FilterScope::Body => {
                let leaves = self.alts.iter().flatten();
                if leaves
                    .clone()
                    .any(|l| l.conds.iter().any(|c| matches!(c, Cond::Exists(false))))
                {
                    return None;
                }
                Some(leaves.map(|l| l.path.clone()).collect())
            }
        }
    }

    /// One line per property of each alternative, saying whether the event satisfies it (for
    /// `eventflow pattern test --sns`).
    #[must_use]
    pub fn explain(&self, event: &Value) -> Vec<(String, bool)> {
        let root = match self.scope {
            FilterScope::Attributes => event.get("attributes").and_then(Value::as_object),
            FilterScope::Body => event.as_object(),
        };
        let mut out = Vec::new();
        for (i, alt) in self.alts.iter().enumerate() {
            for leaf in alt {
                let mut name = leaf.path.join(".");
                if self.alts.len() > 1 {
                    let _ = write!(name, " (alternative {})", i + 1);
                }
                out.push((name, leaf_matches(leaf, root, self.scope)));
            }
        }
        out
    }
}

fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Parses one policy object (the root, a nested body object or a `$or` branch) into its
/// alternatives, each a list of leaves.
fn parse_obj(
    map: &Map<String, Value>,
    path: &str,
    prefix: &[String],
    scope: FilterScope,
    errs: &mut Vec<PatternError>,
) -> Vec<Vec<Leaf>> {
    let mut alts: Vec<Vec<Leaf>> = vec![Vec::new()];
    for (key, value) in map {
        let here = child_path(path, key);
        if key == "$or"
            && let Value::Array(items) = value
            && items.len() >= 2
            && items.iter().all(Value::is_object)
        {
            let mut branches = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if let Value::Object(m) = item {
                    branches.extend(parse_obj(m, &format!("{here}[{i}]"), prefix, scope, errs));
                }
            }
            alts = cross(&alts, &branches);
            continue;
        }
        let mut leaf_path = prefix.to_vec();
        leaf_path.push(key.clone());
        match value {
            Value::Array(items) => {
                if items.is_empty() {
                    errs.push(PatternError::new(
                        here,
                        "empty array: list at least one value",
                    ));
                    continue;
                }
                let conds: Vec<Cond> = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| parse_cond(v, &format!("{here}[{i}]"), errs))
                    .collect();
                for alt in &mut alts {
                    alt.push(Leaf {
                        path: leaf_path.clone(),
                        conds: conds.clone(),
                    });
                }
            }
            Value::Object(m) => {
                if scope == FilterScope::Attributes {
                    errs.push(PatternError::new(
                        here,
                        "SNS does not accept nested filter policies for attribute-based filtering: set `filter_scope` to \"body\" to filter on nested message fields",
                    ));
                    continue;
                }
                if m.is_empty() {
                    errs.push(PatternError::new(here, "empty object"));
                    continue;
                }
                let sub = parse_obj(m, &here, &leaf_path, scope, errs);
                alts = cross(&alts, &sub);
            }
            other => errs.push(PatternError::new(
                here,
                format!(
                    "a policy property takes an array of values, as [{other}], not {}",
                    crate::names::json_type(other)
                ),
            )),
        }
    }
    alts
}

/// Every alternative of `a` joined with every alternative of `b`.
fn cross(a: &[Vec<Leaf>], b: &[Vec<Leaf>]) -> Vec<Vec<Leaf>> {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut joined = x.clone();
            joined.extend(y.iter().cloned());
            out.push(joined);
        }
    }
    // A policy whose `$or` expansion runs away is refused by the combination limit; the
    // multiplication itself stays bounded because every branch has at least one value.
    out
}

fn check_number(n: &Number, path: &str, errs: &mut Vec<PatternError>) -> Option<f64> {
    let x = n.as_f64()?;
    if x.abs() > MAX_ABS_NUMBER {
        errs.push(PatternError::new(
            path,
            format!("{n} is outside SNS's numeric range −1,000,000,000 to 1,000,000,000"),
        ));
        return None;
    }
    Some(x)
}

fn literal(v: &Value, path: &str, errs: &mut Vec<PatternError>) -> Option<Cond> {
    match v {
        Value::String(s) => Some(Cond::Str(s.clone())),
        Value::Number(n) => check_number(n, path, errs).map(|_| Cond::Num(n.clone())),
        Value::Bool(b) => Some(Cond::Bool(*b)),
        Value::Null => Some(Cond::Null),
        _ => None,
    }
}

fn expect_str<'v>(
    v: &'v Value,
    path: &str,
    op: &str,
    errs: &mut Vec<PatternError>,
) -> Option<&'v str> {
    if let Value::String(s) = v {
        Some(s)
    } else {
        errs.push(PatternError::new(
            path,
            format!(
                "`{op}` takes a string, not {} (SNS prefixes and suffixes are for strings only)",
                crate::names::json_type(v)
            ),
        ));
        None
    }
}

/// The operators SNS filter policies know.
const OPERATORS: &[&str] = &[
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
];

fn parse_cond(v: &Value, path: &str, errs: &mut Vec<PatternError>) -> Option<Cond> {
    let Value::Object(m) = v else {
        let lit = literal(v, path, errs);
        if lit.is_none() && v.is_array() {
            errs.push(PatternError::new(
                path,
                "a value list may not hold another array",
            ));
        }
        return lit;
    };
    if m.len() != 1 {
        errs.push(PatternError::new(
            path,
            format!(
                "an operator object has exactly one key ({}), this one has {}",
                OPERATORS.join(", "),
                m.len()
            ),
        ));
        return None;
    }
    let (op, arg) = m.iter().next()?;
    let p = format!("{path}.{op}");
    match op.as_str() {
        "prefix" => expect_str(arg, &p, op, errs).map(|s| Cond::Prefix(s.to_owned())),
        "suffix" => expect_str(arg, &p, op, errs).map(|s| Cond::Suffix(s.to_owned())),
        "equals-ignore-case" => {
            expect_str(arg, &p, op, errs).map(|s| Cond::IgnoreCase(s.to_lowercase()))
        }
        "exists" => {
            if let Value::Bool(b) = arg {
                Some(Cond::Exists(*b))
            } else {
                errs.push(PatternError::new(&p, "`exists` takes true or false"));
                None
            }
        }
        "cidr" => {
            let s = expect_str(arg, &p, op, errs)?;
            super::parse::parse_cidr(s, &p, errs).map(Cond::Cidr)
        }
        "numeric" => parse_numeric(arg, &p, errs).map(Cond::Numeric),
        "anything-but" => parse_anything_but(arg, &p, errs),
        "wildcard" => {
            errs.push(PatternError::new(
                &p,
                "`wildcard` is an EventBridge operator; SNS filter policies have prefix, suffix and equals-ignore-case",
            ));
            None
        }
        other => {
            let hint = crate::names::did_you_mean(other, OPERATORS.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            errs.push(PatternError::new(
                &p,
                format!(
                    "unknown SNS filter operator `{other}`{hint}; known: {}",
                    OPERATORS.join(", ")
                ),
            ));
            None
        }
    }
}

fn parse_anything_but(arg: &Value, p: &str, errs: &mut Vec<PatternError>) -> Option<Cond> {
    match arg {
        Value::Array(items) => {
            if items.is_empty() {
                errs.push(PatternError::new(
                    p,
                    "`anything-but` needs at least one value",
                ));
                return None;
            }
            let mut list = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match literal(item, &format!("{p}[{i}]"), errs) {
                    Some(c) => list.push(c),
                    None if !item.is_number() => errs.push(PatternError::new(
                        format!("{p}[{i}]"),
                        "`anything-but` lists strings or numbers",
                    )),
                    None => {}
                }
            }
            Some(Cond::AnythingBut(list))
        }
        Value::Object(m) if m.len() == 1 => {
            let (op, v) = m.iter().next()?;
            let q = format!("{p}.{op}");
            match op.as_str() {
                "prefix" => {
                    expect_str(v, &q, op, errs).map(|s| Cond::AnythingButPrefix(s.to_owned()))
                }
                "suffix" => {
                    expect_str(v, &q, op, errs).map(|s| Cond::AnythingButSuffix(s.to_owned()))
                }
                other => {
                    errs.push(PatternError::new(
                        q,
                        format!(
                            "SNS's `anything-but` takes a value, a list, {{\"prefix\": …}} or {{\"suffix\": …}}, not `{other}`"
                        ),
                    ));
                    None
                }
            }
        }
        Value::Object(_) => {
            errs.push(PatternError::new(
                p,
                "`anything-but` takes one operator object: {\"prefix\": …} or {\"suffix\": …}",
            ));
            None
        }
        other => literal(other, p, errs).map(|c| Cond::AnythingBut(vec![c])),
    }
}

fn parse_numeric(arg: &Value, p: &str, errs: &mut Vec<PatternError>) -> Option<Numeric> {
    let bad = |errs: &mut Vec<PatternError>, m: &str| {
        errs.push(PatternError::new(p, m));
        None
    };
    let Value::Array(items) = arg else {
        return bad(
            errs,
            "`numeric` takes an array such as [\">\", 0, \"<=\", 5]",
        );
    };
    if items.len() != 2 && items.len() != 4 {
        return bad(
            errs,
            "`numeric` takes one comparison [op, n] or a range [\">\", lo, \"<\", hi]",
        );
    }
    let mut pairs = Vec::new();
    for (i, pair) in items.chunks(2).enumerate() {
        let (Some(Value::String(op)), Some(Value::Number(n))) = (pair.first(), pair.get(1)) else {
            return bad(errs, "each comparison is an operator string then a number");
        };
        let x = check_number(n, &format!("{p}[{}]", 2 * i + 1), errs)?;
        pairs.push((op.as_str(), x));
    }
    let scaled = |x: f64| (x * NUMERIC_SCALE).round();
    let mut num = Numeric { lo: None, hi: None };
    for (op, x) in &pairs {
        let x = scaled(*x);
        match *op {
            "=" if pairs.len() == 1 => {
                num.lo = Some((x, true));
                num.hi = Some((x, true));
            }
            ">" | ">=" if num.lo.is_none() => num.lo = Some((x, *op == ">=")),
            "<" | "<=" if num.hi.is_none() => num.hi = Some((x, *op == "<=")),
            "<" | "<=" | ">" | ">=" | "=" => {
                return bad(
                    errs,
                    "a range is a lower bound (> or >=) and an upper bound (< or <=)",
                );
            }
            other => {
                errs.push(PatternError::new(
                    p,
                    format!("unknown numeric operator {other:?}: use =, <, <=, > or >="),
                ));
                return None;
            }
        }
    }
    if pairs.len() == 2 && pairs[0].0.starts_with('<') {
        return bad(
            errs,
            "write a range lower bound first: [\">\", lo, \"<\", hi]",
        );
    }
    if let (Some((lo, _)), Some((hi, _))) = (num.lo, num.hi)
        && lo > hi
    {
        return bad(
            errs,
            "the range is empty: its lower bound is above its upper bound",
        );
    }
    Some(num)
}

/// Visits every scalar value the leaf's path reaches (arrays flattened at every level); returns
/// whether any visit returned true.
fn each_value<'e>(
    root: Option<&'e Map<String, Value>>,
    path: &[String],
    scope: FilterScope,
    f: &mut dyn FnMut(Scalar<'_>) -> bool,
) -> bool {
    let Some(root) = root else { return false };
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let Some(v) = root.get(first) else {
        return false;
    };
    match scope {
        FilterScope::Attributes => attribute_values(v, f),
        FilterScope::Body => body_values(v, rest, f),
    }
}

fn attribute_values<'e>(v: &'e Value, f: &mut dyn FnMut(Scalar<'_>) -> bool) -> bool {
    if let Value::Object(m) = v
        && let (Some(Value::String(ty)), Some(val)) = (m.get("Type"), m.get("Value"))
    {
        return match (ty.as_str(), val) {
            ("String", Value::String(s)) => f(Scalar::Str(s)),
            ("Number", Value::Number(n)) => f(Scalar::Num(n.as_f64().unwrap_or(f64::NAN), n)),
            ("Number", Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(x) => f(Scalar::NumText(x)),
                Err(_) => f(Scalar::Opaque),
            },
            ("String.Array", Value::Array(items)) => items.iter().any(|x| array_element(x, f)),
            ("String.Array", Value::String(s)) => {
                // SNS carries a String.Array as the text of a JSON array.
                match serde_json::from_str::<Value>(s) {
                    Ok(Value::Array(items)) => items.iter().any(|x| array_element_owned(x, f)),
                    _ => f(Scalar::Opaque),
                }
            }
            _ => f(Scalar::Opaque),
        };
    }
    match v {
        Value::String(s) => f(Scalar::Str(s)),
        Value::Number(n) => f(Scalar::Num(n.as_f64().unwrap_or(f64::NAN), n)),
        Value::Bool(true) => f(Scalar::Str("true")),
        Value::Bool(false) => f(Scalar::Str("false")),
        Value::Array(items) => items.iter().any(|x| array_element(x, f)),
        Value::Null => f(Scalar::Null),
        Value::Object(_) => f(Scalar::Opaque),
    }
}

/// An element of a `String.Array` attribute: strings, numbers, booleans and nulls, each
/// compared on its own.
fn array_element<'e>(x: &'e Value, f: &mut dyn FnMut(Scalar<'_>) -> bool) -> bool {
    match x {
        Value::String(s) => f(Scalar::Str(s)),
        Value::Number(n) => f(Scalar::Num(n.as_f64().unwrap_or(f64::NAN), n)),
        Value::Bool(b) => f(Scalar::Bool(*b)),
        Value::Null => f(Scalar::Null),
        _ => f(Scalar::Opaque),
    }
}

/// As [`array_element`] for an array parsed from attribute text (values do not outlive it).
fn array_element_owned(x: &Value, f: &mut dyn FnMut(Scalar<'_>) -> bool) -> bool {
    match x {
        Value::String(s) => f(Scalar::Str(s)),
        Value::Number(n) => f(Scalar::NumText(n.as_f64().unwrap_or(f64::NAN))),
        Value::Bool(b) => f(Scalar::Bool(*b)),
        Value::Null => f(Scalar::Null),
        _ => f(Scalar::Opaque),
    }
}

fn body_values<'e>(v: &'e Value, rest: &[String], f: &mut dyn FnMut(Scalar<'_>) -> bool) -> bool {
    match (v, rest.split_first()) {
        (Value::Array(items), _) => items.iter().any(|x| body_values(x, rest, f)),
        (Value::Object(m), Some((k, more))) => m.get(k).is_some_and(|x| body_values(x, more, f)),
        (_, Some(_)) => false,
        (Value::Object(_), None) => f(Scalar::Opaque),
        (x, None) => array_element(x, f),
    }
}

/// Whether a non-null, non-empty value sits at the leaf's path (`exists` semantics).
fn has_value(root: Option<&Map<String, Value>>, leaf: &Leaf, scope: FilterScope) -> bool {
    each_value(root, &leaf.path, scope, &mut |s| match s {
        Scalar::Null => false,
        Scalar::Str(s) => !s.is_empty(),
        _ => true,
    })
}

fn leaf_matches(leaf: &Leaf, root: Option<&Map<String, Value>>, scope: FilterScope) -> bool {
    leaf.conds.iter().any(|c| match c {
        Cond::Exists(true) => has_value(root, leaf, scope),
        Cond::Exists(false) => {
            // "exists": false only matches a message with at least one attribute (key
            // matching page); a body must at least be an object with some field.
            root.is_some_and(|m| !m.is_empty()) && !has_value(root, leaf, scope)
        }
        _ => each_value(root, &leaf.path, scope, &mut |s| cond_matches(c, s)),
    })
}

fn scaled(x: f64) -> f64 {
    (x * NUMERIC_SCALE).round()
}

fn number_of(s: Scalar<'_>) -> Option<f64> {
    match s {
        Scalar::Num(x, _) | Scalar::NumText(x) => Some(x),
        _ => None,
    }
}

fn literal_eq(c: &Cond, s: Scalar<'_>) -> bool {
    match (c, s) {
        (Cond::Str(a), Scalar::Str(b)) => a == b,
        (Cond::Num(a), Scalar::Num(_, b)) => {
            num_eq(a, b) || a.as_f64().map(scaled) == b.as_f64().map(scaled)
        }
        (Cond::Num(a), Scalar::NumText(x)) => a.as_f64().map(scaled) == Some(scaled(x)),
        (Cond::Bool(a), Scalar::Bool(b)) => *a == b,
        (Cond::Bool(a), Scalar::Str(b)) => b == if *a { "true" } else { "false" },
        (Cond::Null, Scalar::Null) => true,
        _ => false,
    }
}

fn cond_matches(c: &Cond, s: Scalar<'_>) -> bool {
    match c {
        Cond::Str(_) | Cond::Num(_) | Cond::Bool(_) | Cond::Null => literal_eq(c, s),
        Cond::Prefix(p) => matches!(s, Scalar::Str(v) if v.starts_with(p.as_str())),
        Cond::Suffix(p) => matches!(s, Scalar::Str(v) if v.ends_with(p.as_str())),
        Cond::IgnoreCase(p) => matches!(s, Scalar::Str(v) if v.to_lowercase() == *p),
        Cond::AnythingBut(list) => {
            !matches!(s, Scalar::Null | Scalar::Opaque) && !list.iter().any(|l| literal_eq(l, s))
        }
        Cond::AnythingButPrefix(p) => matches!(s, Scalar::Str(v) if !v.starts_with(p.as_str())),
        Cond::AnythingButSuffix(p) => matches!(s, Scalar::Str(v) if !v.ends_with(p.as_str())),
        Cond::Numeric(n) => number_of(s).is_some_and(|x| n.contains(scaled(x))),
        Cond::Cidr(block) => matches!(s, Scalar::Str(v) if block.contains(v)),
        Cond::Exists(_) => false,
    }
}

#[cfg(test)]
#[path = "sns_tests.rs"]
mod tests;
