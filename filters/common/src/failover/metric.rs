//! Names of the `failover` filter's metrics, in the labelled convention of
//! [`wasmesh_contract::metric_name`]:
//! `failover_retries_total{service,reason}`, `failover_ejections_total{service,endpoint}`,
//! gauge `failover_ejected{service,endpoint}` (1 while ejected),
//! `failover_budget_exhausted_total{service}`, `failover_not_retried_total{service,reason}`
//! (a retryable failure left unretried because of its body) and
//! `failover_timeouts_total{service,reason}` (`request` or `per-try`; `reason` because Envoy only
//! tags the labels of [`wasmesh_contract::metric_name::LABELS`]).

use std::net::SocketAddr;

use wasmesh_contract::metric_name::labelled;

/// Retries sent, by the outcome that caused them.
pub const RETRIES: &str = "failover_retries_total";
/// Ejections written, by endpoint.
pub const EJECTIONS: &str = "failover_ejections_total";
/// Gauge: 1 while the endpoint is ejected, 0 after.
pub const EJECTED: &str = "failover_ejected";
/// Retries the budget refused.
pub const BUDGET_EXHAUSTED: &str = "failover_budget_exhausted_total";

/// Retryable failures not retried because of the request body (`body_too_large`,
/// `body_incomplete`).
pub const NOT_RETRIED: &str = "failover_not_retried_total";
/// Timeouts that fired, by which one (`request`, `per-try`).
pub const TIMEOUTS: &str = "failover_timeouts_total";

/// `failover_not_retried_total;service=<service>;reason=<reason>`.
pub fn not_retried(service: &str, reason: &str) -> String {
    labelled(NOT_RETRIED, &[("service", service), ("reason", reason)])
}

/// `failover_timeouts_total;service=<service>;reason=<which>`.
pub fn timeouts(service: &str, which: &str) -> String {
    labelled(TIMEOUTS, &[("service", service), ("reason", which)])
}

/// `failover_retries_total;service=<service>;reason=<reason>`.
pub fn retries(service: &str, reason: &str) -> String {
    labelled(RETRIES, &[("service", service), ("reason", reason)])
}

/// `<base>;service=<service>;endpoint=<ip:port>`.
pub fn endpoint(base: &str, service: &str, address: SocketAddr) -> String {
    labelled(
        base,
        &[("service", service), ("endpoint", &address.to_string())],
    )
}

/// `failover_budget_exhausted_total;service=<service>`.
pub fn budget_exhausted(service: &str) -> String {
    labelled(BUDGET_EXHAUSTED, &[("service", service)])
}

#[cfg(test)]
mod tests;
