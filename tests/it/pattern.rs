//! The `EventBridge` event-pattern language, operator by operator, with every edge case of
//! `reference/event-patterns.md` (matching and non-matching), invalid patterns and their error
//! paths, input transformers, `eventflow pattern test` through the real binary, and property
//! tests (anything-but vs exact, `RuleMatcher` vs `Pattern::matches`, including many rules sharing
//! conditions over every operator).

use std::io::Write as _;
use std::process::{Command, Stdio};

use eventflow::pattern::{MatchScratch, Pattern, RuleMatcher, Transform};
use proptest::prelude::*;
use serde_json::{Value, json};

fn pat(p: Value) -> Pattern {
    match Pattern::parse(&p) {
        Ok(p) => p,
        Err(e) => panic!("pattern {p} should be valid: {e:?}"),
    }
}

/// Asserts that `p` matches every event in `yes` and none in `no`, both alone and through a
/// `RuleMatcher` (which must agree with `Pattern::matches`).
fn check(p: Value, yes: &[Value], no: &[Value]) {
    let compiled = pat(p.clone());
    let m = RuleMatcher::new(vec![compiled.clone()]);
    let mut scratch = MatchScratch::default();
    let mut out = Vec::new();
    for e in yes {
        assert!(compiled.matches(e), "pattern {p} should match {e}");
        m.matching(e, &mut scratch, &mut out);
        assert_eq!(out, vec![0], "RuleMatcher: pattern {p} should match {e}");
    }
    for e in no {
        assert!(!compiled.matches(e), "pattern {p} should NOT match {e}");
        m.matching(e, &mut scratch, &mut out);
        assert!(
            out.is_empty(),
            "RuleMatcher: pattern {p} should NOT match {e}"
        );
    }
}

/// `{"detail": {"f": leaf}}` against `{"detail": {"f": value}}` for each value.
fn check_leaf(leaf: Value, yes: &[Value], no: &[Value]) {
    let ev = |v: &Value| json!({"detail": {"f": v}});
    check(
        json!({"detail": {"f": leaf}}),
        &yes.iter().map(ev).collect::<Vec<_>>(),
        &no.iter().map(ev).collect::<Vec<_>>(),
    );
}

fn error_paths(p: Value) -> Vec<String> {
    match Pattern::parse(&p) {
        Ok(_) => panic!("pattern {p} should be invalid"),
        Err(es) => es.into_iter().map(|e| e.path).collect(),
    }
}

fn error_text(p: Value) -> String {
    match Pattern::parse(&p) {
        Ok(_) => panic!("pattern {p} should be invalid"),
        Err(es) => es
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn envelope(detail: Value) -> Value {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
        "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": detail
    })
}

// ---------------------------------------------------------------- §1 structure

#[test]
fn and_across_fields_or_within_leaf() {
    let p = json!({"source": ["aws.ec2"], "detail": {"state": ["running", "stopped"]}});
    check(
        p,
        &[
            envelope(json!({"state": "running"})),
            envelope(json!({"state": "stopped", "other": 1})),
        ],
        &[
            envelope(json!({"state": "pending"})),
            envelope(json!({})),
            json!({"source": "aws.s3", "detail": {"state": "running"}}),
        ],
    );
}

#[test]
fn unnamed_fields_ignored_and_names_case_sensitive() {
    check(
        json!({"detail": {"state": ["running"]}}),
        &[envelope(json!({"state": "running", "x": {"y": [1, 2]}}))],
        &[envelope(json!({"State": "running"}))],
    );
}

#[test]
fn nested_object_requires_nested_field() {
    check(
        json!({"detail": {"state": ["running"]}}),
        &[json!({"detail": {"state": "running"}})],
        &[json!({"state": "running"}), json!({"detail": "running"})],
    );
}

#[test]
fn mixed_values_and_filters_in_one_leaf() {
    check_leaf(
        json!(["running", {"prefix": "stop"}]),
        &[json!("running"), json!("stopping"), json!("stopped")],
        &[json!("pending"), json!("Stopped")],
    );
    check(
        json!({"detail": {"f": [{"exists": false}, {"numeric": [">", 0]}]}}),
        &[json!({"detail": {}}), json!({"detail": {"f": 3}})],
        &[json!({"detail": {"f": -1}}), json!({"detail": {"f": "3"}})],
    );
}

