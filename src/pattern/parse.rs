//! Parsing and validation of event patterns: JSON → syntax tree, collecting every error.
//!
//! The parser keeps going after an error so that a pasted rule gets all its problems reported
//! at once, each with the JSON path inside the pattern (`detail.state[1]`,
//! `detail.$or[0].x`, `source[0].prefx`). Validation follows event-ruler's `JsonRuleCompiler`:
//! a numeric range is written lower bound first and must not be empty, `anything-but` lists are
//! all strings or all numbers, wildcards reject `**` and stray backslashes, and so on.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::PatternError;
use super::matcher::{Cidr, Cond, Numeric, Wild};

/// An object level of a pattern as written.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjAst {
    /// Named fields in pattern order.
    pub fields: Vec<FieldAst>,
    /// `$or` groups at this level (JSON allows only one `$or` key per object, but keep a list).
    pub ors: Vec<OrAst>,
}

/// A named field of a pattern object.
#[derive(Debug, Clone)]
pub(crate) struct FieldAst {
    /// The field name.
    pub key: String,
    /// Path of the field inside the pattern.
    pub path: String,
    /// Leaf array or nested object.
    pub value: FieldValue,
}

/// What a pattern field holds.
#[derive(Debug, Clone)]
pub(crate) enum FieldValue {
    /// A leaf array: the field matches when any entry matches.
    Leaf(Vec<Cond>),
    /// Nested fields.
    Object(ObjAst),
}

/// A `$or` group: at least two branches, each a sub-pattern at this level.
#[derive(Debug, Clone)]
pub(crate) struct OrAst {
    /// Path of the `$or` key inside the pattern.
    pub path: String,
    /// The branches.
    pub branches: Vec<ObjAst>,
}

/// Every operator name `EventBridge` accepts inside a leaf array.
pub(crate) const OPERATORS: &[&str] = &[
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
];

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `" (did you mean \"x\"?)"` when one of `candidates` is close to `word`, else empty.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    let lower = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (crate::names::levenshtein(&lower, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean \"{c}\"?)"))
        .unwrap_or_default()
}

/// Parses a whole pattern; errors go to `errs`.
pub(crate) fn parse_root(v: &Value, errs: &mut Vec<PatternError>) -> ObjAst {
    match v {
        Value::Object(m) => parse_obj(m, "", errs),
        other => {
            errs.push(PatternError::new(
                "",
                format!(
                    "a pattern must be a JSON object such as {{\"source\": [\"aws.ec2\"]}}, not {}",
                    crate::names::json_type(other)
                ),
            ));
            ObjAst::default()
        }
    }
}

fn parse_obj(m: &Map<String, Value>, path: &str, errs: &mut Vec<PatternError>) -> ObjAst {
    let mut ast = ObjAst::default();
    if m.is_empty() {
        errs.push(PatternError::new(
            path,
            "empty object: a pattern object must name at least one field",
        ));
    }
    for (k, v) in m {
        let p = join(path, k);
        if k == "$or" {
            if let Some(or) = parse_or(v, &p, errs) {
                ast.ors.push(or);
            }
            continue;
        }
        match v {
            Value::Array(items) => {
                let conds = parse_leaf(items, &p, errs);
                ast.fields.push(FieldAst {
                    key: k.clone(),
                    path: p,
                    value: FieldValue::Leaf(conds),
                });
            }
            Value::Object(o) => {
                let sub = parse_obj(o, &p, errs);
                ast.fields.push(FieldAst {
                    key: k.clone(),
                    path: p,
                    value: FieldValue::Object(sub),
                });
            }
            other => {
                // A common slip is writing an operator or a value without the leaf array.
                let hint = if OPERATORS.contains(&k.as_str()) {
                    format!(
                        "; \"{k}\" is an operator: put it in the leaf array of the field, as in \"field\": [{{\"{k}\": …}}]"
                    )
                } else {
                    format!("; write [{other}]")
                };
                errs.push(PatternError::new(
                    p,
                    format!(
                        "a field must be an array of values or filters, or an object of nested fields; got {}{hint}",
                        crate::names::json_type(other)
                    ),
                ));
            }
        }
    }
    ast
}

