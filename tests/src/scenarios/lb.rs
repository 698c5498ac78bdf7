//! The `lb` filter (`filters/lb`): it picks each request's endpoint and names it in
//! `x-envoy-original-dst-host`; an `original_dst` cluster (Envoy: `ORIGINAL_DST` with
//! `use_http_header`) connects there. Three real backends `b1..b3` answer with an echo naming
//! themselves, so a test counts where the requests went.
//!
//! One worker everywhere: the balancer is per worker (as Envoy's), so exact shares are only
//! promised per worker.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    build_filters, poll_until, Backend, BackendHandle, Cluster, Listener, MeshConfig, Plugin,
    Proxy, ProxyKind, Route, SlowRelay,
};
use wasmesh_contract::exposition as prometheus;

use crate::client;

/// The header the filter writes and the cluster reads (the filter's default).
const PICK_HEADER: &str = "x-envoy-original-dst-host";
/// The response header the scenarios ask the filter to echo its pick in.
const ECHO_HEADER: &str = "x-wasmesh-endpoint";

/// Three backends and a proxy whose `lb` plugin has `config` (service `web`).
struct Rig {
    proxy: Proxy,
    backends: Vec<BackendHandle>,
}

/// Backends `b1`, `b2`, `b3`.
pub fn backends() -> Vec<BackendHandle> {
    ["b1", "b2", "b3"].into_iter().map(Backend::start).collect()
}

/// The endpoint list for `addrs` with `weights` (1 each when empty).
fn endpoints(addrs: &[SocketAddr], weights: &[u32]) -> Value {
    let list: Vec<Value> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| json!({ "address": a.to_string(), "weight": weights.get(i).copied().unwrap_or(1) }))
        .collect();
    Value::Array(list)
}

/// A mesh with listener `main` → plugin `lb` (configured with `config`) → `original_dst`.
fn mesh(config: Value) -> MeshConfig {
    mesh_with(&build_filters().lb, config)
}

/// [`mesh`] with the `lb` module at `wasm` (the benchmark runs a snapshot of it): one worker,
/// listener `main` → `lb` → cluster `dynamic` (`original_dst` on `x-envoy-original-dst-host`).
pub fn mesh_with(wasm: &std::path::Path, config: Value) -> MeshConfig {
    let plugin = Plugin::new("lb", wasm).configuration(config);
    MeshConfig::new()
        .workers(1)
        .plugin(plugin)
        .cluster(Cluster::original_dst("dynamic", PICK_HEADER))
        .listener(
            Listener::new("main")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        )
}

impl Rig {
    /// Starts `b1..b3` and a proxy balancing over them by `policy` (`extra` merged into the
    /// configuration; `weights` as in [`endpoints`]).
    fn start(kind: ProxyKind, policy: &str, weights: &[u32], extra: Value) -> Self {
        let backends = backends();
        let addrs: Vec<SocketAddr> = backends.iter().map(|b| b.addr).collect();
        let mut config = json!({
            "service": "web",
            "policy": policy,
            "endpoints": endpoints(&addrs, weights),
            "response_header": ECHO_HEADER,
        });
        merge(&mut config, extra);
        let proxy = kind.start(&mesh(config));
        Self { proxy, backends }
    }

    /// Sends `n` GETs (with `headers(i)`), checks each answer, and counts answers per backend.
    fn tally(
        &self,
        n: usize,
        headers: impl Fn(usize) -> Vec<(String, String)>,
    ) -> BTreeMap<String, u32> {
        tally(&self.proxy, n, headers)
    }

    fn name_of(&self, addr: &str) -> Option<&str> {
        self.backends
            .iter()
            .find(|b| b.addr.to_string() == addr)
            .map(|b| b.name())
    }
}

/// Sends `n` GETs through `proxy` and counts the echoing backends; every answer must be 200.
pub fn tally(
    proxy: &Proxy,
    n: usize,
    headers: impl Fn(usize) -> Vec<(String, String)>,
) -> BTreeMap<String, u32> {
    let host = proxy.kind.name();
    let mut counts = BTreeMap::new();
    for i in 0..n {
        let owned = headers(i);
        let pairs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let response = client::get(&proxy.url("main", "/lb"), &pairs);
        assert_eq!(
            response.status,
            200,
            "{host}: request {i}: {}",
            response.text()
        );
        *counts.entry(response.echo().backend).or_insert(0) += 1;
    }
    counts
}

fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(extra)) = (into, extra) {
        into.extend(extra);
    }
}

