//! One description of a proxy setup, rendered for either host.
//!
//! A test describes plugins, clusters and listeners once; [`MeshConfig::to_envoy_yaml`] and
//! [`MeshConfig::to_wasmesh_json`] turn it into each host's own configuration, so a differential
//! test cannot drift into testing two different setups.

mod envoy;
mod wasmesh;
mod yaml;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use yaml::to_yaml;

/// Route timeout when a route does not set one (Envoy's default).
pub const DEFAULT_ROUTE_TIMEOUT_MS: u64 = 15_000;
/// Upstream connect timeout when a cluster does not set one.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 1_000;

/// A whole proxy setup: plugins, clusters, listeners; the admin listens on `127.0.0.1:0`.
#[derive(Debug, Clone, Default)]
pub struct MeshConfig {
    /// Worker threads (Envoy's `--concurrency`); `None` means 1, so both hosts match.
    pub workers: Option<u32>,
    /// Wasm plugins, referenced by name from listeners.
    pub plugins: Vec<Plugin>,
    /// Upstream clusters, referenced by name from routes.
    pub clusters: Vec<Cluster>,
    /// Listeners, each with its filter chain and routes.
    pub listeners: Vec<Listener>,
    /// Histogram buckets by metric-name prefix (Envoy's `histogram_bucket_settings`, wasmesh's
    /// `stats.histogram_buckets`); others get both hosts' default buckets.
    pub histogram_buckets: Vec<(String, Vec<f64>)>,
}

impl MeshConfig {
    /// An empty setup.
    pub fn new() -> Self {
        Self::default()
    }

    /// The common case: listener `main` running `plugins` in order, routing everything to a
    /// static cluster `backend` of `endpoints`.
    pub fn single(plugins: Vec<Plugin>, endpoints: impl IntoIterator<Item = SocketAddr>) -> Self {
        let mut listener = Listener::new("main").route(Route::prefix("/", "backend"));
        for plugin in &plugins {
            listener = listener.filter(&plugin.name);
        }
        let mut config = Self::new()
            .cluster(Cluster::fixed("backend", endpoints))
            .listener(listener);
        config.plugins = plugins;
        config
    }

    /// Sets the number of worker threads.
    pub fn workers(mut self, workers: u32) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Adds a plugin.
    pub fn plugin(mut self, plugin: Plugin) -> Self {
        self.plugins.push(plugin);
        self
    }

    /// Adds a cluster.
    pub fn cluster(mut self, cluster: Cluster) -> Self {
        self.clusters.push(cluster);
        self
    }

    /// Gives the histograms whose name starts with `prefix` these bucket bounds.
    pub fn histogram_buckets(mut self, prefix: &str, bounds: &[f64]) -> Self {
        self.histogram_buckets
            .push((prefix.to_string(), bounds.to_vec()));
        self
    }

    /// Adds a listener.
    pub fn listener(mut self, listener: Listener) -> Self {
        self.listeners.push(listener);
        self
    }

    /// The worker count both hosts get.
    pub fn worker_count(&self) -> u32 {
        self.workers.unwrap_or(1)
    }

    /// The plugin called `name`; panics if there is none (a broken test setup).
    pub fn plugin_named(&self, name: &str) -> &Plugin {
        self.plugins
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("listener refers to unknown plugin {name:?}"))
    }

    /// Whether `plugin` runs as a singleton: marked so, or in no listener (wasmesh's rule, which
    /// the Envoy bootstrap follows too, so both hosts run the same plugins).
    pub fn is_singleton(&self, plugin: &Plugin) -> bool {
        plugin.singleton
            || !self
                .listeners
                .iter()
                .any(|l| l.filters.contains(&plugin.name))
    }

    /// Envoy's bootstrap YAML for this setup.
    pub fn to_envoy_yaml(&self) -> String {
        to_yaml(&envoy::bootstrap(self))
    }

    /// wasmesh's JSON configuration for this setup.
    pub fn to_wasmesh_json(&self) -> Value {
        wasmesh::config(self)
    }
}

