//! Analysis: what theory predicts for a scenario, and how sure we are of what a run measured.
//!
//! Two halves, both pure functions with no simulator state:
//!
//! - [`queueing`]: closed-form queueing results (Erlang B/C for M/M/c, Pollaczek–Khinchine for
//!   M/G/1 and M/D/1, the Kingman and Allen–Cunneen G/G approximations) and the capacity figures
//!   the capacity panel shows (servers for a utilization or wait target, partitions for a hot key,
//!   backlog growth and drain time, retry amplification). Every prediction says whether it is
//!   exact or an approximation, and an unstable system (ρ ≥ 1) is reported as such rather than
//!   as an infinity or NaN.
//! - [`stats`]: replication statistics: Welford's online mean and variance, the Student-t 0.975
//!   quantile, 95 % confidence intervals from independent replications, and paired differences
//!   for common-random-number comparisons.
//!
//! On top of them, the measurement and capacity analysis of runs:
//!
//! - [`analyze`] ([`report`]): one run's [`Analysis`]: the Little's law panel ([`little`]), the
//!   capacity panel with predictions and recommendations ([`capacity`]) and the health summary
//!   ([`health`], whose [`health::states`] also gives the GUI a state per series bucket).
//! - [`replicate`]: N seeds in parallel, each figure's mean and 95 % interval ([`figures`]).
//! - [`compare`]: two scenarios under common random numbers, paired differences.
//! - [`sweep`]: a grid of `--set` values, every variant run and tabulated.
//! - [`shard`]: a sweep's or replicated run's grid split into balanced slices for other
//!   machines, saved as part files, and merged back exactly.
//!
//! The reference for every formula is `shared/reference/queueing.md`; the unit tests check its
//! worked examples.

pub mod capacity;
pub mod compare;
pub mod figures;
pub mod health;
pub mod id_map;
pub mod little;
pub mod queueing;
pub mod replicate;
pub mod report;
pub mod shard;
pub mod stats;
pub mod sweep;

pub use id_map::IdMap;
pub use queueing::{
    Accuracy, DEFAULT_TARGET_UTILIZATION, HotKeyPlan, Model, Prediction, QueueingError, WaitTarget,
    allen_cunneen, backlog_growth_per_s, dead_letter_fraction, drain_time_s, erlang_b, erlang_c,
    kingman, md1, mg1, mmc, partitions_for_hot_key, retry_amplification, servers_for_utilization,
    servers_for_wait,
};
pub use report::{Analysis, analyze};
pub use stats::{Estimate, StatsError, Welford, paired_difference, t_quantile_975};
