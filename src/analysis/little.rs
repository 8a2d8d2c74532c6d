//! Little's law panel: L, λ, W and λW side by side, per node and for the whole system.
//!
//! Little's law L = λ W (and Lq = λ Wq) holds for any stable system whatever the distributions,
//! so the gap between the time-average number in system L and λ W measured over the same window
//! is a check of the measurement itself: on a long run it should be a few tenths of a percent at
//! most (`shared/reference/queueing.md`). Jobs still in flight at the window's ends make the gap
//! larger on short or overloaded runs; that is expected, not an error.
//!
//! The "system" of the whole run is the union of every consumer's system (its waiting line plus
//! its busy slots), counted per visit: L is the sum of the consumers' L, λ the sum of their
//! arrival rates, and W the arrival-weighted mean time per visit, so λ W = Σ λᵢ Wᵢ. Queue and
//! stream nodes are not added in, because a consumer's queue is already part of its system.
//!
//! No gap is reported where Little's law has nothing to compare: a node with no measured time in
//! system (a dead-letter sink nothing leaves, a stream node, whose records' time is measured at
//! their consumer) and the waiting line of a directly invoked consumer (it has none: a busy
//! consumer throttles the invocation instead).

use serde::Serialize;

use super::IdMap;
use crate::model::{Kind, Scenario};
use crate::sim::{NodeResult, Results};

/// The Little's law figures of one node (a consumer, queue or stream).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeLittle {
    /// `consumer`, `queue` or `stream`.
    pub kind: Kind,
    /// Time-average number in system L.
    pub l: f64,
    /// Arrival rate λ, per second.
    pub lambda: f64,
    /// Mean time in system W, seconds.
    pub w_s: f64,
    /// λ W, to set beside L.
    pub lambda_w: f64,
    /// |L − λW| / max(L, λW); `None` when both are 0 or no time in system was measured.
    pub gap: Option<f64>,
    /// Utilization ρ (consumers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utilization: Option<f64>,
    /// Time-average number waiting Lq.
    pub lq: f64,
    /// Mean wait before service Wq, seconds (consumers only; 0 for queues and streams).
    pub wq_s: f64,
    /// λ Wq, to set beside Lq.
    pub lambda_wq: f64,
    /// |Lq − λWq| / max(Lq, λWq); `None` when both are 0 (consumers reading a queue or stream
    /// only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lq_gap: Option<f64>,
}

/// The whole system's Little's law figures (see the module documentation for the definition).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SystemLittle {
    /// Σ L over consumers.
    pub l: f64,
    /// Σ λ over consumers (visits per second).
    pub lambda: f64,
    /// Arrival-weighted mean time per visit, seconds.
    pub w_s: f64,
    /// λ W = Σ λᵢ Wᵢ.
    pub lambda_w: f64,
    /// |L − λW| / max(L, λW); `None` when both are 0.
    pub gap: Option<f64>,
}

/// The Little's law panel: every consumer, queue and stream, then the system.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LittlesLaw {
    /// The whole system.
    pub system: SystemLittle,
    /// Per node, in file order.
    pub nodes: IdMap<NodeLittle>,
}

/// |a − b| / max(|a|, |b|); `None` when both are 0 (nothing to compare).
#[must_use]
pub fn relative_gap(a: f64, b: f64) -> Option<f64> {
    let scale = a.abs().max(b.abs());
    (scale > 0.0 && scale.is_finite()).then(|| (a - b).abs() / scale)
}

fn node_little(n: &NodeResult, direct: bool) -> NodeLittle {
    let consumer = n.kind == Kind::Consumer;
    let lambda = n.arrival_rate;
    let wq_s = if consumer { n.wait_s.mean_s } else { 0.0 };
    let lq = n.queue_depth.mean;
    NodeLittle {
        kind: n.kind,
        l: n.mean_number_in_system,
        lambda,
        w_s: n.mean_time_in_system_s,
        lambda_w: n.littles_law_lambda_w,
        gap: if n.mean_time_in_system_s > 0.0 || n.mean_number_in_system == 0.0 {
            relative_gap(n.mean_number_in_system, n.littles_law_lambda_w)
        } else {
            None
        },
        utilization: consumer.then_some(n.utilization),
        lq,
        wq_s,
        lambda_wq: lambda * wq_s,
        lq_gap: if consumer && !direct {
            relative_gap(lq, lambda * wq_s)
        } else {
            None
        },
    }
}

/// The Little's law panel of a finished (or in-progress) run of `scenario`.
#[must_use]
pub fn littles_law(scenario: &Scenario, results: &Results) -> LittlesLaw {
    let mut nodes = Vec::new();
    let (mut l, mut lambda, mut lambda_w) = (0.0, 0.0, 0.0);
    // Looked up per node: a set, not a scan of the consumers for each (quadratic at 10,000).
    let direct_ids: std::collections::BTreeSet<&str> = scenario
        .consumers
        .iter()
        .filter(|c| c.from.is_none())
        .map(|c| c.id.as_str())
        .collect();
    for (id, n) in &results.nodes.0 {
        if !matches!(n.kind, Kind::Consumer | Kind::Queue | Kind::Stream) {
            continue;
        }
        if n.kind == Kind::Consumer {
            l += n.mean_number_in_system;
            lambda += n.arrival_rate;
            lambda_w += n.littles_law_lambda_w;
        }
        let direct = direct_ids.contains(id.as_str());
        nodes.push((id.clone(), node_little(n, direct)));
    }
    LittlesLaw {
        system: SystemLittle {
            l,
            lambda,
            w_s: if lambda > 0.0 { lambda_w / lambda } else { 0.0 },
            lambda_w,
            gap: relative_gap(l, lambda_w),
        },
        nodes: IdMap(nodes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps() {
        assert_eq!(relative_gap(0.0, 0.0), None);
        assert_eq!(relative_gap(10.0, 9.0), Some(0.1));
        assert_eq!(relative_gap(9.0, 10.0), Some(0.1));
        assert_eq!(relative_gap(0.0, 2.0), Some(1.0));
    }
}
