//! Text → JSON → typed scenario, reporting every problem at once.
//!
//! JSON syntax errors give the line and column. Then the raw JSON is checked against the JSON
//! Schema generated from the model types ([`super::schema`]): every type, range, unknown-field
//! and missing-field problem, with its JSON path and in the user's words. The typed read is then
//! done section by section (each producer, bus, queue, … on its own), each wrong value removed
//! or replaced by a placeholder so the read goes on; what it finds beyond the schema (a duration
//! without a unit) is reported too. Then the scenario is migrated and its meaning validated
//! ([`super::validate`]) everywhere but under the values already reported. The errors of a file
//! are located by line and column.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::migrate::migrate_flagged;
use super::problem::{LoadError, Loaded, Problem, Severity};
use super::raw::{duplicate_keys, locate, strip_bom};
use super::schema;
use super::validate::validate;
use super::words::humanize;
use crate::model::Scenario;
use crate::names::did_you_mean;

/// Parses, migrates and validates scenario text; `file` names it in messages.
///
/// # Errors
/// As [`super::load`].
pub fn parse(text: &str, file: &str) -> Result<Loaded, LoadError> {
    let text = strip_bom(text);
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
    let duplicates = duplicate_keys(text);
    let invalid = |problems| LoadError::Invalid {
        file: file.to_owned(),
        problems,
    };
    let problems = match from_value(value) {
        Ok(loaded) if duplicates.is_empty() => return Ok(loaded),
        Ok(loaded) => finish(duplicates, loaded.warnings),
        Err(problems) => finish(duplicates, problems),
    };
    Err(invalid(located(text, problems)))
}

/// The errors with the line and column of their path in `text` (or of the nearest enclosing
/// value there: a missing field is at its object).
fn located(text: &str, mut problems: Vec<Problem>) -> Vec<Problem> {
    let ancestors = |path: &str| {
        let mut out = vec![path.to_owned()];
        let mut p = path;
        while let Some(i) = p.rfind(['.', '[']) {
            p = &p[..i];
            out.push(p.to_owned());
        }
        out
    };
    let errors = || {
        problems
            .iter()
            .filter(|p| p.severity == Severity::Error && !p.path.is_empty())
    };
    let wanted: std::collections::BTreeSet<String> =
        errors().flat_map(|p| ancestors(&p.path)).collect();
    let found = locate(text, &wanted);
    for p in &mut problems {
        if p.severity != Severity::Error || p.path.is_empty() {
            continue;
        }
        if let Some(&(line, column)) = ancestors(&p.path).iter().find_map(|a| found.get(a)) {
            p.line = Some(line);
            p.column = Some(column);
        }
    }
    // Errors in the order of the file, whichever pass found them.
    problems.sort_by_key(|p| (p.severity, p.line.unwrap_or(0), p.column.unwrap_or(0)));
    problems
}

/// `first` then `rest`, errors before warnings, each problem once.
fn finish(first: Vec<Problem>, rest: Vec<Problem>) -> Vec<Problem> {
    let mut all = first;
    all.extend(rest);
    all.sort_by_key(|p| p.severity);
    dedup(all)
}

/// Each problem once (the same message at the same path is said once), in order.
fn dedup(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen = std::collections::BTreeSet::new();
    problems
        .into_iter()
        .filter(|p| seen.insert((p.severity, p.path.clone(), p.message.clone())))
        .collect()
}

fn syntax_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the location is printed separately.
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// What the typed read found wrong where: every problem's path, so that the meaning checks
/// (which see a placeholder there) say nothing more about it.
#[derive(Default)]
struct Read {
    problems: Vec<Problem>,
    /// Paths whose value was wrong and was removed or replaced by a placeholder.
    tainted: Vec<String>,
}

impl Read {
    /// Is `path` at or under a tainted path?
    fn is_tainted(&self, path: &str) -> bool {
        self.tainted.iter().any(|t| within(path, t))
    }
}

