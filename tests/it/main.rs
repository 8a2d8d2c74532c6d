//! End-to-end tests: one binary, one module per topic.

mod accuracy;
mod analysis;
mod cli;
mod delivery;
mod determinism;
mod fidelity;
mod flow;
mod fuzz;
mod golden;
mod import;
mod journey;
mod pattern;
mod pipe;
mod reliability;
mod saga;
mod scenarios;
mod shard;
mod support;
#[cfg(feature = "gui")]
mod ui;
#[cfg(feature = "gui")]
mod ui_flow;
