//! Event templates: the `event` of a producer or an `emits` entry, compiled once into a tree of
//! literal parts and generators (`$seq`, `$key`, `$uniform`, `$int`, `$normal`, `$lognormal`,
//! `$exponential`, `$choice`, `$bool`, `$from`) that builds one event per call.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Map, Number, Value};

use super::envelope::{ENVELOPE, Stamp, event_id, fill_envelope, wanted, write_event_id};
use super::reads::Fields;
use super::rng::Stream;

/// A compiled template.
#[derive(Clone, Debug)]
pub struct Template {
    root: Node,
    /// True when every part is literal: the engine can share one payload for all events.
    pub is_static: bool,
    /// How whole events and events with the engine's read fields are built (see
    /// [`Template::prepare`]), when the template is an object.
    plans: Option<Box<[Plan; 2]>>,
}

/// How one template's events are built with their envelope, for one set of fields read.
///
/// The event's object is a copy of `proto`: its literal parts (projected to what is read)
/// and the envelope's defaults, already in the order the fields end in, with `null` where a
/// part is generated. A copy costs its allocations but no hashing, no insertion and no
/// growing; `steps` then fill the generated parts in the template's order (so the random
/// draws are the ones [`Template::generate`] makes) and stamp `id` and `time`.
#[derive(Clone, Debug)]
struct Plan {
    proto: Map<String, Value>,
    steps: Vec<Fill>,
    /// The prototype, shared, when it is every event (nothing read is generated): an event
    /// is then its random draws and a reference, no allocation.
    constant: Option<Arc<Value>>,
    /// How many different events it builds, when its generated parts read are all drawn
    /// from finite sets (`$key`, `$choice`, `$bool`) and there are at most [`MAX_SHARED`].
    count: Option<usize>,
    /// An event plan with a `count`: each different event, built the first time it is drawn
    /// and shared after, indexed by its draws (see [`Plan::draw_key`]).
    shared: Vec<Option<Arc<Value>>>,
    /// Any other event plan: the last [`RECYCLED`] events it built, oldest first. When the
    /// oldest is held here only (every copy of it is gone), its map is refilled in place for
    /// the next event: its keys and literal parts are already there, so an event costs only
    /// its generated values instead of a map, a table and a string per field.
    recycle: VecDeque<Arc<Value>>,
}

/// How many events a plan waits for before it refills the oldest (if nothing holds it).
const RECYCLED: usize = 256;

/// The most different events a plan keeps to share (a few megabytes at most).
const MAX_SHARED: usize = 4096;

/// How many values a generator draws from, and which it drew: `None` if its values are
/// not a small finite set.
fn finite(node: &Node) -> Option<usize> {
    match node {
        Node::Gen(Generator::Key { cdf, .. } | Generator::Choice { cdf, .. }) => Some(cdf.len()),
        Node::Gen(Generator::Bool(_)) => Some(2),
        _ => None,
    }
}

/// The draw of a [`finite`] generator: what [`gen_node`] draws, as the index of its value.
fn finite_draw(node: &Node, rng: &mut Stream) -> usize {
    match node {
        Node::Gen(Generator::Key { cdf, .. } | Generator::Choice { cdf, .. }) => {
            pick(cdf, rng.open01())
        }
        Node::Gen(Generator::Bool(p)) => usize::from(rng.chance(*p)),
        other => {
            skip_node(other, rng);
            0
        }
    }
}

/// One step of a [`Plan`], in the template's field order, then the envelope's.
#[derive(Clone, Debug)]
enum Fill {
    /// Template field `i` is not read: its random draws only.
    Skip(usize),
    /// The next entry is literal, already in the prototype.
    Keep,
    /// The next entry is template field `i` (an array or a generator), built whole.
    Build(usize),
    /// The next entry is template field `i`, an object, built by its own plan.
    Nested(usize, Box<Plan>),
    /// The next entry is template field `i`, an object whose plan is constant: its value is
    /// in the prototype already; its random draws only.
    Drawn(usize),
    /// The next entry is template field `i`, which the envelope's value replaces: its
    /// random draws, then the envelope's value.
    Replace(usize, Stamped),
    /// The next entry is the envelope's value.
    Stamp(Stamped),
}

/// The envelope fields every event gets its own value of.
#[derive(Clone, Copy, Debug)]
enum Stamped {
    Id,
    Time,
}

impl Stamped {
    fn of(key: &str) -> Option<Stamped> {
        match key {
            "id" => Some(Stamped::Id),
            "time" => Some(Stamped::Time),
            _ => None,
        }
    }

    fn value(self, stamp: &mut Stamp<'_>) -> Value {
        match self {
            Stamped::Id => Value::String(event_id(stamp.seed, stamp.event_no)),
            Stamped::Time => Value::String(stamp.times.at(stamp.now)),
        }
    }

    /// Sets `slot` to [`Stamped::value`], writing into the string a refilled event's slot
    /// holds already (no allocation, no free).
    fn fill(self, slot: &mut Value, stamp: &mut Stamp<'_>) {
        let Value::String(buf) = slot else {
            *slot = self.value(stamp);
            return;
        };
        match self {
            Stamped::Id => write_event_id(buf, stamp.seed, stamp.event_no),
            Stamped::Time => {
                buf.clear();
                buf.push_str(stamp.times.text_at(stamp.now));
            }
        }
    }
}

