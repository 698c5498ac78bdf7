//! Singleton plugins, what only wasmesh shows (the differential part is `singleton.rs`):
//! `/config` lists them, and a reload replaces the singleton with the new generation's (one
//! ticker still, and the counters it keeps in shared data go on).

use std::time::Duration;

use wasmesh_tests::scenarios::reload::rewrite_config;
use wasmesh_tests::scenarios::singleton::{assert_one_ticker, config, grown_past, Counts};
use wasmesh_tests::{poll_until, Backend, ProxyKind};

/// How long a reload may take.
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
