//! Run ▸ Replications, compare and sweep: the CLI's `run --replications`, `compare` and `sweep`
//! in a window. N replications give each figure with its 95 % interval; a comparison with the
//! saved version or another file gives A, B and the paired difference B − A (common random
//! numbers) with the two runs' series drawn over each other; a sweep of one field plots a chosen
//! figure (mean and interval) against the swept value.
//!
//! The work runs on [`crate::worker::jobs`]' thread: the window shows a progress bar and a Cancel
//! button and never waits for it within a frame.

use std::path::PathBuf;

use eframe::egui::{self, Color32, RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use crate::analysis::compare::{CompareRow, Comparison};
use crate::analysis::figures::name as figure_name;
use crate::analysis::replicate::Replicated;
use crate::analysis::stats::Estimate;
use crate::analysis::sweep::{self, SetSpec, Sweep};
use crate::metrics::{Metric, SeriesData};
use crate::model::{Duration, Scenario};
use crate::report::sig;
use crate::worker::jobs::{Job, Outcome, Request, Status};

/// The three kinds of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// N replications of the open scenario.
    Replications,
    /// The open scenario against another.
    Compare,
    /// One field over several values.
    Sweep,
}

/// What B is in a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Against {
    Saved,
    File,
}

/// Time series a comparison can draw over each other.
const OVERLAY_METRICS: [(Metric, &str); 4] = [
    (Metric::Backlog, "backlog"),
    (Metric::Completions, "completions / s"),
    (Metric::Busy, "busy slots"),
    (Metric::LatencyP99, "p99 latency (s)"),
];

/// What the window needs from the app.
pub struct AnalysisInput<'a> {
    /// The open scenario (A).
    pub scenario: &'a Scenario,
    /// As last saved or opened, if it differs from the open one.
    pub saved: Option<&'a Scenario>,
    /// The run's seed (replicate 0).
    pub seed: u64,
    /// Why the open scenario cannot run, if it cannot.
    pub blocked: Option<String>,
}

/// What the app should do for the window.
#[derive(Debug, PartialEq, Eq)]
pub enum AnalysisRequest {
    /// Ask the user for the file to compare with ([`AnalysisView::set_compare_file`]).
    PickCompareFile,
}

/// The window's state: inputs, the running job, the last result.
pub struct AnalysisView {
    /// Is the window open?
    pub open: bool,
    tab: Tab,
    replications: u32,
    against: Against,
    compare_path: String,
    sweep_path: String,
    sweep_values: String,
    sweep_figure: String,
    filter: String,
    overlay: usize,
    overlay_node: usize,
    only_differences: bool,
    job: Option<(Tab, Job)>,
    progress: (usize, usize),
    error: Option<String>,
    replicated: Option<Replicated>,
    compared: Option<(Comparison, Box<SeriesData>, Box<SeriesData>)>,
    swept: Option<(Sweep, Vec<f64>)>,
    /// The scenario the sweep field suggestions were made for (its name and sizes).
    suggested_for: Option<(String, usize, usize)>,
}

impl Default for AnalysisView {
    fn default() -> Self {
        AnalysisView {
            open: false,
            tab: Tab::Replications,
            replications: 10,
            against: Against::Saved,
            compare_path: String::new(),
            sweep_path: String::new(),
            sweep_values: String::new(),
            sweep_figure: String::new(),
            filter: String::new(),
            overlay: 0,
            overlay_node: 0,
            only_differences: false,
            job: None,
            progress: (0, 0),
            error: None,
            replicated: None,
            compared: None,
            swept: None,
            suggested_for: None,
        }
    }
}

impl AnalysisView {
    /// Opens the window on `tab`.
    pub fn open_on(&mut self, tab: Tab) {
        self.open = true;
        self.tab = tab;
    }

    /// The file the user chose to compare with.
    pub fn set_compare_file(&mut self, path: PathBuf) {
        self.compare_path = path.display().to_string();
        self.against = Against::File;
    }

