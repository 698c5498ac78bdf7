//! The `discovery` filter (`filters/discovery`) feeding the `lb` filter through shared data:
//! both plugins share VM id `mesh`; `discovery` polls a registry (the cluster `registry`) and
//! writes `wasmesh.v1.endpoints.web`, `lb` (no static list, policy `weighted`) reads it and
//! names its pick in `x-wasmesh-endpoint`. Registries: a real etcd, and a stand-in HTTP server
//! answering in Consul's, Kubernetes' and the plain document's formats.
//!
//! How fast the balancer can follow is bounded by two periods: the poll interval and `lb`'s
//! own re-read of shared data (at most once a second while it has endpoints).

mod etcd;
pub(super) mod follow;
mod formats;
pub(crate) mod registry;
mod relay;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasmesh_contract::exposition as prometheus;

use self::etcd::Etcd;
use self::formats::Member;
use self::registry::{Mode, Registry};
use self::relay::Relay;
use crate::load::Load;
use crate::{
    build_filters, client, poll_until, Backend, Cluster, Listener, MeshConfig, Plugin, Proxy,
    ProxyKind, Route,
};

const PICK_HEADER: &str = "x-envoy-original-dst-host";
const ECHO_HEADER: &str = "x-wasmesh-endpoint";
/// The poll interval of every scenario.
const POLL_MS: u64 = 500;
/// `lb` re-reads the shared set at most this often while it has endpoints (filters/lb).
const LB_REFRESH: Duration = Duration::from_millis(100);
/// Connections of steady load while the registry changes.
const CONNECTIONS: usize = 16;

/// The longest a change may take to reach the balancer: a poll interval, `lb`'s re-read
/// period, and a second of slack for a loaded 2-core machine.
fn follow_bound() -> Duration {
    Duration::from_millis(POLL_MS) + LB_REFRESH + Duration::from_secs(1)
}

/// Listener `main` → `discovery` (configured with `source` for service `web`) → `lb` →
/// `original_dst`; cluster `registry` is `registry`.
fn start(kind: ProxyKind, registry: SocketAddr, source: Value) -> Proxy {
    start_polling(kind, registry, source, POLL_MS)
}

/// [`start`] with a poll interval of `poll_ms`.
fn start_polling(kind: ProxyKind, registry: SocketAddr, source: Value, poll_ms: u64) -> Proxy {
    let filters = build_filters();
    let discovery = Plugin::new("discovery", &filters.discovery)
        .vm_id("mesh")
        .configuration(json!({
            "poll_ms": poll_ms, "timeout_ms": 1000, "max_backoff_ms": 1000,
            "services": [{ "service": "web", "source": source }],
        }));
    let lb = Plugin::new("lb", &filters.lb).vm_id("mesh").configuration(
        json!({ "service": "web", "policy": "weighted", "response_header": ECHO_HEADER }),
    );
    let config = MeshConfig::new()
        .workers(1)
        .plugin(discovery)
        .plugin(lb)
        .cluster(Cluster::fixed("registry", [registry]))
        .cluster(Cluster::original_dst("dynamic", PICK_HEADER))
        .listener(
            Listener::new("main")
                .filter("discovery")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        );
    kind.start(&config)
}

use super::lb::backends;

/// `n` sequential GETs; every answer must be 200; counts per backend name.
fn tally(proxy: &Proxy, n: usize) -> BTreeMap<String, u32> {
    super::lb::tally(proxy, n, |_| Vec::new())
}

/// Waits until 20 sequential requests reach exactly the backends `names`.
pub(super) fn wait_for_set(proxy: &Proxy, names: &[&str], bound: Duration) {
    let want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    poll_until(
        &format!("{}: traffic on {names:?}", proxy.kind.name()),
        bound,
        || {
            let response = client::get(&proxy.url("main", "/d"), &[]);
            if response.status != 200 {
                return Err(format!("status {}: {}", response.status, response.text()));
            }
            let seen: Vec<String> = tally(proxy, 20).into_keys().collect();
            if seen == want {
                Ok(())
            } else {
                Err(format!("served by {seen:?}"))
            }
        },
    );
}

/// `discovery_stale{service="web"}` as both hosts expose it.
fn stale(proxy: &Proxy) -> Option<f64> {
    let text = proxy.admin_get("/stats/prometheus").text();
    prometheus::value(&text, "discovery_stale", &[("service", "web")])
}

