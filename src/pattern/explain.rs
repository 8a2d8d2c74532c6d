//! Per-field explanations for the pattern tester (`eventflow pattern test` and the GUI):
//! which leaf of the pattern the event satisfies, which it does not, and why, in words an
//! architect can act on ("detail.amount = 12 is not >= 1000").
//!
//! Each leaf is judged on its own, with arrays flattened; array-consistent matching (fields of
//! one pattern object satisfied within one array element) is reported by a final entry when it
//! is the only reason the pattern fails.

use std::fmt::Write as _;

use serde_json::Value;

use super::matcher::{Cidr, Cond};
use super::parse::{FieldValue, ObjAst};
use super::{FieldExplanation, Pattern};

pub(crate) fn explain(p: &Pattern, event: &Value) -> Vec<FieldExplanation> {
    let mut out = Vec::new();
    let mut event_path = Vec::new();
    walk(&p.ast, event, &mut event_path, &mut out);
    let overall = p.matches(event);
    let any_or = !p.ast.ors.is_empty() || out.iter().any(|e| e.path.contains("$or"));
    if !overall && !any_or && out.iter().all(|e| e.matched) {
        out.push(FieldExplanation {
            path: String::new(),
            matched: false,
            reason: "every field matches on its own, but not within a single element of an array of objects (array-consistent matching)".to_owned(),
        });
    }
    out
}

fn walk<'p>(
    ast: &'p ObjAst,
    event: &Value,
    event_path: &mut Vec<&'p str>,
    out: &mut Vec<FieldExplanation>,
) {
    for f in &ast.fields {
        event_path.push(&f.key);
        match &f.value {
            FieldValue::Object(sub) => walk(sub, event, event_path, out),
            FieldValue::Leaf(conds) => out.push(explain_leaf(&f.path, event_path, conds, event)),
        }
        event_path.pop();
    }
    for or in &ast.ors {
        for b in &or.branches {
            walk(b, event, event_path, out);
        }
    }
}

/// The field's value(s) in the event: arrays of objects on the way are looked through.
fn collect<'e>(v: &'e Value, path: &[&str], out: &mut Vec<&'e Value>) {
    match (v, path.split_first()) {
        (Value::Array(items), _) if !path.is_empty() => {
            items.iter().for_each(|x| collect(x, path, out));
        }
        (Value::Object(m), Some((k, rest))) => {
            if let Some(c) = m.get(*k) {
                collect(c, rest, out);
            }
        }
        (_, None) => out.push(v),
        _ => {}
    }
}

