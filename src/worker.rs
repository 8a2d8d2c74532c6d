//! The simulation thread the desktop app drives: commands in, snapshots out.
//!
//! ```text
//!   UI thread                      "eventflow-sim" thread
//!   ─────────                      ──────────────────────
//!   Worker::send(Command) ──cmd (bounded 64)──► Core::handle
//!                                               Core::advance (slices of ≈ 15 ms wall time)
//!   Worker::poll() ◄──snapshot (bounded 2)──── Core::snapshot (≤ 30 per second) + notify()
//! ```
//!
//! The worker owns one [`Simulation`] and advances it in slices, either paced against the wall
//! clock (real time × a factor) or as fast as the machine goes. Between slices it reads
//! commands, so play, pause and reset take effect within one slice whatever the speed. A
//! snapshot (simulated time, the cheap [`Simulation::summary`] and the series so far) goes out
//! at most ~30 times a second; when the UI has not taken the previous ones the worker keeps only
//! the newest, so a slow UI never makes the simulation wait and never sees stale data pile up.
//!
//! Results do not depend on how the run was sliced (the engine's event order is fixed by
//! simulated time and insertion sequence), so a run played here gives the same figures as
//! `eventflow run` with the same seed.
//!
//! [`Worker::synchronous`] runs the same [`Core`] on the caller's thread, advancing only when
//! [`Worker::poll`] is called: tests drive the app frame by frame without a background thread.
//! Nothing here knows about egui; the UI passes a `notify` callback that requests a repaint.
//!
//! [`jobs`] runs the app's replications, comparisons and sweeps on a thread of their own.

pub mod jobs;

use std::collections::VecDeque;
use std::thread::JoinHandle;
use std::time::{Duration as WallDuration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError, bounded};

use crate::metrics::SeriesData;
use crate::model::Scenario;
use crate::sim::{Nanos, Results, RunOptions, Simulation};

/// Wall time one slice of simulation aims to take: short enough that commands feel instant.
const SLICE_WALL: WallDuration = WallDuration::from_millis(15);
/// Shortest wall time between two snapshots (≈ 30 per second, half the UI frame rate).
const SNAPSHOT_INTERVAL: WallDuration = WallDuration::from_millis(33);
/// Smallest slice of simulated time (1 ms).
const MIN_CHUNK_NS: Nanos = 1_000_000;
/// First slice of simulated time tried at full speed (1 s); adapted to the machine afterwards.
const FIRST_CHUNK_NS: Nanos = 1_000_000_000;
/// Commands queued before [`Worker::send`] holds them back on the UI side.
const COMMAND_CAPACITY: usize = 64;
/// Snapshots in flight; older ones are replaced by newer ones rather than queued.
const SNAPSHOT_CAPACITY: usize = 2;

/// How fast simulated time runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// Simulated seconds per wall-clock second (1.0 = real time).
    Factor(f64),
    /// As fast as the machine can go.
    Max,
}

/// What the UI asks the worker to do.
#[derive(Debug)]
pub enum Command {
    /// Run on at the current speed.
    Play,
    /// Stop advancing (the run can be resumed).
    Pause,
    /// Advance this many simulated nanoseconds, then pause.
    Step(Nanos),
    /// Advance to this simulated time (nanoseconds), then pause.
    AdvanceTo(Nanos),
    /// Change the speed.
    SetSpeed(Speed),
    /// Compile a new run of `scenario` with `seed`, paused at time zero. Snapshots carry
    /// `generation` so the UI can ignore those of earlier runs.
    Reset {
        /// The scenario to run.
        scenario: Box<Scenario>,
        /// Seed of every random stream.
        seed: u64,
        /// Tag copied into every snapshot of this run.
        generation: u64,
    },
    /// End the thread.
    Stop,
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// No run yet (nothing loaded, or the scenario could not be compiled).
    Empty,
    /// Waiting for play or step.
    Paused,
    /// Advancing.
    Playing,
    /// Reached its end, or stopped by the loop guard.
    Finished,
}

