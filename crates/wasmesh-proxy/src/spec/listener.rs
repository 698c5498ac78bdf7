//! A listener as the proxy serves it: HTTP with its filter chain, routes, timeouts and limits,
//! or TCP (`tcp_proxy`) with network filters in front of one cluster.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// A listener: HTTP with its filter chain and routes, or TCP when it has `tcp_proxy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// Name shown at `/listeners`.
    pub name: String,
    /// Bind address; port 0 picks a free port.
    pub address: SocketAddr,
    /// Plugin names, in request order (responses run them in reverse). On a `tcp_proxy`
    /// listener they are network filters: read filters in this order, write filters in reverse.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Proxies TCP connections to a cluster instead of serving HTTP (Envoy's `tcp_proxy` network
    /// filter, after the listener's network filters); then it has no `routes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_proxy: Option<TcpProxyConfig>,
    /// First match wins.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Time allowed for a request head to arrive whole, from its first byte: an HTTP/1 head or an
    /// h2 header block (HEADERS to END_HEADERS).
    #[serde(default = "ListenerConfig::default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// A stream on which nothing moves either way for this long is ended: before the response
    /// head `504 stream timeout` (`408` while the client still owes body), a reset after it (Envoy's `stream_idle_timeout`, same default: 5 min;
    /// 0 turns it off).
    #[serde(default = "ListenerConfig::default_stream_idle_timeout_ms")]
    pub stream_idle_timeout_ms: u64,
    /// An idle keep-alive connection is closed after this long.
    #[serde(default = "ListenerConfig::default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// How much of a body a filter may hold back (`StopIterationAndBuffer`) per stream and
    /// direction; beyond it a request gets 413 and a response is cut (Envoy's listener field of
    /// the same name, same default: 1 MiB).
    #[serde(default = "ListenerConfig::default_buffer_limit")]
    pub per_connection_buffer_limit_bytes: u32,
    /// Largest request head in KiB (Envoy's `max_request_headers_kb`, default 60); a larger
    /// one gets 431.
    #[serde(default = "ListenerConfig::default_max_request_headers_kb")]
    pub max_request_headers_kb: u32,
    /// Most header fields in a request (Envoy's `max_headers_count`, default 100); more get 431.
    #[serde(default = "ListenerConfig::default_max_headers_count")]
    pub max_headers_count: u32,
    /// Requests one downstream connection may carry; after the last one it closes (HTTP/1.1)
    /// or sends GOAWAY (h2). Envoy's `max_requests_per_connection`; no limit when absent.
    #[serde(default)]
    pub max_requests_per_connection: Option<u32>,
    /// Connections the listener holds open at once, over all workers; one more is closed as
    /// soon as it is accepted, and counted. Envoy's per-listener connection limit (the runtime
    /// key `envoy.resource_limits.listener.<name>.connection_limit`); no limit when absent.
    #[serde(default)]
    pub max_connections: Option<u32>,
    /// Protocol upgrades the listener proxies (Envoy's `upgrade_configs`; `websocket` is the
    /// one wasmesh knows); others, and these where a route turns them off, get 403.
    #[serde(default)]
    pub upgrade_configs: Vec<UpgradeConfig>,
    /// h2 settings for downstream connections (Envoy's field of the same name).
    #[serde(default)]
    pub http2_protocol_options: Http2Options,
    /// TLS termination; plain HTTP/1.1 and h2c when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<super::ListenerTls>,
    /// A line per stream, written off the request path; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<super::AccessLogConfig>,
}

/// Where a TCP listener sends its connections (Envoy's `tcp_proxy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpProxyConfig {
    /// The cluster whose endpoints get the connections (round robin over its endpoints).
    pub cluster: String,
    /// A connection on which no byte moves either way for this long is closed (Envoy's
    /// `idle_timeout`, same default: 1 h; 0 turns it off).
    #[serde(default = "TcpProxyConfig::default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
}

impl TcpProxyConfig {
    fn default_idle_timeout_ms() -> u64 {
        3_600_000
    }
}

/// h2 settings a listener offers its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http2Options {
    /// Streams one connection may have open at once; one more is refused (`RST_STREAM
    /// REFUSED_STREAM`). Default 100, the value Envoy's edge-proxy guide sets (its own default
    /// is 2^31 - 1).
    #[serde(default = "Http2Options::default_max_concurrent_streams")]
    pub max_concurrent_streams: u32,
}

impl Http2Options {
    fn default_max_concurrent_streams() -> u32 {
        100
    }
}

impl Default for Http2Options {
    fn default() -> Self {
        Http2Options {
            max_concurrent_streams: Self::default_max_concurrent_streams(),
        }
    }
}

/// One protocol upgrade a listener or route allows (Envoy's `UpgradeConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpgradeConfig {
    /// The `Upgrade` header's value, case-insensitive: `websocket`.
    pub upgrade_type: String,
    /// On a route: whether the route allows it (overriding the listener). Default true.
    #[serde(default = "UpgradeConfig::default_enabled")]
    pub enabled: bool,
}

impl UpgradeConfig {
    fn default_enabled() -> bool {
        true
    }
}

impl ListenerConfig {
    fn default_max_request_headers_kb() -> u32 {
        60
    }
    fn default_max_headers_count() -> u32 {
        100
    }
    fn default_buffer_limit() -> u32 {
        1024 * 1024
    }
    fn default_request_timeout_ms() -> u64 {
        10_000
    }
    fn default_idle_timeout_ms() -> u64 {
        60_000
    }
    fn default_stream_idle_timeout_ms() -> u64 {
        300_000
    }
}

/// A route: a match and the cluster it sends to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// What requests this route takes.
    #[serde(rename = "match")]
    pub matcher: RouteMatch,
    /// Cluster name.
    pub cluster: String,
    /// Envoy's route timeout (default 15 s): from the end of the request to the end of the
    /// response; 0 turns it off, as in Envoy.
    #[serde(default = "RouteConfig::default_timeout_ms")]
    pub timeout_ms: u64,
    /// Upgrades this route allows or refuses, overriding the listener's `upgrade_configs`.
    #[serde(default)]
    pub upgrade_configs: Vec<UpgradeConfig>,
}

impl RouteConfig {
    fn default_timeout_ms() -> u64 {
        15_000
    }
}

/// Path and header conditions; all given ones must hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteMatch {
    /// Path (without query) starts with this.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Path (without query) equals this.
    #[serde(default)]
    pub exact: Option<String>,
    /// Request headers that must be present with these values.
    #[serde(default)]
    pub headers: Vec<HeaderMatch>,
}

/// One header condition of a route.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    /// Header name (case-insensitive).
    pub name: String,
    /// Exact value; absent means "present with any value".
    #[serde(default)]
    pub exact: Option<String>,
}

impl ListenerConfig {
    /// Whether a request to route `route` may upgrade to `protocol`: the route's own setting
    /// for it if it has one, else the listener's (Envoy's precedence).
    pub fn allows_upgrade(&self, route: &RouteConfig, protocol: &str) -> bool {
        let setting = |configs: &[UpgradeConfig]| {
            configs
                .iter()
                .find(|c| c.upgrade_type.eq_ignore_ascii_case(protocol))
                .map(|c| c.enabled)
        };
        setting(&route.upgrade_configs)
            .or_else(|| setting(&self.upgrade_configs))
            .unwrap_or(false)
    }
}
