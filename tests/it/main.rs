//! End-to-end tests: one binary, one module per topic.

mod accuracy;
mod analysis;
mod support;
mod cli;
mod delivery;
mod determinism;
mod pattern;
mod scenarios;
#[cfg(feature = "gui")]
mod ui;
