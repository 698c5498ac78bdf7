//! wasmesh's admin `GET /endpoints` and `wasmesh stat --discovery`: what the `discovery` filter
//! published (source, version, age, stale) with `failover`'s ejections, read back as a user
//! would. Chain: `discovery` (a JSON document served by the stand-in registry) → `failover`
//! (outlier detection only, reading the set from shared data) → `lb`, all in VM id `mesh`.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use super::discovery::registry::{Mode, Registry};
use super::failover::Always503;
use crate::{
    build_filters, client, poll_until, wasmesh_bin, Backend, Cluster, Listener, MeshConfig, Plugin,
    Proxy, ProxyKind, Route,
};

const PICK_HEADER: &str = "x-envoy-original-dst-host";
const ECHO_HEADER: &str = "x-wasmesh-endpoint";
/// Long enough that the ejection is still on when the test looks.
pub(crate) const EJECTION_MS: u64 = 60_000;

/// The chain in front of a `dynamic` cluster; with `metrics`, the metrics filter (that
/// configuration) runs first.
pub(crate) fn mesh_with(registry: SocketAddr, metrics: Option<Value>) -> MeshConfig {
    let filters = build_filters();
    let discovery = json!({
        "poll_ms": 200, "timeout_ms": 1000, "max_backoff_ms": 400,
        "services": [{ "service": "web",
                       "source": { "http": { "cluster": "registry", "path": "/web.json" } } }],
    });
    let failover = json!({
        "service": "web", "cluster": "dynamic", "response_header": ECHO_HEADER,
        "retry": { "max_retries": 0 },
        "outlier": { "consecutive_5xx": 2, "consecutive_gateway_failure": 2,
                     "base_ejection_time_ms": EJECTION_MS, "max_ejection_percent": 50 },
    });
    let lb = json!({ "service": "web", "policy": "round_robin", "response_header": ECHO_HEADER });
    let in_mesh = |name: &str, wasm, configuration| {
        Plugin::new(name, wasm)
            .vm_id("mesh")
            .configuration(configuration)
    };
    let mut listener = Listener::new("main");
    let mut config = MeshConfig::new().workers(1);
    if let Some(metrics) = metrics {
        config = config.plugin(Plugin::new("metrics", &filters.metrics).configuration(metrics));
        listener = listener.filter("metrics");
    }
    config
        .plugin(in_mesh("discovery", &filters.discovery, discovery))
        .plugin(in_mesh("failover", &filters.failover, failover))
        .plugin(in_mesh("lb", &filters.lb, lb))
        .cluster(Cluster::fixed("registry", [registry]))
        .cluster(Cluster::original_dst("dynamic", PICK_HEADER))
        .listener(
            listener
                .filter("discovery")
                .filter("failover")
                .filter("lb")
                .route(Route::prefix("/", "dynamic")),
        )
}

fn mesh(registry: SocketAddr) -> MeshConfig {
    mesh_with(registry, None)
}

/// The document the registry serves: each member in zone `z1`, priority 0, its weight.
pub(crate) fn document(members: &[(SocketAddr, u32)]) -> String {
    let endpoints: Vec<Value> = members
        .iter()
        .map(|(a, w)| json!({ "address": a.to_string(), "weight": w, "zone": "z1" }))
        .collect();
    json!({ "endpoints": endpoints }).to_string()
}

/// Service `web`'s entry of `GET /endpoints`, once `ready` accepts it.
fn wait_view(proxy: &Proxy, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    poll_until(
        &format!("/endpoints: {what}"),
        Duration::from_secs(10),
        || {
            let response = proxy.admin_get("/endpoints");
            if response.status != 200 {
                return Err(format!("status {}: {}", response.status, response.text()));
            }
            let view = response.json();
            let web = view["services"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["service"] == "web"))
                .cloned()
                .ok_or_else(|| format!("no service web in {view}"))?;
            if ready(&web) {
                Ok(web)
            } else {
                Err(web.to_string())
            }
        },
    )
}

