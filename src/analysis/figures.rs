//! Figures: every number a run reports, addressed by name, and their estimates over replicates.
//!
//! A run's figures are the numeric leaves of its results object (`nodes`, `end_to_end`,
//! `conservation`) plus those of its analysis (`analysis.littles_law`, `analysis.capacity`; the
//! health summary is left out: its crossing times are events, not figures). A figure's name is
//! its JSON path joined by dots, e.g. `nodes.inventory.wait_s.p99`,
//! `end_to_end.latency_s.p99`, `analysis.capacity.inventory.predicted.wq_s`; the `nodes.` prefix
//! may be left out when naming one (`inventory.wait_s.p99`). Node ids may contain dots: names are
//! matched whole, never split.
//!
//! [`Samples`] gathers the figures of several replicates (same scenario, different seeds) in a
//! fixed order (first appearance, replicate by replicate), so what is printed does not depend on
//! which thread finished first. A figure missing from some replicates (an optional field such as
//! `retry_amplification` before any completion) is estimated from the replicates that have it,
//! except counts that are omitted when zero (`dead_letter_reasons.*`, `emitted`,
//! `circuit_breaker_transitions`), which count as 0.

use serde_json::{Map, Value};

use super::report::Analysis;
use super::stats::{Estimate, paired_difference};
use crate::sim::Results;

/// Keys of the results object that are figures (the rest is metadata, timing or series).
const RESULT_SECTIONS: [&str; 3] = ["nodes", "end_to_end", "conservation"];

/// Keys of the analysis that are figures.
const ANALYSIS_SECTIONS: [&str; 2] = ["littles_law", "capacity"];

/// A run's figures as one JSON object: the figure sections of `results`, plus `analysis`.
#[must_use]
pub fn run_figures(results: &Results, analysis: Option<&Analysis>) -> Value {
    let mut out = Map::new();
    if let Ok(Value::Object(mut r)) = serde_json::to_value(results) {
        for key in RESULT_SECTIONS {
            if let Some(v) = r.remove(key) {
                out.insert(key.to_owned(), v);
            }
        }
    }
    if let Some(a) = analysis
        && let Ok(Value::Object(mut a)) = serde_json::to_value(a)
    {
        let mut kept = Map::new();
        for key in ANALYSIS_SECTIONS {
            if let Some(v) = a.remove(key) {
                kept.insert(key.to_owned(), v);
            }
        }
        out.insert("analysis".to_owned(), Value::Object(kept));
    }
    Value::Object(out)
}

