//! Names of the `lb` filter's per-endpoint metrics.
//!
//! `<base>.<service>.<endpoint>`, e.g. `lb_requests_total.web.127_0_0_1_8081`: the endpoint
//! label keeps only `[A-Za-z0-9_]`, so the name is already a valid Prometheus name once the dots
//! become `_` (what wasmesh's `/metrics` and Envoy's Prometheus output both do). The dots mark
//! where the labels are, for the tag extraction DESIGN.md plans (`stats_tags` in Envoy).

use std::net::SocketAddr;

/// Requests sent to an endpoint.
pub const REQUESTS: &str = "lb_requests_total";
/// Requests to an endpoint that failed (5xx, reset, no response).
pub const FAILURES: &str = "lb_failures_total";
/// Gauge: requests to an endpoint started and not yet ended (what `least_request` weighs).
pub const IN_FLIGHT: &str = "lb_in_flight";
/// Requests answered 503 because no endpoint was available.
pub const NO_ENDPOINT: &str = "lb_no_endpoint_total";

/// `<base>.<service>.<endpoint label>`.
pub fn endpoint(base: &str, service: &str, address: SocketAddr) -> String {
    format!("{base}.{service}.{}", endpoint_label(address))
}

/// `<base>.<service>`.
pub fn service(base: &str, service: &str) -> String {
    format!("{base}.{service}")
}

/// `127.0.0.1:8081` → `127_0_0_1_8081`; `[::1]:80` → `__1_80`.
pub fn endpoint_label(address: SocketAddr) -> String {
    let text = match address {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("{}:{}", a.ip(), a.port()),
    };
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests;