    /// Is a job running?
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// The last replications' result.
    #[must_use]
    pub fn replicated(&self) -> Option<&Replicated> {
        self.replicated.as_ref()
    }

    /// The last comparison.
    #[must_use]
    pub fn comparison(&self) -> Option<&Comparison> {
        self.compared.as_ref().map(|c| &c.0)
    }

    /// The last sweep, with the swept values as numbers.
    #[must_use]
    pub fn sweep(&self) -> Option<&Sweep> {
        self.swept.as_ref().map(|s| &s.0)
    }

    /// The last error, if the last job failed.
    #[must_use]
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Reads the job's progress; keeps the outcome when it ends. Call once per frame.
    pub fn poll(&mut self) {
        let Some((tab, job)) = &mut self.job else {
            return;
        };
        let tab = *tab;
        match job.poll() {
            Status::Running { done, total } => self.progress = (done, total),
            Status::Cancelled => {
                self.job = None;
                self.error = Some("Cancelled.".into());
            }
            Status::Finished(Err(e)) => {
                self.job = None;
                self.error = Some(e);
            }
            Status::Finished(Ok(outcome)) => {
                self.job = None;
                self.error = None;
                match outcome {
                    Outcome::Replicated(r) => self.replicated = Some(r),
                    Outcome::Compared {
                        comparison,
                        series_a,
                        series_b,
                    } => {
                        self.overlay_node = most_different(
                            &series_a,
                            &series_b,
                            OVERLAY_METRICS[self.overlay % OVERLAY_METRICS.len()].0,
                        );
                        self.compared = Some((comparison, series_a, series_b));
                    }
                    Outcome::Swept(s) => {
                        let xs = s
                            .variants
                            .iter()
                            .map(|(a, _)| a.first().map_or(f64::NAN, |(_, v)| number(v)))
                            .collect();
                        self.swept = Some((s, xs));
                    }
                }
                self.tab = tab;
            }
        }
    }

    fn start(&mut self, ctx: &egui::Context, tab: Tab, request: Request) {
        let repaint = ctx.clone();
        match Job::start(request, Box::new(move || repaint.request_repaint())) {
            Ok(job) => {
                self.progress = (0, 0);
                self.error = None;
                self.job = Some((tab, job));
            }
            Err(e) => self.error = Some(format!("could not start the analysis thread: {e}")),
        }
    }

