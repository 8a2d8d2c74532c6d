//! `eventflow pattern test`: try event patterns against events, as the `EventBridge` console's
//! "Test pattern" does.
//!
//! Two modes:
//! - no flags: JSON Lines on the input, `{"pattern": …, "event": …}` per line; one output line
//!   per non-blank input line, `{"match":true}`, `{"match":false}` or `{"error":"…"}` (an invalid
//!   pattern is an error naming the path and the reason, a malformed line names its line and
//!   column). Every line is answered (a batch keeps going), then the exit code is 0 when every
//!   line was answered with a match or no match, and 2 when any line was an error (a count goes
//!   to stderr), so a script or CI step notices a broken pattern.
//! - `--pattern P.json --event E.json`: prints `match` or `no match` and then one line per
//!   pattern field saying how it fared. Exit 0 either way (the answer is the output, as with
//!   `grep -c`, not an error); exit 2 for an unreadable file, a JSON syntax error
//!   (`FILE:LINE:COL: …` on stderr) or an invalid pattern (each error with its path).
//!
//! SNS subscription filter policies (`--sns`): in JSON Lines mode a line may carry
//! `{"sns": POLICY, "event": …, "filter_scope": "attributes" | "body"}` instead of a pattern
//! (the scope defaults to SNS's, `attributes`: the event's `attributes` object); in file mode
//! `--sns POLICY.json --event E.json [--scope body]` tests one policy.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::pattern::{FilterPolicy, FilterScope, Pattern, PatternError};

/// Arguments of `eventflow pattern test`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PatternTestArgs {
    /// Pattern file (JSON). Give with --event; without both, JSON Lines are read from stdin.
    #[arg(long)]
    pub pattern: Option<PathBuf>,
    /// Event file (JSON). Give with --pattern or --sns.
    #[arg(long)]
    pub event: Option<PathBuf>,
    /// SNS subscription filter policy file (JSON), instead of --pattern. Give with --event.
    #[arg(long, conflicts_with = "pattern")]
    pub sns: Option<PathBuf>,
    /// The filter policy's scope with --sns: `attributes` (SNS's default: the event's
    /// `attributes` object) or `body` (the event).
    #[arg(long, value_parser = ["attributes", "body"], requires = "sns")]
    pub scope: Option<String>,
}

