//! The filter's counters, defined once per root context and shared with its streams.

use proxy_wasm::types::MetricType;
use wasmesh_filter_glue::metric;

/// Name of the counter of requests let through.
pub const ALLOWED: &str = "ratelimit_allowed_total";
/// Name of the counter of requests answered with the limit status.
pub const LIMITED: &str = "ratelimit_limited_total";
/// Name of the counter of requests whose key found no free slot (then `on_store_full` decides).
pub const STORE_FULL: &str = "ratelimit_store_full_total";

/// Metric ids returned by the host for [`ALLOWED`], [`LIMITED`] and [`STORE_FULL`].
#[derive(Debug, Clone, Copy)]
pub struct Metrics {
    allowed: u32,
    limited: u32,
    store_full: u32,
}

impl Metrics {
    /// Defines the counters; `None` (logged) if the host refuses, in which case the filter
    /// still limits but does not count.
    pub fn define() -> Option<Self> {
        let define = |name: &str| metric::define("ratelimit", MetricType::Counter, name);
        Some(Self {
            allowed: define(ALLOWED)?,
            limited: define(LIMITED)?,
            store_full: define(STORE_FULL)?,
        })
    }

    /// Counts one outcome.
    pub fn count(&self, allowed: bool) {
        increment(if allowed { self.allowed } else { self.limited });
    }

    /// Counts a request whose key found no free slot.
    pub fn count_store_full(&self) {
        increment(self.store_full);
    }
}

fn increment(id: u32) {
    metric::add("ratelimit", Some(id), 1);
}
