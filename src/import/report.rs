//! The import report: what each resource became, what was not modelled and why, and every
//! assumption — as text for a terminal or as JSON (`--json`).

use std::collections::BTreeMap;

use serde::Serialize;

/// One resource of the template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its logical id.
    pub logical_id: String,
    /// Its type (`AWS::SQS::Queue`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The line of the resource in the template.
    pub line: u32,
    /// For what SAM generates: `Function.Events.Name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// What it became in the scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub became: Option<String>,
    /// Why it is not in the scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_modelled: Option<String>,
}

/// A number or stand-in the template did not give.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assumption {
    /// The component it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// What was assumed.
    pub text: String,
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The template's file name.
    pub template: String,
    /// Every resource, in template order.
    pub entries: Vec<Entry>,
    /// Every assumption.
    pub assumptions: Vec<Assumption>,
    /// Which rule each SAM event (`Function.Events.Name`) became.
    pub origins: BTreeMap<String, String>,
}

impl Report {
    /// The report as a terminal reads it.
    #[must_use]
    pub fn text(&self) -> String {
        let modelled = self.entries.iter().filter(|e| e.became.is_some()).count();
        let mut out = format!(
            "import {}: {} read, {modelled} modelled, {} not modelled, {}\n",
            self.template,
            crate::names::plural(self.entries.len(), "resource"),
            self.entries.len() - modelled,
            crate::names::plural(self.assumptions.len(), "assumption")
        );
        if modelled > 0 {
            out.push_str("\nModelled:\n");
            for e in self.entries.iter().filter(|e| e.became.is_some()) {
                let origin = e
                    .origin
                    .as_deref()
                    .map(|o| format!(" [{o}]"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {} ({}, line {}){origin} → {}\n",
                    e.logical_id,
                    e.kind,
                    e.line,
                    e.became.as_deref().unwrap_or_default()
                ));
            }
        }
        if modelled < self.entries.len() {
            out.push_str("\nNot modelled:\n");
            for e in self.entries.iter().filter(|e| e.became.is_none()) {
                out.push_str(&format!(
                    "  {} ({}, line {}): {}\n",
                    e.logical_id,
                    e.kind,
                    e.line,
                    e.not_modelled.as_deref().unwrap_or_default()
                ));
            }
        }
        out.push_str("\nAssumptions (set these numbers first):\n");
        if self.assumptions.is_empty() {
            out.push_str("  none\n");
        }
        for a in &self.assumptions {
            match &a.component {
                Some(c) => out.push_str(&format!("  {c}: {}\n", a.text)),
                None => out.push_str(&format!("  {}\n", a.text)),
            }
        }
        out
    }

    /// The report as JSON.
    #[must_use]
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
