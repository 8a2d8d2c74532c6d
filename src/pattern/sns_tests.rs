//! Unit tests of SNS filter policies: each operator as the SNS developer guide documents it,
//! and each difference from `EventBridge` patterns (the module docs list the pages).

use serde_json::{Value, json};

use super::{FilterPolicy, FilterScope};
use crate::pattern::Pattern;

fn attrs(policy: Value, attributes: Value) -> bool {
    FilterPolicy::parse(&policy, FilterScope::Attributes)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .matches(&json!({ "attributes": attributes }))
}

fn body(policy: Value, event: Value) -> bool {
    FilterPolicy::parse(&policy, FilterScope::Body)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .matches(&event)
}

fn error_paths(policy: Value, scope: FilterScope) -> Vec<String> {
    FilterPolicy::parse(&policy, scope)
        .expect_err("policy should be refused")
        .into_iter()
        .map(|e| if e.path.is_empty() { e.message } else { e.path })
        .collect()
}

#[test]
fn exact_strings_and_string_arrays() {
    // string-value-matching.html: ["rugby", "tennis"] matches String "rugby", "tennis" and the
    // String.Array ["rugby", "tennis"]; not "baseball" nor ["baseball"].
    let p = json!({"customer_interests": ["rugby", "tennis"]});
    for yes in [
        json!({"customer_interests": {"Type": "String", "Value": "rugby"}}),
        json!({"customer_interests": "tennis"}),
        json!({"customer_interests": {"Type": "String.Array", "Value": "[\"rugby\", \"tennis\"]"}}),
        json!({"customer_interests": ["football", "rugby"]}),
    ] {
        assert!(attrs(p.clone(), yes.clone()), "{yes}");
    }
    for no in [
        json!({"customer_interests": {"Type": "String", "Value": "baseball"}}),
        json!({"customer_interests": {"Type": "String.Array", "Value": "[\"baseball\"]"}}),
        json!({"other": "rugby"}),
    ] {
        assert!(!attrs(p.clone(), no.clone()), "{no}");
    }
    assert!(body(p.clone(), json!({"customer_interests": "rugby"})));
    assert!(!body(p, json!({"customer_interests": "baseball"})));
}