fn explain_leaf(
    pattern_path: &str,
    event_path: &[&str],
    conds: &[Cond],
    event: &Value,
) -> FieldExplanation {
    let name = event_path.join(".");
    let mut found = Vec::new();
    collect(event, event_path, &mut found);
    // The value the leaf sees: one value, or the flattened list when several array elements
    // reach it.
    let value: Option<Value> = match found.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    };
    let matched = conds.iter().any(|c| c.matches_field(value.as_ref()));
    let wanted = describe_all(conds);
    let shown = match &value {
        None => format!("{name} is absent"),
        Some(Value::Object(_)) => format!("{name} is an object (not a leaf)"),
        Some(v) => format!("{name} = {}", short(v)),
    };
    let reason = if matched {
        format!("{shown}, which is {wanted}")
    } else if value.is_none() {
        format!("{shown}; it must be {wanted}")
    } else {
        format!("{shown} is not {wanted}")
    };
    FieldExplanation {
        path: pattern_path.to_owned(),
        matched,
        reason,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn describe_all(conds: &[Cond]) -> String {
    let parts: Vec<String> = conds.iter().map(describe).collect();
    match parts.as_slice() {
        [one] => one.clone(),
        _ => format!("any of: {}", parts.join("; ")),
    }
}

fn list(items: &[Box<str>]) -> String {
    let v: Vec<String> = items.iter().map(|s| format!("{:?}", &**s)).collect();
    v.join(", ")
}

/// A predicate in words, phrased to follow "is" / "is not".
fn describe(c: &Cond) -> String {
    match c {
        Cond::Str(s) => format!("{:?}", &**s),
        Cond::Num(n) => n.to_string(),
        Cond::Bool(b) => b.to_string(),
        Cond::Null => "null".to_owned(),
        Cond::Prefix(s) => format!("a string starting with {:?}", &**s),
        Cond::PrefixIc(s) => format!("a string starting with {:?} (ignoring case)", &**s),
        Cond::Suffix(s) => format!("a string ending with {:?}", &**s),
        Cond::SuffixIc(s) => format!("a string ending with {:?} (ignoring case)", &**s),
        Cond::EqIc(s) => format!("{:?} ignoring case", &**s),
        Cond::Wildcard(w) => format!("a string matching wildcard {:?}", &*w.source),
        Cond::AbStrs(set) => format!("anything but {}", list(set)),
        Cond::AbNums(set) => {
            let v: Vec<String> = set.iter().map(ToString::to_string).collect();
            format!("anything but {}", v.join(", "))
        }
        Cond::AbPrefix(set) => format!("anything not starting with {}", list(set)),
        Cond::AbSuffix(set) => format!("anything not ending with {}", list(set)),
        Cond::AbEqIc(set) => format!("anything but {} (ignoring case)", list(set)),
        Cond::AbWild(set) => {
            let v: Vec<String> = set.iter().map(|w| format!("{:?}", &*w.source)).collect();
            format!("anything not matching wildcard {}", v.join(", "))
        }
        Cond::Numeric(r) => {
            let mut s = String::new();
            match (r.lo, r.hi) {
                (Some((a, true)), Some((b, true))) if a == b => {
                    let _ = write!(s, "= {a}");
                }
                (lo, hi) => {
                    if let Some((a, inc)) = lo {
                        let _ = write!(s, "{} {a}", if inc { ">=" } else { ">" });
                    }
                    if let Some((b, inc)) = hi {
                        if !s.is_empty() {
                            s.push_str(" and ");
                        }
                        let _ = write!(s, "{} {b}", if inc { "<=" } else { "<" });
                    }
                }
            }
            s
        }
        Cond::Exists(true) => "present".to_owned(),
        Cond::Exists(false) => "absent".to_owned(),
        Cond::Cidr(Cidr::V4 { net, bits, .. }) => {
            format!("an address in {}/{bits}", std::net::Ipv4Addr::from(*net))
        }
        Cond::Cidr(Cidr::V6 { net, bits, .. }) => {
            format!("an address in {}/{bits}", std::net::Ipv6Addr::from(*net))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Pattern;
    use serde_json::json;

    #[test]
    fn numeric_reason() {
        let p =
            Pattern::parse(&json!({"detail": {"amount": [{"numeric": [">=", 1000]}]}})).unwrap();
        let e = p.explain(&json!({"detail": {"amount": 12}}));
        assert_eq!(e.len(), 1);
        assert!(!e[0].matched);
        assert_eq!(e[0].path, "detail.amount");
        assert_eq!(e[0].reason, "detail.amount = 12 is not >= 1000");
        let e = p.explain(&json!({"detail": {}}));
        assert!(e[0].reason.contains("absent"), "{}", e[0].reason);
        assert!(p.explain(&json!({"detail": {"amount": 1000}}))[0].matched);
    }

    #[test]
    fn array_consistency_note() {
        let p = Pattern::parse(&json!({"people": {"first": ["Anna"], "last": ["Jones"]}})).unwrap();
        let ev = json!({"people": [{"first": "Anna", "last": "Smith"}, {"first": "Bob", "last": "Jones"}]});
        let e = p.explain(&ev);
        assert_eq!(e.len(), 3);
        assert!(e[0].matched && e[1].matched && !e[2].matched);
    }
}
