//! [`RuleMatcher`]: all the rules of a bus compiled together, so that matching an event costs
//! what the event and the rules it (nearly) matches require, not what the number of rules does.
//!
//! Work is shared across rules at three levels, in the spirit of aws/event-ruler's shared state
//! machine:
//!
//! 1. **Candidates by value.** Every alternative of every pattern (a *sub-rule*) names some field
//!    whose values it needs exactly, or by prefix, or ignoring case (almost every real rule pins
//!    `source` or `detail-type`). At build time each sub-rule is filed under one such field, the
//!    most selective one across the rule set (the path with the most distinct values), in hash
//!    tables keyed by those values. Per event, each indexed path is resolved once, its values
//!    are looked up once (for all rules), and only the sub-rules found (the candidates) plus the
//!    few that could not be indexed are checked. For a candidate found on a leaf of exact
//!    strings, prefixes or ignore-case values, that leaf is already proven and is not re-checked.
//! 2. **Paths once per event.** Every path any rule names is interned in a trie at build time;
//!    during one event each trie node is resolved at most once (memoized in a small table on
//!    the stack), whoever asks for it. Object keys are looked for first at the position they
//!    had in the previous event (events of one producer share their key order): one compare
//!    instead of a scan, and never a different result.
//! 3. **Costly conditions once per event.** Every distinct (path, leaf) condition of the rule
//!    set is interned as one predicate; a sub-rule is a list of predicate ids (filters that
//!    reject many events first, then cheapest operators first). A predicate that several
//!    checks name and that costs more than a few instructions (case folding, wildcards, IP
//!    blocks, leaves of several entries, array-consistent groups) is evaluated at most once
//!    per event and its result reused by every other candidate naming it. The rest (exact,
//!    prefix, numeric, exists, anything-but of values, and any predicate only one check
//!    names) are evaluated where they are checked: reading a per-event stamp costs about as
//!    much, and at a thousand rules it is a cache miss. A pattern that cannot be found twice
//!    in one event skips the "already reported" stamp as well.
//! 4. **Checks as flat operations.** Each check evaluated where it is checked carries its
//!    condition inline as one flat operation ([`Op`]: exact string, prefix, suffix, numeric
//!    range with both bounds closed, anything-but strings, exists), so the candidate loop
//!    dispatches once on the operation and the event value instead of walking from the
//!    predicate table through the predicate and condition enums; a leaf of several such
//!    entries (`["vip", {"suffix": "mo"}]`) is a list of flat operations. An operation settles
//!    only the value types it names; anything else (arrays, other types) takes the predicate,
//!    so results are unchanged for every input.
//!
//! Memory layout is chosen for the candidate loop, which at a thousand rules is bound by cache
//! misses more than by instructions: each bucket is a contiguous run of entries that carry
//! everything needed to check a candidate (pattern, flags, range of checks); the checks of one
//! bucket's sub-rules are adjacent; predicates are numbered in the order those checks use them
//! and their per-event stamps are single bytes; string keys live in open-addressing tables
//! probed inline.
//!
//! Array-consistent matching of arrays of objects: when a leaf's path crosses an array in the
//! event, the pattern object enclosing it at that array (itself an interned predicate) is
//! evaluated by the recursive evaluator starting at the array, not at the event root, once per
//! event for all sub-rules that contain that same object. Leaves outside the array stay shared
//! predicates. This gives exactly the results of [`Pattern::matches`]: along a path of plain
//! objects the fields of a pattern are independent, and below an array the recursive evaluator
//! is used unchanged.
//!
//! What is taken from aws/event-ruler's machine, and what is not. Taken: one structure for all
//! rules, built once; field names interned once (the path trie, event-ruler's `NameState`
//! transitions), so a field read by a thousand rules is looked up once per event; values found
//! by hashing for exact, prefix and ignore-case matches (the exact-value transitions of its
//! `ByteMachine`) instead of per-rule comparisons; conditions shared between rules evaluated once
//! (its shared transitions); and, from its compiled transitions, each remaining condition as
//! one flat operation with its operand inline, numeric ranges as closed bounds (its range
//! transitions compare against precomputed bounds the same way).
//!
//! Not taken: walking every event field in sorted key order through per-field value machines,
//! and indexing content conditions (its range transitions: sorted numeric ranges per field,
//! CIDR blocks as ranges, prefix and suffix tries, with the rules filed under them). Measured
//! here (callgrind, `benches/patterns.rs`), one pass over an object's keys costs more than
//! looking up the few keys the rules read (a trial that resolved all children of an object in
//! one pass added 270 instructions per event at 10 rules and 340 at 1,000). And a content index
//! does not pay on these rule sets, by count: after the first index the candidates of a dense
//! rule set (mix A, 1,000 rules) are the 10.9 sub-rules of the event's source and detail-type,
//! in three buckets (the exact detail-type, its prefix, the source) of about 2.5 to 4 each,
//! which is where event-ruler's machine would keep its range transitions (in the state after
//! the detail-type or source transition), so a range index there holds a few ranges and saves
//! no compares over checking them. Kept across all
//! rules instead, it would report every rule whose condition holds: an amount lies in about 16
//! of the 160 amount ranges, and an address in a quarter of the CIDR rules' blocks, each hit to
//! be intersected with the candidates, to save the 1.7 amount checks and the 0.4 CIDR checks
//! an event's candidates make.
//!
//! Where the instructions go at 1,000 dense rules (mix A), 4,120 per event (from 4,360 before
//! the flat operations; 813 at 10 rules): the candidate loop 2,820 (10.9 candidates for 2.45
//! matches, 13.9 checks), in it about 920 resolving about 10 paths (each once per event, 60 to
//! 90 instructions each: the look-up itself is a hinted key compare, the rest is the call),
//! 420 arrays of objects (`items`), 270 leaves of several entries (`tags`), 115 parsing IP
//! addresses; the index look-ups 480 (four string-table probes). Half the checks are those of
//! the rules that do match, so a lower slowdown now needs fewer path resolutions (reading the
//! fields of `detail` once per event costs as much as all the checks) or fewer candidates.
//! Tried and measured worse: key look-ups by scanning instead of position hints (+37
//! instructions at 10 rules, +190 at 1,000), position hints inside arrays of objects (no gain,
//! and a second caller of the hinted look-up changed how the path resolver inlines it: +35 and
//! +250).
//!
//! Steady-state matching does not allocate: the buckets found, "reported" stamps, predicate
//! results, key hints and the lower-casing buffer live in a caller-owned [`MatchScratch`] and
//! are reused.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use serde_json::Value;

use super::Pattern;
use super::matcher::{
    Cond, Node, ends_with, eq_ic, get, node_matches, parse_ip, starts_with, str_eq, word4, word8,
};

