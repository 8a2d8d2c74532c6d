//! # eventflow
//!
//! A deterministic discrete-event simulator for event-driven architectures: producers publish
//! EventBridge-style events to buses, rules route them to queues, streams and consumers, and the
//! engine plays out routing, retries, dead-letter queues, ordering and backpressure in integer
//! simulated time. The same library serves the headless CLI and the desktop app.
//!
//! ```text
//!  scenario.json ──► scenario (load, validate, migrate) ──► model::Scenario
//!                                                              │
//!                        pattern (compiled rule matcher) ◄─────┤
//!                                                              ▼
//!   producers ──► bus ──rules──► queue / stream / consumer ──► emits ──► bus …
//!                 sim (event queue ordered by time, then insertion sequence)
//!                                                              │
//!                         metrics (streaming collectors) ◄─────┘
//!                                   │
//!              analysis (Little's law, Erlang C, replications, sweeps)
//!                                   │
//!                   report (table, JSON, CSV) ──► cli / ui
//! ```
//!
//! Module map:
//! - [`model`]: the scenario types (serde), durations, distributions and event generators.
//! - [`scenario`]: loading with precise errors (line:column, JSON paths, hints), saving atomically.
//! - [`pattern`]: the EventBridge event-pattern language and input transformers.
//! - [`sim`]: the engine: clock, event queue, random streams, components.
//! - [`metrics`]: streaming collectors, histograms and time series in bounded memory.
//! - [`analysis`]: queueing theory, capacity figures, replications, comparisons and sweeps.
//! - [`report`]: the results contract as a summary table, JSON and CSV.
//! - [`worker`]: the simulation thread the GUI drives over channels.
//! - [`cli`]: the `eventflow` subcommands.
//! - `ui` (feature `gui`): the desktop app.

pub mod analysis;
pub mod cli;
pub mod exit;
pub mod metrics;
pub mod model;
pub mod names;
pub mod pattern;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod worker;

#[cfg(feature = "gui")]
pub mod ui;
