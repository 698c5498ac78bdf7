//! Canary rollouts (`plugins[].canary`): a share of streams runs a second version of a plugin,
//! sticky per connection or by a header; a canary whose VM fails hands the stream to the stable
//! version (no failed request) and is rolled back once its failures pass the threshold, as is
//! one whose own 5xx replies pass theirs; the admin rolls back, promotes and resumes by hand; a
//! reload keeps a rollout whose canary did not change. wasmesh only: neither Envoy nor another
//! proxy-wasm host rolls modules out by share.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{self, Client};
use crate::{build_filters, poll_until, Backend, BackendHandle, MeshConfig};
use crate::{Plugin, Proxy, Wasmesh};

use super::reload::rewrite_config;

/// The request header each version of the `headers` filter sets, with its version.
pub const VERSION_HEADER: &str = "x-version";

/// A listener `main` whose one filter, `headers`, adds `x-version: stable`; its canary is
/// `canary` (JSON of `plugins[0].canary`).
pub fn config(backend: &BackendHandle, canary: Value) -> Value {
    let filters = build_filters();
    let stable = json!({ "request": { "add": { VERSION_HEADER: "stable" } } });
    let headers = Plugin::new("headers", &filters.headers).configuration(stable);
    let mut config = MeshConfig::single(vec![headers], [backend.addr])
        .workers(1)
        .to_wasmesh_json();
    config["plugins"][0]["canary"] = canary;
    config
}

/// The canary configuration of the `headers` filter: it adds `x-version: canary`.
pub fn canary_headers() -> Value {
    json!({ "request": { "add": { VERSION_HEADER: "canary" } } })
}

/// Which version served `response` (the header the filter added, as the backend saw it).
pub fn version_of(response: &client::Response) -> String {
    assert_eq!(response.status, 200, "{}", response.text());
    response
        .echo()
        .header(VERSION_HEADER)
        .unwrap_or("none")
        .to_string()
}

/// The plugin's entry of `/config`'s `rollouts`.
pub fn rollout(proxy: &Proxy) -> Value {
    let config = proxy.admin_get("/config").json();
    config["rollouts"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["plugin"] == "headers"))
        .cloned()
        .unwrap_or_else(|| panic!("no rollout of headers in /config: {config}"))
}

/// `POST /rollout?{query}` at the admin: status and JSON body.
pub fn post_rollout(proxy: &Proxy, query: &str) -> (u16, Value) {
    let url = format!("http://{}/rollout?{query}", proxy.admin_addr());
    let response = client::post(&url, &[], "");
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status.as_u16(), body)
}

/// Writes `config` over the proxy's file and reloads it (`POST /reload`), which must succeed.
pub fn reload(proxy: &Proxy, config: &Value) {
    rewrite_config(proxy, config);
    let url = format!("http://{}/reload", proxy.admin_addr());
    let response = client::post(&url, &[], "");
    assert_eq!(response.status, 200, "{}", response.text());
}

