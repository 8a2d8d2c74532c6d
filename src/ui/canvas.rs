//! The flow canvas: the scenario drawn left to right, with live rates, backlogs and health.
//!
//! Producers → buses and rules → queues and streams → consumers → DLQs, laid out by
//! [`Graph`]; a node the user drags keeps its place (written to the scenario's `layout` by the
//! app, as an undoable edit). Drag the background to pan, scroll (or pinch) to zoom, double-click
//! the background to fit. During a run, edge thickness follows the live rate and dots move
//! along busy edges; nodes show their figures and a health colour (ok, warning, critical), DLQs
//! their depth, and active fault windows a badge.
//!
//! Each kind has its shape: topics are ellipses with a megaphone, pipes capsules with flanges,
//! state machines double-framed boxes that open (their ▸ toggle, or a double-click) to list
//! their states with each state's entries and failures so far. A component an import made
//! assumptions about carries a badge whose tooltip lists them, the numbers to set first.
//!
//! Each node is an accessible button labelled `"<id> (<kind>)"`, an opened machine's states
//! labels `"state <name> (<Type>) …"`, an assumption badge `"assumptions about <id> …"`, so
//! tests and screen readers select them by name.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use eframe::egui::{
    self, Align2, Color32, CornerRadius, FontId, Pos2, Rect, Response, Role, Sense, Shape, Stroke,
    StrokeKind, Ui, Vec2, WidgetInfo, pos2, text::LayoutJob, vec2,
};

use super::graph::{EdgeKind, Graph, NodeKind, StateRow};
use super::live::{Health, LiveView, NodeLive};
use crate::model::{FaultKind, Scenario};
use crate::sim::Results;

/// Zoom limits.
const MIN_ZOOM: f32 = 0.2;
const MAX_ZOOM: f32 = 2.5;
/// The most Fit zooms in outside presentation mode: a small diagram stays near its drawn size.
const FIT_MAX_ZOOM: f32 = 1.3;

/// What the canvas reads each frame.
pub struct CanvasInput<'a> {
    /// The scenario drawn.
    pub scenario: &'a Scenario,
    /// The scenario as in force at the run's current time, where live edits (timeline `set`
    /// entries, producer schedules) change a consumer's concurrency or a producer's rate: the
    /// node labels show those.
    pub in_force: Option<&'a Scenario>,
    /// Changes with every edit; the graph is rebuilt only when it changes.
    pub revision: u64,
    /// Changes when another document is opened; the view is fitted again then.
    pub document: u64,
    /// Live figures, when there is a run.
    pub live: Option<&'a LiveView>,
    /// The selected node.
    pub selected: Option<&'a str>,
    /// Is the run playing (animate the dots)?
    pub playing: bool,
    /// Circuit breakers to badge (open, half-open, or just changed), by consumer id.
    pub breakers: &'a BTreeMap<String, (String, u64)>,
    /// Nodes a replayed journey has reached, with a label each (time and outcome).
    pub journey: Option<&'a BTreeMap<String, String>>,
    /// Figures of the run so far: an opened state machine's per-state counts.
    pub results: Option<&'a Results>,
}

/// What the user did on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub enum CanvasEvent {
    /// Selected a node (or nothing, clicking the background).
    Select(Option<String>),
    /// Dragged a node to a new world position.
    Move {
        /// Node id.
        id: String,
        /// New centre, world units.
        pos: [f32; 2],
    },
}

/// Pan, zoom and the cached graph.
#[derive(Debug)]
pub struct CanvasView {
    /// Screen offset of the world origin from the canvas's top-left corner.
    offset: Vec2,
    zoom: f32,
    /// Document the view was last fitted to.
    fitted: Option<u64>,
    fit_requested: bool,
    /// Fit may zoom in up to [`MAX_ZOOM`] (presentation mode), not only to [`FIT_MAX_ZOOM`].
    enlarging_fit: bool,
    drawn: Option<(u64, Arc<Drawn>)>,
    /// State machines shown opened, by id.
    open: BTreeSet<String>,
}

/// What the canvas derives from one revision of the scenario.
#[derive(Debug, Default)]
struct Drawn {
    graph: Graph,
    /// Each state machine's states, or why its definition does not parse.
    states: BTreeMap<String, Result<Vec<StateRow>, String>>,
    /// An import's assumptions, by the component they concern.
    assumptions: BTreeMap<String, Vec<String>>,
}

impl Drawn {
    fn build(s: &Scenario) -> Drawn {
        Drawn {
            graph: Graph::build(s),
            states: s
                .state_machines
                .iter()
                .map(|m| (m.id.clone(), super::graph::state_rows(&m.definition)))
                .collect(),
            assumptions: super::graph::assumptions_by_component(&s.description),
        }
    }
}

impl Default for CanvasView {
    fn default() -> Self {
        CanvasView {
            offset: vec2(80.0, 300.0),
            zoom: 1.0,
            fitted: None,
            fit_requested: false,
            enlarging_fit: false,
            drawn: None,
            open: BTreeSet::new(),
        }
    }
}

/// Node size in world units.
fn node_size(kind: NodeKind) -> Vec2 {
    match kind {
        NodeKind::Rule => vec2(124.0, 38.0),
        // The ellipse leaves less room for text at its ends.
        NodeKind::Topic => vec2(182.0, 66.0),
        _ => vec2(162.0, 62.0),
    }
}