#[test]
fn envelope_fields_match_like_detail_fields() {
    let e = envelope(json!({}));
    check(
        json!({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"], "account": ["111122223333"], "version": ["0"], "region": [{"prefix": "us-"}]}),
        std::slice::from_ref(&e),
        &[],
    );
    check(json!({"account": [111122223333_u64]}), &[], &[e]);
}

// ---------------------------------------------------------------- exact values, §3.1–3.2

#[test]
fn exact_values_are_typed() {
    check_leaf(json!(["5"]), &[json!("5")], &[json!(5), json!(5.0)]);
    check_leaf(json!([5]), &[json!(5)], &[json!("5")]);
    check_leaf(
        json!([true]),
        &[json!(true)],
        &[json!("true"), json!(1), json!(false)],
    );
    check_leaf(json!(["true"]), &[json!("true")], &[json!(true)]);
    check_leaf(
        json!([0]),
        &[json!(0)],
        &[json!("0"), json!(false), json!(null)],
    );
    check_leaf(
        json!([false]),
        &[json!(false)],
        &[json!(0), json!(null), json!("false")],
    );
}

#[test]
fn strings_match_character_by_character() {
    check_leaf(
        json!(["Running"]),
        &[json!("Running")],
        &[
            json!("running"),
            json!(" Running"),
            json!("Running "),
            json!("RUNNING"),
        ],
    );
    // No Unicode normalization: precomposed é vs e + combining acute.
    check_leaf(
        json!(["caf\u{e9}"]),
        &[json!("caf\u{e9}")],
        &[json!("cafe\u{301}")],
    );
}

#[test]
fn null_and_empty_string() {
    let absent = json!({"detail": {}});
    check(
        json!({"detail": {"f": [null]}}),
        &[json!({"detail": {"f": null}})],
        &[
            json!({"detail": {"f": ""}}),
            absent.clone(),
            json!({"detail": {"f": "null"}}),
        ],
    );
    check(
        json!({"detail": {"f": [""]}}),
        &[json!({"detail": {"f": ""}})],
        &[json!({"detail": {"f": null}}), absent],
    );
}

#[test]
fn numbers_equal_by_value() {
    // §4: treated as equal by value, like event-ruler.
    check_leaf(
        json!([300]),
        &[
            json!(300),
            json!(300.0),
            serde_json::from_str("3.0e2").unwrap(),
        ],
        &[json!(300.5), json!(30), json!("300")],
    );
    check_leaf(json!([3.018e2]), &[json!(301.8)], &[json!(301)]);
    check_leaf(json!([-1.5]), &[json!(-1.5)], &[json!(1.5)]);
}

// ---------------------------------------------------------------- arrays, §3.3–3.4

#[test]
fn event_arrays_any_element() {
    check_leaf(
        json!(["b"]),
        &[json!(["a", "b", "c"]), json!([["x", ["b"]]])],
        &[json!(["a", "c"]), json!([])],
    );
    check_leaf(
        json!([{"numeric": [">", 10]}]),
        &[json!([1, 20])],
        &[json!([1, 2])],
    );
    check_leaf(
        json!([{"prefix": "ab"}]),
        &[json!(["x", "abc"])],
        &[json!(["x", "b"])],
    );
    check_leaf(
        json!([{"wildcard": "*.png"}]),
        &[json!(["a.jpg", "b.png"])],
        &[json!(["a.jpg"])],
    );
    check_leaf(
        json!([{"cidr": "10.0.0.0/8"}]),
        &[json!(["1.1.1.1", "10.9.8.7"])],
        &[json!(["1.1.1.1"])],
    );
    check_leaf(
        json!([{"suffix": "z"}]),
        &[json!([1, "az"])],
        &[json!([1, 2])],
    );
    check_leaf(
        json!([{"equals-ignore-case": "x"}]),
        &[json!(["y", "X"])],
        &[json!(["y"])],
    );
}

#[test]
fn empty_event_array_matches_nothing_but_absence() {
    check_leaf(json!([{"anything-but": "x"}]), &[], &[json!([])]);
    check_leaf(json!([{"exists": true}]), &[], &[json!([])]);
    check_leaf(json!([{"numeric": [">", 0]}]), &[], &[json!([])]);
}

#[test]
fn arrays_of_objects_are_array_consistent() {
    let p = json!({"detail": {"people": {"firstName": ["Anna"], "lastName": ["Jones"]}}});
    check(
        p,
        &[
            json!({"detail": {"people": [{"firstName": "Bob", "lastName": "Smith"}, {"firstName": "Anna", "lastName": "Jones"}]}}),
            json!({"detail": {"people": {"firstName": "Anna", "lastName": "Jones"}}}),
            json!({"detail": {"people": [[{"firstName": "Anna", "lastName": "Jones"}]]}}),
        ],
        &[
            json!({"detail": {"people": [{"firstName": "Anna", "lastName": "Smith"}, {"firstName": "Bob", "lastName": "Jones"}]}}),
        ],
    );
}

#[test]
fn array_consistency_across_levels_and_or() {
    // Fields that meet in one object through $or must also come from one element.
    let p = json!({
        "detail": {"items": {"sku": ["A"]}},
        "$or": [{"detail": {"items": {"qty": [1]}}}, {"detail": {"items": {"qty": [2]}}}]
    });
    check(
        p,
        &[json!({"detail": {"items": [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 2}]}})],
        &[json!({"detail": {"items": [{"sku": "A", "qty": 3}, {"sku": "B", "qty": 1}]}})],
    );
    // Deeper: b and c must be in the same element of x, within the same element of a.
    check(
        json!({"a": {"x": {"b": [1], "c": [2]}}}),
        &[json!({"a": [{"x": [{"b": 1, "c": 2}]}]})],
        &[
            json!({"a": [{"x": [{"b": 1}, {"c": 2}]}]}),
            json!({"a": [{"x": {"b": 1}}, {"x": {"c": 2}}]}),
        ],
    );
}

// ---------------------------------------------------------------- string operators, §3.5

#[test]
fn prefix_and_suffix() {
    check_leaf(
        json!([{"prefix": "us-"}]),
        &[json!("us-east-1"), json!("us-")],
        &[
            json!("US-east-1"),
            json!("eu-west-1"),
            json!(5),
            json!(null),
            json!(true),
        ],
    );
    check_leaf(
        json!([{"suffix": ".png"}]),
        &[json!("a.png"), json!(".png")],
        &[json!("a.PNG"), json!("a.png.bak"), json!(1)],
    );
}

#[test]
fn prefix_and_suffix_ignore_case() {
    check_leaf(
        json!([{"prefix": {"equals-ignore-case": "EventB"}}]),
        &[json!("eventbridge"), json!("EVENTBRIDGE"), json!("EventB")],
        &[json!("Event"), json!("xeventb"), json!(1)],
    );
    check_leaf(
        json!([{"suffix": {"equals-ignore-case": ".png"}}]),
        &[json!("A.PNG"), json!("b.Png")],
        &[json!("a.pn"), json!("png"), json!(null)],
    );
}

#[test]
fn equals_ignore_case() {
    check_leaf(
        json!([{"equals-ignore-case": "alice"}]),
        &[json!("alice"), json!("ALICE"), json!("aLiCe")],
        &[
            json!("alice "),
            json!("alic"),
            json!("alicex"),
            json!(1),
            json!(null),
        ],
    );
}

#[test]
fn wildcard() {
    check_leaf(
        json!([{"wildcard": "dir/*.png"}]),
        &[
            json!("dir/a.png"),
            json!("dir/.png"),
            json!("dir/x/y/z.png"),
        ],
        &[
            json!("dir/a.jpg"),
            json!("xdir/a.png"),
            json!("dir/a.pngx"),
            json!(3),
        ],
    );
    // No * means exact match, anchored at both ends.
    check_leaf(
        json!([{"wildcard": "abc"}]),
        &[json!("abc")],
        &[json!("abcd"), json!("xabc")],
    );
    check_leaf(
        json!([{"wildcard": "*"}]),
        &[json!(""), json!("anything")],
        &[json!(1), json!(null)],
    );
    check_leaf(
        json!([{"wildcard": "a*b*c"}]),
        &[json!("abc"), json!("a-b-c"), json!("abbbc")],
        &[json!("acb"), json!("ab")],
    );
}

#[test]
fn wildcard_escapes() {
    // JSON "a\\*b" is the glob a\*b: a literal star.
    check_leaf(
        json!([{"wildcard": "a\\*b"}]),
        &[json!("a*b")],
        &[json!("axb"), json!("ab")],
    );
    // JSON "a\\\\b" is the glob a\\b: a literal backslash.
    check_leaf(
        json!([{"wildcard": "a\\\\b"}]),
        &[json!("a\\b")],
        &[json!("ab"), json!("a\\\\b")],
    );
    check_leaf(
        json!([{"wildcard": "a\\\\*"}]),
        &[json!("a\\"), json!("a\\zz")],
        &[json!("a")],
    );
}

#[test]
fn wildcard_invalid() {
    assert_eq!(
        error_paths(json!({"a": [{"wildcard": "a**b"}]})),
        ["a[0].wildcard"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"wildcard": "a\\b"}]})),
        ["a[0].wildcard"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"wildcard": "a\\"}]})),
        ["a[0].wildcard"]
    );
    assert!(error_text(json!({"a": [{"wildcard": "**"}]})).contains("**"));
}

