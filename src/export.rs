//! Writing what a run produced to files: any bytes atomically ([`write_atomic`]: a temporary
//! file beside the target, flushed, then renamed over it, so a reader never sees half a file),
//! and a run's standard plots as PNG and SVG ([`write_plots`], for `run --plots DIR`).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::metrics::SeriesData;
use crate::plots::{self, PlotContext, RenderStyle};

/// Why an export failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the file failed.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's words.
        message: String,
    },
    /// Drawing a plot failed.
    #[error(transparent)]
    Render(#[from] plots::render::RenderError),
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over `path`. On failure the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| ExportError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes every standard plot of a run ([`plots::figure::standard`]) into `dir` (created if
/// missing) as `NAME.png` and `NAME.svg`; returns the files written, in plot order.
pub fn write_plots(
    dir: &Path,
    series: &SeriesData,
    ctx: &PlotContext,
    style: &RenderStyle,
) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| ExportError::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut written = Vec::new();
    for figure in plots::figure::standard(series, ctx) {
        let png_path = dir.join(format!("{}.png", figure.name));
        write_atomic(&png_path, &plots::render::png(&figure, series, style)?)?;
        written.push(png_path);
        let svg_path = dir.join(format!("{}.svg", figure.name));
        write_atomic(
            &svg_path,
            plots::render::svg(&figure, series, style)?.as_bytes(),
        )?;
        written.push(svg_path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["out.csv"]);
    }

    #[test]
    fn a_failed_write_names_the_file_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("out.png");
        let e = write_atomic(&path, b"x").unwrap_err();
        assert!(e.to_string().contains("out.png"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