    /// Shows the window (when open); returns what the app should do for it.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        input: &AnalysisInput<'_>,
    ) -> Option<AnalysisRequest> {
        self.poll();
        if self.job.is_some() {
            // Progress arrives from the job's thread (which also requests repaints); keep the
            // bar moving between its messages.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
        if !self.open {
            return None;
        }
        self.suggest(input.scenario);
        let mut open = self.open;
        let mut request = None;
        egui::Window::new("Replications, compare and sweep")
            .open(&mut open)
            .default_size([760.0, 620.0])
            .resizable(true)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.tab, Tab::Replications, "Replications");
                    ui.selectable_value(&mut self.tab, Tab::Compare, "Compare");
                    ui.selectable_value(&mut self.tab, Tab::Sweep, "Sweep");
                });
                ui.separator();
                ui.horizontal(|ui| {
                    let label = ui.label("Replications N");
                    ui.add(egui::DragValue::new(&mut self.replications).range(2..=1000))
                        .labelled_by(label.id)
                        .on_hover_text(
                            "Seeds SEED, SEED+1, …: the same runs as the CLI's --replications",
                        );
                    ui.weak(format!("seeds from {}", input.seed));
                });
                match self.tab {
                    Tab::Replications => self.replications_tab(ui, input),
                    Tab::Compare => request = self.compare_tab(ui, input),
                    Tab::Sweep => self.sweep_tab(ui, input),
                }
            });
        self.open = open;
        if !self.open
            && let Some((_, job)) = &self.job
        {
            job.cancel();
        }
        request
    }

    /// The progress bar and Cancel while a job runs; the Run button otherwise. True to start.
    fn run_row(&mut self, ui: &mut Ui, tab: Tab, label: &str, blocked: Option<&str>) -> bool {
        let mut start = false;
        ui.horizontal(|ui| {
            if let Some((running, job)) = &self.job {
                let (done, total) = self.progress;
                let fraction = if total == 0 {
                    0.0
                } else {
                    done as f32 / total as f32
                };
                let what = if *running == tab {
                    format!("{done} of {total} runs")
                } else {
                    "another analysis is running".to_owned()
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .text(what)
                        .desired_width(360.0),
                );
                if ui.button("Cancel").clicked() {
                    job.cancel();
                }
            } else {
                let enabled = blocked.is_none();
                let r = ui.add_enabled(enabled, egui::Button::new(label));
                if let Some(why) = blocked {
                    r.on_disabled_hover_text(why);
                    ui.colored_label(ui.visuals().warn_fg_color, why);
                } else if r.clicked() {
                    start = true;
                }
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        start
    }

    fn replications_tab(&mut self, ui: &mut Ui, input: &AnalysisInput<'_>) {
        let label = format!("Run {} replications", self.replications);
        if self.run_row(ui, Tab::Replications, &label, input.blocked.as_deref()) {
            let request = Request::Replicate {
                scenario: Box::new(input.scenario.clone()),
                seed: input.seed,
                replications: self.replications,
            };
            self.start(ui.ctx(), Tab::Replications, request);
        }
        let Some(r) = &self.replicated else {
            ui.weak("Each figure's mean over the replications with its 95 % confidence interval.");
            return;
        };
        ui.label(format!(
            "{}: {} replications (seeds {}…), each figure's mean ± the half-width of its 95 % interval",
            r.scenario,
            r.replications(),
            r.seeds.first().copied().unwrap_or(0)
        ));
        filter_row(ui, &mut self.filter);
        let rows: Vec<(String, Option<Estimate>)> = r
            .samples
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| (figure_name(p), r.samples.estimate(i)))
            .filter(|(n, _)| shows(&self.filter, n))
            .collect();
        table(
            ui,
            "replicated",
            &["figure", "mean", "± 95 %", "interval"],
            rows.len(),
            |ui, i| {
                let (name, e) = &rows[i];
                ui.label(name);
                if let Some(e) = e {
                    ui.label(sig(e.mean));
                    ui.label(e.ci95_half_width.map_or("—".into(), sig));
                    ui.label(e.interval().map_or("—".into(), |(lo, hi)| {
                        format!("[{}, {}]", sig(lo), sig(hi))
                    }));
                } else {
                    ui.label("—");
                    ui.label("");
                    ui.label("");
                }
            },
        );
    }

    fn compare_tab(&mut self, ui: &mut Ui, input: &AnalysisInput<'_>) -> Option<AnalysisRequest> {
        let mut request = None;
        ui.horizontal(|ui| {
            ui.label("A: the open scenario · B:");
            ui.radio_value(&mut self.against, Against::Saved, "the saved version");
            ui.radio_value(&mut self.against, Against::File, "a file");
        });
        if self.against == Against::File {
            ui.horizontal(|ui| {
                let label = ui.label("B file");
                ui.add(
                    egui::TextEdit::singleline(&mut self.compare_path)
                        .desired_width(420.0)
                        .hint_text("path to a scenario .json"),
                )
                .labelled_by(label.id);
                if ui.button("Browse…").clicked() {
                    request = Some(AnalysisRequest::PickCompareFile);
                }
            });
        }
        let b: Result<Scenario, String> = match self.against {
            Against::Saved => input.saved.cloned().ok_or_else(|| {
                "the open scenario has no unsaved changes: edit it, or compare with a file"
                    .to_owned()
            }),
            Against::File if self.compare_path.trim().is_empty() => {
                Err("choose the file to compare with".to_owned())
            }
            Against::File => Ok(Scenario::empty("")),
        };
        let blocked = input.blocked.clone().or(b.as_ref().err().cloned());
        let label = format!("Compare over {} replications", self.replications);
        if self.run_row(ui, Tab::Compare, &label, blocked.as_deref()) {
            let b = match self.against {
                Against::Saved => b,
                Against::File => {
                    crate::scenario::load(std::path::Path::new(self.compare_path.trim()))
                        .map(|l| l.scenario)
                        .map_err(|e| {
                            let problems: Vec<String> = e
                                .problems()
                                .iter()
                                .take(3)
                                .map(ToString::to_string)
                                .collect();
                            format!("B ({}): {}", self.compare_path.trim(), problems.join("; "))
                        })
                }
            };
            match b {
                Ok(b) => {
                    let request = Request::Compare {
                        a: Box::new(input.scenario.clone()),
                        b: Box::new(b),
                        seed: input.seed,
                        replications: self.replications,
                    };
                    self.start(ui.ctx(), Tab::Compare, request);
                }
                Err(e) => self.error = Some(e),
            }
        }
        let Some((c, sa, sb)) = &self.compared else {
            ui.weak("A and B run the same seeds, so the components they share draw the same random numbers: B − A is the effect of the change, with a 95 % interval; \"differs\" marks a difference the interval tells from noise (it excludes 0).");
            return request;
        };
        ui.label(format!(
            "A: {} · B: {} · {} replications each (common random numbers)",
            c.a,
            c.b,
            c.seeds.len()
        ));
        overlay_plot(ui, sa, sb, &mut self.overlay, &mut self.overlay_node);
        filter_row(ui, &mut self.filter);
        ui.checkbox(
            &mut self.only_differences,
            "Only figures that differ (the interval of B − A excludes 0)",
        );
        let only = self.only_differences;
        let rows: Vec<&CompareRow> = c
            .rows
            .iter()
            .filter(|r| shows(&self.filter, &r.name) && (!only || r.significant()))
            .collect();
        let est = |e: &Option<Estimate>| {
            e.map_or("—".to_owned(), |e| match e.ci95_half_width {
                Some(h) => format!("{} ± {}", sig(e.mean), sig(h)),
                None => sig(e.mean),
            })
        };
        table(
            ui,
            "compared",
            &["figure", "A", "B", "B − A", ""],
            rows.len(),
            |ui, i| {
                let r = rows[i];
                ui.label(&r.name);
                ui.label(est(&r.a));
                ui.label(est(&r.b));
                ui.label(est(&r.b_minus_a));
                if r.significant() {
                    ui.label(RichText::new("differs").color(ui.visuals().warn_fg_color));
                } else {
                    ui.label("");
                }
            },
        );
        request
    }

    /// Suggests a field and values to sweep: the first consumer's concurrency around its own.
    fn suggest(&mut self, s: &Scenario) {
        let key = (s.name.clone(), s.consumers.len(), s.producers.len());
        if self.suggested_for.as_ref() == Some(&key) {
            return;
        }
        self.suggested_for = Some(key);
        if let Some(c) = s.consumers.first() {
            self.sweep_path = format!("consumers.{}.concurrency", c.id);
            let n = c.concurrency.max(1);
            let values: std::collections::BTreeSet<u32> = [n / 2, n, n + n / 2, 2 * n]
                .into_iter()
                .map(|v| v.max(1))
                .collect();
            self.sweep_values = values
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",");
            self.sweep_figure = format!("nodes.{}.wait_s.p99", c.id);
        }
    }

    fn sweep_tab(&mut self, ui: &mut Ui, input: &AnalysisInput<'_>) {
        let s = input.scenario;
        egui::Grid::new("sweep-inputs").num_columns(2).show(ui, |ui| {
            let label = ui.label("Field");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut self.sweep_path).desired_width(300.0))
                    .labelled_by(label.id)
                    .on_hover_text("A field path as `eventflow sweep --set` takes it: consumers.ID.concurrency, producers.ID.rate, queues.ID.visibility_timeout …");
                ui.menu_button("Fields…", |ui| {
                    for c in &s.consumers {
                        for f in ["concurrency", "batch_size", "failure_rate"] {
                            if ui.button(format!("consumers.{}.{f}", c.id)).clicked() {
                                self.sweep_path = format!("consumers.{}.{f}", c.id);
                            }
                        }
                    }
                    for p in &s.producers {
                        if ui.button(format!("producers.{}.rate", p.id)).clicked() {
                            self.sweep_path = format!("producers.{}.rate", p.id);
                        }
                    }
                });
            });
            ui.end_row();
            let label = ui.label("Values");
            ui.add(egui::TextEdit::singleline(&mut self.sweep_values).desired_width(300.0).hint_text("e.g. 2,4,8,16 or 50ms,100ms"))
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Figure");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut self.sweep_figure).desired_width(300.0))
                    .labelled_by(label.id);
                ui.menu_button("Figures…", |ui| {
                    let sets: Vec<SetSpec> = self.spec().into_iter().collect();
                    for f in sweep::default_figures(s, &sets) {
                        if ui.button(&f).clicked() {
                            self.sweep_figure = f;
                        }
                    }
                });
            });
            ui.end_row();
        });
        let spec = self.spec();
        let blocked = input
            .blocked
            .clone()
            .or_else(|| spec.as_ref().err().cloned());
        let label = format!("Sweep over {} replications per value", self.replications);
        if self.run_row(ui, Tab::Sweep, &label, blocked.as_deref())
            && let Ok(set) = spec
        {
            let request = Request::Sweep {
                scenario: Box::new(s.clone()),
                set,
                seed: input.seed,
                replications: self.replications,
                figures: vec![self.sweep_figure.trim().to_owned()],
            };
            self.start(ui.ctx(), Tab::Sweep, request);
        }
        let Some((sw, xs)) = &self.swept else {
            ui.weak("Each value runs the same seeds; the plot shows the figure's mean and 95 % interval against the value.");
            return;
        };
        let Some(figure) = sw.figures.first().cloned() else {
            return;
        };
        let path = sw.paths.first().cloned().unwrap_or_default();
        ui.label(format!(
            "{figure} against {path} ({} replications per value)",
            sw.seeds.len()
        ));
        let points: Vec<(f64, Option<Estimate>)> = xs
            .iter()
            .enumerate()
            .map(|(v, x)| (*x, sw.estimate(v, &figure)))
            .collect();
        sweep_plot(ui, &path, &figure, &points);
        table(
            ui,
            "swept",
            &[path.as_str(), "mean", "± 95 %"],
            sw.variants.len(),
            |ui, v| {
                let value = sw.variants[v]
                    .0
                    .first()
                    .map_or(String::new(), |(_, x)| sweep::value_text(x));
                ui.label(value);
                if let Some(e) = points[v].1 {
                    ui.label(sig(e.mean));
                    ui.label(e.ci95_half_width.map_or("—".into(), sig));
                } else {
                    ui.label("—");
                    ui.label("");
                }
            },
        );
    }

    /// The `--set` of the inputs, or why it does not read.
    fn spec(&self) -> Result<SetSpec, String> {
        if self.sweep_path.trim().is_empty() || self.sweep_values.trim().is_empty() {
            return Err("give a field and the values to try".into());
        }
        if self.sweep_figure.trim().is_empty() {
            return Err("choose the figure to plot".into());
        }
        format!("{}={}", self.sweep_path.trim(), self.sweep_values.trim())
            .parse::<SetSpec>()
            .map_err(|e| e.to_string())
    }
}

