//! Singleton plugins (issue 18): a plugin outside every listener runs once in the process, as
//! Envoy's `envoy.bootstrap.wasm` with `singleton: true` does, and its root context's ticks and
//! http calls and queue callbacks run. The abi-test guest's singleton root (root id
//! `abi-singleton`) counts its ticks, its calls' `200` answers and the items it dequeues in
//! shared data; the same module as a filter in the listener, with the same VM id, copies the
//! counters into response headers and enqueues one item per request (case `singleton`). A
//! singleton that traps on every tick shows how each host treats a failed singleton.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use super::abi::{BACKEND, CALL_CLUSTER, ROOT_ID, VM_ID};
use crate::{
    build_filters, client, poll_until, wat, Backend, BackendHandle, Cluster, Listener, MeshConfig,
    Plugin, Proxy, ProxyKind, Route,
};

/// The singleton plugin's name.
pub const SINGLETON: &str = "ticker";
/// The root id the guest runs as a singleton with.
pub const SINGLETON_ROOT_ID: &str = "abi-singleton";
/// The guest's tick period as a singleton.
pub const TICK: Duration = Duration::from_millis(100);
/// How long the first tick, call and growth may take.
const DEADLINE: Duration = Duration::from_secs(5);
/// Window over which the tick rate is measured.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// What the singleton counted, as the filter reports it in its response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Ticks the singleton saw.
    pub ticks: u64,
    /// Its http calls answered `200`.
    pub calls: u64,
    /// Items it dequeued (one per earlier `singleton` request).
    pub queued: u64,
}

/// The setup: filter `abi` on listener `main`, singleton [`SINGLETON`] in no listener, both the
/// abi-test module with one VM id; two workers, so a singleton run per worker would tick twice
/// as often.
pub fn config(backend: &BackendHandle) -> MeshConfig {
    let module = &build_filters().abi_test;
    MeshConfig::new()
        .workers(2)
        .plugin(Plugin::new("abi", module).root_id(ROOT_ID).vm_id(VM_ID))
        .plugin(
            Plugin::new(SINGLETON, module)
                .root_id(SINGLETON_ROOT_ID)
                .vm_id(VM_ID)
                .configuration(json!(CALL_CLUSTER))
                .singleton(),
        )
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .cluster(Cluster::fixed(CALL_CLUSTER, [backend.addr]))
        .listener(
            Listener::new("main")
                .filter("abi")
                .route(Route::prefix("/", "backend")),
        )
}

/// The counters, read through the filter's `x-abi-singleton-*` response headers.
pub fn counts(proxy: &Proxy) -> Counts {
    let url = proxy.url("main", "/");
    let response = client::get(&url, &[("x-abi-case", "singleton")]);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["enqueue"], "Ok", "{}", response.text());
    let read = |name: &str| -> u64 {
        let value = response.header(name);
        value
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name}: {value:?}"))
    };
    Counts {
        ticks: read("x-abi-singleton-ticks"),
        calls: read("x-abi-singleton-calls"),
        queued: read("x-abi-singleton-queued"),
    }
}

/// Waits until every counter is past `after` (each read enqueues one more item).
pub fn grown_past(proxy: &Proxy, after: Counts) -> Counts {
    poll_until(
        "the singleton's ticks, calls and dequeued items",
        DEADLINE,
        || {
            let now = counts(proxy);
            if now.ticks > after.ticks && now.calls > after.calls && now.queued > after.queued {
                Ok(now)
            } else {
                Err(format!("{now:?}, waiting for more than {after:?}"))
            }
        },
    )
}

/// Ticks over [`RATE_WINDOW`] are at most one VM's: a tick loop delays missed ticks, never
/// bunches them, so two VMs (one per worker) would show about twice this bound.
pub fn assert_one_ticker(proxy: &Proxy, host: &str) {
    let (before, start) = (counts(proxy), Instant::now());
    thread::sleep(RATE_WINDOW);
    let after = counts(proxy);
    let bound = (start.elapsed().as_millis() / TICK.as_millis()) as u64 + 2;
    let ticks = after.ticks - before.ticks;
    assert!(
        ticks <= bound,
        "{host}: {ticks} ticks in {:?}, one ticker makes at most {bound}",
        start.elapsed()
    );
}

/// The singleton ticks, calls and dequeues from the start, once in the process, and a filter sees what
/// it wrote; the calls reached the backend.
pub fn feeds_filters(kind: ProxyKind) {
    let backend = Backend::start(BACKEND);
    let proxy = kind.start(&config(&backend));
    let zero = Counts {
        ticks: 0,
        calls: 0,
        queued: 0,
    };
    let first = grown_past(&proxy, zero);
    grown_past(&proxy, first);
    assert_one_ticker(&proxy, kind.name());
    assert!(
        backend.requests_seen() > 0,
        "{}: no call reached the backend",
        kind.name()
    );
}

/// A singleton whose every tick traps (`tests/guests/wat/tick-trap.wat`); the listener serves
/// on in both hosts. Envoy logs the trap once and never runs that singleton again; wasmesh
/// counts each failure and rebuilds the VM with a filter VM's backoff, so it ticks (and traps)
/// again.
pub fn trap_on_tick(kind: ProxyKind) {
    let backend = Backend::start(BACKEND);
    let mesh = MeshConfig::new()
        .plugin(Plugin::new("trap", &wat::module("tick-trap")).singleton())
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .listener(Listener::new("main").route(Route::prefix("/", "backend")));
    let proxy = kind.start(&mesh);
    proxy.expect_vm_failures();
    match kind {
        ProxyKind::Wasmesh => poll_until("two failures and a rebuild", DEADLINE, || {
            let failures = admin_counter(&proxy, "wasmesh_vm_failures_total");
            let rebuilds = admin_counter(&proxy, "wasmesh_vm_rebuilds_total");
            if failures >= 2 && rebuilds >= 1 {
                Ok(())
            } else {
                Err(format!("{failures} failures, {rebuilds} rebuilds"))
            }
        }),
        ProxyKind::Envoy => {
            poll_until("the first trap", DEADLINE, || match tick_traps(&proxy) {
                0 => Err("no trap logged yet".to_string()),
                _ => Ok(()),
            });
            // Ten tick periods: a singleton that ran again would have trapped again.
            thread::sleep(RATE_WINDOW);
            assert_eq!(tick_traps(&proxy), 1, "envoy: {}", proxy.logs());
        }
    }
    let status = client::get(&proxy.url("main", "/"), &[]).status;
    assert_eq!(status, 200, "{}: the listener serves", kind.name());
}

/// Envoy's log lines for a trap in `proxy_on_tick` (V8 through `wasm_vm.cc`).
fn tick_traps(proxy: &Proxy) -> usize {
    let logs = proxy.logs();
    logs.lines()
        .filter(|l| l.contains("wasm_vm.cc") && l.contains("proxy_on_tick failed"))
        .count()
}

/// One of wasmesh's own counters from `/metrics`.
fn admin_counter(proxy: &Proxy, name: &str) -> u64 {
    let text = proxy.admin_get("/metrics").text();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}