/// `FxHash` (the rustc hasher): much faster than `SipHash` for short keys, and the tables here are
/// built from the scenario's own rules, not from untrusted input. Iteration order never reaches
/// results (matches are reported sorted).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len();
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        // The tail as one word without a variable-length copy: the last 8 bytes (overlapping
        // the chunks), or two overlapping halves, or single bytes. Equal input, equal hash.
        if !n.is_multiple_of(8) {
            let w = match n {
                1..=3 => {
                    u64::from(bytes[0])
                        | u64::from(bytes[n / 2]) << 8
                        | u64::from(bytes[n - 1]) << 16
                }
                4..=7 => u64::from(word4(bytes, 0)) << 32 | u64::from(word4(bytes, n - 4)),
                _ => word8(bytes, n - 8),
            };
            self.add(w);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Hash key for a number: equal by value means equal bits (integers stay exact up to 2^53; a
/// collision beyond that only adds a candidate, which full evaluation then rejects).
fn num_key(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// One value a sub-rule can be found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Str(Box<str>),
    Num(u64),
    Bool(bool),
    Null,
    Prefix(Box<str>),
    /// Lower-cased.
    EqIc(Box<str>),
}

fn cond_key(c: &Cond) -> Option<Key> {
    Some(match c {
        Cond::Str(s) => Key::Str(s.clone()),
        Cond::Num(n) => Key::Num(num_key(n.as_f64()?)),
        Cond::Bool(b) => Key::Bool(*b),
        Cond::Null => Key::Null,
        // An empty prefix matches every string: useless as a key.
        Cond::Prefix(p) if !p.is_empty() => Key::Prefix(p.clone()),
        Cond::EqIc(s) => Key::EqIc(s.clone()),
        _ => return None,
    })
}

/// String keys → buckets, in an open-addressing table probed inline: the hash (`FxHash`) is
/// stored beside each key, so a probe compares one word before any bytes, and key bytes are
/// compared with [`str_eq`], not `memcmp`. Built once; probed for every event string.
#[derive(Debug, Default)]
struct StrTable {
    /// Power-of-two length of at least 2 (at most half full), or empty.
    slots: Box<[Option<StrSlot>]>,
    /// 64 − log2(length): a slot index is the hash's top bits, where a multiplicative hash
    /// such as `FxHash` puts its entropy.
    shift: u32,
}

/// One filled slot of a [`StrTable`]: the key's hash, the key, its bucket.
type StrSlot = (u64, Box<str>, Bucket);

/// The hash of a table key or event string. Up to 16 bytes (sources, detail-types, enum-like
/// values) it is two possibly overlapping words and the length, mixed without a loop; longer
/// strings take `FxHash` over all their bytes.
#[inline]
fn str_hash(s: &str) -> u64 {
    let b = s.as_bytes();
    let n = b.len();
    let (lo, hi) = match n {
        0 => (0, 0),
        1..=3 => (
            u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16,
            0,
        ),
        4..=7 => (u64::from(word4(b, 0)), u64::from(word4(b, n - 4))),
        8..=16 => (word8(b, 0), word8(b, n - 8)),
        _ => {
            let mut h = FxHasher::default();
            h.write(b);
            return h.finish();
        }
    };
    let mut h = FxHasher(n as u64);
    h.add(lo);
    h.add(hi);
    h.finish()
}

impl StrTable {
    fn new(items: Vec<(Box<str>, Bucket)>) -> StrTable {
        if items.is_empty() {
            return StrTable::default();
        }
        let len = (items.len() * 2).next_power_of_two();
        let shift = 64 - len.trailing_zeros();
        let mut slots: Vec<Option<StrSlot>> = vec![None; len];
        for (k, b) in items {
            let h = str_hash(&k);
            let mut i = (h >> shift) as usize;
            while slots[i].is_some() {
                i = (i + 1) & (len - 1);
            }
            slots[i] = Some((h, k, b));
        }
        StrTable {
            slots: slots.into_boxed_slice(),
            shift,
        }
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    #[inline]
    fn get(&self, s: &str) -> Option<Bucket> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let h = str_hash(s);
        let mut i = (h >> self.shift) as usize;
        loop {
            match &self.slots[i] {
                None => return None,
                Some((kh, k, b)) if *kh == h && str_eq(k, s) => return Some(*b),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }
}

/// A range of [`RuleMatcher::entries`]: the sub-rules filed under one key.
#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    start: u32,
    len: u32,
}

/// The sub-rules filed under one field path, by value, while building: lists of sub-rule ids.
#[derive(Debug, Default)]
struct BuildIndex {
    /// The path, for events where it crosses an array.
    path: Vec<Box<str>>,
    /// The path's id in the trie.
    path_id: u32,
    strs: FxMap<Box<str>, Vec<u32>>,
    nums: FxMap<u64, Vec<u32>>,
    /// false, true, null.
    others: [Vec<u32>; 3],
    prefixes: FxMap<Box<str>, Vec<u32>>,
    prefix_lens: Vec<usize>,
    ignore_case: FxMap<Box<str>, Vec<u32>>,
}

/// The sub-rules filed under one field path, by value: ranges of the matcher's contiguous
/// entry table.
#[derive(Debug)]
struct PathIndex {
    /// The path, for events where it crosses an array.
    path: Vec<Box<str>>,
    /// The path's id in the trie.
    path_id: u32,
    strs: StrTable,
    nums: FxMap<u64, Bucket>,
    /// false, true, null.
    others: [Bucket; 3],
    prefixes: StrTable,
    /// Distinct prefix lengths in bytes, ascending: each event string is probed once per length.
    prefix_lens: Vec<usize>,
    ignore_case: StrTable,
}

impl BuildIndex {
    fn add(&mut self, key: Key, sub: u32) {
        let list = match key {
            Key::Str(s) => self.strs.entry(s).or_default(),
            Key::Num(n) => self.nums.entry(n).or_default(),
            Key::Bool(b) => &mut self.others[usize::from(b)],
            Key::Null => &mut self.others[2],
            Key::Prefix(p) => {
                if !self.prefix_lens.contains(&p.len()) {
                    self.prefix_lens.push(p.len());
                    self.prefix_lens.sort_unstable();
                }
                self.prefixes.entry(p).or_default()
            }
            Key::EqIc(s) => self.ignore_case.entry(s).or_default(),
        };
        if list.last() != Some(&sub) {
            list.push(sub);
        }
    }

    /// Every list (in no particular order).
    fn lists(&self) -> impl Iterator<Item = &Vec<u32>> {
        self.strs
            .values()
            .chain(self.nums.values())
            .chain(self.others.iter())
            .chain(self.prefixes.values())
            .chain(self.ignore_case.values())
    }

    /// Replaces every list by the bucket `lay_out` makes of it.
    fn finish(self, lay_out: &mut impl FnMut(&[u32]) -> Bucket) -> PathIndex {
        let mut table = |m: FxMap<Box<str>, Vec<u32>>| {
            let mut items: Vec<(Box<str>, Vec<u32>)> = m.into_iter().collect();
            // Sorted, so that the layout does not depend on hash-map order.
            items.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            StrTable::new(items.into_iter().map(|(k, l)| (k, lay_out(&l))).collect())
        };
        let strs = table(self.strs);
        let prefixes = table(self.prefixes);
        let ignore_case = table(self.ignore_case);
        let nums = self
            .nums
            .into_iter()
            .map(|(k, l)| (k, lay_out(&l)))
            .collect();
        let [f, t, n] = self.others;
        let others = [lay_out(&f), lay_out(&t), lay_out(&n)];
        PathIndex {
            path: self.path,
            path_id: self.path_id,
            strs,
            nums,
            others,
            prefixes,
            prefix_lens: self.prefix_lens,
            ignore_case,
        }
    }
}

impl PathIndex {
    /// Calls `found` with every bucket for one scalar of the event.
    #[inline]
    fn lookup(&self, v: &Value, lower: &mut String, found: &mut impl FnMut(Bucket)) {
        match v {
            Value::String(s) => {
                if let Some(b) = self.strs.get(s) {
                    found(b);
                }
                for &len in &self.prefix_lens {
                    if len > s.len() {
                        break;
                    }
                    if let Some(b) = s.get(..len).and_then(|p| self.prefixes.get(p)) {
                        found(b);
                    }
                }
                if !self.ignore_case.is_empty() {
                    lower.clear();
                    lower.extend(s.chars().flat_map(char::to_lowercase));
                    if let Some(b) = self.ignore_case.get(lower) {
                        found(b);
                    }
                }
            }
            Value::Number(n) => {
                if let Some(&b) = n.as_f64().and_then(|x| self.nums.get(&num_key(x))) {
                    found(b);
                }
            }
            Value::Bool(b) => found(self.others[usize::from(*b)]),
            Value::Null => found(self.others[2]),
            _ => {}
        }
    }
}

/// Calls `f` with every scalar at `path` (arrays flattened at every level).
fn visit<F: FnMut(&Value) + ?Sized>(v: &Value, path: &[Box<str>], f: &mut F) {
    match (v, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|x| visit(x, path, f)),
        (Value::Object(m), Some((k, rest))) => {
            if let Some(c) = get(m, k) {
                visit(c, rest, f);
            }
        }
        (Value::Object(_), None) | (_, Some(_)) => {}
        (scalar, None) => f(scalar),
    }
}

/// A node of the path trie: the path of its parent plus one key (the root, the event itself,
/// is not stored).
#[derive(Debug)]
struct PathNode {
    parent: Option<u32>,
    key: Box<str>,
}

/// What a path resolves to in the current event.
#[derive(Clone, Copy)]
enum Slot<'e> {
    /// Not resolved yet.
    Unknown,
    /// Missing, or some object on the way is missing or not an object.
    Absent,
    /// Exactly one value (which may itself be an array of scalars: leaves flatten it).
    One(&'e Value),
    /// An array on the way: the path has one value per element, so rules using it need the
    /// array-consistent evaluator.
    Complex,
}

/// Paths memoized per event; ids are assigned hottest first so the table covers the paths
/// most rules use. Beyond it paths are resolved without memo (correct, just slower).
const MEMO: usize = 48;

struct Resolver<'e, 'm, 's> {
    event: &'e Value,
    nodes: &'m [PathNode],
    memo: [Slot<'e>; MEMO],
    /// Per path, where its key was found in its parent object last time (see [`find_key`]).
    hints: &'s mut [u8],
}

/// Looks `key` up in an event object, trying position `*hint` first and leaving there the
/// position it was found at. Events of one producer share their key order, so after the first
/// event the hint nearly always hits: one key comparison instead of a scan. Only speed depends
/// on the hint, never the result.
#[inline]
fn find_key<'e>(
    map: &'e serde_json::Map<String, Value>,
    key: &str,
    hint: &mut u8,
) -> Option<&'e Value> {
    if let Some((k, v)) = map.iter().nth(usize::from(*hint))
        && str_eq(k, key)
    {
        return Some(v);
    }
    if map.len() > usize::from(u8::MAX) {
        return map.get(key);
    }
    let (pos, v) = map
        .iter()
        .enumerate()
        .find_map(|(pos, (k, v))| str_eq(k, key).then_some((pos, v)))?;
    *hint = pos as u8;
    Some(v)
}

