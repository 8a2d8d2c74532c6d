//! File ▸ Export: each plot of the run as PNG or SVG, the canvas as PNG, the results as JSON or
//! CSV. The plots are the [`crate::plots::Figure`]s the plot tabs draw, rendered by the same
//! code as `eventflow run --plots`, so a file from the app and one from the command line look
//! alike; every file is written atomically ([`crate::export::write_atomic`]).
//!
//! The canvas is not redrawn off screen: the app asks the window for a screenshot
//! (`ViewportCommand::Screenshot`) and crops it to the canvas ([`crop`]) when it arrives.

use eframe::egui;

use crate::metrics::SeriesData;
use crate::plots::{self, PlotContext, RenderStyle};

/// A file format of a plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A bitmap.
    Png,
    /// Vectors (text stays text).
    Svg,
}

impl Format {
    /// The file extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// One plot, by figure name (`throughput`, `backlog`, …).
    Plot(&'static str, Format),
    /// The canvas as it is on screen.
    Canvas,
    /// The results contract with the analysis, as `run --json` prints it.
    ResultsJson,
    /// The time series as tidy CSV, as `run --csv` writes it.
    ResultsCsv,
}

impl Export {
    /// The menu label.
    #[must_use]
    pub fn label(self, title: &str) -> String {
        match self {
            Export::Plot(_, Format::Png) => format!("{title} plot as PNG…"),
            Export::Plot(_, Format::Svg) => format!("{title} plot as SVG…"),
            Export::Canvas => "Canvas as PNG…".into(),
            Export::ResultsJson => "Results as JSON…".into(),
            Export::ResultsCsv => "Time series as CSV…".into(),
        }
    }

    /// The file name Save suggests, after the scenario's file stem (`flash-sale-backlog.png`).
    #[must_use]
    pub fn file_name(self, stem: &str) -> String {
        match self {
            Export::Plot(name, format) => format!("{stem}-{name}.{}", format.extension()),
            Export::Canvas => format!("{stem}-canvas.png"),
            Export::ResultsJson => format!("{stem}-results.json"),
            Export::ResultsCsv => format!("{stem}-series.csv"),
        }
    }
}

/// The names and titles of the plots a run has (those some node reports), for the menu.
#[must_use]
pub fn plot_menu(series: &SeriesData, ctx: &PlotContext) -> Vec<(&'static str, String)> {
    plots::figure::standard(series, ctx)
        .into_iter()
        .map(|f| (f.name, f.title))
        .collect()
}

/// The bytes of a plot export: the figure called `name` drawn from the finished or live series.
/// `shown` are the figures the plots panel shows now (its tab's options and hidden nodes):
/// a plot on screen is exported as seen; any other with the default options.
pub fn plot_bytes(
    name: &str,
    format: Format,
    series: &SeriesData,
    ctx: &PlotContext,
    shown: &[plots::Figure<'_>],
    style: &RenderStyle,
) -> Result<Vec<u8>, String> {
    let standard = plots::figure::standard(series, ctx);
    let figure = shown
        .iter()
        .chain(&standard)
        .find(|f| f.name == name)
        .ok_or_else(|| format!("no node reports the {name} plot in this run"))?;
    match format {
        Format::Png => plots::render::png(figure, series, style),
        Format::Svg => plots::render::svg(figure, series, style).map(String::into_bytes),
    }
    .map_err(|e| e.to_string())
}

/// The part of a screenshot inside `rect` (points), clamped to the image, as PNG bytes.
pub fn crop(
    image: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let px = |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
    let (x0, x1) = (px(rect.min.x, w), px(rect.max.x, w));
    let (y0, y1) = (px(rect.min.y, h), px(rect.max.y, h));
    if x1 <= x0 || y1 <= y0 {
        return Err("the canvas is not on screen".into());
    }
    let mut rgba = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for row in y0..y1 {
        for c in &image.pixels[row * w + x0..row * w + x1] {
            rgba.extend_from_slice(&c.to_srgba_unmultiplied());
        }
    }
    plots::render::encode_png_rgba((x1 - x0) as u32, (y1 - y0) as u32, &rgba)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_is_the_rectangle_of_the_screenshot_in_pixels() {
        // 4 × 3 pixels; the pixel at (x, y) has red x·10 and green y·10.
        let pixels: Vec<egui::Color32> = (0..3)
            .flat_map(|y| (0..4).map(move |x| egui::Color32::from_rgb(x * 10, y * 10, 0)))
            .collect();
        let image = egui::ColorImage::new([4, 3], pixels);
        // Points at 2 pixels per point: (0.5, 0.5)–(1.5, 1.5) is pixels (1, 1)–(3, 3).
        let rect = egui::Rect::from_min_max(egui::pos2(0.5, 0.5), egui::pos2(1.5, 10.0));
        let png_bytes = crop(&image, rect, 2.0).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (2, 2), "clamped to the image");
        assert_eq!(&buf[..4], &[10, 10, 0, 255]);
        assert_eq!(&buf[12..16], &[20, 20, 0, 255]);
        let off = egui::Rect::from_min_max(egui::pos2(9.0, 9.0), egui::pos2(12.0, 12.0));
        assert!(crop(&image, off, 1.0).is_err());
    }

    #[test]
    fn file_names_follow_the_scenario() {
        assert_eq!(
            Export::Plot("backlog", Format::Svg).file_name("flash-sale"),
            "flash-sale-backlog.svg"
        );
        assert_eq!(Export::Canvas.file_name("x"), "x-canvas.png");
        assert_eq!(Export::ResultsCsv.file_name("x"), "x-series.csv");
    }
}
