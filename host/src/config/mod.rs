//! The JSON configuration: serde types, loading with field paths in errors,
//! and cross-reference validation.
//!
//! Every struct denies unknown fields so a typo is an error that names the
//! field's path instead of a silently ignored setting.

mod stats;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use wasmesh_host::store::PluginInfo;

pub use stats::{HistogramBuckets, StatsConfig};
pub use validate::validate;

/// The demo configuration compiled into the binary, used by `wasmesh run`
/// without `-c` so the README's demo needs no file of its own.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../../examples/demo/wasmesh.json");

/// The whole proxy configuration (one file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the admin server listens.
    pub admin: AdminConfig,
    /// Worker threads; each has its own instance of every plugin. Default: cores.
    #[serde(default)]
    pub workers: Option<usize>,
    /// Wasm plugins that listeners chain by name.
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// Upstream clusters that routes and `http_call` name.
    #[serde(default)]
    pub clusters: Vec<ClusterConfig>,
    /// HTTP listeners.
    #[serde(default)]
    pub listeners: Vec<ListenerConfig>,
    /// How filter-defined metrics are shaped (histogram buckets).
    #[serde(default)]
    pub stats: StatsConfig,
    /// Services whose endpoint sets the host resolves from DNS and publishes to shared data.
    #[serde(default)]
    pub dns: Vec<crate::dns::DnsService>,
}

/// Admin server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Bind address; port 0 picks a free port (see `--admin-address-path`).
    pub address: SocketAddr,
}

/// One wasm plugin: a module plus its configuration and limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// Name used by listeners' `filters` and reported as `plugin_name`.
    pub name: String,
    /// Path to the `.wasm` file (relative paths: see [`Config::resolve_paths`]).
    pub wasm: PathBuf,
    /// Root id the module's root context is created with.
    #[serde(default)]
    pub root_id: String,
    /// VM id: plugins sharing it share shared data and queues, as in Envoy.
    #[serde(default)]
    pub vm_id: String,
    /// Bytes given to `proxy_on_vm_start` (a JSON value is serialised, a string passed raw).
    #[serde(default)]
    pub vm_config: Option<serde_json::Value>,
    /// Bytes given to `proxy_on_configure` (a JSON value is serialised, a string passed raw).
    #[serde(default)]
    pub configuration: Option<serde_json::Value>,
    /// When the VM fails (trap, limit), pass the request on (true) or answer 503 (false).
    #[serde(default)]
    pub fail_open: bool,
    /// Resource limits for each VM of this plugin.
    #[serde(default)]
    pub limits: Limits,
}

/// Per-VM resource limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear-memory cap per VM.
    #[serde(default = "Limits::default_memory_mb")]
    pub memory_mb: u64,
    /// Time cap per callback, in CPU time of the worker thread: once `callback_ms` of wall-clock
    /// time has passed (epoch interruption), the callback is stopped as soon as it has burnt
    /// `callback_ms / 2` of CPU (`wasmesh_host::store::time_cap`).
    #[serde(default = "Limits::default_callback_ms")]
    pub callback_ms: u64,
    /// CPU time one stream may spend in this plugin, summed over all its callbacks; past it the
    /// stream gets the plugin's `fail_open` outcome (off when absent).
    #[serde(default)]
    pub request_cpu_ms: Option<u64>,
}

impl Limits {
    fn default_memory_mb() -> u64 {
        64
    }
    fn default_callback_ms() -> u64 {
        100
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mb: Self::default_memory_mb(),
            callback_ms: Self::default_callback_ms(),
            request_cpu_ms: None,
        }
    }
}

/// An upstream cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// An HTTP listener with its filter chain and routes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// Name shown at `/listeners`.
    pub name: String,
    /// Bind address; port 0 picks a free port.
    pub address: SocketAddr,
    /// Plugin names, in request order (responses run them in reverse).
    #[serde(default)]
    pub filters: Vec<String>,
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

impl Config {
    /// Parses JSON text, naming the field path of the first error
    /// (e.g. `listeners[0].routes[1].cluster: missing field`).
    pub fn parse(text: &str) -> Result<Config> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            anyhow::anyhow!("config error at `{path}`: {}", e.inner())
        })?;
        validate(&config)?;
        Ok(config)
    }

    /// Reads and parses a file; relative `.wasm` paths become relative to the file's directory.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let mut config = Self::parse(&text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    /// Makes every relative plugin path relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        for plugin in &mut self.plugins {
            if plugin.wasm.is_relative() {
                plugin.wasm = base.join(&plugin.wasm);
            }
        }
    }

    /// Worker count: configured, else the number of cores.
    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }
}

impl PluginConfig {
    /// What the host runtime needs to run this plugin; `clusters` are the names its
    /// `proxy_http_call`s may target.
    pub fn info(&self, clusters: Arc<Vec<String>>) -> PluginInfo {
        PluginInfo {
            name: self.name.clone(),
            root_id: self.root_id.clone(),
            vm_id: self.vm_id.clone(),
            vm_config: self.vm_config_bytes(),
            configuration: self.configuration_bytes(),
            fail_open: self.fail_open,
            memory_bytes: (self.limits.memory_mb as usize) << 20,
            callback_time: Duration::from_millis(self.limits.callback_ms),
            request_cpu: self.limits.request_cpu_ms.map(Duration::from_millis),
            clusters,
        }
    }

    /// The bytes `proxy_on_configure` sees.
    pub fn configuration_bytes(&self) -> Vec<u8> {
        json_as_bytes(self.configuration.as_ref())
    }

    /// The bytes `proxy_on_vm_start` sees.
    pub fn vm_config_bytes(&self) -> Vec<u8> {
        json_as_bytes(self.vm_config.as_ref())
    }
}

/// A JSON string is passed raw (like Envoy's `StringValue`); anything else serialised.
fn json_as_bytes(value: Option<&serde_json::Value>) -> Vec<u8> {
    match value {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) => s.as_bytes().to_vec(),
        Some(other) => other.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests;