/// A proxy-wasm plugin: a module plus its configuration.
#[derive(Debug, Clone)]
pub struct Plugin {
    /// Name (Envoy's plugin `name`; what listeners refer to).
    pub name: String,
    /// Path of the `.wasm` module.
    pub wasm: PathBuf,
    /// Root context id the module registers (`""` for the default).
    pub root_id: String,
    /// VM id; plugins with the same id and module share a VM.
    pub vm_id: String,
    /// VM configuration (`proxy_on_vm_start`): JSON, or a string passed as is.
    pub vm_config: Option<Value>,
    /// Plugin configuration (`proxy_on_configure`): JSON, or a string passed as is.
    pub configuration: Option<Value>,
    /// Whether requests pass (`true`) or get a 503 (`false`) when the plugin fails.
    pub fail_open: bool,
    /// Run once in the process, outside any listener: Envoy's `envoy.bootstrap.wasm` with
    /// `singleton: true`, wasmesh's `singleton: true`. Listeners must not name it.
    pub singleton: bool,
    /// Fetch the module from a URL instead of reading `wasm`: Envoy's `remote` data source,
    /// wasmesh's `wasm: <url>` with `sha256`.
    pub remote: Option<RemoteModule>,
}

/// A module fetched by URL, pinned by its sha256.
#[derive(Debug, Clone)]
pub struct RemoteModule {
    /// `http://…` or `https://…`.
    pub url: String,
    /// The module's sha256 (hex).
    pub sha256: String,
    /// The cluster Envoy fetches it through (wasmesh fetches directly).
    pub cluster: String,
    /// For an `https://` URL whose certificate a private CA signed: wasmesh's
    /// `fetch.trusted_ca` (Envoy's cluster must trust it in its own TLS settings).
    pub trusted_ca: Option<PathBuf>,
}

impl Plugin {
    /// A plugin `name` running `wasm`, with empty ids and no configuration.
    pub fn new(name: &str, wasm: &Path) -> Self {
        Self {
            name: name.to_string(),
            wasm: wasm.to_path_buf(),
            root_id: String::new(),
            vm_id: String::new(),
            vm_config: None,
            configuration: None,
            fail_open: false,
            singleton: false,
            remote: None,
        }
    }

    /// Fetches the module from `remote` (see [`Plugin::remote`]).
    pub fn remote(mut self, remote: RemoteModule) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Makes this a singleton (see [`Plugin::singleton`]).
    pub fn singleton(mut self) -> Self {
        self.singleton = true;
        self
    }

    /// Sets the plugin configuration.
    pub fn configuration(mut self, configuration: Value) -> Self {
        self.configuration = Some(configuration);
        self
    }

    /// Sets the VM configuration.
    pub fn vm_config(mut self, vm_config: Value) -> Self {
        self.vm_config = Some(vm_config);
        self
    }

    /// Sets the root id.
    pub fn root_id(mut self, root_id: &str) -> Self {
        self.root_id = root_id.to_string();
        self
    }

    /// Sets the VM id.
    pub fn vm_id(mut self, vm_id: &str) -> Self {
        self.vm_id = vm_id.to_string();
        self
    }

    /// Sets the failure outcome.
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }
}

/// Where a cluster's endpoints come from.
#[derive(Debug, Clone)]
pub enum ClusterKind {
    /// A fixed list of endpoints.
    Static(Vec<SocketAddr>),
    /// The endpoint named by a request header (`ip:port`), as the `lb` filter sets it.
    OriginalDst {
        /// The header carrying the endpoint.
        header: String,
    },
}

/// An upstream cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Name routes refer to.
    pub name: String,
    /// Where endpoints come from.
    pub kind: ClusterKind,
    /// Upstream connect timeout.
    pub connect_timeout_ms: u64,
    /// Speak h2c (prior knowledge) to the endpoints instead of HTTP/1.1.
    pub http2: bool,
    /// Circuit-breaker thresholds, when not the hosts' defaults (1024 each in both).
    pub circuit_breakers: Option<CircuitBreakers>,
    /// `original_dst` only, wasmesh only (Envoy has no such list): the CIDRs a filter may
    /// send requests to.
    pub allowed_destinations: Vec<String>,
    /// `original_dst` only, wasmesh only: the published endpoint sets (VM id, services) a
    /// filter may send requests to.
    pub allowed_endpoints: Option<(String, Vec<String>)>,
    /// TLS to the endpoints (wasmesh's `tls`, Envoy's `UpstreamTlsContext`).
    pub tls: Option<ClusterTls>,
}

/// A cluster's TLS, as both hosts are told it.
#[derive(Debug, Clone, Default)]
pub struct ClusterTls {
    /// The CA bundle the endpoints' certificates must chain to.
    pub trusted_ca: PathBuf,
    /// The identities (URI SANs) an endpoint may have.
    pub subject_alt_names: Vec<String>,
    /// The client certificate and key presented (mutual TLS).
    pub client_certificate: Option<(PathBuf, PathBuf)>,
    /// SNI from each request's host, the certificate checked against it (wasmesh's
    /// `auto_sni`; Envoy's `auto_sni` with `auto_san_validation`).
    pub auto_sni: bool,
}