fn none(_: usize) -> Vec<(String, String)> {
    Vec::new()
}

fn counts(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Round robin over three backends: 30 requests go exactly 10/10/10; the response header names
/// the endpoint that answered; each endpoint's request counter says 10.
pub fn round_robin_spreads_evenly(kind: ProxyKind) {
    let host = kind.name();
    let rig = Rig::start(kind, "round_robin", &[], json!({}));
    assert_eq!(
        rig.tally(30, none),
        counts(&[("b1", 10), ("b2", 10), ("b3", 10)]),
        "{host}"
    );
    let response = client::get(&rig.proxy.url("main", "/lb"), &[]);
    let echoed = response
        .header(ECHO_HEADER)
        .unwrap_or_else(|| panic!("{host}: no {ECHO_HEADER}: {:?}", response.headers));
    assert_eq!(
        rig.name_of(echoed),
        Some(response.echo().backend.as_str()),
        "{host}: {ECHO_HEADER} names the endpoint that answered"
    );
    for backend in &rig.backends {
        let endpoint = backend.addr.to_string();
        assert_metric(&rig.proxy, "lb_requests_total", &endpoint, 10..=11);
        assert_metric(&rig.proxy, "lb_in_flight", &endpoint, 0..=0);
    }
}

/// Polls the host's `/stats/prometheus` until the `lb` metric `name` of `endpoint` (service
/// `web`) is within `range`: the same labelled sample in both hosts.
fn assert_metric(proxy: &Proxy, name: &str, endpoint: &str, range: std::ops::RangeInclusive<u64>) {
    let host = proxy.kind.name();
    let labels = [("service", "web"), ("endpoint", endpoint)];
    poll_until(
        &format!("{host}: {name}{{endpoint=\"{endpoint}\"}}"),
        Duration::from_secs(5),
        || {
            let text = proxy.admin_get("/stats/prometheus").text();
            let value = prometheus::value(&text, name, &labels)
                .ok_or_else(|| format!("not in /stats/prometheus:\n{text}"))?;
            if range.contains(&(value as u64)) {
                Ok(())
            } else {
                Err(format!("value {value}, want {range:?}"))
            }
        },
    );
}

/// Smooth weighted round robin, weights 3:1:0: 40 requests go 30/10/0.
pub fn weighted_follows_weights(kind: ProxyKind) {
    let rig = Rig::start(kind, "weighted", &[3, 1, 0], json!({}));
    assert_eq!(
        rig.tally(40, none),
        counts(&[("b1", 30), ("b2", 10)]),
        "{}",
        kind.name()
    );
    assert_eq!(rig.backends[2].requests_seen(), 0, "{}", kind.name());
}

/// A hash policy keyed on `x-user`: each user always reaches the same backend, and 20 users
/// do not all land on one.
fn hash_policy_is_sticky(kind: ProxyKind, policy: &str) {
    let host = kind.name();
    let rig = Rig::start(
        kind,
        policy,
        &[],
        json!({ "hash_key": { "header": "x-user" } }),
    );
    let mut owner: BTreeMap<usize, String> = BTreeMap::new();
    for round in 0..3 {
        for user in 0..20 {
            let key = format!("user-{user}");
            let response = client::get(&rig.proxy.url("main", "/lb"), &[("x-user", key.as_str())]);
            assert_eq!(response.status, 200, "{host}: {}", response.text());
            let backend = response.echo().backend;
            let first = owner.entry(user).or_insert_with(|| backend.clone());
            assert_eq!(
                *first, backend,
                "{host} {policy}: {key} moved in round {round}"
            );
        }
    }
    let distinct: std::collections::BTreeSet<&String> = owner.values().collect();
    assert!(
        distinct.len() > 1,
        "{host} {policy}: every key on one backend: {owner:?}"
    );
}

/// `ring_hash` by header.
pub fn ring_hash_is_sticky(kind: ProxyKind) {
    hash_policy_is_sticky(kind, "ring_hash");
}

/// `maglev` by header.
pub fn maglev_is_sticky(kind: ProxyKind) {
    hash_policy_is_sticky(kind, "maglev");
}

/// `maglev` keyed on a cookie: the same session always reaches the same backend.
pub fn maglev_by_cookie_is_sticky(kind: ProxyKind) {
    let host = kind.name();
    let rig = Rig::start(
        kind,
        "maglev",
        &[],
        json!({ "hash_key": { "cookie": "session" } }),
    );
    for session in ["s1", "s2", "s3"] {
        let cookie = format!("theme=dark; session={session}");
        let seen = rig.tally(5, |_| vec![("cookie".to_string(), cookie.clone())]);
        assert_eq!(seen.len(), 1, "{host}: session {session} went to {seen:?}");
    }
}

/// `random` and `least_request` (sequential requests: every in-flight count is 0, so P2C
/// breaks ties at random) reach every backend in 60 requests.
pub fn randomised_policies_reach_every_backend(kind: ProxyKind) {
    for policy in ["random", "least_request"] {
        let rig = Rig::start(kind, policy, &[], json!({}));
        let seen = rig.tally(60, none);
        assert_eq!(seen.len(), 3, "{} {policy}: {seen:?}", kind.name());
    }
}

/// Added latency of the slow endpoint: the benchmark's +40 ms, with margin.
const SLOW_MS: u64 = 50;

/// `peak_ewma` with `b3` behind a relay that holds every request [`SLOW_MS`] before passing it
/// on: after at most a sample or two, the slow endpoint is avoided (its peak estimate stays
/// above the fast ones' for ~27 s with the default 10 s decay), so of 30 requests it gets at
/// most 3. The control: round robin over the very same endpoints gives it its 10.
pub fn peak_ewma_avoids_a_slow_endpoint(kind: ProxyKind) {
    let host = kind.name();
    let backends = backends();
    let slow = SlowRelay::start(backends[2].addr, Duration::from_millis(SLOW_MS));
    let addrs = [backends[0].addr, backends[1].addr, slow.addr];
    let share = |policy: &str| {
        let config =
            json!({ "service": "web", "policy": policy, "endpoints": endpoints(&addrs, &[]) });
        let proxy = kind.start(&mesh(config));
        let seen = tally(&proxy, 30, none);
        assert_eq!(seen.values().sum::<u32>(), 30, "{host}");
        (seen.get("b3").copied().unwrap_or(0), seen)
    };
    let (control, seen) = share("round_robin");
    assert_eq!(control, 10, "{host}: round robin control: {seen:?}");
    let (to_slow, seen) = share("peak_ewma");
    assert!(
        to_slow <= 3,
        "{host}: the slow endpoint got {to_slow} of 30: {seen:?}"
    );
}

/// A client's own `x-envoy-original-dst-host` never decides: the filter overwrites it, so a
/// fourth backend the client names sees nothing, and the upstream never sees the client's value.
pub fn client_pick_header_is_overwritten(kind: ProxyKind) {
    let host = kind.name();
    let rig = Rig::start(kind, "round_robin", &[], json!({}));
    let outsider = Backend::start("b4");
    let spoofed = outsider.addr.to_string();
    for _ in 0..6 {
        let response = client::get(
            &rig.proxy.url("main", "/lb"),
            &[(PICK_HEADER, spoofed.as_str())],
        );
        assert_eq!(response.status, 200, "{host}: {}", response.text());
        let echo = response.echo();
        assert_ne!(echo.backend, "b4", "{host}");
        // wasmesh strips the header before forwarding; Envoy forwards the filter's value.
        assert_ne!(echo.header(PICK_HEADER), Some(spoofed.as_str()), "{host}");
    }
    assert_eq!(
        outsider.requests_seen(),
        0,
        "{host}: the client's pick was used"
    );
}

/// An endpoint that refuses connections: the router's 503 passes the filter's response
/// callback as a failure, and the stream's end releases it, so the in-flight gauge returns to 0.
pub fn refused_endpoint_is_a_released_failure(kind: ProxyKind) {
    let host = kind.name();
    let dead = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a port to free");
        listener.local_addr().expect("its address")
    };
    let config = json!({ "service": "web", "policy": "least_request", "endpoints": endpoints(&[dead], &[]) });
    let proxy = kind.start(&mesh(config));
    for _ in 0..2 {
        let response = client::get(&proxy.url("main", "/lb"), &[]);
        assert_eq!(response.status, 503, "{host}: {}", response.text());
    }
    let endpoint = dead.to_string();
    assert_metric(&proxy, "lb_failures_total", &endpoint, 2..=2);
    assert_metric(&proxy, "lb_in_flight", &endpoint, 0..=0);
}

