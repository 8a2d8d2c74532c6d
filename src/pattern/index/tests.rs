//! Unit tests of the shared rule index (split from `index.rs` to keep it readable).

use super::*;
use serde_json::json;

/// The patterns, compiled one by one (each must parse).
fn compiled(ps: &[serde_json::Value]) -> Vec<Pattern> {
    ps.iter().map(|p| Pattern::parse(p).unwrap()).collect()
}

fn matcher(ps: &[serde_json::Value]) -> RuleMatcher {
    RuleMatcher::new(compiled(ps))
}

/// The rules `e` matches by the reference, `Pattern::matches` one pattern at a time.
fn reference(rules: &[Pattern], e: &serde_json::Value) -> Vec<usize> {
    (0..rules.len()).filter(|&k| rules[k].matches(e)).collect()
}

#[test]
fn indexes_and_unindexed() {
    let m = matcher(&[
        json!({"source": ["a"], "detail-type": ["X"]}),
        json!({"source": [{"prefix": "b."}]}),
        json!({"detail": {"n": [{"numeric": [">", 1]}]}}),
        json!({"$or": [{"source": ["c"]}, {"detail": {"n": [5]}}]}),
        json!({"source": [{"equals-ignore-case": "MiXed"}]}),
    ]);
    assert_eq!(m.unindexed_count(), 1);
    let mut s = MatchScratch::default();
    let mut out = Vec::new();
    let mut run = |e: serde_json::Value| {
        m.matching(&e, &mut s, &mut out);
        out.clone()
    };
    assert_eq!(run(json!({"source": "a", "detail-type": "X"})), vec![0]);
    assert_eq!(
        run(json!({"source": "b.x", "detail": {"n": 5}})),
        vec![1, 2, 3]
    );
    assert_eq!(run(json!({"source": ["c", "MIXED"]})), vec![3, 4]);
    assert_eq!(
        run(json!({"source": "z", "detail": {"n": 5.0}})),
        vec![2, 3]
    );
    assert!(run(json!({})).is_empty());
}

#[test]
fn shared_predicates_and_arrays_of_objects() {
    let m = matcher(&[
        json!({"source": ["s"], "d": {"a": [1], "b": [2]}}),
        json!({"source": ["s"], "d": {"a": [1]}}),
        json!({"d": {"a": [1], "b": [{"exists": false}]}}),
        json!({"source": ["s"], "d": {"e": {"f": ["x"]}, "a": [1]}}),
        json!({"$or": [{"d": {"a": [1]}}, {"d": {"b": [2]}}], "source": [{"prefix": "s"}]}),
    ]);
    // 14 leaves over 6 distinct conditions; 7 enclosing objects over 6 distinct ones
    // (`d: {a: [1]}` is shared by rule 1 and rule 4's first alternative).
    assert_eq!(m.checks.len(), 14);
    assert_eq!(m.preds.len(), 6 + 6);
    let mut s = MatchScratch::default();
    let mut out = Vec::new();
    let mut run = |e: serde_json::Value| {
        m.matching(&e, &mut s, &mut out);
        out.clone()
    };
    // a and b in different elements: not array-consistent for rule 0.
    assert_eq!(
        run(json!({"source": "s", "d": [{"a": 1}, {"b": 2}]})),
        vec![1, 2, 4]
    );
    assert_eq!(
        run(json!({"source": "s", "d": [{"a": 1, "b": 2}]})),
        vec![0, 1, 4]
    );
    assert_eq!(
        run(json!({"source": "s", "d": {"a": 1, "b": 2}})),
        vec![0, 1, 4]
    );
    // Arrays two levels down, and a scalar array on the indexed leaf.
    assert_eq!(
        run(json!({"source": ["t", "s"], "d": [{"a": 1, "e": [{"f": "y"}, {"f": "x"}]}]})),
        vec![1, 2, 3, 4]
    );
    assert_eq!(run(json!({"source": ["t"], "d": [[{"a": 1}], 3]})), vec![2]);
    assert!(run(json!({"source": "s", "d": []})).is_empty());
    assert_eq!(run(json!({"source": "s", "d": 1})), Vec::<usize>::new());
}