/// What the worker reports after a change.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The `generation` of the [`Command::Reset`] that started this run.
    pub generation: u64,
    /// Where the run stands.
    pub state: RunState,
    /// Simulated time reached, nanoseconds.
    pub now_ns: Nanos,
    /// End of the run, nanoseconds.
    pub end_ns: Nanos,
    /// Engine events handled so far.
    pub events_processed: u64,
    /// Figures so far (without series), or `None` when there is no run.
    pub results: Option<Results>,
    /// Time series so far, or `None` when there is no run.
    pub series: Option<SeriesData>,
    /// Why the run stopped early (loop guard), if it did.
    pub stop_reason: Option<String>,
    /// Why the scenario could not be compiled, if it could not.
    pub error: Option<String>,
}

impl Snapshot {
    /// Simulated time reached, seconds.
    #[must_use]
    pub fn now_s(&self) -> f64 {
        self.now_ns as f64 / 1e9
    }

    /// Fraction of the run done, 0..=1.
    #[must_use]
    pub fn progress(&self) -> f64 {
        if self.end_ns == 0 {
            0.0
        } else {
            (self.now_ns as f64 / self.end_ns as f64).clamp(0.0, 1.0)
        }
    }
}

/// The state machine shared by the threaded and the synchronous worker.
struct Core {
    sim: Option<Simulation>,
    generation: u64,
    playing: bool,
    speed: Speed,
    error: Option<String>,
    /// Real-time pacing: (wall seconds, simulated time) when play started or speed changed.
    anchor: Option<(f64, Nanos)>,
    /// Simulated nanoseconds advanced per slice, adapted so a slice takes ≈ [`SLICE_WALL`].
    chunk_ns: Nanos,
    /// Something changed since the last snapshot.
    dirty: bool,
    /// The last advance reached the wall-clock pace of a real-time speed.
    caught_up: bool,
}

/// Runs `f`, turning a panic (an engine bug) into the error the app shows, so a scenario that
/// fails to run never ends the app and takes the user's unsaved work with it.
fn contained<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        format!(
            "the simulation failed ({why}); your scenario is unchanged — please report it with the file"
        )
    })
}

impl Core {
    /// Advances the simulation to `t`, or drops it with the error if the engine fails.
    fn advance_contained(&mut self, t: Nanos) {
        if let Some(sim) = &mut self.sim
            && let Err(e) = contained(|| sim.advance_to(t))
        {
            self.sim = None;
            self.playing = false;
            self.error = Some(e);
        }
    }

    fn new() -> Self {
        Core {
            sim: None,
            generation: 0,
            playing: false,
            speed: Speed::Factor(1.0),
            error: None,
            anchor: None,
            chunk_ns: FIRST_CHUNK_NS,
            dirty: true,
            caught_up: false,
        }
    }

