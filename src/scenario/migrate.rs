//! Format versions: upgrading version-1 files to version 2 with the meaning version 1 gave
//! them, refusing newer ones.
//!
//! Version 2 follows AWS's defaults where version 1 had its own, so a version-1 file is given
//! explicitly the settings it used to mean (`scenario-format.md`, *Migration*):
//! - a consumer that a rule targets directly becomes `"kind": "service"` (version 1 called
//!   direct targets synchronously);
//! - a consumer reading a queue gets `"report_batch_item_failures": true` and
//!   `"scaling": "instant"` (version 1 failed messages one by one and started at full
//!   concurrency); one reading a stream gets `"report_batch_item_failures": true` too
//!   (version 1 checkpointed a stream batch at its first failed record);
//! - a consumer reading a queue or a stream keeps its version-1 `batch_size` (default 1) and
//!   gets `"timeout": "none"` unless it had one (version 1 had no function timeout);
//! - a consumer whose `timeout` is longer than its queue's visibility timeout becomes
//!   `"kind": "service"` (Lambda refuses such a mapping; version 1 let the message reappear
//!   while the slow handler still worked on it, which a service polling the queue does too);
//! - a stream becomes `"type": "kafka"` (version 1 allowed any retention), and its readers get
//!   `"batch_window": "0s"` (a Kafka mapping's default window is 500 ms; version 1 had none).
//!
//! What version 1 modelled unlike AWS (when a message reaches its DLQ, FIFO batches,
//! deduplication, targets in an outage) follows AWS in both versions: that is not migrated.

use serde_json::{Map, Value};

use super::problem::Problem;
use crate::model::{Duration, FORMAT, FORMAT_V1};

/// Upgrades a version-1 file (or one with no `format`) to the current format. Returns the
/// value and whether it was migrated.
///
/// # Errors
/// A format this build does not know.
pub fn migrate_flagged(mut value: Value) -> Result<(Value, bool), Problem> {
    let Some(obj) = value.as_object_mut() else {
        return Ok((value, false));
    };
    match obj.get("format") {
        None => {
            v1_to_v2(obj);
            Ok((value, true))
        }
        Some(Value::String(f)) if f == FORMAT => Ok((value, false)),
        Some(Value::String(f)) if f == FORMAT_V1 => {
            v1_to_v2(obj);
            Ok((value, true))
        }
        Some(Value::String(f)) => {
            let newer = f
                .strip_prefix("eventflow/")
                .and_then(|v| v.parse::<u32>().ok())
                .is_some_and(|v| v > 2);
            Err(Problem::error(
                "format",
                if newer {
                    format!(
                        "\"{f}\" was written by a newer eventflow; this build reads \"{FORMAT}\" and \"{FORMAT_V1}\""
                    )
                } else {
                    format!("unknown format \"{f}\"")
                },
            )
            .hint(Some(format!("use \"{FORMAT}\""))))
        }
        Some(other) => Err(Problem::error(
            "format",
            format!("must be a string, found {}", crate::names::json_type(other)),
        )
        .hint(Some(format!("use \"{FORMAT}\"")))),
    }
}

/// [`migrate_flagged`] without the flag.
///
/// # Errors
/// As [`migrate_flagged`].
pub fn migrate(value: Value) -> Result<Value, Problem> {
    migrate_flagged(value).map(|(v, _)| v)
}

