use serde_json::json;

use super::*;

fn messages(value: &Value) -> Vec<String> {
    check(value).iter().map(ToString::to_string).collect()
}

/// A valid scenario to spoil one field at a time.
fn base() -> Value {
    json!({ "name": "t", "duration": "1m",
        "producers": [ { "id": "p", "to": "q", "rate": 5, "arrivals": "poisson" } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "10ms" } } ] })
}

/// Every keyword of a schema (recursively), as (keyword, where).
fn keywords(schema: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(o) => {
            for (k, v) in o {
                out.push((k.clone(), at.to_owned()));
                let here = format!("{at}/{k}");
                match k.as_str() {
                    // Maps of names to schemas.
                    "properties" | "$defs" => {
                        for (name, s) in v.as_object().into_iter().flatten() {
                            keywords(s, &format!("{here}/{name}"), out);
                        }
                    }
                    // Values, not schemas.
                    "const" | "enum" | "default" | "examples" | "required" => {}
                    _ => keywords(v, &here, out),
                }
            }
        }
        Value::Array(a) => {
            for (i, s) in a.iter().enumerate() {
                keywords(s, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_generated_schema_uses_only_keywords_this_pass_applies() {
    let mut found = Vec::new();
    keywords(scenario_schema(), "#", &mut found);
    let unknown: Vec<_> = found
        .iter()
        .filter(|(k, _)| !KEYWORDS.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "teach scenario/schema.rs these keywords: {unknown:?}"
    );
    // The walk did see the schema (a sanity check of the test itself).
    assert!(found.iter().any(|(k, _)| k == "additionalProperties"));
    assert!(found.iter().any(|(k, _)| k == "pattern"));
}

#[test]
fn every_bundled_scenario_fits_the_schema() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let value: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(messages(&value), Vec::<String>::new(), "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 10, "{n} scenarios");
    assert!(check(&base()).is_empty());
}

#[test]
fn ranges_and_types_are_said_in_the_users_words() {
    let mut v = base();
    v["consumers"][0]["concurrency"] = json!(-3);
    v["seed"] = json!("abc");
    v["producers"][0]["rate"] = json!("fast");
    v["queues"][0]["capacity"] = json!(2.5);
    assert_eq!(
        messages(&v),
        [
            "error: producers[0].rate: rate must be a number from 0 to 100,000, got \"fast\"",
            "error: queues[0].capacity: capacity must be a whole number ≥ 0, got 2.5",
            "error: consumers[0].concurrency: concurrency must be a whole number from 1 to 10,000, got -3",
            "error: seed: seed must be a whole number ≥ 0, got \"abc\"",
        ]
    );
    // u32's own range where the model sets none (4294967295 + 1).
    let mut v = base();
    v["queues"][0]["max_receives"] = json!(4_294_967_296_u64);
    assert_eq!(
        messages(&v),
        [
            "error: queues[0].max_receives: max_receives must be a whole number from 0 to 4,294,967,295, got 4294967296"
        ]
    );
}

#[test]
fn enums_tagged_variants_and_durations_get_one_clear_line() {
    let mut v = base();
    v["producers"][0]["arrivals"] = json!("poison");
    v["consumers"][0]["service_time"] = json!({ "constnat": "10ms" });
    v["duration"] = json!("soon");
    v["consumers"][0]["timeout"] = json!(true);
    let m = messages(&v);
    assert_eq!(m.len(), 4, "{m:#?}");
    assert_eq!(
        m[0],
        "error: duration: duration must be a duration: a string with a unit (\"250ms\", \"30s\", \"5m\", \"2h\", \"1d\") or a number of seconds, got \"soon\""
    );
    assert_eq!(
        m[1],
        "error: producers[0].arrivals: arrivals must be one of \"poisson\", \"uniform\", got \"poison\" (did you mean `poisson`?)"
    );
    assert!(
        m[2].starts_with("error: consumers[0].service_time: service_time must be an object with one of the keys `constant`, `exponential`, `uniform`, `lognormal`, got an object")
            && m[2].ends_with("(did you mean `constant`?)"),
        "{}",
        m[2]
    );
    assert!(
        m[3].starts_with("error: consumers[0].timeout: timeout must be a duration"),
        "{}",
        m[3]
    );
    // Inside a variant the problems are the variant's own.
    let mut v = base();
    v["consumers"][0]["service_time"] = json!({ "uniform": ["1ms", "2ms", "3ms"] });
    assert_eq!(
        messages(&v),
        [
            "error: consumers[0].service_time.uniform: uniform must be an array of two values, [x, y], got 3 items"
        ]
    );
    let mut v = base();
    v["consumers"][0]["service_time"] = json!({ "exponential": { "mean": "1ms", "sd": 1 } });
    let m = messages(&v);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(
        m[0].starts_with("error: consumers[0].service_time.exponential.sd: unknown field `sd`"),
        "{}",
        m[0]
    );
}

#[test]
fn unknown_and_missing_fields_are_all_listed_then_counted() {
    let mut v = base();
    v["queues"][0]["capacty"] = json!(5);
    v["producers"][0].as_object_mut().unwrap().remove("to");
    let m = messages(&v);
    assert_eq!(
        m,
        [
            "error: producers[0].to: missing field `to`",
            "error: queues[0].capacty: unknown field `capacty` (did you mean `capacity`?)",
        ]
    );
    let mut v = base();
    for i in 0..100 {
        v["queues"][0][format!("zz{i}")] = json!(1);
    }
    let problems = check(&v);
    assert_eq!(problems.len(), MAX_UNKNOWN_LISTED + 1);
    let last = &problems[MAX_UNKNOWN_LISTED];
    assert_eq!(last.path, "queues[0]");
    assert!(
        last.message
            .starts_with("36 more unknown fields (of 100 here): `zz64`, `zz65`,")
            && last.message.ends_with("`zz83`, …"),
        "{}",
        last.message
    );
}

#[test]
fn keywords_schemars_may_emit_later_are_applied_too() {
    let schema = json!({
        "type": "object",
        "properties": {
            "a": { "type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10 },
            "b": { "enum": ["x", "y"] },
            "c": { "type": "array", "prefixItems": [ { "type": "string" }, { "type": "boolean" } ] },
            "d": { "type": "string", "minLength": 2, "maxLength": 3 },
            "e": { "allOf": [ { "type": "number", "minimum": 1 } ] },
            "f": { "type": "number", "exclusiveMinimum": 0.5 },
            "g": false
        }
    });
    let problems = check_against(
        &json!({ "a": 10, "b": "z", "c": ["s", 1], "d": "long", "e": 0.5, "f": 0.5, "g": 1 }),
        &schema,
    );
    let m: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        m,
        [
            "error: a: a must be a whole number from 1 to 9, got 10",
            "error: b: b must be one of \"x\", \"y\", got \"z\"",
            "error: c[1]: c[1] must be true or false, got 1",
            "error: d: d must be a string of 2 to 3 characters, got \"long\"",
            "error: e: e must be a number ≥ 1, got 0.5",
            "error: f: f must be a number > 0.5, got 0.5",
            "error: g: g is not allowed here",
        ]
    );
    assert!(
        check_against(
            &json!({ "a": 9, "b": "x", "c": ["s", true, 5], "d": "ab", "e": 1, "f": 0.6 }),
            &schema
        )
        .is_empty()
    );
}
