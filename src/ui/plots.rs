//! The plots panel: a run's per-node time series in tabs, linked by a time cursor.
//!
//! Tabs: throughput (arrivals in, completions out), backlog and lag, latency percentiles,
//! Little's law (L against λW per bucket, over time or as a scatter around the L = λW line),
//! dead-letter depth and error rates, and utilization (busy slots / concurrency).
//!
//! Interaction:
//! - hovering shows the nearest value with its unit;
//! - the legend toggles nodes, and the choice is shared by every tab (one set of hidden nodes,
//!   written into each plot's memory before it is drawn and read back after);
//! - clicking or dragging in a plot sets the time cursor (`cursor_s`), which the canvas shares
//!   and every plot draws as a vertical line, so one can scrub back through a recorded run; the
//!   slider does the same from the keyboard; panning is off so a drag always scrubs (scroll and
//!   Ctrl+scroll still pan and zoom, a right-drag zooms to a box, a double-click resets);
//! - all time plots share their x range, so a zoom carries over between tabs.
//!
//! Long runs stay smooth: each series is reduced to its minimum and maximum per pixel column
//! ([`decimate`]) before it reaches `egui_plot`, so a single-bucket spike still shows. A `None`
//! value is a gap in the line, never a zero.
//!
//! Following the `egui_plot` examples, the view is a small state struct: [`PlotsView::show`]
//! draws the controls and then the plot, and a test can drive it with fixed data. This file owns
//! the view and its drawing; `plots/data.rs` what is drawn (traces, Little's law pairs, decimation,
//! units and number formats).

use eframe::egui;
use std::collections::BTreeSet;

use egui::{Color32, Id, PointerButton, Ui, Vec2b};
use egui_plot::{
    Corner, HLine, HoverPosition, ItemId, ItemIdSet, Legend, LegendGrouping, Line, LineStyle, Plot,
    PlotMemory, PlotPoint, PlotPoints, PlotUi, Points, Text, VLine,
};

use crate::metrics::{Metric, SeriesData};
use crate::plots::data::{
    Dash, LittlePair, Unit, bucket_at, bucket_centres, decimate, end_time, format_seconds,
    little_pairs, node_rgb, peak, plotted_nodes, simplify,
};
use crate::plots::figure::{self, ERROR_METRICS, Figure, PlotContext, QUANTILES};

/// Smallest height of one plot, points. Small, so that two stacked plots still fit the panel:
/// a taller minimum would make the panel grow on the tabs that stack two plots.
const MIN_PLOT_HEIGHT: f32 = 40.0;

/// Which plot is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Tab {
    #[default]
    Throughput,
    Backlog,
    Latency,
    Little,
    Errors,
    Utilization,
}

impl Tab {
    const ALL: [Tab; 6] = [
        Tab::Throughput,
        Tab::Backlog,
        Tab::Latency,
        Tab::Little,
        Tab::Errors,
        Tab::Utilization,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Throughput => "Throughput",
            Tab::Backlog => "Backlog & lag",
            Tab::Latency => "Latency",
            Tab::Little => "Little's law",
            Tab::Errors => "DLQ & errors",
            Tab::Utilization => "Utilization",
        }
    }
}

/// How the Little's law tab shows L against λW.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum LittleView {
    /// Both against time.
    #[default]
    OverTime,
    /// One point per bucket, around the L = λW line.
    Scatter,
}

/// What the utilization tab plots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum UtilizationView {
    /// Busy slots / concurrency, percent (nodes with a known concurrency).
    #[default]
    Percent,
    /// Busy slots, for every node.
    BusySlots,
}

/// Line width of the plots, points (`egui_plot`'s own default).
pub const DEFAULT_LINE_WIDTH: f32 = 1.5;

