//! [`RuleMatcher`]: all the rules of a bus compiled together, so that matching an event costs
//! nearly the same with 10 rules as with 1,000.
//!
//! Every alternative of every pattern (a *sub-rule*) names some field whose values it needs
//! exactly, or by prefix, or ignoring case (almost every real rule pins `source` or
//! `detail-type`). At build time each sub-rule is filed under one such field, the most
//! selective one across the rule set (the path with the most distinct values), in hash tables
//! keyed by those values. Per event, each indexed path is resolved once (for all rules), its
//! values are looked up, and only the sub-rules found (the candidates) plus the few that could
//! not be indexed are evaluated in full. This is the idea behind aws/event-ruler's shared
//! state machine, in a form that stays small and obviously correct.
//!
//! Field paths are shared too: every path any rule names is interned in a trie at build time,
//! and during one event each trie node is resolved at most once (memoized in a small table on
//! the stack), whether the index or any number of candidate rules asks for it. A candidate whose
//! paths all resolve without crossing an array of objects is then just a list of leaf checks on
//! already-resolved values; one that crosses an array falls back to the recursive evaluator,
//! which implements array-consistent matching.
//!
//! Steady-state matching does not allocate: candidate lists, "already seen" stamps and the
//! lower-casing buffer live in a caller-owned [`MatchScratch`] and are reused.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::Value;

use super::Pattern;
use super::matcher::{Cond, Node, get, node_matches};

/// FxHash (the rustc hasher): much faster than SipHash for short keys, and the tables here are
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
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
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

/// A field path and the keys a sub-rule can be found by on it.
type KeyedLeaf = (Vec<Box<str>>, Vec<Key>);

/// Leaves of a sub-rule whose every entry is indexable: `(path, keys)`. Each is necessary: an
/// event matching the sub-rule has, at that path (arrays flattened), a value with one of the keys.
fn indexable(node: &Node, path: &mut Vec<Box<str>>, out: &mut Vec<KeyedLeaf>) {
    for f in &node.fields {
        path.push(f.key.clone());
        for leaf in &f.leaves {
            let keys: Option<Vec<Key>> = leaf.iter().map(cond_key).collect();
            if let Some(keys) = keys {
                out.push((path.clone(), keys));
            }
        }
        if let Some(c) = &f.child {
            indexable(c, path, out);
        }
        path.pop();
    }
}

/// The sub-rules filed under one field path, by value.
#[derive(Debug, Default)]
struct PathIndex {
    /// The path, for events where it crosses an array.
    path: Vec<Box<str>>,
    /// The path's id in the trie.
    path_id: u32,
    strs: FxMap<Box<str>, Vec<u32>>,
    nums: FxMap<u64, Vec<u32>>,
    /// false, true, null.
    others: [Vec<u32>; 3],
    prefixes: FxMap<Box<str>, Vec<u32>>,
    /// Distinct prefix lengths in bytes, ascending: each event string is probed once per length.
    prefix_lens: Vec<usize>,
    ignore_case: FxMap<Box<str>, Vec<u32>>,
}

impl PathIndex {
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

    /// Calls `found` with every candidate list for one scalar of the event.
    fn lookup(&self, v: &Value, lower: &mut String, found: &mut dyn FnMut(&[u32])) {
        match v {
            Value::String(s) => {
                if let Some(l) = self.strs.get(s.as_str()) {
                    found(l);
                }
                for &len in &self.prefix_lens {
                    if len > s.len() {
                        break;
                    }
                    if let Some(l) = s.get(..len).and_then(|p| self.prefixes.get(p)) {
                        found(l);
                    }
                }
                if !self.ignore_case.is_empty() {
                    lower.clear();
                    lower.extend(s.chars().flat_map(char::to_lowercase));
                    if let Some(l) = self.ignore_case.get(lower.as_str()) {
                        found(l);
                    }
                }
            }
            Value::Number(n) => {
                if let Some(l) = n.as_f64().and_then(|x| self.nums.get(&num_key(x))) {
                    found(l);
                }
            }
            Value::Bool(b) => found(&self.others[usize::from(*b)]),
            Value::Null => found(&self.others[2]),
            _ => {}
        }
    }
}