fn parse_or(v: &Value, path: &str, errs: &mut Vec<PatternError>) -> Option<OrAst> {
    let Value::Array(items) = v else {
        errs.push(PatternError::new(
            path,
            format!(
                "$or must be an array of at least 2 objects, not {}",
                crate::names::json_type(v)
            ),
        ));
        return None;
    };
    if items.len() < 2 {
        errs.push(PatternError::new(
            path,
            format!(
                "$or needs at least 2 branches, got {}; without alternatives write the fields directly",
                items.len()
            ),
        ));
    }
    let mut branches = Vec::new();
    for (i, b) in items.iter().enumerate() {
        let bp = format!("{path}[{i}]");
        match b {
            Value::Object(o) => branches.push(parse_obj(o, &bp, errs)),
            other => errs.push(PatternError::new(
                bp,
                format!(
                    "each $or branch must be an object (a sub-pattern), not {}",
                    crate::names::json_type(other)
                ),
            )),
        }
    }
    Some(OrAst {
        path: path.to_owned(),
        branches,
    })
}

fn parse_leaf(items: &[Value], path: &str, errs: &mut Vec<PatternError>) -> Vec<Cond> {
    if items.is_empty() {
        errs.push(PatternError::new(
            path,
            "empty array: a leaf needs at least one value or filter (an empty array would never match)",
        ));
    }
    let mut conds = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let ip = format!("{path}[{i}]");
        let c = match it {
            Value::String(s) => Some(Cond::Str(s.as_str().into())),
            Value::Number(n) => Some(Cond::Num(n.clone())),
            Value::Bool(b) => Some(Cond::Bool(*b)),
            Value::Null => Some(Cond::Null),
            Value::Array(_) => {
                errs.push(PatternError::new(
                    ip,
                    "nested array: a leaf array holds values (string, number, true, false, null) or filter objects",
                ));
                None
            }
            Value::Object(o) => parse_filter(o, &ip, errs),
        };
        conds.extend(c);
    }
    conds
}

fn err(errs: &mut Vec<PatternError>, path: &str, msg: impl Into<String>) -> Option<Cond> {
    errs.push(PatternError::new(path, msg));
    None
}

fn expect_str<'a>(
    v: &'a Value,
    path: &str,
    what: &str,
    errs: &mut Vec<PatternError>,
) -> Option<&'a str> {
    match v {
        Value::String(s) => Some(s),
        other => {
            errs.push(PatternError::new(
                path,
                format!(
                    "{what} takes a string, not {}",
                    crate::names::json_type(other)
                ),
            ));
            None
        }
    }
}

fn parse_filter(o: &Map<String, Value>, path: &str, errs: &mut Vec<PatternError>) -> Option<Cond> {
    let mut it = o.iter();
    let Some((op, arg)) = it.next() else {
        return err(
            errs,
            path,
            "empty filter object: write an operator such as {\"prefix\": \"…\"}",
        );
    };
    if o.len() > 1 {
        let keys: Vec<&str> = o.keys().map(String::as_str).collect();
        return err(
            errs,
            path,
            format!(
                "a filter object takes exactly one operator, got {} ({}); put each in its own entry of the leaf array",
                o.len(),
                keys.join(", ")
            ),
        );
    }
    let op_path = format!("{path}.{op}");
    let p = op_path.as_str();
    match op.as_str() {
        "prefix" | "suffix" => {
            let is_prefix = op == "prefix";
            match arg {
                Value::String(s) => Some(if is_prefix {
                    Cond::Prefix(s.as_str().into())
                } else {
                    Cond::Suffix(s.as_str().into())
                }),
                Value::Object(inner) => {
                    let s = parse_ignore_case_obj(inner, p, op, errs)?;
                    Some(if is_prefix {
                        Cond::PrefixIc(s.into())
                    } else {
                        Cond::SuffixIc(s.into())
                    })
                }
                other => err(
                    errs,
                    p,
                    format!(
                        "{op} takes a string or {{\"equals-ignore-case\": \"…\"}}, not {}",
                        crate::names::json_type(other)
                    ),
                ),
            }
        }
        "equals-ignore-case" => {
            let s = expect_str(arg, p, "equals-ignore-case", errs)?;
            Some(Cond::EqIc(s.to_lowercase().into()))
        }
        "wildcard" => {
            let s = expect_str(arg, p, "wildcard", errs)?;
            parse_wildcard(s, p, errs).map(Cond::Wildcard)
        }
        "anything-but" => parse_anything_but(arg, p, errs),
        "numeric" => parse_numeric(arg, p, errs).map(Cond::Numeric),
        "exists" => match arg {
            Value::Bool(b) => Some(Cond::Exists(*b)),
            other => err(
                errs,
                p,
                format!(
                    "exists takes true or false, not {}",
                    crate::names::json_type(other)
                ),
            ),
        },
        "cidr" => {
            let s = expect_str(arg, p, "cidr", errs)?;
            parse_cidr(s, p, errs).map(Cond::Cidr)
        }
        "$or" => err(
            errs,
            p,
            "$or belongs in a pattern object (\"$or\": [{…}, {…}]), not inside a leaf array",
        ),
        other => err(
            errs,
            p,
            format!(
                "unknown operator \"{other}\"{}; operators are {}",
                did_you_mean(other, OPERATORS),
                OPERATORS.join(", ")
            ),
        ),
    }
}

