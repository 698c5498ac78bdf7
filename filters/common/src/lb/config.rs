//! The `lb` filter's configuration:
//!
//! ```json
//! {"service": "checkout", "policy": "peak_ewma",
//!  "endpoints": [{"address": "127.0.0.1:8081", "weight": 1}],
//!  "hash_key": {"header": "x-user"} | {"cookie": "session"} | "source_ip",
//!  "header": "x-envoy-original-dst-host", "response_header": "x-wasmesh-endpoint",
//!  "peak_ewma": {"decay_ms": 10000, "default_rtt_ms": 30},
//!  "overprovisioning_factor": 140, "panic_threshold": 50, "local_zone": "eu-1a"}
//! ```
//! Only `service` and `policy` are required. Without `endpoints` the set is read from shared
//! data ([`wasmesh_contract::keys::endpoints`]). A static list is checked strictly (it is the operator's
//! own text): it must not be empty, addresses must parse and be unique, and at least one weight
//! must be above 0. Options that only make sense for other policies are errors, not no-ops, so a
//! misplaced `hash_key` is noticed.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::config::{self, ConfigError, ROOT_PATH};
use crate::headers::header_name;
use crate::lb::candidates::Levels;
use crate::lb::peak_ewma::{EwmaConfig, DEFAULT_DECAY_MS, DEFAULT_RTT_MS};
use crate::lb::priority::LoadModel;
use wasmesh_contract::endpoint::Endpoint;

/// Header the pick goes in by default: what `ORIGINAL_DST` clusters read.
pub const DEFAULT_PICK_HEADER: &str = "x-envoy-original-dst-host";

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LbConfig {
    /// The service name: part of the shared-data key, metric names and the 503 body.
    pub service: String,
    /// How to choose.
    pub policy: Policy,
    /// A static endpoint set, or `None` to read the set from shared data.
    pub endpoints: Option<Vec<Endpoint>>,
    /// Request header the pick is written to (overwriting any client value).
    pub header: String,
    /// Response header that echoes the pick to the client, if wanted.
    pub response_header: Option<String>,
    /// Priority levels: the load model's knobs and the proxy's own zone.
    pub levels: Levels,
}

/// A selection policy with its own settings.
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    /// Each endpoint in turn.
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// Smooth weighted round robin.
    Weighted,
    /// Power of two choices on in-flight requests.
    LeastRequest,
    /// Power of two choices on peak-EWMA latency × (in-flight + 1).
    PeakEwma(EwmaConfig),
    /// Consistent hashing on a ring.
    RingHash(HashKey),
    /// Consistent hashing through a Maglev table.
    Maglev(HashKey),
}

impl Policy {
    /// The configuration name of the policy.
    pub fn name(&self) -> &'static str {
        match self {
            Policy::RoundRobin => "round_robin",
            Policy::Random => "random",
            Policy::Weighted => "weighted",
            Policy::LeastRequest => "least_request",
            Policy::PeakEwma(_) => "peak_ewma",
            Policy::RingHash(_) => "ring_hash",
            Policy::Maglev(_) => "maglev",
        }
    }

    /// What a hash policy hashes; `None` for the others.
    pub fn hash_key(&self) -> Option<&HashKey> {
        match self {
            Policy::RingHash(key) | Policy::Maglev(key) => Some(key),
            _ => None,
        }
    }
}

/// What a hash policy hashes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HashKey {
    /// A request header's value (lowercase name).
    Header(String),
    /// A cookie's value.
    Cookie(String),
    /// The client's IP address (without the port).
    SourceIp,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum PolicyName {
    RoundRobin,
    Random,
    Weighted,
    LeastRequest,
    PeakEwma,
    RingHash,
    Maglev,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEwma {
    #[serde(default = "default_decay_ms")]
    decay_ms: u64,
    #[serde(default = "default_rtt_ms")]
    default_rtt_ms: u64,
}

fn default_decay_ms() -> u64 {
    DEFAULT_DECAY_MS
}

fn default_rtt_ms() -> u64 {
    DEFAULT_RTT_MS
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    service: String,
    policy: PolicyName,
    endpoints: Option<Vec<Endpoint>>,
    hash_key: Option<HashKey>,
    header: Option<String>,
    response_header: Option<String>,
    peak_ewma: Option<RawEwma>,
    overprovisioning_factor: Option<u32>,
    panic_threshold: Option<f64>,
    local_zone: Option<String>,
}

impl LbConfig {
    /// Parses and validates the plugin configuration; the error names the field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ConfigError::new(
                ROOT_PATH,
                "a configuration is required (service, policy)",
            ));
        }
        let raw: RawConfig = config::from_json(bytes)?;
        check_service(&raw.service).map_err(|m| ConfigError::new("service", m))?;
        let policy = policy(raw.policy, raw.hash_key, raw.peak_ewma)?;
        if let Some(endpoints) = &raw.endpoints {
            check_endpoints(endpoints)?;
        }
        let (header, response_header) = pick_headers(raw.header, raw.response_header)?;
        let levels = levels(
            raw.overprovisioning_factor,
            raw.panic_threshold,
            raw.local_zone,
        )?;
        Ok(Self {
            service: raw.service,
            policy,
            endpoints: raw.endpoints,
            header,
            response_header,
            levels,
        })
    }
}

