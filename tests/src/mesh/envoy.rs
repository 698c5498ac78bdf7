//! [`MeshConfig`] → Envoy bootstrap (as a JSON value; [`super::to_yaml`] prints it).
//!
//! The shape matches the committed examples in `envoy-configs/`: per listener an HTTP connection
//! manager whose `http_filters` are the plugins (`envoy.filters.http.wasm`, V8) then the router;
//! a TCP listener has the plugins as network filters (`envoy.filters.network.wasm`) then
//! `tcp_proxy`.

use serde_json::{json, Value};
use wasmesh_contract::metric_name;

use super::{
    as_plugin_string, Cluster, ClusterKind, ClusterTls, Listener, ListenerAccessLog, ListenerTls,
    MeshConfig, PathMatch, Plugin, Route,
};

const WASM_FILTER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const WASM_SERVICE_TYPE: &str = "type.googleapis.com/envoy.extensions.wasm.v3.WasmService";
const STRING_VALUE_TYPE: &str = "type.googleapis.com/google.protobuf.StringValue";
const NETWORK_WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";
const TCP_PROXY_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const HCM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const TLS_INSPECTOR_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
const FILE_ACCESS_LOG_TYPE: &str =
    "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
const UPSTREAM_TLS_TYPE: &str =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
const DOWNSTREAM_TLS_TYPE: &str =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
const HTTP_OPTIONS_TYPE: &str =
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// The whole bootstrap: admin on an ephemeral port, static listeners and clusters, and the
/// stats settings that make filter metrics look as in wasmesh.
pub fn bootstrap(config: &MeshConfig) -> Value {
    let mut out = json!({
        "admin": { "address": socket_address("127.0.0.1", 0) },
        "stats_config": stats_config(config),
        // Histograms reach the admin output at each flush; 1 s instead of 5 s keeps tests short.
        "stats_flush_interval": "1s",
        "static_resources": {
            "listeners": config.listeners.iter().map(|l| listener(config, l)).collect::<Vec<_>>(),
            "clusters": config.clusters.iter().map(cluster).collect::<Vec<_>>(),
        },
    });
    let singletons: Vec<Value> = config
        .plugins
        .iter()
        .filter(|p| config.is_singleton(p))
        .map(wasm_service)
        .collect();
    if !singletons.is_empty() {
        out["bootstrap_extensions"] = json!(singletons);
    }
    let limits = connection_limits(config);
    if !limits.is_empty() {
        out["layered_runtime"] =
            json!({ "layers": [{ "name": "static", "static_layer": limits }] });
    }
    out
}

/// Envoy sets a listener's connection limit only through the runtime.
fn connection_limits(config: &MeshConfig) -> serde_json::Map<String, Value> {
    let mut layer = serde_json::Map::new();
    for listener in &config.listeners {
        if let Some(max) = listener.max_connections {
            let key = format!(
                "envoy.resource_limits.listener.{}.connection_limit",
                listener.name
            );
            layer.insert(key, json!(max));
        }
    }
    layer
}

/// One `stats_tags` entry per label of wasmesh's metric naming convention (so
/// `response_total;status_code=200` becomes `response_total{status_code="200"}`), and the
/// histogram buckets, matched on the name under Envoy's `wasmcustom.` namespace.
fn stats_config(config: &MeshConfig) -> Value {
    let tags: Vec<Value> = metric_name::LABELS
        .iter()
        .map(|label| json!({ "tag_name": label, "regex": metric_name::envoy_tag_regex(label) }))
        .collect();
    let buckets: Vec<Value> = config
        .histogram_buckets
        .iter()
        .map(|(prefix, bounds)| {
            json!({ "match": { "prefix": format!("wasmcustom.{prefix}") }, "buckets": bounds })
        })
        .collect();
    json!({ "stats_tags": tags, "histogram_bucket_settings": buckets })
}

fn socket_address(address: &str, port: u16) -> Value {
    json!({ "socket_address": { "address": address, "port_value": port } })
}

fn listener(config: &MeshConfig, listener: &Listener) -> Value {
    let chain = match &listener.tcp_proxy {
        Some(cluster) => tcp_chain(config, listener, cluster),
        None => http_chain(config, listener),
    };
    let mut out = json!({
        "name": listener.name,
        "address": socket_address("127.0.0.1", 0),
        "filter_chains": [chain],
    });
    if let Some(tls) = &listener.tls {
        out["filter_chains"][0]["transport_socket"] = downstream_tls(tls);
        // The SNI reaches `connection.requested_server_name` only through the TLS inspector
        // (Envoy adds it itself when a filter chain matches on server names).
        out["listener_filters"] = json!([{
            "name": "envoy.filters.listener.tls_inspector",
            "typed_config": { "@type": TLS_INSPECTOR_TYPE },
        }]);
    }
    out
}