impl<'e> Resolver<'e, '_, '_> {
    /// The path's value in this event: a table look-up once it has been resolved.
    #[inline(always)]
    fn resolve(&mut self, id: u32) -> Slot<'e> {
        match self.memo.get(id as usize) {
            Some(Slot::Unknown) | None => self.resolve_slow(id),
            Some(s) => *s,
        }
    }

    /// Resolves the path from its parent's value (resolved first) and memoizes it.
    #[inline(never)]
    fn resolve_slow(&mut self, id: u32) -> Slot<'e> {
        let i = id as usize;
        let Some(node) = self.nodes.get(i) else {
            return Slot::Absent;
        };
        let parent = match node.parent {
            None => Slot::One(self.event),
            Some(p) => self.resolve(p),
        };
        let mut spare = 0;
        let hint = self.hints.get_mut(i).unwrap_or(&mut spare);
        let slot = match parent {
            Slot::One(Value::Object(m)) => match find_key(m, &node.key, hint) {
                Some(v) => Slot::One(v),
                None => Slot::Absent,
            },
            Slot::One(Value::Array(_)) | Slot::Complex => Slot::Complex,
            _ => Slot::Absent,
        };
        if let Some(s) = self.memo.get_mut(i) {
            *s = slot;
        }
        slot
    }
}

/// A condition shared by every sub-rule that uses it, evaluated at most once per event.
#[derive(Debug)]
enum Pred {
    /// A leaf array (an OR of its entries) on a path, for events where the path does not cross
    /// an array of objects.
    Leaf { conds: Box<[Cond]> },
    /// A leaf of a single entry, stored inline (the matcher's predicates after building):
    /// one indirection less on the candidate loop's path.
    One(Cond),
    /// A leaf of several entries that all have a flat form (see [`Op::scalar`]), as flat
    /// operations (the matcher's predicates after building).
    Ops(Box<[Op]>),
    /// The nested pattern object under a path, for events where that path holds an array: the
    /// recursive evaluator then runs array-consistent matching, starting at the array (not at
    /// the event root).
    Group { path: u32, node: Node },
}

/// One leaf of a sub-rule.
#[derive(Debug)]
struct Check {
    /// The leaf's path in the trie.
    path: u32,
    /// Its [`Pred::Leaf`].
    pred: u32,
    /// The [`Pred::Group`]s of the pattern objects enclosing the leaf, outermost first: when the
    /// leaf's path crosses an array, the outermost one holding the array decides.
    groups: Box<[u32]>,
}