#[test]
fn and_across_properties_or_within() {
    let p = json!({"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]});
    assert!(attrs(
        p.clone(),
        json!({"customer_interests": "rugby", "price_usd": 150})
    ));
    assert!(!attrs(
        p.clone(),
        json!({"customer_interests": "rugby", "price_usd": 50})
    ));
    assert!(!attrs(p, json!({"customer_interests": "rugby"})));
}

#[test]
fn anything_but_values_lists_prefix_suffix() {
    let p = json!({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]});
    assert!(attrs(p.clone(), json!({"customer_interests": "baseball"})));
    assert!(!attrs(p.clone(), json!({"customer_interests": "rugby"})));
    // A String.Array matches when some element is not listed (the guide's own example:
    // ["rugby", "baseball"] matches), as an EventBridge array does.
    assert!(attrs(
        p.clone(),
        json!({"customer_interests": ["rugby", "baseball"]})
    ));
    assert!(!attrs(
        p.clone(),
        json!({"customer_interests": ["rugby", "tennis"]})
    ));
    // An absent property matches no value condition.
    assert!(!attrs(p, json!({"x": "y"})));
    // Numeric lists (numeric-value-matching.html: anything-but [100, 500] matches 101, 100.1).
    let p = json!({"price": [{"anything-but": [100, 500]}]});
    assert!(attrs(
        p.clone(),
        json!({"price": {"Type": "Number", "Value": 101}})
    ));
    assert!(attrs(
        p.clone(),
        json!({"price": {"Type": "Number", "Value": "100.1"}})
    ));
    assert!(!attrs(
        p,
        json!({"price": {"Type": "Number", "Value": 100}})
    ));
    let p = json!({"event": [{"anything-but": {"prefix": "order-"}}]});
    assert!(attrs(p.clone(), json!({"event": "cart-updated"})));
    assert!(!attrs(p, json!({"event": "order-placed"})));
    let p = json!({"file": [{"anything-but": {"suffix": ".png"}}]});
    assert!(attrs(p.clone(), json!({"file": "a.jpg"})));
    assert!(!attrs(p, json!({"file": "a.png"})));
    // anything-but combined with "exists": false (string-value-matching.html).
    let p = json!({"region": [{"anything-but": ["us-east-1"]}, {"exists": false}]});
    assert!(attrs(p.clone(), json!({"other": "x"})));
    assert!(attrs(p.clone(), json!({"region": "eu-west-1"})));
    assert!(!attrs(p, json!({"region": "us-east-1"})));
}

#[test]
fn prefix_suffix_ignore_case_cidr() {
    assert!(attrs(
        json!({"c": [{"prefix": "bas"}]}),
        json!({"c": "baseball"})
    ));
    assert!(!attrs(
        json!({"c": [{"prefix": "bas"}]}),
        json!({"c": "rugby"})
    ));
    assert!(attrs(
        json!({"c": [{"suffix": "ball"}]}),
        json!({"c": ["rugby", "baseball"]})
    ));
    assert!(attrs(
        json!({"c": [{"equals-ignore-case": "RuGbY"}]}),
        json!({"c": "rugBY"})
    ));
    assert!(attrs(
        json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
        json!({"ip": "10.0.0.255"})
    ));
    assert!(!attrs(
        json!({"ip": [{"cidr": "10.0.0.0/24"}]}),
        json!({"ip": "10.0.1.0"})
    ));
    // Prefixes are for strings only (numeric-value-matching.html): a Number is not a string.
    assert!(!attrs(json!({"n": [{"prefix": "1"}]}), json!({"n": 12})));
}

#[test]
fn numeric_exact_and_ranges() {
    // numeric-value-matching.html: ["=", 301.5] matches 301.5 and 3.015e2.
    let p = json!({"price_usd": [{"numeric": ["=", 301.5]}]});
    assert!(attrs(
        p.clone(),
        json!({"price_usd": {"Type": "Number", "Value": 301.5}})
    ));
    assert!(attrs(
        p.clone(),
        json!({"price_usd": {"Type": "Number", "Value": "3.015e2"}})
    ));
    assert!(body(p, json!({"price_usd": 3.015e2})));
    let p = json!({"price_usd": [{"numeric": [">", 0, "<=", 150]}]});
    for (x, want) in [(0.0, false), (0.001, true), (150.0, true), (150.01, false)] {
        assert_eq!(attrs(p.clone(), json!({"price_usd": x})), want, "{x}");
    }
    // A plain number in the value list is an exact numeric match.
    assert!(attrs(
        json!({"n": [42]}),
        json!({"n": {"Type": "Number", "Value": "42.0"}})
    ));
}

#[test]
fn difference_numeric_needs_a_number_attribute() {
    // SNS compares numeric operators with attributes of type Number: a String attribute
    // holding digits does not match, where EventBridge would not match a string either but
    // has no attribute types at all. The same digits as a Number match.
    let p = json!({"price": [{"numeric": [">", 100]}]});
    assert!(!attrs(
        p.clone(),
        json!({"price": {"Type": "String", "Value": "150"}})
    ));
    assert!(attrs(
        p,
        json!({"price": {"Type": "Number", "Value": "150"}})
    ));
    // And a string literal does not match a Number attribute.
    assert!(!attrs(
        json!({"price": ["150"]}),
        json!({"price": {"Type": "Number", "Value": 150}})
    ));
}

#[test]
fn difference_numeric_precision_is_five_decimals() {
    // subscription-filter-policy-constraints.html: five digits of accuracy after the decimal
    // point. 100.000001 equals 100 for SNS; EventBridge compares the full double.
    let p = json!({"x": [{"numeric": ["=", 100]}]});
    assert!(attrs(p.clone(), json!({"x": 100.000_001})));
    assert!(!attrs(p, json!({"x": 100.0001})));
    let eb = Pattern::parse(&json!({"x": [{"numeric": ["=", 100]}]})).unwrap();
    assert!(!eb.matches(&json!({"x": 100.000_001})));
}

#[test]
fn difference_numeric_range_is_bounded() {
    let errs = error_paths(
        json!({"x": [{"numeric": [">", 2e9]}]}),
        FilterScope::Attributes,
    );
    assert_eq!(errs, ["x[0].numeric[1]"]);
    assert!(Pattern::parse(&json!({"x": [{"numeric": [">", 2e9]}]})).is_ok());
    let errs = error_paths(json!({"x": [1_000_000_001]}), FilterScope::Attributes);
    assert_eq!(errs, ["x[0]"]);
}

#[test]
fn difference_at_most_five_keys() {
    let five = json!({"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"]});
    assert!(FilterPolicy::parse(&five, FilterScope::Attributes).is_ok());
    let six = json!({"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]});
    let errs = error_paths(six.clone(), FilterScope::Attributes);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("at most 5"), "{errs:?}");
    // EventBridge has no such limit.
    assert!(Pattern::parse(&six).is_ok());
    // Nested body keys count as keys too.
    let nested =
        json!({"d": {"a": ["1"], "b": ["1"], "c": ["1"]}, "e": ["1"], "f": ["1"], "g": ["1"]});
    assert!(error_paths(nested, FilterScope::Body)[0].contains("at most 5"));
}

#[test]
fn difference_at_most_150_combinations() {
    // 10 × 15 = 150 is allowed, 10 × 16 = 160 is not (multiply the array lengths).
    let list = |n: usize| Value::Array((0..n).map(|i| json!(format!("v{i}"))).collect());
    let ok = json!({"a": list(10), "b": list(15)});
    assert!(FilterPolicy::parse(&ok, FilterScope::Attributes).is_ok());
    let too_many = json!({"a": list(10), "b": list(16)});
    let errs = error_paths(too_many.clone(), FilterScope::Attributes);
    assert!(errs[0].contains("160 combinations"), "{errs:?}");
    assert!(Pattern::parse(&too_many).is_ok());
    // With $or the alternatives' combinations add up: 2×(1×10) + ... here (1×80) + (1×80).
    let or = json!({"s": ["x"], "$or": [{"a": list(80)}, {"b": list(80)}]});
    assert!(error_paths(or, FilterScope::Attributes)[0].contains("160 combinations"));
}

#[test]
fn difference_no_nesting_for_attributes() {
    let nested = json!({"detail": {"state": ["ok"]}});
    assert_eq!(
        error_paths(nested.clone(), FilterScope::Attributes),
        ["detail"]
    );
    assert!(body(nested.clone(), json!({"detail": {"state": "ok"}})));
    assert!(!body(nested, json!({"detail": {"state": "bad"}})));
}

#[test]
fn body_arrays_match_any_element() {
    let p = json!({"items": {"sku": [{"prefix": "A-"}]}});
    assert!(body(
        p.clone(),
        json!({"items": [{"sku": "B-1"}, {"sku": "A-2"}]})
    ));
    assert!(!body(p, json!({"items": [{"sku": "B-1"}]})));
    assert!(body(json!({"tags": ["x"]}), json!({"tags": ["y", "x"]})));
}

#[test]
fn difference_exists_true_needs_a_non_empty_value() {
    // attribute-key-matching.html: "The key must have a non-null, non-empty value."
    let p = json!({"store": [{"exists": true}]});
    assert!(attrs(p.clone(), json!({"store": "fans"})));
    assert!(!attrs(
        p.clone(),
        json!({"customer_interests": ["baseball"]})
    ));
    assert!(!body(p.clone(), json!({"store": null})));
    assert!(!body(p.clone(), json!({"store": ""})));
    assert!(!body(p.clone(), json!({"store": []})));
    // EventBridge's exists: true matches an empty string.
    let eb = Pattern::parse(&json!({"store": [{"exists": true}]})).unwrap();
    assert!(eb.matches(&json!({"store": ""})));
    assert!(body(p, json!({"store": "fans"})));
}

#[test]
fn difference_exists_false_needs_some_attribute() {
    // attribute-key-matching.html: "exists": false matches only when at least one attribute is
    // present; an empty set of attributes does not match.
    let p = json!({"store": [{"exists": false}]});
    assert!(attrs(
        p.clone(),
        json!({"customer_interests": ["baseball"]})
    ));
    assert!(!attrs(p.clone(), json!({"store": "fans"})));
    assert!(!attrs(p.clone(), json!({})));
    let no_attributes = FilterPolicy::parse(&p, FilterScope::Attributes)
        .unwrap()
        .matches(&json!({"detail": {}}));
    assert!(!no_attributes);
    // EventBridge's exists: false matches an event without the field, whatever else it has.
    let eb = Pattern::parse(&json!({"store": [{"exists": false}]})).unwrap();
    assert!(eb.matches(&json!({})));
}

#[test]
fn or_operator() {
    let p = json!({"source": ["aws.cloudwatch"], "$or": [
        {"metricName": ["CPUUtilization"]},
        {"namespace": ["AWS/EC2"]}
    ]});
    let f = FilterPolicy::parse(&p, FilterScope::Body).unwrap();
    assert_eq!(f.alternatives(), 2);
    assert!(f.matches(&json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2"})));
    assert!(f.matches(&json!({"source": "aws.cloudwatch", "metricName": "CPUUtilization"})));
    assert!(!f.matches(&json!({"source": "aws.cloudwatch", "metricName": "x"})));
    assert!(!f.matches(&json!({"source": "other", "namespace": "AWS/EC2"})));
}

#[test]
fn difference_or_without_objects_is_a_property_name() {
    // and-or-logic.html: "$or" is only an operator when it holds an array of at least two
    // objects; otherwise it is a regular property name.
    let p = json!({"$or": ["a", "b"]});
    assert!(attrs(p.clone(), json!({"$or": "a"})));
    assert!(!attrs(p, json!({"x": "a"})));
    // EventBridge refuses such a `$or`.
    assert!(Pattern::parse(&json!({"$or": ["a", "b"]})).is_err());
}

#[test]
fn difference_no_wildcard() {
    let errs =
        FilterPolicy::parse(&json!({"a": [{"wildcard": "x*"}]}), FilterScope::Body).unwrap_err();
    assert_eq!(errs[0].path, "a[0].wildcard");
    assert!(
        errs[0].message.contains("EventBridge"),
        "{}",
        errs[0].message
    );
    assert!(Pattern::parse(&json!({"a": [{"wildcard": "x*"}]})).is_ok());
    let errs = error_paths(
        json!({"a": [{"anything-but": {"equals-ignore-case": "x"}}]}),
        FilterScope::Body,
    );
    assert_eq!(errs, ["a[0].anything-but.equals-ignore-case"]);
}

#[test]
fn malformed_policies_name_the_path() {
    assert_eq!(
        error_paths(json!({"a": "x"}), FilterScope::Attributes),
        ["a"]
    );
    assert_eq!(
        error_paths(json!({"a": []}), FilterScope::Attributes),
        ["a"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"prefx": "x"}]}), FilterScope::Attributes),
        ["a[0].prefx"]
    );
    assert_eq!(
        error_paths(
            json!({"a": [{"numeric": ["<", 5, ">", 1]}]}),
            FilterScope::Attributes
        ),
        ["a[0].numeric"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"prefix": 5}]}), FilterScope::Attributes),
        ["a[0].prefix"]
    );
    assert!(FilterPolicy::parse(&json!([1]), FilterScope::Body).is_err());
    assert!(FilterPolicy::parse(&json!({}), FilterScope::Body).is_err());
}

#[test]
fn attribute_types_binary_and_booleans() {
    // A Binary attribute compares with nothing but is present for exists.
    let bin = json!({"blob": {"Type": "Binary", "Value": "AAEC"}});
    assert!(!attrs(json!({"blob": ["AAEC"]}), bin.clone()));
    assert!(attrs(json!({"blob": [{"exists": true}]}), bin));
    // A boolean in the shorthand form is the text an SDK would send.
    assert!(attrs(json!({"gift": ["true"]}), json!({"gift": true})));
    assert!(attrs(json!({"gift": [true]}), json!({"gift": true})));
    assert!(body(json!({"gift": [true]}), json!({"gift": true})));
    assert!(!body(json!({"gift": ["true"]}), json!({"gift": true})));
}
