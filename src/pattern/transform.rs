//! `EventBridge` target input transformation: what a rule target receives instead of the whole
//! event. Two forms, as in `EventBridge`:
//!
//! - `InputPath` `{"input_path": "$.detail"}`: the part of the event at a JSON path;
//! - `InputTransformer` `{"paths": {"name": "$.detail.x", …}, "template": "…<name>…"}`: values
//!   picked by path and substituted into a template.
//!
//! Template semantics follow `EventBridge`: a placeholder inside a JSON string literal of the
//! template gets the value's text (a string's content without quotes), elsewhere it gets the
//! value as JSON. A path that resolves to nothing gives `null` (or nothing, inside a string).
//! Reserved placeholders: `<aws.events.event>` (the event as JSON),
//! `<aws.events.event.json>` (the event as a JSON string), `<aws.events.rule-name>`,
//! `<aws.events.rule-arn>` and `<aws.events.event.ingestion-time>`. When the result is not valid
//! JSON, the target receives it as a JSON string.
//!
//! One deliberate difference: text substituted inside a string literal is JSON-escaped, so a
//! value containing `"` keeps the result valid JSON (`EventBridge` would produce broken JSON).

use serde_json::{Map, Value};

use super::PatternError;
use super::parse::did_you_mean;

/// A target input transformation.
#[derive(Debug, Clone, PartialEq)]
pub enum Transform {
    /// `EventBridge` `InputPath`: the target receives the part of the event at a path.
    InputPath(InputPath),
    /// `EventBridge` `InputTransformer`: values picked by path, substituted into a template.
    InputTransformer(InputTransformer),
}