// ---------------------------------------------------------------- anything-but, §3.7

#[test]
fn anything_but_single_and_lists() {
    check_leaf(
        json!([{"anything-but": "x"}]),
        &[
            json!("y"),
            json!(null),
            json!(1),
            json!(true),
            json!(["x", "y"]),
            json!("X"),
        ],
        &[json!("x"), json!(["x"]), json!(["x", "x"])],
    );
    check_leaf(
        json!([{"anything-but": 123}]),
        &[json!(124), json!("123")],
        &[json!(123), json!(123.0)],
    );
    check_leaf(
        json!([{"anything-but": ["a", "b"]}]),
        &[json!("c"), json!(["a", "c"])],
        &[json!("a"), json!("b"), json!(["a", "b"])],
    );
    // Typed: the string "111" is not excluded by numbers.
    check_leaf(
        json!([{"anything-but": [111, 222, 333]}]),
        &[json!("111"), json!(444)],
        &[json!(111), json!(222.0)],
    );
}

#[test]
fn anything_but_absent_never_matches() {
    check(
        json!({"detail": {"tier": [{"anything-but": "gold"}]}}),
        &[
            json!({"detail": {"tier": null}}),
            json!({"detail": {"tier": "silver"}}),
        ],
        &[
            json!({"detail": {}}),
            json!({}),
            json!({"detail": {"tier": {"x": 1}}}),
        ],
    );
    check(
        json!({"detail": {"tier": [{"anything-but": "gold"}, {"exists": false}]}}),
        &[json!({"detail": {}}), json!({"detail": {"tier": "silver"}})],
        &[json!({"detail": {"tier": "gold"}})],
    );
}

#[test]
fn two_anything_buts_are_ored() {
    check_leaf(
        json!([{"anything-but": "a"}, {"anything-but": "b"}]),
        &[json!("a"), json!("b"), json!("c"), json!(null)],
        &[],
    );
    check(
        json!({"detail": {"f": [{"anything-but": "a"}, {"anything-but": "b"}]}}),
        &[],
        &[json!({"detail": {}})],
    );
}

