//! DNS-based discovery against a real DNS server ([`dnsmasq::Dnsmasq`]) whose records change
//! under load, in both hosts, each the way it does DNS:
//!
//! - **wasmesh**: the host resolves `web.mesh.test` itself (`dns` in its configuration) and
//!   publishes the answer to shared data, where the `lb` filter (service `web`, round robin)
//!   reads it and picks through the `original_dst` cluster;
//! - **Envoy**: the committed `envoy-configs/dns-cluster.yaml`, a `STRICT_DNS` cluster whose
//!   cluster manager resolves the name and balances over the answer; no filter involved.
//!
//! `A` records carry no port, so the three backends listen on one port of three loopback
//! addresses (`127.x.y.1..3`).

mod dnsmasq;
mod wasmesh_only;

pub use wasmesh_only::{
    aaaa_records_give_ipv6_endpoints, reload_reconfigures_dns,
    srv_records_give_ports_weights_and_priorities,
};

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasmesh_contract::exposition as prometheus;

use self::dnsmasq::Dnsmasq;
use super::discovery::{follow, wait_for_set};
use super::lb::{mesh_with, tally};
use crate::load::Load;
use crate::{
    build_filters, poll_until, workspace_root, Backend, BackendHandle, Envoy, Proxy, ProxyKind,
    Wasmesh,
};

/// The name both hosts resolve (the committed Envoy config's).
const NAME: &str = "web.mesh.test";
/// The header every backend answers with, naming itself.
const MARKER: &str = "x-backend";
/// Connections of steady load while the records change.
const CONNECTIONS: usize = 16;
/// The longest a record change may take to reach the balancer: the 1 s TTL (both hosts look
/// the name up again when it runs out: wasmesh's `refresh_ms` is 10 s and Envoy's
/// `dns_refresh_rate` 5 s, so only the TTL explains a follow within this bound), `lb`'s 100 ms
/// re-read (wasmesh), and 1.5 s of slack for a loaded 2-core machine.
const FOLLOW_BOUND: Duration = Duration::from_millis(2600);

/// Backends `b1..b3` on one port of three loopback addresses.
pub fn backends_on_one_port() -> Vec<BackendHandle> {
    let base = (std::process::id() % 200) as u8 + 20;
    for attempt in 0..20u8 {
        let ip = |i: u8| IpAddr::V4(Ipv4Addr::new(127, 77, base.wrapping_add(attempt), i));
        let Ok(first) = Backend::start_on("b1", SocketAddr::new(ip(1), 0)) else {
            continue;
        };
        let port = first.addr.port();
        let rest: Result<Vec<_>, _> = [(2, "b2"), (3, "b3")]
            .into_iter()
            .map(|(i, name)| Backend::start_on(name, SocketAddr::new(ip(i), port)))
            .collect();
        if let Ok(rest) = rest {
            return std::iter::once(first).chain(rest).collect();
        }
    }
    panic!("no loopback port free on three addresses after 20 tries")
}

/// `web.mesh.test` → the addresses of `backends`.
fn records(backends: &[&BackendHandle]) -> Vec<(IpAddr, &'static str)> {
    backends.iter().map(|b| (b.addr.ip(), NAME)).collect()
}

/// wasmesh resolving `dns` entries (merged into one resolving `web.mesh.test`) through
/// `server`, with `lb` reading service `web`.
fn wasmesh_config(server: SocketAddr, port: u16, extra: Value) -> Value {
    let filters = build_filters();
    let lb = json!({ "service": "web", "policy": "round_robin" });
    let mut config = mesh_with(&filters.lb, lb).to_wasmesh_json();
    let mut entry = json!({
        "service": "web", "name": NAME, "type": "A", "port": port,
        "resolver": server.to_string(), "refresh_ms": 10_000, "min_refresh_ms": 200,
        "timeout_ms": 500, "max_backoff_ms": 1000,
    });
    if let (Value::Object(entry), Value::Object(extra)) = (&mut entry, extra) {
        entry.extend(extra);
    }
    config["dns"] = json!([entry]);
    config
}

/// The committed `envoy-configs/dns-cluster.yaml` with its resolver, backend port, listener
/// and admin moved to this test's.
fn envoy_yaml(server: SocketAddr, port: u16) -> String {
    let path = workspace_root().join("envoy-configs/dns-cluster.yaml");
    let mut yaml = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    for (from, to) in [
        ("port_value: 5353", format!("port_value: {}", server.port())),
        ("port_value: 8081", format!("port_value: {port}")),
        ("port_value: 10003", "port_value: 0".to_string()),
        ("port_value: 9904", "port_value: 0".to_string()),
    ] {
        assert!(yaml.contains(from), "{} has no `{from}`", path.display());
        yaml = yaml.replace(from, &to);
    }
    yaml
}