/// Is `path` at or under `ancestor` (`a.b[2].c` is under `a.b` and `a.b[2]`)?
fn within(path: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Builds a scenario from parsed JSON.
///
/// Every item of every section is read on its own, and a wrong value is reported and then
/// removed (or replaced by a placeholder when the field is required) so the read goes on: every
/// unknown field, type error and missing field of the file is listed, and the meaning checks
/// ([`validate`]) still run on everything else.
///
/// # Errors
/// Every problem found, errors first, then warnings.
pub fn from_value(value: Value) -> Result<Loaded, Vec<Problem>> {
    let (value, migrated) = migrate_flagged(value).map_err(|p| vec![p])?;
    let Value::Object(mut root) = value else {
        return Err(vec![Problem::error(
            "",
            "a scenario must be a JSON object { … }",
        )]);
    };
    // The first pass: the raw JSON against the schema of the model types.
    let schema_problems = schema::check(&Value::Object(root.clone()));
    let mut read = Read::default();

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
                read.problems.push(Problem::error(
                    key,
                    format!("must be an array, found {}", crate::names::json_type(other)),
                ));
                root.remove(key);
            }
            _ => {}
        }
    }
    let scenario: Option<Scenario> = deserialize_collect(Value::Object(root), "", &mut read);

    // Ids of items that could not be read at all: references to them are not reported.
    let mut lost_ids: Vec<String> = Vec::new();
    macro_rules! section {
        ($key:literal) => {{
            let mut out = Vec::new();
            if let Some((_, items)) = taken.iter_mut().find(|(k, _)| *k == $key) {
                for (i, item) in std::mem::take(items).into_iter().enumerate() {
                    let id = item.get("id").and_then(Value::as_str).map(str::to_owned);
                    match deserialize_collect(item, &format!("{}[{i}]", $key), &mut read) {
                        Some(v) => out.push(v),
                        None => lost_ids.extend(id),
                    }
                }
            }
            out
        }};
    }
    let producers = section!("producers");
    let buses = section!("buses");
    let queues = section!("queues");
    let streams = section!("streams");
    let consumers = section!("consumers");
    let faults = section!("faults");
    let timeline = section!("timeline");

    // The typed read's problems that the schema pass said already (in its words) are dropped;
    // what it adds is what the schema cannot say (a duration's unit, say).
    let said = |p: &Problem| {
        schema_problems
            .iter()
            .any(|s| within(&p.path, &s.path) || within(&s.path, &p.path))
    };
    let beyond: Vec<Problem> = std::mem::take(&mut read.problems)
        .into_iter()
        .filter(|p| !said(p))
        .collect();
    let Some(mut scenario) = scenario else {
        let mut all = schema_problems;
        all.extend(beyond);
        return Err(dedup(all));
    };
    scenario.migrated = crate::model::Migrated(migrated);
    scenario.producers = producers;
    scenario.buses = buses;
    scenario.queues = queues;
    scenario.streams = streams;
    scenario.consumers = consumers;
    scenario.faults = faults;
    scenario.timeline = timeline;
    let lost = |p: &Problem| {
        lost_ids
            .iter()
            .any(|id| p.message.contains(&format!("has id \"{id}\"")))
    };
    // A value the schema finds out of range but that reads (a rate of 1e300) also meets the
    // meaning check written for it: one message is kept, the meaning check's where it says more
    // (a hint: eventflow's bound and why), else the schema's.
    let schema_paths: std::collections::BTreeSet<String> =
        schema_problems.iter().map(|p| p.path.clone()).collect();
    let meaning: Vec<Problem> = validate(&scenario)
        .into_iter()
        .filter(|p| !read.is_tainted(&p.path) && !lost(p))
        .filter(|p| {
            p.severity != Severity::Error || p.hint.is_some() || !schema_paths.contains(&p.path)
        })
        .collect();
    let restated: std::collections::BTreeSet<&str> = meaning
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.path.as_str())
        .collect();
    let mut all: Vec<Problem> = schema_problems
        .into_iter()
        .filter(|p| !restated.contains(p.path.as_str()))
        .collect();
    all.extend(beyond);
    all.extend(meaning);
    if all.iter().any(|p| p.severity == Severity::Error) {
        all.sort_by_key(|p| p.severity);
        return Err(dedup(all));
    }
    Ok(Loaded {
        scenario,
        warnings: dedup(all),
    })
}

/// The most problems reported for one item (a component, or the top level) before giving up on
/// it, with a note that says so.
const MAX_PROBLEMS_PER_ITEM: usize = 1_000;

/// Values tried in place of a wrong or missing required value, so the read of the rest of the
/// item goes on: the first the type accepts is kept.
fn placeholders() -> [Value; 8] {
    [
        Value::from(0),
        Value::from(""),
        Value::from(false),
        Value::Array(Vec::new()),
        Value::Object(serde_json::Map::new()),
        serde_json::json!({ "constant": 0 }),
        serde_json::json!([0, 0]),
        Value::Null,
    ]
}