#[test]
fn anything_but_prefix_suffix_ignore_case_wildcard() {
    check_leaf(
        json!([{"anything-but": {"prefix": "init"}}]),
        &[json!("running"), json!("xinit"), json!(5)],
        &[json!("init"), json!("initializing")],
    );
    check_leaf(
        json!([{"anything-but": {"suffix": ["1234", "6789"]}}]),
        &[json!("5555"), json!("12345")],
        &[json!("001234"), json!("6789")],
    );
    check_leaf(
        json!([{"anything-but": {"prefix": ["a", "b"]}}]),
        &[json!("c")],
        &[json!("ax"), json!("bx")],
    );
    check_leaf(
        json!([{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]),
        &[json!("running"), json!("stoppedx")],
        &[json!("stopped"), json!("OVERLOADED"), json!("Stopped")],
    );
    check_leaf(
        json!([{"anything-but": {"equals-ignore-case": "Stopped"}}]),
        &[json!("go")],
        &[json!("STOPPED")],
    );
    check_leaf(
        json!([{"anything-but": {"wildcard": "*/lib/*"}}]),
        &[json!("/usr/bin/x"), json!("lib/x")],
        &[json!("/usr/lib/x"), json!("a/lib/")],
    );
    check_leaf(
        json!([{"anything-but": {"wildcard": ["*.png", "*.jpg"]}}]),
        &[json!("a.gif")],
        &[json!("a.png"), json!("b.jpg")],
    );
    check(
        json!({"a": [{"anything-but": {"prefix": "x"}}]}),
        &[],
        &[json!({})],
    );
}

#[test]
fn anything_but_invalid() {
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": ["a", 1]}]})),
        ["a[0].anything-but"]
    );
    assert!(error_text(json!({"a": [{"anything-but": ["a", 1]}]})).contains("mixed"));
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": []}]})),
        ["a[0].anything-but"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": true}]})),
        ["a[0].anything-but"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": [null]}]})),
        ["a[0].anything-but[0]"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": {"prefix": 1}}]})),
        ["a[0].anything-but.prefix"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": {"suffix": ["x", 2]}}]})),
        ["a[0].anything-but.suffix[1]"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": {"equals-ignore-case": [1]}}]})),
        ["a[0].anything-but.equals-ignore-case[0]"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": {"wildcard": "a**"}}]})),
        ["a[0].anything-but.wildcard"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"anything-but": {"numeric": [">", 1]}}]})),
        ["a[0].anything-but.numeric"]
    );
    assert!(
        error_text(json!({"a": [{"anything-but": {"prefx": "a"}}]}))
            .contains("did you mean \"prefix\"")
    );
}

// ---------------------------------------------------------------- numeric, §3.8

#[test]
fn numeric_comparisons() {
    check_leaf(
        json!([{"numeric": [">", 0, "<=", 5]}]),
        &[json!(0.1), json!(5), json!(5.0), json!(3)],
        &[json!(0), json!(5.01), json!(-1)],
    );
    check_leaf(
        json!([{"numeric": [">=", 0, "<", 5]}]),
        &[json!(0), json!(4.99)],
        &[json!(5)],
    );
    check_leaf(
        json!([{"numeric": ["<", 10]}]),
        &[json!(9.5), json!(-100)],
        &[json!(10), json!(11)],
    );
    check_leaf(
        json!([{"numeric": ["<=", 10]}]),
        &[json!(10)],
        &[json!(10.5)],
    );
    check_leaf(json!([{"numeric": [">=", 10]}]), &[json!(10)], &[json!(9)]);
    check_leaf(
        json!([{"numeric": ["=", 3.018e2]}]),
        &[json!(301.8)],
        &[json!(301.9), json!("301.8")],
    );
    check_leaf(
        json!([{"numeric": ["=", 300]}]),
        &[
            json!(300.0),
            serde_json::from_str("3.0e2").unwrap(),
            json!(300),
        ],
        &[json!(301)],
    );
}

#[test]
fn numeric_only_numbers() {
    check(
        json!({"detail": {"f": [{"numeric": [">", 0]}]}}),
        &[json!({"detail": {"f": 1}})],
        &[
            json!({"detail": {"f": "5"}}),
            json!({"detail": {"f": true}}),
            json!({"detail": {"f": null}}),
            json!({"detail": {}}),
        ],
    );
}

#[test]
fn numeric_invalid() {
    assert_eq!(
        error_paths(json!({"a": [{"numeric": [">=", 1, "<=", 1]}]})),
        ["a[0].numeric"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"numeric": [">", 5, "<", 1]}]})),
        ["a[0].numeric"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"numeric": [">", 1, ">", 2]}]})),
        ["a[0].numeric"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"numeric": [">", "1"]}]})),
        ["a[0].numeric[1]"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"numeric": ["!=", 1]}]})),
        ["a[0].numeric[0]"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"numeric": 5}]})),
        ["a[0].numeric"]
    );
}

// ---------------------------------------------------------------- exists, §3.9

#[test]
fn exists_on_leaves() {
    let t = json!({"detail": {"f": [{"exists": true}]}});
    let f = json!({"detail": {"f": [{"exists": false}]}});
    let present = [
        json!({"detail": {"f": null}}),
        json!({"detail": {"f": ""}}),
        json!({"detail": {"f": false}}),
        json!({"detail": {"f": 0}}),
        json!({"detail": {"f": ["x"]}}),
    ];
    let absent = [
        json!({"detail": {}}),
        json!({"detail": {"g": 1}}),
        json!({}), // parent missing
        json!({"detail": "scalar"}),
        json!({"detail": {"f": {"x": 1}}}), // an object is not a leaf
        json!({"detail": {"f": []}}),       // event-ruler: empty array is absent
        json!({"detail": {"f": {}}}),       // event-ruler: empty object is absent
    ];
    check(t, &present, &absent);
    check(f, &absent, &present);
}

#[test]
fn exists_in_arrays_of_objects_same_element() {
    let p = json!({"detail": {"items": {"sku": ["A"], "gift": [{"exists": false}]}}});
    check(
        p,
        &[
            json!({"detail": {"items": [{"sku": "B"}, {"sku": "A"}]}}),
            json!({"detail": {"items": [{"sku": "A", "gift": true}, {"sku": "A"}]}}),
        ],
        &[json!({"detail": {"items": [{"sku": "A", "gift": true}, {"sku": "B"}]}})],
    );
}

// ---------------------------------------------------------------- cidr, §3.10

#[test]
fn cidr_ipv4_and_ipv6() {
    check_leaf(
        json!([{"cidr": "10.0.0.0/24"}]),
        &[json!("10.0.0.0"), json!("10.0.0.255"), json!("10.0.0.17")],
        &[
            json!("10.0.1.0"),
            json!("9.255.255.255"),
            json!("not an ip"),
            json!(167772160),
            json!("2001:db8::1"),
        ],
    );
    check_leaf(
        json!([{"cidr": "2001:db8::/32"}]),
        &[json!("2001:db8::1"), json!("2001:0db8:ffff::")],
        &[json!("2001:db9::1"), json!("10.0.0.1")],
    );
    // Host bits set: the network is found by masking (.170–.171).
    check_leaf(
        json!([{"cidr": "220.160.153.171/31"}]),
        &[json!("220.160.153.170"), json!("220.160.153.171")],
        &[json!("220.160.153.169"), json!("220.160.153.172")],
    );
}

#[test]
fn cidr_invalid() {
    assert_eq!(
        error_paths(json!({"ip": [{"cidr": "10.0.0.0"}]})),
        ["ip[0].cidr"]
    );
    assert_eq!(
        error_paths(json!({"ip": [{"cidr": "10.0.0.0/x"}]})),
        ["ip[0].cidr"]
    );
    assert_eq!(
        error_paths(json!({"ip": [{"cidr": "300.0.0.0/8"}]})),
        ["ip[0].cidr"]
    );
    assert_eq!(error_paths(json!({"ip": [{"cidr": 10}]})), ["ip[0].cidr"]);
}

// ---------------------------------------------------------------- $or, §3.11