/// An empty static list is a configuration error: `on_configure` fails with a line naming
/// `endpoints`, and the host refuses to start.
pub fn empty_endpoint_list_is_refused(kind: ProxyKind) {
    let config = mesh(json!({ "service": "web", "policy": "round_robin", "endpoints": [] }));
    match kind.try_start(&config) {
        Ok(proxy) => panic!(
            "{} started with an empty endpoint list:\n{}",
            kind.name(),
            proxy.logs()
        ),
        Err(logs) => assert!(
            logs.contains("endpoints: must not be empty"),
            "{}: the error should name the field:\n{logs}",
            kind.name()
        ),
    }
}

/// With no static list and nothing in shared data at `wasmesh.v1.endpoints.nothing`, there is
/// no endpoint to pick: a prompt 503 with a body naming the service, not a hang or a 404.
pub fn no_endpoint_is_a_503(kind: ProxyKind) {
    let host = kind.name();
    let proxy = kind.start(&mesh(
        json!({ "service": "nothing", "policy": "least_request" }),
    ));
    for _ in 0..2 {
        let response = client::get(&proxy.url("main", "/lb"), &[]);
        assert_eq!(response.status, 503, "{host}: {}", response.text());
        assert_eq!(
            response.text(),
            "no endpoint available for service nothing\n",
            "{host}"
        );
    }
}

