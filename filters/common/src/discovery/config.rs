//! The `discovery` filter's configuration:
//!
//! ```json
//! {"poll_ms": 1000, "timeout_ms": 2000, "max_backoff_ms": 30000,
//!  "services": [
//!    {"service": "web", "source": {"etcd": {"cluster": "etcd", "prefix": "/wasmesh/services/web/"}}},
//!    {"service": "api", "source": {"consul": {"cluster": "consul", "name": "api", "wait_ms": 10000}}},
//!    {"service": "k8s", "source": {"kubernetes": {"cluster": "kube", "namespace": "default",
//!                                                  "name": "k8s", "token": "…", "port": "http"}}},
//!    {"service": "doc", "source": {"http": {"cluster": "cfg", "path": "/endpoints/doc.json"}}},
//!    {"service": "fixed", "source": {"static": {"endpoints": [{"address": "10.0.0.1:80"}]}}}]}
//! ```
//! Unknown fields are errors naming their path, as for every wasmesh filter.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::config::{self, ConfigError, ROOT_PATH};
use crate::lb::config::check_service;
use wasmesh_contract::endpoint::Endpoint;

/// Default time between two polls of a registry.
pub const DEFAULT_POLL_MS: u64 = 1000;
/// Default `http_call` timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;
/// Default longest wait between retries of a failing registry.
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 30_000;
/// Consul's longest blocking wait (its documented maximum, 10 minutes).
pub const MAX_WAIT_MS: u64 = 600_000;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Time between polls of each registry, in ms.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// How long a registry call may take, in ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Cap of the retry backoff of a failing registry, in ms.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// What to discover.
    pub services: Vec<ServiceConfig>,
}

/// One service and where its endpoints come from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// The name `lb` knows it by: the shared-data key is `wasmesh.v1.endpoints.<service>`.
    pub service: String,
    /// The registry.
    pub source: Source,
}

/// A registry and how to ask it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// A fixed list, published once.
    Static {
        /// The endpoints.
        endpoints: Vec<Endpoint>,
    },
    /// A JSON document in the shared-data schema (`{"endpoints": [...]}`) served over HTTP.
    Http {
        /// Host cluster serving it.
        cluster: String,
        /// Its path.
        path: String,
        /// `:authority` (default: the cluster name).
        authority: Option<String>,
    },
    /// etcd v3 through its JSON gateway: every key under `prefix` is `<prefix><ip:port>` with
    /// a JSON value `{"weight": 1, "zone": "a", "priority": 0, "labels": {}}` (all optional).
    Etcd {
        /// Host cluster of the etcd client URL.
        cluster: String,
        /// Key prefix (default `/wasmesh/services/<service>/`).
        prefix: Option<String>,
        /// `:authority` (default: the cluster name).
        authority: Option<String>,
    },
    /// Consul's `/v1/health/service/<name>?passing`.
    Consul {
        /// Host cluster of the Consul agent.
        cluster: String,
        /// Consul service name (default: `service`).
        name: Option<String>,
        /// ACL token, sent as `x-consul-token`.
        token: Option<String>,
        /// `:authority` (default: the cluster name).
        authority: Option<String>,
        /// Blocking queries: once an index is known, each query is held by Consul until the
        /// service changes or this many ms pass, and the next one is sent as soon as it
        /// answers, so a change is seen at once whatever `poll_ms` is. Left out: plain polling.
        wait_ms: Option<u64>,
    },
    /// Kubernetes `discovery.k8s.io/v1` EndpointSlices labelled
    /// `kubernetes.io/service-name=<name>` in `namespace`.
    Kubernetes {
        /// Host cluster of the API server.
        cluster: String,
        /// The namespace.
        namespace: String,
        /// Kubernetes service name (default: `service`).
        name: Option<String>,
        /// Bearer token (e.g. a service account's).
        token: Option<String>,
        /// Port name to use (default: the slice's first port).
        port: Option<String>,
        /// The proxy's own zone: turns on the slices' zone hints (topology-aware routing).
        zone: Option<String>,
        /// `:authority` (default: the cluster name).
        authority: Option<String>,
    },
}

impl Source {
    /// The kind's name as configured (`static`, `http`, `etcd`, `consul`, `kubernetes`), which
    /// the published document and the admin's `/endpoints` name the source by.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Static { .. } => "static",
            Source::Http { .. } => "http",
            Source::Etcd { .. } => "etcd",
            Source::Consul { .. } => "consul",
            Source::Kubernetes { .. } => "kubernetes",
        }
    }

    /// The `http_call` timeout of this source's polls, given the configured `timeout_ms`: a
    /// blocking query may be held for its wait plus Consul's jitter of up to a sixteenth of it,
    /// so its timeout is that plus `timeout_ms`; otherwise `timeout_ms`.
    pub fn call_timeout_ms(&self, timeout_ms: u64) -> u64 {
        match self {
            Source::Consul {
                wait_ms: Some(wait),
                ..
            } => wait + wait / 16 + timeout_ms,
            _ => timeout_ms,
        }
    }
}

fn default_poll_ms() -> u64 {
    DEFAULT_POLL_MS
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_max_backoff_ms() -> u64 {
    DEFAULT_MAX_BACKOFF_MS
}

impl DiscoveryConfig {
    /// Parses and validates; errors name the field (`services[1].service: duplicate`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ConfigError::new(
                ROOT_PATH,
                "a configuration is required (services)",
            ));
        }
        let config: Self = config::from_json(bytes)?;
        if config.services.is_empty() {
            return Err(ConfigError::new("services", "must not be empty"));
        }
        if config.poll_ms == 0 {
            return Err(ConfigError::new("poll_ms", "must be above 0"));
        }
        let mut seen = BTreeSet::new();
        for (i, service) in config.services.iter().enumerate() {
            let path = format!("services[{i}].service");
            check_service(&service.service).map_err(|m| ConfigError::new(&path, m))?;
            if !seen.insert(service.service.as_str()) {
                return Err(ConfigError::new(
                    path,
                    format!("duplicate service {}", service.service),
                ));
            }
            if let Source::Consul {
                wait_ms: Some(wait),
                ..
            } = &service.source
            {
                if !(1..=MAX_WAIT_MS).contains(wait) {
                    let path = format!("services[{i}].source.consul.wait_ms");
                    let message = format!("must be 1 to {MAX_WAIT_MS} (Consul's maximum)");
                    return Err(ConfigError::new(path, message));
                }
            }
            if let Source::Static { endpoints } = &service.source {
                if endpoints.is_empty() {
                    let path = format!("services[{i}].source.static.endpoints");
                    return Err(ConfigError::new(path, "must not be empty"));
                }
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
