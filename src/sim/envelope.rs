//! What the engine writes into and reads from event payloads: the `EventBridge` envelope fields
//! it owns (`id`, `time`, defaults for the others), and stable hashes of payload values (FIFO
//! group keys, stream partition keys, order keys, content-based deduplication ids).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::Value;

use super::clock::Nanos;
use super::reads::Fields;
use super::rng::{mix64, stable_hash};
use crate::model::defaults::{
    ENVELOPE_ACCOUNT, ENVELOPE_DETAIL_TYPE, ENVELOPE_REGION, ENVELOPE_SOURCE, ENVELOPE_VERSION,
};

/// A dotted payload path (`detail.orderId`) as its segments.
pub(crate) fn path_of(p: &str) -> Vec<String> {
    p.split('.').map(str::to_owned).collect()
}

/// A hash of a payload value that is the same on every machine.
pub(crate) fn hash_value(v: &Value) -> u64 {
    match v {
        Value::String(s) => stable_hash(s.as_bytes()),
        Value::Number(n) => n.as_f64().map_or(0, |x| mix64(x.to_bits())),
        Value::Bool(b) => mix64(u64::from(*b) + 7),
        Value::Null => 0x9e37,
        // The hash of its JSON text, fed to the hash as it is written: no text is built.
        other => {
            let mut h = Fnv(FNV_OFFSET);
            match serde_json::to_writer(&mut h, other) {
                Ok(()) => h.0,
                Err(_) => stable_hash(other.to_string().as_bytes()),
            }
        }
    }
}

/// The deduplication id SQS derives for content-based deduplication: a hash of the whole body
/// (SQS uses its SHA-256), the same on every machine. Equal bodies hash equal, and bodies that
/// differ differ in their hash but for a 64-bit collision; only that equality is used (the
/// value never reaches a result), so the hash walks the value's structure instead of its JSON
/// text, a word at a time: the text's serializer was a fifth of a FIFO scenario's run.
pub(crate) fn content_hash(v: &Value) -> u64 {
    let mut h = Content(FNV_OFFSET);
    h.value(v);
    mix64(h.0)
}

/// [`content_hash`]'s state: each step a bijection of the state given the word, so two values
/// whose words differ in one place always end apart.
struct Content(u64);

impl Content {
    #[inline]
    fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }

    /// Its length, then its bytes eight at a time (the last word zero-padded).
    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        let mut words = b.chunks_exact(8);
        for w in &mut words {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            self.word(u64::from_le_bytes(a));
        }
        if !words.remainder().is_empty() {
            self.word(tail_word(b));
        }
    }
}

/// The last `b.len() % 8` bytes of `b` (one to seven) as a little-endian word, zero-padded:
/// read in fixed-size loads, since a copy of a variable length was a `memcpy` call per string
/// and key, most of them shorter than a word.
#[inline]
fn tail_word(b: &[u8]) -> u64 {
    let n = b.len();
    let r = n % 8;
    let word = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    let half = |i: usize| {
        let mut a = [0u8; 4];
        a.copy_from_slice(&b[i..i + 4]);
        u64::from(u32::from_le_bytes(a))
    };
    if n >= 8 {
        // The word that ends the bytes, its leading bytes (the last full word's) shifted out.
        word(n - 8) >> (8 * (8 - r))
    } else if r >= 4 {
        // Two halves that overlap where r < 8: the overlap holds the same bytes in both.
        half(0) | (half(r - 4) << (8 * (r - 4)))
    } else {
        // One to three bytes: the first, the middle and the last (some of them the same).
        u64::from(b[0])
            | (u64::from(b[r / 2]) << (8 * (r / 2)))
            | (u64::from(b[r - 1]) << (8 * (r - 1)))
    }
}