/// The plots panel's state.
#[derive(Debug, Clone)]
pub struct PlotsView {
    tab: Tab,
    /// Nodes switched off in the legend, by name (names outlive a re-run; indices might not).
    hidden: BTreeSet<String>,
    /// Which of p50, p95, p99 the latency tab shows.
    quantiles: [bool; 3],
    /// The rate the errors tab shows.
    error_metric: Metric,
    little_view: LittleView,
    utilization_view: UtilizationView,
    /// Concurrency per consumer and what each reads; see [`PlotsView::set_scenario`].
    ctx: PlotContext,
    /// Simulated time of a run in progress (`None` when it is over): the live edge, where a
    /// bucket still filling is left out of rate plots ([`crate::plots::data::drawn_buckets`]).
    live_now_s: Option<f64>,
    /// Line width, points (thicker in presentation mode).
    line_width: f32,
    /// Only one plot per tab (presentation mode).
    single: bool,
    /// Where the last time plot was drawn (lets tests aim a click at it).
    last_plot_rect: Option<egui::Rect>,
    /// The height left for plots this frame, shared out evenly between a tab's stacked plots
    /// (measured once, before the first is drawn).
    area_height: f32,
}

impl Default for PlotsView {
    fn default() -> Self {
        PlotsView {
            tab: Tab::default(),
            hidden: BTreeSet::new(),
            quantiles: [true, false, true],
            error_metric: Metric::Failures,
            little_view: LittleView::default(),
            utilization_view: UtilizationView::default(),
            ctx: PlotContext::default(),
            live_now_s: None,
            line_width: DEFAULT_LINE_WIDTH,
            single: false,
            last_plot_rect: None,
            area_height: 0.0,
        }
    }
}

impl PlotsView {
    /// Tells the view how many slots each node has (a consumer's `concurrency`), so the
    /// utilization tab can show busy / concurrency rather than busy slots. `SeriesData` does not
    /// carry it; [`PlotsView::set_scenario`] sets it from a scenario.
    pub fn set_concurrency(&mut self, concurrency: impl IntoIterator<Item = (String, u32)>) {
        self.ctx.concurrency = concurrency.into_iter().filter(|(_, c)| *c > 0).collect();
    }

    /// Takes what the time series do not carry from the scenario: each consumer's concurrency
    /// (utilization = busy / concurrency) and the queue or stream it reads (Little's law joins
    /// the queue's backlog with the consumer's arrivals and latency). Call it when a scenario is
    /// loaded or edited.
    pub fn set_scenario(&mut self, scenario: &crate::model::Scenario) {
        self.ctx = PlotContext::of(scenario);
    }

    /// The scenario context the plots use (for exports that must match the app).
    #[must_use]
    pub fn context(&self) -> &PlotContext {
        &self.ctx
    }

    /// Where a run in progress stands (simulated seconds), or `None` once it is over.
    pub fn set_live_edge(&mut self, now_s: Option<f64>) {
        self.live_now_s = now_s;
    }

    /// Presentation mode: thick lines, and one plot per tab (the first of a stacked pair).
    pub fn set_presentation(&mut self, on: bool) {
        self.single = on;
        self.line_width = if on {
            crate::ui::app::PRESENTATION_LINE_WIDTH
        } else {
            DEFAULT_LINE_WIDTH
        };
    }

    /// Line width, points.
    #[must_use]
    pub fn line_width(&self) -> f32 {
        self.line_width
    }

