//! Scenario files: loading with precise errors, migrating, validating, linting and saving.
//!
//! Loading reports every problem it can find at once: JSON syntax errors with file, line and
//! column; type and unknown-field errors with the JSON path (`consumers[2].from`) and a
//! "did you mean" hint; then the meaning of the scenario (references, ranges, patterns).
//! Saving writes pretty JSON in a stable key order to a temporary file and renames it over the
//! target, so a crash mid-save never loses the user's work.
//!
//! ```text
//!   file ─► load ─► parse (text → JSON, line:column) ─► migrate (format versions)
//!                     ─► typed read per section (JSON paths, hints) ─► validate ─► lint
//!                     ─► Loaded { scenario, warnings }        save ◄─ Scenario (GUI edits)
//! ```
//!
//! Files: `problem.rs` (what is reported), `parse.rs` (text and JSON to a typed scenario),
//! `migrate.rs` (format versions), `validate.rs` (a function per section), `lint.rs`
//! (warnings), `save.rs` (atomic writes). The graph questions all four ask go to
//! [`crate::model::topology`]; AWS's ranges come from [`crate::model::defaults`].

mod lint;
mod migrate;
mod parse;
mod problem;
mod save;
mod validate;

use std::path::Path;

pub use lint::lint;
pub use migrate::migrate;
pub use parse::{from_value, parse};
pub use problem::{LoadError, Loaded, Problem, Severity};
pub use save::{save, to_json};
pub use validate::validate;

/// The "did you mean" hint, kept here for callers that import it with the loader.
pub use crate::names::did_you_mean;

/// Reads, migrates and validates a scenario file.
///
/// # Errors
/// Every problem found, located by line:column (syntax) or JSON path (meaning).
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
        file: file.clone(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            std::io::ErrorKind::InvalidData => "not a UTF-8 text file".to_owned(),
            _ => e.to_string(),
        },
    })?;
    parse(&text, &file)
}
