//! What happened to a try, and whether `retry_on` says to retry it.
//!
//! Both hosts tell a connect failure or reset apart from an upstream's own 503 through the
//! `response.code_details` property (`via_upstream` for a real answer,
//! `upstream_reset_before_response_started{…connection_failure…}` for a refused connection,
//! `…{overflow}` for the proxy's own circuit breaker). A host without that property only gives
//! the status, so its connect failures and resets are seen as the 503 its router answers:
//! [`classify`] then returns [`Outcome::Status`], which `5xx` and `gateway-error` retry but
//! `connect-failure` and `reset` alone do not.

use std::fmt;

/// How one try ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The host could not connect to the endpoint (no response from it at all).
    ConnectFailure,
    /// The connection was reset or closed before response headers.
    Reset,
    /// An HTTP status (from the upstream, or a host's reply that does not say why).
    Status(u16),
    /// The proxy refused the try itself (a circuit breaker): the endpoint was never asked, so
    /// the try neither counts for or against it nor is retried, as in Envoy's router.
    Local,
}

impl Outcome {
    /// A failure for outlier detection's `consecutive_5xx` (Envoy counts locally originated
    /// failures there too).
    pub fn is_5xx(self) -> bool {
        match self {
            Outcome::ConnectFailure | Outcome::Reset => true,
            Outcome::Status(code) => code >= 500,
            Outcome::Local => false,
        }
    }

    /// A failure for `consecutive_gateway_failure`: 502, 503, 504, connect failure, reset.
    pub fn is_gateway_failure(self) -> bool {
        match self {
            Outcome::ConnectFailure | Outcome::Reset => true,
            Outcome::Status(code) => matches!(code, 502..=504),
            Outcome::Local => false,
        }
    }

    /// The `reason` label of `failover_retries_total`: `connect-failure`, `reset`,
    /// `gateway-error` (502–504) or `5xx` (other 5xx); `None` for a success.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Outcome::ConnectFailure => Some("connect-failure"),
            Outcome::Reset => Some("reset"),
            Outcome::Status(502..=504) => Some("gateway-error"),
            Outcome::Status(code) if code >= 500 => Some("5xx"),
            Outcome::Status(_) | Outcome::Local => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status(code) => write!(f, "status {code}"),
            Outcome::Local => f.write_str("refused by the proxy"),
            other => f.write_str(other.reason().unwrap_or("failure")),
        }
    }
}

/// The outcome of a stream's response from its `:status` and, when the host has it, Envoy's
/// `response.code_details`. No status at all is a reset.
pub fn classify(status: Option<u16>, code_details: Option<&str>) -> Outcome {
    if let Some(details) = code_details {
        if details == "upstream_reset_before_response_started{overflow}" {
            return Outcome::Local;
        }
        if details.starts_with("upstream_reset_before_response_started") {
            return if details.contains("connection_failure")
                || details.contains("connect_error")
                || details.contains("connection_refused")
            {
                Outcome::ConnectFailure
            } else {
                Outcome::Reset
            };
        }
    }
    match status {
        Some(code) => Outcome::Status(code),
        None => Outcome::Reset,
    }
}

/// One `retry_on` condition, named as Envoy's `x-envoy-retry-on` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum RetryOn {
    /// The endpoint refused or did not accept the connection.
    #[serde(rename = "connect-failure")]
    ConnectFailure,
    /// No response headers: reset, disconnect, or a connect failure.
    #[serde(rename = "reset")]
    Reset,
    /// Any 5xx, a reset or a connect failure.
    #[serde(rename = "5xx")]
    FiveXx,
    /// 502, 503, 504, a reset or a connect failure.
    #[serde(rename = "gateway-error")]
    GatewayError,
}

impl RetryOn {
    /// Whether this condition covers `outcome`.
    pub fn matches(self, outcome: Outcome) -> bool {
        match self {
            RetryOn::ConnectFailure => outcome == Outcome::ConnectFailure,
            RetryOn::Reset => matches!(outcome, Outcome::Reset | Outcome::ConnectFailure),
            RetryOn::FiveXx => outcome.is_5xx(),
            RetryOn::GatewayError => outcome.is_gateway_failure(),
        }
    }
}

/// Whether any of `conditions` covers `outcome`.
pub fn retryable(conditions: &[RetryOn], outcome: Outcome) -> bool {
    conditions.iter().any(|c| c.matches(outcome))
}

#[cfg(test)]
mod tests;
