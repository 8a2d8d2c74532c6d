//! Text → JSON → typed scenario, reporting every problem at once.
//!
//! JSON syntax errors give the line and column. The typed read is done section by section
//! (each producer, bus, queue, … on its own), collecting every unknown field (with a "did you
//! mean" hint) and the first type error of each item, with its JSON path; serde's messages are
//! tidied (no duplicate location, "unknown value" for "unknown variant"). Then the scenario is
//! migrated and validated ([`super::validate`]).

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::migrate::migrate;
use super::problem::{LoadError, Loaded, Problem, Severity};
use super::validate::validate;
use crate::model::Scenario;
use crate::names::did_you_mean;

/// Parses, migrates and validates scenario text; `file` names it in messages.
///
/// # Errors
/// As [`super::load`].
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
                    format!("must be an array, found {}", crate::names::json_type(other)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FORMAT;
    use crate::scenario::load;
    use std::path::Path;

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