#[test]
fn or_top_level_and_nested() {
    let p = json!({
        "source": ["aws.ec2"],
        "$or": [{"detail-type": ["A"]}, {"detail": {"state": ["running"]}}]
    });
    check(
        p,
        &[
            json!({"source": "aws.ec2", "detail-type": "A"}),
            json!({"source": "aws.ec2", "detail-type": "B", "detail": {"state": "running"}}),
        ],
        &[
            json!({"source": "aws.s3", "detail-type": "A"}),
            json!({"source": "aws.ec2", "detail-type": "B", "detail": {"state": "stopped"}}),
        ],
    );
}

#[test]
fn two_or_groups_are_anded() {
    let p = json!({
        "$or": [{"source": ["a"]}, {"source": ["b"]}],
        "detail": {"$or": [{"x": [1]}, {"y": [2]}]}
    });
    check(
        p,
        &[
            json!({"source": "a", "detail": {"x": 1}}),
            json!({"source": "b", "detail": {"y": 2}}),
        ],
        &[
            json!({"source": "a", "detail": {"x": 2}}),
            json!({"source": "c", "detail": {"x": 1}}),
        ],
    );
}

#[test]
fn or_branches_nest() {
    let p = json!({"detail": {"$or": [
        {"a": [1]},
        {"$or": [{"b": [{"numeric": [">", 5]}]}, {"c": {"d": ["x"]}}]}
    ]}});
    check(
        p,
        &[
            json!({"detail": {"a": 1}}),
            json!({"detail": {"b": 6}}),
            json!({"detail": {"c": {"d": "x"}}}),
        ],
        &[json!({"detail": {"a": 2, "b": 5, "c": {"d": "y"}}})],
    );
}

#[test]
fn or_invalid() {
    assert_eq!(error_paths(json!({"$or": [{"a": [1]}]})), ["$or"]);
    assert_eq!(error_paths(json!({"$or": []})), ["$or"]);
    assert_eq!(error_paths(json!({"$or": {"a": [1]}})), ["$or"]);
    assert_eq!(error_paths(json!({"$or": [{"a": [1]}, ["b"]]})), ["$or[1]"]);
    assert_eq!(
        error_paths(json!({"detail": {"$or": [{"x": []}, {"y": [1]}]}})),
        ["detail.$or[0].x"]
    );
}

// ---------------------------------------------------------------- invalid patterns, §4

#[test]
fn invalid_structure_paths() {
    assert_eq!(
        error_paths(json!({"detail": {"state": []}})),
        ["detail.state"]
    );
    assert!(error_text(json!({"detail": {"state": []}})).contains("empty array"));
    assert_eq!(error_paths(json!({"source": "aws.ec2"})), ["source"]);
    assert_eq!(error_paths(json!({"detail": {"n": 5}})), ["detail.n"]);
    assert_eq!(
        error_paths(json!({"detail": {"state": ["ok", ["nested"]]}})),
        ["detail.state[1]"]
    );
    assert_eq!(error_paths(json!("source")), [""]);
    assert_eq!(
        error_paths(json!({"a": [{"prefix": "x", "suffix": "y"}]})),
        ["a[0]"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"exists": "yes"}]})),
        ["a[0].exists"]
    );
    assert_eq!(error_paths(json!({"a": [{"prefix": 5}]})), ["a[0].prefix"]);
    assert_eq!(
        error_paths(json!({"a": [{"equals-ignore-case": 5}]})),
        ["a[0].equals-ignore-case"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"exactly": "x"}]})),
        ["a[0].exactly"]
    );
    assert_eq!(
        error_paths(json!({"a": [{"contains": "x"}]})),
        ["a[0].contains"]
    );
}

#[test]
fn unknown_operator_did_you_mean() {
    let t = error_text(json!({"detail": {"state": [{"prefx": "stop"}]}}));
    assert!(t.starts_with("detail.state[0].prefx: "), "{t}");
    assert!(t.contains("did you mean \"prefix\""), "{t}");
    assert!(error_text(json!({"a": [{"numric": [">", 1]}]})).contains("did you mean \"numeric\""));
    assert!(error_text(json!({"a": [{"exist": true}]})).contains("did you mean \"exists\""));
}

#[test]
fn all_errors_are_reported() {
    let p = json!({
        "source": [],
        "detail": {
            "state": ["ok", {"wildcard": "a**"}],
            "$or": [{"x": [{"prefx": "a"}]}, {"y": 3}],
            "n": [{"numeric": [">=", 2, "<", 1]}]
        }
    });
    assert_eq!(
        error_paths(p),
        [
            "source",
            "detail.state[1].wildcard",
            "detail.$or[0].x[0].prefx",
            "detail.$or[1].y",
            "detail.n[0].numeric"
        ]
    );
}

// ---------------------------------------------------------------- explain / template check

#[test]
fn explain_names_fields_and_reasons() {
    let p = pat(json!({"source": ["shop"], "detail": {"amount": [{"numeric": [">=", 1000]}]}}));
    let e = p.explain(&json!({"source": "shop", "detail": {"amount": 12}}));
    assert_eq!(e.len(), 2);
    assert_eq!((e[0].path.as_str(), e[0].matched), ("source", true));
    assert_eq!((e[1].path.as_str(), e[1].matched), ("detail.amount", false));
    assert_eq!(e[1].reason, "detail.amount = 12 is not >= 1000");
}

#[test]
fn template_check_is_conservative() {
    let t = json!({"source": "com.shop.orders", "detail-type": "OrderPlaced",
        "detail": {"orderId": {"$seq": "ORD-"}, "currency": {"$choice": {"USD": 0.7, "EUR": 0.3}}}});
    assert!(pat(json!({"detail": {"currency": ["USD"]}})).may_match_template(&t));
    assert!(!pat(json!({"detail": {"currency": ["GBP"]}})).may_match_template(&t));
    assert!(!pat(json!({"detail-type": ["OrderShipped"]})).may_match_template(&t));
    assert!(pat(json!({"detail": {"orderId": [{"prefix": "ORD-"}]}})).may_match_template(&t));
    assert!(pat(json!({"id": ["x"], "time": [{"exists": true}]})).may_match_template(&t));
}

