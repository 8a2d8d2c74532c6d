//! Measuring the frame: with `EVENTFLOW_FRAME_LOG=FILE` in the environment the app appends, every
//! 120 frames, the frame CPU time eframe reports (`frame.info().cpu_usage`: the UI, tessellation
//! and painting, not the buffer swap) as mean, median, 95th percentile and maximum, and the mean
//! wall time of each part of the UI code (menu and toolbars, plots, notes, inspector, canvas,
//! windows). Off by default; nothing is timed then. Once a line, it also tessellates a copy of
//! that frame's shapes and writes what the GPU (or a software renderer) had to draw: draw calls,
//! vertices, triangles, the pixels they cover and the clip rectangles with the most triangles.

use eframe::egui;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Frames per line of the log.
const FRAMES_PER_LINE: usize = 120;

/// The wall time of each part of one frame's UI code.
pub struct Sections {
    last: Option<Instant>,
    laps: Vec<(&'static str, f32)>,
}

impl Sections {
    /// Starts timing (or does nothing when `on` is false).
    #[must_use]
    pub fn start(on: bool) -> Sections {
        Sections {
            last: on.then(Instant::now),
            laps: Vec::new(),
        }
    }

    /// Ends the part called `name`, started at the previous lap.
    pub fn lap(&mut self, name: &'static str) {
        if let Some(last) = self.last {
            let now = Instant::now();
            self.laps.push((name, (now - last).as_secs_f32() * 1000.0));
            self.last = Some(now);
        }
    }
}

/// The frame log being collected.
pub struct FrameLog {
    path: PathBuf,
    cpu_ms: Vec<f32>,
    playing: usize,
    sections: Vec<(&'static str, f32)>,
    mesh: Option<String>,
}

impl FrameLog {
    /// The log named by `EVENTFLOW_FRAME_LOG`, if set.
    #[must_use]
    pub fn from_env() -> Option<FrameLog> {
        let path = std::env::var_os("EVENTFLOW_FRAME_LOG")?;
        Some(FrameLog {
            path: PathBuf::from(path),
            cpu_ms: Vec::with_capacity(FRAMES_PER_LINE),
            playing: 0,
            sections: Vec::new(),
            mesh: None,
        })
    }

    /// One frame's CPU time, milliseconds.
    pub fn frame(&mut self, cpu_ms: f32, playing: bool) {
        self.cpu_ms.push(cpu_ms);
        self.playing += usize::from(playing);
        if self.cpu_ms.len() >= FRAMES_PER_LINE {
            self.write();
        }
    }

    /// Adds one frame's section times.
    pub fn sections(&mut self, s: &Sections) {
        for &(name, ms) in &s.laps {
            match self.sections.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 += ms,
                None => self.sections.push((name, ms)),
            }
        }
    }

    /// Does the frame being drawn end a line (and so gets its mesh measured)?
    #[must_use]
    pub fn wants_mesh(&self) -> bool {
        self.cpu_ms.len() + 1 == FRAMES_PER_LINE
    }

    /// Tessellates a copy of the shapes painted so far this frame and keeps a summary for the
    /// next line. Costs a second tessellation, hence once a line.
    pub fn mesh(&mut self, ctx: &egui::Context) {
        let layers: Vec<egui::LayerId> = ctx.memory(|m| m.layer_ids().collect());
        let shapes: Vec<egui::epaint::ClippedShape> = ctx.graphics(|g| {
            layers
                .iter()
                .filter_map(|id| g.get(*id))
                .flat_map(|list| list.all_entries().cloned())
                .collect()
        });
        let ppp = ctx.pixels_per_point();
        let screen = ctx.content_rect().area() * ppp * ppp;
        let primitives = ctx.tessellate(shapes, ppp);
        let (mut vertices, mut triangles, mut area) = (0usize, 0usize, 0f32);
        let mut by_clip: Vec<(egui::Rect, usize)> = Vec::new();
        for p in &primitives {
            if let egui::epaint::Primitive::Mesh(mesh) = &p.primitive {
                vertices += mesh.vertices.len();
                let t = mesh.indices.len() / 3;
                triangles += t;
                area += mesh_area(mesh);
                match by_clip.iter_mut().find(|(r, _)| *r == p.clip_rect) {
                    Some(entry) => entry.1 += t,
                    None => by_clip.push((p.clip_rect, t)),
                }
            }
        }
        by_clip.sort_by_key(|(_, t)| std::cmp::Reverse(*t));
        let mut line = format!(
            "mesh draws {} vertices {vertices} triangles {triangles} pixels {:.0}k ({:.2}x screen) | top clips",
            primitives.len(),
            area / 1000.0,
            area / screen.max(1.0)
        );
        for (r, t) in by_clip.iter().take(5) {
            line.push_str(&format!(
                " [{:.0},{:.0} {:.0}x{:.0}] {t}",
                r.min.x,
                r.min.y,
                r.width(),
                r.height()
            ));
        }
        self.mesh = Some(line);
    }

    fn write(&mut self) {
        let mut v = std::mem::take(&mut self.cpu_ms);
        let n = v.len();
        v.sort_by(f32::total_cmp);
        let mean = v.iter().sum::<f32>() / n as f32;
        let at = |q: f32| v[((n as f32 - 1.0) * q).round() as usize];
        let mut line = format!(
            "frames {n} playing {} cpu_ms mean {mean:.2} p50 {:.2} p95 {:.2} max {:.2} | ui_ms",
            self.playing,
            at(0.5),
            at(0.95),
            at(1.0)
        );
        for (name, total) in self.sections.drain(..) {
            line.push_str(&format!(" {name} {:.2}", total / n as f32));
        }
        if let Some(mesh) = self.mesh.take() {
            line.push_str(" | ");
            line.push_str(&mesh);
        }
        self.playing = 0;
        // A log that cannot be written is only a measurement lost.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// The pixels a mesh's triangles cover, overlaps counted again (its fill work), in the mesh's
/// own units (physical pixels once tessellated).
fn mesh_area(mesh: &egui::epaint::Mesh) -> f32 {
    mesh.indices
        .chunks_exact(3)
        .map(|t| {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| mesh.vertices[i as usize].pos);
            ((b - a).x * (c - a).y - (b - a).y * (c - a).x).abs() / 2.0
        })
        .sum()
}
