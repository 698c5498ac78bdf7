//! The dashboard's metrics in real expositions: wasmesh's and Envoy's, after traffic.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_contract::exposition;
use wasmesh_tests::{
    build_filters, client, poll_until, Backend, BackendHandle, Cluster, Listener, MeshConfig,
    Plugin, ProxyKind, Route,
};

use super::names::metric_names;
use super::{dashboard, queries};

/// The mesh the dashboard's tests run: listener `main` → metrics → lb (service `web`,
/// peak-EWMA over `backend`) and listener `none` → lb (service `nothing`, no endpoint).
pub fn dashboard_mesh(backend: &BackendHandle) -> MeshConfig {
    let filters = build_filters();
    let lb = |name: &str, config: Value| Plugin::new(name, &filters.lb).configuration(config);
    MeshConfig::new()
        .workers(1)
        .plugin(Plugin::new("metrics", &filters.metrics).configuration(json!({})))
        .plugin(lb(
            "lb",
            json!({ "service": "web", "policy": "peak_ewma",
            "endpoints": [{ "address": backend.addr.to_string() }] }),
        ))
        .plugin(lb(
            "lb-none",
            json!({ "service": "nothing", "policy": "round_robin" }),
        ))
        .cluster(Cluster::original_dst(
            "dynamic",
            "x-envoy-original-dst-host",
        ))
        .listener(
            Listener::new("main")
                .filter("metrics")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        )
        .listener(
            Listener::new("none")
                .filter("lb-none")
                .route(Route::prefix("/", "dynamic")),
        )
}

/// [`dashboard_mesh`] with traffic through both listeners; then every metric the dashboard
/// queries is in its `/stats/prometheus` — for Envoy all but wasmesh's own, which must be absent
/// there.
fn dashboard_metrics_are_exposed(kind: ProxyKind) {
    let backend = Backend::start("b1");
    let config = dashboard_mesh(&backend);
    let proxy = kind.start(&config);
    assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
    assert_eq!(
        client::get(&proxy.url("main", "/status/503"), &[]).status,
        503
    );
    assert_eq!(client::get(&proxy.url("none", "/"), &[]).status, 503);
    let (exprs, variables) = queries(&dashboard());
    let queried: BTreeSet<String> = exprs
        .iter()
        .chain(&variables)
        .flat_map(|e| metric_names(e))
        .collect();
    // Envoy publishes histograms at its stats flush (1 s in the rig): poll.
    poll_until("the dashboard's metrics", Duration::from_secs(10), || {
        let text = proxy.admin_get("/stats/prometheus").text();
        let exposed: BTreeSet<String> = exposition::samples(&text)
            .into_iter()
            .map(|s| s.name)
            .collect();
        let wrong: Vec<String> = queried
            .iter()
            .filter_map(|name| {
                let absent = kind == ProxyKind::Envoy && name.starts_with("wasmesh_");
                (exposed.contains(name) == absent)
                    .then(|| format!("{name}: exposed = {absent}, expected the opposite"))
            })
            .collect();
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: {}\n{text}", kind.name(), wrong.join("; ")))
        }
    });
}

wasmesh_tests::in_both_hosts!(dashboard_metrics_are_exposed);
