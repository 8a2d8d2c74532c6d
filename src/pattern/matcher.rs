//! The operators of the pattern language and the evaluation of compiled patterns.
//!
//! A compiled pattern is a list of alternatives ([`Node`] trees with `$or` multiplied out).
//! Evaluation walks the event alongside the tree and never allocates: case-insensitive
//! comparisons fold characters on the fly, wildcards match by substring search, IP addresses
//! are parsed into integers on the stack.

use std::net::IpAddr;

use serde_json::{Number, Value};

use super::parse::{FieldValue, ObjAst};
use super::{MAX_ALTERNATIVES, PatternError};

/// One entry of a leaf array: a plain value or a filter. A leaf matches when any entry does.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    /// Exact string (character by character).
    Str(Box<str>),
    /// Exact number, compared by value (`300 == 300.0 == 3.0e2`, as event-ruler does).
    Num(Number),
    /// Exact boolean.
    Bool(bool),
    /// Exact JSON null.
    Null,
    /// `{"prefix": s}`.
    Prefix(Box<str>),
    /// `{"prefix": {"equals-ignore-case": s}}`; `s` is stored lower-cased.
    PrefixIc(Box<str>),
    /// `{"suffix": s}`.
    Suffix(Box<str>),
    /// `{"suffix": {"equals-ignore-case": s}}`; `s` is stored lower-cased.
    SuffixIc(Box<str>),
    /// `{"equals-ignore-case": s}`; `s` is stored lower-cased.
    EqIc(Box<str>),
    /// `{"wildcard": glob}`.
    Wildcard(Wild),
    /// `{"anything-but": "s"}` or a list of strings.
    AbStrs(Box<[Box<str>]>),
    /// `{"anything-but": n}` or a list of numbers.
    AbNums(Box<[Number]>),
    /// `{"anything-but": {"prefix": …}}`.
    AbPrefix(Box<[Box<str>]>),
    /// `{"anything-but": {"suffix": …}}`.
    AbSuffix(Box<[Box<str>]>),
    /// `{"anything-but": {"equals-ignore-case": …}}`; stored lower-cased.
    AbEqIc(Box<[Box<str>]>),
    /// `{"anything-but": {"wildcard": …}}`.
    AbWild(Box<[Wild]>),
    /// `{"numeric": […]}`.
    Numeric(Numeric),
    /// `{"exists": bool}`.
    Exists(bool),
    /// `{"cidr": block}`.
    Cidr(Cidr),
}

/// A wildcard glob split at its unescaped `*`: `parts.len() - 1` stars, literal text between.
#[derive(Debug, Clone)]
pub(crate) struct Wild {
    /// Literal segments (escapes resolved). One segment means no star: an exact match.
    pub parts: Box<[Box<str>]>,
    /// The glob as written, for explanations.
    pub source: Box<str>,
}

impl Wild {
    #[inline]
    pub(crate) fn matches(&self, s: &str) -> bool {
        let parts = &self.parts;
        let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
            return false;
        };
        if parts.len() == 1 {
            return str_eq(s, first);
        }
        // Anchored at both ends (the two anchors may not overlap); middle segments found
        // leftmost-first, which is optimal for globs whose only metacharacter is `*`. The
        // anchors are compared inline: globs are short (`C-3*`), `memcmp` calls are not cheap.
        if s.len() < first.len() + last.len() || !starts_with(s, first) || !ends_with(s, last) {
            return false;
        }
        if parts.len() == 2 {
            return true;
        }
        let mut rest = &s[first.len()..s.len() - last.len()];
        for mid in &parts[1..parts.len() - 1] {
            match rest.find(&**mid) {
                Some(i) => rest = &rest[i + mid.len()..],
                None => return false,
            }
        }
        true
    }
}

/// A numeric range: an optional lower and an optional upper bound, each with inclusiveness.
/// `["=", x]` is the range `[x, x]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numeric {
    /// Lower bound and whether it is inclusive.
    pub lo: Option<(f64, bool)>,
    /// Upper bound and whether it is inclusive.
    pub hi: Option<(f64, bool)>,
}

impl Numeric {
    #[inline(always)]
    pub(crate) fn contains(&self, x: f64) -> bool {
        let lo_ok = match self.lo {
            None => true,
            Some((b, true)) => x >= b,
            Some((b, false)) => x > b,
        };
        let hi_ok = match self.hi {
            None => true,
            Some((b, true)) => x <= b,
            Some((b, false)) => x < b,
        };
        lo_ok && hi_ok
    }
}