fn filter_row(ui: &mut Ui, filter: &mut String) {
    ui.horizontal(|ui| {
        let label = ui.label("Filter figures");
        ui.add(egui::TextEdit::singleline(filter).hint_text("e.g. payment wait"))
            .labelled_by(label.id);
    });
}

/// Does figure `name` pass the filter (every word appears)?
fn shows(filter: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    filter
        .split_whitespace()
        .all(|w| name.contains(&w.to_lowercase()))
}

/// A swept value as a number: a number, or a duration in seconds.
fn number(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        serde_json::Value::String(s) => Duration::parse(s).map_or(f64::NAN, Duration::as_secs_f64),
        _ => f64::NAN,
    }
}

/// A striped table with a header, its rows drawn only where they are visible.
fn table(ui: &mut Ui, id: &str, header: &[&str], rows: usize, mut row: impl FnMut(&mut Ui, usize)) {
    let height = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
    egui::ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink([false, true])
        .max_height(ui.available_height().max(120.0))
        .show_rows(ui, height, rows + 1, |ui, range| {
            egui::Grid::new((id, "grid"))
                .num_columns(header.len())
                .striped(true)
                .min_col_width(60.0)
                .show(ui, |ui| {
                    for i in range {
                        if i == 0 {
                            for h in header {
                                ui.label(RichText::new(*h).strong());
                            }
                        } else {
                            row(ui, i - 1);
                        }
                        ui.end_row();
                    }
                });
        });
}

