//! Measuring the frame: with `EVENTFLOW_FRAME_LOG=FILE` in the environment the app appends, every
//! 120 frames, the frame CPU time eframe reports (`frame.info().cpu_usage`: the UI, tessellation
//! and painting, not the buffer swap) as mean, median, 95th percentile and maximum, and the mean
//! wall time of each part of the UI code (menu and toolbars, plots, notes, inspector, canvas,
//! windows). Off by default; nothing is timed then.

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