impl Plan {
    /// The plan for an object template's `fields` when `reads` are read (`None`: all);
    /// `literal`: the template is one literal, which is built whole whatever is read (as
    /// [`Template::generate_reading`] does); `top`: the event itself (with its envelope), not
    /// an object inside it.
    fn new(fields: &[(String, Node)], reads: Option<&Fields>, literal: bool, top: bool) -> Plan {
        let reads = reads.filter(|r| !r.all);
        let spare = if top { ENVELOPE.len() } else { 0 };
        let mut proto = Map::with_capacity(fields.len() + spare);
        let mut steps = Vec::with_capacity(fields.len() + spare);
        for (i, (k, n)) in fields.iter().enumerate() {
            // `None`: not read; `Some(None)`: all of it; `Some(Some(r))`: the fields `r`.
            let read = match reads {
                Some(f) if !literal => f.child(k).map(|r| (!r.all).then(|| r.clone())),
                _ => Some(None),
            };
            let Some(read) = read else {
                steps.push(Fill::Skip(i));
                continue;
            };
            if let Some(s) = Stamped::of(k).filter(|_| top) {
                proto.insert(k.clone(), Value::Null);
                steps.push(Fill::Replace(i, s));
                continue;
            }
            match (n, &read) {
                (Node::Literal(v), None) => {
                    proto.insert(k.clone(), v.clone());
                    steps.push(Fill::Keep);
                }
                (Node::Literal(v), Some(r)) => {
                    proto.insert(k.clone(), project(v, r));
                    steps.push(Fill::Keep);
                }
                (Node::Object(inner), read) => {
                    let plan = Plan::new(inner, read.as_ref(), false, false);
                    if plan.constant.is_some() {
                        proto.insert(k.clone(), Value::Object(plan.proto.clone()));
                        steps.push(Fill::Drawn(i));
                    } else {
                        proto.insert(k.clone(), Value::Null);
                        steps.push(Fill::Nested(i, Box::new(plan)));
                    }
                }
                _ => {
                    proto.insert(k.clone(), Value::Null);
                    steps.push(Fill::Build(i));
                }
            }
        }
        for (k, fallback) in ENVELOPE {
            if !top || !wanted(reads, k) || fields.iter().any(|(f, _)| f == k) {
                continue;
            }
            if let Some(d) = fallback {
                proto.insert(k.to_owned(), d.value());
                steps.push(Fill::Keep);
            } else {
                proto.insert(k.to_owned(), Value::Null);
                steps.push(Fill::Stamp(Stamped::of(k).unwrap_or(Stamped::Id)));
            }
        }
        // Collected again at its exact size: every event is a copy of it, and a copy keeps
        // the table's size (a backlog of events holds them all).
        let proto: Map<String, Value> = proto.into_iter().collect();
        let constant = steps
            .iter()
            .all(|s| matches!(s, Fill::Skip(_) | Fill::Keep | Fill::Drawn(_)))
            .then(|| Arc::new(Value::Object(proto.clone())));
        let count = steps.iter().try_fold(1usize, |n, s| {
            let m = match s {
                Fill::Skip(_) | Fill::Keep | Fill::Drawn(_) => Some(1),
                Fill::Build(i) => finite(&fields[*i].1),
                Fill::Nested(_, plan) => plan.count,
                Fill::Replace(..) | Fill::Stamp(_) => None,
            }?;
            n.checked_mul(m).filter(|n| *n <= MAX_SHARED)
        });
        let shared = match count {
            Some(n) if top && constant.is_none() => vec![None; n],
            _ => Vec::new(),
        };
        Plan {
            proto,
            steps,
            constant,
            count,
            shared,
            recycle: VecDeque::new(),
        }
    }

    /// The draws [`Plan::build`] makes, building nothing, as the index of the event they
    /// make among the plan's `count` (the finite draws in mixed radix, in the template's
    /// order). For a plan with a `count` only.
    fn draw_key(&self, fields: &[(String, Node)], rng: &mut Stream) -> usize {
        let mut key = 0;
        for step in &self.steps {
            match step {
                Fill::Skip(i) | Fill::Replace(i, _) | Fill::Drawn(i) => {
                    if let Some((_, n)) = fields.get(*i) {
                        skip_node(n, rng);
                    }
                }
                Fill::Build(i) => {
                    if let Some((_, n)) = fields.get(*i) {
                        key = key * finite(n).unwrap_or(1) + finite_draw(n, rng);
                    }
                }
                Fill::Nested(i, plan) => {
                    if let Some((_, Node::Object(inner))) = fields.get(*i) {
                        key = key * plan.count.unwrap_or(1) + plan.draw_key(inner, rng);
                    }
                }
                Fill::Keep | Fill::Stamp(_) => {}
            }
        }
        key
    }

    /// The random draws [`Plan::build`] makes, building nothing (a constant plan's event):
    /// every part's draws in the template's order, which are [`skip_node`]'s.
    fn draw(&self, fields: &[(String, Node)], rng: &mut Stream) {
        for step in &self.steps {
            match step {
                Fill::Skip(i)
                | Fill::Replace(i, _)
                | Fill::Build(i)
                | Fill::Nested(i, _)
                | Fill::Drawn(i) => {
                    if let Some((_, n)) = fields.get(*i) {
                        skip_node(n, rng);
                    }
                }
                Fill::Keep | Fill::Stamp(_) => {}
            }
        }
    }

    /// [`Plan::build`]'s event, shared: the constant one, the one of its draws built before,
    /// or a new one.
    fn build_shared(
        &mut self,
        fields: &[(String, Node)],
        rng: &mut Stream,
        seq: u64,
        trigger: Option<&Value>,
        stamp: &mut Stamp<'_>,
    ) -> Arc<Value> {
        if let Some(v) = &self.constant {
            self.draw(fields, rng);
            return Arc::clone(v);
        }
        if self.shared.is_empty() {
            // (An oldest still held elsewhere leaves the ring here: the event is built anew.)
            if self.recycle.len() == RECYCLED
                && let Some(mut oldest) = self.recycle.pop_front()
                && let Some(Value::Object(o)) = Arc::get_mut(&mut oldest)
            {
                self.fill(o, fields, rng, seq, trigger, stamp);
                self.recycle.push_back(Arc::clone(&oldest));
                return oldest;
            }
            let v = Arc::new(self.build(fields, rng, seq, trigger, stamp));
            self.recycle.push_back(Arc::clone(&v));
            return v;
        }
        let start = rng.clone();
        let key = self.draw_key(fields, rng);
        if let Some(Some(v)) = self.shared.get(key) {
            return Arc::clone(v);
        }
        // Built from where the draws began: the same draws, which end where `rng` is now.
        let mut again = start;
        let v = Arc::new(self.build(fields, &mut again, seq, trigger, stamp));
        if let Some(cell) = self.shared.get_mut(key) {
            *cell = Some(Arc::clone(&v));
        }
        v
    }

    fn build(
        &self,
        fields: &[(String, Node)],
        rng: &mut Stream,
        seq: u64,
        trigger: Option<&Value>,
        stamp: &mut Stamp<'_>,
    ) -> Value {
        let mut o = self.proto.clone();
        self.fill(&mut o, fields, rng, seq, trigger, stamp);
        Value::Object(o)
    }