impl Content {
    /// A type tag, then the value: lengths make the walk unambiguous, and a number keeps its
    /// kind (`1` and `1.0` are different texts).
    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.word(1),
            Value::Bool(b) => self.word(2 + u64::from(*b)),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    self.word(4);
                    self.word(u);
                } else if let Some(i) = n.as_i64() {
                    self.word(5);
                    self.word(i.cast_unsigned());
                } else {
                    self.word(6);
                    self.word(n.as_f64().map_or(0, f64::to_bits));
                }
            }
            Value::String(s) => {
                self.word(7);
                self.bytes(s.as_bytes());
            }
            Value::Array(a) => {
                self.word(8);
                self.word(a.len() as u64);
                a.iter().for_each(|x| self.value(x));
            }
            Value::Object(o) => {
                self.word(9);
                self.word(o.len() as u64);
                for (k, x) in o {
                    self.bytes(k.as_bytes());
                    self.value(x);
                }
            }
        }
    }
}

/// A table keyed by one of the hashes here (a group key's, a deduplication id's): the key is a
/// hash already, so the table only spreads it ([`mix64`]) instead of hashing it again with
/// `SipHash`.
pub(crate) type HashKeyed<V> = HashMap<u64, V, BuildHasherDefault<SpreadHasher>>;

/// [`HashKeyed`]'s hasher: a `u64` key, spread.
#[derive(Default)]
pub(crate) struct SpreadHasher(u64);

impl Hasher for SpreadHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix64(self.0 ^ u64::from(*b));
        }
    }

    fn write_u64(&mut self, k: u64) {
        self.0 = mix64(self.0 ^ k);
    }
}

/// [`stable_hash`]'s starting state (FNV-1a's offset basis).
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// [`stable_hash`] as a writer: the bytes written so far, hashed.
struct Fnv(u64);

impl std::io::Write for Fnv {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Deterministic EventBridge-like id (UUID-shaped) from the seed and the event number.
pub(crate) fn event_id(seed: u64, n: u64) -> String {
    let mut out = String::with_capacity(36);
    write_event_id(&mut out, seed, n);
    out
}

/// [`event_id`] written into `out` (emptied first): a recycled event's `id` keeps its buffer.
pub(crate) fn write_event_id(out: &mut String, seed: u64, n: u64) {
    let a = mix64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let b = mix64(a ^ n);
    // Written digit by digit: this runs once per event, and `format!` was a tenth of an
    // emitting scenario's run.
    out.clear();
    hex(out, u64::from((a >> 32) as u32), 8);
    out.push('-');
    hex(out, u64::from((a >> 16) as u16), 4);
    out.push_str("-4");
    hex(out, u64::from(a as u16 & 0x0fff), 3);
    out.push('-');
    hex(out, u64::from(((b >> 48) as u16 & 0x3fff) | 0x8000), 4);
    out.push('-');
    hex(out, b & 0xffff_ffff_ffff, 12);
}

/// Appends the low `digits` hex digits of `v`, zero-padded, lower case.
fn hex(out: &mut String, v: u64, digits: u32) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        out.push(char::from(DIGITS[((v >> (4 * i)) & 0xf) as usize]));
    }
}