/// Starts `kind` resolving `web.mesh.test` through `server`, every address on `port`.
fn start(kind: ProxyKind, server: SocketAddr, port: u16) -> Proxy {
    match kind {
        ProxyKind::Wasmesh => Wasmesh::start(wasmesh_config(server, port, json!({}))),
        ProxyKind::Envoy => Envoy::start(envoy_yaml(server, port)),
    }
}

/// Three backends on one port, dnsmasq answering `web.mesh.test` with b1 and b2, and `kind`
/// resolving it through dnsmasq, serving b1 and b2.
struct Rig {
    b: Vec<BackendHandle>,
    dns: Dnsmasq,
    proxy: Proxy,
}

impl Rig {
    fn start(kind: ProxyKind) -> Self {
        let b = backends_on_one_port();
        let dns = Dnsmasq::start(&records(&[&b[0], &b[1]]), &[]);
        let proxy = start(kind, dns.addr, b[0].addr.port());
        wait_for_set(&proxy, &["b1", "b2"], Duration::from_secs(10));
        Self { b, dns, proxy }
    }
}

/// Under 16 connections of load: `b3` added to the records (it gets traffic), then `b2`
/// removed while it stays up (it gets no new request); each within [`FOLLOW_BOUND`] of the
/// `SIGHUP` that made dnsmasq serve the change, and no client request fails.
pub fn follows_record_changes(kind: ProxyKind) {
    let host = kind.name();
    let Rig { b, dns, proxy } = Rig::start(kind);
    let load = Load::start(proxy.listener("main"), "/d", MARKER, CONNECTIONS);
    follow::wait_for_traffic(
        "baseline",
        &b[1],
        b[1].requests_seen(),
        Duration::from_secs(5),
    );

    let before = b[2].requests_seen();
    let added = Instant::now();
    dns.set_hosts(&records(&[&b[0], &b[1], &b[2]]));
    let what = format!("{host}: b3 gets traffic");
    follow::wait_for_traffic(&what, &b[2], before, FOLLOW_BOUND * 3);

    let removed = Instant::now();
    dns.set_hosts(&records(&[&b[0], &b[2]]));
    let what = format!("{host}: b2 gets nothing");
    let quiet = Duration::from_millis(500);
    follow::wait_for_silence(&what, &b[1], quiet, FOLLOW_BOUND * 3);
    let b2_total = b[1].requests_seen();
    std::thread::sleep(Duration::from_millis(300));
    let report = load.stop();

    assert!(
        report.failures.is_empty(),
        "{host}: {} failed requests: {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(5)]
    );
    let to_add = first_after(&report, "b3", added).expect("b3 answered");
    let to_remove = last_after(&report, "b2", removed).unwrap_or_default();
    eprintln!(
        "{host}: {} requests, 0 failed; b3 added in {to_add:?}, b2 removed in {to_remove:?}",
        report.ok.len()
    );
    assert!(
        to_add <= FOLLOW_BOUND,
        "{host}: b3 first answered {to_add:?} after the records changed"
    );
    assert!(
        to_remove <= FOLLOW_BOUND,
        "{host}: b2 last answered {to_remove:?} after the records changed"
    );
    assert_eq!(
        b[1].requests_seen(),
        b2_total,
        "{host}: b2 got traffic after it was removed"
    );
}

fn first_after(report: &crate::load::LoadReport, name: &str, at: Instant) -> Option<Duration> {
    samples_after(report, name, at).min()
}

fn last_after(report: &crate::load::LoadReport, name: &str, at: Instant) -> Option<Duration> {
    samples_after(report, name, at).max()
}

fn samples_after<'a>(
    report: &'a crate::load::LoadReport,
    name: &'a str,
    at: Instant,
) -> impl Iterator<Item = Duration> + 'a {
    report
        .ok
        .iter()
        .filter(move |s| s.at > at && s.marker.as_deref() == Some(name))
        .map(move |s| s.at - at)
}

/// 20 sequential requests, counted per backend.
fn counts(proxy: &Proxy) -> BTreeMap<String, u32> {
    tally(proxy, 20, |_| Vec::new())
}

fn even(names: &[&str], n: u32) -> BTreeMap<String, u32> {
    names.iter().map(|name| (name.to_string(), n)).collect()
}

/// `discovery_stale{service="web",source="dns"}` at wasmesh's `/stats/prometheus`.
fn stale(proxy: &Proxy) -> Option<f64> {
    let text = proxy.admin_get("/stats/prometheus").text();
    prometheus::value(
        &text,
        "discovery_stale",
        &[("service", "web"), ("source", "dns")],
    )
}