    /// The current tab's figures, as shown (its options, the live edge, hidden nodes left out):
    /// what File ▸ Export writes for "the plot on screen".
    #[must_use]
    pub fn current_figures<'a>(&self, series: &'a SeriesData) -> Vec<Figure<'a>> {
        let mut figures = self.tab_figures(series);
        for f in &mut figures {
            f.traces
                .retain(|t| !self.hidden.contains(&series.nodes[t.node]));
        }
        figures.retain(|f| !f.traces.is_empty());
        figures
    }

    /// The figures of the current tab with its options.
    fn tab_figures<'a>(&self, series: &'a SeriesData) -> Vec<Figure<'a>> {
        let now = self.live_now_s;
        match self.tab {
            Tab::Throughput => vec![figure::throughput(series, now)],
            Tab::Backlog => vec![figure::backlog(series, now), figure::lag_age(series, now)],
            Tab::Latency => vec![figure::latency(series, self.quantiles, now)],
            Tab::Little => vec![figure::little(series, &self.ctx, now)],
            Tab::Errors => vec![
                figure::dlq(series, now),
                figure::errors(series, self.error_metric, now),
            ],
            Tab::Utilization => match self.utilization_view {
                UtilizationView::BusySlots => vec![figure::busy(series, now)],
                UtilizationView::Percent => vec![figure::utilization(series, &self.ctx, now)],
            },
        }
    }

    /// Draws the tab bar, the tab's options and the plot. `series` may grow between frames
    /// while a run is going; `cursor_s` is the shared time cursor (simulated seconds), set by
    /// clicking or dragging in a plot.
    pub fn show(&mut self, ui: &mut Ui, series: &SeriesData, cursor_s: &mut Option<f64>) {
        self.show_controls(ui, series, cursor_s);
        ui.separator();
        self.show_plot(ui, series, cursor_s);
    }

    /// The tab bar, the current tab's options and the cursor.
    fn show_controls(&mut self, ui: &mut Ui, series: &SeriesData, cursor_s: &mut Option<f64>) {
        // One line per row whatever the tab (a wrapping row would make the panel change height
        // from tab to tab); a row wider than the panel scrolls sideways instead.
        one_line(ui, "plot-tabs", |ui| {
            for tab in Tab::ALL {
                ui.selectable_value(&mut self.tab, tab, tab.label());
            }
        });
        one_line(ui, "plot-options", |ui| match self.tab {
            Tab::Throughput => {
                ui.weak("solid: arrivals (in) · dashed: completions (out)");
            }
            Tab::Backlog => {
                ui.weak("solid: backlog (waiting + in flight) · dashed: lag (records behind)");
            }
            Tab::Latency => {
                for (shown, (_, name, _)) in self.quantiles.iter_mut().zip(QUANTILES) {
                    ui.checkbox(shown, name);
                }
                ui.weak("solid p50 · dashed p95 · dotted p99");
            }
            Tab::Little => {
                ui.selectable_value(&mut self.little_view, LittleView::OverTime, "Over time");
                ui.selectable_value(&mut self.little_view, LittleView::Scatter, "L against λW");
                ui.weak(
                    "solid: L (messages in the system: the queue's backlog) · dashed: λW (arrivals/s × mean time in system)",
                );
            }
            Tab::Errors => {
                for (metric, name) in ERROR_METRICS {
                    ui.selectable_value(&mut self.error_metric, metric, name);
                }
            }
            Tab::Utilization => {
                ui.selectable_value(
                    &mut self.utilization_view,
                    UtilizationView::Percent,
                    "Busy / concurrency",
                );
                ui.selectable_value(
                    &mut self.utilization_view,
                    UtilizationView::BusySlots,
                    "Busy slots",
                );
            }
        });
        one_line(ui, "plot-cursor", |ui| {
            let end_s = end_time(series);
            if end_s > 0.0 {
                let mut t = cursor_s.unwrap_or(end_s).clamp(0.0, end_s);
                let slider = egui::Slider::new(&mut t, 0.0..=end_s)
                    .text("Time cursor")
                    .suffix(" s");
                if ui.add(slider).changed() {
                    *cursor_s = Some(t);
                }
            }
            if cursor_s.is_some() && ui.button("Clear cursor").clicked() {
                *cursor_s = None;
            }
            if !self.hidden.is_empty() && ui.button("Show all nodes").clicked() {
                self.hidden.clear();
            }
        });
    }

    /// The current tab's plot(s): the Backlog tab stacks the oldest message's age under the
    /// backlog when a node reports it, the DLQ tab the depth above the error rate.
    fn show_plot(&mut self, ui: &mut Ui, series: &SeriesData, cursor_s: &mut Option<f64>) {
        if series.times_s.is_empty() {
            ui.weak("No data yet: run the scenario to see its time series.");
            return;
        }
        self.area_height = ui.available_height();
        if self.tab == Tab::Little && self.little_view == LittleView::Scatter {
            let pairs = little_pairs(series, &self.ctx.reads, self.live_now_s);
            self.little_scatter(ui, series, &pairs, *cursor_s);
            return;
        }
        let mut figures = self.tab_figures(series);
        // A second plot only when something reports it; the first always says what is missing.
        let first = figures.remove(0);
        let (first, second) = match self.tab {
            Tab::Errors if !first.traces.is_empty() => (first, figures.pop()),
            Tab::Errors => (figures.remove(0), None),
            _ => (first, figures.pop().filter(|f| !f.traces.is_empty())),
        };
        let second = second.filter(|_| !self.single);
        let share = 1 + usize::from(second.is_some());
        if let Some(note) = first.note {
            ui.weak(note);
        }
        self.time_plot(ui, share, series, &first, cursor_s);
        if let Some(second) = second {
            self.time_plot(ui, share, series, &second, cursor_s);
        }
    }

    /// One figure against time, `1 / share` of the remaining height, with its reference line
    /// (such as 100 % utilization) and, for Little's law, each line's name at its end.
    fn time_plot(
        &mut self,
        ui: &mut Ui,
        share: usize,
        series: &SeriesData,
        figure: &Figure<'_>,
        cursor_s: &mut Option<f64>,
    ) {
        if figure.traces.is_empty() {
            if figure.name == "errors" {
                // Say which error rates this run has, so the user knows what to pick.
                let present: Vec<&str> = ERROR_METRICS
                    .iter()
                    .filter(|(m, _)| series.series.iter().any(|s| s.metric == *m))
                    .map(|(_, n)| *n)
                    .collect();
                ui.weak(if present.is_empty() {
                    format!(
                        "No node reports {} or any other error.",
                        figure.title.to_lowercase()
                    )
                } else {
                    format!(
                        "No node reports {} in this run; it has: {}.",
                        figure.title.to_lowercase(),
                        present.join(", ")
                    )
                });
                return;
            }
            ui.weak(match figure.name {
                "little" => "No node reports backlog, arrivals and latency together.",
                _ => "No node reports this metric.",
            });
            return;
        }
        let salt = figure.name;
        let unit = figure.unit;
        let traces = &figure.traces;
        let reference = figure.reference;
        let plot_id = ui.make_persistent_id(("eventflow-plot", salt));
        let nodes = plotted_nodes(traces);
        self.push_hidden(ui.ctx(), plot_id, series, &nodes);

        let xs = bucket_centres(series);
        let width = self.line_width;
        let label_ends = figure.label_ends;
        let end_s = end_time(series);
        let current = *cursor_s;
        let cursor_color = ui.visuals().strong_text_color();
        let height = plot_height(ui, self.area_height, share);
        let link = Id::unique("eventflow-plots-time");
        let response = self
            .base_plot(series, &nodes, plot_id, unit)
            .height(height)
            .x_axis_label("time (s)")
            .link_axis(link, Vec2b::new(true, false))
            .link_cursor(link, Vec2b::new(true, false))
            .show(ui, |plot_ui| {
                let picked = picked_time(plot_ui, end_s);
                let (x0, dx) = columns(plot_ui);
                // Half a pixel vertically: what simplifying a line may move it by unseen.
                let tol = plot_ui.transform().dvalue_dpos()[1].abs() / 2.0;
                for &node in &nodes {
                    legend_entry(plot_ui, series, node);
                }
                for trace in traces {
                    let color = node_color(trace.node);
                    let name = format!("{} {}", series.nodes[trace.node], trace.what);
                    let runs = decimate(&xs, &trace.values, x0, dx);
                    let end = peak(&runs);
                    for run in runs {
                        plot_ui.line(
                            Line::new(name.clone(), PlotPoints::from(simplify(&run, tol)))
                                .id(node_key(&series.nodes[trace.node]))
                                .color(color)
                                .width(width)
                                .style(line_style(trace.dash)),
                        );
                    }
                    if label_ends && let Some([x, y]) = end {
                        plot_ui.text(
                            Text::new(
                                name.clone(),
                                PlotPoint::new(x, y),
                                egui::RichText::new(trace.what).color(color).strong(),
                            )
                            .anchor(egui::Align2::LEFT_BOTTOM)
                            .color(color)
                            .id(node_key(&series.nodes[trace.node]))
                            .allow_hover(false),
                        );
                    }
                }
                if let Some((y, name)) = reference {
                    plot_ui.hline(
                        HLine::new(name, y)
                            .style(dashed())
                            .color(Color32::GRAY)
                            .allow_hover(false),
                    );
                }
                if let Some(t) = picked.or(current) {
                    plot_ui.vline(
                        VLine::new("", t)
                            .color(cursor_color)
                            .width(1.5)
                            .allow_hover(false),
                    );
                }
                picked
            });
        if let Some(t) = response.inner {
            *cursor_s = Some(t);
        }
        self.last_plot_rect = Some(response.response.rect);
        self.pull_hidden(ui.ctx(), plot_id, series, &nodes);
    }

    /// L against λW, one point per bucket per node, with the line L = λW that Little's law
    /// predicts. The bucket under the time cursor is drawn larger.
    fn little_scatter(
        &mut self,
        ui: &mut Ui,
        series: &SeriesData,
        pairs: &[LittlePair<'_>],
        cursor_s: Option<f64>,
    ) {
        if pairs.is_empty() {
            ui.weak("No node reports backlog, arrivals and latency together.");
            return;
        }
        let plot_id = ui.make_persistent_id(("eventflow-plot", "little-scatter"));
        let nodes: Vec<usize> = pairs.iter().map(|p| p.node).collect();
        self.push_hidden(ui.ctx(), plot_id, series, &nodes);
        let cursor_bucket = cursor_s.and_then(|t| bucket_at(series, t));
        let height = plot_height(ui, self.area_height, 1);
        let response = self
            .base_plot(series, &nodes, plot_id, Unit::Little)
            .height(height)
            .x_axis_label("λW (arrivals/s × mean latency s)")
            .show(ui, |plot_ui| {
                let mut top: f64 = 0.0;
                for LittlePair { node, l, lambda_w } in pairs {
                    let name = &series.nodes[*node];
                    let points: Vec<[f64; 2]> = lambda_w
                        .iter()
                        .zip(l.iter())
                        .filter_map(|(x, y)| Some([(*x)?, (*y)?]))
                        .filter(|[x, y]| x.is_finite() && y.is_finite())
                        .collect();
                    top = points.iter().fold(top, |m, [x, y]| m.max(*x).max(*y));
                    plot_ui.points(
                        Points::new(name.clone(), points)
                            .id(node_key(name))
                            .color(node_color(*node))
                            .radius(2.0),
                    );
                    if let Some(i) = cursor_bucket
                        && let (Some(Some(x)), Some(Some(y))) = (lambda_w.get(i), l.get(i))
                    {
                        plot_ui.points(
                            Points::new(name.clone(), vec![[*x, *y]])
                                .id(node_key(name))
                                .color(node_color(*node))
                                .radius(6.0),
                        );
                    }
                }
                plot_ui.line(
                    Line::new("L = λW", vec![[0.0, 0.0], [top, top]])
                        .color(Color32::GRAY)
                        .style(dashed()),
                );
            });
        self.last_plot_rect = Some(response.response.rect);
        self.pull_hidden(ui.ctx(), plot_id, series, &nodes);
    }

    /// The settings every plot shares: id, legend (with the shared hidden nodes), hover text,
    /// no drag-panning (a drag scrubs the cursor).
    fn base_plot<'a>(
        &self,
        series: &SeriesData,
        nodes: &[usize],
        plot_id: Id,
        unit: Unit,
    ) -> Plot<'a> {
        let hidden: Vec<ItemId> = self.hidden_ids(series, nodes).into_iter().collect();
        Plot::new(plot_id)
            .id(plot_id)
            .legend(
                Legend::default()
                    .position(Corner::LeftTop)
                    .grouping(LegendGrouping::ById)
                    .follow_insertion_order(true)
                    .hidden_items(hidden),
            )
            .y_axis_label(unit.axis_label())
            .include_y(0.0)
            .allow_drag(false)
            .label_formatter(move |pos| {
                Some(match pos {
                    HoverPosition::NearDataPoint {
                        plot_name,
                        position,
                        ..
                    } => format!(
                        "{plot_name}\nt = {}\n{}",
                        format_seconds(position.x),
                        unit.format(position.y)
                    ),
                    HoverPosition::Elsewhere { position } => {
                        format!("t = {}", format_seconds(position.x))
                    }
                })
            })
    }

    fn hidden_ids(&self, series: &SeriesData, nodes: &[usize]) -> ItemIdSet {
        nodes
            .iter()
            .map(|&n| series.nodes[n].as_str())
            .filter(|name| self.hidden.contains(*name))
            .map(|name| ItemId::new(node_key(name)))
            .collect()
    }

    /// Writes the shared hidden nodes into the plot's memory before it is drawn, so a node
    /// switched off in one tab is off in this one too from the first frame.
    fn push_hidden(&self, ctx: &egui::Context, plot_id: Id, series: &SeriesData, nodes: &[usize]) {
        let wanted = self.hidden_ids(series, nodes);
        if let Some(mut memory) = PlotMemory::load(ctx, plot_id)
            && memory.hidden_items != wanted
        {
            memory.hidden_items = wanted;
            memory.store(ctx, plot_id);
        }
    }

    /// Reads back what the legend did this frame.
    fn pull_hidden(
        &mut self,
        ctx: &egui::Context,
        plot_id: Id,
        series: &SeriesData,
        nodes: &[usize],
    ) {
        let Some(memory) = PlotMemory::load(ctx, plot_id) else {
            return;
        };
        for &n in nodes {
            let name = &series.nodes[n];
            if memory.hidden_items.contains(&ItemId::new(node_key(name))) {
                self.hidden.insert(name.clone());
            } else {
                self.hidden.remove(name);
            }
        }
    }
}

