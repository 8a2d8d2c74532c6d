//! Format versions: upgrading older files to the current format, refusing newer ones.

use serde_json::Value;

use super::problem::Problem;
use crate::model::FORMAT;

/// Upgrades older formats to the current one (the hook for future versions).
///
/// # Errors
/// A format this build does not know.
pub fn migrate(mut value: Value) -> Result<Value, Problem> {
    let Some(obj) = value.as_object_mut() else {
        return Ok(value);
    };
    match obj.get("format") {
        None => {
            obj.insert("format".into(), Value::String(FORMAT.into()));
            Ok(value)
        }
        Some(Value::String(f)) if f == FORMAT => Ok(value),
        Some(Value::String(f)) => {
            let newer = f
                .strip_prefix("eventflow/")
                .and_then(|v| v.parse::<u32>().ok())
                .is_some_and(|v| v > 1);
            Err(Problem::error(
                "format",
                if newer {
                    format!(
                        "\"{f}\" was written by a newer eventflow; this build reads \"{FORMAT}\""
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
