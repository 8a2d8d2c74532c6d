//! Saving: pretty JSON in a stable key order, written to a temporary file beside the target and
//! renamed over it, so a crash mid-save never loses the user's work.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::problem::LoadError;
use crate::model::Scenario;

/// Pretty JSON with a stable key order (the model's field order) and a final newline.
#[must_use]
pub fn to_json(s: &Scenario) -> String {
    // Serializing these plain types cannot fail; fall back to an empty object rather than panic.
    let mut text = serde_json::to_string_pretty(s).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// Saves atomically: writes a temporary file beside `path`, flushes it, then renames it over.
///
/// # Errors
/// The I/O error, naming the file.
pub fn save(path: &Path, s: &Scenario) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        file: path.display().to_string(),
        message: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = path.file_name().map_or_else(
        || "scenario.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(to_json(s).as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{load, parse};

    const MINIMAL: &str = r#"{ "name": "t", "duration": "1m",
        "producers": [ { "id": "p", "to": "q", "rate": 5 } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "c", "from": "q", "service_time": { "constant": "10ms" } } ] }"#;

    #[test]
    fn save_then_load_gives_the_same_scenario() {
        let l = parse(MINIMAL, "t.json").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        save(&path, &l.scenario).unwrap();
        let again = load(&path).unwrap();
        assert_eq!(l.scenario, again.scenario);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }
}