    /// Fills the generated parts of `o`, a copy of the prototype or an event this plan built
    /// before (whose literal parts are the prototype's; its generated parts are replaced).
    fn fill(
        &self,
        o: &mut Map<String, Value>,
        fields: &[(String, Node)],
        rng: &mut Stream,
        seq: u64,
        trigger: Option<&Value>,
        stamp: &mut Stamp<'_>,
    ) {
        let mut entries = o.values_mut();
        for step in &self.steps {
            match step {
                Fill::Skip(i) => skip_node(&fields[*i].1, rng),
                Fill::Keep => {
                    entries.next();
                }
                Fill::Build(i) => match entries.next() {
                    Some(slot) => gen_into(&fields[*i].1, slot, rng, seq, trigger),
                    None => drop(gen_node(&fields[*i].1, rng, seq, trigger)),
                },
                Fill::Nested(i, plan) => {
                    let inner = match &fields[*i].1 {
                        Node::Object(inner) => inner.as_slice(),
                        _ => &[],
                    };
                    match entries.next() {
                        Some(Value::Object(m)) => plan.fill(m, inner, rng, seq, trigger, stamp),
                        Some(slot) => *slot = plan.build(inner, rng, seq, trigger, stamp),
                        None => drop(plan.build(inner, rng, seq, trigger, stamp)),
                    }
                }
                Fill::Drawn(i) => {
                    skip_node(&fields[*i].1, rng);
                    entries.next();
                }
                Fill::Replace(i, s) => {
                    if let Some((_, n)) = fields.get(*i) {
                        skip_node(n, rng);
                    }
                    if let Some(slot) = entries.next() {
                        s.fill(slot, stamp);
                    }
                }
                Fill::Stamp(s) => {
                    if let Some(slot) = entries.next() {
                        s.fill(slot, stamp);
                    }
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Node {
    Literal(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Gen(Generator),
}

#[derive(Clone, Debug)]
enum Generator {
    Seq(String),
    /// Zipf-skewed key: cumulative weights of keys 1..=count.
    Key {
        prefix: Option<String>,
        cdf: Vec<f64>,
    },
    Uniform(f64, f64),
    Int(i64, i64),
    Normal(f64, f64),
    Lognormal(f64, f64),
    Exponential(f64),
    Choice {
        values: Vec<Value>,
        cdf: Vec<f64>,
    },
    Bool(f64),
    From(Vec<String>),
}

type Errors = Vec<(String, String)>;

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn mean_stddev(v: &Value, path: &str, name: &str, errors: &mut Errors) -> Option<(f64, f64)> {
    let obj = v.as_object();
    let mean = obj.and_then(|o| o.get("mean")).and_then(num);
    let sd = obj.and_then(|o| o.get("stddev")).and_then(num);
    let unknown: Vec<&String> = obj
        .map(|o| {
            o.keys()
                .filter(|k| *k != "mean" && *k != "stddev")
                .collect()
        })
        .unwrap_or_default();
    match (mean, sd) {
        (Some(m), Some(s)) if s >= 0.0 && unknown.is_empty() => Some((m, s)),
        (Some(_), Some(_)) if !unknown.is_empty() => {
            errors.push((
                join(path, unknown[0]),
                format!("unknown field; {name} takes {{\"mean\": m, \"stddev\": s}}"),
            ));
            None
        }
        (Some(_), Some(s)) => {
            errors.push((
                join(path, "stddev"),
                format!("stddev must not be negative, found {s}"),
            ));
            None
        }
        _ => {
            errors.push((
                path.to_owned(),
                format!("{name} takes {{\"mean\": m, \"stddev\": s}} with numbers"),
            ));
            None
        }
    }
}

fn pair(v: &Value, path: &str, name: &str, errors: &mut Errors) -> Option<(f64, f64)> {
    if let Some([a, b]) = v.as_array().map(Vec::as_slice) {
        match (num(a), num(b)) {
            (Some(a), Some(b)) if a <= b => Some((a, b)),
            (Some(a), Some(b)) => {
                errors.push((
                    path.to_owned(),
                    format!("{name}: low {a} is above high {b}"),
                ));
                None
            }
            _ => {
                errors.push((
                    path.to_owned(),
                    format!("{name} takes [low, high] with numbers"),
                ));
                None
            }
        }
    } else {
        errors.push((path.to_owned(), format!("{name} takes [low, high]")));
        None
    }
}

fn cumulative(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

fn pick(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|c| *c < u)
        .min(cdf.len().saturating_sub(1))
}

/// The largest key count a `$key` generator accepts (its table is held in memory).
pub const MAX_KEYS: u64 = 10_000_000;

impl Template {
    /// Compiles a template; `in_emits` allows `$from`. Errors are (path inside the template, message).
    ///
    /// # Errors
    /// Every malformed generator found.
    pub fn compile(v: &Value, in_emits: bool) -> Result<Template, Errors> {
        let mut errors = Vec::new();
        let root = compile_node(v, "", in_emits, &mut errors);
        if errors.is_empty() {
            let is_static = matches!(root, Node::Literal(_));
            Ok(Template {
                root,
                is_static,
                plans: None,
            })
        } else {
            Err(errors)
        }
    }

    /// Prepares building events with their envelope ([`Template::event`]), whole and with
    /// `reads`, the engine's fields read (`sim::reads`).
    pub(crate) fn prepare(&mut self, reads: Option<&Fields>) {
        let literal_fields: Vec<(String, Node)>;
        let (fields, literal) = match &self.root {
            Node::Object(fields) => (fields.as_slice(), false),
            Node::Literal(Value::Object(m)) => {
                literal_fields = m
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::Literal(v.clone())))
                    .collect();
                (literal_fields.as_slice(), true)
            }
            _ => return,
        };
        self.plans = Some(Box::new([
            Plan::new(fields, None, literal, true),
            Plan::new(fields, reads, literal, true),
        ]));
    }

    /// Makes its constant events (see [`Template::event`]) the very values in `seen` that
    /// equal them, adding those that are new: templates whose events are one value share one
    /// `Arc`, which a bus then matches once for all of them (`BusRt::memo`).
    ///
    /// Values are the same when their JSON texts are (`==` on maps ignores their order, and
    /// the order is part of an event), which `seen` holds beside each.
    pub(crate) fn share_constants(&mut self, seen: &mut Vec<(String, Arc<Value>)>) {
        for plan in self.plans.iter_mut().flat_map(|p| p.iter_mut()) {
            if let Some(v) = &mut plan.constant {
                let text = v.to_string();
                match seen.iter().find(|(t, _)| *t == text) {
                    Some((_, s)) => *v = Arc::clone(s),
                    None => seen.push((text, Arc::clone(v))),
                }
            }
        }
    }

    /// Builds one event with its envelope: what [`Template::generate`] (`reads` `None`) or
    /// [`Template::generate_reading`] builds, then `envelope::fill_envelope`. `reads` must be
    /// what [`Template::prepare`] was given, or `None`.
    ///
    /// When nothing read of the event is generated, every event is one value (its random
    /// draws are made all the same): it is built once and shared, and an event costs no
    /// allocation.
    pub(crate) fn event(
        &mut self,
        rng: &mut Stream,
        seq: u64,
        trigger: Option<&Value>,
        reads: Option<&Fields>,
        stamp: &mut Stamp<'_>,
    ) -> Arc<Value> {
        if let Some(plans) = &mut self.plans {
            let fields = match &self.root {
                Node::Object(fields) => fields.as_slice(),
                _ => &[],
            };
            let plan = &mut plans[usize::from(reads.is_some())];
            return plan.build_shared(fields, rng, seq, trigger, stamp);
        }
        Arc::new(self.event_unplanned(rng, seq, trigger, reads, stamp))
    }

    /// [`Template::event`] of a template without a plan (not an object).
    fn event_unplanned(
        &self,
        rng: &mut Stream,
        seq: u64,
        trigger: Option<&Value>,
        reads: Option<&Fields>,
        stamp: &mut Stamp<'_>,
    ) -> Value {
        let mut v = match reads {
            Some(f) => self.generate_reading(rng, seq, trigger, f),
            None => self.generate(rng, seq, trigger),
        };
        fill_envelope(
            &mut v,
            stamp.seed,
            stamp.event_no,
            stamp.now,
            stamp.times,
            reads,
        );
        v
    }

    /// Builds one event. `seq` numbers this template's events from 1; `trigger` is the event
    /// being handled (for `$from`).
    pub fn generate(&self, rng: &mut Stream, seq: u64, trigger: Option<&Value>) -> Value {
        match &self.root {
            // Room for the envelope fields the engine adds next, so the map is not rebuilt.
            Node::Object(fields) => gen_object(fields, ENVELOPE_FIELDS, rng, seq, trigger),
            root => gen_node(root, rng, seq, trigger),
        }
    }
}

fn compile_node(v: &Value, path: &str, in_emits: bool, errors: &mut Errors) -> Node {
    match v {
        Value::Object(map) => {
            if map.len() == 1 {
                let (k, arg) = map
                    .iter()
                    .next()
                    .map_or(("", &Value::Null), |(k, a)| (k.as_str(), a));
                if let Some(name) = k.strip_prefix('$') {
                    let gpath = join(path, k);
                    return match compile_generator(name, arg, &gpath, in_emits, errors) {
                        Some(g) => Node::Gen(g),
                        None => Node::Literal(Value::Null),
                    };
                }
            }
            let mut fields = Vec::with_capacity(map.len());
            let mut all_literal = true;
            for (k, child) in map {
                let node = compile_node(child, &join(path, k), in_emits, errors);
                all_literal &= matches!(node, Node::Literal(_));
                fields.push((k.clone(), node));
            }
            if all_literal {
                Node::Literal(v.clone())
            } else {
                Node::Object(fields)
            }
        }
        Value::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, x)| compile_node(x, &format!("{path}[{i}]"), in_emits, errors))
                .collect();
            if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(v.clone())
            } else {
                Node::Array(nodes)
            }
        }
        other => Node::Literal(other.clone()),
    }
}

