//! The bundled example scenarios offered under File ▸ Open example.
//!
//! Choice: the examples are found at run time, not embedded. Scenarios are added to
//! `scenarios/` by many hands, and embedding every file would need either a hand-kept table
//! that drifts or a build script (not wanted). So the app looks for `*.json` in, in order:
//! `scenarios/` beside the executable (an installed or unpacked release), the crate's own
//! `scenarios/` (`CARGO_MANIFEST_DIR`, for `cargo run` and tests), and `scenarios/` in the
//! working directory. The first folder that holds any is used. When none is found the menu
//! says so and the app starts with an empty scenario: nothing fails. Each entry shows the
//! scenario's `name`, read from the file (falling back to the file stem if it does not parse).

use std::path::{Path, PathBuf};

/// One example scenario on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    /// The scenario's `name`.
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
}

/// The scenario opened when the app starts without a file, if present.
pub const DEFAULT_EXAMPLE: &str = "order-fanout.json";

/// Folders searched, in order of preference.
#[must_use]
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.join("scenarios"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"));
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join("scenarios"));
    }
    dirs
}

/// The examples of the first folder in [`search_dirs`] that has any, sorted by name.
#[must_use]
pub fn bundled() -> Vec<Example> {
    search_dirs()
        .iter()
        .map(|d| in_dir(d))
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// The `*.json` scenarios in `dir`, sorted by name then path.
#[must_use]
pub fn in_dir(dir: &Path) -> Vec<Example> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Example> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .map(|path| Example {
            name: name_of(&path),
            path,
        })
        .collect();
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.path.cmp(&b.path))
    });
    out
}

/// The scenario's `name`, or the file stem when it cannot be read.
fn name_of(path: &Path) -> String {
    let stem = || {
        path.file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(stem)
}

/// The example to open at start: [`DEFAULT_EXAMPLE`] if bundled, else the first one.
#[must_use]
pub fn default_example(examples: &[Example]) -> Option<&Example> {
    examples
        .iter()
        .find(|e| e.path.file_name().is_some_and(|n| n == DEFAULT_EXAMPLE))
        .or_else(|| examples.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_listed_by_name_with_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("b.json"),
            r#"{ "name": "Alpha", "duration": "1m" }"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("a.json"), "not json").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let list = in_dir(dir.path());
        let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "Alpha"]);
        assert_eq!(default_example(&list).unwrap().name, "a");
        assert!(in_dir(&dir.path().join("missing")).is_empty());
    }
}
