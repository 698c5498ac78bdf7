//! The filter's two counters, defined once per root context and shared with its streams.

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// Name of the counter of requests let through.
pub const ALLOWED: &str = "ratelimit_allowed_total";
/// Name of the counter of requests answered with the limit status.
pub const LIMITED: &str = "ratelimit_limited_total";

/// Metric ids returned by the host for [`ALLOWED`] and [`LIMITED`].
#[derive(Debug, Clone, Copy)]
pub struct Metrics {
    allowed: u32,
    limited: u32,
}

impl Metrics {
    /// Defines both counters; `None` (logged) if the host refuses, in which case the filter
    /// still limits but does not count.
    pub fn define() -> Option<Self> {
        let define = |name: &str| {
            hostcalls::define_metric(MetricType::Counter, name)
                .map_err(|status| log::error!("ratelimit: defining metric {name}: {status:?}"))
                .ok()
        };
        Some(Self {
            allowed: define(ALLOWED)?,
            limited: define(LIMITED)?,
        })
    }

    /// Counts one outcome.
    pub fn count(&self, allowed: bool) {
        let id = if allowed { self.allowed } else { self.limited };
        if let Err(status) = hostcalls::increment_metric(id, 1) {
            log::warn!("ratelimit: incrementing metric {id}: {status:?}");
        }
    }
}
