//! The `failover` filter's configuration:
//!
//! ```json
//! {"service": "web", "cluster": "dynamic",
//!  "endpoints": [{"address": "127.0.0.1:8081"}],
//!  "header": "x-envoy-original-dst-host", "response_header": "x-wasmesh-endpoint",
//!  "local_zone": "eu-1a", "timeout_ms": 15000,
//!  "retry": {"max_retries": 2, "retry_on": ["connect-failure", "reset", "gateway-error"],
//!            "methods": ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"], "per_try_timeout_ms": 1000,
//!            "max_body_bytes": 65536,
//!            "backoff": {"base_interval_ms": 25, "max_interval_ms": 250},
//!            "budget": {"ratio": 0.2, "min_per_second": 10, "window_ms": 10000}},
//!  "outlier": {"consecutive_5xx": 5, "consecutive_gateway_failure": 5,
//!              "base_ejection_time_ms": 30000, "max_ejection_time_ms": 300000,
//!              "max_ejection_percent": 10}}
//! ```
//! `service` and `cluster` (the `ORIGINAL_DST` cluster retries are sent to) are required.
//! Without `endpoints` the set is read from shared data, like `lb`. Unknown fields are errors
//! naming the field.

use serde::Deserialize;

use crate::config::{self, ConfigError, ROOT_PATH};
use crate::failover::backoff::Backoff;
use crate::failover::budget::BudgetConfig;
use crate::failover::classify::RetryOn;
use crate::failover::outlier::Thresholds;
use crate::lb::config::{check_local_zone, check_service, pick_headers};
use wasmesh_contract::endpoint::Endpoint;
use wasmesh_contract::health::EjectionPolicy;

/// Methods retried by default: the idempotent ones of RFC 9110 (safe methods, PUT, DELETE).
pub const DEFAULT_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS", "PUT", "DELETE"];
/// Default overall request timeout: Envoy's default route timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 15_000;
/// Default request-body buffer for replays: a modest per-request buffer, as an Envoy
/// `per_request_buffer_limit_bytes` would be set, so retries cannot hold large uploads.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 10;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverConfig {
    /// Names the shared-data keys and the metrics.
    pub service: String,
    /// The `ORIGINAL_DST` cluster a retry's `http_call` goes to.
    pub cluster: String,
    /// A static endpoint set, or `None` to read it from shared data.
    pub endpoints: Option<Vec<Endpoint>>,
    /// The request header naming the endpoint (what `lb` writes and the cluster reads).
    pub header: String,
    /// If set, a retried response names the endpoint that answered in this header.
    pub response_header: Option<String>,
    /// The proxy's own zone (as `lb`'s `local_zone`): a retry prefers the best level of
    /// [`crate::lb::candidates::level_of`], so it stays in this zone while it can.
    pub local_zone: Option<String>,
    /// Overall request timeout in ms, from the request headers until response headers go to
    /// the client (first try, backoffs and retries included); 0 = none.
    pub timeout_ms: u64,
    /// Retry settings.
    pub retry: RetryConfig,
    /// Outlier thresholds.
    pub thresholds: Thresholds,
    /// Ejection length and bound.
    pub ejection: EjectionPolicy,
}

/// When and how to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Retries after the first try (0 disables retries; outlier detection still runs).
    pub max_retries: u32,
    /// The outcomes worth a retry.
    pub retry_on: Vec<RetryOn>,
    /// Methods that may be retried (uppercase).
    pub methods: Vec<String>,
    /// Timeout of each retry's `http_call`.
    pub per_try_timeout_ms: u64,
    /// Largest request body kept for a replay; a longer one makes the request not retried.
    pub max_body_bytes: usize,
    /// Wait before each retry (`base_ms` 0 = none).
    pub backoff: Backoff,
    /// The retry budget.
    pub budget: BudgetConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    ratio: Option<f64>,
    min_per_second: Option<u32>,
    window_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackoff {
    base_interval_ms: Option<u64>,
    max_interval_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    max_retries: Option<u32>,
    retry_on: Option<Vec<RetryOn>>,
    methods: Option<Vec<String>>,
    per_try_timeout_ms: Option<u64>,
    max_body_bytes: Option<usize>,
    backoff: Option<RawBackoff>,
    budget: Option<RawBudget>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOutlier {
    consecutive_5xx: Option<u32>,
    consecutive_gateway_failure: Option<u32>,
    base_ejection_time_ms: Option<u64>,
    max_ejection_time_ms: Option<u64>,
    max_ejection_percent: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    service: String,
    cluster: String,
    endpoints: Option<Vec<Endpoint>>,
    header: Option<String>,
    response_header: Option<String>,
    local_zone: Option<String>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    retry: RawRetry,
    #[serde(default)]
    outlier: RawOutlier,
}

impl FailoverConfig {
    /// Parses and validates the plugin configuration; the error names the field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ConfigError::new(
                ROOT_PATH,
                "a configuration is required (service, cluster)",
            ));
        }
        let raw: RawConfig = config::from_json(bytes)?;
        check_service(&raw.service).map_err(|m| ConfigError::new("service", m))?;
        if raw.cluster.is_empty() {
            return Err(ConfigError::new("cluster", "must not be empty"));
        }
        if raw.endpoints.as_ref().is_some_and(Vec::is_empty) {
            return Err(ConfigError::new(
                "endpoints",
                "must not be empty (leave it out to read the set from shared data)",
            ));
        }
        let (header, response_header) = pick_headers(raw.header, raw.response_header)?;
        Ok(Self {
            service: raw.service,
            cluster: raw.cluster,
            endpoints: raw.endpoints,
            header,
            response_header,
            local_zone: check_local_zone(raw.local_zone)?,
            timeout_ms: raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            retry: retry(raw.retry)?,
            thresholds: thresholds(&raw.outlier),
            ejection: ejection(&raw.outlier)?,
        })
    }

    /// Whether requests with `method` may be retried.
    pub fn retries_method(&self, method: &str) -> bool {
        self.retry.methods.iter().any(|m| m == method)
    }
}