/// `{"equals-ignore-case": "s"}` inside `prefix` / `suffix`; returns `s` lower-cased.
fn parse_ignore_case_obj(
    inner: &Map<String, Value>,
    path: &str,
    op: &str,
    errs: &mut Vec<PatternError>,
) -> Option<String> {
    match inner.iter().next() {
        Some((k, v)) if inner.len() == 1 && k == "equals-ignore-case" => {
            let s = expect_str(v, &format!("{path}.{k}"), "equals-ignore-case", errs)?;
            Some(s.to_lowercase())
        }
        Some((k, _)) if inner.len() == 1 => {
            errs.push(PatternError::new(
                format!("{path}.{k}"),
                format!(
                    "{op} takes a string or {{\"equals-ignore-case\": \"…\"}}; unknown key \"{k}\"{}",
                    did_you_mean(k, &["equals-ignore-case"])
                ),
            ));
            None
        }
        _ => {
            errs.push(PatternError::new(
                path,
                format!(
                    "{op} takes a string or {{\"equals-ignore-case\": \"…\"}} with exactly one key"
                ),
            ));
            None
        }
    }
}

pub(crate) fn parse_wildcard(s: &str, path: &str, errs: &mut Vec<PatternError>) -> Option<Wild> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    let mut prev_star = false;
    let mut ok = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                prev_star = false;
                match chars.next() {
                    Some(e @ ('*' | '\\')) => parts.last_mut().into_iter().for_each(|p| p.push(e)),
                    Some(e) => {
                        errs.push(PatternError::new(
                            path,
                            format!(
                                "invalid escape \"\\{e}\" in wildcard {s:?}: a backslash may only precede * or \\"
                            ),
                        ));
                        ok = false;
                    }
                    None => {
                        errs.push(PatternError::new(
                            path,
                            format!("wildcard {s:?} ends with a lone backslash"),
                        ));
                        ok = false;
                    }
                }
            }
            '*' => {
                if prev_star {
                    errs.push(PatternError::new(
                        path,
                        format!("wildcard {s:?} has two * in a row (**), which is not allowed"),
                    ));
                    ok = false;
                }
                prev_star = true;
                parts.push(String::new());
            }
            c => {
                prev_star = false;
                if let Some(p) = parts.last_mut() {
                    p.push(c);
                }
            }
        }
    }
    ok.then(|| Wild {
        parts: parts.into_iter().map(String::into_boxed_str).collect(),
        source: s.into(),
    })
}

