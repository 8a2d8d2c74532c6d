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
use serde::ser::SerializeMap;

use super::capacity::{ConsumerCapacity, capacity};
use super::health::{HealthSummary, summarize};
use super::little::{LittlesLaw, littles_law};
use crate::model::Scenario;
use crate::sim::Results;

/// Values by component id, in file order; serialized as a JSON object (like the results'
/// `nodes`), so a figure's path reads `capacity.inventory.recommendation…`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdMap<T>(pub Vec<(String, T)>);

impl<T> IdMap<T> {
    /// The value for this id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&T> {
        self.0.iter().find(|(i, _)| i == id).map(|(_, v)| v)
    }

    /// Ids and values in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.0.iter().map(|(i, v)| (i.as_str(), v))
    }
}

impl<T: Serialize> Serialize for IdMap<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (id, v) in &self.0 {
            map.serialize_entry(id, v)?;
        }
        map.end()
    }
}

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
