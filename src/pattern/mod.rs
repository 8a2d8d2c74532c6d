//! The `EventBridge` event-pattern language and target input transformers.
//!
//! A rule's `pattern` is parsed and validated once ([`Pattern::parse`]), reporting every problem
//! with its JSON path inside the pattern, then compiled into a form that matches events without
//! allocating ([`Pattern::matches`]). A bus holds many rules: [`RuleMatcher`] compiles them
//! together, indexes them by their most selective exact values and evaluates each distinct
//! condition once per event for all rules, so matching one event costs what the event and the
//! rules it (nearly) matches require, not what the number of rules does (the approach of
//! aws/event-ruler).
//!
//! Semantics follow `EventBridge` and aws/event-ruler exactly, as written down in
//! `reference/event-patterns.md`: typed exact values (numbers equal by value), `prefix`,
//! `suffix`, `equals-ignore-case`, `wildcard`, every `anything-but` form, `numeric`, `exists`
//! (leaf semantics), `cidr`, `$or` at any level, and array-consistent matching of arrays of
//! objects (the fields of one pattern object must be satisfied within one array element).
//!
//! Module layout:
//! - `parse`: pattern JSON → validated syntax tree, collecting all errors.
//! - `matcher`: the operators and the evaluation of compiled patterns against events.
//! - `explain`: the per-field explanation shown by `eventflow pattern test` and the GUI tester.
//! - `template`: the static "could this producer template ever match?" check.
//! - `index`: [`RuleMatcher`], many patterns indexed together, sharing conditions.
//! - `transform`: [`Transform`], `EventBridge` `InputPath` / `InputTransformer`.
//! - `sns`: [`FilterPolicy`], Amazon SNS subscription filter policies (their own language:
//!   limits, typed message attributes and `exists` rules that differ from patterns).

mod explain;
mod index;
mod matcher;
mod parse;
pub mod sns;
mod template;
mod transform;

use std::fmt;

use serde_json::Value;

pub use index::{MatchScratch, RuleMatcher};
pub use sns::{FilterPolicy, FilterScope};
pub use transform::{InputPath, InputTransformer, Transform};

/// Largest number of `$or` alternatives one pattern may expand to. `$or` groups multiply
/// (two groups of 3 branches give 9 alternatives); past this a pattern is rejected rather than
/// letting one rule slow every event down, as event-ruler does with its complexity limit.
pub const MAX_ALTERNATIVES: usize = 1024;

/// A problem in a pattern or a transform: where it is (a JSON path inside the pattern, such as
/// `detail.state[1]` or `detail.$or[0].x`; empty for the pattern as a whole) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// Path inside the pattern (or transform) object; empty when the whole value is at fault.
    pub path: String,
    /// What is wrong, phrased so the user can fix it.
    pub message: String,
}

impl PatternError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        PatternError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for PatternError {}

/// A parsed, validated and compiled `EventBridge` event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written (with `$or` kept in place), for explanations and template checks.
    ast: parse::ObjAst,
    /// The pattern with every `$or` multiplied out: the event matches when any alternative does.
    /// Expanding first is what makes array-consistent matching right across `$or` branches:
    /// fields that meet in the same object after expansion must match in the same array element.
    alts: Vec<matcher::Node>,
}

/// How one field of a pattern fared against an event (for the pattern tester).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldExplanation {
    /// Path of the field inside the pattern, e.g. `detail.amount` or `detail.$or[1].state`.
    pub path: String,
    /// Whether the event satisfies this field on its own.
    pub matched: bool,
    /// Human-readable reason, e.g. `detail.amount = 12 is not >= 1000`.
    pub reason: String,
}

impl Pattern {
    /// Parses and validates an event pattern. On failure returns every error found, each with
    /// its path inside the pattern.
    pub fn parse(pattern: &Value) -> Result<Pattern, Vec<PatternError>> {
        let mut errors = Vec::new();
        let ast = parse::parse_root(pattern, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let alts = matcher::expand(&ast).map_err(|e| vec![e])?;
        Ok(Pattern { ast, alts })
    }

    /// Whether the event matches. Allocation-free.
    #[must_use]
    pub fn matches(&self, event: &Value) -> bool {
        self.alts
            .iter()
            .any(|node| matcher::node_matches(node, Some(event)))
    }

    /// One entry per leaf of the pattern (in pattern order), saying whether the event satisfies
    /// it and why. When every field matches on its own but the pattern as a whole does not
    /// (the fields are satisfied in different elements of an array), a final entry says so.
    #[must_use]
    pub fn explain(&self, event: &Value) -> Vec<FieldExplanation> {
        explain::explain(self, event)
    }

    /// Static check used by `eventflow check` lints: could an event built from this producer
    /// template ever match?
    ///
    /// In a template, any JSON object with exactly one key starting with `$` is a generator whose
    /// value is unknown (it may match anything), except `$choice`, whose possible values are its
    /// keys (strings), and `$bool` (true or false). Fields the engine fills (`id`, `time`,
    /// `account`, `region`, `version`, `resources`) are unknown too. Conservative: returns true
    /// when unsure.
    #[must_use]
    pub fn may_match_template(&self, template: &Value) -> bool {
        template::may_match(self, template)
    }

    /// Number of alternatives after multiplying out `$or` (1 for a pattern without `$or`).
    #[must_use]
    pub fn alternatives(&self) -> usize {
        self.alts.len()
    }
}
