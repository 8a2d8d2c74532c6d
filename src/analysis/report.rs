//! The analysis of one run: the Little's law panel, the capacity panel and the health summary,
//! computed from a scenario and its results by one pure function, [`analyze`], which the CLI
//! (`"analysis"` in `eventflow run --json`, and below the summary table) and the GUI's capacity
//! panel both call.
//!
//! ```text
//!   Scenario ─┐
//!             ├─► analyze ─► Analysis { littles_law, capacity, health }
//!   Results ──┘     (little::littles_law, capacity::capacity, health::summarize)
//! ```

use serde::Serialize;

use super::IdMap;
use super::capacity::{ConsumerCapacity, capacity};
use super::health::{HealthSummary, summarize};
use super::little::{LittlesLaw, littles_law};
use crate::model::Scenario;
use crate::sim::Results;

/// The analysis of one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// L, λ, W, λW and their gap per node and for the system; Lq and Wq.
    pub littles_law: LittlesLaw,
    /// Per consumer: prediction beside simulation, backlog growth and drain, recommendations.
    pub capacity: IdMap<ConsumerCapacity>,
    /// Final and worst state per monitored node, and when each threshold was first crossed.
    pub health: HealthSummary,
}

/// Analyses a run of `scenario` (the scenario as run: with any seed or duration override; the
/// analysis reads only its structure, rates and targets). Uses `results.series`, when present,
/// for peak rates and health over time. Pure: the same inputs give the same analysis.
#[must_use]
pub fn analyze(scenario: &Scenario, results: &Results) -> Analysis {
    Analysis {
        littles_law: littles_law(scenario, results),
        capacity: capacity(scenario, results),
        health: summarize(scenario, results),
    }
}