/// A TCP listener's filter chain: the plugins as network filters, then `tcp_proxy`.
fn tcp_chain(config: &MeshConfig, listener: &Listener, cluster: &str) -> Value {
    let mut filters: Vec<Value> = listener
        .filters
        .iter()
        .map(|name| {
            json!({
                "name": "envoy.filters.network.wasm",
                "typed_config": {
                    "@type": NETWORK_WASM_TYPE,
                    "config": plugin_config(config.plugin_named(name)),
                },
            })
        })
        .collect();
    let mut proxy =
        json!({ "@type": TCP_PROXY_TYPE, "stat_prefix": listener.name, "cluster": cluster });
    if let Some(log) = &listener.access_log {
        proxy["access_log"] = file_access_log(log);
    }
    filters.push(json!({ "name": "envoy.filters.network.tcp_proxy", "typed_config": proxy }));
    json!({ "filters": filters })
}

/// The file access logger writing `log`'s fields (an HTTP listener's connection manager and a
/// TCP listener's `tcp_proxy` take the same).
fn file_access_log(log: &ListenerAccessLog) -> Value {
    json!([{
        "name": "envoy.access_loggers.file",
        "typed_config": {
            "@type": FILE_ACCESS_LOG_TYPE,
            "path": log.path,
            "log_format": { "json_format": log.json_format },
        },
    }])
}

/// An HTTP listener's filter chain: the connection manager with the plugins as HTTP filters.
fn http_chain(config: &MeshConfig, listener: &Listener) -> Value {
    let mut http_filters: Vec<Value> = listener
        .filters
        .iter()
        .map(|name| wasm_filter(config.plugin_named(name)))
        .collect();
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": { "@type": ROUTER_TYPE },
    }));
    let mut manager = json!({
        "@type": HCM_TYPE,
        "stat_prefix": listener.name,
        "codec_type": "AUTO",
        "route_config": {
            "name": listener.name,
            "virtual_hosts": [{
                "name": "all",
                "domains": ["*"],
                "routes": listener.routes.iter().map(route).collect::<Vec<_>>(),
            }],
        },
        "http_filters": http_filters,
    });
    if let Some(ms) = listener.stream_idle_timeout_ms {
        manager["stream_idle_timeout"] = json!(duration(ms));
    }
    if let Some(ms) = listener.request_headers_timeout_ms {
        manager["request_headers_timeout"] = json!(duration(ms));
    }
    if listener.websocket {
        manager["upgrade_configs"] = json!([{ "upgrade_type": "websocket" }]);
    }
    if let Some(max) = listener.max_concurrent_streams {
        manager["http2_protocol_options"] = json!({ "max_concurrent_streams": max });
    }
    if let Some(log) = &listener.access_log {
        manager["access_log"] = file_access_log(log);
    }
    json!({
        "filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": manager,
        }],
    })
}

/// A cluster's TLS transport socket: the CA and the identities (URI SANs) an endpoint may
/// have, the client certificate, and ALPN for the cluster's protocol, as wasmesh offers it.
/// TLS 1.3 allowed, as wasmesh's client does by default (Envoy's upstream default stops at
/// TLS 1.2).
fn upstream_tls(tls: &ClusterTls, http2: bool) -> Value {
    let sans: Vec<Value> = tls
        .subject_alt_names
        .iter()
        .map(|san| json!({ "san_type": "URI", "matcher": { "exact": san } }))
        .collect();
    let mut common = json!({
        "validation_context": {
            "trusted_ca": { "filename": tls.trusted_ca },
            "match_typed_subject_alt_names": sans,
        },
        "alpn_protocols": [if http2 { "h2" } else { "http/1.1" }],
        "tls_params": { "tls_maximum_protocol_version": "TLSv1_3" },
    });
    if let Some((cert, key)) = &tls.client_certificate {
        common["tls_certificates"] = json!([{
            "certificate_chain": { "filename": cert },
            "private_key": { "filename": key },
        }]);
    }
    json!({
        "name": "envoy.transport_sockets.tls",
        "typed_config": { "@type": UPSTREAM_TLS_TYPE, "common_tls_context": common },
    })
}

/// The TLS transport socket of a listener's filter chain: wasmesh's defaults (ALPN h2 and
/// http/1.1), the client CA when clients are asked for a certificate.
fn downstream_tls(tls: &ListenerTls) -> Value {
    let mut common = json!({
        "tls_certificates": [{
            "certificate_chain": { "filename": tls.certificate_chain },
            "private_key": { "filename": tls.private_key },
        }],
        "alpn_protocols": ["h2", "http/1.1"],
    });
    if let Some(ca) = &tls.client_ca {
        common["validation_context"] = json!({ "trusted_ca": { "filename": ca } });
    }
    json!({
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": DOWNSTREAM_TLS_TYPE,
            "common_tls_context": common,
            "require_client_certificate": tls.require_client_certificate,
        },
    })
}

fn wasm_filter(plugin: &Plugin) -> Value {
    assert!(
        !plugin.singleton,
        "a singleton is in no listener: {:?}",
        plugin.name
    );
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": { "@type": WASM_FILTER_TYPE, "config": plugin_config(plugin) },
    })
}