/// A cluster's circuit-breaker thresholds, with Envoy's names (wasmesh uses the same).
#[derive(Debug, Clone, Copy)]
pub struct CircuitBreakers {
    /// Connections open to the cluster.
    pub max_connections: u32,
    /// Requests waiting for a connection.
    pub max_pending_requests: u32,
    /// Requests outstanding.
    pub max_requests: u32,
}

impl Cluster {
    /// A static cluster of `endpoints`.
    pub fn fixed(name: &str, endpoints: impl IntoIterator<Item = SocketAddr>) -> Self {
        Self::with_kind(name, ClusterKind::Static(endpoints.into_iter().collect()))
    }

    /// An original-destination cluster reading the endpoint from `header`.
    pub fn original_dst(name: &str, header: &str) -> Self {
        let header = header.to_string();
        Self::with_kind(name, ClusterKind::OriginalDst { header })
    }

    fn with_kind(name: &str, kind: ClusterKind) -> Self {
        Self {
            name: name.to_string(),
            kind,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            http2: false,
            circuit_breakers: None,
            allowed_destinations: Vec::new(),
            allowed_endpoints: None,
            tls: None,
        }
    }

    /// Speaks TLS to the endpoints.
    pub fn tls(mut self, tls: ClusterTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Lets a filter send requests only to the endpoints of `services` published in `vm_id`'s
    /// shared data (wasmesh only).
    pub fn allowed_endpoints(mut self, vm_id: &str, services: &[&str]) -> Self {
        let services = services.iter().map(|s| s.to_string()).collect();
        self.allowed_endpoints = Some((vm_id.to_string(), services));
        self
    }

    /// Lets a filter send requests only to these networks (wasmesh only).
    pub fn allowed_destinations(mut self, cidrs: &[&str]) -> Self {
        self.allowed_destinations = cidrs.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Sets the circuit-breaker thresholds.
    pub fn circuit_breakers(mut self, thresholds: CircuitBreakers) -> Self {
        self.circuit_breakers = Some(thresholds);
        self
    }

    /// Speaks h2c to the endpoints.
    pub fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout_ms(mut self, ms: u64) -> Self {
        self.connect_timeout_ms = ms;
        self
    }
}

/// A listener on `127.0.0.1:0` with a filter chain and routes.
#[derive(Debug, Clone)]
pub struct Listener {
    /// Name, also how tests find its port ([`crate::Proxy::listener`]).
    pub name: String,
    /// Plugin names, in the order they see the request.
    pub filters: Vec<String>,
    /// Routes, first match wins.
    pub routes: Vec<Route>,
    /// Connections open at once (wasmesh's `max_connections`, Envoy's runtime key
    /// `envoy.resource_limits.listener.<name>.connection_limit`); no limit when `None`.
    pub max_connections: Option<u32>,
    /// Envoy's `stream_idle_timeout` (both hosts: 5 min when `None`).
    pub stream_idle_timeout_ms: Option<u64>,
    /// Time for a request head to arrive whole (wasmesh's `request_timeout_ms`, 10 s by
    /// default; Envoy's `request_headers_timeout`, off by default).
    pub request_headers_timeout_ms: Option<u64>,
    /// Proxies WebSocket upgrades (both hosts' `upgrade_configs`).
    pub websocket: bool,
    /// `http2_protocol_options.max_concurrent_streams` (wasmesh: 100, Envoy: 2^31 - 1 when
    /// `None`).
    pub max_concurrent_streams: Option<u32>,
    /// Terminates TLS (wasmesh's `tls`, Envoy's `DownstreamTlsContext`); plain text when `None`.
    pub tls: Option<ListenerTls>,
    /// An access log (wasmesh's `access_log`, Envoy's file access logger), flushed every
    /// 100 ms in both.
    pub access_log: Option<ListenerAccessLog>,
    /// A TCP listener proxying to this cluster (wasmesh's `tcp_proxy`, Envoy's `tcp_proxy`
    /// network filter); its `filters` are then network filters and it has no routes.
    pub tcp_proxy: Option<String>,
}

/// A listener's access log, as both hosts are told it.
#[derive(Debug, Clone)]
pub struct ListenerAccessLog {
    /// The file.
    pub path: PathBuf,
    /// Key → format string of Envoy command operators.
    pub json_format: std::collections::BTreeMap<String, String>,
}

/// A listener's TLS, as both hosts are told it.
#[derive(Debug, Clone)]
pub struct ListenerTls {
    /// Certificate chain and key files (PEM).
    pub certificate_chain: PathBuf,
    /// The key of the chain's leaf.
    pub private_key: PathBuf,
    /// Asks clients for a certificate chaining to this CA bundle.
    pub client_ca: Option<PathBuf>,
    /// With `client_ca`: a client without a certificate fails the handshake.
    pub require_client_certificate: bool,
}

impl Listener {
    /// A listener with no filters and no routes.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            filters: Vec::new(),
            routes: Vec::new(),
            max_connections: None,
            stream_idle_timeout_ms: None,
            request_headers_timeout_ms: None,
            websocket: false,
            max_concurrent_streams: None,
            tls: None,
            access_log: None,
            tcp_proxy: None,
        }
    }

