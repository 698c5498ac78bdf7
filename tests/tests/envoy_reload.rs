//! Issue 7's hot swap in real Envoy: the same swaps as `wasmesh_reload.rs` (two modules, two
//! configurations each, under 64 connections), done the way `envoy-configs/hot-swap/` shows,
//! through ECDS from a watched file: the listener never changes, each swap renames a new
//! `TypedExtensionConfig` over the file the `swapped` filter's `config_discovery` reads.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasmesh_tests::scenarios::reload::{
    replace_file, start_load, swap_timings, swapped_filter, SwapModules, SwappedFilter,
};
use wasmesh_tests::{build_filters, poll_until, Backend, Envoy, Proxy};

/// Swaps in one run, alternating two modules and two configurations of each.
const SWAPS: usize = 10;
/// Time each version serves before the next swap.
const SWAP_EVERY: Duration = Duration::from_millis(1500);
/// The bound: responses show the new version within this of the file's rename. Envoy
/// meets it only when it compiles nothing (the kept-alive variant).
const SWITCH_WITHIN: Duration = Duration::from_secs(1);
/// Envoy's switch when the swap needs a new module compiled: it keeps serving the old version
/// until its main thread has compiled the new one with V8's optimising compiler. Measured
/// 0.4-4.1 s on the 2-core CI machine (wasmesh: 0.2-0.6 s); the README's Envoy table says so.
/// This bound only catches a swap that never happens.
const COMPILING_SWITCH_WITHIN: Duration = Duration::from_secs(10);
/// Connections of the steady load.
const CONNECTIONS: usize = 64;
/// Time a version serves at least after Envoy accepted it, when accepting took longer than
/// [`SWAP_EVERY`].
const MIN_SERVE: Duration = Duration::from_millis(500);
/// Longest wait for Envoy to accept one ECDS update (it compiles the module first).
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Envoy workers, as wasmesh's in the same test.
const WORKERS: u32 = 2;
/// The watched ECDS file, relative to Envoy's working directory (its run directory).
const ECDS_FILE: &str = "ecds/swapped.json";
/// The ECDS subscription's stats, `<prefix>.update_success` and so on.
const ECDS_STATS: &str = "extension_config_discovery.http_filter.swapped";

/// Zero failed requests, but a switch that waits for Envoy to compile (see
/// [`COMPILING_SWITCH_WITHIN`]): the figures are printed for the README.
#[test]
fn swaps_under_load_fail_nothing_and_switch_once_compiled() {
    swaps_under_load(false);
}

/// The same with both modules' VMs kept alive by a second, idle listener: Envoy reuses a live VM
/// of the same `vm_id`, VM configuration and module, so a swap compiles nothing and only runs
/// the new plugin's `on_configure`. Shows that compiling is what the plain test waits for.
#[test]
fn swaps_with_modules_kept_alive_switch_within_a_second() {
    swaps_under_load(true);
}