/// A singleton: one VM on Envoy's main thread, outside any filter chain.
fn wasm_service(plugin: &Plugin) -> Value {
    json!({
        "name": "envoy.bootstrap.wasm",
        "typed_config": {
            "@type": WASM_SERVICE_TYPE,
            "singleton": true,
            "config": plugin_config(plugin),
        },
    })
}

/// The `PluginConfig` a filter and a singleton both carry.
fn plugin_config(plugin: &Plugin) -> Value {
    let code = match &plugin.remote {
        Some(remote) => json!({ "remote": {
            "http_uri": { "uri": remote.url, "cluster": remote.cluster, "timeout": "10s" },
            "sha256": remote.sha256,
        } }),
        None => json!({ "local": { "filename": plugin.wasm.display().to_string() } }),
    };
    let mut vm_config = json!({
        "vm_id": plugin.vm_id,
        "runtime": "envoy.wasm.runtime.v8",
        "code": code,
    });
    if let Some(value) = &plugin.vm_config {
        vm_config["configuration"] = string_value(value);
    }
    let mut config = json!({
        "name": plugin.name,
        "root_id": plugin.root_id,
        "vm_config": vm_config,
        "fail_open": plugin.fail_open,
    });
    if let Some(value) = &plugin.configuration {
        config["configuration"] = string_value(value);
    }
    config
}

/// Plugin and VM configuration reach the module as bytes: wrap them as a `StringValue`.
fn string_value(value: &Value) -> Value {
    json!({ "@type": STRING_VALUE_TYPE, "value": as_plugin_string(value) })
}

fn route(route: &Route) -> Value {
    let mut matcher = match &route.path {
        PathMatch::Prefix(prefix) => json!({ "prefix": prefix }),
        PathMatch::Exact(path) => json!({ "path": path }),
    };
    if !route.headers.is_empty() {
        matcher["headers"] = route
            .headers
            .iter()
            .map(|(name, value)| json!({ "name": name, "string_match": { "exact": value } }))
            .collect();
    }
    let mut action = json!({ "cluster": route.cluster, "timeout": duration(route.timeout_ms) });
    if let Some(enabled) = route.websocket {
        action["upgrade_configs"] = json!([{ "upgrade_type": "websocket", "enabled": enabled }]);
    }
    json!({ "match": matcher, "route": action })
}

fn cluster(cluster: &Cluster) -> Value {
    assert!(
        cluster.allowed_destinations.is_empty() && cluster.allowed_endpoints.is_none(),
        "Envoy has no allow-list of original destinations"
    );
    let mut out = json!({
        "name": cluster.name,
        "connect_timeout": duration(cluster.connect_timeout_ms),
    });
    match &cluster.kind {
        ClusterKind::Static(endpoints) => {
            out["type"] = json!("STATIC");
            out["lb_policy"] = json!("ROUND_ROBIN");
            let lb_endpoints: Vec<Value> = endpoints
                .iter()
                .map(|addr| {
                    let address = socket_address(&addr.ip().to_string(), addr.port());
                    json!({ "endpoint": { "address": address } })
                })
                .collect();
            out["load_assignment"] = json!({
                "cluster_name": cluster.name,
                "endpoints": [{ "lb_endpoints": lb_endpoints }],
            });
        }
        ClusterKind::OriginalDst { header } => {
            out["type"] = json!("ORIGINAL_DST");
            out["lb_policy"] = json!("CLUSTER_PROVIDED");
            out["original_dst_lb_config"] = json!({
                "use_http_header": true,
                "http_header_name": header,
            });
        }
    }
    if let Some(tls) = &cluster.tls {
        out["transport_socket"] = upstream_tls(tls, cluster.http2);
    }
    if let Some(limits) = cluster.circuit_breakers {
        out["circuit_breakers"] = json!({ "thresholds": [{
            "priority": "DEFAULT",
            "max_connections": limits.max_connections,
            "max_pending_requests": limits.max_pending_requests,
            "max_requests": limits.max_requests,
        }] });
    }
    let auto_sni = cluster.tls.as_ref().is_some_and(|tls| tls.auto_sni);
    if cluster.http2 || auto_sni {
        let protocol = if cluster.http2 {
            json!({ "http2_protocol_options": {} })
        } else {
            json!({ "http_protocol_options": {} })
        };
        let mut options = json!({ "@type": HTTP_OPTIONS_TYPE, "explicit_http_config": protocol });
        if auto_sni {
            options["upstream_http_protocol_options"] =
                json!({ "auto_sni": true, "auto_san_validation": true });
        }
        out["typed_extension_protocol_options"] =
            json!({ "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": options });
    }
    out
}

/// A protobuf `Duration` in its JSON form, e.g. `"1.5s"`.
fn duration(ms: u64) -> String {
    format!("{}s", ms as f64 / 1000.0)
}