/// The nodes that report `metric` in `a`, by name.
fn reporting(a: &SeriesData, metric: Metric) -> Vec<&str> {
    a.nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| a.series.iter().any(|s| s.node == *i && s.metric == metric))
        .map(|(_, n)| n.as_str())
        .collect()
}

/// The position in [`reporting`] of the node whose `metric` series differs most between A and
/// B (summed absolute difference over the buckets), so the overlay opens on the change.
fn most_different(a: &SeriesData, b: &SeriesData, metric: Metric) -> usize {
    let values = |s: &SeriesData, name: &str| -> Vec<f64> {
        let Some(i) = s.nodes.iter().position(|n| n == name) else {
            return Vec::new();
        };
        s.series
            .iter()
            .find(|x| x.node == i && x.metric == metric)
            .map(|x| x.values.iter().map(|v| v.unwrap_or(0.0)).collect())
            .unwrap_or_default()
    };
    reporting(a, metric)
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let (va, vb) = (values(a, name), values(b, name));
            let d: f64 = va.iter().zip(&vb).map(|(x, y)| (x - y).abs()).sum();
            (k, d)
        })
        .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
        .map_or(0, |(k, _)| k)
}

/// A and B's time series of one metric for one node, drawn over each other (A solid, B dashed).
fn overlay_plot(ui: &mut Ui, a: &SeriesData, b: &SeriesData, metric: &mut usize, node: &mut usize) {
    let nodes = reporting(a, OVERLAY_METRICS[*metric % OVERLAY_METRICS.len()].0);
    ui.horizontal(|ui| {
        ui.label("Plot");
        egui::ComboBox::new("overlay-metric", "of")
            .selected_text(OVERLAY_METRICS[*metric % OVERLAY_METRICS.len()].1)
            .show_ui(ui, |ui| {
                for (i, (_, name)) in OVERLAY_METRICS.iter().enumerate() {
                    ui.selectable_value(metric, i, *name);
                }
            });
        let current = nodes.get(*node).copied().unwrap_or("—");
        egui::ComboBox::new("overlay-node", "node")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (i, n) in nodes.iter().enumerate() {
                    ui.selectable_value(node, i, *n);
                }
            });
        ui.weak("seed of replicate 0 · A solid, B dashed");
    });
    let m = OVERLAY_METRICS[*metric % OVERLAY_METRICS.len()].0;
    let Some(name) = nodes.get(*node).copied() else {
        ui.weak("No node reports this metric.");
        return;
    };
    let line = |s: &SeriesData| -> Vec<[f64; 2]> {
        let Some(i) = s.nodes.iter().position(|n| n == name) else {
            return Vec::new();
        };
        let xs = crate::plots::data::bucket_centres(s);
        s.series
            .iter()
            .find(|x| x.node == i && x.metric == m)
            .map(|x| {
                xs.iter()
                    .zip(&x.values)
                    .filter_map(|(t, v)| v.map(|v| [*t, v]))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (la, lb) = (line(a), line(b));
    Plot::new("compare-overlay")
        .height(180.0)
        .legend(Legend::default())
        .x_axis_label("time (s)")
        .include_y(0.0)
        .allow_drag(false)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            plot_ui.line(
                Line::new(format!("A {name}"), PlotPoints::from(la))
                    .color(Color32::from_rgb(60, 120, 220))
                    .width(2.0),
            );
            plot_ui.line(
                Line::new(format!("B {name}"), PlotPoints::from(lb))
                    .color(Color32::from_rgb(230, 120, 40))
                    .width(2.0)
                    .style(egui_plot::LineStyle::dashed_loose()),
            );
        });
}

