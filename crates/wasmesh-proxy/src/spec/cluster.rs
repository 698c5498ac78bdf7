//! An upstream cluster as the proxy serves it: how its endpoints are found, connect timeout,
//! protocol, circuit breakers, and what an `original_dst` cluster may reach.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// An upstream cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Name that routes and `http_call` use.
    pub name: String,
    /// How endpoints are found.
    #[serde(rename = "type", default)]
    pub kind: ClusterKind,
    /// `static` clusters: `ip:port` endpoints, picked round robin.
    #[serde(default)]
    pub endpoints: Vec<SocketAddr>,
    /// `original_dst` clusters: the request header naming the endpoint.
    #[serde(default = "ClusterConfig::default_header")]
    pub header: String,
    /// TCP connect timeout.
    #[serde(default = "ClusterConfig::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Speak h2c (prior knowledge) to this cluster instead of HTTP/1.1.
    #[serde(default)]
    pub http2: bool,
    /// Limits on what this cluster may hold open, across every worker (Envoy's default
    /// thresholds); beyond them a request gets 503 at once instead of queueing without end.
    #[serde(default)]
    pub circuit_breakers: CircuitBreakers,
    /// `original_dst` clusters: the networks a filter may send requests to; a destination
    /// outside them gets 503 and is counted. Any address when empty (as in Envoy).
    #[serde(default)]
    pub allowed_destinations: Vec<ipnet::IpNet>,
    /// `original_dst` clusters: also allow the addresses of these services' published
    /// endpoint sets (what `lb` balances over), read from the shared data of `vm_id`.
    #[serde(default)]
    pub allowed_endpoints: Option<PublishedEndpoints>,
    /// TLS to the endpoints; plain text when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<super::UpstreamTls>,
}

/// Endpoint sets published to shared data (by `discovery` or the host's DNS discovery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedEndpoints {
    /// The VM id whose shared data holds the sets.
    #[serde(default)]
    pub vm_id: String,
    /// The services (`wasmesh.v1.endpoints.<service>`).
    pub services: Vec<String>,
}

/// A cluster's circuit breakers: Envoy's default-priority thresholds, names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreakers {
    /// Connections open to the cluster's endpoints; a request that would need one more waits
    /// as a pending request.
    #[serde(default = "CircuitBreakers::default_limit")]
    pub max_connections: u32,
    /// Requests waiting for a connection; one more gets 503.
    #[serde(default = "CircuitBreakers::default_limit")]
    pub max_pending_requests: u32,
    /// Requests outstanding to the cluster (sent, response not yet over); one more gets 503.
    #[serde(default = "CircuitBreakers::default_limit")]
    pub max_requests: u32,
}

impl CircuitBreakers {
    fn default_limit() -> u32 {
        1024
    }
}

impl Default for CircuitBreakers {
    fn default() -> Self {
        CircuitBreakers {
            max_connections: Self::default_limit(),
            max_pending_requests: Self::default_limit(),
            max_requests: Self::default_limit(),
        }
    }
}

impl ClusterConfig {
    fn default_header() -> String {
        "x-envoy-original-dst-host".to_string()
    }
    fn default_connect_timeout_ms() -> u64 {
        1000
    }
}

/// Cluster discovery type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    /// A fixed list of endpoints.
    #[default]
    Static,
    /// The endpoint comes from a request header set by a filter (Envoy's ORIGINAL_DST).
    OriginalDst,
}
