//! Per-node time series for plots and CSV, in memory fixed by the bucket count.
//!
//! The run [0, duration] is cut into equal buckets (the last one also takes anything after the
//! duration). For each node the engine reports counts, level changes, sampled maxima and
//! latencies as they happen; [`SeriesRecorder::snapshot`] turns them into one value per bucket:
//!
//! | kind | metrics | value per bucket |
//! |---|---|---|
//! | counter | `arrivals`, `completions`, `retries`, `throttles`, `failures`, `dead_lettered`, `rejected`, `expired` | events per second |
//! | level | `backlog` (waiting + in flight), `busy`, `dlq_depth`, `lag` (records behind) | time-weighted mean |
//! | sampled maximum | `lag_s` (age of the oldest waiting message) | largest value reported |
//! | latency | `latency_p50`, `latency_p95`, `latency_p99`, `latency_mean` | quantile (or exact mean) of latencies completed in the bucket, seconds |
//!
//! A bucket with no sampled maximum or no latency has no value (`None`: `null` in JSON, an
//! empty field in CSV), which a plot shows as a gap rather than a misleading zero.
//!
//! Memory: counters take 8 bytes, levels 16 bytes, each sampled maximum and latency quantile
//! 8 bytes per (node, bucket); plus one coarse latency histogram (2 significant digits, ≈ 47 KiB)
//! per node that records latencies. 50 nodes × 500 buckets is about 6 MiB, whatever the number
//! of events. Latency quantiles are computed when a node's latencies move on to a later bucket,
//! so only the current bucket needs a histogram; that relies on latencies being reported in
//! simulated-time order, which a discrete-event engine does by construction.
//!
//! This file owns the metric names and the per-bucket data ([`SeriesData`], with its CSV form);
//! [`super::recorder`] records a run into it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

/// Nanoseconds per second.
pub(super) const NS_PER_S: f64 = 1e9;

/// Default number of buckets: enough for a smooth plot at any window width, small in memory.
pub const DEFAULT_BUCKETS: usize = 500;

/// Per-bucket latency histograms keep 2 significant digits: plenty for a plot, small in memory.
pub(super) const SERIES_LATENCY_DIGITS: u8 = 2;

/// The quantiles reported per bucket, matching [`Metric::LatencyP50`] … [`Metric::LatencyP99`].
pub(super) const LATENCY_QUANTILES: [f64; 3] = [0.50, 0.95, 0.99];

/// An event count per bucket, reported as a rate per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counter {
    /// Messages that arrived (became available to the node).
    Arrivals,
    /// Messages processed successfully.
    Completions,
    /// Attempts that were retries.
    Retries,
    /// Deliveries refused by a concurrency or rate limit.
    Throttles,
    /// Attempts that failed.
    Failures,
    /// Messages moved to a dead-letter queue.
    DeadLettered,
    /// Messages refused (queue full, oversized, …).
    Rejected,
    /// Messages that aged out (retention or maximum age).
    Expired,
}

impl Counter {
    /// All counters, in output order.
    pub const ALL: [Counter; 8] = [
        Counter::Arrivals,
        Counter::Completions,
        Counter::Retries,
        Counter::Throttles,
        Counter::Failures,
        Counter::DeadLettered,
        Counter::Rejected,
        Counter::Expired,
    ];
}

/// An integer level, averaged over time within each bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Messages waiting plus messages in flight.
    Backlog,
    /// Busy consumer slots.
    Busy,
    /// Messages in the dead-letter queue.
    DlqDepth,
    /// Records behind the head of a stream.
    Lag,
}

impl Level {
    /// All levels, in output order.
    pub const ALL: [Level; 4] = [Level::Backlog, Level::Busy, Level::DlqDepth, Level::Lag];
}

/// A value the caller samples (it cannot be derived from events); each bucket keeps the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sampled {
    /// Age of the oldest waiting message, seconds.
    LagS,
}

