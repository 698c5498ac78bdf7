//! The JSON configuration: serde types, loading with field paths in errors,
//! and cross-reference validation.
//!
//! Every struct denies unknown fields so a typo is an error that names the
//! field's path instead of a silently ignored setting.

mod canary;
mod stats;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use wasmesh_host::plugin_info::PluginInfo;

pub use canary::{CanaryConfig, RollbackConfig, StickyConfig};
pub use stats::{HistogramBuckets, StatsConfig};
pub use validate::validate;
/// Listeners, routes and clusters are the data plane's own types (`wasmesh_proxy::spec`); the
/// file's other sections are the binary's.
pub use wasmesh_proxy::spec::{
    CircuitBreakers, ClusterConfig, ClusterKind, HeaderMatch, Http2Options, ListenerConfig,
    PublishedEndpoints, RouteConfig, RouteMatch, UpgradeConfig,
};

/// The demo configuration compiled into the binary, used by `wasmesh run`
/// without `-c` so the README's demo needs no file of its own.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../../examples/demo/wasmesh.json");

/// The whole proxy configuration (one file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the admin server listens.
    pub admin: AdminConfig,
    /// Worker threads; each has its own instance of every plugin (one for the plugins sharing a
    /// VM key). Default: cores.
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
    /// Run this plugin as a singleton, as Envoy's `envoy.bootstrap.wasm` extension with
    /// `singleton: true` does: one VM in the process (on worker 0) whose root context runs
    /// its ticks, queue callbacks and http calls, with no stream ever created. A plugin no
    /// listener names is a singleton whatever this says; `true` is for keeping it one: a
    /// background job (a poller filling shared data) named in a listener by mistake would
    /// silently run once per worker, so with `true` that is a config error instead.
    #[serde(default)]
    pub singleton: bool,
    /// The module's sha256 (hex): required when `wasm` is an `http(s)://` URL; for an
    /// `oci://` image, its manifest's digest (as Istio's WasmPlugin `sha256`).
    #[serde(default)]
    pub sha256: Option<String>,
    /// Timeout and size cap of fetching `wasm` from a URL or registry.
    #[serde(default)]
    pub fetch: FetchConfig,
    /// Resource limits for each VM of this plugin (its canary's too).
    #[serde(default)]
    pub limits: Limits,
    /// A second version that gets a share of streams, rolled back by itself when it fails.
    #[serde(default)]
    pub canary: Option<CanaryConfig>,
}

/// `plugins[].fetch`: how a module named by URL or image is fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchConfig {
    /// Each request of the fetch (connect, headers and body).
    #[serde(default = "FetchConfig::default_timeout_ms")]
    pub timeout_ms: u64,
    /// The most a module (and each blob of an image) may weigh, MiB.
    #[serde(default = "FetchConfig::default_max_mb")]
    pub max_mb: u64,
    /// A PEM CA bundle that HTTPS servers and registries are checked against instead of
    /// Mozilla's roots (relative to the config file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_ca: Option<PathBuf>,
    /// A Docker `config.json` (what `docker login` writes, and the `.dockerconfigjson` of a
    /// Kubernetes pull secret) with credentials for registries that ask for them (relative to
    /// the config file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<PathBuf>,
}

impl FetchConfig {
    fn default_timeout_ms() -> u64 {
        30_000
    }
    fn default_max_mb() -> u64 {
        64
    }

