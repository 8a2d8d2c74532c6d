//! The simulation engine and its public face.
//!
//! [`Simulation`] compiles a validated [`Scenario`] and runs it in integer nanoseconds, in
//! steps (the GUI advances it to a given simulated time) or to the end ([`run`]). Results follow
//! the results contract of `scenario-format.md` ([`Results`]).
//!
//! Determinism: the event queue is ordered by (time, insertion sequence); every component draws
//! from its own random stream derived from the seed and its id ([`rng::Stream`]); no hash-map
//! iteration order reaches results. The same scenario and seed give byte-identical results
//! (apart from `engine.wall_seconds`) on every machine and at every step size.

//! Where things are:
//!
//! | file | owns |
//! |---|---|
//! | [`clock`] | simulated time, the event vocabulary and the event queue |
//! | `ids` | typed indices (`QueueId`, `ConsumerId`, `MsgId` …) and the tables they index |
//! | `build` | compiling a scenario: ids resolved, components compiled and linked |
//! | `engine` | the run-time state, the event loop and dispatch, the loop guard |
//! | `producer` | arrivals, rate schedules, client-side throttles |
//! | `bus` | PutEvents, rule matching, target delivery, retry policy |
//! | `queue` | SQS queues: FIFO groups, deduplication, receives, visibility, redrive, DLQs |
//! | `stream` | Kinesis/Kafka streams: partitions, consumer groups, lane retries |
//! | `consumer` | slots, service, failures, ordering checks, circuit breakers, emits |
//! | `state_machine` | Step Functions executions: the ASL interpreter, Task calls, Retry/Catch |
//! | `faults` | fault windows and timeline actions (redrive, replay) |
//! | `message` | the message slab and what a message knows |
//! | `ledger` | the conservation balance, counted independently |
//! | `stats` | per-node statistics and the one way handlers count |
//! | `dist`, `envelope`, [`rng`], [`template`] | distributions and throttles, the envelope, random streams, event templates |
//! | `results` | the results contract built from an engine |

mod build;
mod bus;
pub mod clock;
mod consumer;
mod dist;
mod engine;
mod envelope;
mod faults;
mod ids;
pub mod journey;
mod ledger;
mod message;
mod pipe;
mod producer;
mod queue;
mod reads;
mod results;
pub mod rng;
mod state_machine;
mod stats;
mod stream;
pub mod template;
mod topic;

use std::time::Instant;

pub use clock::Nanos;
pub use engine::{DEFAULT_MAX_EVENTS, DEFAULT_MAX_MESSAGES, Stop};
pub use ledger::Conservation;
pub use results::{
    EndToEnd, EngineInfo, MachineFigures, NodeResult, QueueDepth, Results, StateResult,
    SubscriptionResult,
};
pub use stats::{NodeStats, Reason};

use crate::metrics::DEFAULT_BUCKETS;
use crate::model::{Duration, Scenario};

/// Overrides for one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Seed instead of the scenario's.
    pub seed: Option<u64>,
    /// Duration instead of the scenario's.
    pub duration: Option<Duration>,
    /// Time-series buckets (default 500, or the scenario's `settings.series_buckets`).
    pub series_buckets: Option<u32>,
}

/// A compiled simulation that can be advanced step by step.
pub struct Simulation {
    engine: engine::Engine,
    scenario: Scenario,
    wall_seconds: f64,
}

impl Simulation {
    /// Compiles `scenario` (which should have passed [`crate::scenario::validate`]).
    ///
    /// # Errors
    /// A message when a part of the scenario cannot be compiled.
    pub fn new(scenario: &Scenario, opts: &RunOptions) -> Result<Self, String> {
        let mut scenario = scenario.clone();
        if let Some(seed) = opts.seed {
            scenario.seed = seed;
        }
        if let Some(d) = opts.duration {
            scenario.duration = d;
            if scenario.warmup >= d {
                return Err(format!(
                    "the warm-up ({}) is not shorter than the duration ({d})",
                    scenario.warmup
                ));
            }
        }
        // A command-line choice beats the scenario's setting, which beats the default.
        let buckets = opts
            .series_buckets
            .or(scenario.settings.as_ref().and_then(|x| x.series_buckets))
            .unwrap_or(DEFAULT_BUCKETS as u32);
        let engine = engine::Engine::new(&scenario, scenario.seed, buckets)?;
        Ok(Simulation {
            engine,
            scenario,
            wall_seconds: 0.0,
        })
    }

