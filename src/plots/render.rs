//! Drawing a [`Figure`] to SVG text or PNG bytes with plotters, without a display: what
//! `run --plots` writes and what File ▸ Export saves from the app.
//!
//! The look follows the app's plot: node colours ([`node_rgb`]), solid / dashed / dotted lines,
//! the legend by node at the top left, the unit's axis label and number format, the grey dashed
//! reference line, values drawn at bucket centres, gaps left where a bucket has no value, and the
//! same per-pixel-column decimation. The background is white (a file goes into reports and
//! slides). Text is drawn with the Ubuntu Light font bundled in `assets/fonts/` — the face egui
//! draws the app's text with — so a PNG looks the same on a machine with no fonts installed.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::data::{
    DASH_LENGTH, DOT_SPACING, Dash, bucket_centres, decimate, end_time, node_rgb, peak, tick_in,
    tick_number,
};
use super::figure::Figure;
use crate::metrics::SeriesData;

/// The font text is drawn with (the Ubuntu Font Licence is beside it).
static FONT: &[u8] = include_bytes!("../../assets/fonts/Ubuntu-Light.ttf");

/// The family name the font is registered under.
const FAMILY: &str = "sans-serif";

/// Size and weight of a drawn figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderStyle {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Line width, pixels.
    pub line_width: u32,
    /// Text size of tick labels and the legend, pixels (the title is larger).
    pub text_px: f64,
}

impl Default for RenderStyle {
    /// A report-sized plot: 1200 × 600 with 2-pixel lines.
    fn default() -> Self {
        RenderStyle {
            width: 1200,
            height: 600,
            line_width: 2,
            text_px: 15.0,
        }
    }
}

impl RenderStyle {
    /// Projector size: 1920 × 1080, thick lines, large type.
    #[must_use]
    pub fn presentation() -> Self {
        RenderStyle {
            width: 1920,
            height: 1080,
            line_width: 5,
            text_px: 28.0,
        }
    }
}

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The drawing library failed (an unusable size, a font problem).
    #[error("drawing the {figure} plot: {message}")]
    Draw {
        /// The figure's name.
        figure: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The PNG encoder failed.
    #[error("encoding the {figure} plot as PNG: {message}")]
    Png {
        /// The figure's name.
        figure: &'static str,
        /// What went wrong.
        message: String,
    },
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font (a test draws text with it); were they not, text
        // would fail to draw and say so through `RenderError`.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// The figure as an SVG document.
pub fn svg(
    figure: &Figure<'_>,
    series: &SeriesData,
    style: &RenderStyle,
) -> Result<String, RenderError> {
    register_font();
    let mut text = String::new();
    {
        let root =
            SVGBackend::with_string(&mut text, (style.width, style.height)).into_drawing_area();
        draw(&root, figure, series, style).map_err(|e| draw_error(figure, &e))?;
        root.present().map_err(|e| draw_error(figure, &e))?;
    }
    Ok(text)
}

/// The figure as a PNG image (8-bit RGB).
pub fn png(
    figure: &Figure<'_>,
    series: &SeriesData,
    style: &RenderStyle,
) -> Result<Vec<u8>, RenderError> {
    register_font();
    let (w, h) = (style.width, style.height);
    let mut pixels = vec![0_u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::<plotters::backend::RGBPixel>::with_buffer_and_format(
            &mut pixels,
            (w, h),
        )
        .map_err(|e| draw_error(figure, &e))?
        .into_drawing_area();
        draw(&root, figure, series, style).map_err(|e| draw_error(figure, &e))?;
        root.present().map_err(|e| draw_error(figure, &e))?;
    }
    encode_png(w, h, &pixels).map_err(|e| RenderError::Png {
        figure: figure.name,
        message: e.to_string(),
    })
}

/// 8-bit RGB pixels, row by row, as a PNG file.
pub fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    encode(width, height, rgb, png::ColorType::Rgb)
}

/// 8-bit RGBA pixels, row by row, as a PNG file.
pub fn encode_png_rgba(
    width: u32,
    height: u32,
    rgba: &[u8],
) -> Result<Vec<u8>, png::EncodingError> {
    encode(width, height, rgba, png::ColorType::Rgba)
}

fn encode(
    width: u32,
    height: u32,
    data: &[u8],
    color: png::ColorType,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(data)?;
        writer.finish()?;
    }
    Ok(out)
}