const GENERATORS: [&str; 10] = [
    "seq",
    "key",
    "uniform",
    "int",
    "normal",
    "lognormal",
    "exponential",
    "choice",
    "bool",
    "from",
];

fn compile_generator(
    name: &str,
    arg: &Value,
    path: &str,
    in_emits: bool,
    errors: &mut Errors,
) -> Option<Generator> {
    match name {
        "seq" => {
            if let Value::String(prefix) = arg {
                Some(Generator::Seq(prefix.clone()))
            } else {
                errors.push((
                    path.to_owned(),
                    "$seq takes a prefix string, e.g. {\"$seq\": \"ORD-\"}".into(),
                ));
                None
            }
        }
        "key" => {
            let obj = arg.as_object();
            let count = obj.and_then(|o| o.get("count")).and_then(Value::as_u64);
            let skew = obj.and_then(|o| o.get("skew")).map_or(Some(0.0), num);
            let prefix = obj.and_then(|o| o.get("prefix"));
            if let Some(o) = obj {
                for k in o.keys() {
                    if !["count", "skew", "prefix"].contains(&k.as_str()) {
                        errors.push((
                            join(path, k),
                            "unknown field; $key takes count, skew and prefix".into(),
                        ));
                    }
                }
            }
            match (count, skew) {
                (Some(n), Some(s)) if (1..=MAX_KEYS).contains(&n) && s >= 0.0 => {
                    let prefix = match prefix {
                        None => None,
                        Some(Value::String(p)) => Some(p.clone()),
                        Some(_) => {
                            errors.push((join(path, "prefix"), "prefix must be a string".into()));
                            return None;
                        }
                    };
                    // Zipf: key k has weight 1/k^skew (skew 0 = uniform).
                    let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
                    Some(Generator::Key {
                        prefix,
                        cdf: cumulative(&weights),
                    })
                }
                (Some(n), _) if n == 0 || n > MAX_KEYS => {
                    errors.push((
                        join(path, "count"),
                        format!("count must be from 1 to {MAX_KEYS}"),
                    ));
                    None
                }
                (Some(_), _) => {
                    errors.push((
                        join(path, "skew"),
                        "skew must be a number ≥ 0 (0 = uniform)".into(),
                    ));
                    None
                }
                _ => {
                    errors.push((path.to_owned(), "$key takes {\"count\": n, \"skew\": s, \"prefix\": \"C-\"} with a whole count".into()));
                    None
                }
            }
        }
        "uniform" => pair(arg, path, "$uniform", errors).map(|(a, b)| Generator::Uniform(a, b)),
        "int" => {
            if let Some([a, b]) = arg.as_array().map(Vec::as_slice) {
                match (a.as_i64(), b.as_i64()) {
                    (Some(a), Some(b)) if a <= b => Some(Generator::Int(a, b)),
                    _ => {
                        errors.push((
                            path.to_owned(),
                            "$int takes [low, high] with whole numbers, low ≤ high".into(),
                        ));
                        None
                    }
                }
            } else {
                errors.push((path.to_owned(), "$int takes [low, high]".into()));
                None
            }
        }
        "normal" => mean_stddev(arg, path, "$normal", errors).map(|(m, s)| Generator::Normal(m, s)),
        "lognormal" => match mean_stddev(arg, path, "$lognormal", errors) {
            Some((m, s)) if m > 0.0 => Some(Generator::Lognormal(m, s)),
            Some(_) => {
                errors.push((
                    join(path, "mean"),
                    "a log-normal mean must be above zero".into(),
                ));
                None
            }
            None => None,
        },
        "exponential" => match arg.as_object().and_then(|o| o.get("mean")).and_then(num) {
            Some(m) if m > 0.0 && arg.as_object().is_some_and(|o| o.len() == 1) => {
                Some(Generator::Exponential(m))
            }
            _ => {
                errors.push((
                    path.to_owned(),
                    "$exponential takes {\"mean\": m} with m > 0".into(),
                ));
                None
            }
        },
        "choice" => {
            let (values, weights): (Vec<Value>, Vec<f64>) = match arg {
                Value::Object(m) if !m.is_empty() => {
                    let mut vals = Vec::new();
                    let mut ws = Vec::new();
                    for (k, w) in m {
                        match num(w) {
                            Some(w) if w >= 0.0 => {
                                vals.push(Value::String(k.clone()));
                                ws.push(w);
                            }
                            _ => errors.push((
                                join(path, k),
                                "a choice weight must be a number ≥ 0".into(),
                            )),
                        }
                    }
                    (vals, ws)
                }
                Value::Array(items) if !items.is_empty() => (items.clone(), vec![1.0; items.len()]),
                _ => {
                    errors.push((
                        path.to_owned(),
                        "$choice takes {\"value\": weight, …} or [value, …]".into(),
                    ));
                    return None;
                }
            };
            if weights.iter().sum::<f64>() <= 0.0 {
                errors.push((
                    path.to_owned(),
                    "$choice weights must not all be zero".into(),
                ));
                return None;
            }
            Some(Generator::Choice {
                values,
                cdf: cumulative(&weights),
            })
        }
        "bool" => match num(arg) {
            Some(p) if (0.0..=1.0).contains(&p) => Some(Generator::Bool(p)),
            _ => {
                errors.push((
                    path.to_owned(),
                    "$bool takes the probability of true, from 0 to 1".into(),
                ));
                None
            }
        },
        "from" => {
            if !in_emits {
                errors.push((
                    path.to_owned(),
                    "$from copies from the triggering event, so it only works in `emits`".into(),
                ));
                return None;
            }
            match arg {
                Value::String(p) if !p.is_empty() => {
                    Some(Generator::From(p.split('.').map(str::to_owned).collect()))
                }
                _ => {
                    errors.push((
                        path.to_owned(),
                        "$from takes a dotted path, e.g. \"detail.orderId\"".into(),
                    ));
                    None
                }
            }
        }
        other => {
            let hint = crate::names::did_you_mean(other, GENERATORS.iter().copied())
                .map_or_else(String::new, |h| format!(" ({h})"));
            errors.push((
                path.to_owned(),
                format!(
                    "unknown generator `${other}`{hint}; generators are {}",
                    GENERATORS.map(|g| format!("${g}")).join(", ")
                ),
            ));
            None
        }
    }
}