/// The numeric leaves of `value` with their key paths, in document order (arrays by index).
#[must_use]
pub fn flatten(value: &Value) -> Vec<(Vec<String>, f64)> {
    fn walk(v: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, f64)>) {
        match v {
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    out.push((path.clone(), x));
                }
            }
            Value::Object(m) => {
                for (k, v) in m {
                    path.push(k.clone());
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    path.push(i.to_string());
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Null | Value::Bool(_) | Value::String(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

/// A figure's name: its path joined by dots.
#[must_use]
pub fn name(path: &[String]) -> String {
    path.join(".")
}

/// Whether a figure missing from a replicate means 0 (counts the results omit when zero).
#[must_use]
pub fn zero_when_absent(path: &[String]) -> bool {
    path.iter().any(|k| k == "dead_letter_reasons")
        || path
            .last()
            .is_some_and(|k| k == "emitted" || k == "circuit_breaker_transitions")
}

/// An unknown figure name, with the closest known one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown figure `{name}`{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct UnknownFigure {
    /// The name given.
    pub name: String,
    /// "did you mean …?"
    pub hint: Option<String>,
}

/// The key under which a run's figures say why a guard stopped it (`seed N: reason`).
pub const STOPPED: &str = "stopped";

/// The figures of several replicates, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    /// Each figure's key path, in order of first appearance.
    pub paths: Vec<Vec<String>>,
    /// Per figure, one value per replicate (`None`: absent from that replicate).
    pub values: Vec<Vec<Option<f64>>>,
    /// The first replicate's figures object (its strings and booleans label the output).
    pub template: Value,
    /// Number of replicates.
    pub replicates: usize,
    /// Why runs were stopped by a guard, one line each (`seed N: …`), in replicate order: their
    /// figures cover only the time before the stop.
    pub stops: Vec<String>,
}

impl Samples {
    /// Gathers the figures objects of the replicates, in replicate order.
    #[must_use]
    pub fn from_runs(runs: &[Value]) -> Samples {
        let mut paths: Vec<Vec<String>> = Vec::new();
        let mut index: std::collections::BTreeMap<Vec<String>, usize> = Default::default();
        let mut values: Vec<Vec<Option<f64>>> = Vec::new();
        for (r, run) in runs.iter().enumerate() {
            for (path, x) in flatten(run) {
                let i = *index.entry(path.clone()).or_insert_with(|| {
                    paths.push(path);
                    values.push(vec![None; runs.len()]);
                    values.len() - 1
                });
                values[i][r] = Some(x);
            }
        }
        for (path, v) in paths.iter().zip(values.iter_mut()) {
            if zero_when_absent(path) {
                for x in v.iter_mut() {
                    x.get_or_insert(0.0);
                }
            }
        }
        let stops = runs
            .iter()
            .filter_map(|r| r.get(STOPPED).and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        Samples {
            stops,
            paths,
            values,
            template: runs.first().cloned().unwrap_or(Value::Null),
            replicates: runs.len(),
        }
    }

    /// The position of the figure called `name` (the `nodes.` prefix may be omitted).
    ///
    /// # Errors
    /// [`UnknownFigure`] with a "did you mean" hint.
    pub fn find(&self, name: &str) -> Result<usize, UnknownFigure> {
        let names: Vec<String> = self.paths.iter().map(|p| self::name(p)).collect();
        let full = format!("nodes.{name}");
        if let Some(i) = names.iter().position(|n| n == name || *n == full) {
            return Ok(i);
        }
        let short: Vec<&str> = names
            .iter()
            .map(|n| n.strip_prefix("nodes.").unwrap_or(n))
            .collect();
        Err(UnknownFigure {
            name: name.to_owned(),
            hint: crate::names::did_you_mean(name, short.iter().copied()),
        })
    }

    /// The present values of figure `i`, in replicate order.
    #[must_use]
    pub fn present(&self, i: usize) -> Vec<f64> {
        self.values
            .get(i)
            .map(|v| v.iter().flatten().copied().collect())
            .unwrap_or_default()
    }

    /// Mean and 95 % interval of figure `i` over the replicates that have it.
    #[must_use]
    pub fn estimate(&self, i: usize) -> Option<Estimate> {
        Estimate::from_replicates(&self.present(i)).ok()
    }

    /// The estimates as a JSON object shaped like one replicate's figures, each number replaced
    /// by `{"mean": m, "ci95": h}` (`ci95` null for a single replicate; `n` added when some
    /// replicates lack the figure).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut root = strip_numbers(&self.template);
        for i in 0..self.paths.len() {
            let Some(e) = self.estimate(i) else { continue };
            insert(
                &mut root,
                &self.paths[i],
                estimate_json(&e, self.replicates),
            );
        }
        root
    }
}

/// `{"mean": m, "ci95": h}`, with `n` when fewer than `replicates` values went in.
#[must_use]
pub fn estimate_json(e: &Estimate, replicates: usize) -> Value {
    let mut m = Map::new();
    m.insert("mean".into(), json_number(e.mean));
    m.insert(
        "ci95".into(),
        e.ci95_half_width.map_or(Value::Null, json_number),
    );
    if usize::try_from(e.n).is_ok_and(|n| n < replicates) {
        m.insert("n".into(), Value::from(e.n));
    }
    Value::Object(m)
}

fn json_number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A copy of `v` keeping strings and booleans (labels such as `kind`), with every number
/// replaced by null: the estimates then take the numbers' places, in the same key order.
fn strip_numbers(v: &Value) -> Value {
    match v {
        Value::Number(_) => Value::Null,
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), strip_numbers(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_numbers).collect()),
        other => other.clone(),
    }
}

