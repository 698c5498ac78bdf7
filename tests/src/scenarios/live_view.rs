//! The admin's live view (`/ui`) in real headless Chromium: after known traffic through the
//! endpoints chain (`metrics` → `discovery` → `failover` → `lb`, one endpoint answering 503 until
//! `failover` ejects it) and a rejected reload, the page loads with no console error and shows
//! the traffic in its charts (as many responses as were sent, per route and per authority), the
//! ejected endpoint as ejected, every plugin with its module's digest, and the reload history.
//! wasmesh only: Envoy's admin has no such page.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};

use super::discovery::registry::Registry;
use super::endpoints::{document, mesh_with};
use super::failover::Always503;
use crate::{
    browser, build_filters, client, poll_until, sha256_hex, target_dir, Backend, Proxy, ProxyKind,
};

/// The admin's window (its `sample_every_ms`).
const SAMPLE_EVERY: Duration = Duration::from_secs(2);

/// Responses a series counted over the kept windows: each window's rate times its width.
fn counted(times: &[Value], rps: &[Value], window_ms: f64) -> f64 {
    let mut total = 0.0;
    for (i, rate) in rps.iter().enumerate() {
        let width = match (i.checked_sub(1).map(|j| &times[j]), &times[i]) {
            (Some(before), now) => now.as_f64().unwrap_or(0.0) - before.as_f64().unwrap_or(0.0),
            (None, _) => window_ms,
        };
        total += rate.as_f64().unwrap_or(0.0) * width;
    }
    total
}

/// `counted` for one series of `/ui/data`'s windows (times in ms).
fn counted_in(data: &Value, group: &str, name: &str) -> f64 {
    let windows = &data["windows"];
    let times = windows["times"].as_array().cloned().unwrap_or_default();
    let rps = windows[group][name]["rps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let window_ms = data["sample_every_ms"].as_f64().unwrap_or(0.0);
    counted(&times, &rps, window_ms) / 1000.0
}

/// Waits until `/endpoints` shows service `web` as `ready` says.
fn wait_endpoints(proxy: &Proxy, what: &str, ready: impl Fn(&Value) -> bool) {
    poll_until(what, Duration::from_secs(10), || {
        let view = proxy.admin_get("/endpoints").json();
        let web = view["services"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["service"] == "web"))
            .cloned()
            .unwrap_or(Value::Null);
        if ready(&web) {
            Ok(())
        } else {
            Err(web.to_string())
        }
    });
}

fn ejected(web: &Value, address: SocketAddr) -> bool {
    web["endpoints"].as_array().is_some_and(|e| {
        e.iter()
            .any(|e| e["address"] == address.to_string() && e["ejected"] == true)
    })
}

/// The rows of one table the page drew, by their key.
fn row<'a>(seen: &'a Value, table: &str, key: &str) -> &'a Value {
    seen[table]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["key"] == key))
        .unwrap_or_else(|| panic!("no row {key:?} in the page's {table}: {}", seen[table]))
}

fn cell(row: &Value, i: usize) -> &str {
    row["cells"][i].as_str().unwrap_or_default()
}