/// Cost class of a leaf, cheapest first: a sub-rule's checks run in this order, so a candidate
/// is usually rejected by a cheap comparison before any costly one (case folding, IP parsing).
fn cost(conds: &[Cond]) -> u8 {
    conds
        .iter()
        .map(|c| match c {
            Cond::Str(_) | Cond::Num(_) | Cond::Bool(_) | Cond::Null => 0,
            Cond::Exists(_) | Cond::Prefix(_) | Cond::Suffix(_) => 0,
            Cond::Numeric(_) | Cond::AbStrs(_) | Cond::AbNums(_) => 1,
            Cond::AbPrefix(_) | Cond::AbSuffix(_) | Cond::Wildcard(_) => 2,
            Cond::EqIc(_) | Cond::PrefixIc(_) | Cond::SuffixIc(_) | Cond::AbEqIc(_) => 3,
            Cond::AbWild(_) => 3,
            Cond::Cidr(_) => 4,
        })
        .max()
        .unwrap_or(0)
}

/// Whether a condition holds for most values of its field: `anything-but` excludes a few
/// values, `exists: false` holds wherever the field is absent. A candidate is usually rejected
/// by one of its other checks, so those go first.
fn passes_mostly(c: &Cond) -> bool {
    matches!(
        c,
        Cond::AbStrs(_)
            | Cond::AbNums(_)
            | Cond::AbPrefix(_)
            | Cond::AbSuffix(_)
            | Cond::AbEqIc(_)
            | Cond::AbWild(_)
            | Cond::Exists(false)
    )
}

/// A sub-rule (one alternative of one pattern) being built: all its checks must hold.
struct BuildRule {
    pattern: u32,
    alt: u32,
    checks: Vec<Check>,
}

/// Build-time state: the path trie and the predicate table being interned.
#[derive(Default)]
struct Builder {
    trie: FxMap<(Option<u32>, Box<str>), u32>,
    nodes: Vec<PathNode>,
    uses: Vec<usize>,
    /// Predicates by a canonical text key (path id and `Debug` form): equal keys mean equal
    /// conditions, so each distinct one is evaluated once per event.
    pred_ids: HashMap<String, u32>,
    preds: Vec<Pred>,
}

impl Builder {
    fn path(&mut self, parent: Option<u32>, key: &str) -> u32 {
        let nodes = &mut self.nodes;
        let uses = &mut self.uses;
        let id = *self.trie.entry((parent, key.into())).or_insert_with(|| {
            nodes.push(PathNode {
                parent,
                key: key.into(),
            });
            uses.push(0);
            (nodes.len() - 1) as u32
        });
        self.uses[id as usize] += 1;
        id
    }

    fn pred(&mut self, key: String, make: impl FnOnce() -> Pred) -> u32 {
        let preds = &mut self.preds;
        *self.pred_ids.entry(key).or_insert_with(|| {
            preds.push(make());
            (preds.len() - 1) as u32
        })
    }

    /// Interns the paths and predicates of a node's leaves; appends one check per leaf.
    fn flatten(
        &mut self,
        node: &Node,
        parent: Option<u32>,
        groups: &mut Vec<u32>,
        out: &mut Vec<Check>,
    ) {
        for f in &node.fields {
            let id = self.path(parent, &f.key);
            for leaf in &f.leaves {
                let pred = self.pred(format!("L{id}:{leaf:?}"), || Pred::Leaf {
                    conds: leaf.clone(),
                });
                out.push(Check {
                    path: id,
                    pred,
                    groups: groups.as_slice().into(),
                });
            }
            if let Some(c) = &f.child {
                let g = self.pred(format!("G{id}:{c:?}"), || Pred::Group {
                    path: id,
                    node: (**c).clone(),
                });
                groups.push(g);
                self.flatten(c, Some(id), groups, out);
                groups.pop();
            }
        }
    }

    /// The key path of a trie node, root first.
    fn keys(&self, mut id: u32) -> Vec<Box<str>> {
        let mut out = Vec::new();
        loop {
            let n = &self.nodes[id as usize];
            out.push(n.key.clone());
            match n.parent {
                Some(p) => id = p,
                None => break,
            }
        }
        out.reverse();
        out
    }
}

/// Many patterns compiled together (the rules of one bus). See the module documentation for
/// how the work is shared across rules.
#[derive(Debug)]
pub struct RuleMatcher {
    patterns: Vec<Pattern>,
    /// The sub-rules of every index bucket, each bucket contiguous. A sub-rule filed under
    /// several keys appears once per key.
    entries: Vec<Entry>,
    /// The checks of all sub-rules, each sub-rule's contiguous and in evaluation order; the
    /// sub-rules of one bucket are adjacent.
    checks: Vec<FlatCheck>,
    /// The enclosing-object groups of all checks, each check's contiguous.
    groups: Vec<u32>,
    /// Distinct conditions of all sub-rules.
    preds: Vec<Pred>,
    /// The path trie, hottest paths first.
    nodes: Vec<PathNode>,
    indexes: Vec<PathIndex>,
    /// Sub-rules with no indexable field: evaluated for every event.
    unindexed: Vec<Entry>,
}

/// A compiled sub-rule as a bucket lists it: its pattern (with the [`PROVEN`] flag),
/// alternative, and its checks `checks[start..end]`. When the sub-rule is filed in the
/// index on a proving leaf, that leaf is the last check. Everything the candidate loop needs
/// is here, in the bucket's own cache lines.
#[derive(Debug, Clone, Copy)]
struct Entry {
    pattern: u32,
    alt: u32,
    start: u32,
    end: u32,
}

/// A compiled check: the leaf's path, its predicate, how the candidate loop evaluates it
/// ([`Op`]), and its enclosing groups `groups[g_start..g_end]` (see [`Check`]).
#[derive(Debug)]
struct FlatCheck {
    path: u32,
    pred: u32,
    g_start: u32,
    g_end: u32,
    op: Op,
}

/// How the candidate loop evaluates a check: one flat operation with its operand inline for
/// the conditions rule sets use most on a single scalar (one dispatch and a compare, instead
/// of a walk from the predicate table through [`Pred`] and [`Cond`]), or through the check's
/// predicate. A flat operation settles only the value types it names; every other value
/// (arrays, other types, a missing field where the op does not name it) goes to the predicate,
/// so results are those of [`Cond::matches_field`] for every input.
#[derive(Debug)]
enum Op {
    /// A costly condition several checks share: its result is stamped once per event.
    Shared,
    /// Evaluated through the predicate, without a stamp (no flat form).
    General,
    /// Exact string.
    Str(Box<str>),
    /// String prefix.
    Prefix(Box<str>),
    /// String suffix.
    Suffix(Box<str>),
    /// A numeric range with both bounds closed (see [`closed_range`]).
    Range(f64, f64),
    /// `anything-but` a set of strings.
    AbStrs(Box<[Box<str>]>),
    /// `exists`.
    Exists(bool),
}

impl Op {
    /// The flat operation for an unstamped single-condition predicate.
    fn of(c: &Cond) -> Op {
        match c {
            Cond::Str(s) => Op::Str(s.clone()),
            Cond::Prefix(s) => Op::Prefix(s.clone()),
            Cond::Suffix(s) => Op::Suffix(s.clone()),
            Cond::Numeric(r) => {
                let (lo, hi) = closed_range(r);
                Op::Range(lo, hi)
            }
            Cond::AbStrs(set) => Op::AbStrs(set.clone()),
            Cond::Exists(want) => Op::Exists(*want),
            _ => Op::General,
        }
    }

