//! The `metrics` filter through wasmesh: the same scenarios as
//! `envoy_metrics.rs`.

use wasmesh_tests::scenarios::metrics;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn traffic_mix_is_counted_exactly() {
    metrics::traffic_mix_is_counted_exactly(Wasmesh);
}

#[test]
fn counts_from_every_worker_add_up() {
    metrics::counts_from_every_worker_add_up(Wasmesh);
}

/// wasmesh only: its reload replaces the VMs of a plugin whose configuration changed.
#[test]
fn counts_outlive_the_vms_a_reload_replaces() {
    metrics::counts_outlive_the_vms_a_reload_replaces();
}

#[test]
fn promtool_accepts_the_exposition() {
    metrics::promtool_accepts_the_exposition(Wasmesh);
}

#[test]
fn distinct_paths_and_hosts_stay_capped() {
    metrics::distinct_paths_and_hosts_stay_capped(Wasmesh);
}

#[test]
fn traceparent_is_continued_with_a_new_span() {
    metrics::traceparent_is_continued_with_a_new_span(Wasmesh);
}

#[test]
fn traceparent_is_started_when_absent_or_invalid() {
    metrics::traceparent_is_started_when_absent_or_invalid(Wasmesh);
}

#[test]
fn access_log_line_names_the_request() {
    metrics::access_log_line_names_the_request(Wasmesh);
}

#[test]
fn refused_upstream_is_a_503_failure() {
    metrics::refused_upstream_is_a_503_failure(Wasmesh);
}

#[test]
fn upstream_closing_mid_request_is_a_failure() {
    metrics::upstream_closing_mid_request_is_a_failure(Wasmesh);
}

#[test]
fn aborted_request_is_status_0_failure() {
    metrics::aborted_request_is_status_0_failure(Wasmesh);
}

#[test]
fn bad_config_is_refused_naming_the_field() {
    metrics::bad_config_is_refused_naming_the_field(Wasmesh);
}

#[test]
fn lb_publishes_the_ewma_estimate() {
    metrics::lb_publishes_the_ewma_estimate(Wasmesh);
}

/// What each plugin costs (wasmesh only: Envoy has no per-plugin time or memory): every
/// callback's time in `wasmesh_plugin_callback_seconds{plugin,callback}`, one count per call,
/// and the linear memory of the plugin's VMs in `wasmesh_plugin_memory_bytes{plugin}`.
#[test]
fn plugin_costs_are_exposed() {
    use std::time::Duration;
    use wasmesh_tests::{
        build_filters, client, poll_until, Backend, Cluster, Listener, MeshConfig, Plugin, Route,
    };
    let filters = build_filters();
    let backend = Backend::start("b1");
    let config = MeshConfig::new()
        .workers(1)
        .plugin(Plugin::new("metrics", &filters.metrics).configuration(serde_json::json!({})))
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(
            Listener::new("main")
                .filter("metrics")
                .route(Route::prefix("/", "backend")),
        );
    let proxy = Wasmesh.start(&config);
    for _ in 0..5 {
        assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
    }
    let count = |callback: &str| {
        format!(
            "wasmesh_plugin_callback_seconds_count{{plugin=\"metrics\",callback=\"{callback}\"}} 5"
        )
    };
    let text = poll_until(
        "every stream's on_log counted",
        Duration::from_secs(5),
        || {
            let text = proxy.admin_get("/metrics").text();
            let wanted = [count("proxy_on_request_headers"), count("proxy_on_log")];
            match wanted
                .iter()
                .find(|line| !text.lines().any(|l| l == line.as_str()))
            {
                None => Ok(text),
                Some(missing) => Err(format!("no `{missing}` in\n{text}")),
            }
        },
    );
    let memory: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("wasmesh_plugin_memory_bytes{plugin=\"metrics\"} "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no memory gauge for the plugin in\n{text}"));
    assert!(
        memory > 0 && memory.is_multiple_of(65536),
        "{memory} bytes: whole wasm pages expected"
    );
}
