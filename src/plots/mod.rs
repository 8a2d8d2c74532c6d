//! Plots of a run's time series, independent of any GUI: which lines each plot shows
//! ([`figure`]), the data rules behind them ([`data`]: traces, Little's law pairs, the live
//! edge, decimation, colours and units) and drawing them to PNG and SVG ([`render`]).
//!
//! The app draws the same [`figure::Figure`]s with `egui_plot`; `eventflow run --plots DIR` and
//! the app's File ▸ Export draw them with plotters. Nothing here imports egui.

pub mod data;
pub mod figure;
pub mod render;

pub use figure::{Figure, PlotContext};
pub use render::RenderStyle;