impl Sampled {
    /// All sampled metrics, in output order.
    pub const ALL: [Sampled; 1] = [Sampled::LagS];
}

/// What a series measures. The declaration order is the output order; [`Metric::name`] is the
/// stable `snake_case` name used in CSV and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// [`Counter::Arrivals`] per second.
    Arrivals,
    /// [`Counter::Completions`] per second.
    Completions,
    /// [`Counter::Retries`] per second.
    Retries,
    /// [`Counter::Throttles`] per second.
    Throttles,
    /// [`Counter::Failures`] per second.
    Failures,
    /// [`Counter::DeadLettered`] per second.
    DeadLettered,
    /// [`Counter::Rejected`] per second.
    Rejected,
    /// [`Counter::Expired`] per second.
    Expired,
    /// Time-weighted mean of [`Level::Backlog`].
    Backlog,
    /// Time-weighted mean of [`Level::Busy`].
    Busy,
    /// Time-weighted mean of [`Level::DlqDepth`].
    DlqDepth,
    /// Time-weighted mean of [`Level::Lag`].
    Lag,
    /// Largest [`Sampled::LagS`] reported in the bucket, seconds.
    LagS,
    /// Median latency of the bucket's completions, seconds.
    LatencyP50,
    /// 95th percentile latency, seconds.
    LatencyP95,
    /// 99th percentile latency, seconds.
    LatencyP99,
    /// Mean latency of the bucket's completions, seconds (W for Little's law over time).
    LatencyMean,
}

/// How a [`Metric`]'s bucket values are formed (and so how to label a plot axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Events per second.
    Rate,
    /// Time-weighted mean level (a count).
    Level,
    /// Largest sampled value, seconds.
    SampledMax,
    /// Latency quantile, seconds.
    LatencyQuantile,
}

impl Metric {
    /// Every metric, in output order.
    pub const ALL: [Metric; 17] = [
        Metric::Arrivals,
        Metric::Completions,
        Metric::Retries,
        Metric::Throttles,
        Metric::Failures,
        Metric::DeadLettered,
        Metric::Rejected,
        Metric::Expired,
        Metric::Backlog,
        Metric::Busy,
        Metric::DlqDepth,
        Metric::Lag,
        Metric::LagS,
        Metric::LatencyP50,
        Metric::LatencyP95,
        Metric::LatencyP99,
        Metric::LatencyMean,
    ];

    /// The stable `snake_case` name (CSV `metric` column, JSON).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::Arrivals => "arrivals",
            Metric::Completions => "completions",
            Metric::Retries => "retries",
            Metric::Throttles => "throttles",
            Metric::Failures => "failures",
            Metric::DeadLettered => "dead_lettered",
            Metric::Rejected => "rejected",
            Metric::Expired => "expired",
            Metric::Backlog => "backlog",
            Metric::Busy => "busy",
            Metric::DlqDepth => "dlq_depth",
            Metric::Lag => "lag",
            Metric::LagS => "lag_s",
            Metric::LatencyP50 => "latency_p50",
            Metric::LatencyP95 => "latency_p95",
            Metric::LatencyP99 => "latency_p99",
            Metric::LatencyMean => "latency_mean",
        }
    }

    /// How the bucket values are formed.
    #[must_use]
    pub fn kind(self) -> MetricKind {
        match self {
            Metric::Arrivals
            | Metric::Completions
            | Metric::Retries
            | Metric::Throttles
            | Metric::Failures
            | Metric::DeadLettered
            | Metric::Rejected
            | Metric::Expired => MetricKind::Rate,
            Metric::Backlog | Metric::Busy | Metric::DlqDepth | Metric::Lag => MetricKind::Level,
            Metric::LagS => MetricKind::SampledMax,
            Metric::LatencyP50 | Metric::LatencyP95 | Metric::LatencyP99 | Metric::LatencyMean => {
                MetricKind::LatencyQuantile
            }
        }
    }

    /// Position in [`Metric::ALL`], used as a bit in the per-node "touched" mask.
    pub(super) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl From<Counter> for Metric {
    fn from(counter: Counter) -> Metric {
        Metric::ALL[counter as usize]
    }
}