/// Stamps are bytes whose epoch wraps every 127 events, sub-rules filed under several keys
/// sit in several buckets, and a pattern whose alternatives both hold is reported once: over
/// many events the matcher must keep agreeing with each pattern on its own.
#[test]
fn epochs_wrap_and_duplicates_are_reported_once() {
    let ps = [
        json!({"source": ["a", "b"], "n": [{"numeric": [">", 5]}]}),
        json!({"$or": [{"source": ["a"]}, {"n": [{"numeric": [">", 2]}]}]}),
        json!({"source": [{"prefix": "a"}], "s": [{"anything-but": ["x"]}]}),
        json!({"s": [{"exists": false}]}),
    ];
    let m = matcher(&ps);
    let rules = compiled(&ps);
    let mut s = MatchScratch::default();
    let mut out = Vec::new();
    for i in 0..1000u64 {
        let src = ["a", "b", "ab", "c"][(i % 4) as usize];
        let e = match i % 3 {
            0 => json!({"source": src, "n": i % 9, "s": "x"}),
            1 => json!({"source": [src, "a"], "n": i % 7}),
            _ => json!({"source": src, "s": ["y", "x"]}),
        };
        m.matching(&e, &mut s, &mut out);
        let want = reference(&rules, &e);
        assert_eq!(out, want, "event {i}: {e}");
    }
}

#[test]
fn fx_hasher_is_stable() {
    let mut a = FxHasher::default();
    a.write(b"hello world, longer than eight");
    let mut b = FxHasher::default();
    b.write(b"hello world, longer than eight");
    assert_eq!(a.finish(), b.finish());
}

/// The inline string table finds every key it was built with and nothing else, including
/// keys that share a slot and the empty string.
#[test]
fn str_table_finds_exactly_its_keys() {
    let keys: Vec<String> = (0..300)
        .map(|i| format!("Svc{}.Event{}", i / 10, i % 10))
        .collect();
    let mut items: Vec<(Box<str>, Bucket)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                k.as_str().into(),
                Bucket {
                    start: i as u32,
                    len: 1,
                },
            )
        })
        .collect();
    items.push(("".into(), Bucket { start: 999, len: 2 }));
    let t = StrTable::new(items);
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(t.get(k).map(|b| b.start), Some(i as u32), "{k}");
    }
    assert_eq!(t.get("").map(|b| b.len), Some(2));
    for miss in [
        "Svc30.Event0",
        "Svc1.Event",
        "svc1.Event1",
        "Svc1.Event10",
        "x",
    ] {
        assert!(t.get(miss).is_none(), "{miss}");
    }
    assert!(StrTable::new(Vec::new()).get("a").is_none());
}

/// A pattern with one sub-rule skips the "reported" stamp only where it cannot be found twice:
/// a scalar under distinct exact keys. A string hitting both an exact and a prefix key of the
/// same leaf, or an event array holding several keys (or one key twice), still reports it once.
#[test]
fn single_sub_rules_are_reported_once() {
    let ps = [
        json!({"source": ["abc", {"prefix": "ab"}]}),
        json!({"source": ["a", "b"], "n": [{"numeric": [">", 0]}]}),
        json!({"source": ["a"]}),
    ];
    let m = matcher(&ps);
    assert!(m.entries.iter().any(|e| e.pattern & ONCE != 0));
    assert!(m.entries.iter().any(|e| e.pattern & ONCE == 0));
    let rules = compiled(&ps);
    let mut s = MatchScratch::default();
    let mut out = Vec::new();
    for e in [
        json!({"source": "abc"}),
        json!({"source": ["abc", "abd"]}),
        json!({"source": ["a", "b"], "n": 1}),
        json!({"source": ["a", "a"], "n": 1}),
        json!({"source": [["a"], "a"]}),
        json!({"source": "b", "n": 2}),
    ] {
        m.matching(&e, &mut s, &mut out);
        let want = reference(&rules, &e);
        assert_eq!(out, want, "{e}");
    }
}