    /// Applies one command; false for [`Command::Stop`].
    fn handle(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Play => {
                self.playing = self.sim.as_ref().is_some_and(|s| !s.finished());
                self.anchor = None;
            }
            Command::Pause => self.playing = false,
            Command::Step(dt) => {
                self.playing = false;
                if let Some(sim) = &self.sim {
                    let t = sim.now().saturating_add(dt);
                    self.advance_contained(t);
                }
            }
            Command::AdvanceTo(t) => {
                self.playing = false;
                self.advance_contained(t);
            }
            Command::SetSpeed(speed) => {
                self.speed = speed;
                self.anchor = None;
            }
            Command::Reset {
                scenario,
                seed,
                generation,
            } => {
                self.generation = generation;
                self.playing = false;
                self.anchor = None;
                self.chunk_ns = FIRST_CHUNK_NS;
                let opts = RunOptions {
                    seed: Some(seed),
                    ..RunOptions::default()
                };
                match contained(|| Simulation::new(&scenario, &opts)).and_then(|r| r) {
                    Ok(sim) => {
                        self.sim = Some(sim);
                        self.error = None;
                    }
                    Err(e) => {
                        self.sim = None;
                        self.error = Some(e);
                    }
                }
            }
            Command::Stop => return false,
        }
        self.dirty = true;
        true
    }

    /// Is there simulated time to run right now?
    fn wants_to_advance(&self) -> bool {
        self.playing && self.sim.as_ref().is_some_and(|s| !s.finished())
    }

    /// Advances one slice; `wall_s` is the pacing clock. Returns false when nothing was run
    /// (paused, finished, or real-time pacing says wait).
    fn advance(&mut self, wall_s: f64) -> bool {
        if !self.wants_to_advance() {
            return false;
        }
        let Some(sim) = &mut self.sim else {
            return false;
        };
        let now = sim.now();
        self.caught_up = false;
        let target = match self.speed {
            Speed::Factor(factor) => {
                let (wall0, sim0) = *self.anchor.get_or_insert((wall_s, now));
                let due = sim0.saturating_add(((wall_s - wall0).max(0.0) * factor * 1e9) as Nanos);
                let capped = due.min(now.saturating_add(self.chunk_ns));
                if (due - capped) as f64 > factor * 0.5e9 {
                    // More than half a second of wall time behind: the machine cannot keep up
                    // with this factor. Run flat out from here rather than build up a debt that
                    // would make the clock race later.
                    self.anchor = Some((wall_s, capped));
                }
                // Level with the wall clock: the thread may wait for the next slice instead of
                // spinning on microsecond advances.
                self.caught_up = capped == due;
                capped
            }
            Speed::Max => now.saturating_add(self.chunk_ns),
        }
        .min(sim.end());
        if target <= now {
            return false;
        }
        let started = Instant::now();
        if let Err(e) = contained(|| sim.advance_to(target)) {
            self.sim = None;
            self.playing = false;
            self.error = Some(e);
            self.dirty = true;
            return true;
        }
        let took = started.elapsed();
        if took > SLICE_WALL * 2 {
            self.chunk_ns = (self.chunk_ns / 2).max(MIN_CHUNK_NS);
        } else if took < SLICE_WALL / 2 {
            self.chunk_ns = self
                .chunk_ns
                .saturating_mul(2)
                .min(sim.end().max(MIN_CHUNK_NS));
        }
        if sim.finished() {
            self.playing = false;
        }
        self.dirty = true;
        true
    }

    fn state(&self) -> RunState {
        match &self.sim {
            None => RunState::Empty,
            Some(s) if s.finished() => RunState::Finished,
            Some(_) if self.playing => RunState::Playing,
            Some(_) => RunState::Paused,
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        self.dirty = false;
        let state = self.state();
        match &self.sim {
            Some(sim) => Snapshot {
                generation: self.generation,
                state,
                now_ns: sim.now(),
                end_ns: sim.end(),
                events_processed: sim.events_processed(),
                results: Some(sim.summary()),
                series: Some(sim.series()),
                stop_reason: sim.stopped().map(|s| s.reason.clone()),
                error: None,
            },
            None => Snapshot {
                generation: self.generation,
                state,
                now_ns: 0,
                end_ns: 0,
                events_processed: 0,
                results: None,
                series: None,
                stop_reason: None,
                error: self.error.clone(),
            },
        }
    }
}

/// A callback the worker calls after sending a snapshot (the UI requests a repaint).
pub type Notify = Box<dyn Fn() + Send + 'static>;

enum Inner {
    Threaded {
        commands: Sender<Command>,
        snapshots: Receiver<Snapshot>,
        thread: Option<JoinHandle<()>>,
        /// Commands the full channel did not take yet, sent on the next call.
        held: VecDeque<Command>,
    },
    Synchronous {
        core: Box<Core>,
        wall_s: f64,
    },
}

/// The UI's handle on the simulation: a background thread, or a synchronous stand-in for tests.
pub struct Worker {
    inner: Inner,
}

impl Worker {
    /// Starts the simulation thread (named `eventflow-sim`).
    ///
    /// # Errors
    /// When the OS cannot start a thread.
    pub fn spawn(notify: Notify) -> std::io::Result<Worker> {
        let (cmd_tx, cmd_rx) = bounded(COMMAND_CAPACITY);
        let (snap_tx, snap_rx) = bounded(SNAPSHOT_CAPACITY);
        let thread = std::thread::Builder::new()
            .name("eventflow-sim".into())
            .spawn(move || thread_main(&cmd_rx, &snap_tx, &notify))?;
        Ok(Worker {
            inner: Inner::Threaded {
                commands: cmd_tx,
                snapshots: snap_rx,
                thread: Some(thread),
                held: VecDeque::new(),
            },
        })
    }

    /// A worker that runs on the caller's thread, advancing only inside [`Worker::poll`].
    #[must_use]
    pub fn synchronous() -> Worker {
        Worker {
            inner: Inner::Synchronous {
                core: Box::new(Core::new()),
                wall_s: 0.0,
            },
        }
    }