/// A point-less line carrying the node's name and colour: the first item with the node's id, so
/// the legend entry (grouped by id) is named after the node rather than after one of its lines.
fn legend_entry(plot_ui: &mut PlotUi<'_>, series: &SeriesData, node: usize) {
    let name = &series.nodes[node];
    // `add`, not `line`: `line` drops a line without points.
    plot_ui.add(
        Line::new(name.clone(), Vec::<[f64; 2]>::new())
            .id(node_key(name))
            .color(node_color(node)),
    );
}

/// The legend/hide identity of a node: every line of a node shares it, so the legend toggles
/// the node as a whole.
fn node_key(name: &str) -> (&'static str, &str) {
    ("eventflow-node", name)
}

/// A distinct, stable colour per node index (golden-ratio hue steps, as `egui_plot` does).
fn node_color(node: usize) -> Color32 {
    let [r, g, b] = node_rgb(node);
    Color32::from_rgb(r, g, b)
}

/// The egui line style of a dash.
fn line_style(dash: Dash) -> LineStyle {
    match dash {
        Dash::Solid => LineStyle::Solid,
        Dash::Dashed => dashed(),
        Dash::Dotted => LineStyle::Dotted {
            spacing: crate::plots::data::DOT_SPACING,
        },
    }
}

fn dashed() -> LineStyle {
    LineStyle::Dashed {
        length: crate::plots::data::DASH_LENGTH,
    }
}