    /// A TCP listener relaying every connection to `cluster`, through its network filters.
    pub fn tcp(name: &str, cluster: &str) -> Self {
        Self {
            tcp_proxy: Some(cluster.to_string()),
            ..Self::new(name)
        }
    }

    /// Terminates TLS on this listener.
    pub fn tls(mut self, tls: ListenerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Writes an access log.
    pub fn access_log(mut self, log: ListenerAccessLog) -> Self {
        self.access_log = Some(log);
        self
    }

    /// Lets one h2 connection have at most `max` streams open.
    pub fn max_concurrent_streams(mut self, max: u32) -> Self {
        self.max_concurrent_streams = Some(max);
        self
    }

    /// Proxies WebSocket upgrades on every route that does not turn them off.
    pub fn websocket(mut self) -> Self {
        self.websocket = true;
        self
    }

    /// Gives request heads `ms` to arrive whole.
    pub fn request_headers_timeout_ms(mut self, ms: u64) -> Self {
        self.request_headers_timeout_ms = Some(ms);
        self
    }

    /// Ends a stream on which nothing moves for `ms`.
    pub fn stream_idle_timeout_ms(mut self, ms: u64) -> Self {
        self.stream_idle_timeout_ms = Some(ms);
        self
    }

    /// Holds at most `max` connections open at once.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = Some(max);
        self
    }

    /// Appends plugin `name` to the filter chain.
    pub fn filter(mut self, name: &str) -> Self {
        self.filters.push(name.to_string());
        self
    }

    /// Appends a route.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }
}

/// How a route matches the path.
#[derive(Debug, Clone)]
pub enum PathMatch {
    /// Path starts with this.
    Prefix(String),
    /// Path is exactly this.
    Exact(String),
}

/// A route: a path match plus exact header matches, to a cluster.
#[derive(Debug, Clone)]
pub struct Route {
    /// Path match.
    pub path: PathMatch,
    /// Headers that must be present with exactly these values.
    pub headers: Vec<(String, String)>,
    /// Target cluster.
    pub cluster: String,
    /// Whole-request timeout.
    pub timeout_ms: u64,
    /// This route's own word on WebSocket upgrades, over the listener's.
    pub websocket: Option<bool>,
}

impl Route {
    /// Paths starting with `prefix` go to `cluster`.
    pub fn prefix(prefix: &str, cluster: &str) -> Self {
        Self::new(PathMatch::Prefix(prefix.to_string()), cluster)
    }

    /// The path `path` exactly goes to `cluster`.
    pub fn exact(path: &str, cluster: &str) -> Self {
        Self::new(PathMatch::Exact(path.to_string()), cluster)
    }

    fn new(path: PathMatch, cluster: &str) -> Self {
        Self {
            path,
            headers: Vec::new(),
            cluster: cluster.to_string(),
            timeout_ms: DEFAULT_ROUTE_TIMEOUT_MS,
            websocket: None,
        }
    }

    /// Allows (or refuses) WebSocket upgrades on this route, whatever the listener says.
    pub fn websocket(mut self, enabled: bool) -> Self {
        self.websocket = Some(enabled);
        self
    }

    /// Also requires header `name` to equal `value`.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the request timeout.
    pub fn timeout_ms(mut self, ms: u64) -> Self {
        self.timeout_ms = ms;
        self
    }
}

/// A JSON value as the string a plugin receives: strings as they are, anything else serialized.
pub(crate) fn as_plugin_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