fn wait_stale(proxy: &Proxy, want: f64) {
    poll_until(
        &format!("discovery_stale{{source=\"dns\"}} = {want}"),
        Duration::from_secs(10),
        || match stale(proxy) {
            Some(v) if v == want => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
}

/// Envoy's count of failed resolutions of cluster `web`.
fn envoy_update_failures(proxy: &Proxy) -> f64 {
    let text = proxy.admin_get("/stats/prometheus").text();
    prometheus::value(
        &text,
        "envoy_cluster_update_failure",
        &[("envoy_cluster_name", "web")],
    )
    .unwrap_or(0.0)
}

/// The resolver killed: both hosts keep balancing over the last answer (b1, b2); wasmesh marks
/// the set stale (gauge and log line), Envoy counts failed updates. Restarted with only b1,
/// both follow, and wasmesh's set is fresh again.
pub fn resolver_outage_keeps_the_last_set(kind: ProxyKind) {
    let host = kind.name();
    let Rig { b, mut dns, proxy } = Rig::start(kind);
    dns.stop();
    match kind {
        ProxyKind::Wasmesh => {
            wait_stale(&proxy, 1.0);
            let logs = proxy.logs();
            assert!(
                logs.contains("keeping the last good set, now stale"),
                "no stale log line:\n{logs}"
            );
            let web = admin_endpoints(&proxy);
            assert_eq!(
                (&web["source"], &web["stale"]),
                (&json!("dns"), &json!(true)),
                "{web}"
            );
            assert_eq!(web["endpoints"].as_array().map(Vec::len), Some(2), "{web}");
        }
        ProxyKind::Envoy => {
            let failures = envoy_update_failures(&proxy);
            poll_until(
                "envoy: a failed DNS update",
                Duration::from_secs(15),
                || {
                    let now = envoy_update_failures(&proxy);
                    (now > failures).then_some(()).ok_or(format!("{now}"))
                },
            );
        }
    }
    assert_eq!(
        counts(&proxy),
        even(&["b1", "b2"], 10),
        "{host}: resolver down"
    );
    dns.set_hosts(&records(&[&b[0]]));
    dns.restart();
    wait_for_set(&proxy, &["b1"], Duration::from_secs(15));
    if kind == ProxyKind::Wasmesh {
        wait_stale(&proxy, 0.0);
        let web = admin_endpoints(&proxy);
        assert_eq!(
            (&web["version"], &web["stale"]),
            (&json!(2), &json!(false)),
            "{web}"
        );
    }
}

/// Service `web`'s entry of wasmesh's admin `GET /endpoints`.
fn admin_endpoints(proxy: &Proxy) -> Value {
    let view = proxy.admin_get("/endpoints").json();
    let services = view["services"].as_array().cloned().unwrap_or_default();
    services
        .into_iter()
        .find(|s| s["service"] == "web")
        .unwrap_or_else(|| panic!("no service web in /endpoints: {view}"))
}

/// The name removed from the zone (dnsmasq answers NXDOMAIN). The hosts differ here, and the
/// test shows how: Envoy takes the answer as "no hosts" and answers 503; wasmesh keeps the
/// last set (DNS cannot tell "no endpoint" from "being edited") and marks it stale. Records
/// back: both serve them.
pub fn nxdomain(kind: ProxyKind) {
    let host = kind.name();
    let Rig { b, dns, proxy } = Rig::start(kind);
    dns.set_hosts(&[(b[2].addr.ip(), "other.mesh.test")]);
    assert_eq!(
        dnsmasq::query(dns.addr, NAME),
        Ok(3),
        "dnsmasq answers NXDOMAIN for {NAME}"
    );
    match kind {
        ProxyKind::Wasmesh => {
            wait_stale(&proxy, 1.0);
            assert_eq!(counts(&proxy), even(&["b1", "b2"], 10), "{host}");
            let text = proxy.admin_get("/stats/prometheus").text();
            let labels = [
                ("service", "web"),
                ("source", "dns"),
                ("reason", "nxdomain"),
            ];
            let errors = prometheus::value(&text, "discovery_errors_total", &labels);
            assert!(errors.is_some_and(|n| n >= 1.0), "{host}: {errors:?}");
        }
        ProxyKind::Envoy => {
            poll_until("envoy: no host left", Duration::from_secs(10), || {
                let response = crate::client::get(&proxy.url("main", "/d"), &[]);
                (response.status == 503)
                    .then_some(())
                    .ok_or(format!("status {}", response.status))
            });
        }
    }
    dns.set_hosts(&records(&[&b[1], &b[2]]));
    wait_for_set(&proxy, &["b2", "b3"], Duration::from_secs(10));
}