    /// As the fetcher takes them.
    pub fn options(&self) -> crate::modules::FetchOptions {
        crate::modules::FetchOptions {
            limits: crate::modules::FetchLimits {
                timeout: Duration::from_millis(self.timeout_ms),
                max_bytes: self.max_mb << 20,
            },
            trusted_ca: self.trusted_ca.clone(),
            credentials: self.credentials.clone(),
        }
    }
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            timeout_ms: Self::default_timeout_ms(),
            max_mb: Self::default_max_mb(),
            trusted_ca: None,
            credentials: None,
        }
    }
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

    /// Reads and parses a file; relative `.wasm` and TLS file paths become relative to the
    /// file's directory.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let mut config = Self::parse(&text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    /// Makes every relative plugin path (modules, fetch CA bundles and credentials), access
    /// log and TLS file (listeners' and clusters') relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        let file = |path: &mut std::path::PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        for log in self
            .listeners
            .iter_mut()
            .filter_map(|l| l.access_log.as_mut())
        {
            file(&mut log.path);
        }
        for tls in self.listeners.iter_mut().filter_map(|l| l.tls.as_mut()) {
            for certificate in &mut tls.certificates {
                file(&mut certificate.certificate_chain);
                file(&mut certificate.private_key);
            }
            if let Some(client) = &mut tls.client_certificate {
                file(&mut client.trusted_ca);
            }
        }
        for tls in self.clusters.iter_mut().filter_map(|c| c.tls.as_mut()) {
            if let Some(ca) = &mut tls.trusted_ca {
                file(ca);
            }
            if let Some(client) = &mut tls.client_certificate {
                file(&mut client.certificate_chain);
                file(&mut client.private_key);
            }
        }
        let local =
            |wasm: &Path| wasm.is_relative() && !crate::modules::ModuleSource::is_remote(wasm);
        for plugin in &mut self.plugins {
            let fetch = &mut plugin.fetch;
            for path in [&mut fetch.trusted_ca, &mut fetch.credentials]
                .into_iter()
                .flatten()
            {
                file(path);
            }
            if local(&plugin.wasm) {
                plugin.wasm = base.join(&plugin.wasm);
            }
            if let Some(wasm) = plugin.canary.as_mut().and_then(|c| c.wasm.as_mut()) {
                if local(wasm) {
                    *wasm = base.join(&*wasm);
                }
            }
        }
    }

    /// Every TLS file the listeners and clusters name: certificates, keys, CA bundles.
    pub fn tls_files(&self) -> Vec<&Path> {
        let mut files = Vec::new();
        for tls in self.listeners.iter().filter_map(|l| l.tls.as_ref()) {
            for certificate in &tls.certificates {
                files.push(certificate.certificate_chain.as_path());
                files.push(certificate.private_key.as_path());
            }
            if let Some(client) = &tls.client_certificate {
                files.push(client.trusted_ca.as_path());
            }
        }
        for tls in self.clusters.iter().filter_map(|c| c.tls.as_ref()) {
            files.extend(tls.trusted_ca.as_deref());
            if let Some(client) = &tls.client_certificate {
                files.push(client.certificate_chain.as_path());
                files.push(client.private_key.as_path());
            }
        }
        files
    }

    /// Names of the plugins that run as singletons: marked `singleton`, or in no listener's
    /// `filters` (Envoy runs a plugin outside any filter chain as a bootstrap extension).
    pub fn singletons(&self) -> Vec<&str> {
        self.plugins
            .iter()
            .filter(|p| p.singleton || !self.listeners.iter().any(|l| l.filters.contains(&p.name)))
            .map(|p| p.name.as_str())
            .collect()
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
            version: self.canary.as_ref().map(|_| "stable".to_string()),
        }
    }

    /// The same for its canary: the canary's module, configuration, VM configuration and
    /// `fail_open` where it sets them, the plugin's otherwise; version `canary`.
    pub fn canary_info(&self, canary: &CanaryConfig, clusters: Arc<Vec<String>>) -> PluginInfo {
        let mut info = self.info(clusters);
        if let Some(configuration) = &canary.configuration {
            info.configuration = json_as_bytes(Some(configuration));
        }
        if let Some(vm_config) = &canary.vm_config {
            info.vm_config = json_as_bytes(Some(vm_config));
        }
        if let Some(fail_open) = canary.fail_open {
            info.fail_open = fail_open;
        }
        info.version = Some("canary".into());
        info
    }

    /// The canary's module (file, URL or image) and the sha256 that pins it: its own, or the
    /// plugin's when it keeps the plugin's module.
    pub fn canary_wasm<'a>(&'a self, canary: &'a CanaryConfig) -> (&'a Path, Option<&'a str>) {
        match &canary.wasm {
            Some(wasm) => (wasm, canary.sha256.as_deref()),
            None => (&self.wasm, self.sha256.as_deref()),
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
