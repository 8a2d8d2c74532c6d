//! Analysis jobs the desktop app runs without blocking a frame: N replications of the open
//! scenario, a comparison with another scenario under common random numbers, a sweep of one
//! field.
//!
//! ```text
//!   UI thread                       "eventflow-analysis" thread ──► rayon's pool (the runs)
//!   Job::start(Request) ──────────► analysis::replicate / compare / sweep (…_cancellable)
//!   Job::poll() ◄──update (bounded)── Progress { done, total } … then Finished(outcome)
//!   Job::cancel() ── AtomicBool ───► every run not yet started is skipped
//! ```
//!
//! The thread makes the same library calls as `eventflow run --replications`, `compare` and
//! `sweep` (with the same options: the seed given, the file's duration), so the figures are the
//! CLI's for the same inputs, byte for byte. Progress messages that find the channel full are
//! dropped (the next one carries the newer count); the outcome is always delivered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};

use crate::analysis::compare::{Comparison, compare_cancellable};
use crate::analysis::replicate::{Replicated, replicate_cancellable};
use crate::analysis::sweep::{self, SetSpec, Sweep};
use crate::metrics::SeriesData;
use crate::model::Scenario;
use crate::sim::{RunOptions, Simulation};

/// Progress messages in flight; more are dropped (the next one carries the newer count).
const UPDATE_CAPACITY: usize = 16;

/// What to work out.
#[derive(Clone, Debug)]
pub enum Request {
    /// `eventflow run FILE --replications N --seed SEED`.
    Replicate {
        /// The scenario.
        scenario: Box<Scenario>,
        /// Seed of replicate 0 (then +1, +2, …).
        seed: u64,
        /// How many replicates.
        replications: u32,
    },
    /// `eventflow compare A B --replications N --seed SEED`, plus one run of each with its time
    /// series (seed `seed`) for plots drawn over each other.
    Compare {
        /// A (the baseline).
        a: Box<Scenario>,
        /// B (the variant).
        b: Box<Scenario>,
        /// Seed of replicate 0.
        seed: u64,
        /// How many replicates of each.
        replications: u32,
    },
    /// `eventflow sweep FILE --set PATH=V1,V2,… --replications N --seed SEED --figure F`.
    Sweep {
        /// The base scenario.
        scenario: Box<Scenario>,
        /// The field and its values.
        set: SetSpec,
        /// Seed of replicate 0.
        seed: u64,
        /// Replicates per value.
        replications: u32,
        /// Figures to summarise (full names, as [`sweep::check_figures`] gives them).
        figures: Vec<String>,
    },
}

/// What a job found.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Each figure's mean and 95 % interval.
    Replicated(Replicated),
    /// The paired differences, and one run of each scenario with its series.
    Compared {
        /// The comparison.
        comparison: Comparison,
        /// A's series (replicate 0).
        series_a: Box<SeriesData>,
        /// B's series (replicate 0).
        series_b: Box<SeriesData>,
    },
    /// Per swept value, the chosen figures' estimates.
    Swept(Sweep),
}

/// A message from the job's thread.
#[derive(Debug)]
enum Update {
    Progress(usize),
    /// Boxed: the outcome is large and sent once, the progress counts are many.
    Finished(Box<Result<Option<Outcome>, String>>),
}

/// Runs a request to its end on the caller's thread (`Ok(None)` if `cancelled` was set).
/// `done` is called after each simulation run.
///
/// # Errors
/// The library's message: an invalid sweep field or value, an unknown figure, a scenario that
/// does not compile.
pub fn run(
    request: &Request,
    done: &(dyn Fn() + Sync),
    cancelled: &AtomicBool,
) -> Result<Option<Outcome>, String> {
    match request {
        Request::Replicate {
            scenario,
            seed,
            replications,
        } => Ok(
            replicate_cancellable(scenario, &options(*seed), *replications, done, cancelled)?
                .map(Outcome::Replicated),
        ),
        Request::Compare {
            a,
            b,
            seed,
            replications,
        } => {
            let opts = options(*seed);
            let Some(comparison) =
                compare_cancellable(a, b, &opts, *replications, done, cancelled)?
            else {
                return Ok(None);
            };
            let series = |s: &Scenario| -> Result<SeriesData, String> {
                let mut sim = Simulation::new(s, &opts)?;
                sim.run_to_end();
                Ok(sim.series())
            };
            if cancelled.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let (series_a, series_b) = rayon::join(|| series(a), || series(b));
            Ok(Some(Outcome::Compared {
                comparison,
                series_a: Box::new(series_a?),
                series_b: Box::new(series_b?),
            }))
        }
        Request::Sweep {
            scenario,
            set,
            seed,
            replications,
            figures,
        } => {
            let grid =
                sweep::variants(scenario, std::slice::from_ref(set)).map_err(|e| e.to_string())?;
            let figures = sweep::check_figures(scenario, figures).map_err(|e| e.to_string())?;
            sweep::sweep_cancellable(
                scenario,
                vec![set.path.clone()],
                &grid,
                &options(*seed),
                *replications,
                &figures,
                &|_, _| done(),
                cancelled,
            )
            .map(|s| s.map(Outcome::Swept))
        }
    }
}

/// The CLI's options for `--seed SEED` and nothing else.
fn options(seed: u64) -> RunOptions {
    RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    }
}