/// A CIDR block, host bits already masked off.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cidr {
    /// IPv4 network and mask.
    V4 { net: u32, mask: u32, bits: u8 },
    /// IPv6 network and mask.
    V6 { net: u128, mask: u128, bits: u8 },
}

impl Cidr {
    pub(crate) fn contains(&self, s: &str) -> bool {
        self.contains_addr(parse_ip(s))
    }

    /// The same for an already parsed address (`None`: the string is not an IP address), so
    /// that several blocks tested against one event string parse it once.
    #[inline]
    pub(crate) fn contains_addr(&self, a: Option<IpAddr>) -> bool {
        match (self, a) {
            (Cidr::V4 { net, mask, .. }, Some(IpAddr::V4(a))) => u32::from(a) & mask == *net,
            (Cidr::V6 { net, mask, .. }, Some(IpAddr::V6(a))) => u128::from(a) & mask == *net,
            _ => false,
        }
    }
}

/// An event string as an IP address, as `s.parse::<IpAddr>().ok()` gives it. A plain dotted
/// quad (the usual case) is read inline; anything else, and anything the quick reader is not
/// sure of, goes to the standard parser, so the result is the standard one for every input.
#[inline]
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    match ipv4_quick(s.as_bytes()) {
        Some(a) => Some(IpAddr::V4(a.into())),
        None => s.parse().ok(),
    }
}

/// Four decimal octets of one to three digits, each at most 255, without leading zeros, joined
/// by dots: a subset of what `Ipv4Addr::from_str` accepts, read to the same address. `None`
/// means "not of that form", not "not an address".
#[inline]
fn ipv4_quick(b: &[u8]) -> Option<u32> {
    if !(7..=15).contains(&b.len()) {
        return None;
    }
    let mut addr = 0u32;
    let mut i = 0;
    for octet in 0..4 {
        if octet > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v = 0u32;
        while i < b.len() && i - start < 3 && b[i].is_ascii_digit() {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || v > 255 || (digits > 1 && b[start] == b'0') {
            return None;
        }
        addr = addr << 8 | v;
    }
    (i == b.len()).then_some(addr)
}

/// Numbers are equal by value. Integers are compared exactly (account numbers exceed f64's
/// 53-bit mantissa); anything else as f64.
pub(crate) fn num_eq(a: &Number, b: &Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Byte-string equality, inline. Event and pattern strings are short (keys, sources, enum-like
/// values): two possibly overlapping word compares settle those up to 16 bytes without the call
/// and size dispatch of `memcmp`.
#[inline(always)]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

#[inline(always)]
pub(crate) fn word4(s: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&s[at..at + 4]);
    u32::from_le_bytes(w)
}

#[inline(always)]
pub(crate) fn word8(s: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline(always)]
pub(crate) fn str_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes())
}

#[inline(always)]
pub(crate) fn starts_with(s: &str, p: &str) -> bool {
    s.len() >= p.len() && bytes_eq(&s.as_bytes()[..p.len()], p.as_bytes())
}

#[inline(always)]
pub(crate) fn ends_with(s: &str, p: &str) -> bool {
    s.len() >= p.len() && bytes_eq(&s.as_bytes()[s.len() - p.len()..], p.as_bytes())
}

/// Lower-cases on the fly: no allocation.
fn lower(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase)
}

/// ASCII lower-casing of one byte compared with a pattern byte: for an ASCII event string,
/// Unicode lower-casing is exactly this, byte for byte.
#[inline(always)]
fn ascii_ic_eq(s: &[u8], lowered: &[u8]) -> bool {
    s.len() == lowered.len()
        && s.iter()
            .zip(lowered)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
}

pub(crate) fn eq_ic(s: &str, lowered: &str) -> bool {
    // In one pass: an ASCII byte lower-cases to one ASCII byte, so while `s` is ASCII its
    // lower-cased form is known byte by byte and a mismatch settles the answer; the first other
    // character sends the whole string to Unicode lower-casing.
    let (a, b) = (s.as_bytes(), lowered.as_bytes());
    for (i, &x) in a.iter().enumerate() {
        if !x.is_ascii() {
            return lower(s).eq(lowered.chars());
        }
        if b.get(i) != Some(&x.to_ascii_lowercase()) {
            return false;
        }
    }
    a.len() == b.len()
}

