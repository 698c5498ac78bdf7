//! Plain proxying through wasmesh: the same scenarios as `envoy_proxying.rs`, plus the
//! compiled-module cache, which only wasmesh has.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::json;
use wasmesh_tests::scenarios::{proxying, upstream_pool};
use wasmesh_tests::ProxyKind::Wasmesh;
use wasmesh_tests::{build_filters, client, target_dir, Backend, MeshConfig, Plugin};

#[test]
fn routes_pick_clusters() {
    proxying::routes_pick_clusters(Wasmesh);
}

#[test]
fn original_dst_follows_the_filter() {
    proxying::original_dst_follows_the_filter(Wasmesh);
}

#[test]
fn upstream_h2c() {
    proxying::upstream_h2c(Wasmesh);
}

#[test]
fn streamed_response() {
    proxying::streamed_response(Wasmesh);
}

#[test]
fn large_request_body() {
    proxying::large_request_body(Wasmesh);
}

#[test]
fn large_response_body() {
    proxying::large_response_body(Wasmesh);
}

#[test]
fn route_timeout() {
    proxying::route_timeout(Wasmesh);
}

#[test]
fn connection_refused() {
    proxying::connection_refused(Wasmesh);
}

#[test]
fn keep_alive() {
    proxying::keep_alive(Wasmesh);
}

#[test]
fn hop_by_hop_headers_stay_behind() {
    proxying::hop_by_hop_headers_stay_behind(Wasmesh);
}

#[test]
fn x_forwarded_for() {
    proxying::x_forwarded_for(Wasmesh);
}

/// The `.cwasm` files in `dir`, with their modification times.
fn cached_modules(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut found: Vec<_> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
                .map(|p| {
                    let modified = fs::metadata(&p).and_then(|m| m.modified());
                    (p, modified.expect("a cached module's mtime"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// With `WASMESH_CACHE_DIR` set, the first start leaves the compiled module there, and a second
/// start with the same directory uses it (the file is not rewritten) and serves as before. A
/// third start after someone changed the cached file refuses it (its MAC no longer matches),
/// counts it, compiles the module again and serves as before.
#[test]
fn module_cache_survives_a_restart() {
    let filters = build_filters();
    let backend = Backend::start("b1");
    let cache = target_dir()
        .join("e2e")
        .join(format!("module-cache-{}", std::process::id()));
    let _ = fs::remove_dir_all(&cache);
    let plugin = Plugin::new("headers", &filters.headers)
        .configuration(json!({ "request": { "set": { "x-cached": "yes" } } }));
    let config = MeshConfig::single(vec![plugin], [backend.addr]).to_wasmesh_json();
    let env = [("WASMESH_CACHE_DIR", cache.as_os_str())];

    let serve_once = |round: &str| {
        let proxy = wasmesh_tests::Wasmesh::try_start_with_env(config.clone(), &env)
            .unwrap_or_else(|e| panic!("{round} start: {e}"));
        let response = client::get(&proxy.url("main", "/cached"), &[]);
        assert_eq!(response.status, 200, "{round}: {}", response.text());
        assert_eq!(response.echo().header("x-cached"), Some("yes"), "{round}");
        let metrics = proxy.admin_get("/metrics").text();
        let rejected = metrics
            .lines()
            .find_map(|l| l.strip_prefix("wasmesh_module_cache_rejected_total "))
            .map(|v| v.trim().to_string());
        (proxy.logs(), rejected)
    };

    serve_once("first");
    let first = cached_modules(&cache);
    assert_eq!(
        first.len(),
        1,
        "one .cwasm expected in {}: {first:?}",
        cache.display()
    );

    let (logs, rejected) = serve_once("second");
    let second = cached_modules(&cache);
    assert_eq!(
        second, first,
        "the second start must reuse the cached module as is"
    );
    assert!(
        !logs.contains("ignoring unusable module cache") && !logs.contains("not loading"),
        "the cache was refused:\n{logs}"
    );
    assert_eq!(rejected.as_deref(), Some("0"));

    // Someone with write access changes the compiled code.
    let file = first[0].0.clone();
    let mut bytes = fs::read(&file).expect("reading the cached module");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&file, &bytes).expect("changing the cached module");
    let (logs, rejected) = serve_once("third");
    assert!(
        logs.contains("its MAC does not match"),
        "the changed file was not refused:\n{logs}"
    );
    assert_eq!(rejected.as_deref(), Some("1"));
    assert_ne!(
        fs::read(&file).expect("the rewritten module"),
        bytes,
        "rewritten"
    );
    let _ = fs::remove_dir_all(&cache);
}

#[test]
fn client_cannot_choose_the_upstream() {
    proxying::client_cannot_choose_the_upstream(Wasmesh);
}

#[test]
fn upstream_connections_are_used_again() {
    upstream_pool::upstream_connections_are_used_again(Wasmesh);
}

#[test]
fn a_connection_the_backend_closed_is_not_used() {
    upstream_pool::a_connection_the_backend_closed_is_not_used(Wasmesh);
}
