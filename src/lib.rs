//! # eventflow
//!
//! A deterministic discrete-event simulator for event-driven architectures: producers publish
//! `EventBridge`-style events to buses, rules route them to queues, streams and consumers, and the
//! engine plays out routing, retries, dead-letter queues, ordering and backpressure in integer
//! simulated time. The same library serves the headless CLI and the desktop app.
//!
//! ```text
//!  scenario.json ──► scenario (parse, migrate, validate, lint) ──► model::Scenario
//!                                                                    │
//!             model::topology (ids, references, edges, DLQs, loops) ◄┤► model::defaults (AWS)
//!                        pattern (compiled rule matcher) ◄───────────┤
//!                                                                    ▼
//!   producers ──► bus ──rules──► queue / stream / consumer ──► emits ──► bus …
//!                 sim (event queue ordered by time, then insertion sequence)
//!                                                                    │
//!                         metrics (streaming collectors) ◄───────────┘
//!                                   │
//!        analysis (Little's law, Erlang C, health, replications, sweeps)
//!                                   │
//!                   report (table, JSON, CSV) ──► worker ──► cli / ui
//! ```
//!
//! Module map, in dependency order: each module imports only modules above it.
//!
//! | module | owns | imports |
//! |---|---|---|
//! | [`names`] | "did you mean" hints, JSON types in words | — |
//! | [`exit`] | the process exit codes | — |
//! | [`pattern`] | the `EventBridge` event-pattern language and input transformers | names |
//! | [`model`] | the scenario types (serde), durations, distributions; [`model::topology`] the graph (ids, reference sites, edges, dead-letter queues, routing loops); [`model::defaults`] AWS's defaults and ranges | pattern |
//! | [`metrics`] | streaming collectors, histograms and time series in bounded memory | — |
//! | [`sim`] | the engine: clock, event queue, random streams, components, results | names, pattern, model, metrics |
//! | [`scenario`] | loading with precise errors (line:column, JSON paths, hints), migrating, validating, linting, saving atomically | names, pattern, model, sim (template compiler) |
//! | [`import`] | `CloudFormation` / SAM / CDK templates → version-2 scenarios, with an import report | names, model (defaults), pattern, scenario (file reading) |
//! | [`examples`] | the bundled example scenarios, embedded in the binary | — |
//! | [`analysis`] | queueing theory, capacity, health grading, replications, comparisons, sweeps | names, model, metrics, sim, scenario |
//! | [`report`] | the results contract as a summary table, JSON and CSV | model, sim, analysis |
//! | [`plots`] | the plots of a run as data ([`plots::Figure`]) and drawn to PNG / SVG without a display | model, metrics |
//! | [`export`] | atomic file writes; a run's plots written as PNG and SVG files | plots, metrics |
//! | [`worker`] | the simulation thread the GUI drives over channels | model, metrics, sim |
//! | [`cli`] | the `eventflow` subcommands | everything above but worker |
//! | `ui` (feature `gui`) | the desktop app | everything above but cli |
//!
//! `main.rs` hands [`cli::main`] the app's launcher, so the CLI and the UI never import each
//! other.

// In dependency order, one per line (blank-separated so rustfmt keeps the order).
pub mod names;

pub mod exit;

pub mod pattern;

pub mod model;

pub mod metrics;

pub mod sim;

pub mod scenario;

pub mod import;

pub mod examples;

pub mod analysis;

pub mod report;

pub mod plots;

pub mod export;

pub mod worker;

pub mod cli;

#[cfg(feature = "gui")]
pub mod ui;

/// The allocator of every binary that links eventflow (the app, the tests, the benchmarks).
/// Events built from templates are `serde_json` maps: a payload-heavy scenario spent 30–45 % of
/// its time in glibc's malloc and free (perf, issue 16), which mimalloc's per-size free lists
/// cut to a few percent. Results do not depend on it: nothing in a run reads an address.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
