//! [`MeshConfig`] → wasmesh's JSON configuration (the schema `host/` implements; unknown fields are
//! errors there, so only fields of that schema are written).

use serde_json::{json, Value};

use super::{
    Cluster, ClusterKind, Listener, MeshConfig, PathMatch, Plugin, Route,
    DEFAULT_CONNECT_TIMEOUT_MS,
};

/// The whole configuration: admin on an ephemeral port, then plugins, clusters, listeners.
pub fn config(config: &MeshConfig) -> Value {
    json!({
        "admin": { "address": "127.0.0.1:0" },
        "workers": config.worker_count(),
        "plugins": config.plugins.iter().map(plugin).collect::<Vec<_>>(),
        "clusters": config.clusters.iter().map(cluster).collect::<Vec<_>>(),
        "listeners": config.listeners.iter().map(listener).collect::<Vec<_>>(),
        "stats": { "histogram_buckets": config.histogram_buckets.iter()
            .map(|(prefix, bounds)| json!({ "prefix": prefix, "buckets": bounds }))
            .collect::<Vec<_>>() },
    })
}

fn plugin(plugin: &Plugin) -> Value {
    let mut out = json!({
        "name": plugin.name,
        "wasm": plugin.wasm.display().to_string(),
        "root_id": plugin.root_id,
        "vm_id": plugin.vm_id,
        "fail_open": plugin.fail_open,
    });
    if let Some(remote) = &plugin.remote {
        out["wasm"] = json!(remote.url);
        out["sha256"] = json!(remote.sha256);
        if let Some(ca) = &remote.trusted_ca {
            out["fetch"] = json!({ "trusted_ca": ca });
        }
    }
    // Written only when set, so the config also suits a wasmesh from before the field.
    if plugin.singleton {
        out["singleton"] = json!(true);
    }
    if let Some(value) = &plugin.vm_config {
        out["vm_config"] = value.clone();
    }
    if let Some(value) = &plugin.configuration {
        out["configuration"] = value.clone();
    }
    out
}

fn cluster(cluster: &Cluster) -> Value {
    let mut out = cluster_kind(cluster);
    if let Some(tls) = &cluster.tls {
        out["tls"] = json!({
            "trusted_ca": tls.trusted_ca,
            "subject_alt_names": tls.subject_alt_names,
        });
        // Written only when set, so the config also suits a wasmesh from before the field.
        if tls.auto_sni {
            out["tls"]["auto_sni"] = json!(true);
        }
        if let Some((cert, key)) = &tls.client_certificate {
            out["tls"]["client_certificate"] =
                json!({ "certificate_chain": cert, "private_key": key });
        }
    }
    if !cluster.allowed_destinations.is_empty() {
        out["allowed_destinations"] = json!(cluster.allowed_destinations);
    }
    if let Some((vm_id, services)) = &cluster.allowed_endpoints {
        out["allowed_endpoints"] = json!({ "vm_id": vm_id, "services": services });
    }
    if let Some(limits) = cluster.circuit_breakers {
        out["circuit_breakers"] = json!({
            "max_connections": limits.max_connections,
            "max_pending_requests": limits.max_pending_requests,
            "max_requests": limits.max_requests,
        });
    }
    out
}

fn cluster_kind(cluster: &Cluster) -> Value {
    match &cluster.kind {
        ClusterKind::Static(endpoints) => json!({
            "name": cluster.name,
            "type": "static",
            "endpoints": endpoints.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "connect_timeout_ms": cluster.connect_timeout_ms,
            "http2": cluster.http2,
        }),
        ClusterKind::OriginalDst { header } => {
            // The schema's example names only `header` here: write the rest only when they
            // differ from the defaults, so a plain original_dst cluster stays minimal.
            let mut out = json!({ "name": cluster.name, "type": "original_dst", "header": header });
            if cluster.connect_timeout_ms != DEFAULT_CONNECT_TIMEOUT_MS {
                out["connect_timeout_ms"] = json!(cluster.connect_timeout_ms);
            }
            if cluster.http2 {
                out["http2"] = json!(true);
            }
            out
        }
    }
}

fn listener(listener: &Listener) -> Value {
    let mut out = json!({
        "name": listener.name,
        "address": "127.0.0.1:0",
        "filters": listener.filters,
        "routes": listener.routes.iter().map(route).collect::<Vec<_>>(),
    });
    if let Some(cluster) = &listener.tcp_proxy {
        out["tcp_proxy"] = json!({ "cluster": cluster });
        out.as_object_mut().expect("an object").remove("routes");
    }
    if let Some(max) = listener.max_connections {
        out["max_connections"] = json!(max);
    }
    if let Some(ms) = listener.stream_idle_timeout_ms {
        out["stream_idle_timeout_ms"] = json!(ms);
    }
    if let Some(ms) = listener.request_headers_timeout_ms {
        out["request_timeout_ms"] = json!(ms);
    }
    if listener.websocket {
        out["upgrade_configs"] = json!([{ "upgrade_type": "websocket" }]);
    }
    if let Some(max) = listener.max_concurrent_streams {
        out["http2_protocol_options"] = json!({ "max_concurrent_streams": max });
    }
    if let Some(tls) = &listener.tls {
        out["tls"] = json!({
            "certificates": [{
                "certificate_chain": tls.certificate_chain,
                "private_key": tls.private_key,
            }],
        });
        if let Some(ca) = &tls.client_ca {
            let mode = if tls.require_client_certificate {
                "require"
            } else {
                "optional"
            };
            out["tls"]["client_certificate"] = json!({ "mode": mode, "trusted_ca": ca });
        }
    }
    if let Some(log) = &listener.access_log {
        out["access_log"] = json!({
            "path": log.path,
            "json_format": log.json_format,
            "flush_interval_ms": 100,
        });
    }
    out
}

fn route(route: &Route) -> Value {
    let mut matcher = match &route.path {
        PathMatch::Prefix(prefix) => json!({ "prefix": prefix }),
        PathMatch::Exact(path) => json!({ "exact": path }),
    };
    if !route.headers.is_empty() {
        matcher["headers"] = route
            .headers
            .iter()
            .map(|(name, value)| json!({ "name": name, "exact": value }))
            .collect();
    }
    let mut out =
        json!({ "match": matcher, "cluster": route.cluster, "timeout_ms": route.timeout_ms });
    if let Some(enabled) = route.websocket {
        out["upgrade_configs"] = json!([{ "upgrade_type": "websocket", "enabled": enabled }]);
    }
    out
}