impl From<Level> for Metric {
    fn from(level: Level) -> Metric {
        Metric::ALL[Counter::ALL.len() + level as usize]
    }
}

impl From<Sampled> for Metric {
    fn from(sampled: Sampled) -> Metric {
        Metric::ALL[Counter::ALL.len() + Level::ALL.len() + sampled as usize]
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A metric name that is not one of [`Metric::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown metric {0:?}")]
pub struct UnknownMetric(pub String);

impl FromStr for Metric {
    type Err = UnknownMetric;

    fn from_str(s: &str) -> Result<Metric, UnknownMetric> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| UnknownMetric(s.to_owned()))
    }
}

/// One node's values of one metric, one per bucket (`None`: nothing to report in that bucket).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Index into [`SeriesData::nodes`].
    pub node: usize,
    /// What the values measure.
    pub metric: Metric,
    /// One value per entry of [`SeriesData::times_s`].
    pub values: Vec<Option<f64>>,
}

/// Time series for every node, ready to plot, serialize or write as CSV.
///
/// Only (node, metric) pairs that were reported at least once appear, ordered by node index and
/// then by [`Metric::ALL`] order, so the output is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesData {
    /// Nominal bucket width, seconds.
    pub bucket_s: f64,
    /// Start of each bucket covered, seconds.
    pub times_s: Vec<f64>,
    /// Node names; [`Series::node`] indexes this.
    pub nodes: Vec<String>,
    /// The series.
    pub series: Vec<Series>,
}

/// A problem reading series CSV.
#[derive(Debug, Error)]
pub enum SeriesCsvError {
    /// The reader failed.
    #[error("reading series CSV: {0}")]
    Io(#[from] io::Error),
    /// The text is not series CSV as [`SeriesData::write_csv`] writes it.
    #[error("series CSV line {line}: {message}")]
    Invalid {
        /// 1-based line where the offending record starts.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The CSV header, in column order.
const CSV_HEADER: [&str; 4] = ["time_s", "node", "metric", "value"];

impl SeriesData {
    /// The series for `node` and `metric`, if it was reported.
    #[must_use]
    pub fn get(&self, node: usize, metric: Metric) -> Option<&Series> {
        // Series are ordered by node: a binary search to the node's few, not a scan of all
        // (health grading asks for every node in every bucket: a scan made it quadratic).
        let start = self.series.partition_point(|s| s.node < node);
        self.series[start..]
            .iter()
            .take_while(|s| s.node == node)
            .find(|s| s.metric == metric)
    }

    /// Writes tidy CSV: header `time_s,node,metric,value`, one row per (bucket, series), rows
    /// ordered by time, then node index, then metric. `time_s` is the bucket start; an empty
    /// `value` means no value in that bucket. Node names are quoted when they need it.
    ///
    /// # Errors
    /// Whatever the writer returns.
    pub fn write_csv(&self, w: &mut impl Write) -> io::Result<()> {
        let quoted: Vec<String> = self.nodes.iter().map(|n| csv_field(n)).collect();
        let mut row = String::new();
        writeln!(w, "{}", CSV_HEADER.join(","))?;
        for (i, time) in self.times_s.iter().enumerate() {
            for series in &self.series {
                row.clear();
                let node = quoted.get(series.node).map_or("", String::as_str);
                // Writing to a String cannot fail.
                let _ = write!(row, "{time},{node},{},", series.metric.name());
                if let Some(Some(value)) = series.values.get(i) {
                    let _ = write!(row, "{value}");
                }
                row.push('\n');
                w.write_all(row.as_bytes())?;
            }
        }
        Ok(())
    }

    /// Reads CSV written by [`SeriesData::write_csv`] back into the same data.
    ///
    /// Nodes are numbered in order of first appearance, so nodes that had no series are not
    /// recovered (their indices shift); `bucket_s` is the spacing of the first two times, or 0
    /// when the file holds a single bucket (its width is not recorded).
    ///
    /// # Errors
    /// [`SeriesCsvError::Invalid`] with the line number for a wrong header, a row without four
    /// fields, an unparsable time or value, an unknown metric, rows out of time order or a
    /// duplicated row; [`SeriesCsvError::Io`] if reading fails.
    pub fn read_csv(mut reader: impl Read) -> Result<SeriesData, SeriesCsvError> {
        let mut text = String::new();
        reader.read_to_string(&mut text)?;
        let mut records = parse_csv_records(&text)?.into_iter();
        let invalid = |line: usize, message: String| SeriesCsvError::Invalid { line, message };

        match records.next() {
            Some((_, header)) if header == CSV_HEADER => {}
            Some((line, header)) => {
                return Err(invalid(
                    line,
                    format!(
                        "expected header {:?}, found {:?}",
                        CSV_HEADER.join(","),
                        header.join(",")
                    ),
                ));
            }
            None => return Err(invalid(1, "empty file: no header".to_owned())),
        }

        let mut times_s: Vec<f64> = Vec::new();
        let mut nodes: Vec<String> = Vec::new();
        let mut node_index: BTreeMap<String, usize> = BTreeMap::new();
        let mut values: BTreeMap<(usize, Metric), Vec<Option<f64>>> = BTreeMap::new();

        for (line, fields) in records {
            let [time, node, metric, value]: [String; 4] =
                fields.try_into().map_err(|fields: Vec<String>| {
                    invalid(line, format!("expected 4 fields, found {}", fields.len()))
                })?;
            let time: f64 = time
                .parse()
                .ok()
                .filter(|t: &f64| t.is_finite())
                .ok_or_else(|| invalid(line, format!("time_s {time:?} is not a number")))?;
            let metric: Metric = metric
                .parse()
                .map_err(|e: UnknownMetric| invalid(line, e.to_string()))?;
            let value = if value.is_empty() {
                None
            } else {
                Some(
                    value
                        .parse::<f64>()
                        .map_err(|_| invalid(line, format!("value {value:?} is not a number")))?,
                )
            };

            match times_s.last() {
                Some(&last) if time == last => {}
                Some(&last) if time < last => {
                    return Err(invalid(
                        line,
                        format!("rows must be sorted by time_s: {time} after {last}"),
                    ));
                }
                _ => times_s.push(time),
            }
            let bucket = times_s.len() - 1;
            let next_index = nodes.len();
            let node = *node_index.entry(node).or_insert_with_key(|name| {
                nodes.push(name.clone());
                next_index
            });
            let column = values.entry((node, metric)).or_default();
            if column.len() > bucket {
                return Err(invalid(
                    line,
                    format!("duplicate row for node {:?}, {metric}", nodes[node]),
                ));
            }
            column.resize(bucket, None);
            column.push(value);
        }

        let buckets = times_s.len();
        let series = values
            .into_iter()
            .map(|((node, metric), mut values)| {
                values.resize(buckets, None);
                Series {
                    node,
                    metric,
                    values,
                }
            })
            .collect();
        let bucket_s = match times_s.as_slice() {
            [first, second, ..] => second - first,
            _ => 0.0,
        };
        Ok(SeriesData {
            bucket_s,
            times_s,
            nodes,
            series,
        })
    }
}

/// A CSV field, quoted (RFC 4180) only when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Splits CSV text into records of fields, honouring RFC 4180 quoting (quoted fields may hold
/// commas, doubled quotes and line breaks). Blank lines are skipped. Each record carries the
/// 1-based line it starts on.
fn parse_csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, SeriesCsvError> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    let mut end_record = |fields: &mut Vec<String>, field: &mut String, at: usize| {
        fields.push(std::mem::take(field));
        let record = std::mem::take(fields);
        if record.len() > 1 || !record[0].is_empty() {
            records.push((at, record));
        }
    };
    while let Some(ch) = chars.next() {
        if in_quotes {
            match ch {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => {
                    if ch == '\n' {
                        line += 1;
                    }
                    field.push(ch);
                }
            }
            continue;
        }
        match ch {
            '"' if field.is_empty() => in_quotes = true,
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_record(&mut fields, &mut field, record_line);
                line += 1;
                record_line = line;
            }
            _ => field.push(ch),
        }
    }
    if in_quotes {
        return Err(SeriesCsvError::Invalid {
            line: record_line,
            message: "unterminated quoted field".to_owned(),
        });
    }
    end_record(&mut fields, &mut field, record_line);
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::SeriesRecorder;

    const S: u64 = 1_000_000_000;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("node{i}")).collect()
    }

    #[test]
    fn metric_names_are_stable_and_match_serde() {
        for m in Metric::ALL {
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.name())
            );
            assert_eq!(m.name().parse::<Metric>(), Ok(m));
        }
        assert_eq!(Metric::from(Counter::DeadLettered), Metric::DeadLettered);
        assert_eq!(Metric::from(Counter::Expired), Metric::Expired);
        assert_eq!(Metric::from(Level::Backlog), Metric::Backlog);
        assert_eq!(Metric::from(Level::Lag), Metric::Lag);
        assert_eq!(Metric::from(Sampled::LagS), Metric::LagS);
        assert!("bogus".parse::<Metric>().is_err());
    }

    #[test]
    fn csv_round_trip() {
        let mut nodes = names(3);
        nodes[1] = "orders, \"eu\"".to_owned(); // needs quoting
        let mut r = SeriesRecorder::new(nodes, 5, 10 * S);
        for k in 0..50_u64 {
            r.count(0, Counter::Arrivals, k * S / 5, 1);
            r.level(1, Level::Backlog, k * S / 5, k % 7);
            r.latency(2, k * S / 5, 1_000_000 + k * 12_345);
        }
        r.observe_max(2, Sampled::LagS, 3 * S, 0.25);
        let data = r.finish(10 * S);
        let mut csv = Vec::new();
        data.write_csv(&mut csv).unwrap();
        let text = String::from_utf8(csv.clone()).unwrap();
        assert!(
            text.starts_with("time_s,node,metric,value\n0,node0,arrivals,5\n"),
            "{text}"
        );
        assert!(text.contains("\"orders, \"\"eu\"\"\",backlog,"), "{text}");
        assert!(
            text.contains(",node2,lag_s,\n"),
            "an empty bucket has an empty value"
        );
        let back = SeriesData::read_csv(csv.as_slice()).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = |text: &str| {
            SeriesData::read_csv(text.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert!(err("").contains("no header"));
        assert!(err("a,b\n").contains("line 1"));
        let h = "time_s,node,metric,value\n";
        assert!(err(&format!("{h}0,n,arrivals\n")).contains("line 2: expected 4 fields"));
        assert!(err(&format!("{h}0,n,arrivals,1\nx,n,arrivals,1\n")).contains("line 3"));
        assert!(err(&format!("{h}0,n,speed,1\n")).contains("unknown metric \"speed\""));
        assert!(err(&format!("{h}1,n,busy,1\n0,n,busy,1\n")).contains("sorted"));
        assert!(err(&format!("{h}0,n,busy,1\n0,n,busy,2\n")).contains("duplicate"));
        assert!(err(&format!("{h}0,\"n,busy,1\n")).contains("unterminated"));
        // CRLF line endings and a trailing blank line are fine.
        let ok = SeriesData::read_csv("time_s,node,metric,value\r\n0,n,busy,1\r\n\r\n".as_bytes())
            .unwrap();
        assert_eq!(ok.series[0].values, vec![Some(1.0)]);
        assert_eq!(ok.bucket_s, 0.0, "a single bucket's width is unknown");
    }
}