    /// Advances to simulated time `t` (nanoseconds). Returns false once the run is over.
    pub fn advance_to(&mut self, t: Nanos) -> bool {
        let start = Instant::now();
        let more = self.engine.run_until(t);
        self.wall_seconds += start.elapsed().as_secs_f64();
        more
    }

    /// Runs to the end.
    pub fn run_to_end(&mut self) {
        let end = self.engine.end();
        self.advance_to(end);
    }

    /// Current simulated time, nanoseconds.
    #[must_use]
    pub fn now(&self) -> Nanos {
        self.engine.now()
    }

    /// End of the run, nanoseconds.
    #[must_use]
    pub fn end(&self) -> Nanos {
        self.engine.end()
    }

    /// Is the run over (end reached or stopped by the loop guard)?
    #[must_use]
    pub fn finished(&self) -> bool {
        self.engine.finished()
    }

    /// Why the run stopped early, if it did.
    #[must_use]
    pub fn stopped(&self) -> Option<&Stop> {
        self.engine.stopped.as_ref()
    }

    /// The scenario as run (with overrides applied).
    #[must_use]
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Engine events handled so far.
    #[must_use]
    pub fn events_processed(&self) -> u64 {
        self.engine.events_processed
    }

    /// Results as of now (final once [`Simulation::finished`]).
    #[must_use]
    pub fn results(&self) -> Results {
        results::build(&self.engine, &self.scenario, self.wall_seconds, true)
    }

    /// Results as of now without the time series (cheap enough for live display).
    #[must_use]
    pub fn summary(&self) -> Results {
        results::build(&self.engine, &self.scenario, self.wall_seconds, false)
    }

    /// The time series recorded so far.
    #[must_use]
    pub fn series(&self) -> crate::metrics::SeriesData {
        self.engine.series.snapshot(self.engine.now())
    }
}

/// Runs a scenario to its end and returns the results.
///
/// # Errors
/// As [`Simulation::new`].
pub fn run(scenario: &Scenario, opts: &RunOptions) -> Result<Results, String> {
    let mut sim = Simulation::new(scenario, opts)?;
    sim.run_to_end();
    Ok(sim.results())
}

/// What `eventflow trace` asks for: how many journeys, and which.
#[derive(Clone, Debug)]
pub struct TraceOptions {
    /// Journeys to record (`--sample N`).
    pub count: usize,
    /// Which roots.
    pub select: journey::Select,
}

/// A traced run: its results (identical to an untraced run's) and the journeys recorded.
#[derive(Clone, Debug)]
pub struct Traced {
    /// The results, as `run` gives them.
    pub results: Results,
    /// The journeys, in root order (for `Slowest`, longest first).
    pub journeys: Vec<journey::Journey>,
}

/// Runs a scenario recording journeys. `Where` and `Event` run it twice (the first run finds
/// the roots, the second, identical one records them); `Sample` once.
///
/// # Errors
/// As [`Simulation::new`], or a message when no root qualifies (an `--event` that matches
/// nothing, a `--where` nothing did).
pub fn trace(scenario: &Scenario, opts: &RunOptions, t: &TraceOptions) -> Result<Traced, String> {
    use journey::{Select, Tracer};
    let count = t.count.max(1);
    let tracer = match &t.select {
        Select::Sample => {
            let end = opts.duration.unwrap_or(scenario.duration).0;
            Tracer::sampler(count, end)
        }
        select => {
            let mut finder = Simulation::new(scenario, opts)?;
            finder.engine.tracer = Some(Box::new(Tracer::finder(select.clone(), count)));
            finder.run_to_end();
            let roots = finder
                .engine
                .tracer
                .as_ref()
                .map(|t| t.found())
                .unwrap_or_default();
            if roots.is_empty() {
                return Err(match select {
                    Select::Event(id) => format!(
                        "no root event has the id or a field value \"{id}\" (ids are shown by `eventflow trace FILE`)"
                    ),
                    Select::Where(c) => format!(
                        "no journey was {} in this run",
                        journey::Condition::ALL
                            .iter()
                            .find(|x| x.0 == *c)
                            .map_or("so", |x| x.1)
                    ),
                    Select::Sample => String::new(),
                });
            }
            Tracer::recorder(roots)
        }
    };
    let mut sim = Simulation::new(scenario, opts)?;
    sim.engine.tracer = Some(Box::new(tracer));
    sim.run_to_end();
    let mut journeys = sim.engine.journeys();
    if t.select == Select::Where(journey::Condition::Slowest) {
        journeys.sort_by(|a, b| {
            b.latency_s
                .partial_cmp(&a.latency_s)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.root.cmp(&b.root))
        });
    }
    Ok(Traced {
        results: sim.results(),
        journeys,
    })
}
