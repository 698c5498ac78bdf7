//! The default mode, proxy cost: direct, Envoy and wasmesh (each without and with the `headers`
//! filter) under the same load, so the figures are comparable ratios.

pub mod measure;
pub mod report;
pub mod targets;