/// ISO-8601 time of a simulated instant (simulations start at 2026-01-01T00:00:00Z).
pub(crate) fn event_time(t: Nanos) -> String {
    let secs = t / 1_000_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 2026-01-01 (Howard Hinnant's algorithm, from 1970).
    let z = days as i64 + 20_454 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The last event time written, by the second: events in the same second share its text.
#[derive(Default)]
pub(crate) struct TimeText {
    second: Option<u64>,
    text: String,
}

impl TimeText {
    /// The ISO-8601 text of `t` ([`event_time`]), formatted once per simulated second.
    pub(crate) fn at(&mut self, t: Nanos) -> String {
        self.text_at(t).to_owned()
    }

    /// [`TimeText::at`], borrowed (for a recycled event's `time`, which keeps its buffer).
    pub(crate) fn text_at(&mut self, t: Nanos) -> &str {
        let second = t / 1_000_000_000;
        if self.second != Some(second) {
            self.second = Some(second);
            self.text = event_time(t);
        }
        &self.text
    }
}

/// The envelope fields, in the order [`fill_envelope`] adds those an event lacks, each with
/// its default (`None`: the engine's own, set on every event: `id` and `time`).
pub(crate) const ENVELOPE: [(&str, Option<Fallback>); 9] = [
    ("version", Some(Fallback::Text(ENVELOPE_VERSION))),
    ("id", None),
    ("detail-type", Some(Fallback::Text(ENVELOPE_DETAIL_TYPE))),
    ("source", Some(Fallback::Text(ENVELOPE_SOURCE))),
    ("account", Some(Fallback::Text(ENVELOPE_ACCOUNT))),
    ("time", None),
    ("region", Some(Fallback::Text(ENVELOPE_REGION))),
    ("resources", Some(Fallback::EmptyArray)),
    ("detail", Some(Fallback::EmptyObject)),
];

/// An envelope field's default value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fallback {
    Text(&'static str),
    EmptyArray,
    EmptyObject,
}

impl Fallback {
    pub(crate) fn value(self) -> Value {
        match self {
            Fallback::Text(t) => Value::String(t.to_owned()),
            Fallback::EmptyArray => Value::Array(Vec::new()),
            Fallback::EmptyObject => Value::Object(serde_json::Map::new()),
        }
    }
}

/// What stamps one event's envelope: the seed and event number (its `id`), the instant (its
/// `time`) and the cached time text.
pub(crate) struct Stamp<'a> {
    pub(crate) seed: u64,
    pub(crate) event_no: u64,
    pub(crate) now: Nanos,
    pub(crate) times: &'a mut TimeText,
}

/// Fills the envelope fields the engine owns, as `EventBridge` would: all of them, or those
/// `reads` names (see `sim::reads`; `None` is the whole event).
pub(crate) fn fill_envelope(
    v: &mut Value,
    seed: u64,
    event_no: u64,
    now: Nanos,
    times: &mut TimeText,
    reads: Option<&Fields>,
) {
    let Some(o) = v.as_object_mut() else {
        return;
    };
    let text = |s: &str| Value::String(s.into());
    or_insert(o, reads, "version", || text(ENVELOPE_VERSION));
    if wanted(reads, "id") {
        o.insert("id".into(), Value::String(event_id(seed, event_no)));
    }
    or_insert(o, reads, "detail-type", || text(ENVELOPE_DETAIL_TYPE));
    or_insert(o, reads, "source", || text(ENVELOPE_SOURCE));
    or_insert(o, reads, "account", || text(ENVELOPE_ACCOUNT));
    if wanted(reads, "time") {
        o.insert("time".into(), Value::String(times.at(now)));
    }
    or_insert(o, reads, "region", || text(ENVELOPE_REGION));
    or_insert(o, reads, "resources", || Value::Array(Vec::new()));
    or_insert(o, reads, "detail", || Value::Object(serde_json::Map::new()));
}

/// Is envelope field `k` read?
pub(crate) fn wanted(reads: Option<&Fields>, k: &str) -> bool {
    reads.is_none_or(|r| r.all || r.child(k).is_some())
}

/// Sets `k` to `make()` where the event does not set it and something reads it.
fn or_insert(
    o: &mut serde_json::Map<String, Value>,
    reads: Option<&Fields>,
    k: &str,
    make: impl FnOnce() -> Value,
) {
    // Looked up first: `entry` would allocate the key's text even where the event has it.
    if wanted(reads, k) && !o.contains_key(k) {
        o.insert(k.to_owned(), make());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structured_value_hashes_as_its_json_text() {
        let v = serde_json::json!({ "a": [1, 2.5, "x"], "b": { "c": null, "d": true } });
        assert_eq!(hash_value(&v), stable_hash(v.to_string().as_bytes()));
        let a = serde_json::json!(["é", { "k": -3 }]);
        assert_eq!(hash_value(&a), stable_hash(a.to_string().as_bytes()));
    }

    #[test]
    fn a_tail_word_is_the_zero_padded_copy_of_the_last_bytes() {
        let bytes: Vec<u8> = (0..40u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(0x81))
            .collect();
        for start in 0..8 {
            for n in 1..=32 {
                let b = &bytes[start..start + n];
                let r = n % 8;
                if r == 0 {
                    continue;
                }
                let mut a = [0u8; 8];
                a[..r].copy_from_slice(&b[n - r..]);
                assert_eq!(
                    tail_word(b),
                    u64::from_le_bytes(a),
                    "{n} bytes from {start}"
                );
            }
        }
    }

    #[test]
    fn content_hashes_are_equal_for_equal_bodies_and_apart_for_different_ones() {
        use serde_json::json;
        let body = json!({ "id": "a-1", "detail": { "n": 1, "x": [1.5, null, true, "é"] } });
        assert_eq!(content_hash(&body), content_hash(&body.clone()));
        // Each of these differs from `body` (or from the one before) in one place: the text of
        // each is different, and so is the hash.
        let others = [
            json!({ "id": "a-2", "detail": { "n": 1, "x": [1.5, null, true, "é"] } }),
            json!({ "id": "a-1", "detail": { "n": 1.0, "x": [1.5, null, true, "é"] } }),
            json!({ "id": "a-1", "detail": { "n": -1, "x": [1.5, null, true, "é"] } }),
            json!({ "id": "a-1", "detail": { "n": 1, "x": [1.5, null, false, "é"] } }),
            json!({ "id": "a-1", "detail": { "n": 1, "x": [1.5, true, "é"] } }),
            json!({ "detail": { "n": 1, "x": [1.5, null, true, "é"] }, "id": "a-1" }),
            json!({ "id": "a-1", "detail": { "n": 1, "x": [[1.5], null, true, "é"] } }),
            json!({ "id": "a-1", "detail": { "n": 1, "x": [1.5, null, true, "é\u{0}"] } }),
            json!(["a", "b"]),
            json!(["ab"]),
            json!([["a"], "b"]),
            json!("a-1"),
        ];
        let mut seen = vec![content_hash(&body)];
        for o in &others {
            let h = content_hash(o);
            assert!(!seen.contains(&h), "{o}");
            seen.push(h);
        }
        // Many ids that differ in a character or two stay apart.
        let mut ids: Vec<u64> = (0..100_000u64)
            .map(|n| content_hash(&json!({ "id": event_id(5, n), "n": n % 7 })))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 100_000);
    }

    #[test]
    fn event_times_are_civil_dates() {
        assert_eq!(event_time(0), "2026-01-01T00:00:00Z");
        assert_eq!(
            event_time(86_400_000_000_000 * 59 + 3_661_000_000_000),
            "2026-03-01T01:01:01Z"
        );
        assert_eq!(event_time(86_400_000_000_000 * 365), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn event_ids_are_uuid_shaped_and_deterministic() {
        let a = event_id(1, 5);
        assert_eq!(a.len(), 36);
        assert_eq!(a, event_id(1, 5));
        assert_ne!(a, event_id(1, 6));
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn event_ids_are_the_hex_of_the_mixed_event_number() {
        for (seed, n) in [(1, 5), (0, 0), (u64::MAX, 123_456_789), (42, u64::MAX)] {
            let a = mix64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let b = mix64(a ^ n);
            let want = format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                (a >> 32) as u32,
                (a >> 16) as u16,
                a as u16 & 0x0fff,
                ((b >> 48) as u16 & 0x3fff) | 0x8000,
                b & 0xffff_ffff_ffff
            );
            assert_eq!(event_id(seed, n), want);
        }
    }

    #[test]
    fn cached_times_change_with_the_second() {
        let mut t = TimeText::default();
        assert_eq!(t.at(0), "2026-01-01T00:00:00Z");
        assert_eq!(t.at(999_999_999), "2026-01-01T00:00:00Z");
        assert_eq!(t.at(1_000_000_000), "2026-01-01T00:00:01Z");
        assert_eq!(t.at(86_400_000_000_000), event_time(86_400_000_000_000));
    }
}