    /// Whether [`Op::scalar`] decides this operation: every flat form but `exists`, which is
    /// about the whole field, not one value.
    fn is_scalar(&self) -> bool {
        matches!(
            self,
            Op::Str(_) | Op::Prefix(_) | Op::Suffix(_) | Op::Range(..) | Op::AbStrs(_)
        )
    }

    /// [`Cond::matches_scalar`] for a flat operation that [`Op::is_scalar`] accepts, on one
    /// scalar (never an array or object).
    #[inline(always)]
    fn scalar(&self, v: &Value) -> bool {
        match (self, v) {
            (Op::Str(p), Value::String(s)) => str_eq(s, p),
            (Op::Prefix(p), Value::String(s)) => starts_with(s, p),
            (Op::Suffix(p), Value::String(s)) => ends_with(s, p),
            (Op::Range(lo, hi), Value::Number(n)) => {
                n.as_f64().is_some_and(|x| *lo <= x && x <= *hi)
            }
            (Op::AbStrs(set), Value::String(s)) => {
                for x in set {
                    if str_eq(x, s) {
                        return false;
                    }
                }
                true
            }
            // anything-but is typed: a value of another type is never excluded.
            (Op::AbStrs(_), _) => true,
            _ => false,
        }
    }
}

/// A leaf of flat operations (an OR of its entries) on a field value, as
/// `conds.iter().any(|c| c.matches_field(v))` for the entries they were made from: an absent
/// field or an object satisfies none, an array (nested arrays flattened) when some scalar
/// element satisfies some entry.
fn leaf_ops(ops: &[Op], v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Object(_)) => false,
        Some(Value::Array(items)) => items.iter().any(|x| match x {
            Value::Array(_) => leaf_ops(ops, Some(x)),
            Value::Object(_) => false,
            _ => ops.iter().any(|o| o.scalar(x)),
        }),
        Some(x) => ops.iter().any(|o| o.scalar(x)),
    }
}

/// A numeric range as closed bounds `lo <= x && x <= hi`: a missing bound is infinite, an open
/// bound is moved to the next float inwards. JSON numbers are finite, and for a finite `x`,
/// `x > b` holds exactly when `x >= b.next_up()` (and `x < b` when `x <= b.next_down()`), so
/// the test is [`Numeric::contains`] with two compares and no branches on bound kinds.
fn closed_range(r: &super::matcher::Numeric) -> (f64, f64) {
    let lo = match r.lo {
        None => f64::NEG_INFINITY,
        Some((b, true)) => b,
        Some((b, false)) => b.next_up(),
    };
    let hi = match r.hi {
        None => f64::INFINITY,
        Some((b, true)) => b,
        Some((b, false)) => b.next_down(),
    };
    (lo, hi)
}

/// Flag on [`Entry::pattern`] (and on build-time sub-rule ids): the indexed leaf is proven by
/// the sub-rule being found under its key.
const PROVEN: u32 = 1 << 31;
/// Flag on [`Entry::pattern`] (and on build-time sub-rule ids): the pattern has this one
/// sub-rule only, and a single scalar event value finds it under one key at most, so when the
/// indexed path holds a scalar it cannot be reported twice and needs no "reported" stamp.
const ONCE: u32 = 1 << 30;
/// The pattern index in [`Entry::pattern`] (and the sub-rule id in build-time lists).
const PATTERN: u32 = !(PROVEN | ONCE);

/// Reusable per-caller working memory for [`RuleMatcher::matching`]. Keep one per thread and
/// pass it to every call: after the first few events it has grown to its working size and
/// matching no longer allocates. One scratch may serve several matchers.
#[derive(Debug, Default, Clone)]
pub struct MatchScratch {
    /// Buckets found for the current event, with the flags to keep on their entries
    /// ([`PROVEN`] is dropped where the indexed path crossed an array).
    cands: Vec<(Bucket, u32)>,
    /// `done[pattern] == epoch`: pattern already reported for the current event.
    done: Vec<u8>,
    /// `preds[pred] >> 1 == epoch`: predicate already evaluated for the current event, with
    /// its result in the low bit.
    preds: Vec<u8>,
    /// 1 to 127 (the predicate stamps shift it left by one). Stamps are single bytes, so that
    /// the arrays a candidate loop touches stay within a few cache lines; they are cleared
    /// whenever the epoch wraps, every 127 events.
    epoch: u8,
    /// Lower-cased event string for `equals-ignore-case` lookups.
    lower: String,
    /// Key position hints, one per path (see [`find_key`]); kept across events.
    hints: Vec<u8>,
    /// Sub-rules evaluated for the last event.
    evaluated: usize,
}

impl MatchScratch {
    /// How many sub-rules the last [`RuleMatcher::matching`] call checked (the candidates found
    /// through the index plus the unindexed ones): a diagnostic for benchmarks and performance
    /// lints.
    #[must_use]
    pub fn last_evaluated(&self) -> usize {
        self.evaluated
    }

