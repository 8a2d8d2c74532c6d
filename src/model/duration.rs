//! Durations as scenario files write them (`"250ms"`, `"30s"`, `"5m"`, or a bare number of
//! seconds) and as the engine keeps them: integer nanoseconds.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Nanoseconds per unit, longest suffix first so `ms` is not read as `m` + `s`.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// A non-negative span of simulated time, in integer nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

impl Duration {
    /// Zero length.
    pub const ZERO: Duration = Duration(0);

    /// From whole seconds.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Duration(secs * 1_000_000_000)
    }

    /// From milliseconds.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms * 1_000_000)
    }

    /// From fractional seconds, rounded to the nearest nanosecond; `None` when negative or not finite.
    #[must_use]
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        if secs.is_finite() && (0.0..1.8e10).contains(&secs) {
            // 1.8e10 s is ~570 years: far beyond any scenario, and safely inside u64 nanoseconds.
            Some(Duration((secs * 1e9).round() as u64))
        } else {
            None
        }
    }

    /// Nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds (rounded down).
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000_000
    }

    /// Seconds as a float (for reports).
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Parses `"250ms"`, `"1.5s"`, `"5m"`, `"2h"`, `"1d"`, `"10us"`, `"100ns"`.
    ///
    /// # Errors
    /// A message saying what is wrong and what would be right.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty duration; write e.g. \"30s\" or \"250ms\"".into());
        }
        let Some((number, scale)) = UNITS
            .iter()
            .find_map(|(unit, scale)| t.strip_suffix(unit).map(|n| (n.trim(), *scale)))
        else {
            return Err(if t.parse::<f64>().is_ok() {
                format!(
                    "duration \"{t}\" has no unit; write \"{t}s\" or \"{t}ms\" (or a bare JSON number for seconds)"
                )
            } else {
                format!(
                    "\"{t}\" is not a duration; write e.g. \"30s\", \"250ms\", \"5m\", \"2h\" or \"1d\""
                )
            });
        };
        let value: f64 = number.parse().map_err(|_| {
            format!("\"{t}\" is not a duration; the part before the unit must be a number")
        })?;
        if !value.is_finite() || value < 0.0 {
            return Err(format!("duration \"{t}\" must not be negative"));
        }
        let nanos = value * scale as f64;
        if nanos > 1.8e19 {
            return Err(format!("duration \"{t}\" is too long"));
        }
        Ok(Duration(nanos.round() as u64))
    }
}

impl fmt::Display for Duration {
    /// The largest unit that shows the value exactly, so files stay readable: `"5m"`, `"250ms"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n == 0 {
            return write!(f, "0s");
        }
        for (unit, scale) in [
            ("d", 86_400_000_000_000u64),
            ("h", 3_600_000_000_000),
            ("m", 60_000_000_000),
            ("s", 1_000_000_000),
            ("ms", 1_000_000),
            ("us", 1_000),
        ] {
            if n.is_multiple_of(scale) {
                return write!(f, "{}{unit}", n / scale);
            }
        }
        if n >= 1_000_000 {
            // Not a whole number of any unit: fractional milliseconds keep it short and exact.
            let ms = n as f64 / 1e6;
            return write!(f, "{ms}ms");
        }
        write!(f, "{n}ns")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: a string with a unit (\"250ms\", \"30s\", \"5m\", \"2h\", \"1d\") or a number of seconds.",
            "anyOf": [
                { "type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*(ns|us|µs|ms|s|m|h|d)?\\s*$" },
                { "type": "number", "minimum": 0 }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"30s\" or \"250ms\", or a number of seconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
                Duration::from_secs_f64(v).ok_or_else(|| {
                    E::custom(format!(
                        "duration {v} must be a non-negative number of seconds"
                    ))
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(Duration::parse("250ms"), Ok(Duration(250_000_000)));
        assert_eq!(Duration::parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(Duration::parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(Duration::parse("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(Duration::parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(Duration::parse("1.5s"), Ok(Duration(1_500_000_000)));
        assert_eq!(Duration::parse("10us"), Ok(Duration(10_000)));
        assert_eq!(Duration::parse("7ns"), Ok(Duration(7)));
    }

    #[test]
    fn rejects_nonsense_with_a_hint() {
        assert!(Duration::parse("10").unwrap_err().contains("no unit"));
        assert!(Duration::parse("-5s").unwrap_err().contains("negative"));
        assert!(
            Duration::parse("fast")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(Duration::parse("").is_err());
    }

    #[test]
    fn bare_numbers_are_seconds() {
        let d: Duration = serde_json::from_str("2.5").unwrap();
        assert_eq!(d, Duration(2_500_000_000));
        assert!(serde_json::from_str::<Duration>("-1").is_err());
    }

    #[test]
    fn displays_in_the_largest_exact_unit_and_round_trips() {
        for text in [
            "5m", "250ms", "30s", "2h", "1d", "10us", "7ns", "1500ms", "0s",
        ] {
            let d = Duration::parse(text).unwrap();
            assert_eq!(d.to_string(), text);
        }
        let odd = Duration(1_234_567);
        assert_eq!(Duration::parse(&odd.to_string()).unwrap(), odd);
    }
}