/// The value of a `/metrics` sample, 0 when absent.
pub fn metric(proxy: &Proxy, name_and_labels: &str) -> f64 {
    let text = proxy.admin_get("/metrics").text();
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Sticky by header: every request of a user gets the same version; about the configured
/// share of users get the canary; the streams each version got are counted exactly.
pub fn canary_gets_its_share_sticky_by_header() {
    let backend = Backend::start("b1");
    let canary = json!({ "configuration": canary_headers(), "share_percent": 30,
                         "sticky": { "header": "X-User" } });
    let proxy = Wasmesh::start(config(&backend, canary));
    let url = proxy.url("main", "/");
    let mut canary_users = 0;
    for user in 0..200 {
        let user = format!("user-{user}");
        let versions: Vec<String> = (0..3)
            .map(|_| version_of(&client::get(&url, &[("x-user", &user)])))
            .collect();
        assert!(
            versions.iter().all(|v| *v == versions[0]),
            "{user} got {versions:?}"
        );
        canary_users += usize::from(versions[0] == "canary");
    }
    // 200 users, each a 30 % draw: 60 expected, 40..=80 is more than three deviations.
    assert!(
        (40..=80).contains(&canary_users),
        "{canary_users} of 200 users got the canary at 30 %"
    );
    let streams = |version: &str| {
        metric(
            &proxy,
            &format!("wasmesh_canary_streams_total{{plugin=\"headers\",version=\"{version}\"}}"),
        )
    };
    assert_eq!(streams("canary"), (canary_users * 3) as f64);
    assert_eq!(streams("stable"), ((200 - canary_users) * 3) as f64);
    assert_eq!(
        metric(&proxy, "wasmesh_canary_share_percent{plugin=\"headers\"}"),
        30.0
    );
    let status = rollout(&proxy);
    assert_eq!(
        (status["phase"].as_str(), status["share_now"].as_u64()),
        (Some("canary"), Some(30))
    );
}

/// Sticky by connection (the default): every stream of one h2 connection gets one version.
pub fn canary_is_sticky_per_connection() {
    let backend = Backend::start("b1");
    let canary = json!({ "configuration": canary_headers(), "share_percent": 50 });
    let proxy = Wasmesh::start(config(&backend, canary));
    let url = proxy.url("main", "/");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..12 {
        // A new client per round: a new connection, which may draw the other version.
        let h2 = Client::http2();
        let versions: Vec<String> = (0..5).map(|_| version_of(&h2.get(&url, &[]))).collect();
        assert!(
            versions.iter().all(|v| *v == versions[0]),
            "one connection got {versions:?}"
        );
        seen.insert(versions[0].clone());
    }
    // 12 connections at 50 %: both versions show unless 12 fair draws all agree (1 in 2048).
    assert_eq!(seen.len(), 2, "12 connections all got {seen:?}");
}

/// A canary whose VM fails on every request (`case`: trap, loop past the time cap, memory
/// past the cap) costs no request: each stream it breaks goes to the stable version, and the
/// third failure within the window rolls it back, which `/config`, the metrics and the log say.
pub fn failing_canary_is_rolled_back_with_no_failed_request(case: &str) {
    let backend = Backend::start("b1");
    let filters = build_filters();
    let canary = json!({ "wasm": filters.misbehave, "share_percent": 50,
                         "rollback": { "vm_failures": 3, "window_ms": 60_000 } });
    let mut config = config(&backend, canary);
    config["plugins"][0]["limits"] = json!({ "memory_mb": 16, "callback_ms": 50 });
    let proxy = Wasmesh::start(config);
    proxy.expect_vm_failures();
    let url = proxy.url("main", "/");
    let mut statuses: Vec<u16> = Vec::new();
    for _ in 0..40 {
        // A fresh connection each time, so both versions draw streams.
        let response = Client::http1_unpooled().get(&url, &[("x-misbehave", case)]);
        statuses.push(response.status.as_u16());
        assert_eq!(
            response.echo().header(VERSION_HEADER),
            Some("stable"),
            "every answer passed the stable version"
        );
    }
    assert!(statuses.iter().all(|s| *s == 200), "{case}: {statuses:?}");
    let status = rollout(&proxy);
    assert_eq!(status["phase"], "rolled_back", "{case}: {status}");
    assert_eq!(status["share_now"], 0, "{status}");
    assert_eq!(status["canary_failures"], 3, "{case}: {status}");
    assert_eq!(status["fallbacks"], 3, "{case}: {status}");
    let reason = status["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("3 canary streams lost to VM failures"),
        "{case}: {reason}"
    );
    let canary_streams = status["streams"][1].as_u64().unwrap_or(0);
    assert_eq!(
        canary_streams, 3,
        "no stream went to the canary after the third failure"
    );
    assert_eq!(
        metric(&proxy, "wasmesh_canary_rolled_back{plugin=\"headers\"}"),
        1.0
    );
    let failures: f64 = proxy
        .admin_get("/metrics")
        .text()
        .lines()
        .filter(|l| l.starts_with("wasmesh_vm_failures_by_kind_total{plugin=\"headers@canary\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    // The third stream found the VM down (rebuilding after the second failure waits).
    assert_eq!(
        failures, 2.0,
        "the canary's VM failures carry its own label"
    );
    // The live view shows the canary beside the stable version, with the rollback.
    let plugins = proxy.admin_get("/ui/data").json()["plugins"].clone();
    let row = plugins
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "headers@canary"))
        .unwrap_or_else(|| panic!("no canary row in /ui/data: {plugins}"));
    assert_eq!(
        (row["version"].as_str(), row["rollout"]["phase"].as_str()),
        (Some("canary"), Some("rolled_back")),
        "{row}"
    );
    assert_eq!(row["sha256"].as_str().map(str::len), Some(64), "{row}");
    poll_until("the rollback logged", Duration::from_secs(5), || {
        let logs = proxy.logs();
        if logs.contains("plugin \"headers\": canary rolled back") {
            Ok(())
        } else {
            Err("not yet".to_string())
        }
    });
}

/// A canary configuration that answers most of its streams with a 5xx itself (a rate limit
/// of one request a second answering 503) is rolled back once its 5xx share passes the limit.
pub fn canary_answering_5xx_is_rolled_back() {
    let backend = Backend::start("b1");
    let filters = build_filters();
    let canary = json!({
        "wasm": filters.ratelimit,
        "configuration": { "tokens_per_second": 1, "burst": 1, "key": "global", "status": 503 },
        "share_percent": 100,
        "rollback": { "vm_failures": 3, "local_5xx_percent": 50, "min_streams": 10, "window_ms": 60_000 },
    });
    let proxy = Wasmesh::start(config(&backend, canary));
    let url = proxy.url("main", "/");
    let statuses: Vec<u16> = (0..30)
        .map(|_| client::get(&url, &[]).status.as_u16())
        .collect();
    let failed = statuses.iter().filter(|s| **s == 503).count();
    let status = rollout(&proxy);
    assert_eq!(status["phase"], "rolled_back", "{status}");
    let reason = status["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("canary streams answered 5xx by the canary"),
        "{reason}"
    );
    // Rolled back at the 10th canary stream (9 of 10 answered 503); every later one is stable.
    assert_eq!(status["streams"][1], 10, "{status}");
    assert_eq!(failed, 9, "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 200), "{statuses:?}");
    // The canary's own metrics carry its version.
    assert_eq!(
        metric(&proxy, "ratelimit_limited_total{version=\"canary\"}"),
        9.0
    );
    assert_eq!(
        metric(&proxy, "ratelimit_allowed_total{version=\"canary\"}"),
        1.0
    );
}

/// `POST /rollout`: promote gives the canary every stream, rollback none, resume its share
/// again; a wrong request is a clear error.
pub fn admin_promotes_rolls_back_and_resumes() {
    let backend = Backend::start("b1");
    let canary = json!({ "configuration": canary_headers(), "share_percent": 0 });
    let proxy = Wasmesh::start(config(&backend, canary));
    let url = proxy.url("main", "/");
    let versions = |n: usize| -> Vec<String> {
        (0..n)
            .map(|_| version_of(&Client::http1_unpooled().get(&url, &[])))
            .collect()
    };
    assert!(versions(5).iter().all(|v| v == "stable"), "share 0");
    let (status, body) = post_rollout(&proxy, "plugin=headers&action=promote");
    assert_eq!(
        (status, body["phase"].as_str()),
        (200, Some("promoted")),
        "{body}"
    );
    assert!(versions(5).iter().all(|v| v == "canary"), "promoted");
    let (status, body) = post_rollout(&proxy, "plugin=headers&action=rollback");
    assert_eq!(
        (status, body["phase"].as_str()),
        (200, Some("rolled_back")),
        "{body}"
    );
    assert_eq!(body["reason"], "rolled back at the admin (POST /rollout)");
    assert!(versions(5).iter().all(|v| v == "stable"), "rolled back");
    let (status, body) = post_rollout(&proxy, "plugin=headers&action=resume");
    assert_eq!(
        (status, body["share_now"].as_u64()),
        (200, Some(0)),
        "{body}"
    );

    let (status, body) = post_rollout(&proxy, "plugin=nope&action=rollback");
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap_or_default()
        .contains("\"nope\" has no canary"));
    let (status, body) = post_rollout(&proxy, "plugin=headers&action=explode");
    assert_eq!(status, 400, "{body}");
    let (status, _) = post_rollout(&proxy, "plugin=headers");
    assert_eq!(status, 400);
    let get = proxy.admin_get("/rollout");
    assert_eq!(get.status, 405);
}

/// A reload that leaves the canary as it was keeps its rollout (a rolled-back canary stays
/// rolled back); one that changes the canary starts a new rollout.
pub fn reload_keeps_an_unchanged_rollout() {
    let backend = Backend::start("b1");
    let canary = json!({ "configuration": canary_headers(), "share_percent": 50 });
    let mut config = config(&backend, canary);
    let proxy = Wasmesh::start(config.clone());
    let (status, _) = post_rollout(&proxy, "plugin=headers&action=rollback");
    assert_eq!(status, 200);
    // An unrelated change: another route.
    config["listeners"][0]["routes"]
        .as_array_mut()
        .expect("routes")
        .insert(
            0,
            json!({ "match": { "prefix": "/other" }, "cluster": "backend" }),
        );
    reload(&proxy, &config);
    assert_eq!(rollout(&proxy)["phase"], "rolled_back", "unchanged canary");
    config["plugins"][0]["canary"]["configuration"] =
        json!({ "request": { "add": { VERSION_HEADER: "canary-2" } } });
    reload(&proxy, &config);
    let status = rollout(&proxy);
    assert_eq!(
        (status["phase"].as_str(), status["share_now"].as_u64()),
        (Some("canary"), Some(50)),
        "{status}"
    );
}

/// A canary that changes nothing, a share over 100, an empty sticky header, a zero threshold,
/// a missing module and a canary on a singleton: `wasmesh check` refuses each, naming the field.
pub fn bad_canaries_are_refused_naming_the_field() {
    use super::config::check;
    let backend = Backend::start("b1");
    let with = |canary: Value| config(&backend, canary);
    let cases = [
        (
            json!({ "share_percent": 10 }),
            "plugins[0].canary`: a canary changes",
        ),
        (
            json!({ "configuration": canary_headers(), "share_percent": 101 }),
            "plugins[0].canary.share_percent`: must be 0..=100",
        ),
        (
            json!({ "configuration": canary_headers(), "share_percent": 10, "sticky": { "header": "" } }),
            "plugins[0].canary.sticky.header`: must not be empty",
        ),
        (
            json!({ "configuration": canary_headers(), "share_percent": 10, "rollback": { "vm_failures": 0 } }),
            "plugins[0].canary.rollback.vm_failures`: must be > 0",
        ),
        (
            json!({ "configuration": canary_headers(), "share_percent": 10, "rollback": { "window_ms": 0 } }),
            "plugins[0].canary.rollback.window_ms`: must be > 0",
        ),
        (
            json!({ "configuration": canary_headers(), "share_percent": 10, "rollback": { "local_5xx_percent": 0 } }),
            "plugins[0].canary.rollback.local_5xx_percent`: must be 1..=100",
        ),
        (
            json!({ "configuration": canary_headers(), "share_percent": 10, "mirror": true }),
            "plugins[0].canary.mirror",
        ),
    ];
    for (canary, needle) in cases {
        check(&with(canary)).assert_rejected(&[needle]);
    }
    let missing = json!({ "wasm": "/nonexistent/canary.wasm", "share_percent": 10 });
    check(&with(missing))
        .assert_rejected(&["plugin \"headers\": canary", "/nonexistent/canary.wasm"]);
    let mut singleton = with(json!({ "configuration": canary_headers(), "share_percent": 10 }));
    singleton["listeners"][0]["filters"] = json!([]);
    check(&singleton).assert_rejected(&["plugins[0].canary`: plugin \"headers\" is a singleton"]);
}

/// Under steady load (8 keep-alive connections, half of them drawing the canary), a canary
/// that traps on every request costs no request and is rolled back; prints how long after the
/// load started, and how many requests were served meanwhile (README, Rollouts).
pub fn trapping_canary_under_load_fails_no_request() {
    let backend = Backend::start("b1");
    let filters = build_filters();
    let canary = json!({ "wasm": filters.misbehave, "share_percent": 50,
                         "rollback": { "vm_failures": 3, "window_ms": 10_000 } });
    let proxy = Wasmesh::start(config(&backend, canary));
    proxy.expect_vm_failures();
    let started_ms = unix_ms();
    let load = crate::load::Load::start_with(
        proxy.listener("main"),
        "/",
        "x-backend",
        8,
        &[("x-misbehave", "trap")],
    );
    let status = poll_until("the canary rolled back", Duration::from_secs(10), || {
        let status = rollout(&proxy);
        if status["phase"] == "rolled_back" {
            Ok(status)
        } else {
            Err(status.to_string())
        }
    });
    std::thread::sleep(Duration::from_secs(1));
    let report = load.stop();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let rolled_back_ms = status["changed_ms"].as_u64().unwrap_or(0);
    eprintln!(
        "rolled back {} ms after the load started; {} requests served, 0 failed; {} canary streams, {} handed to the stable version",
        rolled_back_ms.saturating_sub(started_ms),
        report.ok.len(),
        status["streams"][1],
        status["fallbacks"],
    );
    assert_eq!(status["fallbacks"], status["streams"][1], "{status}");
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The README's rollout example loads as it is.
pub fn the_example_checks() {
    build_filters();
    let example = crate::workspace_root().join("examples/rollout/wasmesh.json");
    let output = std::process::Command::new(crate::wasmesh_bin())
        .arg("check")
        .arg("-c")
        .arg(&example)
        .output()
        .expect("running wasmesh check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("OK (1 plugins and 1 canaries loaded"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Shadow mode: the canary runs on a copy of every request's headers (share 100) and sees the
/// outcome, but the stable version serves: a canary rate limit answering 503 changes no answer
/// (its own counters show what it decided), and a canary that traps costs nothing and is rolled
/// back all the same.
pub fn shadow_canary_watches_without_changing_anything() {
    let backend = Backend::start("b1");
    let filters = build_filters();
    let limiting = json!({
        "wasm": filters.ratelimit,
        "configuration": { "tokens_per_second": 1, "burst": 1, "key": "global", "status": 503 },
        "share_percent": 100, "shadow": true,
    });
    let proxy = Wasmesh::start(config(&backend, limiting));
    let url = proxy.url("main", "/");
    for _ in 0..20 {
        assert_eq!(version_of(&client::get(&url, &[])), "stable");
    }
    let limited = metric(&proxy, "ratelimit_limited_total{version=\"canary\"}");
    let allowed = metric(&proxy, "ratelimit_allowed_total{version=\"canary\"}");
    assert_eq!(
        limited + allowed,
        20.0,
        "the shadow decided on every request"
    );
    assert!(
        limited >= 18.0,
        "it would have answered 503 to {limited} of them"
    );
    let status = rollout(&proxy);
    assert_eq!(status["streams"], json!([0, 20]), "{status}");
    assert_eq!(status["phase"], "canary", "{status}");

    let trapping = json!({ "wasm": filters.misbehave, "share_percent": 100, "shadow": true,
                           "rollback": { "vm_failures": 3, "window_ms": 60_000 } });
    let proxy = Wasmesh::start(config(&backend, trapping));
    proxy.expect_vm_failures();
    let url = proxy.url("main", "/");
    for _ in 0..10 {
        let response = client::get(&url, &[("x-misbehave", "trap")]);
        assert_eq!(version_of(&response), "stable");
    }
    let status = rollout(&proxy);
    assert_eq!(status["phase"], "rolled_back", "{status}");
    assert_eq!(
        (
            status["canary_failures"].as_u64(),
            status["fallbacks"].as_u64()
        ),
        (Some(3), Some(0)),
        "{status}"
    );
}