/// The endpoint `address` of a service entry.
fn endpoint(web: &Value, address: SocketAddr) -> &Value {
    web["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["address"] == address.to_string()))
        .unwrap_or_else(|| panic!("{address} not in {web}"))
}

/// `wasmesh stat --discovery --admin <admin>`: exit status, stdout, stderr.
fn stat_discovery(admin: SocketAddr) -> (bool, String, String) {
    let output = Command::new(wasmesh_bin())
        .args(["stat", "--discovery", "--admin", &admin.to_string()])
        .output()
        .expect("running wasmesh stat");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The set as published (source `http`, version 1, weights, zones, fresh, a small age); a
/// registry change bumps the version; a backend answering 503s is ejected by `failover` and
/// `/endpoints` says until when; a failing registry marks the set stale without changing it,
/// and a recovered one fresh again; `wasmesh stat --discovery` prints the same as a table.
pub fn endpoints_show_sets_versions_and_health() {
    let good = Backend::start("b1");
    let other = Backend::start("b2");
    let bad = Always503::start();
    let registry = Registry::start(document(&[(good.addr, 1), (bad.addr, 2)]));
    let proxy = ProxyKind::Wasmesh.start(&mesh(registry.addr));

    let web = wait_view(&proxy, "version 1", |w| w["version"] == 1);
    assert_eq!(web["source"], "http", "{web}");
    assert_eq!(web["vm_id"], "mesh", "{web}");
    assert_eq!(web["stale"], false, "{web}");
    let age = web["age_ms"].as_u64().expect("an age");
    assert!(age < 60_000, "age {age} ms of a set published just now");
    assert_eq!(web["endpoints"].as_array().map(Vec::len), Some(2), "{web}");
    let b = endpoint(&web, bad.addr);
    assert_eq!(
        (b["weight"].as_u64(), b["zone"].as_str()),
        (Some(2), Some("z1")),
        "{b}"
    );
    assert_eq!(
        (b["priority"].as_u64(), b["ejected"].as_bool()),
        (Some(0), Some(false)),
        "{b}"
    );
    assert_eq!(b["ejections"], 0, "{b}");

    registry.serve(document(&[(good.addr, 1), (other.addr, 1), (bad.addr, 2)]));
    let web = wait_view(&proxy, "version 2 with b2", |w| w["version"] == 2);
    assert_eq!(web["endpoints"].as_array().map(Vec::len), Some(3), "{web}");
    assert!(web["age_ms"].as_u64() <= Some(age.max(10_000)), "{web}");

    // Round robin: every third request reaches the 503 backend; two in a row eject it.
    for _ in 0..9 {
        let _ = client::get(&proxy.url("main", "/e"), &[]);
    }
    assert!(
        bad.requests() >= 2,
        "{} requests reached the 503 backend",
        bad.requests()
    );
    let web = wait_view(&proxy, "the 503 backend ejected", |w| {
        endpoint(w, bad.addr)["ejected"] == true
    });
    let b = endpoint(&web, bad.addr);
    assert_eq!(b["ejections"], 1, "{b}");
    let now = proxy.admin_get("/endpoints").json()["now_ms"]
        .as_u64()
        .expect("now_ms");
    let until = b["ejected_until_ms"].as_u64().expect("ejected_until_ms");
    assert!(
        until > now && until <= now + EJECTION_MS,
        "ejected until {until}, now {now}"
    );
    assert_eq!(endpoint(&web, good.addr)["ejected"], false, "{web}");
    assert_eq!(
        web["version"], 2,
        "an ejection is health, not a new set: {web}"
    );

    let (ok, table, stderr) = stat_discovery(proxy.admin);
    assert!(ok, "wasmesh stat --discovery failed: {stderr}");
    eprintln!("$ wasmesh stat --discovery\n{table}");
    assert!(table.starts_with("SERVICE"), "{table}");
    let bad_row = row_of(&table, bad.addr);
    assert_eq!(
        bad_row[..3],
        ["web", "http", "2"],
        "SERVICE SOURCE VERSION: {table}"
    );
    assert_eq!(bad_row[4], "no", "STALE: {table}");
    assert_eq!(
        bad_row[6..9],
        ["2", "0", "z1"],
        "WEIGHT PRIORITY ZONE: {table}"
    );
    assert_eq!(bad_row[9], "ejected", "HEALTH: {table}");
    assert_eq!(row_of(&table, good.addr)[9], "ok", "HEALTH: {table}");
    let text = proxy.admin_get("/endpoints?format=text").text();
    assert!(
        text.starts_with("SERVICE") && text.contains(&bad.addr.to_string()),
        "{text}"
    );

    registry.set(Mode::Answer(500, vec![], "down".to_string()));
    let web = wait_view(&proxy, "stale", |w| w["stale"] == true);
    assert_eq!(web["version"], 2, "the last good set stays: {web}");
    assert_eq!(web["endpoints"].as_array().map(Vec::len), Some(3), "{web}");
    let (_, table, _) = stat_discovery(proxy.admin);
    assert_eq!(row_of(&table, good.addr)[4], "yes", "STALE: {table}");
    registry.serve(document(&[(good.addr, 1), (other.addr, 1), (bad.addr, 2)]));
    let web = wait_view(&proxy, "fresh again", |w| w["stale"] == false);
    assert_eq!(web["version"], 2, "same endpoints, same version: {web}");
}

/// The cells of `addr`'s row of a `wasmesh stat --discovery` table.
fn row_of(table: &str, addr: SocketAddr) -> Vec<String> {
    table
        .lines()
        .find(|l| l.contains(&addr.to_string()))
        .unwrap_or_else(|| panic!("no row for {addr}:\n{table}"))
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Against Envoy's admin (same mesh), `wasmesh stat --discovery` fails saying that Envoy has
/// no such view and why, rather than printing an empty table.
pub fn stat_discovery_against_envoy_says_there_is_no_such_view() {
    let good = Backend::start("b1");
    let registry = Registry::start(document(&[(good.addr, 1)]));
    let proxy = ProxyKind::Envoy.start(&mesh(registry.addr));
    let (ok, stdout, stderr) = stat_discovery(proxy.admin);
    assert!(!ok, "it should fail: {stdout}");
    assert!(
        stderr.contains("Envoy's, which has no /endpoints") && stderr.contains("/clusters"),
        "{stderr}"
    );
}
