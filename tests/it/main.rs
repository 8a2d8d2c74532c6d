//! End-to-end tests: one binary, one module per topic.

mod accuracy;
mod cli;
mod determinism;
mod pattern;