/// Issue 7's swap test; `keep_alive` adds the listener that holds both modules' VMs.
fn swaps_under_load(keep_alive: bool) {
    let upstreams = [Backend::start("b1"), Backend::start("b2")];
    let addrs = [upstreams[0].addr, upstreams[1].addr];
    let filters = build_filters();
    let modules = SwapModules {
        headers: filters.headers.clone(),
        lb: filters.lb.clone(),
    };
    let first = swapped_filter(0, &modules, addrs);
    let proxy = Envoy::try_start_with_files(
        bootstrap(addrs[0], keep_alive.then_some(&modules)).to_string(),
        &[(ECDS_FILE, ecds_file(&first).as_bytes())],
        WORKERS,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let vms_before = stat(&proxy, "wasm.wasm_vm_count");
    let load = start_load(&proxy, CONNECTIONS);
    std::thread::sleep(SWAP_EVERY);
    let mut swaps = vec![(Instant::now(), first.marker.clone())];
    let mut accepted = Vec::new();
    for i in 1..=SWAPS {
        let next = swapped_filter(i, &modules, addrs);
        let at = Instant::now();
        replace_file(
            &proxy.run_dir().join(ECDS_FILE),
            ecds_file(&next).as_bytes(),
        );
        swaps.push((at, next.marker));
        // Envoy builds the new filter (V8 compiles the module) on its main thread before it
        // counts the update; waiting for that gives every version its turn even when
        // compiling takes longer than SWAP_EVERY.
        poll_until("the ECDS update accepted", ACCEPT_TIMEOUT, || {
            match stat(&proxy, &format!("{ECDS_STATS}.update_success")) {
                n if n > i as u64 => Ok(()),
                n => Err(format!("update_success {n}")),
            }
        });
        accepted.push(at.elapsed());
        std::thread::sleep(SWAP_EVERY.saturating_sub(at.elapsed()).max(MIN_SERVE));
    }
    let end = Instant::now();
    let report = load.stop();
    let outcomes = swap_timings(&report, &swaps[1..], end);
    eprintln!(
        "envoy: {} responses, {} failed, {SWAPS} swaps; per swap (marker: last older response \
         after the write / ECDS update accepted after): {:?}",
        report.ok.len(),
        report.failures.len(),
        outcomes
            .iter()
            .zip(&accepted)
            .map(|(o, accepted)| format!("{}: {:?} / {accepted:?}", o.marker, o.switch))
            .collect::<Vec<_>>()
    );
    assert!(
        report.failures.is_empty(),
        "{} failed requests during the swaps, e.g. {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(5)]
    );
    for outcome in &outcomes {
        assert!(
            outcome.served > 0,
            "no response of {} after its swap",
            outcome.marker
        );
    }
    // Every rename was one accepted update (the first is the file read at startup).
    assert_eq!(
        stat(&proxy, &format!("{ECDS_STATS}.update_success")),
        SWAPS as u64 + 1
    );
    assert_eq!(stat(&proxy, &format!("{ECDS_STATS}.update_rejected")), 0);
    // The replaced versions' VMs are gone once their last stream ended: as many as before.
    poll_until("old VMs released", Duration::from_secs(10), || {
        match stat(&proxy, "wasm.wasm_vm_count") {
            n if n == vms_before => Ok(()),
            n => Err(format!("{n} VMs, {vms_before} before the swaps")),
        }
    });
    let bound = if keep_alive {
        SWITCH_WITHIN
    } else {
        COMPILING_SWITCH_WITHIN
    };
    let late: Vec<String> = outcomes
        .iter()
        .zip(&accepted)
        .filter(|(o, _)| o.switch > bound)
        .map(|(o, accepted)| format!("{}: {:?} (accepted after {accepted:?})", o.marker, o.switch))
        .collect();
    assert!(
        late.is_empty(),
        "{} of {SWAPS} swaps switched later than {bound:?} after the write: {late:?}; \
         Envoy serves the old version until its main thread has built the new one",
        late.len()
    );
}

/// The ECDS resource file: a `DiscoveryResponse` holding the `swapped` filter's
/// `TypedExtensionConfig`, the Wasm filter as in `envoy-configs/hot-swap/versions/`.
fn ecds_file(filter: &SwappedFilter) -> String {
    let config = json!({
        "name": "swapped",
        "root_id": "",
        "fail_open": false,
        "vm_config": {
            "vm_id": "swapped",
            "runtime": "envoy.wasm.runtime.v8",
            "code": { "local": { "filename": filter.wasm } },
        },
        "configuration": {
            "@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": filter.configuration.to_string(),
        },
    });
    json!({
        "resources": [{
            "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
            "name": "swapped",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config": config,
            },
        }],
    })
    .to_string()
}