    /// Is this the synchronous (test) worker?
    #[must_use]
    pub fn is_synchronous(&self) -> bool {
        matches!(self.inner, Inner::Synchronous { .. })
    }

    /// Sends a command without blocking (a full channel holds it back until the next call).
    pub fn send(&mut self, cmd: Command) {
        match &mut self.inner {
            Inner::Threaded { held, .. } => {
                held.push_back(cmd);
                self.flush();
            }
            Inner::Synchronous { core, .. } => {
                core.handle(cmd);
            }
        }
    }

    fn flush(&mut self) {
        if let Inner::Threaded { commands, held, .. } = &mut self.inner {
            while let Some(cmd) = held.pop_front() {
                match commands.try_send(cmd) {
                    Ok(()) => {}
                    Err(TrySendError::Full(cmd)) => {
                        held.push_front(cmd);
                        break;
                    }
                    // The thread has ended (it only does on Stop or a panic): nothing to do.
                    Err(TrySendError::Disconnected(_)) => held.clear(),
                }
            }
        }
    }

    /// The newest snapshot since the last call, if any. The synchronous worker first advances
    /// one slice, pacing real-time speeds by `dt_s` seconds of (pretend) wall time.
    pub fn poll(&mut self, dt_s: f64) -> Option<Snapshot> {
        self.flush();
        match &mut self.inner {
            Inner::Threaded { snapshots, .. } => {
                let mut latest = None;
                while let Ok(s) = snapshots.try_recv() {
                    latest = Some(s);
                }
                latest
            }
            Inner::Synchronous { core, wall_s } => {
                *wall_s += dt_s.max(0.0);
                core.advance(*wall_s);
                core.dirty.then(|| core.snapshot())
            }
        }
    }