/// The pick header (default [`DEFAULT_PICK_HEADER`]) and the optional echo header, validated
/// and lowercased; shared by `lb` and `failover`, which must agree on them.
pub(crate) fn pick_headers(
    header: Option<String>,
    response_header: Option<String>,
) -> Result<(String, Option<String>), ConfigError> {
    let header = match header {
        Some(name) => header_name(&name).map_err(|m| ConfigError::new("header", m))?,
        None => DEFAULT_PICK_HEADER.to_string(),
    };
    let response_header = response_header
        .map(|name| header_name(&name).map_err(|m| ConfigError::new("response_header", m)))
        .transpose()?;
    Ok((header, response_header))
}

/// A service name is used in a shared-data key and in metric names: keep it to
/// `[A-Za-z0-9_.-]`, so neither needs escaping.
pub(crate) fn check_service(service: &str) -> Result<(), String> {
    if service.is_empty() {
        return Err("must not be empty".to_string());
    }
    match service
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
    {
        Some(c) => Err(format!(
            "invalid character {c:?} (allowed: A-Z a-z 0-9 _ . -)"
        )),
        None => Ok(()),
    }
}

fn policy(
    name: PolicyName,
    hash_key: Option<HashKey>,
    ewma: Option<RawEwma>,
) -> Result<Policy, ConfigError> {
    let is_hash = matches!(name, PolicyName::RingHash | PolicyName::Maglev);
    if ewma.is_some() && !matches!(name, PolicyName::PeakEwma) {
        return Err(ConfigError::new(
            "peak_ewma",
            "only applies to policy \"peak_ewma\"",
        ));
    }
    if hash_key.is_some() && !is_hash {
        return Err(ConfigError::new(
            "hash_key",
            "only applies to policies \"ring_hash\" and \"maglev\"",
        ));
    }
    let hash_key = || -> Result<HashKey, ConfigError> {
        match hash_key.clone() {
            None => Err(ConfigError::new(
                "hash_key",
                "required by hash policies: {\"header\": NAME}, {\"cookie\": NAME} or \"source_ip\"",
            )),
            Some(HashKey::Header(name)) => header_name(&name)
                .map(HashKey::Header)
                .map_err(|m| ConfigError::new("hash_key.header", m)),
            Some(HashKey::Cookie(name)) if name.is_empty() => Err(ConfigError::new(
                "hash_key.cookie",
                "empty cookie name",
            )),
            Some(key) => Ok(key),
        }
    };
    Ok(match name {
        PolicyName::RoundRobin => Policy::RoundRobin,
        PolicyName::Random => Policy::Random,
        PolicyName::Weighted => Policy::Weighted,
        PolicyName::LeastRequest => Policy::LeastRequest,
        PolicyName::PeakEwma => {
            let raw = ewma.unwrap_or(RawEwma {
                decay_ms: DEFAULT_DECAY_MS,
                default_rtt_ms: DEFAULT_RTT_MS,
            });
            if raw.decay_ms == 0 {
                return Err(ConfigError::new("peak_ewma.decay_ms", "must be above 0"));
            }
            Policy::PeakEwma(EwmaConfig::from_ms(raw.decay_ms, raw.default_rtt_ms))
        }
        PolicyName::RingHash => Policy::RingHash(hash_key()?),
        PolicyName::Maglev => Policy::Maglev(hash_key()?),
    })
}

/// The priority-level settings, defaults as Envoy's (factor 140 %, panic below 50 %).
fn levels(
    factor: Option<u32>,
    panic_threshold: Option<f64>,
    local_zone: Option<String>,
) -> Result<Levels, ConfigError> {
    let mut model = LoadModel::default();
    if let Some(factor) = factor {
        if factor == 0 {
            return Err(ConfigError::new(
                "overprovisioning_factor",
                "must be above 0 (a percentage: 140 means 1.4)",
            ));
        }
        model.overprovisioning_factor = factor;
    }
    if let Some(threshold) = panic_threshold {
        if !(0.0..=100.0).contains(&threshold) {
            return Err(ConfigError::new(
                "panic_threshold",
                format!("{threshold} is not a percentage from 0 to 100 (0 disables panic)"),
            ));
        }
        model.panic_threshold = threshold;
    }
    Ok(Levels {
        model,
        local_zone: check_local_zone(local_zone)?,
    })
}

/// The proxy's own zone, if set: not empty. Shared by `lb` and `failover`, which must agree
/// on it for a retry to stay in the zone `lb` prefers.
pub(crate) fn check_local_zone(local_zone: Option<String>) -> Result<Option<String>, ConfigError> {
    if local_zone.as_deref() == Some("") {
        return Err(ConfigError::new(
            "local_zone",
            "must not be empty (leave it out to ignore zones)",
        ));
    }
    Ok(local_zone)
}

fn check_endpoints(endpoints: &[Endpoint]) -> Result<(), ConfigError> {
    if endpoints.is_empty() {
        return Err(ConfigError::new(
            "endpoints",
            "must not be empty (leave it out to read the set from shared data)",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, endpoint) in endpoints.iter().enumerate() {
        if !seen.insert(endpoint.address) {
            return Err(ConfigError::new(
                format!("endpoints[{i}].address"),
                format!("duplicate address {}", endpoint.address),
            ));
        }
    }
    if endpoints.iter().all(|e| e.weight == 0) {
        return Err(ConfigError::new(
            "endpoints",
            "every weight is 0: nothing could be picked",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