/// The ids listed in `section` (objects with a string `id`).
fn ids(obj: &Map<String, Value>, section: &str) -> Vec<String> {
    obj.get(section)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Sets `key` on `item` unless the author set it.
fn set_default(item: &mut Map<String, Value>, key: &str, value: Value) {
    item.entry(key.to_owned()).or_insert(value);
}

/// Does consumer `c` (JSON) have a time limit longer than `visibility`?
fn timeout_beyond_visibility(c: &Map<String, Value>, visibility: Option<Duration>) -> bool {
    let timeout = c
        .get("timeout")
        .and_then(|v| serde_json::from_value::<Duration>(v.clone()).ok());
    matches!((timeout, visibility), (Some(t), Some(v)) if t > v)
}

fn v1_to_v2(obj: &mut Map<String, Value>) {
    obj.insert("format".into(), Value::String(FORMAT.into()));
    let queues = ids(obj, "queues");
    let visibility: std::collections::HashMap<String, Duration> = obj
        .get("queues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|q| {
            let id = q.get("id")?.as_str()?.to_owned();
            let vis = q
                .get("visibility_timeout")
                .and_then(|v| serde_json::from_value::<Duration>(v.clone()).ok())
                .unwrap_or(crate::model::defaults::SQS_VISIBILITY_TIMEOUT);
            Some((id, vis))
        })
        .collect();
    let streams = ids(obj, "streams");
    // Every id a rule target names.
    let targeted: Vec<String> = obj
        .get("buses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("rules").and_then(Value::as_array))
        .flatten()
        .filter_map(|r| r.get("targets").and_then(Value::as_array))
        .flatten()
        .filter_map(|t| t.get("to").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if let Some(Value::Array(consumers)) = obj.get_mut("consumers") {
        for c in consumers.iter_mut().filter_map(Value::as_object_mut) {
            let from = c.get("from").and_then(Value::as_str).map(str::to_owned);
            let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
            match from {
                None if targeted.iter().any(|t| t == id) => {
                    set_default(c, "kind", Value::from("service"));
                }
                None => {}
                Some(f) => {
                    if queues.contains(&f) || streams.contains(&f) {
                        set_default(c, "report_batch_item_failures", Value::Bool(true));
                    }
                    if queues.contains(&f) {
                        set_default(c, "scaling", Value::from("instant"));
                        // Lambda refuses a mapping whose function outlives the visibility
                        // timeout; version 1 let a slow handler's message reappear. Such a
                        // consumer keeps its meaning as a service polling the queue itself.
                        if timeout_beyond_visibility(c, visibility.get(&f).copied()) {
                            set_default(c, "kind", Value::from("service"));
                        }
                    }
                    if streams.contains(&f) {
                        // A Kafka mapping's window defaults to 500 ms; version 1 had none.
                        set_default(c, "batch_window", Value::from("0s"));
                    }
                    if queues.contains(&f) || streams.contains(&f) {
                        set_default(c, "batch_size", Value::from(1));
                        set_default(c, "timeout", Value::from("none"));
                    }
                }
            }
        }
    }
    if let Some(Value::Array(items)) = obj.get_mut("streams") {
        for s in items.iter_mut().filter_map(Value::as_object_mut) {
            set_default(s, "type", Value::from("kafka"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_version_1_file_gets_the_settings_version_1_meant() {
        let v1 = json!({ "format": "eventflow/1", "name": "t", "duration": "1m",
            "buses": [ { "id": "b", "rules": [ { "id": "r", "pattern": {},
                "targets": [ { "to": "direct" } ] } ] } ],
            "queues": [ { "id": "q" } ], "streams": [ { "id": "s", "partitions": 2 } ],
            "consumers": [
                { "id": "direct", "service_time": { "constant": "1ms" } },
                { "id": "reader", "from": "q", "batch_size": 5, "timeout": "2s",
                  "service_time": { "constant": "1ms" } },
                { "id": "streamer", "from": "s", "service_time": { "constant": "1ms" } } ] });
        let (v2, migrated) = migrate_flagged(v1).unwrap();
        assert!(migrated);
        assert_eq!(v2["format"], FORMAT);
        let c = &v2["consumers"];
        assert_eq!(c[0]["kind"], "service");
        assert_eq!(c[1]["report_batch_item_failures"], true);
        assert_eq!(c[1]["scaling"], "instant");
        // The author's own settings stay.
        assert_eq!(c[1]["batch_size"], 5);
        assert_eq!(c[1]["timeout"], "2s");
        assert_eq!(c[2]["batch_size"], 1);
        assert_eq!(c[2]["timeout"], "none");
        assert!(c[2].get("scaling").is_none());
        assert_eq!(v2["streams"][0]["type"], "kafka");
    }

    #[test]
    fn version_2_files_pass_unchanged_and_newer_ones_are_refused() {
        let v2 = json!({ "format": FORMAT, "name": "t", "duration": "1m",
            "consumers": [ { "id": "c", "service_time": { "constant": "1ms" } } ] });
        assert_eq!(migrate_flagged(v2.clone()).unwrap(), (v2, false));
        let p = migrate(json!({ "format": "eventflow/3" })).unwrap_err();
        assert!(p.message.contains("newer eventflow"), "{}", p.message);
        let p = migrate(json!({ "format": "other/1" })).unwrap_err();
        assert!(p.message.contains("unknown format"), "{}", p.message);
    }
}
