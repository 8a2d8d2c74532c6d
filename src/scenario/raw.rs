//! The raw text before it is JSON: a byte-order mark, a bound on size, duplicate keys, and
//! where in the text a JSON path is ([`locate`]).
//!
//! `serde_json` keeps the last of two equal keys in an object without a word; a scenario with
//! `"rate"` written twice would run with whichever came last. [`duplicate_keys`] scans the
//! (already valid) JSON text once, tracking lines and JSON paths, and reports each duplicate with
//! the line of both occurrences.

use std::collections::BTreeMap;

use super::problem::Problem;

/// The largest scenario file read (a scenario with 10,000 components is about 2 MB).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// The text without a leading UTF-8 byte-order mark (editors on Windows write one).
#[must_use]
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Where the scanner is inside a container.
enum Frame {
    /// An object: keys seen (with their line), the key being read, and this object's path.
    Object {
        seen: BTreeMap<String, usize>,
        key: Option<String>,
        path: String,
    },
    /// An array: the next index and this array's path.
    Array { index: usize, path: String },
}

/// Every key that appears twice in one object of `text` (valid JSON), as errors at the key's
/// JSON path naming both lines.
#[must_use]
pub fn duplicate_keys(text: &str) -> Vec<Problem> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Is the next string an object key?
    let mut expect_key = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => line += 1,
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                let raw = text.get(start..=i.min(bytes.len() - 1)).unwrap_or("\"\"");
                if expect_key {
                    let key: String = serde_json::from_str(raw).unwrap_or_default();
                    if let Some(Frame::Object { seen, key: k, path }) = stack.last_mut() {
                        if let Some(first) = seen.get(&key) {
                            out.push(Problem::error(
                                join(path, &key),
                                format!(
                                    "duplicate key `{key}` (line {first} and line {line}); JSON keeps only the last, so remove one"
                                ),
                            ));
                        } else {
                            seen.insert(key.clone(), line);
                        }
                        *k = Some(key);
                    }
                    expect_key = false;
                }
            }
            b'{' | b'[' => {
                let path = child_path(&stack);
                stack.push(if b == b'{' {
                    expect_key = true;
                    Frame::Object {
                        seen: BTreeMap::new(),
                        key: None,
                        path,
                    }
                } else {
                    Frame::Array { index: 0, path }
                });
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { .. }) => expect_key = true,
                Some(Frame::Array { index, .. }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    out
}

/// The 1-based line and column (in characters) of each of `wanted`'s JSON paths found in
/// `text` (valid JSON): a field's is where its key starts, an array item's where it starts.
/// One pass over the text; only the wanted paths are kept.
#[must_use]
pub fn locate(
    text: &str,
    wanted: &std::collections::BTreeSet<String>,
) -> BTreeMap<String, (usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = BTreeMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let (mut line, mut line_start) = (1, 0);
    let mut expect_key = false;
    // Is the next value an array item (just after `[` or `,` in an array)?
    let mut expect_item = false;
    let mut i = 0;
    let column = |line_start: usize, at: usize| {
        text.get(line_start..at)
            .map_or(1, |s| s.chars().count() + 1)
    };
    while i < bytes.len() && found.len() < wanted.len() {
        let b = bytes[i];
        if expect_item && !b.is_ascii_whitespace() && b != b']' {
            expect_item = false;
            let path = child_path(&stack);
            if wanted.contains(&path) {
                found.entry(path).or_insert((line, column(line_start, i)));
            }
        }
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if expect_key {
                    let raw = text.get(start..=i.min(bytes.len() - 1)).unwrap_or("\"\"");
                    let key: String = serde_json::from_str(raw).unwrap_or_default();
                    if let Some(Frame::Object { key: k, path, .. }) = stack.last_mut() {
                        let at = join(path, &key);
                        if wanted.contains(&at) {
                            found.entry(at).or_insert((line, column(line_start, start)));
                        }
                        *k = Some(key);
                    }
                    expect_key = false;
                }
            }
            b'{' | b'[' => {
                let path = child_path(&stack);
                stack.push(if b == b'{' {
                    expect_key = true;
                    Frame::Object {
                        seen: BTreeMap::new(),
                        key: None,
                        path,
                    }
                } else {
                    expect_item = true;
                    Frame::Array { index: 0, path }
                });
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                expect_item = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { .. }) => expect_key = true,
                Some(Frame::Array { index, .. }) => {
                    *index += 1;
                    expect_item = true;
                }
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    found
}

/// The JSON path of a value starting at the current position.
fn child_path(stack: &[Frame]) -> String {
    match stack.last() {
        None => String::new(),
        Some(Frame::Object { key, path, .. }) => join(path, key.as_deref().unwrap_or("")),
        Some(Frame::Array { index, path }) => format!("{path}[{index}]"),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_name_both_lines_and_the_path() {
        let text = "{\n \"a\": 1,\n \"p\": [ {}, { \"rate\": 1,\n \"rate\": 2 } ],\n \"a\": 3 }";
        let p = duplicate_keys(text);
        let text: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(p.len(), 2, "{text:#?}");
        assert_eq!(p[0].path, "p[1].rate");
        assert!(text[0].contains("line 3 and line 4"), "{text:#?}");
        assert_eq!(p[1].path, "a");
        assert!(text[1].contains("line 2 and line 5"));
    }

    #[test]
    fn equal_keys_in_different_objects_and_strings_with_braces_are_fine() {
        let text = r#"{ "x": { "a": "{\"a\": 1, \"a\": 2}" }, "y": { "a": 1 }, "z": ["a", "a"] }"#;
        assert!(duplicate_keys(text).is_empty());
    }

    #[test]
    fn paths_are_located_by_line_and_column() {
        let text = "{ \"a\": 1,\n  \"p\": [ {}, { \"rate\": \"é\", \"to\": 2 },\n 7 ] }";
        let wanted: std::collections::BTreeSet<String> =
            ["a", "p", "p[1]", "p[1].to", "p[2]", "missing"]
                .map(String::from)
                .into();
        let at = locate(text, &wanted);
        assert_eq!(at.get("a"), Some(&(1, 3)));
        assert_eq!(at.get("p"), Some(&(2, 3)));
        assert_eq!(at.get("p[1]"), Some(&(2, 14)));
        assert_eq!(
            at.get("p[1].to"),
            Some(&(2, 29)),
            "columns count characters"
        );
        assert_eq!(at.get("p[2]"), Some(&(3, 2)));
        assert_eq!(at.get("missing"), None);
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(strip_bom("\u{feff}{}"), "{}");
        assert_eq!(strip_bom("{}"), "{}");
    }
}