/// Runs `pattern test`: see the module documentation for modes, output and exit codes.
/// Diagnostics for the file mode go to stderr; everything else to `output`.
pub fn run_test(
    args: &PatternTestArgs,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> ExitCode {
    if let (Some(policy), Some(e)) = (&args.sns, &args.event) {
        let scope = if args.scope.as_deref() == Some("body") {
            FilterScope::Body
        } else {
            FilterScope::Attributes
        };
        return sns_files(policy, e, scope, output);
    }
    let result = match (&args.pattern, &args.event) {
        (None, None) if args.sns.is_none() => json_lines(input, output),
        (Some(p), Some(e)) => return files(p, e, output),
        _ => {
            eprintln!(
                "error: --pattern and --event go together (or give neither and send JSON Lines on stdin)\n\
                 usage: eventflow pattern test [--pattern PATTERN.json | --sns POLICY.json [--scope attributes|body]] --event EVENT.json"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failed) => {
            eprintln!(
                "error: {} could not be tested (see the \"error\" answers)",
                if failed == 1 {
                    "1 line".to_owned()
                } else {
                    format!("{failed} lines")
                }
            );
            ExitCode::from(2)
        }
        Err(LinesError::TooLong(line)) => {
            eprintln!(
                "error: line {line} of the input is longer than {} MB; each line holds one {{\"pattern\": …, \"event\": …}} pair",
                MAX_LINE_BYTES / (1024 * 1024)
            );
            ExitCode::from(2)
        }
        Err(LinesError::Io(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn join_errors(errs: &[PatternError]) -> String {
    let v: Vec<String> = errs.iter().map(ToString::to_string).collect();
    format!("invalid pattern: {}", v.join("; "))
}

/// `serde_json`'s message without its trailing " at line L column C" (we say where ourselves).
fn bare_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// The answer for one JSON Lines input line.
fn answer_line(line_no: usize, bytes: &[u8]) -> Value {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return json!({"error": format!("line {line_no}, column {}: invalid UTF-8", e.valid_up_to() + 1)});
        }
    };
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return json!({"error": format!("line {line_no}, column {}: {}", e.column(), bare_message(&e))});
        }
    };
    if let (Some(policy), Some(event)) = (v.get("sns"), v.get("event")) {
        let scope = match v.get("filter_scope") {
            None => FilterScope::Attributes,
            Some(Value::String(s)) if s == "attributes" => FilterScope::Attributes,
            Some(Value::String(s)) if s == "body" => FilterScope::Body,
            Some(other) => {
                return json!({"error": format!(
                    "line {line_no}: filter_scope is \"attributes\" or \"body\", not {other}"
                )});
            }
        };
        return match FilterPolicy::parse(policy, scope) {
            Ok(p) => json!({"match": p.matches(event)}),
            Err(errs) => {
                json!({"error": format!("line {line_no}: {}", join_errors(&errs).replacen("pattern", "filter policy", 1))})
            }
        };
    }
    let (Some(pattern), Some(event)) = (v.get("pattern"), v.get("event")) else {
        return json!({"error": format!(
            "line {line_no}: expected an object {{\"pattern\": …, \"event\": …}}"
        )});
    };
    match Pattern::parse(pattern) {
        Ok(p) => json!({"match": p.matches(event)}),
        Err(errs) => json!({"error": format!("line {line_no}: {}", join_errors(&errs))}),
    }
}

/// The longest input line read (a pattern and an event are a few kilobytes).
pub const MAX_LINE_BYTES: u64 = 1024 * 1024;

/// Why the JSON Lines input was given up on.
#[derive(Debug)]
enum LinesError {
    Io(std::io::Error),
    /// A line longer than [`MAX_LINE_BYTES`] (e.g. `< /dev/zero`, which has no line ends).
    TooLong(usize),
}

impl From<std::io::Error> for LinesError {
    fn from(e: std::io::Error) -> Self {
        LinesError::Io(e)
    }
}

/// Answers every line; returns how many were errors.
fn json_lines(input: &mut dyn BufRead, output: &mut dyn Write) -> Result<usize, LinesError> {
    let mut buf = Vec::new();
    let mut line_no = 0;
    let mut failed = 0;
    loop {
        buf.clear();
        if (&mut *input)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut buf)?
            == 0
        {
            break;
        }
        line_no += 1;
        if buf.len() as u64 > MAX_LINE_BYTES {
            output.flush()?;
            return Err(LinesError::TooLong(line_no));
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let answer = answer_line(line_no, &buf);
        failed += usize::from(answer.get("error").is_some());
        writeln!(output, "{answer}")?;
    }
    output.flush()?;
    Ok(failed)
}

/// Reads and parses a JSON file, or says why not as `FILE:LINE:COL: …`.
fn read_json(path: &Path) -> Result<Value, String> {
    let text = crate::scenario::read_bounded(path, MAX_LINE_BYTES)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: {}",
            path.display(),
            e.line(),
            e.column(),
            bare_message(&e)
        )
    })
}