fn draw_error(figure: &Figure<'_>, e: &dyn std::fmt::Display) -> RenderError {
    RenderError::Draw {
        figure: figure.name,
        message: e.to_string(),
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &Figure<'_>,
    series: &SeriesData,
    style: &RenderStyle,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let px = style.text_px;
    let end_s = end_time(series).max(f64::MIN_POSITIVE);
    let xs = bucket_centres(series);
    let top = figure
        .traces
        .iter()
        .flat_map(|t| t.values.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .chain(figure.reference.map(|(y, _)| y))
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.05 } else { 1.0 };
    let unit = figure.unit;

    let caption = match figure.note {
        Some(note) => format!("{} — {note}", figure.title),
        None => figure.title.clone(),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FAMILY, px * 1.4).into_font())
        .margin((px * 0.8) as u32)
        .x_label_area_size((px * 3.0) as u32)
        .y_label_area_size((px * 6.0) as u32)
        .build_cartesian_2d(0.0..end_s, 0.0..top)?;
    let label_font = (FAMILY, px).into_font().color(&BLACK);
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(unit.axis_label())
        .y_label_formatter(&|y| tick_in(unit, *y))
        .x_label_formatter(&|x| tick_number(*x))
        .label_style(label_font.clone())
        .axis_desc_style(label_font.clone())
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(TRANSPARENT)
        .draw()?;

    let (plot_w, _) = chart.plotting_area().dim_in_pixel();
    let dx = end_s / f64::from(plot_w.max(1));
    let width = style.line_width;
    let mut legend_done: Vec<usize> = Vec::new();
    for trace in &figure.traces {
        let [r, g, b] = node_rgb(trace.node);
        let color = RGBColor(r, g, b);
        let line = color.stroke_width(width);
        if !legend_done.contains(&trace.node) {
            legend_done.push(trace.node);
            // An empty series carrying the node's name: one legend entry per node, as in the app.
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())?
                .label(series.nodes[trace.node].clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        }
        let runs = decimate(&xs, &trace.values, 0.0, dx);
        for run in &runs {
            let points = run.iter().map(|p| (p[0], p[1]));
            match trace.dash {
                Dash::Solid => {
                    chart.draw_series(LineSeries::new(points, line))?;
                }
                Dash::Dashed => {
                    let (dash, gap) = (
                        DASH_LENGTH as u32 * width.div_ceil(2),
                        DASH_LENGTH as u32 * width.div_ceil(2) / 2,
                    );
                    chart.draw_series(DashedLineSeries::new(points, dash, gap, line))?;
                }
                Dash::Dotted => {
                    let spacing = DOT_SPACING as u32 * width.div_ceil(2);
                    let radius = width.div_ceil(2).max(1);
                    chart.draw_series(DottedLineSeries::new(points, 0, spacing, move |c| {
                        Circle::new(c, radius, color.filled())
                    }))?;
                }
            }
        }
        if figure.label_ends
            && let Some([x, y]) = peak(&runs)
        {
            let font = (FAMILY, px * 1.2).into_font().color(&color);
            // Above and right of the peak, so the label never sits on its own line.
            let label = Text::new(
                trace.what,
                (x, y),
                font.pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            );
            chart.draw_series(std::iter::once(label))?;
        }
    }
    if let Some((y, name)) = figure.reference {
        let grey = RGBColor(128, 128, 128).stroke_width(width.max(1));
        chart
            .draw_series(DashedLineSeries::new([(0.0, y), (end_s, y)], 8, 6, grey))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(label_font)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Metric, Series};
    use crate::plots::figure;

    fn ramp(n: usize) -> SeriesData {
        SeriesData {
            bucket_s: 2.0,
            times_s: (0..n).map(|i| 2.0 * i as f64).collect(),
            nodes: vec!["orders".into()],
            series: vec![Series {
                node: 0,
                metric: Metric::Arrivals,
                values: (0..n).map(|i| Some(i as f64)).collect(),
            }],
        }
    }

    /// The text of every `<text>` element, trimmed.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split("</text>")
                        .next()?
                        .trim()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// The points of every `<polyline>` with at least `min` points (the legend's sample lines
    /// have two).
    fn polylines(svg: &str, min: usize) -> Vec<usize> {
        svg.split("<polyline")
            .skip(1)
            .filter_map(|p| {
                let points = p.split("points=\"").nth(1)?.split('"').next()?;
                Some(points.split_whitespace().count())
            })
            .filter(|n| *n >= min)
            .collect()
    }

    #[test]
    fn an_svg_line_has_a_point_per_bucket() {
        for n in [7, 40] {
            let d = ramp(n);
            let text = svg(&figure::throughput(&d, None), &d, &RenderStyle::default()).unwrap();
            assert!(text.starts_with("<svg"), "{}", &text[..40]);
            assert_eq!(polylines(&text, 3), [n], "one line of {n} buckets");
            let texts = texts(&text);
            for want in ["Throughput", "orders", "events/s", "time (s)"] {
                assert!(texts.iter().any(|t| t == want), "{want} in {texts:?}");
            }
        }
    }

    #[test]
    fn a_png_is_an_image_of_the_asked_size_in_the_nodes_colour() {
        let d = ramp(30);
        let style = RenderStyle {
            width: 400,
            height: 300,
            ..RenderStyle::default()
        };
        let bytes = png(&figure::throughput(&d, None), &d, &style).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (400, 300));
        let rgb = node_rgb(0);
        let line_pixels = buf[..info.buffer_size()]
            .chunks(3)
            .filter(|p| *p == rgb)
            .count();
        assert!(line_pixels > 100, "{line_pixels} pixels of the line");
        // Text was drawn: dark pixels beyond the black axis lines alone.
        let dark = buf.chunks(3).filter(|p| p.iter().all(|c| *c < 80)).count();
        assert!(dark > 200, "{dark}");
    }
}