/// Sets `root[path] = leaf`, creating objects on the way (array indices become object keys
/// where the template had no array).
fn insert(root: &mut Value, path: &[String], leaf: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = root;
    for key in parents {
        cur = match cur {
            Value::Array(a) => match key.parse::<usize>().ok().filter(|i| *i < a.len()) {
                Some(i) => &mut a[i],
                None => return,
            },
            other => {
                if !other.is_object() {
                    *other = Value::Object(Map::new());
                }
                let Value::Object(m) = other else { return };
                m.entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
            }
        };
    }
    match cur {
        Value::Array(a) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *slot = leaf;
            }
        }
        Value::Object(m) => {
            m.insert(last.clone(), leaf);
        }
        other => {
            let mut m = Map::new();
            m.insert(last.clone(), leaf);
            *other = Value::Object(m);
        }
    }
}

/// The common-random-number difference B − A of figure `name` between two sample sets whose
/// replicate `i` used the same seed; `None` unless every replicate of both has it.
#[must_use]
pub fn difference(a: &Samples, ia: usize, b: &Samples, ib: usize) -> Option<Estimate> {
    let xa: Option<Vec<f64>> = a.values.get(ia)?.iter().copied().collect();
    let xb: Option<Vec<f64>> = b.values.get(ib)?.iter().copied().collect();
    paired_difference(&xb?, &xa?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_and_estimate_in_a_fixed_order() {
        let runs = vec![
            json!({ "nodes": { "a.b": { "kind": "consumer", "x": 1.0, "w": { "p99": 2 } } } }),
            json!({ "nodes": { "a.b": { "kind": "consumer", "x": 3.0, "w": { "p99": 4 }, "r": 7 } } }),
            json!({ "nodes": { "a.b": { "kind": "consumer", "x": 5.0, "w": { "p99": 6 },
                                        "dead_letter_reasons": { "timeout": 3 } } } }),
        ];
        let s = Samples::from_runs(&runs);
        let names: Vec<String> = s.paths.iter().map(|p| name(p)).collect();
        assert_eq!(
            names,
            [
                "nodes.a.b.x",
                "nodes.a.b.w.p99",
                "nodes.a.b.r",
                "nodes.a.b.dead_letter_reasons.timeout"
            ]
        );
        let x = s.find("a.b.x").unwrap();
        let e = s.estimate(x).unwrap();
        assert_eq!(e.mean, 3.0);
        // s = 2, t(2) = 4.3027: half-width 4.3027 · 2 / √3.
        assert!(
            (e.ci95_half_width.unwrap() - 4.302_652_729_749_46 * 2.0 / 3f64.sqrt()).abs() < 1e-9
        );
        assert_eq!(s.present(s.find("a.b.r").unwrap()), vec![7.0]);
        // Zero when absent.
        assert_eq!(
            s.present(s.find("a.b.dead_letter_reasons.timeout").unwrap()),
            vec![0.0, 0.0, 3.0]
        );
        let err = s.find("a.b.xx").unwrap_err();
        assert_eq!(err.hint.as_deref(), Some("did you mean `a.b.x`?"));
        let j = s.to_json();
        assert_eq!(j["nodes"]["a.b"]["kind"], "consumer");
        assert_eq!(j["nodes"]["a.b"]["x"]["mean"], 3.0);
        assert_eq!(j["nodes"]["a.b"]["r"]["n"], 1);
        assert!(j["nodes"]["a.b"]["r"]["ci95"].is_null());
        assert_eq!(
            j["nodes"]["a.b"]["dead_letter_reasons"]["timeout"]["mean"],
            1.0
        );
    }

    #[test]
    fn paired_differences() {
        let a = Samples::from_runs(&[json!({"x": 1.0}), json!({"x": 2.0}), json!({"x": 3.0})]);
        let b = Samples::from_runs(&[json!({"x": 2.0}), json!({"x": 3.5}), json!({"x": 4.0})]);
        let d = difference(&a, 0, &b, 0).unwrap();
        assert!((d.mean - 7.0 / 6.0).abs() < 1e-12);
        assert!(d.ci95_half_width.is_some());
    }
}
