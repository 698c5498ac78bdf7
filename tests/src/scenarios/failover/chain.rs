//! The chain of every failover and priority scenario, built once: `failover` → `lb` →
//! `original_dst` cluster, and the shapes the failover tests use (`lb` over some endpoints,
//! `failover` over the same or more).

use std::net::SocketAddr;

use serde_json::{json, Value};

use crate::{build_filters, Cluster, Listener, MeshConfig, Plugin, Route};

/// The header `lb` writes and the cluster reads.
pub(super) const PICK_HEADER: &str = "x-envoy-original-dst-host";
/// Both filters name the endpoint that answered here (lb for first tries, failover for retries).
pub(super) const ECHO_HEADER: &str = "x-wasmesh-endpoint";

/// `failover` (its configuration is `extra` merged into the basics) → `lb` (round robin) over
/// `endpoints`, service `web`, cluster `dynamic`.
pub(super) fn mesh(endpoints: &[SocketAddr], extra: Value) -> MeshConfig {
    split_mesh(endpoints, endpoints, extra)
}

/// Like [`mesh`], with `lb` picking first tries among `first` only while `failover` retries
/// among `all`: a test then knows where each try goes.
pub(super) fn split_mesh(first: &[SocketAddr], all: &[SocketAddr], extra: Value) -> MeshConfig {
    let list = |endpoints: &[SocketAddr]| -> Vec<Value> {
        endpoints
            .iter()
            .map(|a| json!({ "address": a.to_string() }))
            .collect()
    };
    chain(
        merged(
            json!({ "service": "web", "cluster": "dynamic", "endpoints": list(all) }),
            extra,
        ),
        json!({ "service": "web", "policy": "round_robin", "endpoints": list(first) }),
    )
}

/// One worker, listener `main` → `failover` (configured `failover`) → `lb` (configured `lb`)
/// → cluster `dynamic` (`original_dst` on the pick header), both plugins in VM id `mesh` so
/// they share the health document, and both given `response_header: x-wasmesh-endpoint` (lb
/// echoes its pick there, failover reads it back and names a retry's endpoint in it). The
/// chain of every failover and priority scenario.
pub fn chain(failover: Value, lb: Value) -> MeshConfig {
    let filters = build_filters();
    let echo = json!({ "response_header": ECHO_HEADER });
    MeshConfig::new()
        .workers(1)
        .plugin(
            Plugin::new("failover", &filters.failover)
                .vm_id("mesh")
                .configuration(merged(failover, echo.clone())),
        )
        .plugin(
            Plugin::new("lb", &filters.lb)
                .vm_id("mesh")
                .configuration(merged(lb, echo)),
        )
        .cluster(Cluster::original_dst("dynamic", PICK_HEADER))
        .listener(
            Listener::new("main")
                .filter("failover")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        )
}

/// `base` with the fields of `extra` (both JSON objects) added or replaced.
pub fn merged(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(into), Value::Object(extra)) = (&mut base, extra) {
        into.extend(extra);
    }
    base
}