fn prefix_ic(s: &str, lowered: &str) -> bool {
    if s.is_ascii() {
        let (s, p) = (s.as_bytes(), lowered.as_bytes());
        return s.len() >= p.len() && ascii_ic_eq(&s[..p.len()], p);
    }
    let mut it = lower(s);
    lowered.chars().all(|c| it.next() == Some(c))
}

fn suffix_ic(s: &str, lowered: &str) -> bool {
    if s.is_ascii() {
        let (s, p) = (s.as_bytes(), lowered.as_bytes());
        return s.len() >= p.len() && ascii_ic_eq(&s[s.len() - p.len()..], p);
    }
    let mut it = s.chars().rev().flat_map(|c| c.to_lowercase().rev());
    lowered.chars().rev().all(|c| it.next() == Some(c))
}

impl Cond {
    /// Whether a single scalar (never an array or object) satisfies this entry. `exists` is
    /// handled by the caller because it is about presence, not a value.
    pub(crate) fn matches_scalar(&self, v: &Value) -> bool {
        match self {
            Cond::Str(p) => matches!(v, Value::String(s) if str_eq(s, p)),
            Cond::Num(p) => matches!(v, Value::Number(n) if num_eq(n, p)),
            Cond::Bool(p) => matches!(v, Value::Bool(b) if b == p),
            Cond::Null => v.is_null(),
            Cond::Prefix(p) => matches!(v, Value::String(s) if starts_with(s, p)),
            Cond::PrefixIc(p) => matches!(v, Value::String(s) if prefix_ic(s, p)),
            Cond::Suffix(p) => matches!(v, Value::String(s) if ends_with(s, p)),
            Cond::SuffixIc(p) => matches!(v, Value::String(s) if suffix_ic(s, p)),
            Cond::EqIc(p) => matches!(v, Value::String(s) if eq_ic(s, p)),
            Cond::Wildcard(w) => matches!(v, Value::String(s) if w.matches(s)),
            // anything-but is typed: a value of another type is never excluded.
            Cond::AbStrs(set) => match v {
                Value::String(s) => !set.iter().any(|x| str_eq(x, s)),
                _ => true,
            },
            Cond::AbNums(set) => match v {
                Value::Number(n) => !set.iter().any(|x| num_eq(x, n)),
                _ => true,
            },
            Cond::AbPrefix(set) => match v {
                Value::String(s) => !set.iter().any(|x| starts_with(s, x)),
                _ => true,
            },
            Cond::AbSuffix(set) => match v {
                Value::String(s) => !set.iter().any(|x| ends_with(s, x)),
                _ => true,
            },
            Cond::AbEqIc(set) => match v {
                Value::String(s) => !set.iter().any(|x| eq_ic(s, x)),
                _ => true,
            },
            Cond::AbWild(set) => match v {
                Value::String(s) => !set.iter().any(|w| w.matches(s)),
                _ => true,
            },
            Cond::Numeric(r) => match v {
                Value::Number(n) => n.as_f64().is_some_and(|x| r.contains(x)),
                _ => false,
            },
            Cond::Cidr(c) => matches!(v, Value::String(s) if c.contains(s)),
            Cond::Exists(_) => false,
        }
    }

    /// Whether the field value (absent, scalar, array or object) satisfies this entry.
    #[inline]
    pub(crate) fn matches_field(&self, v: Option<&Value>) -> bool {
        match (self, v) {
            (Cond::Exists(want), _) => has_scalar(v) == *want,
            (_, None | Some(Value::Object(_))) => false,
            (_, Some(Value::Array(_))) => any_scalar(v, &mut |s| self.matches_scalar(s)),
            (_, Some(s)) => self.matches_scalar(s),
        }
    }
}

/// Whether a leaf is present: some scalar at this position, looking through arrays (flattened).
/// Objects are not leaves, and empty arrays/objects count as absent (as in event-ruler).
pub(crate) fn has_scalar(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Object(_)) => false,
        Some(Value::Array(items)) => items.iter().any(|x| has_scalar(Some(x))),
        Some(_) => true,
    }
}

/// Whether any scalar at this position (arrays flattened) satisfies `f`.
pub(crate) fn any_scalar<F: FnMut(&Value) -> bool + ?Sized>(v: Option<&Value>, f: &mut F) -> bool {
    match v {
        None | Some(Value::Object(_)) => false,
        Some(Value::Array(items)) => items.iter().any(|x| any_scalar(Some(x), f)),
        Some(s) => f(s),
    }
}

