//! Traffic a template does not carry: one producer per entry point, at an assumed rate, with an
//! event synthesized to match what it feeds.
//!
//! Entry points are the places events come from outside the template: each rule of a bus that
//! nothing in the template sends to (AWS services' events arrive on `default`; an application
//! calls `PutEvents` on a custom bus), each queue, stream or topic nothing in the template
//! writes to (and that is not a dead-letter queue), each API route or other trigger of a
//! function, and each function nothing in the template invokes (these through a bus of their
//! own, since producers send to buses, queues and streams).

use serde_json::{Map, Value, json};

use super::mapping::{Built, Kind};

/// Events per second of each entry point's producer: an assumption the report names first.
pub const DEFAULT_RATE: f64 = 10.0;

/// The source of events eventflow makes up for entry points that match anything.
pub const IMPORT_SOURCE: &str = "eventflow.import";

/// Adds the producers.
pub fn add_entry_points(b: &mut Built) {
    let sent_to: Vec<String> = b
        .comps
        .iter()
        .filter(|c| c.kind == Kind::Producer)
        .filter_map(|c| c.body.get("to").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let written = |b: &Built, id: &str| b.written.contains(id) || sent_to.iter().any(|s| s == id);
    let mut new: Vec<(String, Map<String, Value>, String)> = Vec::new();
    for c in &b.comps {
        let id = c.body["id"].as_str().unwrap_or_default().to_owned();
        match c.kind {
            Kind::Bus if !written(b, &id) => {
                for r in c
                    .body
                    .get("rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let rule = r["id"].as_str().unwrap_or_default();
                    let event = synthesize_event(&r["pattern"]);
                    new.push((
                        format!("{rule}.traffic"),
                        producer(&id, event),
                        format!("events from outside the template into bus `{id}`, made to match rule `{rule}`"),
                    ));
                }
            }
            Kind::Queue | Kind::Stream if !written(b, &id) && !b.dead_letters.contains(&id) => {
                let words = if c.kind == Kind::Queue {
                    "queue"
                } else {
                    "stream"
                };
                // Each reader that filters gets traffic its filter passes (two pipes reading
                // one stream for INSERT and MODIFY records both see events).
                let filters = reader_filters(b, &id);
                if filters.is_empty() {
                    new.push((
                        format!("{id}.traffic"),
                        producer(&id, plain_event()),
                        format!("messages from outside the template into {words} `{id}`"),
                    ));
                }
                for (i, (reader, f)) in filters.into_iter().enumerate() {
                    let event = synthesize(&f).unwrap_or_else(plain_event);
                    let name = if i == 0 {
                        format!("{id}.traffic")
                    } else {
                        format!("{id}.traffic.{reader}")
                    };
                    new.push((
                        name,
                        producer(&id, event),
                        format!(
                            "messages from outside the template into {words} `{id}`, made to pass the filter of `{reader}`"
                        ),
                    ));
                }
            }
            Kind::Topic if !written(b, &id) => {
                let subs = c
                    .body
                    .get("subscriptions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if subs.is_empty() {
                    continue;
                }
                let mut event = plain_event();
                if let Some(s) = subs.iter().find(|s| s.get("filter").is_some())
                    && let Some(m) = synthesize(&s["filter"])
                {
                    if s.get("filter_scope").and_then(Value::as_str) == Some("body") {
                        merge(&mut event, m);
                    } else {
                        event["attributes"] = m;
                    }
                }
                new.push((
                    format!("{id}.traffic"),
                    producer(&id, event),
                    format!("messages published to topic `{id}` from outside the template"),
                ));
            }
            _ => {}
        }
    }
    // A function nothing in the template triggers is invoked from outside it (an application,
    // an integration the template does not describe).
    let untriggered: Vec<String> = b
        .comps
        .iter()
        .filter(|c| c.kind == Kind::Consumer && !c.external)
        .filter(|c| {
            c.body.get("kind").and_then(Value::as_str) == Some("function")
                && !c.body.contains_key("from")
        })
        .filter_map(|c| c.body["id"].as_str().map(str::to_owned))
        .filter(|id| !b.invoked.contains(id) && !b.entry_points.iter().any(|(_, t, _)| t == id))
        .collect();
    for f in untriggered {
        b.entry_points.push((
            format!("{f}.invocations"),
            f,
            "invocations from outside the template (it names no trigger)".to_owned(),
        ));
    }
    for (entry, target, what) in b.entry_points.clone() {
        let bus = b.fresh(&format!("{entry}.entry"));
        let rule = b.fresh(&format!("{entry}.route"));
        b.add(
            Kind::Bus,
            &bus,
            json!({ "rules": [ { "id": rule, "pattern": { "source": [IMPORT_SOURCE] }, "targets": [ { "to": target } ] } ] })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            false,
        );
        let event = json!({ "source": IMPORT_SOURCE, "detail-type": what, "detail": {} });
        new.push((
            entry.clone(),
            producer(&bus, event),
            format!("{what}, invoking `{target}` through bus `{bus}`"),
        ));
    }
    for (id, body, words) in new {
        let id = b.fresh(&id);
        b.add(Kind::Producer, &id, body, false);
        b.assume(
            Some(&id),
            format!("{DEFAULT_RATE} events per second (Poisson) of {words}"),
        );
    }
}

fn producer(to: &str, event: Value) -> Map<String, Value> {
    json!({ "to": to, "rate": DEFAULT_RATE, "event": event })
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn plain_event() -> Value {
    json!({ "source": IMPORT_SOURCE, "detail-type": "Imported", "detail": { "id": { "$seq": "E-" } } })
}

/// The first filter of each consumer or pipe that reads `id` (with the reader's id), each
/// distinct filter once, in template order.
fn reader_filters(b: &Built, id: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for c in &b.comps {
        let reads = match c.kind {
            Kind::Consumer => c.body.get("from"),
            Kind::Pipe => c.body.get("source"),
            _ => None,
        };
        if reads.and_then(Value::as_str) != Some(id) {
            continue;
        }
        if let Some(f) = c
            .body
            .get("filter")
            .and_then(Value::as_array)
            .and_then(|f| f.first())
            && !out.iter().any(|(_, g)| g == f)
        {
            let reader = c.body["id"].as_str().unwrap_or_default().to_owned();
            out.push((reader, f.clone()));
        }
    }
    out
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(x) if x.is_object() && v.is_object() => merge(x, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// An event for a bus rule: the pattern's match, with an envelope's `source` and
/// `detail-type` when the pattern leaves them open.
fn synthesize_event(pattern: &Value) -> Value {
    let mut e = synthesize(pattern).unwrap_or_else(|| json!({}));
    if let Value::Object(m) = &mut e {
        m.entry("source").or_insert_with(|| IMPORT_SOURCE.into());
        m.entry("detail-type").or_insert_with(|| "Imported".into());
        m.entry("detail").or_insert_with(|| json!({}));
    }
    e
}

/// A value that an `EventBridge` pattern (or SNS filter policy) matches, when one is easy to
/// find: literal values as they are, `prefix`/`suffix`/`wildcard` filled in, a number inside a
/// `numeric` range, an address inside a `cidr`, `anything-but` avoided, `$or` by its first
/// branch. `None` for a part no value can match as written.
#[must_use]
pub fn synthesize(pattern: &Value) -> Option<Value> {
    let Value::Object(m) = pattern else {
        return None;
    };
    let mut out = Map::new();
    for (k, v) in m {
        if k == "$or" {
            if let Some(first) = v.as_array().and_then(|a| a.first()).and_then(synthesize) {
                merge_map(&mut out, first);
            }
            continue;
        }
        match v {
            Value::Object(_) => {
                if let Some(inner) = synthesize(v) {
                    out.insert(k.clone(), inner);
                }
            }
            Value::Array(alts) => match one_of(alts) {
                Some(Some(value)) => {
                    out.insert(k.clone(), value);
                }
                Some(None) => {} // `exists: false`: leave the field out
                None => {}
            },
            _ => {}
        }
    }
    Some(Value::Object(out))
}

fn merge_map(out: &mut Map<String, Value>, v: Value) {
    if let Value::Object(m) = v {
        for (k, v) in m {
            out.insert(k, v);
        }
    }
}

/// A value matching one of a pattern array's alternatives: `Some(None)` when the field must be
/// absent.
fn one_of(alts: &[Value]) -> Option<Option<Value>> {
    for a in alts {
        match a {
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {
                return Some(Some(a.clone()));
            }
            Value::Object(op) => {
                if let Some(v) = operator(op) {
                    return Some(v);
                }
            }
            Value::Array(_) => {}
        }
    }
    None
}

fn operator(op: &Map<String, Value>) -> Option<Option<Value>> {
    let (name, arg) = op.iter().next()?;
    let s = |v: &Value| v.as_str().map(str::to_owned);
    Some(Some(match name.as_str() {
        "prefix" => match arg {
            Value::Object(m) => Value::String(format!("{}x", s(m.values().next()?)?)),
            _ => Value::String(format!("{}x", s(arg)?)),
        },
        "suffix" => match arg {
            Value::Object(m) => Value::String(format!("x{}", s(m.values().next()?)?)),
            _ => Value::String(format!("x{}", s(arg)?)),
        },
        "equals-ignore-case" => arg.clone(),
        "wildcard" => Value::String(s(arg)?.replace('*', "x")),
        "exists" => {
            if arg == &Value::Bool(false) {
                return Some(None);
            }
            Value::String("present".into())
        }
        "anything-but" => {
            let avoid: Vec<Value> = match arg {
                Value::Array(a) => a.clone(),
                Value::Object(m) => {
                    // anything-but {prefix: p} / {suffix: s}
                    let p = m
                        .values()
                        .next()
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    return Some(Some(Value::String(
                        format!("not-{p}-x").replace(p, "").replace("--", "-"),
                    )));
                }
                other => vec![other.clone()],
            };
            if avoid.iter().all(Value::is_number) {
                let max = avoid
                    .iter()
                    .filter_map(Value::as_f64)
                    .fold(0.0_f64, f64::max);
                json!(max + 1.0)
            } else {
                let mut candidate = "other".to_owned();
                while avoid.iter().any(|v| v.as_str() == Some(&candidate)) {
                    candidate.push('x');
                }
                Value::String(candidate)
            }
        }
        "numeric" => json!(numeric(arg.as_array()?)?),
        "cidr" => {
            let net = s(arg)?;
            let base = net.split('/').next()?;
            if let Ok(ip) = base.parse::<std::net::Ipv4Addr>() {
                let [a, b, c, d] = ip.octets();
                Value::String(format!("{a}.{b}.{c}.{}", d.saturating_add(1)))
            } else {
                Value::String(base.to_owned())
            }
        }
        _ => return None,
    }))
}

/// A number inside `[">", 0, "<=", 5]`.
fn numeric(ops: &[Value]) -> Option<f64> {
    let mut lo = f64::NEG_INFINITY;
    let mut lo_open = false;
    let mut hi = f64::INFINITY;
    let mut hi_open = false;
    let mut eq = None;
    for pair in ops.chunks(2) {
        let [op, n] = pair else { return None };
        let n = n.as_f64()?;
        match op.as_str()? {
            ">" => (lo, lo_open) = (n, true),
            ">=" => (lo, lo_open) = (n, false),
            "<" => (hi, hi_open) = (n, true),
            "<=" => (hi, hi_open) = (n, false),
            "=" => eq = Some(n),
            _ => return None,
        }
    }
    if let Some(e) = eq {
        return Some(e);
    }
    let v = match (lo.is_finite(), hi.is_finite()) {
        (true, true) => f64::midpoint(lo, hi),
        (true, false) => {
            if lo_open {
                lo + 1.0
            } else {
                lo
            }
        }
        (false, true) => {
            if hi_open {
                hi - 1.0
            } else {
                hi
            }
        }
        (false, false) => 0.0,
    };
    let _ = (lo_open, hi_open);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Pattern;

    fn matches(pattern: &Value, event: &Value) -> bool {
        Pattern::parse(pattern)
            .expect("valid pattern")
            .matches(event)
    }

    #[test]
    fn synthesized_events_match_their_patterns() {
        let patterns = [
            json!({"source": ["a.b"], "detail-type": ["T"], "detail": {"amount": [{"numeric": [">", 0, "<=", 5]}]}}),
            json!({"detail": {"key": [{"prefix": "us-"}], "file": [{"suffix": ".csv"}]}}),
            json!({"detail": {"state": [{"anything-but": ["GA", "other"]}], "ip": [{"cidr": "10.0.0.0/24"}]}}),
            json!({"detail": {"x": [{"exists": true}], "y": [{"exists": false}], "n": [{"anything-but": [1, 2]}]}}),
            json!({"detail": {"k": [{"wildcard": "*/XYZ/*.csv"}], "c": [{"equals-ignore-case": "Yes"}]}}),
            json!({"$or": [{"source": ["x"]}, {"detail-type": ["y"]}]}),
            json!({"detail": {"n": [{"numeric": [">=", 100]}], "m": [{"numeric": ["<", 10]}]}}),
        ];
        for p in &patterns {
            let e = synthesize_event(p);
            assert!(matches(p, &e), "{p} vs {e}");
        }
    }
}