    /// Starts a new event: bumps the epoch instead of clearing the stamp arrays.
    fn begin(&mut self, patterns: usize, preds: usize, paths: usize) {
        if self.hints.len() < paths {
            self.hints.resize(paths, 0);
        }
        if self.done.len() < patterns {
            self.done.resize(patterns, 0);
        }
        if self.preds.len() < preds {
            self.preds.resize(preds, 0);
        }
        self.epoch += 1;
        if self.epoch > 127 {
            // Wrapped: old stamps could collide, so reset them.
            self.done.iter_mut().for_each(|s| *s = 0);
            self.preds.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        self.cands.clear();
    }
}

/// [`Cond::matches_field`] with the operators rule sets use most, on a single scalar, inline;
/// everything else (and every array) through `matches_field`. Same result for every input.
#[inline(always)]
fn cond_fast(c: &Cond, v: Option<&Value>) -> bool {
    match (c, v) {
        (Cond::Str(p), Some(Value::String(s))) => str_eq(s, p),
        (Cond::Prefix(p), Some(Value::String(s))) => starts_with(s, p),
        (Cond::Suffix(p), Some(Value::String(s))) => ends_with(s, p),
        (Cond::AbStrs(set), Some(Value::String(s))) => {
            // A plain loop: `Iterator::any` here is an outlined call per candidate.
            for x in set {
                if str_eq(x, s) {
                    return false;
                }
            }
            true
        }
        (Cond::Numeric(r), Some(Value::Number(n))) => n.as_f64().is_some_and(|x| r.contains(x)),
        (Cond::Wildcard(w), Some(Value::String(s))) => w.matches(s),
        (Cond::EqIc(p), Some(Value::String(s))) => eq_ic(s, p),
        // `exists` on a present scalar, or on a missing field.
        (Cond::Exists(want), Some(Value::String(_) | Value::Number(_) | Value::Bool(_))) => *want,
        (Cond::Exists(want), None) => !*want,
        _ => c.matches_field(v),
    }
}

/// A leaf of several entries (an OR): `conds.iter().any(|c| c.matches_field(v))`, with the
/// operators of [`cond_fast`] inline. On an array (a field such as `tags`), each element is
/// read once and tried against every entry: an OR over elements and entries in either order,
/// and an element that is itself an array is flattened by `matches_field` as before. `exists`
/// is about the whole field, not one element, so a leaf naming it takes the general path.
#[inline]
fn leaf_fast(conds: &[Cond], v: Option<&Value>) -> bool {
    match v {
        Some(Value::Array(items)) if !conds.iter().any(|c| matches!(c, Cond::Exists(_))) => {
            items.iter().any(|x| match x {
                Value::Array(_) => conds.iter().any(|c| c.matches_field(Some(x))),
                _ => conds.iter().any(|c| cond_fast(c, Some(x))),
            })
        }
        _ => conds.iter().any(|c| cond_fast(c, v)),
    }
}

/// `node_matches(node, Some(v))` for the pattern object of a group whose path holds an array:
/// when the node has only leaves (no nested objects), each object element is checked inline
/// (some element must satisfy every field, as `node_matches` requires); anything else goes
/// through `node_matches` unchanged.
fn group_matches(node: &Node, v: &Value) -> bool {
    let Value::Array(items) = v else {
        return node_matches(node, Some(v));
    };
    if items.is_empty() || node.fields.iter().any(|f| f.child.is_some()) {
        return node_matches(node, Some(v));
    }
    items.iter().any(|x| match x {
        Value::Object(m) => node.fields.iter().all(|f| {
            let fv = get(m, &f.key);
            f.leaves
                .iter()
                .all(|leaf| leaf.iter().any(|c| cond_fast(c, fv)))
        }),
        _ => node_matches(node, Some(x)),
    })
}

/// Per-event evaluation state: resolved paths and evaluated predicates.
struct Eval<'e, 'm, 's> {
    paths: Resolver<'e, 'm, 's>,
    preds: &'m [Pred],
    stamps: &'s mut [u8],
    epoch: u8,
    /// The last event string parsed as an IP address and the result: the `cidr` blocks of
    /// many rules tested on one field parse it once.
    ip: Option<(&'e str, Option<IpAddr>)>,
}

impl<'e> Eval<'e, '_, '_> {
    /// Evaluates a leaf predicate (not yet known this event) on its already-resolved path
    /// (which does not cross an array) and records the result.
    #[inline]
    fn eval_leaf(&mut self, id: u32, slot: Slot<'e>) -> bool {
        let i = id as usize;
        let v = match slot {
            Slot::One(v) => Some(v),
            _ => None,
        };
        let r = match &self.preds[i] {
            Pred::One(c) => self.one(c, v),
            Pred::Ops(ops) => leaf_ops(ops, v),
            Pred::Leaf { conds } => leaf_fast(conds, v),
            Pred::Group { .. } => false,
        };
        self.stamps[i] = self.epoch << 1 | u8::from(r);
        r
    }

    /// [`Eval::eval_leaf`] without reading or writing the predicate's stamp.
    #[inline]
    fn eval_unstamped(&mut self, id: u32, slot: Slot<'e>) -> bool {
        let v = match slot {
            Slot::One(v) => Some(v),
            _ => None,
        };
        match &self.preds[id as usize] {
            Pred::One(c) => self.one(c, v),
            Pred::Ops(ops) => leaf_ops(ops, v),
            Pred::Leaf { conds } => leaf_fast(conds, v),
            Pred::Group { .. } => false,
        }
    }

    /// One condition on a field value: the operators rule sets use most on a single scalar
    /// inline, `cidr` through the parsed-address cache, everything else (and every array)
    /// through [`Cond::matches_field`]. Same results as `matches_field` for every input.
    #[inline(always)]
    fn one(&mut self, c: &Cond, v: Option<&'e Value>) -> bool {
        match (c, v) {
            (Cond::Cidr(block), Some(Value::String(s))) => {
                let addr = match self.ip {
                    Some((last, a)) if std::ptr::eq(last, s.as_str()) => a,
                    _ => {
                        let a = parse_ip(s);
                        self.ip = Some((s.as_str(), a));
                        a
                    }
                };
                block.contains_addr(addr)
            }
            _ => cond_fast(c, v),
        }
    }

    /// A leaf whose path crosses an array: the outermost enclosing pattern object whose path
    /// holds an array is evaluated array-consistently from there; `None` if there is none
    /// (cannot happen: the path would have resolved as absent).
    #[inline(never)]
    fn across_array(&mut self, groups: &[u32]) -> Option<bool> {
        for &g in groups {
            let i = g as usize;
            let Pred::Group { path, node } = &self.preds[i] else {
                continue;
            };
            if let Slot::One(v @ Value::Array(_)) = self.paths.resolve(*path) {
                let st = self.stamps[i];
                if st >> 1 == self.epoch {
                    return Some(st & 1 != 0);
                }
                let r = group_matches(node, v);
                self.stamps[i] = self.epoch << 1 | u8::from(r);
                return Some(r);
            }
        }
        None
    }
}

impl RuleMatcher {
    /// Compiles the patterns together. Pattern indices in results are positions in `patterns`.
    pub fn new(patterns: Vec<Pattern>) -> RuleMatcher {
        let mut b = Builder::default();
        let mut rules = Vec::new();
        for (pi, p) in patterns.iter().enumerate() {
            for (ai, alt) in p.alts.iter().enumerate() {
                let mut checks = Vec::new();
                b.flatten(alt, None, &mut Vec::new(), &mut checks);
                rules.push(BuildRule {
                    pattern: pi as u32,
                    alt: ai as u32,
                    checks,
                });
            }
        }

        let alts: Vec<(u32, u32)> = rules.iter().map(|r| (r.pattern, r.alt)).collect();
        // Index keys of each sub-rule: (check position, keys) for every leaf whose entries are
        // all indexable. Each is necessary: an event matching the sub-rule has, at that path
        // (arrays flattened), a value with one of the keys.
        let keyed: Vec<Vec<(usize, Vec<Key>)>> = rules
            .iter()
            .map(|r| {
                r.checks
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| {
                        let Pred::Leaf { conds } = &b.preds[c.pred as usize] else {
                            return None;
                        };
                        let keys: Option<Vec<Key>> = conds.iter().map(cond_key).collect();
                        keys.map(|k| (i, k))
                    })
                    .collect()
            })
            .collect();
        // Selectivity of a path = number of distinct keys the rule set uses on it: more distinct
        // values split the sub-rules into smaller buckets.
        let mut distinct: HashMap<u32, HashSet<&Key>> = HashMap::new();
        for (r, cands) in rules.iter().zip(&keyed) {
            for (i, keys) in cands {
                distinct
                    .entry(r.checks[*i].path)
                    .or_default()
                    .extend(keys.iter());
            }
        }
        // Pattern and sub-rule ids leave the top bits for the flags.
        assert!(
            rules.len() < ONCE as usize && patterns.len() < ONCE as usize,
            "too many rules"
        );
        let mut alt_count = vec![0u32; patterns.len()];
        for r in &rules {
            alt_count[r.pattern as usize] += 1;
        }
        let mut indexes: Vec<BuildIndex> = Vec::new();
        let mut unindexed = Vec::new();
        let mut proven = vec![u32::MAX; rules.len()];
        for (si, (r, cands)) in rules.iter().zip(&keyed).enumerate() {
            // Best leaf: most distinct values on its path, then fewest keys (fewer probes and
            // smaller buckets), then the first in pattern order (deterministic).
            let best = cands.iter().max_by_key(|(i, keys)| {
                let d = distinct.get(&r.checks[*i].path).map_or(0, HashSet::len);
                (d, std::cmp::Reverse(keys.len()), std::cmp::Reverse(*i))
            });
            let single = alt_count[r.pattern as usize] == 1;
            let sub = si as u32;
            let Some((i, keys)) = best else {
                unindexed.push(if single { sub | ONCE } else { sub });
                continue;
            };
            let pid = r.checks[*i].path;
            let idx = if let Some(x) = indexes.iter().position(|x| x.path_id == pid) {
                x
            } else {
                indexes.push(BuildIndex {
                    path: b.keys(pid),
                    path_id: pid,
                    ..BuildIndex::default()
                });
                indexes.len() - 1
            };
            // Found through exact keys only (no numeric hash collision), the leaf is proven.
            let mut entry = if keys.iter().all(|k| !matches!(k, Key::Num(_))) {
                proven[si] = *i as u32;
                sub | PROVEN
            } else {
                sub
            };
            // Distinct exact keys: a scalar equals one of them at most. (A prefix or an
            // ignore-case key can hit beside another key of the same leaf.)
            let exact = |k: &Key| matches!(k, Key::Str(_) | Key::Num(_) | Key::Bool(_) | Key::Null);
            if single && (keys.len() == 1 || keys.iter().all(exact)) {
                entry |= ONCE;
            }
            for k in keys {
                indexes[idx].add(k.clone(), entry);
            }
        }