fn parse_anything_but(arg: &Value, path: &str, errs: &mut Vec<PatternError>) -> Option<Cond> {
    match arg {
        Value::String(s) => Some(Cond::AbStrs(vec![s.as_str().into()].into())),
        Value::Number(n) => Some(Cond::AbNums(vec![n.clone()].into())),
        Value::Array(items) => {
            if items.is_empty() {
                return err(
                    errs,
                    path,
                    "empty array: anything-but needs at least one value",
                );
            }
            let mut strs = Vec::new();
            let mut nums = Vec::new();
            let mut bad = false;
            for (i, it) in items.iter().enumerate() {
                match it {
                    Value::String(s) => strs.push(s.as_str().into()),
                    Value::Number(n) => nums.push(n.clone()),
                    other => {
                        errs.push(PatternError::new(
                            format!("{path}[{i}]"),
                            format!(
                                "anything-but lists hold strings or numbers, not {}",
                                crate::names::json_type(other)
                            ),
                        ));
                        bad = true;
                    }
                }
            }
            if !strs.is_empty() && !nums.is_empty() {
                return err(
                    errs,
                    path,
                    "mixed anything-but list: the values must be all strings or all numbers",
                );
            }
            if bad {
                None
            } else if nums.is_empty() {
                Some(Cond::AbStrs(strs.into()))
            } else {
                Some(Cond::AbNums(nums.into()))
            }
        }
        Value::Object(o) => {
            const FORMS: &[&str] = &["prefix", "suffix", "equals-ignore-case", "wildcard"];
            let Some((k, v)) = o.iter().next().filter(|_| o.len() == 1) else {
                return err(
                    errs,
                    path,
                    "anything-but takes an object with exactly one of prefix, suffix, equals-ignore-case, wildcard",
                );
            };
            let kp = format!("{path}.{k}");
            if !FORMS.contains(&k.as_str()) {
                return err(
                    errs,
                    &kp,
                    format!(
                        "unsupported anything-but form \"{k}\"{}; use prefix, suffix, equals-ignore-case or wildcard",
                        did_you_mean(k, FORMS)
                    ),
                );
            }
            let list = string_list(v, &kp, k, errs)?;
            match k.as_str() {
                "prefix" | "suffix" => {
                    if let Some(i) = list.iter().position(std::string::String::is_empty) {
                        let ep = if v.is_array() {
                            format!("{kp}[{i}]")
                        } else {
                            kp.clone()
                        };
                        return err(
                            errs,
                            &ep,
                            format!("empty {k} is not allowed in anything-but"),
                        );
                    }
                    let set = list.into_iter().map(String::into_boxed_str).collect();
                    Some(if k == "prefix" {
                        Cond::AbPrefix(set)
                    } else {
                        Cond::AbSuffix(set)
                    })
                }
                "equals-ignore-case" => Some(Cond::AbEqIc(
                    list.into_iter()
                        .map(|s| s.to_lowercase().into_boxed_str())
                        .collect(),
                )),
                _ => {
                    let mut wilds = Vec::new();
                    for (i, s) in list.iter().enumerate() {
                        let wp = if v.is_array() {
                            format!("{kp}[{i}]")
                        } else {
                            kp.clone()
                        };
                        wilds.extend(parse_wildcard(s, &wp, errs));
                    }
                    (wilds.len() == list.len()).then(|| Cond::AbWild(wilds.into()))
                }
            }
        }
        other => err(
            errs,
            path,
            format!(
                "anything-but takes a string, a number, a list of strings or of numbers, or an object such as {{\"prefix\": \"…\"}}; not {}",
                crate::names::json_type(other)
            ),
        ),
    }
}

/// A string or a non-empty list of strings.
fn string_list(
    v: &Value,
    path: &str,
    what: &str,
    errs: &mut Vec<PatternError>,
) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => {
            errs.push(PatternError::new(
                path,
                format!("empty array: {what} needs at least one string"),
            ));
            None
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                match it {
                    Value::String(s) => out.push(s.clone()),
                    other => errs.push(PatternError::new(
                        format!("{path}[{i}]"),
                        format!(
                            "{what} takes strings, not {}",
                            crate::names::json_type(other)
                        ),
                    )),
                }
            }
            (out.len() == items.len()).then_some(out)
        }
        other => {
            errs.push(PatternError::new(
                path,
                format!(
                    "{what} takes a string or a list of strings, not {}",
                    crate::names::json_type(other)
                ),
            ));
            None
        }
    }
}

fn e<T>(errs: &mut Vec<PatternError>, path: String, message: String) -> Option<T> {
    errs.push(PatternError::new(path, message));
    None
}