/// An opened state machine: its width (at most [`node_size`] plus the gap the layout leaves
/// between layers, `LAYER_GAP` − 162), the height of one state's row and of the space under
/// the rows, world units.
const OPEN_WIDTH: f32 = 250.0;
const STATE_ROW: f32 = 20.0;
const OPEN_FOOT: f32 = 8.0;

/// Text width kept clear at each end of a node by its shape (the topic's megaphone, the
/// pipe's rounded ends), world units.
fn shape_margin(kind: NodeKind) -> f32 {
    match kind {
        NodeKind::Topic => 30.0,
        NodeKind::Pipe => 22.0,
        // The open/close toggle sits at the right.
        NodeKind::StateMachine => 26.0,
        _ => 6.0,
    }
}

fn fill_of(kind: NodeKind) -> Color32 {
    match kind {
        NodeKind::Producer => Color32::from_rgb(22, 78, 88),
        NodeKind::Bus => Color32::from_rgb(70, 44, 104),
        NodeKind::Rule => Color32::from_rgb(52, 38, 74),
        NodeKind::Queue => Color32::from_rgb(28, 58, 104),
        NodeKind::Stream => Color32::from_rgb(40, 48, 110),
        NodeKind::Consumer => Color32::from_rgb(34, 80, 48),
        NodeKind::Dlq => Color32::from_rgb(96, 34, 34),
        NodeKind::Topic => Color32::from_rgb(104, 60, 30),
        NodeKind::Pipe => Color32::from_rgb(60, 70, 40),
        NodeKind::StateMachine => Color32::from_rgb(90, 40, 80),
    }
}

fn health_color(h: Health) -> Color32 {
    match h {
        Health::Ok => Color32::from_rgb(90, 200, 120),
        Health::Warning => Color32::from_rgb(240, 180, 40),
        Health::Critical => Color32::from_rgb(240, 70, 60),
    }
}