/// A row that never wraps: it scrolls sideways when wider than the panel, so its height is the
/// same on every tab.
fn one_line(ui: &mut Ui, salt: &str, add: impl FnOnce(&mut Ui)) {
    egui::ScrollArea::horizontal()
        .id_salt(salt)
        .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysHidden)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.set_min_height(ui.spacing().interact_size.y);
                add(ui);
            });
        });
}

/// The height for one of `share` plots stacked evenly in `area` points.
fn plot_height(ui: &Ui, area: f32, share: usize) -> f32 {
    let share = share.max(1) as f32;
    let spacing = ui.spacing().item_spacing.y;
    ((area - spacing * (share - 1.0)) / share)
        .min(ui.available_height())
        .max(MIN_PLOT_HEIGHT)
}

/// The time under the pointer when the user clicks or drags in the plot, within the data.
fn picked_time(plot_ui: &PlotUi<'_>, end_s: f64) -> Option<f64> {
    let response = plot_ui.response();
    if !(response.clicked() || response.dragged_by(PointerButton::Primary)) {
        return None;
    }
    let pos = response.interact_pointer_pos()?;
    // Panning is off, so last frame's transform is this frame's.
    let t = plot_ui.transform().value_from_position(pos).x;
    t.is_finite().then(|| t.clamp(0.0, end_s))
}