/// Waits until `discovery_endpoints{service="web"}` (the size of the last good set) is `want`.
fn wait_endpoints(proxy: &Proxy, want: f64) {
    poll_until(
        &format!(
            "{}: discovery_endpoints{{service=\"web\"}} = {want}",
            proxy.kind.name()
        ),
        Duration::from_secs(10),
        || {
            let text = proxy.admin_get("/stats/prometheus").text();
            match prometheus::value(&text, "discovery_endpoints", &[("service", "web")]) {
                Some(v) if v == want => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
}

fn wait_stale(proxy: &Proxy, want: f64) {
    poll_until(
        &format!(
            "{}: discovery_stale{{service=\"web\"}} = {want}",
            proxy.kind.name()
        ),
        Duration::from_secs(10),
        || match stale(proxy) {
            Some(v) if v == want => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
}

/// Under 16 connections of load: b3 registered (it gets traffic), optionally b1 re-weighted to
/// 4 (it gets about 4/6), b2 removed while it stays up (its traffic drops to 0); each within
/// [`follow_bound`], with no failed request. `apply` makes the registry list `members`.
fn follows_changes(
    kind: ProxyKind,
    source: Value,
    registry: SocketAddr,
    apply: &dyn Fn(&[Member]),
    reweight: bool,
) {
    let host = kind.name();
    let b = backends();
    let (a1, a2, a3) = (b[0].addr, b[1].addr, b[2].addr);
    apply(&[(a1, 1), (a2, 1)]);
    let proxy = start(kind, registry, source);
    wait_for_set(&proxy, &["b1", "b2"], Duration::from_secs(10));
    let load = Load::start(proxy.listener("main"), "/d", ECHO_HEADER, CONNECTIONS);
    follow::wait_for_traffic(
        "baseline",
        &b[1],
        b[1].requests_seen(),
        Duration::from_secs(5),
    );

    let before = b[2].requests_seen();
    let added = Instant::now();
    apply(&[(a1, 1), (a2, 1), (a3, 1)]);
    follow::wait_for_traffic(
        &format!("{host}: b3 gets traffic"),
        &b[2],
        before,
        follow_bound() * 2,
    );

    let weight1 = if reweight { 4 } else { 1 };
    let reweighted = Instant::now();
    apply(&[(a1, weight1), (a2, 1), (a3, 1)]);
    // A measurement window, not a readiness wait: the new weights must hold over a second.
    std::thread::sleep(follow_bound() + Duration::from_secs(1));

    let removed = Instant::now();
    apply(&[(a1, weight1), (a3, 1)]);
    // Silence is judged once discovery has the new set: a stalled machine (a registry answer
    // cut by the call timeout) must not pass for "b2 gets nothing".
    wait_endpoints(&proxy, 2.0);
    follow::wait_for_silence(
        &format!("{host}: b2 gets nothing"),
        &b[1],
        Duration::from_millis(500),
        follow_bound() * 2,
    );
    let b2_total = b[1].requests_seen();
    std::thread::sleep(Duration::from_millis(300));
    let report = load.stop();

    assert!(
        report.failures.is_empty(),
        "{host}: {} failed requests: {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(5)]
    );
    let to_add = follow::first_after(&report, a3, added).expect("b3 answered");
    let to_remove = follow::last_after(&report, a2, removed).unwrap_or_default();
    let window = follow::counts(&report, &[a1, a2, a3], reweighted + follow_bound(), removed);
    let share = window[0] as f64 / window.iter().sum::<usize>().max(1) as f64;
    eprintln!(
        "{host}: {} requests, 0 failed; b3 added in {to_add:?}, b2 removed in {to_remove:?}; b1 share after re-weight {share:.2} ({window:?})",
        report.ok.len()
    );
    assert!(
        to_add <= follow_bound(),
        "{host}: b3 first answered {to_add:?} after its registration"
    );
    assert!(
        to_remove <= follow_bound(),
        "{host}: b2 last answered {to_remove:?} after its removal"
    );
    assert_eq!(
        b[1].requests_seen(),
        b2_total,
        "{host}: b2 got traffic after it was removed"
    );
    let expected = if reweight { 4.0 / 6.0 } else { 1.0 / 3.0 };
    assert!(
        (share - expected).abs() < 0.1,
        "{host}: b1 share {share:.2}, want {expected:.2}: {window:?}"
    );
}

/// etcd: register, re-weight and remove by `put`/`del` of `/wasmesh/services/web/<ip:port>`.
pub fn etcd_follows_register_reweight_remove(kind: ProxyKind) {
    let etcd = Etcd::start();
    let current: RefCell<Vec<Member>> = RefCell::new(Vec::new());
    let apply = |members: &[Member]| {
        for (addr, weight) in members {
            if !current.borrow().contains(&(*addr, *weight)) {
                etcd.put(
                    &format!("/wasmesh/services/web/{addr}"),
                    &json!({ "weight": weight, "zone": "z1" }).to_string(),
                );
            }
        }
        for (addr, _) in current.borrow().iter() {
            if !members.iter().any(|(a, _)| a == addr) {
                etcd.delete(&format!("/wasmesh/services/web/{addr}"));
            }
        }
        *current.borrow_mut() = members.to_vec();
    };
    let source = json!({ "etcd": { "cluster": "registry" } });
    follows_changes(kind, source, etcd.addr, &apply, true);
}

/// Consul's health answer, with weights from `Weights.Passing` and an ACL token sent.
pub fn consul_follows_add_reweight_remove(kind: ProxyKind) {
    let registry = Registry::start("[]".to_string());
    let source = json!({ "consul": { "cluster": "registry", "token": "secret" } });
    follows_changes(
        kind,
        source,
        registry.addr,
        &|m| registry.serve(formats::consul(m)),
        true,
    );
    let heads = registry.heads().join("").to_ascii_lowercase();
    assert!(
        heads.contains("get /v1/health/service/web?passing http/1.1"),
        "{heads}"
    );
    assert!(
        heads.contains("x-consul-token: secret"),
        "{}: no token sent",
        kind.name()
    );
}

/// Consul blocking queries: with a 30 s poll interval and `wait_ms` 10 s, a registry change
/// made while a query is held reaches the balancer within a second (measured: the first request
/// answered by the new endpoint), where plain polling would take up to 30 s; the queries carry
/// Consul's `index` and `wait`.
pub fn consul_blocking_query_sees_a_change_at_once(kind: ProxyKind) {
    let host = kind.name();
    let b = backends();
    let registry = Registry::start(formats::consul(&[(b[0].addr, 1)]));
    let source = json!({ "consul": { "cluster": "registry", "wait_ms": 10_000 } });
    let proxy = start_polling(kind, registry.addr, source, 30_000);
    wait_for_set(&proxy, &["b1"], Duration::from_secs(10));
    poll_until(
        &format!("{host}: a blocking query held"),
        Duration::from_secs(10),
        || match registry.heads().iter().any(|h| h.contains("&index=")) {
            true => Ok(()),
            false => Err(format!("{:?}", registry.heads())),
        },
    );
    // Change it well after the query went out, so only the held query can carry the change.
    std::thread::sleep(Duration::from_secs(1));
    let changed = Instant::now();
    registry.serve(formats::consul(&[(b[0].addr, 1), (b[1].addr, 1)]));
    let seen = poll_until(
        &format!("{host}: b2 answers"),
        Duration::from_secs(10),
        || {
            let response = client::get(&proxy.url("main", "/w"), &[]);
            match response.header(ECHO_HEADER) {
                Some(addr) if addr == b[1].addr.to_string() => Ok(changed.elapsed()),
                other => Err(format!("{} from {other:?}", response.status)),
            }
        },
    );
    let heads = registry.heads();
    let blocking = heads.iter().filter(|h| h.contains("&index=")).count();
    eprintln!(
        "{host}: change seen by the balancer after {seen:?} (poll_ms 30000, wait_ms 10000); {} queries, {blocking} blocking",
        heads.len()
    );
    assert!(
        heads.iter().any(|h| h.contains("&wait=10000ms")),
        "{host}: {heads:?}"
    );
    assert!(
        seen < Duration::from_secs(1),
        "{host}: the change took {seen:?} to reach the balancer"
    );
}

/// A blocking query whose wait ends with nothing changed is answered "unchanged" and asked
/// again at once: with `wait_ms` 1000 and `poll_ms` 30000, an idle registry sees one held query
/// after another (each about a second), the set stays fresh, no poll counts as an error.
pub fn consul_blocking_query_that_times_out_is_asked_again(kind: ProxyKind) {
    let host = kind.name();
    let b = backends();
    let registry = Registry::start(formats::consul(&[(b[0].addr, 1)]));
    let source = json!({ "consul": { "cluster": "registry", "wait_ms": 1000 } });
    let proxy = start_polling(kind, registry.addr, source, 30_000);
    wait_for_set(&proxy, &["b1"], Duration::from_secs(10));
    let held = || {
        registry
            .heads()
            .iter()
            .filter(|h| h.contains("&wait=1000ms"))
            .count()
    };
    let before = held();
    std::thread::sleep(Duration::from_millis(4500));
    let during = held() - before;
    // Envoy runs a root context on its main thread and one per worker, each with its query.
    assert!(
        (3..=12).contains(&during),
        "{host}: {during} blocking queries in 4.5 s with wait_ms 1000"
    );
    let text = proxy.admin_get("/stats/prometheus").text();
    assert_eq!(stale(&proxy), Some(0.0), "{host}");
    let errors: f64 = prometheus::samples(&text)
        .iter()
        .filter(|s| s.name == "discovery_errors_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(errors, 0.0, "{host}: a held query counted as a failure");
    eprintln!("{host}: {during} blocking queries held in 4.5 s, no error");
}

/// Kubernetes EndpointSlices (one slice per endpoint, plus a not-ready endpoint that must
/// never be picked), with the bearer token sent.
pub fn endpoint_slices_follow_add_remove(kind: ProxyKind) {
    let unready = Backend::start("unready");
    let registry = Registry::start("{}".to_string());
    let source = json!({ "kubernetes": { "cluster": "registry", "namespace": "default", "token": "tok", "port": "http" } });
    let apply = |m: &[Member]| registry.serve(formats::endpoint_slices(m, unready.addr));
    follows_changes(kind, source, registry.addr, &apply, false);
    assert_eq!(
        unready.requests_seen(),
        0,
        "{}: a not-ready endpoint got traffic",
        kind.name()
    );
    let heads = registry.heads().join("").to_ascii_lowercase();
    assert!(heads.contains("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelselector=kubernetes.io%2fservice-name%3dweb"), "{heads}");
    assert!(
        heads.contains("authorization: bearer tok"),
        "{}: no bearer token",
        kind.name()
    );
}

/// The plain JSON document over HTTP.
pub fn json_document_follows_add_reweight_remove(kind: ProxyKind) {
    let registry = Registry::start("{}".to_string());
    let source = json!({ "http": { "cluster": "registry", "path": "/endpoints/web.json" } });
    follows_changes(
        kind,
        source,
        registry.addr,
        &|m| registry.serve(formats::document(m)),
        true,
    );
}

/// A static list in the discovery configuration reaches `lb` like any registry's.
pub fn static_list_is_published(kind: ProxyKind) {
    let b = backends();
    let endpoints = json!([{ "address": b[0].addr.to_string() }, { "address": b[2].addr.to_string(), "weight": 1 }]);
    let unused = Registry::start("{}".to_string());
    let proxy = start(
        kind,
        unused.addr,
        json!({ "static": { "endpoints": endpoints } }),
    );
    wait_for_set(&proxy, &["b1", "b3"], Duration::from_secs(10));
    assert_eq!(stale(&proxy), Some(0.0), "{}", kind.name());
}

/// A Consul registry that answers 500, then garbage, then entries that are all malformed, then
/// drops connections: the last good set (b1, b2) keeps serving, `discovery_stale` is 1 and the
/// log says so; when the registry answers again (b1 only) the set follows and is fresh.
pub fn outage_and_garbage_keep_the_last_good_set(kind: ProxyKind) {
    let host = kind.name();
    let b = backends();
    let registry = Registry::start(formats::consul(&[(b[0].addr, 1), (b[1].addr, 1)]));
    let proxy = start(
        kind,
        registry.addr,
        json!({ "consul": { "cluster": "registry" } }),
    );
    wait_for_set(&proxy, &["b1", "b2"], Duration::from_secs(10));
    wait_stale(&proxy, 0.0);
    let malformed = r#"[{"Node": {"Address": "node.example"}, "Service": {"Port": 80}}]"#;
    let bad = [
        (
            "500",
            Mode::Answer(500, vec![], "No cluster leader".to_string()),
        ),
        (
            "garbage",
            Mode::Answer(200, vec![], "<html>oops</html>".to_string()),
        ),
        (
            "malformed entries",
            Mode::Answer(200, vec![], malformed.to_string()),
        ),
        ("dropped connections", Mode::Drop),
    ];
    for (what, mode) in bad {
        registry.set(mode);
        let seen = registry.heads().len();
        poll_until(
            &format!("{host}: two polls answered with {what}"),
            Duration::from_secs(10),
            || {
                if registry.heads().len() >= seen + 2 {
                    Ok(())
                } else {
                    Err("waiting".into())
                }
            },
        );
        wait_stale(&proxy, 1.0);
        let counts = tally(&proxy, 20);
        assert_eq!(
            counts.get("b1").copied().unwrap_or(0) + counts.get("b2").copied().unwrap_or(0),
            20,
            "{host} ({what}): {counts:?}"
        );
        assert!(
            counts.len() == 2,
            "{host} ({what}): the last good set is b1 and b2: {counts:?}"
        );
    }
    let logs = proxy.logs();
    assert!(
        logs.contains("keeping the last good set, now stale"),
        "{host}: no stale log line:\n{logs}"
    );
    registry.serve(formats::consul(&[(b[0].addr, 1)]));
    wait_for_set(&proxy, &["b1"], Duration::from_secs(10));
    wait_stale(&proxy, 0.0);
}

/// etcd revision polling: with 40 endpoints registered and nothing changing, a poll costs a
/// probe's answer (a header and a count), measured on the wire through a counting relay: under a
/// quarter of the full range answer the first poll needed. A change is still followed (a new
/// endpoint reaches `discovery_endpoints`).
pub fn etcd_unchanged_registry_costs_a_probe(kind: ProxyKind) {
    let host = kind.name();
    let etcd = Etcd::start();
    let register = |i: u32| {
        let key = format!(
            "/wasmesh/services/web/10.0.{}.{}:8080",
            i / 200,
            i % 200 + 1
        );
        etcd.put(&key, &json!({ "weight": 1, "zone": "z1" }).to_string());
    };
    (0..40).for_each(register);
    let relay = Relay::start(etcd.addr, "POST /v3/kv/range ");
    let proxy = start_polling(
        kind,
        relay.addr,
        json!({ "etcd": { "cluster": "registry" } }),
        200,
    );
    wait_endpoints(&proxy, 40.0);
    let full = client::post(
        &format!("http://{}/v3/kv/range", etcd.addr),
        &[],
        wasmesh_common::discovery::etcd::range_request("", "", "/wasmesh/services/web/").body,
    )
    .body
    .len() as u64;
    let (bytes_before, polls_before) = relay.counts();
    std::thread::sleep(Duration::from_secs(2));
    let (bytes_after, polls_after) = relay.counts();
    let (bytes, polls) = (bytes_after - bytes_before, polls_after - polls_before);
    let per_poll = bytes / polls.max(1);
    eprintln!(
        "{host}: unchanged etcd: {polls} polls in 2 s, {per_poll} bytes answered per poll (headers included); a full range answer is {full} bytes of body"
    );
    assert!(
        polls >= 3,
        "{host}: only {polls} polls in 2 s at poll_ms 200"
    );
    assert!(
        per_poll * 4 < full,
        "{host}: {per_poll} bytes per unchanged poll, full answer {full}"
    );
    register(40);
    wait_endpoints(&proxy, 41.0);
}

/// etcd killed: the last good set keeps serving and is marked stale.
pub fn etcd_outage_keeps_the_last_good_set(kind: ProxyKind) {
    let host = kind.name();
    let b = backends();
    let mut etcd = Etcd::start();
    for backend in &b[..2] {
        etcd.put(&format!("/wasmesh/services/web/{}", backend.addr), "");
    }
    let proxy = start(
        kind,
        etcd.addr,
        json!({ "etcd": { "cluster": "registry" } }),
    );
    wait_for_set(&proxy, &["b1", "b2"], Duration::from_secs(10));
    etcd.stop();
    wait_stale(&proxy, 1.0);
    let counts = tally(&proxy, 20);
    assert_eq!(
        counts,
        BTreeMap::from([("b1".to_string(), 10), ("b2".to_string(), 10)]),
        "{host}"
    );
}
