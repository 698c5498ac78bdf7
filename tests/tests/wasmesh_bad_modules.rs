//! Modules broken in ways the Rust SDK never produces (hand-written in `tests/guests/wat/`):
//! refused at load with a message that says what is wrong, or, for a callback answering a
//! status that does not exist, failed at run time like a trap: the request gets the plugin's
//! `fail_open` outcome, a counter names the plugin and the kind, and other listeners serve.

use serde_json::json;
use wasmesh_contract::exposition;
use wasmesh_tests::scenarios::config::check;
use wasmesh_tests::{build_filters, client, wat, Backend, Cluster, Listener, MeshConfig, Plugin};
use wasmesh_tests::{Route, Wasmesh};

fn single(module: &str) -> MeshConfig {
    let backend_addr = "127.0.0.1:9".parse().expect("an address");
    MeshConfig::single(
        vec![Plugin::new("broken", &wat::module(module))],
        [backend_addr],
    )
}

#[test]
fn a_module_without_an_allocator_is_refused() {
    check(&single("no-allocator").to_wasmesh_json()).assert_rejected(&[
        "broken",
        "proxy_on_memory_allocate",
        "malloc",
    ]);
}

#[test]
fn a_module_without_memory_is_refused() {
    check(&single("no-memory").to_wasmesh_json()).assert_rejected(&["broken", "memory"]);
}

#[test]
fn an_export_with_the_wrong_signature_is_refused() {
    check(&single("wrong-signature").to_wasmesh_json()).assert_rejected(&[
        "broken",
        "proxy_on_request_headers",
        "signature",
    ]);
}

#[test]
fn an_invalid_return_value_fails_the_vm_with_the_fail_open_outcome() {
    let backend = Backend::start("b1");
    let bad = wat::module("bad-return");
    let headers = Plugin::new("headers", &build_filters().headers)
        .configuration(json!({ "request": { "add": { "x-good": "yes" } } }));
    let listener = |name: &str, filter: &str| {
        Listener::new(name)
            .filter(filter)
            .route(Route::prefix("/", "backend"))
    };
    let config = MeshConfig::new()
        .plugin(Plugin::new("bad-open", &bad).fail_open(true))
        .plugin(Plugin::new("bad-closed", &bad).fail_open(false))
        .plugin(headers)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(listener("open", "bad-open"))
        .listener(listener("closed", "bad-closed"))
        .listener(listener("good", "headers"));
    let proxy = Wasmesh::start(config.to_wasmesh_json());
    proxy.expect_vm_failures();

    let open = client::get(&proxy.url("open", "/x"), &[]);
    assert_eq!(
        open.status,
        200,
        "fail_open passes the request on: {}",
        open.text()
    );
    assert_eq!(open.echo().backend, "b1");
    let closed = client::get(&proxy.url("closed", "/x"), &[]);
    assert_eq!(closed.status, 503, "{}", closed.text());
    assert!(closed.text().contains("bad-closed"), "{}", closed.text());
    let good = client::get(&proxy.url("good", "/x"), &[]);
    assert_eq!(good.echo().header("x-good"), Some("yes"));

    let logs = proxy.logs();
    assert!(
        logs.contains("proxy_on_request_headers returned 42"),
        "the log says what was wrong:\n{logs}"
    );
    let metrics = proxy.admin_get("/metrics").text();
    for plugin in ["bad-open", "bad-closed"] {
        let failures = exposition::value(
            &metrics,
            "wasmesh_vm_failures_by_kind_total",
            &[("plugin", plugin), ("kind", "invalid_return")],
        );
        assert_eq!(failures, Some(1.0), "{plugin}:\n{metrics}");
    }
}