/// `envoy-configs/hot-swap/envoy.yaml` on ephemeral ports: one listener whose only wasm filter
/// comes from [`ECDS_FILE`], routing to the `original_dst` cluster when `lb` named an endpoint
/// and to `backend` otherwise.
fn bootstrap(backend: SocketAddr, keep_alive: Option<&SwapModules>) -> Value {
    let any_port =
        |ip: &str, port: u16| json!({ "socket_address": { "address": ip, "port_value": port } });
    let ecds_dir = ECDS_FILE.rsplit_once('/').map_or(".", |(dir, _)| dir);
    let routes = json!([
        {
            "match": { "prefix": "/", "headers": [{ "name": "x-envoy-original-dst-host", "present_match": true }] },
            "route": { "cluster": "dynamic", "timeout": "15s" },
        },
        { "match": { "prefix": "/" }, "route": { "cluster": "backend", "timeout": "15s" } },
    ]);
    let hcm = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "main",
        "codec_type": "AUTO",
        "route_config": { "name": "main", "virtual_hosts": [{ "name": "all", "domains": ["*"], "routes": routes }] },
        "http_filters": [
            {
                "name": "swapped",
                "config_discovery": {
                    "config_source": {
                        "resource_api_version": "V3",
                        "path_config_source": { "path": ECDS_FILE, "watched_directory": { "path": ecds_dir } },
                    },
                    "type_urls": ["type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"],
                },
            },
            {
                "name": "envoy.filters.http.router",
                "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
            },
        ],
    });
    let mut listeners = vec![json!({
        "name": "main",
        "address": any_port("127.0.0.1", 0),
        "filter_chains": [{ "filters": [{ "name": "envoy.filters.network.http_connection_manager", "typed_config": hcm }] }],
    })];
    if let Some(modules) = keep_alive {
        listeners.push(keep_alive_listener(modules, backend));
    }
    json!({
        "node": { "id": "envoy-reload", "cluster": "envoy-reload" },
        "admin": { "address": any_port("127.0.0.1", 0) },
        "static_resources": {
            "listeners": listeners,
            "clusters": [
                {
                    "name": "backend", "type": "STATIC", "lb_policy": "ROUND_ROBIN", "connect_timeout": "1s",
                    "load_assignment": { "cluster_name": "backend", "endpoints": [{ "lb_endpoints": [
                        { "endpoint": { "address": any_port(&backend.ip().to_string(), backend.port()) } },
                    ] }] },
                },
                {
                    "name": "dynamic", "type": "ORIGINAL_DST", "lb_policy": "CLUSTER_PROVIDED", "connect_timeout": "1s",
                    "original_dst_lb_config": { "use_http_header": true, "http_header_name": "x-envoy-original-dst-host" },
                },
            ],
        },
    })
}

/// A listener nobody calls whose static wasm filters load both modules under the swapped
/// filter's `vm_id` (and no VM configuration), so their VMs outlive every swap.
fn keep_alive_listener(modules: &SwapModules, backend: SocketAddr) -> Value {
    let wasm = |name: &str, module: &std::path::Path, configuration: Value| {
        json!({
            "name": "envoy.filters.http.wasm",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
                "config": {
                    "name": name,
                    "root_id": "",
                    "vm_config": {
                        "vm_id": "swapped",
                        "runtime": "envoy.wasm.runtime.v8",
                        "code": { "local": { "filename": module.display().to_string() } },
                    },
                    "configuration": {
                        "@type": "type.googleapis.com/google.protobuf.StringValue",
                        "value": configuration.to_string(),
                    },
                },
            },
        })
    };
    let lb = json!({ "service": "idle", "policy": "round_robin", "endpoints": [{ "address": backend.to_string() }] });
    json!({
        "name": "keep-alive",
        "address": { "socket_address": { "address": "127.0.0.1", "port_value": 0 } },
        "filter_chains": [{ "filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": "keep_alive",
                "route_config": { "name": "keep-alive", "virtual_hosts": [{ "name": "all", "domains": ["*"], "routes": [
                    { "match": { "prefix": "/" }, "route": { "cluster": "backend" } },
                ] }] },
                "http_filters": [
                    wasm("keep-headers", &modules.headers, json!({})),
                    wasm("keep-lb", &modules.lb, lb),
                    { "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
                ],
            },
        }] }],
    })
}

/// A counter or gauge from Envoy's admin `/stats` (exact name).
fn stat(proxy: &Proxy, name: &str) -> u64 {
    let text = proxy.admin_get(&format!("/stats?filter={name}")).text();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no stat {name} in /stats: {text}"))
}