/// Compact figure: 1.2k, 35, 0.42.
#[must_use]
pub fn compact(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

impl CanvasView {
    /// Lets Fit enlarge a small diagram to fill the canvas (presentation mode), or not.
    pub fn set_enlarging_fit(&mut self, on: bool) {
        self.enlarging_fit = on;
    }

    /// Fits the whole graph into view on the next frame.
    pub fn request_fit(&mut self) {
        self.fit_requested = true;
    }

    /// Is the state machine `id` shown opened, its states listed?
    #[must_use]
    pub fn is_open(&self, id: &str) -> bool {
        self.open.contains(id)
    }

    /// Opens the state machine `id` to show its states, or closes it.
    pub fn toggle_open(&mut self, id: &str) {
        if !self.open.remove(id) {
            self.open.insert(id.to_owned());
        }
    }

    /// The graph and what is drawn inside nodes, rebuilt only when the revision changes.
    fn drawn(&mut self, input: &CanvasInput<'_>) -> Arc<Drawn> {
        match &self.drawn {
            Some((rev, d)) if *rev == input.revision => Arc::clone(d),
            _ => {
                let d = Arc::new(Drawn::build(input.scenario));
                self.drawn = Some((input.revision, Arc::clone(&d)));
                d
            }
        }
    }

    /// Where node `i` is drawn on screen: its size about its centre, or, for an opened state
    /// machine, the list of its states hanging from where its top was.
    fn node_rect(&self, drawn: &Drawn, i: usize, centre: Pos2) -> Rect {
        let node = &drawn.graph.nodes[i];
        let size = node_size(node.kind);
        let closed = Rect::from_center_size(centre, size * self.zoom);
        if node.kind != NodeKind::StateMachine || !self.is_open(&node.id) {
            return closed;
        }
        let rows = match drawn.states.get(&node.id) {
            Some(Ok(rows)) => rows.len().max(1),
            _ => 2,
        };
        // Wider about the same centre (the layout's gaps between layers take the extra width),
        // and longer downwards from the same top.
        let height = size.y + rows as f32 * STATE_ROW + OPEN_FOOT;
        Rect::from_min_size(
            pos2(centre.x - OPEN_WIDTH / 2.0 * self.zoom, closed.top()),
            vec2(OPEN_WIDTH, height) * self.zoom,
        )
    }

    fn to_screen(&self, rect: Rect, world: [f32; 2]) -> Pos2 {
        rect.min + self.offset + vec2(world[0], world[1]) * self.zoom
    }

    fn fit(&mut self, rect: Rect, scenario: &Scenario, graph: &Graph) {
        let mut bounds = Rect::NOTHING;
        for (i, n) in graph.nodes.iter().enumerate() {
            let [x, y] = graph.position(scenario, i);
            bounds = bounds.union(Rect::from_center_size(pos2(x, y), node_size(n.kind)));
        }
        if !bounds.is_positive() {
            self.zoom = 1.0;
            self.offset = rect.size() / 2.0;
            return;
        }
        let margin = 48.0;
        let zx = (rect.width() - margin * 2.0).max(50.0) / bounds.width();
        let zy = (rect.height() - margin * 2.0).max(50.0) / bounds.height();
        let most = if self.enlarging_fit {
            MAX_ZOOM
        } else {
            FIT_MAX_ZOOM
        };
        self.zoom = zx.min(zy).clamp(MIN_ZOOM, most);
        self.offset = rect.size() / 2.0 - bounds.center().to_vec2() * self.zoom;
    }

    /// Draws the canvas in all the space left in `ui` and returns what the user did.
    pub fn show(&mut self, ui: &mut Ui, input: &CanvasInput<'_>) -> Vec<CanvasEvent> {
        let mut events = Vec::new();
        let (rect, background) =
            ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        background.widget_info(|| WidgetInfo::labeled(Role::Canvas, true, "Flow canvas"));
        let drawn = self.drawn(input);
        let graph = &drawn.graph;
        if self.fitted != Some(input.document) || self.fit_requested {
            self.fit(rect, input.scenario, graph);
            self.fitted = Some(input.document);
            self.fit_requested = false;
        }
        self.pan_and_zoom(ui, rect, &background, input, graph);
        if background.clicked() {
            events.push(CanvasEvent::Select(None));
        }

        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, CornerRadius::ZERO, ui.visuals().extreme_bg_color);
        draw_grid(&painter, rect, self.offset, self.zoom);

        if graph.nodes.is_empty() {
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                "An empty scenario: add components with the buttons above, or open an example (File ▸ Open example).",
                FontId::proportional(15.0),
                ui.visuals().weak_text_color(),
            );
            return events;
        }

        let centres: Vec<Pos2> = (0..graph.nodes.len())
            .map(|i| self.to_screen(rect, graph.position(input.scenario, i)))
            .collect();
        let rects: Vec<Rect> = (0..graph.nodes.len())
            .map(|i| self.node_rect(&drawn, i, centres[i]))
            .collect();
        let time_s = ui.input(|i| i.time);
        for e in &graph.edges {
            self.draw_edge(
                &painter,
                graph,
                (&centres, &rects),
                *e,
                input.live,
                input.playing,
                time_s,
            );
        }
        // Opened state machines last: drawn over their neighbours, and first to take the mouse.
        let mut order: Vec<usize> = (0..graph.nodes.len()).collect();
        order.sort_by_key(|&i| rects[i].size() != node_size(graph.nodes[i].kind) * self.zoom);
        for i in order {
            let node = &graph.nodes[i];
            let node_rect = rects[i];
            let id = ui.scope_id().with(("canvas-node", &node.id));
            let response = ui.interact(node_rect.intersect(rect), id, Sense::click_and_drag());
            let selected = input.selected == Some(node.id.as_str());
            let label = format!("{} ({})", node.id, node.kind.label());
            response.widget_info(|| WidgetInfo::selected(Role::Button, true, selected, &label));
            let live = input
                .live
                .and_then(|l| l.get(&node.id).or_else(|| rule_live(l, node)));
            self.draw_node(
                ui, &painter, node_rect, input, i, graph, live, selected, &response,
            );
            if node.kind == NodeKind::StateMachine {
                self.machine_parts(ui, &painter, rect, node_rect, &node.id, &drawn, input);
                if response.double_clicked() {
                    self.toggle_open(&node.id);
                }
            }
            let assumed = drawn.assumptions.get(&node.id);
            if let Some(list) = assumed {
                self.assumption_badge(ui, &painter, rect, node_rect, &node.id, list);
            }
            if let Some(label) = input.journey.and_then(|j| j.get(&node.id)) {
                let journey = Color32::from_rgb(255, 170, 40);
                painter.rect_stroke(
                    node_rect.expand(7.0 * self.zoom.max(0.6)),
                    10.0,
                    Stroke::new(3.0, journey),
                    StrokeKind::Outside,
                );
                painter.text(
                    node_rect.center_top() - vec2(0.0, 10.0 * self.zoom.max(0.6)),
                    Align2::CENTER_BOTTOM,
                    label,
                    FontId::proportional(13.0 * self.zoom.max(0.8)),
                    journey,
                );
            }
            if response.clicked() || response.drag_started() {
                events.push(CanvasEvent::Select(Some(node.id.clone())));
            }
            if response.dragged() && response.drag_delta() != Vec2::ZERO {
                let [x, y] = graph.position(input.scenario, i);
                let d = response.drag_delta() / self.zoom;
                events.push(CanvasEvent::Move {
                    id: node.id.clone(),
                    pos: [x + d.x, y + d.y],
                });
            }
            let mut hover = hover_text(node.kind, &node.id, live);
            if let Some(list) = assumed {
                hover.push_str(&assumptions_text(list));
            }
            response.on_hover_text(hover);
        }
        if let Some(live) = input.live.filter(|l| l.at_cursor) {
            painter.text(
                rect.right_top() + vec2(-12.0, 10.0),
                Align2::RIGHT_TOP,
                format!(
                    "showing t = {} (time cursor)",
                    crate::report::human_secs(live.time_s)
                ),
                FontId::proportional(13.0),
                ui.visuals().warn_fg_color,
            );
        }
        events
    }

    fn pan_and_zoom(
        &mut self,
        ui: &Ui,
        rect: Rect,
        background: &Response,
        input: &CanvasInput<'_>,
        graph: &Graph,
    ) {
        if background.dragged() {
            self.offset += background.drag_delta();
        }
        if background.double_clicked() {
            self.fit(rect, input.scenario, graph);
        }
        if ui.rect_contains_pointer(rect) {
            let (scroll, pinch, pointer) = ui.input(|i| {
                (
                    i.smooth_scroll_delta.y,
                    i.zoom_delta(),
                    i.pointer.hover_pos(),
                )
            });
            let factor = pinch * (scroll / 300.0).exp();
            if (factor - 1.0).abs() > 1e-4 {
                let p = pointer.unwrap_or(rect.center()) - rect.min;
                let new_zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
                let world = (p - self.offset) / self.zoom;
                self.offset = p - world * new_zoom;
                self.zoom = new_zoom;
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one drawing routine with its context spelled out
    fn draw_edge(
        &self,
        painter: &egui::Painter,
        graph: &Graph,
        (centres, rects): (&[Pos2], &[Rect]),
        e: super::graph::GraphEdge,
        live: Option<&LiveView>,
        playing: bool,
        time_s: f64,
    ) {
        let z = self.zoom;
        // Edges meet a node at the height of its centre (an opened machine's header).
        let start = pos2(rects[e.from].right(), centres[e.from].y);
        let end = pos2(rects[e.to].left(), centres[e.to].y);
        let backwards = end.x < start.x + 20.0 * z;
        let bend = ((end.x - start.x).abs() * 0.5).max(60.0 * z);
        let (c1, c2) = if backwards {
            // Loop around below: out to the right, back in from the left.
            let drop = 90.0 * z;
            (start + vec2(bend, drop), end + vec2(-bend, drop))
        } else {
            (start + vec2(bend, 0.0), end - vec2(bend, 0.0))
        };
        let points: Vec<Pos2> = (0..=24)
            .map(|k| bezier(start, c1, c2, end, k as f32 / 24.0))
            .collect();
        let rate = live.map_or(0.0, |l| edge_rate(graph, l, e));
        let (color, width) = match e.kind {
            EdgeKind::Flow => (Color32::from_gray(150), 1.5),
            EdgeKind::Emit => (Color32::from_rgb(120, 160, 220), 1.5),
            EdgeKind::DeadLetter => (Color32::from_rgb(210, 90, 80), 1.5),
        };
        let width = (width + 1.2 * (1.0 + rate).log10() as f32) * z.max(0.5);
        let stroke = Stroke::new(width, color);
        if e.kind == EdgeKind::Flow {
            painter.add(Shape::line(points.clone(), stroke));
        } else {
            painter.extend(Shape::dashed_line(&points, stroke, 8.0 * z, 5.0 * z));
        }
        // Arrow head.
        let dir = (end - points[22]).normalized();
        let normal = vec2(-dir.y, dir.x);
        let head = 9.0 * z.max(0.6);
        painter.add(Shape::convex_polygon(
            vec![
                end,
                end - dir * head + normal * head * 0.5,
                end - dir * head - normal * head * 0.5,
            ],
            color,
            Stroke::NONE,
        ));
        if rate > 0.0 {
            if playing {
                // Moving dots: more on busier edges; they travel one edge per 1.5 s of wall time.
                let dots = (1.0 + rate.log2().max(0.0)).min(8.0) as usize;
                for k in 0..dots {
                    let t = ((time_s / 1.5) + k as f64 / dots as f64).fract() as f32;
                    let p = bezier(start, c1, c2, end, t);
                    painter.circle_filled(p, (2.5 * z).max(1.5), color.gamma_multiply(1.4));
                }
            }
            if z >= 0.5 {
                let mid = bezier(start, c1, c2, end, 0.5);
                painter.text(
                    mid - vec2(0.0, 4.0),
                    Align2::CENTER_BOTTOM,
                    format!("{}/s", compact(rate)),
                    FontId::proportional(11.0 * z.max(0.8)),
                    Color32::from_gray(200),
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)] // one drawing routine with its context spelled out
    fn draw_node(
        &self,
        ui: &Ui,
        painter: &egui::Painter,
        rect: Rect,
        input: &CanvasInput<'_>,
        index: usize,
        graph: &Graph,
        live: Option<&NodeLive>,
        selected: bool,
        response: &Response,
    ) {
        let z = self.zoom;
        let node = &graph.nodes[index];
        let health = live.map(|l| l.health);
        let border = match health {
            Some(h) if h != Health::Ok || input.live.is_some() => health_color(h),
            _ => Color32::from_gray(110),
        };
        let fill = if response.hovered() {
            fill_of(node.kind).gamma_multiply(1.25)
        } else {
            fill_of(node.kind)
        };
        let stroke = Stroke::new(2.0 * z.max(0.6), border);
        let radius = paint_body(painter, node.kind, rect, fill, stroke, z);
        if selected {
            let highlight = Stroke::new(2.5, ui.visuals().selection.stroke.color);
            let around = rect.expand(4.0 * z.max(0.6));
            if node.kind == NodeKind::Topic {
                painter.add(Shape::ellipse_stroke(
                    around.center(),
                    around.size() / 2.0,
                    highlight,
                ));
            } else {
                painter.rect_stroke(around, radius + 4.0, highlight, StrokeKind::Outside);
            }
        }
        let text = Color32::from_gray(235);
        let weak = Color32::from_gray(185);
        let inner = rect.width() - 2.0 * shape_margin(node.kind) * z;
        let line = |row: f32, s: String, size: f32, color: Color32| {
            let mut job = LayoutJob::simple_singleline(s, FontId::proportional(size * z), color);
            job.wrap = egui::text::TextWrapping::truncate_at_width(inner.max(10.0));
            let galley = painter.layout_job(job);
            let pos = pos2(
                rect.center().x - galley.size().x / 2.0,
                rect.top() + row * z,
            );
            painter.galley(pos, galley, color);
        };
        if node.kind == NodeKind::Rule {
            line(12.0, node.id.clone(), 13.0, text);
            return;
        }
        line(6.0, node.id.clone(), 14.0, text);
        if z >= 0.45 {
            line(
                25.0,
                detail(
                    input.in_force.unwrap_or(input.scenario),
                    node.kind,
                    &node.id,
                ),
                11.5,
                weak,
            );
        }
        if let Some(l) = live.filter(|_| z >= 0.45) {
            let figures = live_line(
                input.in_force.unwrap_or(input.scenario),
                node.kind,
                &node.id,
                l,
            );
            line(
                42.0,
                figures,
                12.0,
                health_color(l.health).lerp_to_gamma(Color32::WHITE, 0.35),
            );
        }
        // Badges above the node: an active fault, a circuit breaker that just changed state.
        let mut badges: Vec<String> = Vec::new();
        if let Some(kind) = live.and_then(|l| l.fault) {
            badges.push(
                match kind {
                    FaultKind::Outage => "▲ outage",
                    FaultKind::Slowdown => "▲ slowdown",
                    FaultKind::Errors => "▲ errors",
                }
                .to_owned(),
            );
        }
        if let Some((state, _)) = input.breakers.get(&node.id) {
            badges.push(format!("◉ breaker {state}"));
        }
        if !badges.is_empty() {
            painter.text(
                rect.right_top() + vec2(0.0, -3.0 * z),
                Align2::RIGHT_BOTTOM,
                badges.join("  "),
                FontId::proportional(12.0 * z.max(0.7)),
                Color32::from_rgb(255, 170, 60),
            );
        }
    }

    /// A state machine's open/close toggle and, when opened, its states with their counts.
    #[allow(clippy::too_many_arguments)] // one drawing routine with its context spelled out
    fn machine_parts(
        &mut self,
        ui: &Ui,
        painter: &egui::Painter,
        clip: Rect,
        rect: Rect,
        id: &str,
        drawn: &Drawn,
        input: &CanvasInput<'_>,
    ) {
        let z = self.zoom;
        let open = self.is_open(id);
        let toggle = Rect::from_min_size(
            rect.right_top() + vec2(-24.0 * z.max(0.6), 6.0 * z),
            Vec2::splat(18.0 * z.max(0.6)),
        );
        let label = if open {
            format!("Hide the states of {id}")
        } else {
            format!("Show the states of {id}")
        };
        let response = ui.interact(
            toggle.intersect(clip),
            ui.scope_id().with(("canvas-machine-toggle", id)),
            Sense::click(),
        );
        response.widget_info(|| WidgetInfo::labeled(Role::Button, true, &label));
        painter.text(
            toggle.center(),
            Align2::CENTER_CENTER,
            if open { "▾" } else { "▸" },
            FontId::proportional(15.0 * z.max(0.7)),
            if response.hovered() {
                Color32::WHITE
            } else {
                Color32::from_gray(200)
            },
        );
        if response.on_hover_text(label).clicked() {
            self.toggle_open(id);
        }
        if !open {
            return;
        }
        let top = rect.top() + node_size(NodeKind::StateMachine).y * z;
        painter.line_segment(
            [
                pos2(rect.left() + 8.0 * z, top - 2.0 * z),
                pos2(rect.right() - 8.0 * z, top - 2.0 * z),
            ],
            Stroke::new(1.0, Color32::from_white_alpha(60)),
        );
        let figures = input
            .results
            .and_then(|r| r.nodes.get(id))
            .and_then(|n| n.state_machine.as_ref());
        let rows = match drawn.states.get(id) {
            Some(Ok(rows)) => rows,
            Some(Err(e)) => {
                let mut job = LayoutJob::simple(
                    format!("definition: {e}"),
                    FontId::proportional(11.0 * z),
                    ui.visuals().error_fg_color,
                    rect.width() - 16.0 * z,
                );
                job.wrap.max_rows = 2;
                painter.galley(
                    pos2(rect.left() + 8.0 * z, top + 2.0 * z),
                    painter.layout_job(job),
                    Color32::WHITE,
                );
                return;
            }
            None => return,
        };
        let font = FontId::proportional(11.5 * z);
        for (k, row) in rows.iter().enumerate() {
            let y = top + k as f32 * STATE_ROW * z;
            let row_rect = Rect::from_min_max(
                pos2(rect.left() + 6.0 * z, y),
                pos2(rect.right() - 6.0 * z, y + STATE_ROW * z),
            );
            let counts = figures.and_then(|f| f.states.iter().find(|s| s.state == row.name));
            let (entries, failures, retries) =
                counts.map_or((0, 0, 0), |c| (c.entries, c.failures, c.retries));
            let x = row_rect.left() + (4.0 + row.depth as f32 * 12.0) * z;
            let mid = row_rect.center().y;
            painter.circle_filled(pos2(x + 3.0 * z, mid), 3.5 * z, state_color(row.kind));
            let start = if row.start { "▶ " } else { "" };
            let name = format!("{start}{}", row.label);
            let mut job = LayoutJob::default();
            job.append(
                &name,
                0.0,
                egui::TextFormat::simple(font.clone(), Color32::from_gray(235)),
            );
            job.append(
                row.kind,
                6.0 * z,
                egui::TextFormat::simple(FontId::proportional(10.0 * z), Color32::from_gray(160)),
            );
            job.wrap = egui::text::TextWrapping::truncate_at_width(
                (row_rect.right() - x - 96.0 * z).max(10.0),
            );
            let galley = painter.layout_job(job);
            painter.galley(
                pos2(x + 10.0 * z, mid - galley.size().y / 2.0),
                galley,
                Color32::WHITE,
            );
            let fail_color = if failures > 0 {
                Color32::from_rgb(250, 120, 100)
            } else {
                Color32::from_gray(150)
            };
            painter.text(
                pos2(row_rect.right() - 4.0 * z, mid),
                Align2::RIGHT_CENTER,
                format!("fail {}", compact(failures as f64)),
                font.clone(),
                fail_color,
            );
            painter.text(
                pos2(row_rect.right() - 50.0 * z, mid),
                Align2::RIGHT_CENTER,
                format!("in {}", compact(entries as f64)),
                font.clone(),
                Color32::from_gray(215),
            );
            let described = format!(
                "state {} ({}): {entries} entries, {failures} failures, {retries} retries",
                row.name, row.kind
            );
            let response = ui.interact(
                row_rect.intersect(clip),
                ui.scope_id().with(("canvas-machine-state", id, &row.name)),
                Sense::hover(),
            );
            response.widget_info(|| WidgetInfo::labeled(Role::Label, true, &described));
            response.on_hover_text(format!(
                "{described}\n(entries and failures since the warm-up; a retry is not an entry)"
            ));
        }
    }

    /// A badge on a node an import made assumptions about, listing them on hover.
    fn assumption_badge(
        &self,
        ui: &Ui,
        painter: &egui::Painter,
        clip: Rect,
        rect: Rect,
        id: &str,
        list: &[String],
    ) {
        let z = self.zoom.max(0.7);
        let text = format!("! {} assumed", list.len());
        let galley = painter.layout_no_wrap(
            text,
            FontId::proportional(11.5 * z),
            Color32::from_rgb(30, 20, 0),
        );
        let badge = Rect::from_min_size(
            rect.left_top() + vec2(0.0, -galley.size().y - 6.0 * z),
            galley.size() + vec2(10.0 * z, 4.0 * z),
        );
        painter.rect_filled(badge, 6.0 * z, Color32::from_rgb(250, 190, 70));
        painter.galley(
            badge.min + vec2(5.0 * z, 2.0 * z),
            galley,
            Color32::from_rgb(30, 20, 0),
        );
        let label = format!("assumptions about {id}: {}", list.join("; "));
        let response = ui.interact(
            badge.intersect(clip),
            ui.scope_id().with(("canvas-assumptions", id)),
            Sense::hover(),
        );
        response.widget_info(|| WidgetInfo::labeled(Role::Label, true, &label));
        response.on_hover_text(format!("{id}{}", assumptions_text(list)));
    }
}

/// Paints a node's body in its kind's shape and returns the corner radius used for the
/// selection outline.
fn paint_body(
    painter: &egui::Painter,
    kind: NodeKind,
    rect: Rect,
    fill: Color32,
    stroke: Stroke,
    z: f32,
) -> f32 {
    let mark = Color32::from_white_alpha(90);
    let thin = Stroke::new(1.5 * z.max(0.6), mark);
    match kind {
        NodeKind::Topic => {
            // An ellipse, and a megaphone at its left end sending out waves.
            painter.add(Shape::ellipse_filled(
                rect.center(),
                rect.size() / 2.0,
                fill,
            ));
            painter.add(Shape::ellipse_stroke(
                rect.center(),
                rect.size() / 2.0 - Vec2::splat(stroke.width / 2.0),
                stroke,
            ));
            let c = rect.left_center() + vec2(17.0 * z, 0.0);
            let (h, w) = (5.0 * z, 9.0 * z);
            painter.add(Shape::convex_polygon(
                vec![
                    c + vec2(-w / 2.0, -h / 2.0),
                    c + vec2(w / 2.0, -h * 1.3),
                    c + vec2(w / 2.0, h * 1.3),
                    c + vec2(-w / 2.0, h / 2.0),
                ],
                mark,
                Stroke::NONE,
            ));
            for k in 1..=2 {
                let r = (w / 2.0) + 3.5 * z * k as f32;
                let arc: Vec<Pos2> = (-3..=3)
                    .map(|a| {
                        let t = a as f32 * 0.22;
                        c + vec2(t.cos(), t.sin()) * r
                    })
                    .collect();
                painter.add(Shape::line(arc, thin));
            }
            rect.height() / 2.0
        }
        NodeKind::Pipe => {
            // A capsule with a flange near each end.
            let r = rect.height() / 2.0;
            painter.rect(rect, r, fill, stroke, StrokeKind::Inside);
            for x in [rect.left() + r * 0.75, rect.right() - r * 0.75] {
                painter.line_segment(
                    [
                        pos2(x, rect.top() + 4.0 * z),
                        pos2(x, rect.bottom() - 4.0 * z),
                    ],
                    thin,
                );
            }
            r
        }
        NodeKind::StateMachine => {
            // A double frame, the outline of a workflow.
            let r = 12.0 * z;
            painter.rect(rect, r, fill, stroke, StrokeKind::Inside);
            painter.rect_stroke(
                rect.shrink(4.0 * z),
                (r - 4.0 * z).max(0.0),
                Stroke::new(1.0 * z.max(0.6), mark),
                StrokeKind::Inside,
            );
            r
        }
        _ => {
            let r = if kind == NodeKind::Rule { 18.0 } else { 8.0 } * z;
            painter.rect(rect, r, fill, stroke, StrokeKind::Inside);
            r
        }
    }
}

/// Colour of an ASL state type's marker.
fn state_color(kind: &str) -> Color32 {
    match kind {
        "Task" => Color32::from_rgb(110, 170, 240),
        "Choice" => Color32::from_rgb(240, 200, 80),
        "Parallel" | "Map" => Color32::from_rgb(190, 140, 240),
        "Succeed" => Color32::from_rgb(90, 200, 120),
        "Fail" => Color32::from_rgb(240, 90, 80),
        _ => Color32::from_gray(170),
    }
}

/// A node's assumptions as the lines of a tooltip.
fn assumptions_text(list: &[String]) -> String {
    let mut s = format!(
        "\n\nAssumed on import ({}), set first:",
        crate::report::plural(list.len(), "number")
    );
    for a in list {
        s.push_str("\n• ");
        s.push_str(a);
    }
    s
}

/// A rule has no figures of its own; it shows its bus's health.
fn rule_live<'a>(live: &'a LiveView, node: &super::graph::GraphNode) -> Option<&'a NodeLive> {
    node.bus
        .as_deref()
        .and_then(|b| live.get(b))
        .filter(|_| node.kind == NodeKind::Rule)
}

/// The second line: what kind of thing, with its key setting.
fn detail(s: &Scenario, kind: NodeKind, id: &str) -> String {
    match kind {
        NodeKind::Producer => s
            .producers
            .iter()
            .find(|p| p.id == id)
            .map_or_else(String::new, |p| format!("producer · {}/s", compact(p.rate))),
        NodeKind::Bus => s
            .buses
            .iter()
            .find(|b| b.id == id)
            .map_or_else(String::new, |b| {
                format!("bus · {} rule{}", b.rules.len(), plural(b.rules.len()))
            }),
        NodeKind::Queue | NodeKind::Dlq => {
            s.queues
                .iter()
                .find(|q| q.id == id)
                .map_or_else(String::new, |q| {
                    let fifo = if q.kind == crate::model::QueueType::Fifo {
                        "FIFO "
                    } else {
                        ""
                    };
                    let cap = q
                        .capacity
                        .map_or_else(String::new, |c| format!(" · cap {}", compact(c as f64)));
                    if kind == NodeKind::Dlq {
                        format!("{fifo}dead-letter queue{cap}")
                    } else {
                        format!("{fifo}queue{cap}")
                    }
                })
        }
        NodeKind::Stream => s
            .streams
            .iter()
            .find(|x| x.id == id)
            .map_or_else(String::new, |x| {
                format!(
                    "stream · {} partition{}",
                    x.partitions,
                    plural(x.partitions as usize)
                )
            }),
        NodeKind::Consumer => {
            s.consumers
                .iter()
                .find(|c| c.id == id)
                .map_or_else(String::new, |c| {
                    let mean_ms = c.service_time.mean_ns() / 1e6;
                    format!("consumer · ×{} · {}ms", c.concurrency, compact(mean_ms))
                })
        }
        NodeKind::Topic => s
            .topics
            .iter()
            .find(|t| t.id == id)
            .map_or_else(String::new, |t| {
                let fifo = if t.kind == crate::model::TopicType::Fifo {
                    "FIFO "
                } else {
                    ""
                };
                let n = t.subscriptions.len();
                format!("{fifo}topic · {n} subscription{}", plural(n))
            }),
        NodeKind::Pipe => s
            .pipes
            .iter()
            .find(|p| p.id == id)
            .map_or_else(String::new, |p| {
                if p.enrichment.is_some() {
                    "pipe · enriched".to_owned()
                } else {
                    "pipe".to_owned()
                }
            }),
        NodeKind::StateMachine => {
            s.state_machines
                .iter()
                .find(|m| m.id == id)
                .map_or_else(String::new, |m| {
                    let n = m
                        .definition
                        .get("States")
                        .and_then(serde_json::Value::as_object)
                        .map_or(0, serde_json::Map::len);
                    format!("state machine · {n} state{}", plural(n))
                })
        }
        NodeKind::Rule => String::new(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The third line: live figures.
fn live_line(s: &Scenario, kind: NodeKind, id: &str, l: &NodeLive) -> String {
    match kind {
        NodeKind::Producer => format!("{}/s sent", compact(l.completions_per_s)),
        NodeKind::Bus | NodeKind::Topic | NodeKind::Pipe | NodeKind::StateMachine => {
            format!("{}/s in", compact(l.arrivals_per_s))
        }
        NodeKind::Dlq => format!("depth {}", compact(l.backlog)),
        NodeKind::Queue | NodeKind::Stream => {
            let behind = l.lag.max(l.backlog);
            format!(
                "backlog {} · {}/s in",
                compact(behind),
                compact(l.arrivals_per_s)
            )
        }
        NodeKind::Consumer => {
            let slots = s
                .consumers
                .iter()
                .find(|c| c.id == id)
                .map_or(1, |c| c.concurrency.max(1));
            let rho = l.busy / f64::from(slots);
            format!(
                "{}/s · ρ {:.2} · L {}",
                compact(l.completions_per_s),
                rho,
                compact(l.backlog)
            )
        }
        NodeKind::Rule => String::new(),
    }
}

fn hover_text(kind: NodeKind, id: &str, live: Option<&NodeLive>) -> String {
    let mut s = format!("{id} — {}\nClick to inspect, drag to move.", kind.label());
    if let Some(l) = live {
        s.push_str(&format!(
            "\n\nλ {:.2}/s · throughput {:.2}/s\nbacklog {:.1} · busy {:.1}",
            l.arrivals_per_s, l.completions_per_s, l.backlog, l.busy
        ));
        if let Some(age) = l.lag_s {
            s.push_str(&format!(" · oldest {}", crate::report::human_secs(age)));
        }
    }
    s
}

/// The rate shown on an edge: what arrives at its destination, shared evenly among the edges
/// into it when several feed it and the source's output is not known per edge.
fn edge_rate(graph: &Graph, live: &LiveView, e: super::graph::GraphEdge) -> f64 {
    let to = &graph.nodes[e.to];
    let from = &graph.nodes[e.from];
    let into = graph.edges.iter().filter(|x| x.to == e.to).count().max(1);
    let out_of = graph
        .edges
        .iter()
        .filter(|x| x.from == e.from && x.kind == e.kind)
        .count()
        .max(1);
    let arrivals = live.get(&to.id).map(|l| l.arrivals_per_s);
    let sent = if from.kind == NodeKind::Rule {
        None
    } else {
        live.get(&from.id).map(|l| l.completions_per_s)
    };
    match e.kind {
        EdgeKind::DeadLetter => live
            .get(&to.id)
            .map_or(0.0, |l| l.arrivals_per_s / into as f64),
        _ if into == 1 => arrivals.unwrap_or(0.0),
        _ if out_of == 1 && sent.is_some() => sent.unwrap_or(0.0),
        _ => arrivals.unwrap_or(0.0) / into as f64,
    }
}

fn bezier(p0: Pos2, p1: Pos2, p2: Pos2, p3: Pos2, t: f32) -> Pos2 {
    let u = 1.0 - t;
    let v = p0.to_vec2() * (u * u * u)
        + p1.to_vec2() * (3.0 * u * u * t)
        + p2.to_vec2() * (3.0 * u * t * t)
        + p3.to_vec2() * (t * t * t);
    v.to_pos2()
}

fn draw_grid(painter: &egui::Painter, rect: Rect, offset: Vec2, zoom: f32) {
    let step = 40.0 * zoom;
    if step < 8.0 {
        return;
    }
    let color = Color32::from_white_alpha(10);
    let origin = rect.min + offset;
    let first_x = origin.x - ((origin.x - rect.left()) / step).floor() * step;
    let first_y = origin.y - ((origin.y - rect.top()) / step).floor() * step;
    let mut x = first_x;
    while x < rect.right() {
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            Stroke::new(1.0, color),
        );
        x += step;
    }
    let mut y = first_y;
    while y < rect.bottom() {
        painter.line_segment(
            [pos2(rect.left(), y), pos2(rect.right(), y)],
            Stroke::new(1.0, color),
        );
        y += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_edit_shows_on_the_node_from_its_time_on() {
        let text = crate::examples::find("order-fanout.json")
            .expect("bundled")
            .text;
        let mut s = crate::scenario::parse(text, "order-fanout.json")
            .expect("the bundled example loads")
            .scenario;
        let own = s
            .consumers
            .iter()
            .find(|c| c.id == "payment")
            .unwrap()
            .concurrency;
        s.timeline.push(crate::model::TimelineEntry {
            at: crate::model::Duration::from_secs(60),
            action: crate::model::TimelineAction::SetConcurrency {
                consumer: "payment".into(),
                concurrency: own + 6,
            },
        });
        let label = |t: u64| {
            let view = super::super::live_edit::in_force(&s, crate::model::Duration::from_secs(t));
            detail(&view, NodeKind::Consumer, "payment")
        };
        assert!(
            label(59).starts_with(&format!("consumer · ×{own} ·")),
            "{}",
            label(59)
        );
        assert!(
            label(61).starts_with(&format!("consumer · ×{} ·", own + 6)),
            "{}",
            label(61)
        );
    }

    #[test]
    fn compact_figures_stay_short() {
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(0.5), "0.50");
        assert_eq!(compact(35.2), "35");
        assert_eq!(compact(1234.0), "1.2k");
        assert_eq!(compact(45_000.0), "45k");
        assert_eq!(compact(2_500_000.0), "2.5M");
    }
}
