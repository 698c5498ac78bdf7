//! The `metrics` filter as pure logic: Linkerd-style golden metrics (names and labels), route
//! templates that keep raw paths out of labels, the cap on label values, success/failure
//! classification, W3C trace context and the access-log line.
//!
//! Nothing here reads a clock, a random source or a header map: the filter hands in what it
//! read, so every rule is tested natively (`cargo test -p wasmesh-common`).

pub mod access_log;
pub mod cap;
pub mod classify;
pub mod config;
pub mod names;
pub mod route;
pub mod trace;

pub use cap::{LabelCap, LabelId};
pub use classify::Classification;
pub use config::{Direction, MetricsConfig};
pub use route::RouteTable;

/// Linkerd's latency histogram buckets, in milliseconds: what both hosts must be configured
/// with for `response_latency_ms` (Envoy `histogram_bucket_settings`, wasmesh
/// `stats.histogram_buckets`), since the proxy-wasm API cannot choose buckets.
pub const LATENCY_BUCKETS_MS: [f64; 25] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0,
    1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 40000.0, 50000.0,
];