fn parse_numeric(arg: &Value, path: &str, errs: &mut Vec<PatternError>) -> Option<Numeric> {
    let Value::Array(items) = arg else {
        errs.push(PatternError::new(
            path,
            format!(
                "numeric takes an array such as [\">\", 0, \"<=\", 5], not {}",
                crate::names::json_type(arg)
            ),
        ));
        return None;
    };
    if items.len() != 2 && items.len() != 4 {
        return e(
            errs,
            path.to_owned(),
            format!(
                "numeric takes one comparison [op, number] or a range [lower-op, number, upper-op, number]; got {} element{}",
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            ),
        );
    }
    // Each comparison is (operator, bound).
    let cmp = |i: usize, errs: &mut Vec<PatternError>| -> Option<(String, f64)> {
        let op = match &items[i] {
            Value::String(s) if ["=", ">", ">=", "<", "<="].contains(&s.as_str()) => s.clone(),
            Value::String(s) => {
                return e(
                    errs,
                    format!("{path}[{i}]"),
                    format!("unknown numeric operator {s:?}; use =, >, >=, < or <="),
                );
            }
            other => {
                return e(
                    errs,
                    format!("{path}[{i}]"),
                    format!(
                        "expected a comparison operator (=, >, >=, <, <=), not {}",
                        crate::names::json_type(other)
                    ),
                );
            }
        };
        match &items[i + 1] {
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.is_finite() => Some((op, x)),
                _ => e(
                    errs,
                    format!("{path}[{}]", i + 1),
                    "number out of range".to_owned(),
                ),
            },
            other => e(
                errs,
                format!("{path}[{}]", i + 1),
                format!(
                    "the bound after {op:?} must be a number, not {}",
                    crate::names::json_type(other)
                ),
            ),
        }
    };
    let first = cmp(0, errs);
    let second = if items.len() == 4 { cmp(2, errs) } else { None };
    let (op1, x1) = first?;
    let bound = |op: &str, x: f64| (x, op.ends_with('='));
    if items.len() == 2 {
        return Some(match op1.as_str() {
            "=" => Numeric {
                lo: Some((x1, true)),
                hi: Some((x1, true)),
            },
            ">" | ">=" => Numeric {
                lo: Some(bound(&op1, x1)),
                hi: None,
            },
            _ => Numeric {
                lo: None,
                hi: Some(bound(&op1, x1)),
            },
        });
    }
    let (op2, x2) = second?;
    if !(op1.starts_with('>') && op2.starts_with('<')) {
        return e(
            errs,
            path.to_owned(),
            format!(
                "a numeric range is one lower bound then one upper bound, as [\">\", 0, \"<=\", 5]; got {op1:?} then {op2:?}"
            ),
        );
    }
    if x1 >= x2 {
        return e(
            errs,
            path.to_owned(),
            format!("empty numeric range: the lower bound {x1} must be below the upper bound {x2}"),
        );
    }
    Some(Numeric {
        lo: Some(bound(&op1, x1)),
        hi: Some(bound(&op2, x2)),
    })
}