/// Leaves of several entries (evaluated element by element on arrays, [`leaf_fast`]) and the
/// short-string hash give exactly `Pattern::matches`: arrays of strings, numbers, nested arrays,
/// objects inside arrays, empty arrays, missing fields, and `exists` beside other entries.
#[test]
fn multi_entry_leaves_agree_with_the_reference() {
    let patterns = [
        json!({"tags": ["vip", "b2b", {"suffix": "mo"}]}),
        json!({"tags": [{"prefix": "pr"}, {"anything-but": ["none"]}]}),
        json!({"tags": [{"suffix": "mo"}, {"numeric": [">", 3]}, {"equals-ignore-case": "VIP"}]}),
        json!({"tags": ["x", {"exists": false}]}),
        json!({"tags": [{"exists": true}, "never"]}),
        json!({"tags": [{"wildcard": "*o*"}, {"cidr": "10.0.0.0/8"}]}),
        json!({"tags": [{"anything-but": {"suffix": "mo"}}, 7]}),
        json!({"source": ["a"], "tags": [{"suffix": "o"}, "b2b"]}),
    ];
    let events = [
        json!({"tags": ["vip", "none"]}),
        json!({"tags": ["promo"]}),
        json!({"tags": "promo"}),
        json!({"tags": ["none"]}),
        json!({"tags": []}),
        json!({}),
        json!({"tags": [["b2b"], "z"]}),
        json!({"tags": [{"a": "promo"}, "z"]}),
        json!({"tags": [{"a": 1}]}),
        json!({"tags": [1, 5, "VIP"]}),
        json!({"tags": ["10.1.2.3"]}),
        json!({"tags": [null, true, 7]}),
        json!({"tags": {"nested": "promo"}}),
        json!({"source": "a", "tags": ["b2b"]}),
        json!({"source": "a", "tags": ["zo", ["x"]]}),
        json!({"tags": ["x", "y"]}),
        json!({"tags": "x"}),
    ];
    let rules = compiled(&patterns);
    let m = RuleMatcher::new(rules.clone());
    let mut s = MatchScratch::default();
    let mut out = Vec::new();
    for e in &events {
        m.matching(e, &mut s, &mut out);
        let want = reference(&rules, e);
        assert_eq!(out, want, "event {e}");
    }
    // The written expectations of a few, independent of the reference: `tags` holds "vip"
    // (rule 0), no element ends in "mo" (rules 0, 2), an object element is no leaf value.
    m.matching(&json!({"tags": ["vip", "none"]}), &mut s, &mut out);
    assert!(out.contains(&0) && !out.contains(&3));
    m.matching(&json!({"tags": [{"a": "promo"}, "z"]}), &mut s, &mut out);
    assert!(!out.contains(&0) && !out.contains(&2));
    m.matching(&json!({}), &mut s, &mut out);
    assert_eq!(out, vec![3]);
}

/// The short-string hash is the same for equal strings however they were built, and spreads
/// strings that differ only in one byte, in the length, or beyond the first 16 bytes.
#[test]
fn short_string_hash_separates_near_keys() {
    let owned = String::from("com.shop.svc12");
    assert_eq!(str_hash(&owned), str_hash("com.shop.svc12"));
    let keys = [
        "",
        "a",
        "b",
        "ab",
        "ba",
        "abc",
        "abcd",
        "abce",
        "abcde",
        "abcdefgh",
        "abcdefgi",
        "abcdefghijklmnop",
        "abcdefghijklmnoq",
        "abcdefghijklmnopq",
        "abcdefghijklmnopr",
        "Svc1.Event1",
        "Svc1.Event10",
        "Svc10.Event1",
        "x\u{e9}",
        "x\u{e8}",
    ];
    let hashes: HashSet<u64> = keys.iter().map(|k| str_hash(k)).collect();
    assert_eq!(hashes.len(), keys.len());
    let t = StrTable::new(
        keys.iter()
            .enumerate()
            .map(|(i, k)| {
                (
                    (*k).into(),
                    Bucket {
                        start: i as u32,
                        len: 1,
                    },
                )
            })
            .collect(),
    );
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(t.get(k).map(|b| b.start), Some(i as u32), "{k}");
    }
    assert!(t.get("abcdefghijklmnops").is_none());
}

/// Open and closed numeric bounds as closed ranges: exactly the values `Numeric::contains`
/// accepts, at the bound itself, one float either side, at zero of both signs and at the
/// extremes.
#[test]
fn closed_ranges_keep_open_and_closed_bounds() {
    use super::super::matcher::Numeric;
    let bounds = [0.0, -0.0, 1.0, -2.5, 500.0, f64::MAX, f64::MIN, 1e-300];
    let mut xs = vec![0.0, -0.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE];
    for b in bounds {
        xs.extend([b, b.next_up(), b.next_down()]);
    }
    xs.retain(|x: &f64| x.is_finite());
    let sides = |b: f64| [None, Some((b, true)), Some((b, false))];
    for lo in bounds {
        for hi in bounds {
            for l in sides(lo) {
                for h in sides(hi) {
                    let r = Numeric { lo: l, hi: h };
                    let (a, z) = closed_range(&r);
                    for &x in &xs {
                        assert_eq!(a <= x && x <= z, r.contains(x), "{r:?} at {x:e}");
                    }
                }
            }
        }
    }
}

