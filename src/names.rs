//! Words for messages that every module may use: "did you mean" hints over names, the JSON
//! type of a value in words, counts with thousands separators and plurals (`1 rule`, `2 rules`).
//!
//! This module sits at the bottom of the dependency order (it imports nothing from the crate),
//! so the scenario loader, the pattern parser, the engine's template compiler and the analysis
//! all give hints the same way.

use serde_json::Value;

/// Levenshtein edit distance between two strings, by characters.
#[must_use]
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `Some("did you mean `x`?")` for the closest candidate within a sensible edit distance
/// (a third of the word's length, at least 2; case-insensitive; ties go to the smaller name).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.to_owned()))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// The JSON type of a value in words, for error messages ("a string", "an object", …).
#[must_use]
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `n` and a noun, singular for one: `1 handler`, `15 handlers`, `1,200 problems`, `2 buses`,
/// `0 state machines`. Nouns ending in a hiss (`bus`, `box`, `batch`) take `-es`.
#[must_use]
pub fn plural(n: usize, noun: &str) -> String {
    let n64 = u64::try_from(n).unwrap_or(u64::MAX);
    if n == 1 {
        format!("1 {noun}")
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| noun.ends_with(e))
    {
        format!("{} {noun}es", count(n64))
    } else {
        format!("{} {noun}s", count(n64))
    }
}

/// A count with thousands separators.
#[must_use]
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_basics() {
        assert_eq!(levenshtein("prefx", "prefix"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
        assert_eq!(levenshtein("µs", "us"), 1, "counts characters, not bytes");
    }

    #[test]
    fn hints_pick_the_closest_name_or_none() {
        let ids = ["orders-q", "orders-bus", "inventory"];
        assert_eq!(
            did_you_mean("order-q", ids).as_deref(),
            Some("did you mean `orders-q`?")
        );
        assert_eq!(
            did_you_mean("INVENTORY", ids).as_deref(),
            Some("did you mean `inventory`?")
        );
        assert_eq!(did_you_mean("payments", ids), None);
    }

    #[test]
    fn json_types_in_words() {
        assert_eq!(json_type(&serde_json::json!([1])), "an array");
        assert_eq!(json_type(&Value::Null), "null");
    }
}
