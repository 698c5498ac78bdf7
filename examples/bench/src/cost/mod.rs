//! The default mode, proxy cost: direct, Envoy and wasmesh (each without and with a filter
//! chain, optionally step by step) under the same load, so the figures are comparable ratios.

pub mod chain;
pub mod marks;
pub mod measure;
pub mod report;
pub mod steps;
pub mod targets;
