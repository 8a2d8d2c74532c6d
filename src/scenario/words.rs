//! serde's messages in the user's words: "concurrency must be a whole number from 1 to 10,000,
//! got -3" instead of "invalid value: integer `-3`, expected u32".

use crate::model::defaults::count_range;

/// `1,000,000` for 1000000 (and `u64::MAX` as "any").
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What serde expected, in words, for the field called `field`.
fn expected_words(expected: &str, field: Option<&str>) -> String {
    let whole = |max: u64| match field.and_then(count_range) {
        Some((lo, hi)) if hi == u64::MAX => format!("a whole number ≥ {}", grouped(lo)),
        Some((lo, hi)) => format!("a whole number from {} to {}", grouped(lo), grouped(hi)),
        None if max == u64::MAX => "a whole number ≥ 0".to_owned(),
        None => format!("a whole number from 0 to {}", grouped(max)),
    };
    match expected {
        "u8" => whole(u64::from(u8::MAX)),
        "u16" => whole(u64::from(u16::MAX)),
        "u32" => whole(u64::from(u32::MAX)),
        "u64" | "usize" => whole(u64::MAX),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "an array [ … ]".to_owned(),
        "a map" => "an object { … }".to_owned(),
        "a string" => "a string".to_owned(),
        "an array of length 2" => "an array of two values, [x, y]".to_owned(),
        e if e.starts_with("struct ") => "an object { … }".to_owned(),
        e if e.starts_with("enum ") => "one of its allowed values".to_owned(),
        e => e.to_owned(),
    }
}

/// What serde found, in words: the value itself where it is short, else its JSON type.
fn found_words(found: &str) -> String {
    for prefix in ["integer `", "floating point `", "boolean `"] {
        if let Some(rest) = found.strip_prefix(prefix) {
            return rest.trim_end_matches('`').to_owned();
        }
    }
    if let Some(rest) = found.strip_prefix("string ") {
        let mut s: String = rest.chars().take(40).collect();
        if rest.chars().count() > 40 {
            s.push('…');
        }
        return s;
    }
    match found {
        "map" => "an object".to_owned(),
        "sequence" => "an array".to_owned(),
        "unit value" | "null" => "null".to_owned(),
        other => other.to_owned(),
    }
}

/// serde's `message` for the value of `field` (the last key of its path), in words. Messages
/// that are not type or value mismatches come back tidied but otherwise as they were.
#[must_use]
pub fn humanize(message: &str, field: Option<&str>) -> String {
    let m = message.replace("unknown variant", "unknown value");
    let m = match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m,
    };
    let body = m
        .strip_prefix("invalid type: ")
        .or_else(|| m.strip_prefix("invalid value: "));
    let Some(body) = body else {
        return m;
    };
    let Some((found, expected)) = body.split_once(", expected ") else {
        return m;
    };
    let subject = field.map_or_else(|| "the value".to_owned(), str::to_owned);
    format!(
        "{subject} must be {}, got {}",
        expected_words(expected, field),
        found_words(found)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_the_users_words() {
        assert_eq!(
            humanize(
                "invalid value: integer `-3`, expected u32",
                Some("concurrency")
            ),
            "concurrency must be a whole number from 1 to 10,000, got -3"
        );
        assert_eq!(
            humanize("invalid type: string \"abc\", expected u64", Some("seed")),
            "seed must be a whole number ≥ 0, got \"abc\""
        );
        assert_eq!(
            humanize("invalid type: string \"x\", expected f64", Some("rate")),
            "rate must be a number, got \"x\""
        );
        assert_eq!(
            humanize("invalid type: map, expected a string", Some("id")),
            "id must be a string, got an object"
        );
        assert_eq!(humanize("missing field `to`", None), "missing field `to`");
    }
}