/// Checks compiled to flat operations (exact, prefix, suffix, numeric ranges with open and
/// closed bounds, anything-but strings, exists) give exactly `Pattern::matches` on every value
/// type the operation does not name (arrays, numbers for strings, strings for numbers, null,
/// objects, missing fields), and the multi-entry leaves of flat entries likewise. The shapes
/// are asserted too, so that the test fails if these checks stopped being compiled to flat
/// operations and only the general path were exercised.
#[test]
fn flat_operations_agree_with_the_reference() {
    let patterns = [
        json!({"source": ["s"], "n": [{"numeric": [">", 10, "<=", 20]}]}),
        json!({"source": ["s"], "n": [{"numeric": [">=", 10, "<", 20]}]}),
        json!({"source": ["s"], "n": [{"numeric": ["=", 0]}]}),
        json!({"source": ["s"], "n": [{"numeric": ["<", -1.5]}]}),
        json!({"source": ["s"], "x": ["a"]}),
        json!({"source": ["s"], "x": [{"prefix": "ab"}]}),
        json!({"source": ["s"], "x": [{"suffix": "yz"}]}),
        json!({"source": ["s"], "x": [{"anything-but": ["a", "b"]}]}),
        json!({"source": ["s"], "x": [{"exists": true}]}),
        json!({"source": ["s"], "x": [{"exists": false}]}),
        json!({"source": ["s"], "x": [{"anything-but": [1, 2]}]}),
        json!({"source": ["s"], "$or": [{"x": ["a", "q"]}, {"n": [{"numeric": [">", 15]}]}]}),
        json!({"source": ["s"], "x": ["a", {"prefix": "q"}, {"numeric": [">", 3]}]}),
        json!({"source": ["s"], "x": [{"anything-but": ["a"]}, {"suffix": "z"}]}),
    ];
    let values = [
        json!(null),
        json!(true),
        json!(0),
        json!(-0.0),
        json!(10),
        json!(10.000000000000002),
        json!(15),
        json!(20),
        json!(20.000000000000004),
        json!(-1.5),
        json!(-2),
        json!(1),
        json!(4),
        json!("a"),
        json!("b"),
        json!("abc"),
        json!("xyz"),
        json!("q1"),
        json!("z"),
        json!(""),
        json!([]),
        json!(["b", "a"]),
        json!([15, "c"]),
        json!([["abc"]]),
        json!([{"x": "a"}]),
        json!({"x": "a"}),
    ];
    let rules = compiled(&patterns);
    let m = RuleMatcher::new(rules.clone());
    let flat = m
        .checks
        .iter()
        .filter(|c| !matches!(c.op, Op::Shared | Op::General))
        .count();
    let ranges = m
        .checks
        .iter()
        .filter(|c| matches!(c.op, Op::Range(..)))
        .count();
    let ops = m.preds.iter().filter(|p| matches!(p, Pred::Ops(_))).count();
    // Every content check but the shared `exists` and `anything-but` ones is flat; the `$or`
    // branch's two exact strings and rule 13's leaf are flat multi-entry leaves.
    assert!(
        flat >= 10 && ranges >= 4 && ops >= 2,
        "{flat} {ranges} {ops}"
    );
    let mut s = MatchScratch::default();
    let mut out = Vec::new();
    let mut events = vec![json!({"source": "s"})];
    for v in &values {
        events.push(json!({"source": "s", "n": v}));
        events.push(json!({"source": "s", "x": v}));
        events.push(json!({"source": "s", "x": v, "n": 15}));
    }
    for e in &events {
        m.matching(e, &mut s, &mut out);
        let want = reference(&rules, e);
        assert_eq!(out, want, "event {e}");
    }
    // Written expectations at the bounds, independent of the reference.
    let hits = |e: serde_json::Value, s: &mut MatchScratch, out: &mut Vec<usize>| {
        m.matching(&e, s, out);
        out.clone()
    };
    assert_eq!(
        hits(json!({"source": "s", "n": 10}), &mut s, &mut out),
        vec![1, 9]
    );
    assert_eq!(
        hits(json!({"source": "s", "n": 20}), &mut s, &mut out),
        vec![0, 9, 11]
    );
    assert_eq!(
        hits(json!({"source": "s", "n": -0.0}), &mut s, &mut out),
        vec![2, 9]
    );
    assert_eq!(
        hits(json!({"source": "s", "x": 1}), &mut s, &mut out),
        vec![7, 8, 13]
    );
}
