//! The desktop app (being written).
use std::path::PathBuf;
use std::process::ExitCode;

/// Opens the desktop app.
#[must_use]
pub fn launch(_file: Option<PathBuf>, _run: bool) -> ExitCode {
    eprintln!("the desktop app is not built yet; use `eventflow run FILE` (see `eventflow --help`)");
    ExitCode::from(2)
}
