//! Names of the `discovery` filter's metrics, labelled as [`crate::metric_name`] says.

use crate::metric_name::labelled;

/// Gauge: 1 while the service's published set is the last good one of a failing source.
pub const STALE: &str = "discovery_stale";
/// Gauge: endpoints in the service's last good set.
pub const ENDPOINTS: &str = "discovery_endpoints";
/// Counter: sets this filter wrote to shared data.
pub const UPDATES: &str = "discovery_updates_total";
/// Counter: failed polls, by `reason` (`no_response`, `status`, `malformed`).
pub const ERRORS: &str = "discovery_errors_total";

/// `<base>;service=<service>`.
pub fn service(base: &str, service: &str) -> String {
    labelled(base, &[("service", service)])
}

/// `discovery_errors_total;service=<service>;reason=<reason>`.
pub fn error(service: &str, reason: &str) -> String {
    labelled(ERRORS, &[("service", service), ("reason", reason)])
}

/// The `reason` label of a source's failure message: `no response…`, `status …`, or anything
/// else (an answer that could not be parsed).
pub fn reason(message: &str) -> &'static str {
    if message.starts_with("no response") {
        "no_response"
    } else if message.starts_with("status ") {
        "status"
    } else {
        "malformed"
    }
}