/// Deserializes `value`, collecting every unknown field, type error and missing field: each is
/// reported, and the value is removed (an unknown field, a wrong optional value) or replaced by
/// a placeholder (a wrong or missing required value), and the read retried. The paths of wrong
/// values go to `read.tainted`.
fn deserialize_collect<T: DeserializeOwned>(
    mut value: Value,
    base: &str,
    read: &mut Read,
) -> Option<T> {
    let mut reported = 0;
    loop {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(v) => return Some(v),
            Err(err) => err,
        };
        reported += 1;
        if reported > MAX_PROBLEMS_PER_ITEM {
            read.problems.push(Problem::error(
                base,
                format!("more than {MAX_PROBLEMS_PER_ITEM} problems here; the rest are not listed"),
            ));
            read.tainted.push(base.to_owned());
            return None;
        }
        let segments: Vec<Seg> = err.path().iter().map(Seg::from).collect();
        let message = err.inner().to_string();
        if let Some((field, expected)) = parse_unknown_field(&message) {
            let mut segments = segments;
            // The path names the unknown field itself; its object is one level up.
            if matches!(segments.last(), Some(Seg::Key(k)) if *k == field) {
                segments.pop();
            }
            let path = join_key(&join_path(base, &segments), &field);
            let hint = did_you_mean(&field, expected.iter().map(String::as_str));
            read.problems.push(
                Problem::error(path, format!("unknown field `{field}`")).hint(
                    hint.or_else(|| Some(format!("expected one of: {}", expected.join(", ")))),
                ),
            );
            if remove_at(&mut value, &segments, &field) {
                continue;
            }
            return None;
        }
        if let Some(field) = parse_missing_field(&message) {
            let path = join_key(&join_path(base, &segments), &field);
            if !read.is_tainted(&path) {
                read.problems.push(Problem::error(
                    path.clone(),
                    format!("missing field `{field}`"),
                ));
                read.tainted.push(path);
            }
            let mut at = segments;
            at.push(Seg::Key(field));
            if place::<T>(&mut value, &at, base) {
                continue;
            }
            return None;
        }
        let path = join_path(base, &segments);
        let field = match segments.last() {
            Some(Seg::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        // A wrong value inside one already reported (its placeholder's parts) is not news.
        if !read.tainted.iter().any(|t| within(t, &path)) {
            read.problems
                .push(Problem::error(path.clone(), humanize(&message, field)));
        }
        read.tainted.push(path);
        let removed = match segments.split_last() {
            Some((Seg::Key(k), parent)) => remove_at(&mut value, parent, k),
            _ => false,
        };
        if removed || (!segments.is_empty() && place::<T>(&mut value, &segments, base)) {
            continue;
        }
        return None;
    }
}

/// Puts the first placeholder `T` accepts at `segs` (accepts: the read then fails elsewhere,
/// or not at all).
fn place<T: DeserializeOwned>(value: &mut Value, segs: &[Seg], base: &str) -> bool {
    let target = join_path(base, segs);
    for candidate in placeholders() {
        if !set_at(value, segs, candidate) {
            return false;
        }
        match serde_path_to_error::deserialize::<_, T>(&*value) {
            Ok(_) => return true,
            Err(e) => {
                let segments: Vec<Seg> = e.path().iter().map(Seg::from).collect();
                let at = join_path(base, &segments);
                let missing =
                    parse_missing_field(&e.inner().to_string()).map(|f| join_key(&at, &f));
                if !within(&at, &target) && missing.as_deref() != Some(target.as_str()) {
                    return true;
                }
            }
        }
    }
    false
}

/// `path.key` (or `key` at the root).
fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
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

/// Sets the value at `segs` (creating the last key of an object).
fn set_at(value: &mut Value, segs: &[Seg], new: Value) -> bool {
    let Some((last, parent)) = segs.split_last() else {
        return false;
    };
    let mut cur = value;
    for s in parent {
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
    match (last, cur) {
        (Seg::Key(k), Value::Object(m)) => {
            m.insert(k.clone(), new);
            true
        }
        (Seg::Index(i), Value::Array(a)) if *i < a.len() => {
            a[*i] = new;
            true
        }
        _ => false,
    }
}

fn parse_missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_owned())
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
        let text = MINIMAL.replacen('{', r#"{ "format": "eventflow/3","#, 1);
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