fn retry(raw: RawRetry) -> Result<RetryConfig, ConfigError> {
    let defaults = BudgetConfig::default();
    let budget = match raw.budget {
        None => defaults,
        Some(b) => BudgetConfig {
            ratio: b.ratio.unwrap_or(defaults.ratio),
            min_per_second: b.min_per_second.unwrap_or(defaults.min_per_second),
            window_ms: b.window_ms.unwrap_or(defaults.window_ms),
        },
    };
    if !(0.0..=10.0).contains(&budget.ratio) {
        return Err(ConfigError::new(
            "retry.budget.ratio",
            "must be between 0 and 10",
        ));
    }
    if budget.window_ms < 100 {
        return Err(ConfigError::new(
            "retry.budget.window_ms",
            "must be at least 100",
        ));
    }
    let methods = raw
        .methods
        .unwrap_or_else(|| DEFAULT_METHODS.iter().map(|m| m.to_string()).collect());
    for (i, method) in methods.iter().enumerate() {
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError::new(
                format!("retry.methods[{i}]"),
                format!("{method:?} is not an uppercase method name"),
            ));
        }
    }
    let per_try_timeout_ms = raw.per_try_timeout_ms.unwrap_or(1_000);
    if per_try_timeout_ms == 0 {
        return Err(ConfigError::new(
            "retry.per_try_timeout_ms",
            "must be above 0",
        ));
    }
    Ok(RetryConfig {
        max_body_bytes: raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        backoff: backoff(raw.backoff)?,
        max_retries: raw.max_retries.unwrap_or(2),
        retry_on: raw.retry_on.unwrap_or_else(|| {
            vec![
                RetryOn::ConnectFailure,
                RetryOn::Reset,
                RetryOn::GatewayError,
            ]
        }),
        methods,
        per_try_timeout_ms,
        budget,
    })
}

fn backoff(raw: Option<RawBackoff>) -> Result<Backoff, ConfigError> {
    let defaults = Backoff::default();
    let Some(raw) = raw else {
        return Ok(defaults);
    };
    let base_ms = raw.base_interval_ms.unwrap_or(defaults.base_ms);
    // Envoy's default max is 10 × base.
    let max_ms = raw.max_interval_ms.unwrap_or(base_ms.saturating_mul(10));
    if max_ms < base_ms {
        return Err(ConfigError::new(
            "retry.backoff.max_interval_ms",
            "must not be below base_interval_ms",
        ));
    }
    Ok(Backoff { base_ms, max_ms })
}

fn thresholds(raw: &RawOutlier) -> Thresholds {
    let defaults = Thresholds::default();
    Thresholds {
        consecutive_5xx: raw.consecutive_5xx.unwrap_or(defaults.consecutive_5xx),
        consecutive_gateway_failure: raw
            .consecutive_gateway_failure
            .unwrap_or(defaults.consecutive_gateway_failure),
    }
}

fn ejection(raw: &RawOutlier) -> Result<EjectionPolicy, ConfigError> {
    let defaults = EjectionPolicy::default();
    let policy = EjectionPolicy {
        base_ms: raw.base_ejection_time_ms.unwrap_or(defaults.base_ms),
        max_ms: raw.max_ejection_time_ms.unwrap_or(defaults.max_ms),
        max_percent: raw.max_ejection_percent.unwrap_or(defaults.max_percent),
    };
    if policy.base_ms == 0 {
        return Err(ConfigError::new(
            "outlier.base_ejection_time_ms",
            "must be above 0",
        ));
    }
    if policy.max_ms < policy.base_ms {
        return Err(ConfigError::new(
            "outlier.max_ejection_time_ms",
            "must not be below base_ejection_time_ms",
        ));
    }
    if policy.max_percent > 100 {
        return Err(ConfigError::new(
            "outlier.max_ejection_percent",
            "must be at most 100",
        ));
    }
    Ok(policy)
}

#[cfg(test)]
mod tests;
