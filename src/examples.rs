//! The bundled example scenarios, embedded in the binary.
//!
//! A copied or installed `eventflow` has every example: nothing is looked up on disk. The CLI
//! lists them (`eventflow examples`) and prints one (`eventflow examples NAME`); the app offers
//! them under File ▸ Open example and opens one as an untitled document, so Save asks where
//! instead of overwriting a bundled file.
//!
//! The table is kept by hand (no build script); a test checks that it names every file in
//! `scenarios/` and nothing else, so a new scenario cannot be forgotten.

/// One bundled scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Example {
    /// Its file name in `scenarios/` (`order-fanout.json`).
    pub file_name: &'static str,
    /// The file's text.
    pub text: &'static str,
}

/// Every bundled scenario, by file name.
const FILES: &[(&str, &str)] = &[
    (
        "capacity-planning.json",
        include_str!("../scenarios/capacity-planning.json"),
    ),
    (
        "content-routing.json",
        include_str!("../scenarios/content-routing.json"),
    ),
    (
        "fanout-eventbridge-rules.json",
        include_str!("../scenarios/fanout-eventbridge-rules.json"),
    ),
    (
        "fanout-sns-filters.json",
        include_str!("../scenarios/fanout-sns-filters.json"),
    ),
    (
        "feedback-loop-fixed.json",
        include_str!("../scenarios/feedback-loop-fixed.json"),
    ),
    (
        "feedback-loop.json",
        include_str!("../scenarios/feedback-loop.json"),
    ),
    (
        "flash-sale-block.json",
        include_str!("../scenarios/flash-sale-block.json"),
    ),
    (
        "flash-sale.json",
        include_str!("../scenarios/flash-sale.json"),
    ),
    (
        "hot-partition-more-consumers.json",
        include_str!("../scenarios/hot-partition-more-consumers.json"),
    ),
    (
        "hot-partition.json",
        include_str!("../scenarios/hot-partition.json"),
    ),
    (
        "order-fanout.json",
        include_str!("../scenarios/order-fanout.json"),
    ),
    (
        "ordering-standard-vs-fifo.json",
        include_str!("../scenarios/ordering-standard-vs-fifo.json"),
    ),
    (
        "outage-recovery.json",
        include_str!("../scenarios/outage-recovery.json"),
    ),
    (
        "poison-message.json",
        include_str!("../scenarios/poison-message.json"),
    ),
    (
        "retries-dlq.json",
        include_str!("../scenarios/retries-dlq.json"),
    ),
    (
        "retry-storm-fixed.json",
        include_str!("../scenarios/retry-storm-fixed.json"),
    ),
    (
        "retry-storm.json",
        include_str!("../scenarios/retry-storm.json"),
    ),
    (
        "saga-choreography.json",
        include_str!("../scenarios/saga-choreography.json"),
    ),
    (
        "saga-compensation.json",
        include_str!("../scenarios/saga-compensation.json"),
    ),
    (
        "saga-orchestration.json",
        include_str!("../scenarios/saga-orchestration.json"),
    ),
];

/// The scenario opened when the app starts without a file.
pub const DEFAULT_EXAMPLE: &str = "order-fanout.json";

impl Example {
    /// The scenario's `name` (`01 · Order fan-out`), or the file stem when it has none.
    #[must_use]
    pub fn name(&self) -> String {
        serde_json::from_str::<serde_json::Value>(self.text)
            .ok()
            .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.stem().to_owned())
    }

    /// The file name without `.json`: what `eventflow examples NAME` accepts.
    #[must_use]
    pub fn stem(&self) -> &'static str {
        self.file_name
            .strip_suffix(".json")
            .unwrap_or(self.file_name)
    }
}

/// Every bundled example, sorted by scenario name (the names start with their number).
#[must_use]
pub fn all() -> Vec<Example> {
    let mut out: Vec<Example> = FILES
        .iter()
        .map(|&(file_name, text)| Example { file_name, text })
        .collect();
    out.sort_by_cached_key(|e| (e.name().to_lowercase(), e.file_name));
    out
}

/// The example called `name`: its file stem, file name, or scenario name (any case).
#[must_use]
pub fn find(name: &str) -> Option<Example> {
    let want = name.trim().to_lowercase();
    all().into_iter().find(|e| {
        e.stem().eq_ignore_ascii_case(&want)
            || e.file_name.eq_ignore_ascii_case(&want)
            || e.name().to_lowercase() == want
    })
}

/// The example the app opens at start.
#[must_use]
pub fn default_example() -> Option<Example> {
    find(DEFAULT_EXAMPLE).or_else(|| all().into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_every_bundled_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        on_disk.sort();
        let mut table: Vec<String> = FILES.iter().map(|(n, _)| (*n).to_owned()).collect();
        table.sort();
        assert_eq!(
            table, on_disk,
            "add the new scenario to FILES in src/examples.rs"
        );
    }

    #[test]
    fn examples_are_found_by_stem_file_or_name() {
        let e = find("order-fanout").expect("bundled");
        assert_eq!(e.file_name, "order-fanout.json");
        assert_eq!(find("ORDER-FANOUT.JSON"), Some(e));
        assert_eq!(find(&e.name()), Some(e));
        assert_eq!(default_example(), Some(e));
        assert!(find("no-such-example").is_none());
        for e in all() {
            crate::scenario::parse(e.text, e.file_name).expect("every example loads");
        }
    }
}