/// How many simulation runs `request` makes (for the progress bar).
#[must_use]
pub fn total_runs(request: &Request) -> usize {
    match request {
        Request::Replicate { replications, .. } => *replications as usize,
        Request::Compare { replications, .. } => 2 * *replications as usize,
        Request::Sweep {
            set, replications, ..
        } => set.values.len() * *replications as usize,
    }
}

/// Where a job stands.
#[derive(Debug)]
pub enum Status {
    /// Runs done of the total.
    Running {
        /// Runs finished.
        done: usize,
        /// Runs in all.
        total: usize,
    },
    /// Finished with this outcome (taken once by [`Job::poll`]).
    Finished(Result<Outcome, String>),
    /// Cancelled before the end.
    Cancelled,
}

/// A job running on its own thread.
pub struct Job {
    updates: Receiver<Update>,
    cancelled: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    done: usize,
    total: usize,
}

impl Job {
    /// Starts `request` on a thread named `eventflow-analysis`; `notify` is called after each
    /// message (the app requests a repaint).
    ///
    /// # Errors
    /// When the OS cannot start a thread.
    pub fn start(request: Request, notify: super::Notify) -> std::io::Result<Job> {
        let (tx, rx): (Sender<Update>, Receiver<Update>) = bounded(UPDATE_CAPACITY);
        let cancelled = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancelled);
        let total = total_runs(&request);
        let thread = std::thread::Builder::new()
            .name("eventflow-analysis".into())
            .spawn(move || {
                // Runs finish on rayon's threads: the callback is shared between them.
                let notify = std::sync::Mutex::new(notify);
                let wake = || {
                    if let Ok(n) = notify.lock() {
                        n();
                    }
                };
                let done = AtomicUsize::new(0);
                let tick = || {
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    // A full channel: the UI has not looked yet; the next count says more.
                    if tx.try_send(Update::Progress(d)).is_ok() {
                        wake();
                    }
                };
                let outcome = run(&request, &tick, &flag);
                // The receiver may be gone (the dialog closed): nothing to tell then.
                let _ = tx.send(Update::Finished(Box::new(outcome)));
                wake();
            })?;
        Ok(Job {
            updates: rx,
            cancelled,
            thread: Some(thread),
            done: 0,
            total,
        })
    }

    /// Asks the job to stop: runs not yet started are skipped.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Reads the job's messages without waiting.
    pub fn poll(&mut self) -> Status {
        loop {
            match self.updates.try_recv() {
                Ok(Update::Progress(d)) => self.done = self.done.max(d),
                Ok(Update::Finished(outcome)) => {
                    return match *outcome {
                        Ok(Some(o)) => Status::Finished(Ok(o)),
                        Ok(None) => Status::Cancelled,
                        Err(e) => Status::Finished(Err(e)),
                    };
                }
                Err(TryRecvError::Empty) => {
                    return Status::Running {
                        done: self.done,
                        total: self.total,
                    };
                }
                Err(TryRecvError::Disconnected) => return Status::Cancelled,
            }
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.cancel();
        // Detach rather than join: the runs already started finish on rayon's threads and the
        // frame that dropped the job must not wait for them.
        drop(self.thread.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let e = crate::examples::find("order-fanout").unwrap();
        crate::scenario::parse(e.text, e.file_name)
            .unwrap()
            .scenario
    }

    fn wait(job: &mut Job) -> Status {
        let deadline = std::time::Instant::now() + std::time::Duration::from_mins(2);
        loop {
            match job.poll() {
                Status::Running { .. } => {
                    assert!(std::time::Instant::now() < deadline, "the job did not end");
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => return other,
            }
        }
    }

    #[test]
    fn a_job_gives_the_library_call_its_result_and_counts_its_runs() {
        let s = scenario();
        let request = Request::Replicate {
            scenario: Box::new(s.clone()),
            seed: 5,
            replications: 3,
        };
        let ticks = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&ticks);
        let mut job = Job::start(
            request,
            Box::new(move || {
                seen.fetch_add(1, Ordering::Relaxed);
            }),
        )
        .unwrap();
        let Status::Finished(Ok(Outcome::Replicated(r))) = wait(&mut job) else {
            panic!("no result");
        };
        let cli = crate::analysis::replicate::replicate(&s, &options(5), 3).unwrap();
        assert_eq!(r.to_json(), cli.to_json());
        assert!(ticks.load(Ordering::Relaxed) >= 1);
    }

    #[test]
    fn a_cancelled_job_says_so_and_runs_nothing_more() {
        let cancelled = AtomicBool::new(true);
        let runs = AtomicUsize::new(0);
        let request = Request::Replicate {
            scenario: Box::new(scenario()),
            seed: 1,
            replications: 50,
        };
        let out = run(
            &request,
            &|| {
                runs.fetch_add(1, Ordering::Relaxed);
            },
            &cancelled,
        )
        .unwrap();
        assert!(out.is_none());
        assert_eq!(runs.load(Ordering::Relaxed), 0);
        assert_eq!(total_runs(&request), 50);
    }

    #[test]
    fn a_bad_sweep_field_is_an_error_not_a_panic() {
        let request = Request::Sweep {
            scenario: Box::new(scenario()),
            set: "consumers.nobody.concurrency=1,2".parse().unwrap(),
            seed: 1,
            replications: 2,
            figures: vec!["end_to_end.latency_s.p99".into()],
        };
        let e = run(&request, &|| {}, &AtomicBool::new(false)).unwrap_err();
        assert!(e.contains("nobody"), "{e}");
    }
}