/// One alternative of a compiled pattern: the fields required at one object level.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// Fields, in pattern order; each key appears once.
    pub fields: Vec<NodeField>,
}

/// The requirements on one field of an object: leaf arrays (all must match) and/or nested
/// fields (`$or` expansion can put both on one key).
#[derive(Debug, Clone)]
pub(crate) struct NodeField {
    /// Field name, case-sensitive.
    pub key: Box<str>,
    /// Leaf arrays; each must be satisfied (each is an OR of its entries).
    pub leaves: Vec<Box<[Cond]>>,
    /// Nested fields, evaluated against the field's value (each array element in turn).
    pub child: Option<Box<Node>>,
}

impl Node {
    /// Merges `other` into `self`, AND-ing fields with the same key.
    fn merge(&mut self, other: &Node) {
        for f in &other.fields {
            match self.fields.iter_mut().find(|g| g.key == f.key) {
                Some(g) => {
                    g.leaves.extend(f.leaves.iter().cloned());
                    match (&mut g.child, &f.child) {
                        (Some(a), Some(b)) => a.merge(b),
                        (None, Some(b)) => g.child = Some(b.clone()),
                        _ => {}
                    }
                }
                None => self.fields.push(f.clone()),
            }
        }
    }
}

/// Multiplies out every `$or` of the pattern into alternatives, merging fields that meet in the
/// same object. Fails when there would be more than [`MAX_ALTERNATIVES`].
pub(crate) fn expand(ast: &ObjAst) -> Result<Vec<Node>, PatternError> {
    expand_obj(ast)
}