// ---------------------------------------------------------------- RuleMatcher

#[test]
fn rule_matcher_reports_sorted_unique_indices() {
    let ps = vec![
        pat(json!({"source": ["a"]})),
        pat(json!({"$or": [{"source": ["a"]}, {"detail": {"x": [1]}}]})),
        pat(json!({"detail": {"x": [{"numeric": [">", 0]}]}})),
        pat(json!({"source": ["b"]})),
    ];
    let m = RuleMatcher::new(ps);
    let mut s = MatchScratch::default();
    let mut out = vec![99];
    m.matching(
        &json!({"source": "a", "detail": {"x": 1}}),
        &mut s,
        &mut out,
    );
    assert_eq!(out, vec![0, 1, 2]);
    m.matching(&json!({"source": ["b", "a"]}), &mut s, &mut out);
    assert_eq!(out, vec![0, 1, 3]);
    m.matching(&json!({"source": "c"}), &mut s, &mut out);
    assert!(out.is_empty());
    let empty = RuleMatcher::new(Vec::new());
    empty.matching(&json!({}), &mut s, &mut out);
    assert!(out.is_empty());
}

// ---------------------------------------------------------------- transforms

#[test]
fn transform_input_path() {
    let t = Transform::parse(&json!({"input_path": "$.detail"})).unwrap();
    let e = envelope(json!({"orderId": "O-1"}));
    assert_eq!(t.apply(&e, "r"), json!({"orderId": "O-1"}));
    let t = Transform::parse(&json!({"input_path": "$.detail.missing"})).unwrap();
    assert_eq!(t.apply(&e, "r"), Value::Null);
    let t = Transform::parse(&json!({"input_path": "$"})).unwrap();
    assert_eq!(t.apply(&e, "r"), e);
}

#[test]
fn transform_template_json_and_string_contexts() {
    let e =
        envelope(json!({"orderId": "O-1", "amount": 12.5, "tags": ["a"], "say": "he said \"hi\""}));
    let t = Transform::parse(&json!({
        "paths": {"id": "$.detail.orderId", "amt": "$.detail.amount", "tags": "$.detail.tags", "none": "$.detail.nope", "say": "$.detail.say"},
        "template": "{\"orderId\": <id>, \"amount\": <amt>, \"tags\": <tags>, \"text\": \"order <id> of <amt>\", \"n\": <none>, \"s\": \"[<none>]\", \"q\": \"<say>\"}"
    }))
    .unwrap();
    assert_eq!(
        t.apply(&e, "r"),
        json!({"orderId": "O-1", "amount": 12.5, "tags": ["a"], "text": "order O-1 of 12.5", "n": null, "s": "[]", "q": "he said \"hi\""})
    );
}

#[test]
fn transform_plain_text_becomes_json_string() {
    let e = envelope(json!({"state": "running"}));
    let t = Transform::parse(&json!({
        "paths": {"state": "$.detail.state", "inst": "$.resources[0]"},
        "template": "\"instance <inst> is in state <state>\""
    }))
    .unwrap();
    assert_eq!(
        t.apply(&e, "r"),
        json!(
            "instance arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0 is in state running"
        )
    );
    let t =
        Transform::parse(&json!({"paths": {"s": "$.detail.state"}, "template": "State is <s>"}))
            .unwrap();
    assert_eq!(t.apply(&e, "r"), json!("State is \"running\""));
}