        // Renumber the trie hottest first, so the per-event memo covers the common paths.
        let mut order: Vec<u32> = (0..b.nodes.len() as u32).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(b.uses[i as usize]), i));
        let mut new_id = vec![0u32; b.nodes.len()];
        for (new, &old) in order.iter().enumerate() {
            new_id[old as usize] = new as u32;
        }
        let mut slots: Vec<Option<PathNode>> = b.nodes.into_iter().map(Some).collect();
        let nodes: Vec<PathNode> = order
            .iter()
            .filter_map(|&old| slots[old as usize].take())
            .map(|n| PathNode {
                parent: n.parent.map(|p| new_id[p as usize]),
                key: n.key,
            })
            .collect();
        for ix in &mut indexes {
            ix.path_id = new_id[ix.path_id as usize];
        }

        // Lay the sub-rules out bucket by bucket (then the unindexed ones), so that the checks
        // a bucket's candidates run are adjacent in memory, and number the predicates in the
        // order those checks first use them, so that their per-event stamps are adjacent too.
        let mut sub_order = Vec::with_capacity(rules.len());
        let mut placed = vec![false; rules.len()];
        let lists = indexes.iter().flat_map(BuildIndex::lists);
        for &e in lists.flatten().chain(&unindexed) {
            let s = (e & PATTERN) as usize;
            if !std::mem::replace(&mut placed[s], true) {
                sub_order.push(s);
            }
        }
        let mut pred_id = vec![u32::MAX; b.preds.len()];
        let mut pred_order = Vec::new();
        let mut renumber = |p: u32| {
            let id = &mut pred_id[p as usize];
            if *id == u32::MAX {
                *id = pred_order.len() as u32;
                pred_order.push(p);
            }
            *id
        };
        // Checks in cost order, the proven leaf last (it only runs when its path crosses an
        // array): shallow paths first (a leaf nested deeper is costlier to reach and more
        // likely to sit below an array of objects, which takes the array-consistent
        // evaluator), then conditions that reject many events before those that reject few
        // ([`passes_mostly`]), then by operator cost. The sort is stable, so ties keep
        // pattern order.
        let mut ranges = vec![(0u32, 0u32); rules.len()];
        let mut flat_checks = Vec::new();
        let mut groups = Vec::new();
        let mut rules: Vec<Option<BuildRule>> = rules.into_iter().map(Some).collect();
        for &s in &sub_order {
            let Some(r) = rules[s].take() else { continue };
            let mut checks: Vec<(usize, Check)> = r.checks.into_iter().enumerate().collect();
            checks.sort_by_key(|(i, c)| {
                let conds = match &b.preds[c.pred as usize] {
                    Pred::Leaf { conds } => &conds[..],
                    Pred::One(c) => std::slice::from_ref(c),
                    Pred::Ops(_) | Pred::Group { .. } => &[],
                };
                (
                    *i as u32 == proven[s],
                    c.groups.len(),
                    conds.iter().all(passes_mostly),
                    cost(conds),
                )
            });
            let start = flat_checks.len() as u32;
            for (_, c) in checks {
                let g_start = groups.len() as u32;
                groups.extend(c.groups.iter().map(|&g| renumber(g)));
                flat_checks.push(FlatCheck {
                    path: new_id[c.path as usize],
                    pred: renumber(c.pred),
                    g_start,
                    g_end: groups.len() as u32,
                    op: Op::Shared,
                });
            }
            ranges[s] = (start, flat_checks.len() as u32);
        }
        let mut old_preds: Vec<Option<Pred>> = b.preds.into_iter().map(Some).collect();
        let preds: Vec<Pred> = pred_order
            .iter()
            .filter_map(|&p| old_preds[p as usize].take())
            .map(|p| match p {
                Pred::Group { path, node } => Pred::Group {
                    path: new_id[path as usize],
                    node,
                },
                Pred::Leaf { conds } if conds.len() == 1 => Pred::One(conds.into_vec().remove(0)),
                Pred::Leaf { conds } if conds.iter().all(|c| Op::of(c).is_scalar()) => {
                    Pred::Ops(conds.iter().map(Op::of).collect())
                }
                leaf => leaf,
            })
            .collect();

        let mut uses = vec![0u32; preds.len()];
        for c in &flat_checks {
            uses[c.pred as usize] += 1;
        }
        // Stamps pay off for costly conditions that several candidates of one event share; for
        // a condition no other check names, or one a few instructions decide (exact, prefix,
        // numeric, exists...), reading the stamp costs more (a cache miss at a thousand rules)
        // than evaluating again. Those are evaluated where checked, as a flat operation where
        // they have one.
        for c in &mut flat_checks {
            let (cheap, one) = match &preds[c.pred as usize] {
                Pred::One(cond) => (cost(std::slice::from_ref(cond)) <= 1, Some(cond)),
                _ => (false, None),
            };
            if cheap || uses[c.pred as usize] == 1 {
                c.op = one.map_or(Op::General, Op::of);
            }
        }

        // What a bucket lists for each sub-rule: pattern with flags, alternative, checks.
        let entry = |s: usize, flags: u32| {
            let (pattern, alt) = alts[s];
            let (start, end) = ranges[s];
            Entry {
                pattern: pattern | flags,
                alt,
                start,
                end,
            }
        };
        let mut entries = Vec::new();
        let mut lay_out = |list: &[u32]| {
            let start = entries.len() as u32;
            for &e in list {
                entries.push(entry((e & PATTERN) as usize, e & !PATTERN));
            }
            Bucket {
                start,
                len: entries.len() as u32 - start,
            }
        };
        let indexes: Vec<PathIndex> = indexes
            .into_iter()
            .map(|ix| ix.finish(&mut lay_out))
            .collect();
        let unindexed = unindexed
            .iter()
            .map(|&s| entry((s & PATTERN) as usize, s & ONCE))
            .collect();
        RuleMatcher {
            patterns,
            entries,
            checks: flat_checks,
            groups,
            preds,
            nodes,
            indexes,
            unindexed,
        }
    }

    /// The compiled patterns, in the order given to [`RuleMatcher::new`].
    #[must_use]
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Number of sub-rules (pattern alternatives) that could not be indexed and are evaluated
    /// for every event; a diagnostic for performance lints.
    #[must_use]
    pub fn unindexed_count(&self) -> usize {
        self.unindexed.len()
    }

    /// Appends to `out` the indices (ascending, deduplicated) of the patterns that match.
    /// `out` is cleared first. Does not allocate once `scratch` and `out` have grown to their
    /// working size (reuse both across calls).
    pub fn matching(&self, event: &Value, scratch: &mut MatchScratch, out: &mut Vec<usize>) {
        out.clear();
        scratch.begin(self.patterns.len(), self.preds.len(), self.nodes.len());
        let MatchScratch {
            cands,
            done,
            preds,
            epoch,
            lower,
            hints,
            evaluated,
        } = scratch;
        let epoch = *epoch;
        let mut ev = Eval {
            paths: Resolver {
                event,
                nodes: &self.nodes,
                memo: [Slot::Unknown; MEMO],
                hints,
            },
            preds: &self.preds,
            stamps: preds,
            epoch,
            ip: None,
        };
        for ix in &self.indexes {
            let slot = ev.paths.resolve(ix.path_id);
            // Below an array of objects the indexed leaf is re-checked array-consistently; an
            // array of values may find one sub-rule under several keys.
            let keep = match slot {
                Slot::One(Value::Array(_)) => !ONCE,
                Slot::One(_) => u32::MAX,
                _ => !(PROVEN | ONCE),
            };
            let mut add = |b: Bucket| {
                if b.len > 0 {
                    cands.push((b, keep));
                }
            };
            match slot {
                Slot::One(v) => visit(v, &[], &mut |x| ix.lookup(x, lower, &mut add)),
                Slot::Complex => visit(event, &ix.path, &mut |x| ix.lookup(x, lower, &mut add)),
                Slot::Absent | Slot::Unknown => {}
            }
        }
        let mut n = self.unindexed.len();
        for &e in &self.unindexed {
            self.candidate(e, &mut ev, done, out);
        }
        for &(b, keep) in cands.iter() {
            n += b.len as usize;
            let bucket = &self.entries[b.start as usize..(b.start + b.len) as usize];
            for &e in bucket {
                let e = Entry {
                    pattern: e.pattern & keep,
                    ..e
                };
                self.candidate(e, &mut ev, done, out);
            }
        }
        *evaluated = n;
        out.sort_unstable();
    }

    /// Checks one candidate sub-rule and reports its pattern (once) if it holds.
    #[inline]
    fn candidate(
        &self,
        e: Entry,
        ev: &mut Eval<'_, '_, '_>,
        done: &mut [u8],
        out: &mut Vec<usize>,
    ) {
        let pattern = (e.pattern & PATTERN) as usize;
        let end = e.end - u32::from(e.pattern & PROVEN != 0);
        if e.pattern & ONCE != 0 {
            if self.rule_matches(e, end, ev) {
                out.push(pattern);
            }
            return;
        }
        // Another alternative (or another key) of this pattern already matched: nothing to add.
        if done[pattern] == ev.epoch {
            return;
        }
        if self.rule_matches(e, end, ev) {
            done[pattern] = ev.epoch;
            out.push(pattern);
        }
    }

    /// Whether a sub-rule holds, checking `checks[e.start..end]`: each leaf's shared
    /// predicate, looked up or evaluated once for the event; array-consistent evaluation where
    /// a leaf's path crosses an array.
    #[inline]
    fn rule_matches(&self, e: Entry, end: u32, ev: &mut Eval<'_, '_, '_>) -> bool {
        for c in &self.checks[e.start as usize..end as usize] {
            // A predicate already evaluated this event was evaluated on this very path, which
            // then did not cross an array: its result stands without resolving the path again.
            if let Op::Shared = c.op {
                let st = ev.stamps[c.pred as usize];
                if st >> 1 == ev.epoch {
                    if st & 1 == 0 {
                        return false;
                    }
                    continue;
                }
            }
            let slot = ev.paths.resolve(c.path);
            let ok = match (&c.op, slot) {
                (_, Slot::Complex) => {
                    if let Some(ok) =
                        ev.across_array(&self.groups[c.g_start as usize..c.g_end as usize])
                    {
                        ok
                    } else {
                        let p = &self.patterns[(e.pattern & PATTERN) as usize];
                        return node_matches(&p.alts[e.alt as usize], Some(ev.paths.event));
                    }
                }
                (Op::Str(p), Slot::One(Value::String(s))) => str_eq(s, p),
                (Op::Prefix(p), Slot::One(Value::String(s))) => starts_with(s, p),
                (Op::Suffix(p), Slot::One(Value::String(s))) => ends_with(s, p),
                (Op::Range(lo, hi), Slot::One(Value::Number(n))) => {
                    n.as_f64().is_some_and(|x| *lo <= x && x <= *hi)
                }
                (Op::AbStrs(set), Slot::One(Value::String(s))) => {
                    // A plain loop: `Iterator::any` here is an outlined call per candidate.
                    let mut ok = true;
                    for x in set {
                        if str_eq(x, s) {
                            ok = false;
                            break;
                        }
                    }
                    ok
                }
                (
                    Op::Exists(want),
                    Slot::One(Value::String(_) | Value::Number(_) | Value::Bool(_)),
                ) => *want,
                (Op::Exists(want), Slot::Absent) => !*want,
                (Op::Shared, _) => ev.eval_leaf(c.pred, slot),
                _ => ev.eval_unstamped(c.pred, slot),
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;