/// A figure's mean (points, joined) with its 95 % interval (vertical bars) against the swept value.
fn sweep_plot(ui: &mut Ui, path: &str, figure: &str, points: &[(f64, Option<Estimate>)]) {
    let means: Vec<[f64; 2]> = points
        .iter()
        .filter_map(|(x, e)| e.map(|e| [*x, e.mean]))
        .filter(|p| p[0].is_finite())
        .collect();
    let color = Color32::from_rgb(60, 120, 220);
    Plot::new("sweep-plot")
        .height(220.0)
        .x_axis_label(path.to_owned())
        .y_axis_label(figure.to_owned())
        .include_y(0.0)
        .allow_drag(false)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            plot_ui.line(
                Line::new("mean", PlotPoints::from(means.clone()))
                    .color(color)
                    .width(2.0),
            );
            plot_ui.points(Points::new("mean ", means).radius(4.0).color(color));
            for (x, e) in points {
                if let Some((lo, hi)) = e.and_then(|e| e.interval())
                    && x.is_finite()
                {
                    plot_ui.line(
                        Line::new("95 % interval", vec![[*x, lo], [*x, hi]])
                            .color(color.gamma_multiply(0.6))
                            .width(1.5),
                    );
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Series;

    fn series(backlogs: &[[f64; 3]]) -> SeriesData {
        SeriesData {
            bucket_s: 1.0,
            times_s: vec![0.0, 1.0, 2.0],
            nodes: (0..backlogs.len()).map(|i| format!("n{i}")).collect(),
            series: backlogs
                .iter()
                .enumerate()
                .map(|(node, v)| Series {
                    node,
                    metric: Metric::Backlog,
                    values: v.iter().copied().map(Some).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_overlay_opens_on_the_node_that_changed_most() {
        let a = series(&[[1.0, 1.0, 1.0], [5.0, 5.0, 5.0], [2.0, 2.0, 2.0]]);
        let b = series(&[[1.0, 1.0, 1.0], [5.0, 6.0, 5.0], [0.0, 0.0, 0.0]]);
        // |Δ| sums: n0 0, n1 1, n2 6.
        assert_eq!(most_different(&a, &b, Metric::Backlog), 2);
        assert_eq!(reporting(&a, Metric::Busy), Vec::<&str>::new());
    }

    #[test]
    fn swept_values_read_as_numbers_and_filters_match_every_word() {
        assert_eq!(number(&serde_json::json!(8)), 8.0);
        assert_eq!(number(&serde_json::json!("250ms")), 0.25);
        assert!(number(&serde_json::json!(true)).is_nan());
        assert!(shows("payment WAIT", "nodes.payment.wait_s.p99"));
        assert!(!shows("payment latency", "nodes.payment.wait_s.p99"));
        assert!(shows("", "anything"));
    }
}