#[test]
fn transform_reserved_placeholders() {
    let e = envelope(json!({"x": 1}));
    let t = Transform::parse(&json!({
        "template": "{\"rule\": \"<aws.events.rule-name>\", \"event\": <aws.events.event>, \"raw\": <aws.events.event.json>}"
    }))
    .unwrap();
    let out = t.apply(&e, "high-value");
    assert_eq!(out["rule"], json!("high-value"));
    assert_eq!(out["event"], e);
    let raw: Value = serde_json::from_str(out["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw, e);
}

#[test]
fn transform_errors_have_paths() {
    let paths = |v: Value| -> Vec<String> {
        Transform::parse(&v)
            .unwrap_err()
            .into_iter()
            .map(|e| e.path)
            .collect()
    };
    assert_eq!(
        paths(json!({"paths": {"id": "detail.id"}, "template": "<id>"})),
        ["paths.id"]
    );
    assert_eq!(
        paths(json!({"paths": {"id": "$.detail.id"}, "template": "<nope>"})),
        ["template"]
    );
    assert_eq!(
        paths(json!({"paths": {"id": 5}, "template": "<id>"})),
        ["paths.id"]
    );
    assert_eq!(paths(json!({"paths": {"id": "$.a"}})), ["template"]);
    assert_eq!(paths(json!({"input_path": 3})), ["input_path"]);
    assert!(paths(json!({"inputpath": "$"})).contains(&"inputpath".to_owned()));
    assert_eq!(paths(json!("x")), [""]);
}

// ---------------------------------------------------------------- CLI through the binary

fn cli(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventflow"))
        .args(["pattern", "test"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn eventflow");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_json_lines() {
    let input = concat!(
        r#"{"pattern": {"source": ["aws.ec2"]}, "event": {"source": "aws.ec2"}}"#,
        "\n",
        "   \n",
        r#"{"pattern": {"source": ["aws.ec2"]}, "event": {"source": "aws.s3"}}"#,
        "\n",
        r#"{"pattern": {"detail": {"state": ["a", []]}}, "event": {}}"#,
        "\n",
        r#"{"pattern": {"source": [}, "event": {}}"#,
        "\n",
    );
    let (code, out, err) = cli(&[], input);
    assert_eq!(code, 2, "two lines failed: the exit code says so ({err})");
    assert!(err.contains("2 lines could not be tested"), "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], json!({"match": true}));
    assert_eq!(lines[1], json!({"match": false}));
    let err = lines[2]["error"].as_str().unwrap();
    assert!(err.contains("detail.state[1]"), "{err}");
    let err = lines[3]["error"].as_str().unwrap();
    assert!(err.contains("line 5") && err.contains("column"), "{err}");
    let (code, _, _) = cli(&[], &input.lines().take(3).collect::<Vec<_>>().join("\n"));
    assert_eq!(code, 0, "every line answered: success");
}

#[test]
fn cli_files_match_and_no_match() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.json");
    let yes = dir.path().join("yes.json");
    let no = dir.path().join("no.json");
    std::fs::write(&p, r#"{"detail": {"amount": [{"numeric": [">=", 1000]}]}}"#).unwrap();
    std::fs::write(&yes, r#"{"detail": {"amount": 1200}}"#).unwrap();
    std::fs::write(&no, r#"{"detail": {"amount": 12}}"#).unwrap();
    let ps = p.to_str().unwrap();
    let (code, out, _) = cli(&["--pattern", ps, "--event", yes.to_str().unwrap()], "");
    assert_eq!(code, 0);
    assert!(out.starts_with("match\n"), "{out}");
    let (code, out, _) = cli(&["--pattern", ps, "--event", no.to_str().unwrap()], "");
    assert_eq!(code, 0);
    assert!(out.starts_with("no match\n"), "{out}");
    assert!(out.contains("detail.amount = 12 is not >= 1000"), "{out}");
}

#[test]
fn cli_files_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad_json = dir.path().join("bad.json");
    let bad_pat = dir.path().join("badpat.json");
    let ev = dir.path().join("ev.json");
    std::fs::write(&bad_json, "{\n  \"source\": [\n}").unwrap();
    std::fs::write(
        &bad_pat,
        r#"{"source": [], "detail": {"x": [{"prefx": "a"}]}}"#,
    )
    .unwrap();
    std::fs::write(&ev, "{}").unwrap();
    let evs = ev.to_str().unwrap();

    let (code, _, err) = cli(
        &["--pattern", bad_json.to_str().unwrap(), "--event", evs],
        "",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}:3:1", bad_json.display())),
        "{err}"
    );

    let (code, _, err) = cli(
        &["--pattern", bad_pat.to_str().unwrap(), "--event", evs],
        "",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("source") && err.contains("detail.x[0].prefx"),
        "{err}"
    );

    let missing = dir.path().join("missing.json");
    let (code, _, err) = cli(
        &["--pattern", missing.to_str().unwrap(), "--event", evs],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("missing.json"), "{err}");

    let (code, _, _) = cli(&["--pattern", evs], "");
    assert_eq!(code, 2);
}

// ---------------------------------------------------------------- properties

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", "ab", "", "A"]).prop_map(|s| json!(s)),
        (-3i64..4).prop_map(|n| json!(n)),
        prop::sample::select(vec![0.5f64, 2.0, -1.25]).prop_map(|x| json!(x)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(Value::Null),
    ]
}

fn event_value() -> impl Strategy<Value = Value> {
    let leaf = scalar();
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(vec!["x", "y"]), inner), 0..3).prop_map(
                |kv| { Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()) }
            ),
        ]
    })
}

fn filter() -> impl Strategy<Value = Value> {
    let s = || prop::sample::select(vec!["a", "b", "ab", "A"]);
    prop_oneof![
        scalar(),
        s().prop_map(|x| json!({"prefix": x})),
        s().prop_map(|x| json!({"suffix": x})),
        s().prop_map(|x| json!({"equals-ignore-case": x})),
        s().prop_map(|x| json!({"wildcard": format!("*{x}")})),
        s().prop_map(|x| json!({"anything-but": x})),
        (-3i64..4).prop_map(|n| json!({"anything-but": [n]})),
        (-3i64..3).prop_map(|n| json!({"numeric": [">", n, "<=", n + 2]})),
        any::<bool>().prop_map(|b| json!({"exists": b})),
    ]
}

/// Every operator family the shared predicates of `RuleMatcher` handle, over a small value pool
/// so that many rules share conditions.
fn filter_all() -> impl Strategy<Value = Value> {
    let s = || prop::sample::select(vec!["a", "b", "ab", "A", "10.0.0.1"]);
    prop_oneof![
        filter(),
        s().prop_map(|x| json!({"prefix": {"equals-ignore-case": x}})),
        s().prop_map(|x| json!({"suffix": {"equals-ignore-case": x}})),
        (s(), s()).prop_map(|(x, y)| json!({"anything-but": [x, y]})),
        s().prop_map(|x| json!({"anything-but": {"prefix": x}})),
        s().prop_map(|x| json!({"anything-but": {"suffix": [x, "z"]}})),
        s().prop_map(|x| json!({"anything-but": {"equals-ignore-case": x}})),
        s().prop_map(|x| json!({"anything-but": {"wildcard": format!("{x}*")}})),
        s().prop_map(|x| json!({"wildcard": format!("{x}*b")})),
        (-3i64..3).prop_map(|n| json!({"numeric": [">=", n]})),
        (-3i64..3).prop_map(|n| json!({"numeric": ["=", n]})),
        Just(json!({"cidr": "10.0.0.0/24"})),
    ]
}

/// Patterns over top-level `source`, `x` and `y`, nested up to two levels, with `$or`.
fn pattern_all() -> impl Strategy<Value = Value> {
    let leaf = || prop::collection::vec(filter_all(), 1..3).prop_map(Value::Array);
    let obj = |keys: Vec<&'static str>, inner: BoxedStrategy<Value>| {
        prop::collection::vec((prop::sample::select(keys), inner), 1..3)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    };
    let nested = obj(vec!["x", "y"], leaf().boxed()).boxed();
    let inner = prop_oneof![leaf(), obj(vec!["x", "y"], nested)].boxed();
    let top = move || obj(vec!["source", "x", "y"], inner.clone());
    prop_oneof![
        3 => top(),
        1 => (top(), top(), top()).prop_map(|(a, b, c)| {
            let mut m = a.as_object().cloned().unwrap_or_default();
            m.insert("$or".to_owned(), json!([b, c]));
            Value::Object(m)
        }),
    ]
}