    /// Runs the current run to its end on the caller's thread (synchronous worker only; the
    /// threaded worker just plays at full speed). For tests and scripted use.
    pub fn finish_now(&mut self) {
        match &mut self.inner {
            Inner::Threaded { .. } => {
                self.send(Command::SetSpeed(Speed::Max));
                self.send(Command::Play);
            }
            Inner::Synchronous { core, .. } => {
                if let Some(sim) = &mut core.sim {
                    sim.run_to_end();
                    core.playing = false;
                    core.dirty = true;
                }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Inner::Threaded {
            commands,
            thread,
            held,
            ..
        } = &mut self.inner
        {
            held.clear();
            // A full channel means the thread is busy; dropping the sender below also ends it.
            let _ = commands.try_send(Command::Stop);
            let (replacement, _) = bounded(1);
            drop(std::mem::replace(commands, replacement));
            if let Some(t) = thread.take() {
                let _ = t.join();
            }
        }
    }
}

fn thread_main(commands: &Receiver<Command>, snapshots: &Sender<Snapshot>, notify: &Notify) {
    let clock = Instant::now();
    let mut core = Core::new();
    let mut pending: Option<Snapshot> = None;
    let mut last_sent: Option<Instant> = None;
    let mut idle_advance = false;
    loop {
        // Wait for a command only when there is nothing to run; otherwise just look.
        let first = if core.wants_to_advance() && !idle_advance {
            commands
                .try_recv()
                .map_err(|e| matches!(e, TryRecvError::Disconnected))
        } else if core.wants_to_advance() || pending.is_some() || core.dirty {
            // Real-time pacing ahead of the clock, or a snapshot the UI has not taken yet.
            commands
                .recv_timeout(WallDuration::from_millis(4))
                .map_err(|e| matches!(e, RecvTimeoutError::Disconnected))
        } else {
            commands.recv().map_err(|_| true)
        };
        match first {
            Ok(cmd) => {
                if !core.handle(cmd) {
                    return;
                }
                while let Ok(cmd) = commands.try_recv() {
                    if !core.handle(cmd) {
                        return;
                    }
                }
            }
            Err(true) => return,
            Err(false) => {}
        }
        let advanced = core.advance(clock.elapsed().as_secs_f64());
        idle_advance = (!advanced || core.caught_up) && core.wants_to_advance();
        let due =
            last_sent.is_none_or(|t| t.elapsed() >= SNAPSHOT_INTERVAL) || !core.wants_to_advance();
        if core.dirty && due {
            pending = Some(core.snapshot());
        }
        if let Some(s) = pending.take() {
            match snapshots.try_send(s) {
                Ok(()) => {
                    last_sent = Some(Instant::now());
                    notify();
                }
                Err(TrySendError::Full(s)) => pending = Some(s),
                Err(TrySendError::Disconnected(_)) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{ "name": "t", "duration": "2m", "seed": 7,
        "producers": [ { "id": "p", "to": "q", "rate": 50 } ],
        "queues": [ { "id": "q" } ],
        "consumers": [ { "id": "c", "from": "q", "concurrency": 2,
                         "service_time": { "exponential": { "mean": "30ms" } } } ] }"#;

    fn scenario() -> Scenario {
        crate::scenario::parse(SMALL, "t.json").unwrap().scenario
    }

    fn figures(r: &Results) -> String {
        let mut r = r.clone();
        r.engine.wall_seconds = 0.0;
        r.series = None;
        crate::report::json(&r)
    }

    fn reference(seed: u64) -> Results {
        crate::sim::run(
            &scenario(),
            &RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn the_threaded_worker_gives_the_results_of_a_single_run() {
        let mut w = Worker::spawn(Box::new(|| {})).unwrap();
        w.send(Command::Reset {
            scenario: Box::new(scenario()),
            seed: 11,
            generation: 3,
        });
        w.send(Command::SetSpeed(Speed::Max));
        w.send(Command::Play);
        let deadline = Instant::now() + WallDuration::from_secs(30);
        let last = loop {
            assert!(Instant::now() < deadline, "the worker did not finish");
            if let Some(s) = w.poll(0.0)
                && s.state == RunState::Finished
            {
                break s;
            }
            std::thread::sleep(WallDuration::from_millis(5));
        };
        assert_eq!(last.generation, 3);
        assert_eq!(last.now_ns, last.end_ns);
        assert_eq!(
            figures(last.results.as_ref().unwrap()),
            figures(&reference(11))
        );
    }

    #[test]
    fn the_synchronous_worker_steps_and_paces_real_time() {
        let mut w = Worker::synchronous();
        w.send(Command::Reset {
            scenario: Box::new(scenario()),
            seed: 11,
            generation: 1,
        });
        let s = w.poll(0.0).unwrap();
        assert_eq!((s.state, s.now_ns), (RunState::Paused, 0));
        w.send(Command::Step(5_000_000_000));
        assert_eq!(w.poll(0.0).unwrap().now_ns, 5_000_000_000);
        // Real time × 10: half a second of wall time is five simulated seconds.
        w.send(Command::SetSpeed(Speed::Factor(10.0)));
        w.send(Command::Play);
        w.poll(0.0);
        let mut s = w.poll(0.5).unwrap();
        for _ in 0..20 {
            s = w.poll(0.0).unwrap_or(s);
        }
        assert_eq!(s.state, RunState::Playing);
        assert_eq!(s.now_ns, 10_000_000_000);
        w.send(Command::Pause);
        assert_eq!(w.poll(10.0).unwrap().now_ns, 10_000_000_000);
        w.finish_now();
        let s = w.poll(0.0).unwrap();
        assert_eq!(s.state, RunState::Finished);
        assert_eq!(
            figures(s.results.as_ref().unwrap()),
            figures(&reference(11))
        );
    }

    #[test]
    fn an_engine_failure_becomes_an_error_not_the_end_of_the_app() {
        let r: Result<(), String> = contained(|| panic!("boom"));
        let e = r.unwrap_err();
        assert!(e.contains("the simulation failed (boom)"), "{e}");
        assert_eq!(contained(|| 7), Ok(7));
    }

    #[test]
    fn a_scenario_that_does_not_compile_reports_its_error() {
        let mut s = scenario();
        s.producers[0].to = "nowhere".into();
        let mut w = Worker::synchronous();
        w.send(Command::Reset {
            scenario: Box::new(s),
            seed: 1,
            generation: 1,
        });
        w.send(Command::Play);
        let snap = w.poll(1.0).unwrap();
        assert_eq!(snap.state, RunState::Empty);
        assert!(snap.error.unwrap().contains("nowhere"));
    }
}
