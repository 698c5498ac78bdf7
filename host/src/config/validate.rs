//! Checks that cross-references in a parsed config hold: names are unique,
//! listeners name existing plugins, routes name existing clusters.

use std::collections::HashSet;

use anyhow::{bail, Result};

use super::{ClusterKind, Config, UpgradeConfig};

/// Rejects a config whose parts do not fit together; the message names the field path.
pub fn validate(config: &Config) -> Result<()> {
    config.stats.validate()?;
    let mut plugin_names = HashSet::new();
    for (i, plugin) in config.plugins.iter().enumerate() {
        if plugin.name.is_empty() {
            bail!("config error at `plugins[{i}].name`: must not be empty");
        }
        if !plugin_names.insert(plugin.name.as_str()) {
            bail!(
                "config error at `plugins[{i}].name`: duplicate plugin name {:?}",
                plugin.name
            );
        }
        if plugin.limits.memory_mb == 0 || plugin.limits.memory_mb > 4096 {
            bail!("config error at `plugins[{i}].limits.memory_mb`: must be 1..=4096");
        }
        if plugin.limits.callback_ms == 0 {
            bail!("config error at `plugins[{i}].limits.callback_ms`: must be > 0");
        }
        if plugin.limits.request_cpu_ms == Some(0) {
            bail!("config error at `plugins[{i}].limits.request_cpu_ms`: must be > 0");
        }
        check_module(
            &plugin.wasm,
            plugin.sha256.as_deref(),
            &format!("plugins[{i}]"),
        )?;
        if plugin.fetch.timeout_ms == 0 {
            bail!("config error at `plugins[{i}].fetch.timeout_ms`: must be > 0");
        }
        if plugin.fetch.max_mb == 0 || plugin.fetch.max_mb > 1024 {
            bail!("config error at `plugins[{i}].fetch.max_mb`: must be 1..=1024");
        }
        if let Some(canary) = &plugin.canary {
            canary.validate(&format!("plugins[{i}].canary"))?;
            if let Some(wasm) = &canary.wasm {
                check_module(
                    wasm,
                    canary.sha256.as_deref(),
                    &format!("plugins[{i}].canary"),
                )?;
            }
        }
    }
    let vm_ids = config.plugins.iter().map(|p| p.vm_id.as_str()).collect();
    crate::dns::config::validate(&config.dns, &vm_ids)?;
    let mut cluster_names = HashSet::new();
    for (i, cluster) in config.clusters.iter().enumerate() {
        if !cluster_names.insert(cluster.name.as_str()) {
            bail!(
                "config error at `clusters[{i}].name`: duplicate cluster name {:?}",
                cluster.name
            );
        }
        if cluster.kind == ClusterKind::Static && cluster.endpoints.is_empty() {
            bail!("config error at `clusters[{i}].endpoints`: a static cluster needs at least one endpoint");
        }
        if cluster.kind == ClusterKind::OriginalDst && cluster.header.is_empty() {
            bail!("config error at `clusters[{i}].header`: must not be empty");
        }
        if cluster.kind != ClusterKind::OriginalDst && !cluster.allowed_destinations.is_empty() {
            bail!("config error at `clusters[{i}].allowed_destinations`: only an original_dst cluster picks destinations");
        }
        if let Some(published) = &cluster.allowed_endpoints {
            if cluster.kind != ClusterKind::OriginalDst {
                bail!("config error at `clusters[{i}].allowed_endpoints`: only an original_dst cluster picks destinations");
            }
            if published.services.is_empty() {
                bail!("config error at `clusters[{i}].allowed_endpoints.services`: name at least one service");
            }
        }
        // No pending requests is a valid choice (never queue); no connection or request is not.
        let breakers = &cluster.circuit_breakers;
        for (field, value) in [
            ("max_connections", breakers.max_connections),
            ("max_requests", breakers.max_requests),
        ] {
            if value == 0 {
                bail!("config error at `clusters[{i}].circuit_breakers.{field}`: must be > 0");
            }
        }
    }
    let mut listener_names = HashSet::new();
    for (i, listener) in config.listeners.iter().enumerate() {
        if !listener_names.insert(listener.name.as_str()) {
            bail!(
                "config error at `listeners[{i}].name`: duplicate listener name {:?}",
                listener.name
            );
        }
        // Each worker's socket shares the port with SO_REUSEPORT, so a second listener on the
        // same address would bind too and take half of the first's connections.
        let same_address = config.listeners[..i]
            .iter()
            .find(|other| other.address.port() != 0 && other.address == listener.address);
        if let Some(other) = same_address {
            bail!(
                "config error at `listeners[{i}].address`: {} is listener {:?}'s address too",
                listener.address,
                other.name
            );
        }
        if let Some(log) = &listener.access_log {
            if log.flush_interval_ms == 0 {
                bail!("config error at `listeners[{i}].access_log.flush_interval_ms`: must be > 0");
            }
            if log.json_format.as_ref().is_some_and(|f| f.is_empty()) {
                bail!("config error at `listeners[{i}].access_log.json_format`: names no field (leave it out for the default fields)");
            }
        }
        if !(8..=8192).contains(&listener.max_request_headers_kb) {
            bail!("config error at `listeners[{i}].max_request_headers_kb`: must be 8..=8192");
        }
        if listener.max_requests_per_connection == Some(0) {
            bail!("config error at `listeners[{i}].max_requests_per_connection`: must be > 0");
        }
        if listener.http2_protocol_options.max_concurrent_streams == 0 {
            bail!("config error at `listeners[{i}].http2_protocol_options.max_concurrent_streams`: must be > 0");
        }
        if listener.max_connections == Some(0) {
            bail!("config error at `listeners[{i}].max_connections`: must be > 0");
        }
        if listener.max_headers_count == 0 {
            bail!("config error at `listeners[{i}].max_headers_count`: must be > 0");
        }
        if listener.per_connection_buffer_limit_bytes == 0 {
            bail!(
                "config error at `listeners[{i}].per_connection_buffer_limit_bytes`: must be > 0"
            );
        }
        for (k, upgrade) in listener.upgrade_configs.iter().enumerate() {
            check_upgrade(upgrade, &format!("listeners[{i}].upgrade_configs[{k}]"))?;
        }
        for (j, route) in listener.routes.iter().enumerate() {
            for (k, upgrade) in route.upgrade_configs.iter().enumerate() {
                let at = format!("listeners[{i}].routes[{j}].upgrade_configs[{k}]");
                check_upgrade(upgrade, &at)?;
            }
        }
        for (j, filter) in listener.filters.iter().enumerate() {
            if !plugin_names.contains(filter.as_str()) {
                bail!("config error at `listeners[{i}].filters[{j}]`: no plugin named {filter:?}");
            }
            if let Some(k) = config
                .plugins
                .iter()
                .position(|p| p.singleton && p.name == *filter)
            {
                bail!("config error at `listeners[{i}].filters[{j}]`: plugin {filter:?} is a singleton (`plugins[{k}].singleton`), which runs once outside any listener");
            }
        }
        check_tcp_proxy(listener, i, &cluster_names, config)?;
        for (j, route) in listener.routes.iter().enumerate() {
            if !cluster_names.contains(route.cluster.as_str()) {
                bail!(
                    "config error at `listeners[{i}].routes[{j}].cluster`: no cluster named {:?}",
                    route.cluster
                );
            }
            if route.matcher.prefix.is_some() && route.matcher.exact.is_some() {
                bail!("config error at `listeners[{i}].routes[{j}].match`: give `prefix` or `exact`, not both");
            }
        }
    }
    let singletons = config.singletons();
    for (i, plugin) in config.plugins.iter().enumerate() {
        if plugin.canary.is_some() && singletons.contains(&plugin.name.as_str()) {
            bail!("config error at `plugins[{i}].canary`: plugin {:?} is a singleton (in no listener), which has no streams to share with a canary", plugin.name);
        }
        // A TCP connection's network filters have no fallback to the stable version and no
        // rollback accounting yet: a canary there would run unwatched, so it is refused.
        let tcp_listener = config
            .listeners
            .iter()
            .find(|l| l.tcp_proxy.is_some() && l.filters.iter().any(|f| f == &plugin.name));
        if let (Some(_), Some(listener)) = (&plugin.canary, tcp_listener) {
            bail!("config error at `plugins[{i}].canary`: plugin {:?} runs on TCP listener {:?}, where canaries are not offered yet (HTTP listeners only)", plugin.name, listener.name);
        }
    }
    Ok(())
}

