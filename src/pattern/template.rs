//! The static check behind the `eventflow check` lint "this rule can never match what its
//! producers send": evaluates a pattern against a producer's event *template*, where generator
//! objects (`{"$seq": …}`, `{"$choice": …}`, …) stand for values not known until run time.
//!
//! The check is conservative: it answers false only when no event the template can produce
//! could match, so a lint built on it never cries wolf.

use serde_json::Value;

use super::Pattern;
use super::matcher::{Node, NodeField, field_matches, node_matches};

/// Envelope fields the engine fills in, whatever the template says.
const ENGINE_FIELDS: &[&str] = &["id", "time", "account", "region", "version", "resources"];

pub(crate) fn may_match(p: &Pattern, template: &Value) -> bool {
    p.alts.iter().any(|n| node_may(n, Some(template), true))
}

/// A generator: an object with exactly one key, starting with `$`.
fn is_generator(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 1 && m.keys().all(|k| k.starts_with('$')))
}

fn contains_generator(v: &Value) -> bool {
    match v {
        Value::Object(m) => is_generator(v) || m.values().any(contains_generator),
        Value::Array(items) => items.iter().any(contains_generator),
        _ => false,
    }
}

/// The values a generator can produce, when they are known (`$choice`, `$bool`).
fn generator_values(v: &Value) -> Option<Vec<Value>> {
    let Value::Object(m) = v else { return None };
    let (k, arg) = m.iter().next()?;
    match (k.as_str(), arg) {
        ("$choice", Value::Object(weights)) => {
            Some(weights.keys().map(|k| Value::String(k.clone())).collect())
        }
        ("$bool", _) => Some(vec![Value::Bool(true), Value::Bool(false)]),
        _ => None,
    }
}

fn node_may(node: &Node, t: Option<&Value>, root: bool) -> bool {
    match t {
        Some(v) if is_generator(v) => true,
        Some(Value::Object(map)) => node
            .fields
            .iter()
            .all(|f| (root && ENGINE_FIELDS.contains(&&*f.key)) || field_may(f, map.get(&*f.key))),
        Some(v @ Value::Array(_)) if contains_generator(v) => true,
        // Concrete values: the exact evaluation applies.
        _ => node_matches(node, t),
    }
}

fn field_may(f: &NodeField, t: Option<&Value>) -> bool {
    match t {
        Some(v) if is_generator(v) => match generator_values(v) {
            Some(values) => values.iter().any(|x| field_matches(f, Some(x))),
            None => true,
        },
        Some(v @ Value::Array(_)) if contains_generator(v) => true,
        Some(v @ Value::Object(_)) => {
            // An object is never a leaf, whatever generators it holds; nested fields recurse.
            f.leaves
                .iter()
                .all(|leaf| leaf.iter().any(|c| c.matches_field(Some(v))))
                && f.child.as_ref().is_none_or(|c| node_may(c, Some(v), false))
        }
        _ => field_matches(f, t),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Pattern;
    use serde_json::json;

    fn may(p: serde_json::Value, t: serde_json::Value) -> bool {
        Pattern::parse(&p).unwrap().may_match_template(&t)
    }

    #[test]
    fn literal_and_generators() {
        let t = json!({
            "source": "com.shop.orders", "detail-type": "OrderPlaced",
            "detail": {
                "orderId": {"$seq": "ORD-"},
                "totalAmount": {"$lognormal": {"mean": 120, "stddev": 300}},
                "currency": {"$choice": {"USD": 0.7, "EUR": 0.3}},
                "gift": {"$bool": 0.1},
                "channel": "web"
            }
        });
        assert!(may(json!({"source": ["com.shop.orders"]}), t.clone()));
        assert!(!may(json!({"source": ["com.shop.payments"]}), t.clone()));
        assert!(may(
            json!({"detail": {"totalAmount": [{"numeric": [">=", 1000]}]}}),
            t.clone()
        ));
        assert!(may(json!({"detail": {"currency": ["EUR"]}}), t.clone()));
        assert!(!may(json!({"detail": {"currency": ["JPY"]}}), t.clone()));
        assert!(may(json!({"detail": {"gift": [false]}}), t.clone()));
        assert!(!may(json!({"detail": {"gift": ["false"]}}), t.clone()));
        assert!(!may(json!({"detail": {"channel": ["mobile"]}}), t.clone()));
        assert!(!may(json!({"detail": {"missing": ["x"]}}), t.clone()));
        assert!(may(
            json!({"detail": {"missing": [{"exists": false}]}}),
            t.clone()
        ));
        assert!(may(
            json!({"account": ["123456789012"], "region": ["eu-west-1"]}),
            t.clone()
        ));
        assert!(may(
            json!({"$or": [{"source": ["nope"]}, {"detail": {"channel": ["web"]}}]}),
            t.clone()
        ));
        assert!(may(json!({"detail": {"orderId": [{"prefix": "XYZ"}]}}), t));
    }
}