fn files(pattern_file: &Path, event_file: &Path, output: &mut dyn Write) -> ExitCode {
    let (p, e) = match (read_json(pattern_file), read_json(event_file)) {
        (Ok(p), Ok(e)) => (p, e),
        (p, e) => {
            for msg in [p.err(), e.err()].into_iter().flatten() {
                eprintln!("{msg}");
            }
            return ExitCode::from(2);
        }
    };
    let pattern = match Pattern::parse(&p) {
        Ok(pat) => pat,
        Err(errs) => {
            for err in errs {
                let at = if err.path.is_empty() {
                    "(pattern)"
                } else {
                    &err.path
                };
                eprintln!("{}: {at}: {}", pattern_file.display(), err.message);
            }
            return ExitCode::from(2);
        }
    };
    let matched = pattern.matches(&e);
    let mut text = String::from(if matched { "match\n" } else { "no match\n" });
    for x in pattern.explain(&e) {
        let mark = if x.matched { "ok  " } else { "FAIL" };
        let at = if x.path.is_empty() {
            "(pattern)"
        } else {
            &x.path
        };
        text.push_str(&format!("  {mark} {at}: {}\n", x.reason));
    }
    match output
        .write_all(text.as_bytes())
        .and_then(|()| output.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn sns_files(
    policy_file: &Path,
    event_file: &Path,
    scope: FilterScope,
    output: &mut dyn Write,
) -> ExitCode {
    let (p, e) = match (read_json(policy_file), read_json(event_file)) {
        (Ok(p), Ok(e)) => (p, e),
        (p, e) => {
            for msg in [p.err(), e.err()].into_iter().flatten() {
                eprintln!("{msg}");
            }
            return ExitCode::from(2);
        }
    };
    let policy = match FilterPolicy::parse(&p, scope) {
        Ok(pol) => pol,
        Err(errs) => {
            for err in errs {
                let at = if err.path.is_empty() {
                    "(filter policy)"
                } else {
                    &err.path
                };
                eprintln!("{}: {at}: {}", policy_file.display(), err.message);
            }
            return ExitCode::from(2);
        }
    };
    let matched = policy.matches(&e);
    let mut text = String::from(if matched { "match\n" } else { "no match\n" });
    text.push_str(&format!("  scope: {}\n", scope.as_str()));
    for (at, ok) in policy.explain(&e) {
        let mark = if ok { "ok  " } else { "FAIL" };
        text.push_str(&format!("  {mark} {at}\n"));
    }
    match output
        .write_all(text.as_bytes())
        .and_then(|()| output.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, expected: ExitCode) -> String {
        let mut out = Vec::new();
        let code = run_test(&PatternTestArgs::default(), &mut input.as_bytes(), &mut out);
        assert_eq!(code, expected);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn all_answered_is_success() {
        let out = run(
            "{\"pattern\":{\"source\":[\"a\"]},\"event\":{\"source\":\"b\"}}\n",
            ExitCode::SUCCESS,
        );
        assert_eq!(out.trim(), r#"{"match":false}"#);
    }

    #[test]
    fn json_lines_answers() {
        let out = run(
            concat!(
                "{\"pattern\":{\"source\":[\"a\"]},\"event\":{\"source\":\"a\"}}\n",
                "\n",
                "{\"pattern\":{\"source\":[\"a\"]},\"event\":{\"source\":\"b\"}}\n",
                "{\"pattern\":{\"source\":[]},\"event\":{}}\n",
                "{\"pattern\": oops}\n",
                "[1]",
            ),
            ExitCode::from(2),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], r#"{"match":true}"#);
        assert_eq!(lines[1], r#"{"match":false}"#);
        assert!(
            lines[2].contains("line 4") && lines[2].contains("source: empty array"),
            "{}",
            lines[2]
        );
        assert!(lines[3].contains("line 5, column 13"), "{}", lines[3]);
        assert!(lines[4].contains("error"), "{}", lines[4]);
    }

    #[test]
    fn sns_lines() {
        let out = run(
            concat!(
                "{\"sns\":{\"store\":[\"a\"]},\"event\":{\"attributes\":{\"store\":\"a\"}}}\n",
                "{\"sns\":{\"store\":[\"a\"]},\"event\":{\"store\":\"a\"}}\n",
                "{\"sns\":{\"store\":[\"a\"]},\"event\":{\"store\":\"a\"},\"filter_scope\":\"body\"}\n",
                "{\"sns\":{\"d\":{\"s\":[\"a\"]}},\"event\":{}}\n",
            ),
            ExitCode::from(2),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], r#"{"match":true}"#);
        assert_eq!(lines[1], r#"{"match":false}"#);
        assert_eq!(lines[2], r#"{"match":true}"#);
        assert!(lines[3].contains("nested filter policies"), "{}", lines[3]);
    }
}