fn scalar_all() -> impl Strategy<Value = Value> {
    prop_oneof![
        scalar(),
        prop::sample::select(vec!["10.0.0.1", "10.0.1.1", "ba", "aB"]).prop_map(|s| json!(s)),
    ]
}

/// Event values: scalars, arrays (of scalars, of objects, of arrays) and objects over `x`/`y`.
fn event_value_all() -> impl Strategy<Value = Value> {
    scalar_all().prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(vec!["x", "y"]), inner), 0..3).prop_map(
                |kv| { Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()) }
            ),
        ]
    })
}

fn pattern() -> impl Strategy<Value = Value> {
    let leaf = || prop::collection::vec(filter(), 1..3).prop_map(Value::Array);
    let obj = |depth_leaf: BoxedStrategy<Value>| {
        prop::collection::vec((prop::sample::select(vec!["x", "y"]), depth_leaf), 1..3)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    };
    let inner = prop_oneof![leaf(), obj(leaf().boxed())].boxed();
    prop_oneof![
        4 => obj(inner.clone()),
        1 => (obj(inner.clone()), obj(inner.clone()), obj(inner)).prop_map(|(a, b, c)| {
            let mut m = a.as_object().cloned().unwrap_or_default();
            m.insert("$or".to_owned(), json!([b, c]));
            Value::Object(m)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// For a present scalar field, anything-but X matches exactly when [X] does not.
    #[test]
    fn anything_but_is_the_complement_of_exact(
        x in prop_oneof![prop::sample::select(vec!["a", "b", ""]).prop_map(|s| json!(s)), (-3i64..4).prop_map(|n| json!(n)), Just(json!(1.5))],
        v in scalar(),
    ) {
        let ev = json!({"detail": {"f": v}});
        let exact = pat(json!({"detail": {"f": [x.clone()]}})).matches(&ev);
        let but = pat(json!({"detail": {"f": [{"anything-but": x}]}})).matches(&ev);
        prop_assert_eq!(but, !exact);
    }

    /// RuleMatcher::matching agrees with evaluating each pattern on its own.
    #[test]
    fn rule_matcher_agrees_with_patterns(
        pats in prop::collection::vec(pattern(), 1..8),
        events in prop::collection::vec(event_value(), 1..6),
    ) {
        let compiled: Vec<Pattern> = pats.iter().filter_map(|p| Pattern::parse(p).ok()).collect();
        let m = RuleMatcher::new(compiled.clone());
        let mut s = MatchScratch::default();
        let mut out = Vec::new();
        for e in &events {
            let e = json!({"source": "a", "x": e.clone(), "y": e.clone()});
            m.matching(&e, &mut s, &mut out);
            let expected: Vec<usize> = (0..compiled.len()).filter(|&i| compiled[i].matches(&e)).collect();
            prop_assert_eq!(&out, &expected);
        }
    }

    /// The same with up to 40 rules sharing conditions (so shared predicates, the index, the
    /// proven index leaf and array-consistent groups are all exercised), every operator, and
    /// events whose `source`, `x` and `y` vary independently; one scratch across all events.
    #[test]
    fn rule_matcher_agrees_with_patterns_many_rules(
        pats in prop::collection::vec(pattern_all(), 1..40),
        events in prop::collection::vec(
            (prop::option::of(scalar_all()), event_value_all(), prop::option::of(event_value_all())),
            1..8,
        ),
    ) {
        let compiled: Vec<Pattern> = pats.iter().filter_map(|p| Pattern::parse(p).ok()).collect();
        let m = RuleMatcher::new(compiled.clone());
        let mut s = MatchScratch::default();
        let mut out = Vec::new();
        for (src, x, y) in &events {
            let mut e = serde_json::Map::new();
            if let Some(src) = src {
                e.insert("source".to_owned(), src.clone());
            }
            e.insert("x".to_owned(), x.clone());
            if let Some(y) = y {
                e.insert("y".to_owned(), y.clone());
            }
            let e = Value::Object(e);
            m.matching(&e, &mut s, &mut out);
            let expected: Vec<usize> = (0..compiled.len()).filter(|&i| compiled[i].matches(&e)).collect();
            prop_assert_eq!(&out, &expected, "event {}", e);
        }
    }

    /// Parsing never panics, whatever the input.
    #[test]
    fn parse_never_panics(p in event_value()) {
        let _ = Pattern::parse(&p);
        let _ = Transform::parse(&p);
    }
}

/// `eventflow pattern test --sns POLICY --event EVENT [--scope body]` through the real binary:
/// a match, a no-match with the failing property named, the scope flag, and an invalid policy
/// (exit 2, path named).
#[test]
fn sns_filter_policy_files() {
    use crate::support::{eventflow, stderr, stdout};
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_string_lossy().into_owned()
    };
    let policy = write(
        "policy.json",
        &json!({"store": ["web"], "price": [{"numeric": [">", 100]}]}),
    );
    let yes = write(
        "yes.json",
        &json!({"attributes": {"store": "web", "price": {"Type": "Number", "Value": "150"}}}),
    );
    let no = write(
        "no.json",
        &json!({"attributes": {"store": "web", "price": {"Type": "String", "Value": "150"}}}),
    );
    let o = eventflow(&["pattern", "test", "--sns", &policy, "--event", &yes], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("match\n"), "{}", stdout(&o));
    let o = eventflow(&["pattern", "test", "--sns", &policy, "--event", &no], "");
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.starts_with("no match\n") && out.contains("FAIL price"),
        "{out}"
    );
    let body_policy = write("body.json", &json!({"detail": {"tier": ["gold"]}}));
    let ev = write("ev.json", &json!({"detail": {"tier": "gold"}}));
    let o = eventflow(
        &[
            "pattern",
            "test",
            "--sns",
            &body_policy,
            "--event",
            &ev,
            "--scope",
            "body",
        ],
        "",
    );
    assert!(stdout(&o).starts_with("match\n"), "{}", stdout(&o));
    let o = eventflow(
        &["pattern", "test", "--sns", &body_policy, "--event", &ev],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("detail: SNS does not accept nested"),
        "{}",
        stderr(&o)
    );
}