/// The shared-data path: without a static list the filter reads
/// `wasmesh.v1.endpoints.<service>`. The ABI exerciser, sharing the VM id, writes a value there
/// that is not an endpoint set (its `shared-data` case leaves `v2`); the filter must read it,
/// find nothing usable and answer the 503, not fail or hang.
pub fn unreadable_shared_set_is_a_503(kind: ProxyKind) {
    let host = kind.name();
    let filters = build_filters();
    let abi = Plugin::new("abi", &filters.abi_test).vm_id("mesh");
    let lb = Plugin::new("lb", &filters.lb)
        .vm_id("mesh")
        .configuration(json!({ "service": "garbled", "policy": "round_robin" }));
    let config = MeshConfig::new()
        .workers(1)
        .plugin(abi)
        .plugin(lb)
        .cluster(Cluster::original_dst("dynamic", PICK_HEADER))
        .listener(
            Listener::new("main")
                .filter("abi")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        );
    let proxy = kind.start(&config);
    let url = proxy.url("main", "/lb");
    let write = client::get(
        &url,
        &[
            ("x-abi-case", "shared-data"),
            ("x-abi-key", "wasmesh.v1.endpoints.garbled"),
        ],
    );
    assert_eq!(write.status, 200, "{host}: {}", write.text());
    let response = client::get(&url, &[]);
    assert_eq!(response.status, 503, "{host}: {}", response.text());
    assert_eq!(
        response.text(),
        "no endpoint available for service garbled\n",
        "{host}"
    );
    poll_until(
        &format!("{host}: the filter logs the unreadable set"),
        Duration::from_secs(5),
        || {
            let logs = proxy.logs();
            if logs.contains("wasmesh.v1.endpoints.garbled: unreadable endpoint set") {
                Ok(())
            } else {
                Err("not logged yet".to_string())
            }
        },
    );
}

/// Two workers, each with its own VM and round-robin cursor, serving 120 requests from four
/// client threads: every backend still gets a third (each worker spreads its own share evenly),
/// and the per-endpoint counter, shared by the workers' VMs, counts exactly what each backend
/// served.
pub fn two_workers_balance_and_count_together(kind: ProxyKind) {
    let host = kind.name();
    let backends = backends();
    let addrs: Vec<SocketAddr> = backends.iter().map(|b| b.addr).collect();
    let config =
        json!({ "service": "web", "policy": "round_robin", "endpoints": endpoints(&addrs, &[]) });
    let proxy = kind.start(&mesh(config).workers(2));
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| tally(&proxy, 30, none)))
            .collect();
        for thread in threads {
            for (backend, n) in thread.join().expect("a client thread") {
                *counts.entry(backend).or_insert(0) += n;
            }
        }
    });
    assert_eq!(counts.values().sum::<u32>(), 120, "{host}: {counts:?}");
    for backend in &backends {
        let served = counts.get(backend.name()).copied().unwrap_or(0);
        assert!(
            (38..=42).contains(&served),
            "{host}: {} served {served} of 120: {counts:?}",
            backend.name()
        );
        let endpoint = backend.addr.to_string();
        let served = u64::from(served);
        assert_metric(&proxy, "lb_requests_total", &endpoint, served..=served);
        assert_metric(&proxy, "lb_in_flight", &endpoint, 0..=0);
    }
}
