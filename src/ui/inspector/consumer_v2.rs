//! The consumer form's version-2 settings: what the consumer is (function or service) and the
//! settings of how it is fed — an SQS or stream event source mapping, or asynchronous
//! invocation — showing only those that mean something for this consumer, as the validator
//! (`scenario::validate`'s `consumer_v2`) decides where each applies. Empty fields show AWS's
//! default (`model::defaults`) as their hint; ranges are checked as typed.

use eframe::egui::Ui;

use super::{Inspector, joined, parse_opt_duration_in, parse_opt_f64, parse_opt_in};
use crate::model::defaults::{self, SourceKind};
use crate::model::{AsyncInvoke, Consumer, ConsumerKind, Duration, Scaling};
use crate::pattern::Pattern;

/// Ids a consumer's settings may name.
pub(super) struct Destinations {
    /// Queues (a stream mapping's `on_failure`).
    pub(super) queues: Vec<String>,
    /// Queues, buses and consumers (asynchronous invocation's destinations).
    pub(super) async_targets: Vec<String>,
}

impl Inspector {
    /// Rows (inside the consumer's grid) for the settings that apply to `c`, fed from `source`.
    pub(super) fn consumer_v2_rows(
        &mut self,
        ui: &mut Ui,
        c: &mut Consumer,
        source: SourceKind,
        ids: &Destinations,
    ) {
        let mut kind = c.kind_in_force();
        self.enum_combo_row(
            ui,
            "Kind",
            "kind",
            &mut kind,
            &[
                (ConsumerKind::Function, "function (Lambda)"),
                (ConsumerKind::Service, "service (synchronous endpoint)"),
            ],
        );
        if kind != c.kind_in_force() {
            c.kind = Some(kind);
        }
        match source {
            SourceKind::Invoked => {}
            SourceKind::Queue { fifo } => {
                if !fifo {
                    self.batch_window_row(ui, c, source);
                }
                self.check_row(
                    ui,
                    "Report batch item failures",
                    "report_batch_item_failures",
                    &mut c.report_batch_item_failures,
                    "Only the failed messages of a batch are retried (ReportBatchItemFailures)",
                );
                self.opt_row(
                    ui,
                    "Max concurrency",
                    "max_concurrency",
                    &mut c.max_concurrency,
                    &format!("none (pollers up to {})", defaults::SQS_POLLERS_MAX),
                    |t| parse_opt_in(t, &defaults::SQS_MAX_CONCURRENCY_RANGE),
                );
                self.enum_combo_row(
                    ui,
                    "Poller scaling",
                    "scaling",
                    &mut c.scaling,
                    &[
                        (None, "aws (default)"),
                        (Some(Scaling::Aws), "aws"),
                        (Some(Scaling::Instant), "instant"),
                    ],
                );
            }
            SourceKind::Stream(_) => {
                self.batch_window_row(ui, c, source);
                self.check_row(
                    ui,
                    "Report batch item failures",
                    "report_batch_item_failures",
                    &mut c.report_batch_item_failures,
                    "Retries resume from the first failed record",
                );
                self.stream_rows(ui, c, ids);
            }
        }
        if kind == ConsumerKind::Function && source == SourceKind::Invoked {
            self.async_rows(ui, c, ids);
        }
        if kind == ConsumerKind::Service {
            self.opt_row(
                ui,
                "Rate limit (calls/s)",
                "rate_limit",
                &mut c.rate_limit,
                "unlimited",
                |t| parse_opt_f64(t, "a rate above 0", |x| x > 0.0),
            );
        }
    }

    /// Below the consumer's grid: a service's `reject_when` pattern.
    pub(super) fn consumer_v2_json(&mut self, ui: &mut Ui, c: &mut Consumer) {
        if c.kind_in_force() != ConsumerKind::Service {
            return;
        }
        if let Some(v) = self.json_text(
            ui,
            "Reject when (event pattern; empty: never)",
            "reject_when",
            (c.reject_when.as_ref(), true),
            2,
            |v| Pattern::parse(v).map(|_| ()).map_err(|e| joined(&e)),
        ) {
            c.reject_when = v;
            self.changed("reject_when");
        }
    }

    fn batch_window_row(&mut self, ui: &mut Ui, c: &mut Consumer, source: SourceKind) {
        let hint = c.batch_window_in_force(source).to_string();
        self.opt_row(
            ui,
            "Batch window",
            "batch_window",
            &mut c.batch_window,
            &hint,
            |t| parse_opt_duration_in(t, &(Duration::ZERO..=defaults::BATCH_WINDOW_MAX)),
        );
    }

    fn stream_rows(&mut self, ui: &mut Ui, c: &mut Consumer, ids: &Destinations) {
        self.check_row(
            ui,
            "Bisect a failing batch",
            "bisect_on_error",
            &mut c.bisect_on_error,
            "Split a failing batch in two and retry each half (BisectBatchOnFunctionError)",
        );
        self.opt_row(
            ui,
            "Max retry attempts",
            "max_retry_attempts",
            &mut c.max_retry_attempts,
            "-1 (until the record expires)",
            |t| parse_opt_in(t, &defaults::STREAM_MAX_RETRY_ATTEMPTS),
        );
        self.opt_row(
            ui,
            "Max record age",
            "max_record_age",
            &mut c.max_record_age,
            "the stream's retention",
            |t| parse_opt_duration_in(t, &defaults::STREAM_MAX_RECORD_AGE_RANGE),
        );
        self.opt_row(
            ui,
            "Parallelization factor",
            "parallelization_factor",
            &mut c.parallelization_factor,
            "1 (batches per shard at once)",
            |t| parse_opt_in(t, &defaults::PARALLELIZATION_FACTOR_RANGE),
        );
        self.id_combo_row(
            ui,
            "On failure (queue)",
            "on_failure",
            &mut c.on_failure,
            &ids.queues,
            Some("none (records are dropped)"),
        );
    }

    fn async_rows(&mut self, ui: &mut Ui, c: &mut Consumer, ids: &Destinations) {
        let mut a = c.async_invoke.clone().unwrap_or_default();
        self.opt_row(
            ui,
            "Async retries",
            "async.retries",
            &mut a.retries,
            &defaults::LAMBDA_ASYNC_RETRIES.to_string(),
            |t| parse_opt_in(t, &defaults::LAMBDA_ASYNC_RETRIES_RANGE),
        );
        self.opt_row(
            ui,
            "Async max event age",
            "async.max_age",
            &mut a.max_age,
            &defaults::hours(defaults::LAMBDA_ASYNC_MAX_AGE),
            |t| parse_opt_duration_in(t, &defaults::LAMBDA_ASYNC_MAX_AGE_RANGE),
        );
        self.id_combo_row(
            ui,
            "On failure",
            "async.on_failure",
            &mut a.on_failure,
            &ids.async_targets,
            Some("none (dropped)"),
        );
        self.id_combo_row(
            ui,
            "On success",
            "async.on_success",
            &mut a.on_success,
            &ids.async_targets,
            Some("none"),
        );
        c.async_invoke = (a != AsyncInvoke::default()).then_some(a);
    }
}
