//! Scenario files: loading with precise errors, migrating, validating, linting and saving.
//!
//! Loading reports every problem it can find at once: JSON syntax errors with file, line and
//! column; then the raw JSON against the JSON Schema generated from the model types (types,
//! ranges, unknown and missing fields, each with its JSON path (`consumers[2].from`), its
//! line:column and a "did you mean" hint); then the meaning of the scenario (references,
//! combinations, patterns).
//! Saving writes pretty JSON in a stable key order to a temporary file and renames it over the
//! target, so a crash mid-save never loses the user's work.
//!
//! ```text
//!   file ─► load ─► parse (text → JSON, line:column) ─► migrate (format versions)
//!                     ─► schema pass (every problem, JSON paths, words, hints)
//!                     ─► typed read per section ─► validate (meaning) ─► lint
//!                     ─► Loaded { scenario, warnings }        save ◄─ Scenario (GUI edits)
//! ```
//!
//! Files: `problem.rs` (what is reported), `parse.rs` (text and JSON to a typed scenario),
//! `schema.rs` (the first pass: raw JSON against the generated schema), `raw.rs` (the text:
//! byte-order mark, duplicate keys, where a path is),
//! `migrate.rs` (format versions), `validate.rs` (a function per section), `lint.rs`
//! (warnings), `save.rs` (atomic writes). The graph questions all four ask go to
//! [`crate::model::topology`]; AWS's ranges come from [`crate::model::defaults`].

mod lint;
mod migrate;
mod parse;
mod problem;
mod raw;
mod save;
mod schema;
mod validate;
mod words;

use std::path::Path;

pub use lint::lint;
pub use migrate::{migrate, migrate_flagged};
pub use parse::{from_value, parse};
pub use problem::{LoadError, Loaded, Problem, Severity};
pub use raw::MAX_FILE_BYTES;
pub use save::{save, to_json};
pub use schema::check as check_schema;
pub use validate::validate;

/// The "did you mean" hint, kept here for callers that import it with the loader.
pub use crate::names::did_you_mean;

/// Reads, migrates and validates a scenario file.
///
/// # Errors
/// Every problem found, located by line:column (syntax) or JSON path (meaning).
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| LoadError::Io {
        file: file.clone(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            std::io::ErrorKind::InvalidData => "not a UTF-8 text file".to_owned(),
            std::io::ErrorKind::IsADirectory => "a directory, not a scenario file".to_owned(),
            _ => e.to_string(),
        },
    };
    let text = read_bounded(path, MAX_FILE_BYTES).map_err(io)?;
    parse(&text, &file)
}

/// Reads at most `limit` bytes of UTF-8 text (a device such as `/dev/zero` never ends, and its
/// metadata says nothing of its length).
///
/// # Errors
/// The file cannot be read, is a directory, is longer than `limit`, or is not UTF-8.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::ErrorKind::IsADirectory.into());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than {} MB; a scenario file is a few kilobytes to a few megabytes",
            limit / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|_| std::io::ErrorKind::InvalidData.into())
}
