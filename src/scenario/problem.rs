//! What loading reports: a [`Problem`] per thing wrong (error or warning, located by JSON
//! path), the [`LoadError`] that carries them (or a syntax or I/O error with line:column), and
//! the [`Loaded`] scenario with its warnings.

use std::fmt;

use crate::model::Scenario;

/// How serious a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The scenario cannot run.
    Error,
    /// It runs, but probably not as meant.
    Warning,
}

/// One thing wrong with a scenario, located by JSON path.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// JSON path, e.g. `consumers[2].from` (empty for the whole file).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What would probably be right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Where in the file (1-based line), when known: errors of a loaded file say where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Where on that line (1-based column, in characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Problem {
    /// An error at `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            hint: None,
            line: None,
            column: None,
        }
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
            hint: None,
            line: None,
            column: None,
        }
    }

    /// With a hint.
    #[must_use]
    pub fn hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = shortened(&self.message);
        let sev = match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{sev}: {l}:{c}"),
            (Some(l), None) => format!("{sev}: {l}"),
            _ => sev.to_owned(),
        };
        if self.path.is_empty() {
            write!(f, "{sev}: {message}")?;
        } else {
            write!(f, "{sev}: {}: {message}", shortened(&self.path))?;
        }
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// The longest message or path shown whole; longer ones (a message quoting a 5,000-character
/// wildcard) are cut with a count, so a listing stays readable and bounded.
const MAX_SHOWN_CHARS: usize = 300;

fn shortened(text: &str) -> std::borrow::Cow<'_, str> {
    let n = text.chars().count();
    if n <= MAX_SHOWN_CHARS {
        return text.into();
    }
    let head: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    format!("{head}… ({n} characters)").into()
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error, in words.
        message: String,
    },
    /// The file is not valid JSON.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser found.
        message: String,
    },
    /// The JSON does not describe a valid scenario.
    #[error("{}", render_problems(file, problems))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem found (errors first).
        problems: Vec<Problem>,
    },
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let mut out = format!(
        "{file}: {errors} problem{}",
        if errors == 1 { "" } else { "s" }
    );
    for p in problems.iter().take(MAX_LISTED) {
        out.push_str(&format!("\n  {p}"));
    }
    if problems.len() > MAX_LISTED {
        out.push_str(&format!(
            "\n  … and {} more (fix these first; `eventflow check` lists the same)",
            problems.len() - MAX_LISTED
        ));
    }
    out
}

/// The most problems printed; the rest are counted.
pub const MAX_LISTED: usize = 100;

impl LoadError {
    /// The problems as a list (a syntax or I/O error is one problem at the root).
    #[must_use]
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            LoadError::Io { message, .. } => vec![Problem::error("", message.clone())],
            LoadError::Syntax {
                line,
                column,
                message,
                ..
            } => {
                vec![Problem::error(
                    "",
                    format!("line {line}, column {column}: {message}"),
                )]
            }
            LoadError::Invalid { problems, .. } => problems.clone(),
        }
    }
}

/// A scenario that loaded, with the warnings found on the way.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The scenario.
    pub scenario: Scenario,
    /// Lint warnings (the scenario runs, but may not do what its author meant).
    pub warnings: Vec<Problem>,
}
