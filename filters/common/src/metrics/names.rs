//! Names of the `metrics` filter's series, in the labelled convention of
//! [`wasmesh_contract::metric_name`] and with Linkerd's metric names, so both hosts expose e.g.
//! `response_total{direction="inbound",authority="web",route="users",status_code="200",classification="success"}`.
//!
//! The label values passed in must already be bounded (route names, capped authorities and
//! endpoints): these functions only assemble names.

use wasmesh_contract::metric_name::labelled;

/// Counter: requests, counted at request headers.
pub const REQUEST_TOTAL: &str = "request_total";
/// Counter: finished streams, counted once at their end.
pub const RESPONSE_TOTAL: &str = "response_total";
/// Histogram: request headers → response headers (time to first byte), in ms.
pub const RESPONSE_LATENCY_MS: &str = "response_latency_ms";
/// Gauge: streams started and not yet ended.
pub const REQUEST_IN_FLIGHT: &str = "request_in_flight";
/// Counter: finished streams per upstream endpoint (`ip:port`).
pub const ENDPOINT_RESPONSE_TOTAL: &str = "endpoint_response_total";

/// The labels every request-level series carries.
#[derive(Debug, Clone, Copy)]
pub struct RequestLabels<'a> {
    /// `inbound` or `outbound`.
    pub direction: &'a str,
    /// The (capped) `:authority`.
    pub authority: &'a str,
    /// The route name.
    pub route: &'a str,
}

impl RequestLabels<'_> {
    /// `request_total;direction=…;authority=…;route=…`.
    pub fn request_total(&self) -> String {
        self.name(REQUEST_TOTAL)
    }

    /// `request_in_flight;direction=…;authority=…;route=…`.
    pub fn in_flight(&self) -> String {
        self.name(REQUEST_IN_FLIGHT)
    }

    /// `response_total;…;status_code=S;classification=C`.
    pub fn response_total(&self, status_code: &str, classification: &str) -> String {
        self.response_name(RESPONSE_TOTAL, status_code, classification)
    }

    /// `response_latency_ms;…;status_code=S;classification=C`.
    pub fn latency(&self, status_code: &str, classification: &str) -> String {
        self.response_name(RESPONSE_LATENCY_MS, status_code, classification)
    }

    fn name(&self, base: &str) -> String {
        labelled(
            base,
            &[
                ("direction", self.direction),
                ("authority", self.authority),
                ("route", self.route),
            ],
        )
    }

    fn response_name(&self, base: &str, status_code: &str, classification: &str) -> String {
        labelled(
            base,
            &[
                ("direction", self.direction),
                ("authority", self.authority),
                ("route", self.route),
                ("status_code", status_code),
                ("classification", classification),
            ],
        )
    }
}

/// `endpoint_response_total;direction=D;endpoint=E;classification=C`.
pub fn endpoint_response_total(direction: &str, endpoint: &str, classification: &str) -> String {
    labelled(
        ENDPOINT_RESPONSE_TOTAL,
        &[
            ("direction", direction),
            ("endpoint", endpoint),
            ("classification", classification),
        ],
    )
}

#[cfg(test)]
mod tests;