/// A JSON path such as `$.detail.items[0].sku` (`EventBridge`'s subset: `$`, `.name`,
/// `['name']`, `[index]`).
#[derive(Debug, Clone, PartialEq)]
pub struct InputPath {
    source: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A parsed `InputTransformer`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTransformer {
    /// Placeholder names and their paths, in the order written.
    paths: Vec<(String, InputPath)>,
    template: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    /// A placeholder; `in_string` when it stands inside a JSON string literal of the template.
    Var {
        var: Var,
        in_string: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Var {
    Path(usize),
    Event,
    EventJson,
    RuleName,
    RuleArn,
    IngestionTime,
}

const RESERVED: &[(&str, Var)] = &[
    ("aws.events.event", Var::Event),
    ("aws.events.event.json", Var::EventJson),
    ("aws.events.rule-name", Var::RuleName),
    ("aws.events.rule-arn", Var::RuleArn),
    ("aws.events.event.ingestion-time", Var::IngestionTime),
];

impl InputPath {
    /// Parses a JSON path; `path` locates it in error messages.
    fn parse(s: &str, path: &str) -> Result<InputPath, PatternError> {
        let bad = |m: &str| {
            Err(PatternError::new(
                path,
                format!("invalid JSON path {s:?}: {m}"),
            ))
        };
        let Some(mut rest) = s.strip_prefix('$') else {
            return bad("a path starts with $, as \"$.detail.orderId\"");
        };
        let mut segments = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                if end == 0 {
                    return bad("empty field name after '.'");
                }
                segments.push(Segment::Key(r[..end].to_owned()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix("['") {
                let Some(end) = r.find("']") else {
                    return bad("unclosed ['…']");
                };
                segments.push(Segment::Key(r[..end].to_owned()));
                rest = &r[end + 2..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let Some(end) = r.find(']') else {
                    return bad("unclosed [");
                };
                match r[..end].parse::<usize>() {
                    Ok(i) => segments.push(Segment::Index(i)),
                    Err(_) => {
                        return bad("an index in [ ] must be a whole number (or use ['name'])");
                    }
                }
                rest = &r[end + 1..];
            } else {
                return bad("expected '.' or '[' after a path element");
            }
        }
        Ok(InputPath {
            source: s.to_owned(),
            segments,
        })
    }

    /// The value at this path, if any.
    #[must_use]
    pub fn resolve<'e>(&self, event: &'e Value) -> Option<&'e Value> {
        self.segments.iter().try_fold(event, |v, seg| match seg {
            Segment::Key(k) => v.get(k.as_str()),
            Segment::Index(i) => v.get(*i),
        })
    }

    /// The path as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

impl Transform {
    /// Accepts `{"input_path": "$.detail"}` (`InputPath`) or
    /// `{"paths": {"name": "$.detail.x", …}, "template": "…<name>…"}` (`InputTransformer`).
    /// Errors carry the path inside the transform object (`paths.name`, `template`).
    pub fn parse(v: &Value) -> Result<Transform, Vec<PatternError>> {
        let Value::Object(m) = v else {
            return Err(vec![PatternError::new(
                "",
                "a transform is an object: {\"input_path\": \"$.detail\"} or {\"paths\": {…}, \"template\": \"…\"}",
            )]);
        };
        const KEYS: &[&str] = &["input_path", "paths", "template"];
        let mut errs = Vec::new();
        for k in m.keys() {
            if !KEYS.contains(&k.as_str()) {
                errs.push(PatternError::new(
                    k.as_str(),
                    format!(
                        "unknown transform field{}; use input_path, or paths and template",
                        did_you_mean(k, KEYS)
                    ),
                ));
            }
        }
        if let Some(ip) = m.get("input_path") {
            if m.contains_key("paths") || m.contains_key("template") {
                errs.push(PatternError::new(
                    "input_path",
                    "input_path cannot be combined with paths/template: choose one form",
                ));
            }
            let parsed = if let Value::String(s) = ip {
                InputPath::parse(s, "input_path")
                    .map_err(|e| errs.push(e))
                    .ok()
            } else {
                errs.push(PatternError::new(
                    "input_path",
                    "input_path must be a string such as \"$.detail\"",
                ));
                None
            };
            return match (parsed, errs.is_empty()) {
                (Some(p), true) => Ok(Transform::InputPath(p)),
                _ => Err(errs),
            };
        }
        let paths = parse_paths(m, &mut errs);
        let template = match m.get("template") {
            Some(Value::String(t)) => {
                // Names whose path was invalid were already reported: don't report them again.
                let declared: Vec<&str> = match m.get("paths") {
                    Some(Value::Object(ps)) => ps.keys().map(String::as_str).collect(),
                    _ => Vec::new(),
                };
                parse_template(t, &paths, &declared, &mut errs)
            }
            Some(_) => {
                errs.push(PatternError::new("template", "template must be a string"));
                Vec::new()
            }
            None => {
                errs.push(PatternError::new(
                    "template",
                    "missing template (or use input_path for the InputPath form)",
                ));
                Vec::new()
            }
        };
        if errs.is_empty() {
            Ok(Transform::InputTransformer(InputTransformer {
                paths,
                template,
            }))
        } else {
            Err(errs)
        }
    }

    /// What the target receives for this event.
    #[must_use]
    pub fn apply(&self, event: &Value, rule_name: &str) -> Value {
        match self {
            Transform::InputPath(p) => p.resolve(event).cloned().unwrap_or(Value::Null),
            Transform::InputTransformer(t) => t.apply(event, rule_name),
        }
    }
}

fn parse_paths(m: &Map<String, Value>, errs: &mut Vec<PatternError>) -> Vec<(String, InputPath)> {
    let mut out = Vec::new();
    match m.get("paths") {
        None => {}
        Some(Value::Object(ps)) => {
            for (name, p) in ps {
                let at = format!("paths.{name}");
                if name.is_empty() || !name.chars().all(is_name_char) {
                    errs.push(PatternError::new(
                        at.as_str(),
                        "a placeholder name uses letters, digits, '_', '-' and '.'",
                    ));
                    continue;
                }
                if name.starts_with("aws.") {
                    errs.push(PatternError::new(
                        at.as_str(),
                        "names starting with \"aws.\" are reserved by EventBridge",
                    ));
                    continue;
                }
                match p {
                    Value::String(s) => match InputPath::parse(s, &at) {
                        Ok(ip) => out.push((name.clone(), ip)),
                        Err(e) => errs.push(e),
                    },
                    _ => errs.push(PatternError::new(
                        at,
                        "a path must be a string such as \"$.detail.orderId\"",
                    )),
                }
            }
        }
        Some(_) => errs.push(PatternError::new(
            "paths",
            "paths must be an object mapping names to JSON paths",
        )),
    }
    out
}

/// Splits the template into text and placeholders, noting for each whether it sits inside a
/// JSON string literal (tracked by scanning quotes and backslash escapes).
fn parse_template(
    t: &str,
    paths: &[(String, InputPath)],
    declared: &[&str],
    errs: &mut Vec<PatternError>,
) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if c == '<' && !escaped {
            let body = &rest[1..];
            let end = body.find('>');
            let name = end.map(|e| &body[..e]);
            if let Some(name) = name.filter(|n| !n.is_empty() && n.chars().all(is_name_char)) {
                let var = if let Some(i) = paths.iter().position(|(n, _)| n == name) {
                    Some(Var::Path(i))
                } else if let Some((_, v)) = RESERVED.iter().find(|(n, _)| *n == name) {
                    Some(v.clone())
                } else if declared.contains(&name) {
                    None
                } else {
                    let names: Vec<&str> = paths
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .chain(RESERVED.iter().map(|(n, _)| *n))
                        .collect();
                    errs.push(PatternError::new(
                        "template",
                        format!(
                            "placeholder <{name}> is not defined in paths{}",
                            did_you_mean(name, &names)
                        ),
                    ));
                    None
                };
                if let Some(var) = var {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Var { var, in_string });
                }
                rest = &body[name.len() + 1..];
                continue;
            }
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    parts
}

/// Appends `s` JSON-escaped, without the surrounding quotes.
fn push_escaped(out: &mut String, s: &str) {
    let quoted = Value::String(s.to_owned()).to_string();
    out.push_str(&quoted[1..quoted.len() - 1]);
}

impl InputTransformer {
    fn apply(&self, event: &Value, rule_name: &str) -> Value {
        let mut out = String::new();
        for part in &self.template {
            let (var, in_string) = match part {
                Part::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Part::Var { var, in_string } => (var, *in_string),
            };
            let owned;
            let value: Option<&Value> = match var {
                Var::Path(i) => self.paths.get(*i).and_then(|(_, p)| p.resolve(event)),
                Var::Event => Some(event),
                Var::EventJson => {
                    owned = Value::String(event.to_string());
                    Some(&owned)
                }
                Var::RuleName => {
                    owned = Value::String(rule_name.to_owned());
                    Some(&owned)
                }
                Var::RuleArn => {
                    let field = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or("");
                    owned = Value::String(format!(
                        "arn:aws:events:{}:{}:rule/{rule_name}",
                        field("region"),
                        field("account")
                    ));
                    Some(&owned)
                }
                Var::IngestionTime => event.get("time"),
            };
            match (value, in_string) {
                (None, true) => {}
                (None, false) => out.push_str("null"),
                (Some(Value::String(s)), true) => push_escaped(&mut out, s),
                (Some(v), true) => push_escaped(&mut out, &v.to_string()),
                (Some(v), false) => out.push_str(&v.to_string()),
            }
        }
        serde_json::from_str(&out).unwrap_or(Value::String(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_paths() {
        let e = json!({"detail": {"items": [{"sku": "A"}], "a.b": 1}});
        let p = |s: &str| InputPath::parse(s, "x").unwrap();
        assert_eq!(p("$").resolve(&e), Some(&e));
        assert_eq!(p("$.detail.items[0].sku").resolve(&e), Some(&json!("A")));
        assert_eq!(p("$.detail['a.b']").resolve(&e), Some(&json!(1)));
        assert_eq!(p("$.detail.nope").resolve(&e), None);
        for bad in ["detail", "$.", "$[x]", "$..a", "$.a[", "$x"] {
            assert!(InputPath::parse(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn template_errors() {
        let e = Transform::parse(&json!({"paths": {"id": "$.detail.id"}, "template": "<idd>"}))
            .unwrap_err();
        assert_eq!(e[0].path, "template");
        assert!(
            e[0].message.contains("did you mean \"id\""),
            "{}",
            e[0].message
        );
        let e = Transform::parse(&json!({"paths": {"id": "detail.id"}, "template": "<id>"}))
            .unwrap_err();
        assert_eq!(e[0].path, "paths.id");
        let e = Transform::parse(&json!({"input_paht": "$"})).unwrap_err();
        assert_eq!(e[0].path, "input_paht");
    }
}