/// A TCP listener (`listeners[i].tcp_proxy`) names a cluster it can connect to without a
/// request (not `original_dst`, whose destination comes from a header) and has nothing of an
/// HTTP listener's.
fn check_tcp_proxy(
    listener: &wasmesh_proxy::spec::ListenerConfig,
    i: usize,
    cluster_names: &std::collections::HashSet<&str>,
    config: &Config,
) -> Result<()> {
    let Some(tcp) = &listener.tcp_proxy else {
        return Ok(());
    };
    if !cluster_names.contains(tcp.cluster.as_str()) {
        bail!(
            "config error at `listeners[{i}].tcp_proxy.cluster`: no cluster named {:?}",
            tcp.cluster
        );
    }
    let cluster = config.clusters.iter().find(|c| c.name == tcp.cluster);
    if cluster.is_some_and(|c| c.kind == wasmesh_proxy::spec::ClusterKind::OriginalDst) {
        bail!("config error at `listeners[{i}].tcp_proxy.cluster`: cluster {:?} is `original_dst`, whose destination a request header names; a TCP connection has none", tcp.cluster);
    }
    if !listener.routes.is_empty() {
        bail!("config error at `listeners[{i}].routes`: a `tcp_proxy` listener proxies bytes, not requests, and has no routes");
    }
    if !listener.upgrade_configs.is_empty() {
        bail!("config error at `listeners[{i}].upgrade_configs`: a `tcp_proxy` listener proxies bytes, not requests");
    }
    Ok(())
}

/// `wasm` names a file, a URL or an image it can fetch, and `sha256` is a digest (required for
/// a URL, checked for a file too); `at` is the plugin's (or canary's) field path.
fn check_module(wasm: &std::path::Path, sha256: Option<&str>, at: &str) -> Result<()> {
    use crate::modules::ModuleSource;
    let source = ModuleSource::parse(wasm)
        .map_err(|e| anyhow::anyhow!("config error at `{at}.wasm`: {e:#}"))?;
    if let Some(sha256) = sha256 {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            bail!("config error at `{at}.sha256`: 64 lowercase hex digits, got {sha256:?}");
        }
    }
    match source {
        ModuleSource::Url(_) if sha256.is_none() => {
            bail!("config error at `{at}.sha256`: a module fetched from a URL needs its sha256")
        }
        _ => Ok(()),
    }
}

/// wasmesh proxies WebSocket upgrades only; naming another is a mistake worth an error.
fn check_upgrade(upgrade: &UpgradeConfig, at: &str) -> Result<()> {
    if !upgrade.upgrade_type.eq_ignore_ascii_case("websocket") {
        bail!(
            "config error at `{at}.upgrade_type`: {:?} is not supported (websocket is)",
            upgrade.upgrade_type
        );
    }
    Ok(())
}
