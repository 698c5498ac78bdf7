//! Singleton plugins, what only wasmesh shows (the differential part is `singleton.rs`):
//! `/config` lists them, a reload replaces the singleton with the new generation's (one ticker
//! still), and a singleton's VM failures are counted and its VM rebuilt although no stream
//! ever uses it.

use std::time::Duration;

use wasmesh_tests::scenarios::reload::rewrite_config;
use wasmesh_tests::scenarios::singleton::{assert_one_ticker, config, grown_past, Counts};
use wasmesh_tests::{poll_until, wat, Backend, Cluster, Listener, MeshConfig, Plugin, Proxy};
use wasmesh_tests::{ProxyKind, Route};

/// How long a reload and a rebuild may take.
const DEADLINE: Duration = Duration::from_secs(5);

#[test]
fn config_lists_the_singleton_and_a_reload_keeps_one_running() {
    let backend = Backend::start("b1");
    let mesh = config(&backend);
    let proxy = ProxyKind::Wasmesh.start(&mesh);
    let shown = proxy.admin_get("/config").json();
    assert_eq!(
        shown["singletons"],
        serde_json::json!(["ticker"]),
        "{shown}"
    );
    let zero = Counts {
        ticks: 0,
        calls: 0,
        queued: 0,
    };
    let before = grown_past(&proxy, zero);
    // The same file again is a new generation, with a new singleton VM.
    rewrite_config(&proxy, &mesh.to_wasmesh_json());
    poll_until("generation 2", DEADLINE, || {
        let shown = proxy.admin_get("/config").json();
        match shown["generation"].as_u64() {
            Some(2) => Ok(()),
            other => Err(format!("generation {other:?}: {shown}")),
        }
    });
    grown_past(&proxy, before);
    assert_one_ticker(&proxy, "wasmesh after a reload");
}

#[test]
fn a_failing_singleton_is_counted_and_rebuilt() {
    let backend = Backend::start("b1");
    let mesh = MeshConfig::new()
        .plugin(Plugin::new("trap", &wat::module("tick-trap")).singleton())
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    let proxy = ProxyKind::Wasmesh.start(&mesh);
    proxy.expect_vm_failures();
    // Two failures need a rebuild in between: the first VM is gone after its trap.
    poll_until("two failures and a rebuild", DEADLINE, || {
        let (failures, rebuilds) = (
            counter(&proxy, "wasmesh_vm_failures_total"),
            counter(&proxy, "wasmesh_vm_rebuilds_total"),
        );
        if failures >= 2 && rebuilds >= 1 {
            Ok(())
        } else {
            Err(format!("{failures} failures, {rebuilds} rebuilds"))
        }
    });
    let status = wasmesh_tests::client::get(&proxy.url("main", "/"), &[]).status;
    assert_eq!(status, 200, "the listener serves while the singleton fails");
}

/// A counter of wasmesh's own from `/metrics`.
fn counter(proxy: &Proxy, name: &str) -> u64 {
    let text = proxy.admin_get("/metrics").text();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}
