//! The rate limiter's configuration:
//! `{"tokens_per_second": f64 > 0, "burst": u32 >= 1, "key": "global" | "header:<name>",
//! "status": 429, "max_keys": 10000, "on_store_full": "deny" | "allow"}` (the last three
//! optional).

use serde::Deserialize;

use crate::config::{self, ConfigError, ROOT_PATH};
use crate::headers::header_name;
use crate::ratelimit::bucket::TokenBucket;

/// The status of a limited request when the configuration does not say.
pub const DEFAULT_STATUS: u32 = 429;
/// How many keys' buckets a plugin keeps at most when the configuration does not say: about
/// 0.6 MiB of shared data (each slot is a ~40-byte key and a 34-byte value).
pub const DEFAULT_MAX_KEYS: u32 = 10_000;
/// The largest `max_keys` accepted: 60 MiB of shared data, under the host's 64 MiB per VM id.
pub const MAX_MAX_KEYS: u32 = 800_000;

/// What a request whose key finds no slot (every probed slot holds another key's live bucket)
/// gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnStoreFull {
    /// Refused with the limit status, as if its bucket were empty (the default: a flood of
    /// new keys must not open the gate).
    Deny,
    /// Let through uncounted.
    Allow,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    /// Refill rate and burst size.
    pub bucket: TokenBucket,
    /// What the requests are counted by.
    pub key: KeySource,
    /// HTTP status of the local reply sent to a limited request.
    pub status: u32,
    /// How many keys' buckets are kept at most (the number of shared-data slots).
    pub max_keys: u32,
    /// What a request gets when its key finds no slot.
    pub on_store_full: OnStoreFull,
}

/// What a request's bucket is chosen by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// One bucket for all requests (key value `global`).
    Global,
    /// One bucket per value of this request header (lowercase name).
    Header(String),
}

impl KeySource {
    /// The key value used when the header is absent: such requests share one bucket rather than
    /// escaping the limit by leaving the header out.
    pub const MISSING_HEADER_VALUE: &'static str = "-";

    /// Parses `global` or `header:<name>`; the error is a message for a [`ConfigError`].
    pub fn parse(spec: &str) -> Result<Self, String> {
        if spec == "global" {
            return Ok(Self::Global);
        }
        match spec.strip_prefix("header:") {
            Some(name) => {
                let name = header_name(name)?;
                Ok(Self::Header(name))
            }
            None => Err(format!(
                "expected \"global\" or \"header:<name>\", got {spec:?}"
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    tokens_per_second: f64,
    burst: u32,
    key: String,
    #[serde(default = "default_status")]
    status: u32,
    #[serde(default = "default_max_keys")]
    max_keys: u32,
    #[serde(default = "default_on_store_full")]
    on_store_full: OnStoreFull,
}

fn default_max_keys() -> u32 {
    DEFAULT_MAX_KEYS
}

fn default_on_store_full() -> OnStoreFull {
    OnStoreFull::Deny
}

fn default_status() -> u32 {
    DEFAULT_STATUS
}

impl RateLimitConfig {
    /// Parses and validates the plugin configuration (required: there is no sensible default
    /// rate).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ConfigError::new(
                ROOT_PATH,
                "a configuration is required (tokens_per_second, burst, key)",
            ));
        }
        let raw: RawConfig = config::from_json(bytes)?;
        if !(raw.tokens_per_second.is_finite() && raw.tokens_per_second > 0.0) {
            return Err(ConfigError::new(
                "tokens_per_second",
                format!(
                    "must be a finite number greater than 0, got {}",
                    raw.tokens_per_second
                ),
            ));
        }
        if raw.burst < 1 {
            return Err(ConfigError::new("burst", "must be at least 1"));
        }
        let key = KeySource::parse(&raw.key).map_err(|m| ConfigError::new("key", m))?;
        if !(200..=599).contains(&raw.status) {
            return Err(ConfigError::new(
                "status",
                format!("must be an HTTP status from 200 to 599, got {}", raw.status),
            ));
        }
        if !(1..=MAX_MAX_KEYS).contains(&raw.max_keys) {
            return Err(ConfigError::new(
                "max_keys",
                format!("must be from 1 to {MAX_MAX_KEYS}, got {}", raw.max_keys),
            ));
        }
        let bucket = TokenBucket::new(raw.tokens_per_second, raw.burst)
            .ok_or_else(|| ConfigError::new(ROOT_PATH, "invalid token bucket"))?;
        // One bucket needs one slot.
        let max_keys = match key {
            KeySource::Global => 1,
            KeySource::Header(_) => raw.max_keys,
        };
        Ok(Self {
            bucket,
            key,
            status: raw.status,
            max_keys,
            on_store_full: raw.on_store_full,
        })
    }
}

#[cfg(test)]
mod tests;