/// The decimation grid: the left edge and width of a pixel column in plot units.
fn columns(plot_ui: &PlotUi<'_>) -> (f64, f64) {
    let bounds = plot_ui.plot_bounds();
    let width_px = f64::from(plot_ui.transform().frame().width()).max(1.0);
    (bounds.min()[0], bounds.width() / width_px)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Series;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    /// Two nodes over 60 one-second buckets, with a gap and a backlog spike.
    fn data() -> SeriesData {
        let n = 60;
        let times_s: Vec<f64> = (0..n).map(f64::from).collect();
        let constant = |v: f64| vec![Some(v); n as usize];
        let mut backlog = constant(2.0);
        backlog[30] = Some(50.0);
        let mut latency = constant(0.02);
        latency[10] = None;
        let series = vec![
            Series {
                node: 0,
                metric: Metric::Arrivals,
                values: constant(100.0),
            },
            Series {
                node: 0,
                metric: Metric::Completions,
                values: constant(99.0),
            },
            Series {
                node: 0,
                metric: Metric::Backlog,
                values: backlog,
            },
            Series {
                node: 0,
                metric: Metric::LatencyP50,
                values: latency.clone(),
            },
            Series {
                node: 0,
                metric: Metric::LatencyP99,
                values: latency.clone(),
            },
            Series {
                node: 0,
                metric: Metric::LatencyMean,
                values: latency,
            },
            Series {
                node: 1,
                metric: Metric::Arrivals,
                values: constant(99.0),
            },
            Series {
                node: 1,
                metric: Metric::Busy,
                values: constant(3.0),
            },
            Series {
                node: 1,
                metric: Metric::DlqDepth,
                values: constant(1.0),
            },
            Series {
                node: 1,
                metric: Metric::Failures,
                values: constant(0.5),
            },
        ];
        SeriesData {
            bucket_s: 1.0,
            times_s,
            nodes: vec!["orders-q".into(), "worker".into()],
            series,
        }
    }

    /// The exported files' colours are the app's: egui's own HSV conversion gives the same bytes.
    #[test]
    fn node_colours_match_egui_hsv() {
        let golden = std::f32::consts::GOLDEN_RATIO - 1.0;
        for node in 0..40 {
            let hue = (node as f32 * golden).fract();
            let egui: Color32 = egui::ecolor::Hsva::new(hue, 0.75, 0.85, 1.0).into();
            assert_eq!(node_color(node), egui, "node {node}");
        }
    }

    #[test]
    fn little_pairs_multiply_arrivals_by_latency() {
        let d = data();
        let pairs = little_pairs(&d, &std::collections::BTreeMap::new(), None);
        assert_eq!(pairs.len(), 1);
        let LittlePair { node, l, lambda_w } = &pairs[0];
        assert_eq!(*node, 0);
        assert_eq!(l[0], Some(2.0));
        assert!((lambda_w[0].unwrap() - 2.0).abs() < 1e-12); // 100/s × 20 ms
        assert_eq!(lambda_w[10], None, "a missing latency is a gap, not a zero");
    }

    /// The engine records backlog at the queue and latency at its consumer: L is the queue's
    /// backlog, set against the consumer's λW.
    #[test]
    fn little_pairs_join_a_queue_with_its_consumer() {
        let n = 10;
        let times_s: Vec<f64> = (0..n).map(f64::from).collect();
        let constant = |v: f64| vec![Some(v); n as usize];
        let series = vec![
            Series {
                node: 0,
                metric: Metric::Arrivals,
                values: constant(100.0),
            },
            Series {
                node: 0,
                metric: Metric::Backlog,
                values: constant(4.0),
            },
            Series {
                node: 1,
                metric: Metric::Arrivals,
                values: constant(100.0),
            },
            Series {
                node: 1,
                metric: Metric::Busy,
                values: constant(3.0),
            },
            Series {
                node: 1,
                metric: Metric::LatencyMean,
                values: constant(0.04),
            },
            Series {
                node: 2,
                metric: Metric::Arrivals,
                values: constant(10.0),
            },
            Series {
                node: 2,
                metric: Metric::Busy,
                values: constant(0.5),
            },
            Series {
                node: 2,
                metric: Metric::LatencyMean,
                values: constant(0.05),
            },
        ];
        let d = SeriesData {
            bucket_s: 1.0,
            times_s,
            nodes: vec!["q".into(), "worker".into(), "direct".into()],
            series,
        };
        let reads = std::collections::BTreeMap::from([("worker".to_owned(), "q".to_owned())]);
        let pairs = little_pairs(&d, &reads, None);
        assert_eq!(pairs.iter().map(|p| p.node).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(pairs[0].l[0], Some(4.0), "the queue's backlog");
        assert!((pairs[0].lambda_w[0].unwrap() - 4.0).abs() < 1e-12);
        assert_eq!(
            pairs[1].l[0],
            Some(0.5),
            "a direct consumer: its busy slots"
        );
    }

    fn harness(view: PlotsView) -> Harness<'static, (PlotsView, SeriesData, Option<f64>)> {
        Harness::builder()
            .with_size(egui::vec2(900.0, 700.0))
            .build_ui_state(
                |ui, (view, data, cursor)| view.show(ui, data, cursor),
                (view, data(), None),
            )
    }

    #[test]
    fn tabs_switch_by_label() {
        let mut harness = harness(PlotsView::default());
        harness.run_steps(2);
        harness.get_by_label_contains("arrivals (in)");
        for tab in Tab::ALL {
            harness.get_by_label(tab.label()).click();
            harness.run_steps(2);
            assert_eq!(harness.state().0.tab, tab);
        }
        harness.get_by_label("Busy / concurrency").click();
        harness.run_steps(2);
        // No concurrency given: falls back to busy slots and says so.
        harness.get_by_label("Concurrency unknown: showing busy slots.");
        harness
            .state_mut()
            .0
            .set_concurrency([("worker".to_owned(), 4)]);
        harness.run_steps(2);
        assert!(
            harness
                .query_by_label("Concurrency unknown: showing busy slots.")
                .is_none()
        );
        harness.get_by_label("Latency").click();
        harness.run_steps(2);
        harness.get_by_label("p95").click();
        harness.run_steps(2);
        assert_eq!(harness.state().0.quantiles, [true, true, true]);
    }

    #[test]
    fn clicking_a_plot_sets_the_cursor_and_the_legend_hides_nodes() {
        let mut harness = harness(PlotsView::default());
        harness.run_steps(2);
        assert_eq!(harness.state().2, None);
        let rect = harness.state().0.last_plot_rect.expect("a plot was drawn");
        let pos = rect.center();
        harness.event(egui::Event::PointerMoved(pos));
        for pressed in [true, false] {
            harness.event(egui::Event::PointerButton {
                pos,
                button: PointerButton::Primary,
                pressed,
                modifiers: egui::Modifiers::default(),
            });
        }
        harness.run_steps(3);
        let t = harness.state().2.expect("the click set the cursor");
        assert!((0.0..=60.0).contains(&t), "{t}");

        // The legend lists nodes; switching one off carries over to other tabs.
        harness.get_by_label("worker").click();
        harness.run_steps(2);
        assert!(harness.state().0.hidden.contains("worker"));
        harness.get_by_label("DLQ & errors").click();
        harness.run_steps(2);
        assert!(harness.state().0.hidden.contains("worker"));
        harness.get_by_label("Show all nodes").click();
        harness.run_steps(2);
        assert!(harness.state().0.hidden.is_empty());
    }

    #[test]
    fn empty_series_says_so() {
        let mut harness = Harness::new_ui_state(
            |ui, (view, data, cursor): &mut (PlotsView, SeriesData, Option<f64>)| {
                view.show(ui, data, cursor);
            },
            (
                PlotsView::default(),
                SeriesData {
                    bucket_s: 1.0,
                    times_s: vec![],
                    nodes: vec![],
                    series: vec![],
                },
                None,
            ),
        );
        harness.run_steps(2);
        harness.get_by_label_contains("No data yet");
    }
}
