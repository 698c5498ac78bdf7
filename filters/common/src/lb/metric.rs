//! Names of the `lb` filter's per-endpoint and per-level metrics, in the labelled convention of
//! [`wasmesh_contract::metric_name`]: `lb_requests_total;service=web;endpoint=127.0.0.1:8081`, which both
//! hosts expose as `lb_requests_total{service="web",endpoint="127.0.0.1:8081"}`.

use std::net::SocketAddr;

use wasmesh_contract::metric_name::labelled;

/// Requests sent to an endpoint.
pub const REQUESTS: &str = "lb_requests_total";
/// Requests to an endpoint that failed (5xx, reset, no response).
pub const FAILURES: &str = "lb_failures_total";
/// Gauge: requests to an endpoint started and not yet ended (what `least_request` weighs).
pub const IN_FLIGHT: &str = "lb_in_flight";
/// Gauge: the endpoint's peak-EWMA latency estimate in milliseconds (policy `peak_ewma` only),
/// set each time a response updates it.
pub const EWMA_MS: &str = "lb_ewma_ms";
/// Requests answered 503 because no endpoint was available.
pub const NO_ENDPOINT: &str = "lb_no_endpoint_total";

/// Gauge: percent of requests a priority level gets (Envoy's priority load).
pub const PRIORITY_LOAD: &str = "lb_priority_load";
/// Gauge: 1 while a priority level is in panic (balancing over its ejected endpoints too).
pub const PANIC: &str = "lb_panic";

/// `<base>;service=<service>;priority=<level>`.
pub fn level(base: &str, service: &str, priority: u32) -> String {
    labelled(
        base,
        &[("service", service), ("priority", &priority.to_string())],
    )
}

/// `<base>;service=<service>;endpoint=<ip:port>`.
pub fn endpoint(base: &str, service: &str, address: SocketAddr) -> String {
    labelled(
        base,
        &[("service", service), ("endpoint", &address.to_string())],
    )
}

/// `<base>;service=<service>`.
pub fn service(base: &str, service: &str) -> String {
    labelled(base, &[("service", service)])
}

#[cfg(test)]
mod tests;