fn cross(a: Vec<Node>, b: &[Node], path: &str) -> Result<Vec<Node>, PatternError> {
    if a.len().saturating_mul(b.len()) > MAX_ALTERNATIVES {
        return Err(PatternError::new(
            path,
            format!(
                "too complex: the $or groups multiply out to more than {MAX_ALTERNATIVES} alternatives"
            ),
        ));
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in &a {
        for y in b {
            let mut n = x.clone();
            n.merge(y);
            out.push(n);
        }
    }
    Ok(out)
}

fn expand_obj(ast: &ObjAst) -> Result<Vec<Node>, PatternError> {
    let mut acc = vec![Node::default()];
    for f in &ast.fields {
        match &f.value {
            FieldValue::Leaf(conds) => {
                let leaf: Box<[Cond]> = conds.clone().into_boxed_slice();
                for n in &mut acc {
                    n.merge(&Node {
                        fields: vec![NodeField {
                            key: f.key.as_str().into(),
                            leaves: vec![leaf.clone()],
                            child: None,
                        }],
                    });
                }
            }
            FieldValue::Object(sub) => {
                let subs = expand_obj(sub)?;
                let wrapped: Vec<Node> = subs
                    .into_iter()
                    .map(|s| Node {
                        fields: vec![NodeField {
                            key: f.key.as_str().into(),
                            leaves: Vec::new(),
                            child: Some(Box::new(s)),
                        }],
                    })
                    .collect();
                acc = cross(acc, &wrapped, &f.path)?;
            }
        }
    }
    for or in &ast.ors {
        let mut branches = Vec::new();
        for b in &or.branches {
            branches.extend(expand_obj(b)?);
            if branches.len() > MAX_ALTERNATIVES {
                return Err(PatternError::new(
                    or.path.as_str(),
                    format!("too complex: more than {MAX_ALTERNATIVES} alternatives"),
                ));
            }
        }
        acc = cross(acc, &branches, &or.path)?;
    }
    Ok(acc)
}

/// Looks a key up in an event object. Event objects are small (an envelope has 9 keys), and for
/// those a scan comparing lengths first beats hashing the key with `SipHash`, which is what
/// `serde_json::Map` (an `IndexMap` here) would do.
#[inline]
pub(crate) fn get<'e>(map: &'e serde_json::Map<String, Value>, key: &str) -> Option<&'e Value> {
    if map.len() <= 16 {
        let key = key.as_bytes();
        map.iter()
            .find(|(k, _)| bytes_eq(k.as_bytes(), key))
            .map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// Whether the value at this position satisfies every field of `node`.
///
/// - an object: each field is looked up in it;
/// - an array: some element (nested arrays flattened) must satisfy the whole node, which is
///   event-ruler's array-consistent matching;
/// - absent, a scalar, an empty object or an empty array: every field is absent.
pub(crate) fn node_matches(node: &Node, v: Option<&Value>) -> bool {
    match v {
        Some(Value::Object(map)) => node
            .fields
            .iter()
            .all(|f| field_matches(f, get(map, &f.key))),
        Some(Value::Array(items)) if !items.is_empty() => {
            items.iter().any(|x| node_matches(node, Some(x)))
        }
        _ => node.fields.iter().all(|f| field_matches(f, None)),
    }
}

/// Whether a field's value satisfies the field's leaves and nested fields.
pub(crate) fn field_matches(f: &NodeField, v: Option<&Value>) -> bool {
    f.leaves
        .iter()
        .all(|leaf| leaf.iter().any(|c| c.matches_field(v)))
        && f.child.as_ref().is_none_or(|c| node_matches(c, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wild(parts: &[&str]) -> Wild {
        Wild {
            parts: parts.iter().map(|p| (*p).into()).collect(),
            source: "".into(),
        }
    }

    #[test]
    fn wildcard_segments() {
        assert!(wild(&["a", "b"]).matches("ab"));
        assert!(wild(&["a", "b"]).matches("a/x/b"));
        assert!(!wild(&["a", "a"]).matches("a"));
        assert!(wild(&["", ""]).matches(""));
        assert!(wild(&["", "x", ""]).matches("axb"));
        assert!(!wild(&["", "x", "y", ""]).matches("yx"));
        assert!(wild(&["abc"]).matches("abc"));
        assert!(!wild(&["abc"]).matches("abcd"));
        assert!(!wild(&["ab", "ba"]).matches("aba"));
        assert!(wild(&["ab", "ba"]).matches("abba"));
        assert!(wild(&["C-3", ""]).matches("C-3"));
        assert!(!wild(&["C-3", ""]).matches("C-"));
        assert!(!wild(&["a", "b", "c"]).matches("ab"));
        assert!(wild(&["a", "b", "c"]).matches("abc"));
        assert!(!wild(&["a", "bc", "c"]).matches("abc"));
    }

    #[test]
    fn quick_ip_reader_agrees_with_the_standard_parser() {
        let cases = [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.",
            ".1.2.3",
            "1..2.3",
            "1.2.3.4 ",
            "1234.1.1.1",
            "1.2.3.999",
            "a.b.c.d",
            "::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "10.0.0.1/8",
            "",
            "1.2.3.4x",
            "000.0.0.0",
            "9.99.199.249",
        ];
        for s in cases {
            assert_eq!(parse_ip(s), s.parse::<IpAddr>().ok(), "{s}");
        }
        for a in [0u32, 1, 0x0a00_0001, 0xffff_ffff, 0x7f00_0001, 0xc0a8_6401] {
            let s = std::net::Ipv4Addr::from(a).to_string();
            assert_eq!(ipv4_quick(s.as_bytes()), Some(a), "{s}");
        }
    }

    #[test]
    fn case_folding_helpers() {
        assert!(eq_ic("AlIcE", "alice"));
        assert!(!eq_ic("Alic", "alice"));
        assert!(!eq_ic("Alices", "alice"));
        assert!(!eq_ic("", "a"));
        assert!(eq_ic("", ""));
        assert!(eq_ic("ÉTÉ", "été"));
        assert!(eq_ic("EtÉ", "eté"));
        assert!(!eq_ic("XtÉ", "eté"));
        // U+0130 lower-cases to two characters: lengths differ before and after folding.
        assert!(eq_ic("\u{130}X", "i\u{307}x"));
        assert!(prefix_ic("EventBridge", "eventb"));
        assert!(!prefix_ic("Even", "eventb"));
        assert!(suffix_ic("IMG.PNG", ".png"));
        assert!(!suffix_ic("PNG", ".png"));
    }

    #[test]
    fn numbers_by_value() {
        let n = |s: &str| serde_json::from_str::<Number>(s).unwrap();
        assert!(num_eq(&n("300"), &n("300.0")));
        assert!(num_eq(&n("300"), &n("3.0e2")));
        assert!(num_eq(&n("301.8"), &n("3.018e2")));
        assert!(!num_eq(&n("9007199254740993"), &n("9007199254740992")));
        assert!(num_eq(
            &n("18446744073709551615"),
            &n("18446744073709551615")
        ));
    }
}