pub(crate) fn parse_cidr(s: &str, path: &str, errs: &mut Vec<PatternError>) -> Option<Cidr> {
    let fail = |errs: &mut Vec<PatternError>, m: String| {
        errs.push(PatternError::new(path, m));
        None
    };
    let Some((ip, bits)) = s.split_once('/') else {
        return fail(
            errs,
            format!("malformed CIDR {s:?}: expected address/bits, as \"10.0.0.0/24\""),
        );
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return fail(
            errs,
            format!("malformed CIDR {s:?}: the mask bits must be a whole number"),
        );
    };
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            Some(Cidr::V4 {
                net: u32::from(a) & mask,
                mask,
                bits,
            })
        }
        Ok(IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            Some(Cidr::V6 {
                net: u128::from(a) & mask,
                mask,
                bits,
            })
        }
        Ok(_) => fail(
            errs,
            format!("malformed CIDR {s:?}: too many mask bits for the address family"),
        ),
        Err(_) => fail(
            errs,
            format!("malformed CIDR {s:?}: {ip:?} is not an IPv4 or IPv6 address"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Pattern;
    use serde_json::json;

    fn errors(p: serde_json::Value) -> Vec<(String, String)> {
        match Pattern::parse(&p) {
            Ok(_) => vec![],
            Err(es) => es.into_iter().map(|e| (e.path, e.message)).collect(),
        }
    }

    fn paths(p: serde_json::Value) -> Vec<String> {
        errors(p).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn valid_patterns_parse() {
        for p in [
            json!({"source": ["aws.ec2"]}),
            json!({"detail": {"state": ["running", {"prefix": "stop"}]}}),
            json!({"a": [{"exists": false}, {"numeric": [">", 0]}]}),
            json!({"a": [{"numeric": [">", 0, "<=", 5]}, {"numeric": ["=", 3.018e2]}]}),
            json!({"a": [{"anything-but": {"suffix": ["1234", "6789"]}}]}),
            json!({"a": [{"anything-but": {"wildcard": "*/lib/*"}}]}),
            json!({"a": [{"prefix": {"equals-ignore-case": "EventB"}}]}),
            json!({"a": [{"cidr": "2001:db8::/32"}, {"cidr": "220.160.153.171/31"}]}),
            json!({"$or": [{"a": [1]}, {"b": [2]}], "c": {"$or": [{"d": [1]}, {"e": [null]}]}}),
            json!({"a": [{"wildcard": "a\\*b\\\\c*"}]}),
        ] {
            assert!(Pattern::parse(&p).is_ok(), "{p}");
        }
    }

    #[test]
    fn structural_errors_have_paths() {
        assert_eq!(paths(json!({"detail": {"state": []}})), ["detail.state"]);
        assert_eq!(paths(json!({"source": "aws.ec2"})), ["source"]);
        assert_eq!(paths(json!({"detail": {}})), ["detail"]);
        assert_eq!(paths(json!([1])), [""]);
        assert_eq!(paths(json!({"a": [[1]]})), ["a[0]"]);
        assert_eq!(paths(json!({"a": ["x", {"prefix": 1}]})), ["a[1].prefix"]);
    }

    #[test]
    fn all_errors_reported() {
        let p = paths(json!({
            "source": [],
            "detail": {"state": ["ok", {"wildcard": "a**b"}], "n": [{"numeric": [">=", 1, "<=", 1]}]},
        }));
        assert_eq!(
            p,
            ["source", "detail.state[1].wildcard", "detail.n[0].numeric"]
        );
    }

    #[test]
    fn or_errors() {
        assert_eq!(
            paths(json!({"detail": {"$or": [{"x": [1]}]}})),
            ["detail.$or"]
        );
        assert_eq!(paths(json!({"$or": {"x": [1]}})), ["$or"]);
        assert_eq!(paths(json!({"$or": [{"x": [1]}, 3]})), ["$or[1]"]);
        assert_eq!(
            paths(json!({"detail": {"$or": [{"x": []}, {"y": [1]}]}})),
            ["detail.$or[0].x"]
        );
    }

    #[test]
    fn unknown_operator_hint() {
        let e = errors(json!({"source": [{"prefx": "aws."}]}));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "source[0].prefx");
        assert!(e[0].1.contains("did you mean \"prefix\""), "{}", e[0].1);
        let e = errors(json!({"source": [{"anything_but": "x"}]}));
        assert!(
            e[0].1.contains("did you mean \"anything-but\""),
            "{}",
            e[0].1
        );
        let e = errors(json!({"source": [{"zzz": "x"}]}));
        assert!(!e[0].1.contains("did you mean"), "{}", e[0].1);
    }

    #[test]
    fn operand_errors() {
        assert_eq!(
            paths(json!({"a": [{"anything-but": ["a", 1]}]})),
            ["a[0].anything-but"]
        );
        assert_eq!(
            paths(json!({"a": [{"anything-but": [true]}]})),
            ["a[0].anything-but[0]"]
        );
        assert_eq!(
            paths(json!({"a": [{"anything-but": []}]})),
            ["a[0].anything-but"]
        );
        assert_eq!(
            paths(json!({"a": [{"anything-but": null}]})),
            ["a[0].anything-but"]
        );
        assert_eq!(
            paths(json!({"a": [{"anything-but": {"prefix": [1]}}]})),
            ["a[0].anything-but.prefix[0]"]
        );
        assert_eq!(paths(json!({"a": [{"exists": "true"}]})), ["a[0].exists"]);
        assert_eq!(
            paths(json!({"a": [{"equals-ignore-case": ["x"]}]})),
            ["a[0].equals-ignore-case"]
        );
        assert_eq!(
            paths(json!({"a": [{"wildcard": "a\\b"}]})),
            ["a[0].wildcard"]
        );
        assert_eq!(
            paths(json!({"a": [{"wildcard": "a\\"}]})),
            ["a[0].wildcard"]
        );
        assert_eq!(paths(json!({"a": [{"cidr": "10.0.0.0"}]})), ["a[0].cidr"]);
        assert_eq!(
            paths(json!({"a": [{"cidr": "10.0.0.0/33"}]})),
            ["a[0].cidr"]
        );
        assert_eq!(paths(json!({"a": [{"cidr": "nope/8"}]})), ["a[0].cidr"]);
        assert_eq!(
            paths(json!({"a": [{"prefix": "a", "suffix": "b"}]})),
            ["a[0]"]
        );
        assert_eq!(paths(json!({"a": [{}]})), ["a[0]"]);
    }

    #[test]
    fn numeric_errors() {
        for bad in [
            json!([">=", 1, "<=", 1]),
            json!([">", 5, "<", 1]),
            json!(["<", 5, ">", 1]),
            json!(["=", 1, "<", 5]),
            json!([">", "1"]),
            json!(["!=", 1]),
            json!([">", 1, "<"]),
            json!(">"),
            json!([]),
        ] {
            let p = paths(json!({"a": [{"numeric": bad.clone()}]}));
            assert_eq!(p.len(), 1, "{bad}: {p:?}");
            assert!(p[0].starts_with("a[0].numeric"), "{bad}: {p:?}");
        }
    }
}