/// See the module's doc.
pub fn live_view_shows_traffic_endpoints_plugins_and_reloads() {
    let good = Backend::start("b1");
    let other = Backend::start("b2");
    let bad = Always503::start();
    let registry = Registry::start(document(&[(good.addr, 1), (other.addr, 1), (bad.addr, 1)]));
    let metrics = json!({"routes": [{"name": "users", "prefix": "/users/"},
                                    {"name": "warmup", "prefix": "/warmup/"}]});
    let proxy = ProxyKind::Wasmesh.start(&mesh_with(registry.addr, Some(metrics)));
    wait_endpoints(&proxy, "three endpoints published", |w| {
        w["endpoints"].as_array().map(Vec::len) == Some(3)
    });

    // Round robin over three: the 503 endpoint gets every third request, and its second 503 in
    // a row ejects it.
    for i in 0..9 {
        let _ = client::get(&proxy.url("main", &format!("/warmup/{i}")), &[]);
    }
    let failed = bad.requests();
    assert!(failed >= 2, "{failed} requests reached the 503 endpoint");
    wait_endpoints(&proxy, "the 503 endpoint ejected", |w| ejected(w, bad.addr));
    // lb reads the health document every 100 ms (filters/lb/src/health.rs): past that, no
    // request goes to the ejected endpoint.
    std::thread::sleep(Duration::from_millis(300));
    // Three bursts a window apart, so the charts draw lines and not single points.
    for i in 0..30 {
        if i > 0 && i % 10 == 0 {
            std::thread::sleep(SAMPLE_EVERY);
        }
        let response = client::get(&proxy.url("main", &format!("/users/{i}")), &[]);
        assert_eq!(response.status, 200, "{}", response.text());
    }

    std::fs::write(proxy.run_dir().join("wasmesh.json"), "{ not json").expect("a bad config");
    let admin = format!("http://{}", proxy.admin_addr());
    let reload = client::post(&format!("{admin}/reload"), &[], "");
    assert_eq!(reload.status, 400, "{}", reload.text());

    // Every response counted in a window before the page opens.
    poll_until(
        "the windows hold the traffic",
        Duration::from_secs(15),
        || {
            let data = proxy.admin_get("/ui/data").json();
            let (users, warmup) = (
                counted_in(&data, "routes", "users"),
                counted_in(&data, "routes", "warmup"),
            );
            if users.round() == 30.0 && warmup.round() == 9.0 {
                Ok(())
            } else {
                Err(format!("users {users}, warmup {warmup}"))
            }
        },
    );

    let screenshot = target_dir().join("e2e").join("live-view.png");
    let _ = std::fs::create_dir_all(screenshot.parent().expect("a directory"));
    let shot = screenshot.to_string_lossy().into_owned();
    let seen = browser::run_script("live_view.mjs", &[&admin, &shot], Duration::from_secs(90));
    eprintln!("the page showed: {seen:#}");
    assert_eq!(seen["error"], Value::Null, "{seen}");
    let noise: Vec<&Value> = seen["console"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| matches!(m["type"].as_str(), Some("error" | "pageerror" | "warning")))
                .collect()
        })
        .unwrap_or_default();
    assert!(noise.is_empty(), "console: {noise:?}");
    assert_eq!(seen["failed_requests"], json!([]), "{seen}");
    assert_eq!(seen["url"], format!("{admin}/ui"), "/ leads to the view");
    assert_eq!(seen["title"], "wasmesh live view");

    // The charts: one series per route, holding what was sent.
    let page = &seen["by_route"];
    let rps = &page["charts"]["chart-rps"];
    assert_eq!(rps["labels"], json!(["users", "warmup"]), "{rps}");
    assert_eq!(rps["legend"], json!(["users", "warmup"]), "{rps}");
    let canvas = rps["canvas"].as_array().expect("a drawn canvas");
    assert!(
        canvas.iter().all(|side| side.as_u64() > Some(100)),
        "{canvas:?}"
    );
    let times: Vec<Value> = rps["data"][0]
        .as_array()
        .expect("times")
        .iter()
        .map(|t| json!(t.as_f64().unwrap_or(0.0) * 1000.0))
        .collect();
    let drawn = |i: usize| {
        let values = rps["data"][i].as_array().cloned().unwrap_or_default();
        (counted(&times, &values, SAMPLE_EVERY.as_millis() as f64) / 1000.0).round()
    };
    assert_eq!((drawn(1), drawn(2)), (30.0, 9.0), "users, warmup: {rps}");
    let success = &page["charts"]["chart-success"]["data"];
    let values = |i: usize| -> Vec<f64> {
        success[i]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    assert!(
        !values(1).is_empty() && values(1).iter().all(|v| *v == 100.0),
        "users succeeded: {success}"
    );
    assert!(
        values(2).iter().any(|v| *v < 100.0),
        "warmup had {failed} failures: {success}"
    );
    // The table: the last minute as one window.
    let users = row(page, "traffic", "users");
    assert_eq!(cell(users, 2), "100.00%", "{users}");
    assert_ne!(cell(users, 1), "-", "{users}");
    let warmup = row(page, "traffic", "warmup");
    let expected = (9 - failed) as f64 / 9.0 * 100.0;
    assert_eq!(cell(warmup, 2), format!("{expected:.2}%"), "{warmup}");
    let latency = &page["charts"]["chart-latency"]["labels"];
    assert_eq!(
        *latency,
        json!(["users p50", "users p99", "warmup p50", "warmup p99"])
    );
    let authority = proxy.listener("main").to_string();
    let by_authority = &seen["by_authority"]["charts"]["chart-rps"];
    assert_eq!(by_authority["labels"], json!([authority]), "{by_authority}");

    // Endpoints: the 503 one ejected, the others serving.
    let bad_row = row(page, "endpoints", &bad.addr.to_string());
    assert_eq!(bad_row["class"], "ejected", "{bad_row}");
    assert!(cell(bad_row, 8).starts_with("ejected "), "{bad_row}");
    assert_eq!(
        (cell(bad_row, 0), cell(bad_row, 2), cell(bad_row, 5)),
        ("web", "1", "http"),
        "{bad_row}"
    );
    assert_eq!(cell(bad_row, 9), "1", "one ejection: {bad_row}");
    assert_eq!(cell(bad_row, 11), failed.to_string(), "its 503s: {bad_row}");
    for ok in [good.addr, other.addr] {
        assert_eq!(cell(row(page, "endpoints", &ok.to_string()), 8), "ok");
    }

    // Plugins: each with its module's digest, memory and callbacks.
    let filters = build_filters();
    for (name, wasm) in [
        ("metrics", &filters.metrics),
        ("discovery", &filters.discovery),
        ("failover", &filters.failover),
        ("lb", &filters.lb),
    ] {
        let plugin = row(page, "plugins", name);
        let module = std::fs::read(wasm).expect("reading a filter");
        assert_eq!(cell(plugin, 2), &sha256_hex(&module)[..12], "{plugin}");
        assert!(cell(plugin, 3).ends_with(" MiB"), "{plugin}");
        let calls: u64 = cell(plugin, 4).parse().unwrap_or(0);
        assert!(calls > 0, "{plugin}");
        assert_eq!((cell(plugin, 6), cell(plugin, 7)), ("0", "0"), "{plugin}");
    }

    // Reloads: the rejected one first, naming why; the start last.
    let reloads = page["reloads"].as_array().expect("reload rows");
    let newest = &reloads[0];
    let error = reload.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(cell(newest, 1), "1", "generation 1 kept serving: {newest}");
    assert_eq!(cell(newest, 2), format!("rejected: {error}"), "{newest}");
    let start = reloads.last().expect("the start");
    assert_eq!((cell(start, 1), cell(start, 2)), ("1", "serving"));

    let size = std::fs::metadata(&screenshot).map_or(0, |m| m.len());
    assert!(
        size > 10_000,
        "screenshot {} is {size} bytes",
        screenshot.display()
    );
    eprintln!("screenshot: {}", screenshot.display());
}