/// Looks up a dotted path (already split) in an event.
#[must_use]
pub fn lookup<'a>(event: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = event;
    for part in path {
        cur = field(cur.as_object()?, part)?;
    }
    Some(cur)
}

/// The objects [`field`] scans rather than hashes into.
const SCANNED: usize = 16;

/// Field `name` of object `o`. An event's objects have a few fields each (an envelope nine):
/// comparing their names, most of which differ in length, costs less than hashing the name
/// with the map's `SipHash`, which was a tenth of a FIFO scenario's instructions.
#[inline]
fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if o.len() <= SCANNED {
        o.iter().find_map(|(k, v)| (k == name).then_some(v))
    } else {
        o.get(name)
    }
}

impl Template {
    /// Its `$from` generators: for each, the path in the event it builds that the copied value
    /// lands at (stopping at an array, which is built whole), and the trigger path it copies.
    pub(crate) fn trigger_copies(&self) -> Vec<(Vec<&str>, &[String])> {
        fn walk<'a>(
            n: &'a Node,
            at: &mut Vec<&'a str>,
            in_array: bool,
            out: &mut Vec<(Vec<&'a str>, &'a [String])>,
        ) {
            match n {
                Node::Gen(Generator::From(path)) => out.push((at.clone(), path)),
                Node::Object(fields) => {
                    for (k, n) in fields {
                        if !in_array {
                            at.push(k);
                        }
                        walk(n, at, in_array, out);
                        if !in_array {
                            at.pop();
                        }
                    }
                }
                Node::Array(items) => items.iter().for_each(|n| walk(n, at, true, out)),
                Node::Literal(_) | Node::Gen(_) => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut Vec::new(), false, &mut out);
        out
    }

    /// Generates an event with only the fields `reads` names (see `sim::reads`). Generators
    /// off those fields draw their random numbers all the same, so `rng` ends where
    /// [`Template::generate`] leaves it, and every field built is the one it would build.
    pub(crate) fn generate_reading(
        &self,
        rng: &mut Stream,
        seq: u64,
        trigger: Option<&Value>,
        reads: &Fields,
    ) -> Value {
        if reads.all {
            return self.generate(rng, seq, trigger);
        }
        match &self.root {
            Node::Object(fields) => {
                // Room for the envelope fields read, which the engine adds next.
                let spare = ENVELOPE_KEYS
                    .iter()
                    .filter(|k| reads.child(k).is_some())
                    .count();
                gen_object_reading(fields, spare, rng, seq, trigger, reads)
            }
            root => gen_node(root, rng, seq, trigger),
        }
    }

    /// Does it copy fields of the triggering event (`$from`)?
    #[must_use]
    pub fn reads_trigger(&self) -> bool {
        fn reads(n: &Node) -> bool {
            match n {
                Node::Literal(_) => false,
                Node::Object(fields) => fields.iter().any(|(_, n)| reads(n)),
                Node::Array(items) => items.iter().any(reads),
                Node::Gen(g) => matches!(g, Generator::From(_)),
            }
        }
        reads(&self.root)
    }
}

fn float(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// The envelope fields `envelope::fill_envelope` may add to a top-level event.
const ENVELOPE_KEYS: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];
const ENVELOPE_FIELDS: usize = ENVELOPE_KEYS.len();

fn gen_object(
    fields: &[(String, Node)],
    spare: usize,
    rng: &mut Stream,
    seq: u64,
    trigger: Option<&Value>,
) -> Value {
    let mut m = Map::with_capacity(fields.len() + spare);
    for (k, n) in fields {
        m.insert(k.clone(), gen_node(n, rng, seq, trigger));
    }
    Value::Object(m)
}

/// An object with the fields `reads` names; the others only draw their random numbers.
fn gen_object_reading(
    fields: &[(String, Node)],
    spare: usize,
    rng: &mut Stream,
    seq: u64,
    trigger: Option<&Value>,
    reads: &Fields,
) -> Value {
    let mut m = Map::with_capacity(reads.children.len().min(fields.len()) + spare);
    for (k, n) in fields {
        match reads.child(k) {
            Some(r) if r.all => {
                m.insert(k.clone(), gen_node(n, rng, seq, trigger));
            }
            Some(r) => {
                let v = match n {
                    Node::Object(inner) => gen_object_reading(inner, 0, rng, seq, trigger, r),
                    Node::Literal(v) => project(v, r),
                    // An array or a generated value is built whole.
                    n => gen_node(n, rng, seq, trigger),
                };
                m.insert(k.clone(), v);
            }
            None => skip_node(n, rng),
        }
    }
    Value::Object(m)
}