/// Calls `f` with every scalar at `path` (arrays flattened at every level).
fn visit(v: &Value, path: &[Box<str>], f: &mut dyn FnMut(&Value)) {
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

struct Resolver<'e, 'm> {
    event: &'e Value,
    nodes: &'m [PathNode],
    memo: [Slot<'e>; MEMO],
}

impl<'e> Resolver<'e, '_> {
    fn resolve(&mut self, id: u32) -> Slot<'e> {
        let i = id as usize;
        if let Some(s) = self.memo.get(i)
            && !matches!(s, Slot::Unknown)
        {
            return *s;
        }
        let Some(node) = self.nodes.get(i) else {
            return Slot::Absent;
        };
        let parent = match node.parent {
            None => Slot::One(self.event),
            Some(p) => self.resolve(p),
        };
        let slot = match parent {
            Slot::One(Value::Object(m)) => match get(m, &node.key) {
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

/// A sub-rule compiled for memoized evaluation: (path id, leaf) pairs, all of which must hold.
#[derive(Debug)]
struct FlatRule {
    pattern: u32,
    alt: u32,
    leaves: Box<[(u32, Box<[Cond]>)]>,
}

/// Interns every path of a node's leaves into the trie; returns (path id, leaf) pairs.
fn flatten(
    node: &Node,
    parent: Option<u32>,
    trie: &mut FxMap<(Option<u32>, Box<str>), u32>,
    nodes: &mut Vec<PathNode>,
    uses: &mut Vec<usize>,
    out: &mut Vec<(u32, Box<[Cond]>)>,
) {
    for f in &node.fields {
        let id = *trie.entry((parent, f.key.clone())).or_insert_with(|| {
            nodes.push(PathNode {
                parent,
                key: f.key.clone(),
            });
            uses.push(0);
            (nodes.len() - 1) as u32
        });
        uses[id as usize] += 1;
        for leaf in &f.leaves {
            out.push((id, leaf.clone()));
        }
        if let Some(c) = &f.child {
            flatten(c, Some(id), trie, nodes, uses, out);
        }
    }
}

/// Many patterns compiled together (the rules of one bus). See the module documentation for
/// how the work is shared across rules.
#[derive(Debug)]
pub struct RuleMatcher {
    patterns: Vec<Pattern>,
    /// Sub-rules (pattern alternatives), flattened onto the path trie.
    rules: Vec<FlatRule>,
    /// The path trie, hottest paths first.
    nodes: Vec<PathNode>,
    indexes: Vec<PathIndex>,
    /// Sub-rules with no indexable field: evaluated for every event.
    unindexed: Vec<u32>,
}

/// Reusable per-caller working memory for [`RuleMatcher::matching`]. Keep one per thread and
/// pass it to every call: after the first few events it has grown to its working size and
/// matching no longer allocates. One scratch may serve several matchers.
#[derive(Debug, Default, Clone)]
pub struct MatchScratch {
    /// Candidate sub-rules for the current event.
    cands: Vec<u32>,
    /// `seen[sub] == epoch`: already a candidate for the current event.
    seen: Vec<u32>,
    /// `done[pattern] == epoch`: pattern already reported for the current event.
    done: Vec<u32>,
    epoch: u32,
    /// Lower-cased event string for `equals-ignore-case` lookups.
    lower: String,
    /// Sub-rules evaluated in full for the last event.
    evaluated: usize,
}

impl MatchScratch {
    /// How many sub-rules the last [`RuleMatcher::matching`] call evaluated in full (the
    /// candidates found through the index plus the unindexed ones): a diagnostic for benchmarks
    /// and performance lints.
    pub fn last_evaluated(&self) -> usize {
        self.evaluated
    }

    /// Starts a new event: bumps the epoch instead of clearing the stamp arrays.
    fn begin(&mut self, subs: usize, patterns: usize) {
        if self.seen.len() < subs {
            self.seen.resize(subs, 0);
        }
        if self.done.len() < patterns {
            self.done.resize(patterns, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Wrapped after 4 billion events: old stamps could collide, so reset them.
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.done.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        self.cands.clear();
    }
}

impl RuleMatcher {
    /// Compiles the patterns together. Pattern indices in results are positions in `patterns`.
    pub fn new(patterns: Vec<Pattern>) -> RuleMatcher {
        let mut trie = FxMap::default();
        let mut nodes = Vec::new();
        let mut uses = Vec::new();
        let mut rules = Vec::new();
        let mut keyed: Vec<Vec<KeyedLeaf>> = Vec::new();
        for (pi, p) in patterns.iter().enumerate() {
            for (ai, alt) in p.alts.iter().enumerate() {
                let mut leaves = Vec::new();
                flatten(alt, None, &mut trie, &mut nodes, &mut uses, &mut leaves);
                rules.push(FlatRule {
                    pattern: pi as u32,
                    alt: ai as u32,
                    leaves: leaves.into(),
                });
                let mut out = Vec::new();
                indexable(alt, &mut Vec::new(), &mut out);
                keyed.push(out);
            }
        }
        // Renumber the trie hottest first, so the per-event memo covers the common paths.
        let mut order: Vec<u32> = (0..nodes.len() as u32).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(uses[i as usize]), i));
        let mut new_id = vec![0u32; nodes.len()];
        for (new, &old) in order.iter().enumerate() {
            new_id[old as usize] = new as u32;
        }
        let mut slots: Vec<Option<PathNode>> = nodes.into_iter().map(Some).collect();
        let nodes: Vec<PathNode> = order
            .iter()
            .filter_map(|&old| slots[old as usize].take())
            .map(|n| PathNode {
                parent: n.parent.map(|p| new_id[p as usize]),
                key: n.key,
            })
            .collect();
        for r in &mut rules {
            for (id, _) in r.leaves.iter_mut() {
                *id = new_id[*id as usize];
            }
        }
        // The trie map is keyed by the old ids: walk it with those, then renumber.
        let old_path_id = |path: &[Box<str>]| -> Option<u32> {
            let mut parent: Option<u32> = None;
            for k in path {
                parent = Some(*trie.get(&(parent, k.clone()))?);
            }
            parent.map(|p| new_id[p as usize])
        };

        // Selectivity of a path = number of distinct keys the rule set uses on it: more distinct
        // values split the sub-rules into smaller buckets.
        let mut distinct: HashMap<&[Box<str>], HashSet<&Key>> = HashMap::new();
        for cands in &keyed {
            for (path, keys) in cands {
                distinct
                    .entry(path.as_slice())
                    .or_default()
                    .extend(keys.iter());
            }
        }
        let mut indexes: Vec<PathIndex> = Vec::new();
        let mut unindexed = Vec::new();
        for (si, cands) in keyed.iter().enumerate() {
            // Best leaf: most distinct values on its path, then fewest keys (fewer probes and
            // smaller buckets), then the first in pattern order (deterministic).
            let best = cands
                .iter()
                .enumerate()
                .max_by_key(|(i, (path, keys))| {
                    let d = distinct.get(path.as_slice()).map_or(0, HashSet::len);
                    (d, std::cmp::Reverse(keys.len()), std::cmp::Reverse(*i))
                })
                .map(|(_, c)| c);
            let sub = si as u32;
            match best.and_then(|(path, keys)| Some((path, keys, old_path_id(path)?))) {
                None => unindexed.push(sub),
                Some((path, keys, pid)) => {
                    let idx = match indexes.iter().position(|x| x.path_id == pid) {
                        Some(i) => i,
                        None => {
                            indexes.push(PathIndex {
                                path: path.clone(),
                                path_id: pid,
                                ..PathIndex::default()
                            });
                            indexes.len() - 1
                        }
                    };
                    for k in keys {
                        indexes[idx].add(k.clone(), sub);
                    }
                }
            }
        }
        RuleMatcher {
            patterns,
            rules,
            nodes,
            indexes,
            unindexed,
        }
    }

    /// The compiled patterns, in the order given to [`RuleMatcher::new`].
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Number of sub-rules (pattern alternatives) that could not be indexed and are evaluated
    /// for every event; a diagnostic for performance lints.
    pub fn unindexed_count(&self) -> usize {
        self.unindexed.len()
    }

    /// Appends to `out` the indices (ascending, deduplicated) of the patterns that match.
    /// `out` is cleared first. Does not allocate once `scratch` and `out` have grown to their
    /// working size (reuse both across calls).
    pub fn matching(&self, event: &Value, scratch: &mut MatchScratch, out: &mut Vec<usize>) {
        out.clear();
        scratch.begin(self.rules.len(), self.patterns.len());
        let MatchScratch {
            cands,
            seen,
            done,
            epoch,
            lower,
            evaluated,
        } = scratch;
        let epoch = *epoch;
        let mut paths = Resolver {
            event,
            nodes: &self.nodes,
            memo: [Slot::Unknown; MEMO],
        };
        for ix in &self.indexes {
            let mut add = |list: &[u32]| {
                for &s in list {
                    let slot = &mut seen[s as usize];
                    if *slot != epoch {
                        *slot = epoch;
                        cands.push(s);
                    }
                }
            };
            match paths.resolve(ix.path_id) {
                Slot::One(v) => visit(v, &[], &mut |x| ix.lookup(x, lower, &mut add)),
                Slot::Complex => visit(event, &ix.path, &mut |x| ix.lookup(x, lower, &mut add)),
                Slot::Absent | Slot::Unknown => {}
            }
        }
        for &s in self.unindexed.iter().chain(cands.iter()) {
            let rule = &self.rules[s as usize];
            if done[rule.pattern as usize] == epoch {
                continue;
            }
            if self.rule_matches(rule, &mut paths) {
                done[rule.pattern as usize] = epoch;
                out.push(rule.pattern as usize);
            }
        }
        *evaluated = self.unindexed.len() + cands.len();
        out.sort_unstable();
    }

    /// Leaf checks on memoized paths; the recursive evaluator when a path crosses an array.
    fn rule_matches(&self, rule: &FlatRule, paths: &mut Resolver<'_, '_>) -> bool {
        for (id, leaf) in &rule.leaves {
            let v = match paths.resolve(*id) {
                Slot::One(v) => Some(v),
                Slot::Absent | Slot::Unknown => None,
                Slot::Complex => {
                    let node = &self.patterns[rule.pattern as usize].alts[rule.alt as usize];
                    return node_matches(node, Some(paths.event));
                }
            };
            if !leaf.iter().any(|c| c.matches_field(v)) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matcher(ps: &[serde_json::Value]) -> RuleMatcher {
        RuleMatcher::new(ps.iter().map(|p| Pattern::parse(p).unwrap()).collect())
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
    fn fx_hasher_is_stable() {
        let mut a = FxHasher::default();
        a.write(b"hello world, longer than eight");
        let mut b = FxHasher::default();
        b.write(b"hello world, longer than eight");
        assert_eq!(a.finish(), b.finish());
    }
}