/// The part of a literal that `reads` names.
fn project(v: &Value, reads: &Fields) -> Value {
    match v {
        Value::Object(o) if !reads.all => Value::Object(
            o.iter()
                .filter_map(|(k, x)| reads.child(k).map(|r| (k.clone(), project(x, r))))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Draws the random numbers [`gen_node`] would draw for `node`, building nothing.
fn skip_node(node: &Node, rng: &mut Stream) {
    match node {
        Node::Literal(_) => {}
        Node::Object(fields) => fields.iter().for_each(|(_, n)| skip_node(n, rng)),
        Node::Array(items) => items.iter().for_each(|n| skip_node(n, rng)),
        Node::Gen(g) => match g {
            Generator::Seq(_) | Generator::From(_) => {}
            Generator::Key { .. } | Generator::Choice { .. } => {
                rng.open01();
            }
            Generator::Uniform(a, b) => {
                rng.uniform(*a, *b);
            }
            Generator::Int(a, b) => {
                rng.int_inclusive(*a, *b);
            }
            Generator::Normal(m, s) => {
                rng.normal(*m, *s);
            }
            Generator::Lognormal(m, s) => {
                rng.lognormal(*m, *s);
            }
            Generator::Exponential(m) => {
                rng.exponential(*m);
            }
            Generator::Bool(p) => {
                rng.chance(*p);
            }
        },
    }
}

/// `prefix` then `n` in decimal (what `format!("{prefix}{n}")` writes, without its machinery:
/// this runs for every generated id).
fn numbered(prefix: &str, n: u64) -> String {
    let mut out = String::new();
    write_numbered(&mut out, prefix, n);
    out
}

/// [`numbered`] written into `out` (emptied first): a refilled event keeps the buffer.
fn write_numbered(out: &mut String, prefix: &str, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.clear();
    out.reserve(prefix.len() + digits.len() - i);
    out.push_str(prefix);
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Sets `slot` to what [`gen_node`] makes of `node`, with the same draws. A generated string
/// is written into the string `slot` holds already, if it holds one: refilling a recycled
/// event (see [`Plan::recycle`]) then allocates and frees nothing for its `$seq`, `$key` and
/// `$choice` texts.
fn gen_into(node: &Node, slot: &mut Value, rng: &mut Stream, seq: u64, trigger: Option<&Value>) {
    if let Value::String(buf) = slot {
        match node {
            Node::Gen(Generator::Seq(prefix)) => {
                write_numbered(buf, prefix, seq);
                return;
            }
            Node::Gen(Generator::Key {
                prefix: Some(p),
                cdf,
            }) => {
                let k = pick(cdf, rng.open01()) + 1;
                write_numbered(buf, p, k as u64);
                return;
            }
            Node::Gen(Generator::Choice { values, cdf }) => {
                match &values[pick(cdf, rng.open01())] {
                    Value::String(s) => {
                        buf.clear();
                        buf.push_str(s);
                    }
                    other => *slot = other.clone(),
                }
                return;
            }
            _ => {}
        }
    }
    *slot = gen_node(node, rng, seq, trigger);
}

fn gen_node(node: &Node, rng: &mut Stream, seq: u64, trigger: Option<&Value>) -> Value {
    match node {
        Node::Literal(v) => v.clone(),
        Node::Object(fields) => gen_object(fields, 0, rng, seq, trigger),
        Node::Array(items) => Value::Array(
            items
                .iter()
                .map(|n| gen_node(n, rng, seq, trigger))
                .collect(),
        ),
        Node::Gen(g) => match g {
            Generator::Seq(prefix) => Value::String(numbered(prefix, seq)),
            Generator::Key { prefix, cdf } => {
                let k = pick(cdf, rng.open01()) + 1;
                match prefix {
                    Some(p) => Value::String(numbered(p, k as u64)),
                    None => Value::from(k as u64),
                }
            }
            Generator::Uniform(a, b) => float(rng.uniform(*a, *b)),
            Generator::Int(a, b) => Value::from(rng.int_inclusive(*a, *b)),
            Generator::Normal(m, s) => float(rng.normal(*m, *s)),
            Generator::Lognormal(m, s) => float(rng.lognormal(*m, *s)),
            Generator::Exponential(m) => float(rng.exponential(*m)),
            Generator::Choice { values, cdf } => values[pick(cdf, rng.open01())].clone(),
            Generator::Bool(p) => Value::Bool(rng.chance(*p)),
            Generator::From(path) => trigger
                .and_then(|t| lookup(t, path))
                .cloned()
                .unwrap_or(Value::Null),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::envelope::{Stamp, TimeText};
    use serde_json::json;

    /// The envelope stamp of event `event_no` at `now` under seed 3, as the tests use it.
    fn stamp_at(event_no: u64, now: u64, times: &mut TimeText) -> Stamp<'_> {
        Stamp {
            seed: 3,
            event_no,
            now,
            times,
        }
    }

    #[test]
    fn numbered_ids_are_the_prefix_and_the_decimal_number() {
        for n in [0, 7, 10, 99, 100, 123_456_789, u64::MAX] {
            assert_eq!(numbered("ORD-", n), format!("ORD-{n}"));
        }
        assert_eq!(numbered("", 42), "42");
    }

    #[test]
    fn the_contract_example_compiles_and_generates() {
        let t = Template::compile(
            &json!({ "source": "com.shop.orders", "detail-type": "OrderPlaced",
                "detail": { "orderId": { "$seq": "ORD-" },
                    "customerId": { "$key": { "count": 1000, "skew": 1.1, "prefix": "C-" } },
                    "totalAmount": { "$lognormal": { "mean": 120, "stddev": 300 } },
                    "currency": { "$choice": { "USD": 0.7, "EUR": 0.2, "GBP": 0.1 } },
                    "channel": "web" } }),
            false,
        )
        .unwrap();
        assert!(!t.is_static);
        let mut rng = Stream::new(1, "p", "event");
        let e = t.generate(&mut rng, 7, None);
        assert_eq!(e["detail"]["orderId"], "ORD-7");
        assert_eq!(e["detail"]["channel"], "web");
        assert!(
            e["detail"]["customerId"]
                .as_str()
                .unwrap()
                .starts_with("C-")
        );
        assert!(e["detail"]["totalAmount"].as_f64().unwrap() > 0.0);
        assert!(["USD", "EUR", "GBP"].contains(&e["detail"]["currency"].as_str().unwrap()));
    }

    /// The part of a whole value that `reads` names (the test's own projection).
    fn restrict(v: &Value, reads: &Fields) -> Value {
        match v {
            Value::Object(o) if !reads.all => Value::Object(
                o.iter()
                    .filter_map(|(k, x)| reads.child(k).map(|r| (k.clone(), restrict(x, r))))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    #[test]
    fn events_built_with_the_fields_read_are_the_whole_events_cut_down() {
        let t = Template::compile(
            &json!({ "source": "shop", "detail": {
                "orderId": { "$seq": "ORD-" },
                "customerId": { "$key": { "count": 50, "skew": 1.1, "prefix": "C-" } },
                "total": { "$lognormal": { "mean": 120, "stddev": 300 } },
                "n": { "$normal": { "mean": 3, "stddev": 1 } },
                "u": { "$uniform": [0, 1] }, "i": { "$int": [1, 6] },
                "e": { "$exponential": { "mean": 2 } }, "ok": { "$bool": 0.3 },
                "currency": { "$choice": { "USD": 0.7, "EUR": 0.3 } },
                "items": [ { "sku": { "$key": { "count": 9 } } } ],
                "meta": { "channel": "web", "tier": "gold" } } }),
            false,
        )
        .unwrap();
        let mut reads = Fields::default();
        for path in [
            &["detail", "currency"][..],
            &["detail", "meta", "tier"],
            &["detail", "items", "sku"],
            &["source"],
        ] {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            reads.children_add(&path);
        }
        let mut full = Stream::new(9, "p", "event");
        let mut part = Stream::new(9, "p", "event");
        for seq in 1..200 {
            let whole = t.generate(&mut full, seq, None);
            let cut = t.generate_reading(&mut part, seq, None, &reads);
            assert_eq!(cut, restrict(&whole, &reads), "event {seq}");
            // Off-path generators drew the same numbers: the streams stay in step.
            assert_eq!(
                full.clone().next_u64(),
                part.clone().next_u64(),
                "event {seq}"
            );
        }
    }

    #[test]
    fn planned_events_are_the_generated_events_with_their_envelope_field_for_field() {
        use crate::sim::envelope::fill_envelope;
        let templates = [
            json!({ "source": "shop", "detail": {
                "orderId": { "$seq": "ORD-" }, "total": { "$uniform": [0, 9] },
                "meta": { "channel": "web", "tier": { "$choice": ["a", "b"] } } } }),
            // Envelope fields set by the template: `id` and `time` are the engine's, drawn
            // all the same; the others are kept where they are.
            json!({ "id": { "$int": [1, 9] }, "region": "eu-west-1",
                    "time": { "$uniform": [0, 1] },
                    "detail": { "x": { "$bool": 0.5 }, "id": { "$int": [1, 3] } },
                    "version": "7" }),
            json!({ "source": "static", "detail": { "a": 1, "b": [2] } }),
            json!({ "detail-type": "T", "extra": [ { "k": { "$key": { "count": 3 } } } ] }),
        ];
        let read = |paths: &[&[&str]]| {
            let mut f = Fields::default();
            for p in paths {
                let p: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
                f.children_add(&p);
            }
            f
        };
        let reads = [
            read(&[&["source"], &["detail", "meta", "tier"]]),
            read(&[
                &["id"],
                &["time"],
                &["account"],
                &["detail", "x"],
                &["extra"],
            ]),
            read(&[&["version"], &["resources"], &["detail", "b"], &["region"]]),
            read(&[&[]]),
        ];
        for tpl in &templates {
            for r in &reads {
                let mut t = Template::compile(tpl, false).unwrap();
                t.prepare(Some(r));
                for pruned in [false, true] {
                    let reads = pruned.then_some(r);
                    let (mut a, mut b) = (Stream::new(4, "p", "e"), Stream::new(4, "p", "e"));
                    let (mut ta, mut tb) = (TimeText::default(), TimeText::default());
                    for seq in 1..50 {
                        let now = seq * 400_000_000;
                        let mut want = match reads {
                            Some(f) => t.generate_reading(&mut a, seq, None, f),
                            None => t.generate(&mut a, seq, None),
                        };
                        fill_envelope(&mut want, 3, seq + 10, now, &mut ta, reads);
                        let mut stamp = stamp_at(seq + 10, now, &mut tb);
                        let got = t.event(&mut b, seq, None, reads, &mut stamp);
                        // The text compares the order of the fields too.
                        assert_eq!(got.to_string(), want.to_string(), "{tpl} {r:?} {seq}");
                        assert_eq!(a.clone().next_u64(), b.clone().next_u64());
                    }
                }
            }
        }
    }

    /// When nothing read of an event is generated, every event is the one shared value, and
    /// its generators still draw what a built event draws.
    #[test]
    fn events_whose_read_parts_are_literal_are_one_shared_value() {
        let tpl = json!({ "source": "shop", "detail-type": "Order",
            "detail": { "kind": "k", "orderId": { "$seq": "O-" }, "n": { "$uniform": [0, 1] } },
            "extra": { "$normal": { "mean": 1, "stddev": 1 } } });
        let mut f = Fields::default();
        for p in [&["source"][..], &["detail", "kind"]] {
            let p: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
            f.children_add(&p);
        }
        let mut t = Template::compile(&tpl, false).unwrap();
        t.prepare(Some(&f));
        let (mut a, mut b) = (Stream::new(4, "p", "e"), Stream::new(4, "p", "e"));
        let mut times = TimeText::default();
        let mut first = None;
        for seq in 1..20 {
            let mut stamp = stamp_at(seq, seq * 1_000, &mut times);
            let got = t.event(&mut a, seq, None, Some(&f), &mut stamp);
            assert_eq!(
                got.to_string(),
                r#"{"source":"shop","detail":{"kind":"k"}}"#
            );
            let first = first.get_or_insert_with(|| Arc::clone(&got));
            assert!(Arc::ptr_eq(first, &got), "event {seq} is shared");
            let built = t.generate_reading(&mut b, seq, None, &f);
            assert_eq!(built.to_string(), got.to_string());
            assert_eq!(a.clone().next_u64(), b.clone().next_u64(), "event {seq}");
        }
        // Another template with the same constant event shares its value; one whose fields
        // come in another order does not.
        let mut seen = Vec::new();
        t.share_constants(&mut seen);
        let mut same = |tpl: Value| {
            let mut u = Template::compile(&tpl, false).unwrap();
            u.prepare(Some(&f));
            u.share_constants(&mut seen);
            let mut b = Stream::new(4, "p", "e");
            let mut stamp = stamp_at(1, 0, &mut times);
            let v = u.event(&mut b, 1, None, Some(&f), &mut stamp);
            first.as_ref().is_some_and(|f| Arc::ptr_eq(f, &v))
        };
        assert!(same(
            json!({ "source": "shop", "detail": { "kind": "k", "n": { "$bool": 0.5 } } })
        ));
        assert!(!same(
            json!({ "detail": { "kind": "k" }, "source": "shop" })
        ));
    }

    /// Events whose read parts are drawn from finite sets are built once per combination and
    /// shared, with the draws, and so the events, of events built one by one.
    #[test]
    fn events_of_finite_draws_are_built_once_each_and_shared() {
        let tpl = json!({ "source": "shop", "detail": {
            "orderId": { "$seq": "O-" },
            "customerId": { "$key": { "count": 5, "skew": 1.2, "prefix": "C-" } },
            "amount": { "$uniform": [0, 9] },
            "flags": { "vip": { "$bool": 0.3 }, "tier": { "$choice": ["a", "b", "c"] } } } });
        let mut f = Fields::default();
        for p in [
            &["source"][..],
            &["detail", "customerId"],
            &["detail", "flags", "vip"],
            &["detail", "flags", "tier"],
        ] {
            let p: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
            f.children_add(&p);
        }
        let mut t = Template::compile(&tpl, false).unwrap();
        t.prepare(Some(&f));
        assert_eq!(t.plans.as_ref().map(|p| p[1].count), Some(Some(5 * 2 * 3)));
        let (mut a, mut b) = (Stream::new(4, "p", "e"), Stream::new(4, "p", "e"));
        let mut times = TimeText::default();
        let mut seen: Vec<Arc<Value>> = Vec::new();
        for seq in 1..400 {
            let mut stamp = stamp_at(seq, seq * 1_000, &mut times);
            let got = t.event(&mut a, seq, None, Some(&f), &mut stamp);
            let built = t.generate_reading(&mut b, seq, None, &f);
            assert_eq!(got.to_string(), built.to_string(), "event {seq}");
            assert_eq!(a.clone().next_u64(), b.clone().next_u64(), "event {seq}");
            match seen.iter().find(|s| ***s == *got) {
                Some(s) => assert!(Arc::ptr_eq(s, &got), "event {seq} is the one built before"),
                None => seen.push(got),
            }
        }
        assert_eq!(seen.len(), 30, "every combination drawn in 400 events");
    }

    /// An event nothing holds any more is refilled for a later one: the events are the ones
    /// built afresh, and an event still held is never touched.
    #[test]
    fn recycled_events_are_the_events_built_afresh() {
        let tpl = json!({ "source": "shop", "detail": {
            "orderId": { "$seq": "O-" }, "n": { "$uniform": [0, 9] },
            "meta": { "c": "web", "k": { "$int": [1, 5] } } } });
        let (mut t, mut u) = (
            Template::compile(&tpl, false).unwrap(),
            Template::compile(&tpl, false).unwrap(),
        );
        t.prepare(None);
        u.prepare(None);
        let (mut a, mut b) = (Stream::new(4, "p", "e"), Stream::new(4, "p", "e"));
        let (mut ta, mut tb) = (TimeText::default(), TimeText::default());
        let mut held = Vec::new();
        let mut kept = None;
        let mut first_at = None;
        let mut reused = 0;
        for seq in 1..(3 * RECYCLED as u64) {
            let now = seq * 700_000_000;
            let mut sa = stamp_at(seq, now, &mut ta);
            let got = t.event(&mut a, seq, None, None, &mut sa);
            let mut sb = stamp_at(seq, now, &mut tb);
            let fresh = u.event(&mut b, seq, None, None, &mut sb);
            assert_eq!(got.to_string(), fresh.to_string(), "event {seq}");
            assert_eq!(a.clone().next_u64(), b.clone().next_u64(), "event {seq}");
            if seq == 5 {
                kept = Some((Arc::clone(&got), got.to_string()));
            }
            // Events 1.. are dropped as soon as they are compared (but the kept one): from
            // event RECYCLED + 1 on, the ring's oldest is refilled where it is.
            match first_at {
                None => first_at = Some(Arc::as_ptr(&got)),
                Some(p) if std::ptr::eq(p, Arc::as_ptr(&got)) => reused += 1,
                Some(_) => {}
            }
            // `u`'s events are all held, so it builds every one afresh.
            held.push(fresh);
        }
        let (kept, text) = kept.unwrap();
        assert_eq!(kept.to_string(), text, "a held event is left as it was");
        assert_eq!(
            reused, 2,
            "event 1's map is refilled for events 257 and 513"
        );
        // `u` holds every event it built: none is refilled, each is its own.
        assert!(held.iter().all(|e| Arc::strong_count(e) <= 2));
        let distinct: std::collections::HashSet<_> = held.iter().map(Arc::as_ptr).collect();
        assert_eq!(distinct.len(), held.len());
    }

    #[test]
    fn lookups_find_fields_in_small_and_large_objects() {
        let mut big = Map::new();
        for i in 0..40 {
            big.insert(format!("k{i}"), json!(i));
        }
        let v = json!({ "a": 1, "detail": { "x": { "y": "z" }, "big": big } });
        let path = |p: &str| p.split('.').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(lookup(&v, &path("detail.x.y")), Some(&json!("z")));
        assert_eq!(lookup(&v, &path("a")), Some(&json!(1)));
        assert_eq!(lookup(&v, &path("detail.big.k37")), Some(&json!(37)));
        assert_eq!(lookup(&v, &path("detail.big.k40")), None);
        assert_eq!(lookup(&v, &path("detail.y")), None);
        assert_eq!(lookup(&v, &path("a.b")), None);
    }

    #[test]
    fn zipf_keys_are_skewed_and_choice_follows_weights() {
        let t = Template::compile(
            &json!({ "k": { "$key": { "count": 100, "skew": 1.2 } } }),
            false,
        )
        .unwrap();
        let mut rng = Stream::new(3, "p", "event");
        let n = 100_000;
        let ones = (0..n)
            .filter(|i| t.generate(&mut rng, *i, None)["k"] == 1)
            .count();
        // P(k = 1) = 1 / H(100, 1.2) ≈ 0.2128 for Zipf(1.2) over 100 keys.
        let h: f64 = (1..=100).map(|k| f64::from(k).powf(-1.2)).sum();
        let p = ones as f64 / f64::from(n as u32);
        assert!((p - 1.0 / h).abs() < 0.01, "{p} vs {}", 1.0 / h);

        let t =
            Template::compile(&json!({ "c": { "$choice": { "a": 3, "b": 1 } } }), false).unwrap();
        let a = (0..n)
            .filter(|i| t.generate(&mut rng, *i, None)["c"] == "a")
            .count();
        assert!((a as f64 / f64::from(n as u32) - 0.75).abs() < 0.01);
    }

    #[test]
    fn from_copies_the_trigger_only_in_emits() {
        let tpl = json!({ "detail": { "orderId": { "$from": "detail.orderId" } } });
        assert!(Template::compile(&tpl, false).is_err());
        let t = Template::compile(&tpl, true).unwrap();
        let mut rng = Stream::new(1, "c", "emit");
        let out = t.generate(
            &mut rng,
            1,
            Some(&json!({ "detail": { "orderId": "ORD-9" } })),
        );
        assert_eq!(out["detail"]["orderId"], "ORD-9");
    }

    #[test]
    fn bad_generators_are_located() {
        let errs = Template::compile(
            &json!({ "detail": { "a": { "$lognormal": { "mean": 1 } }, "b": { "$chioce": ["x"] }, "c": { "$int": [5, 1] } } }),
            false,
        )
        .unwrap_err();
        let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["detail.a.$lognormal", "detail.b.$chioce", "detail.c.$int"]
        );
        assert!(errs[1].1.contains("did you mean `choice`"));
    }
}
