//! Label values stay bounded whatever the traffic: 10 000 distinct paths and 500 distinct
//! `Host` headers make at most `max_label_values + 1` authorities (the rest is `overflow`) and
//! only configured route names.

use std::collections::BTreeSet;
use std::thread;

use serde_json::json;
use wasmesh_contract::exposition as prometheus;

use super::Rig;
use crate::client::Client;
use crate::ProxyKind;

const REQUESTS: usize = 10_000;
const HOSTS: usize = 500;
const CAP: usize = 100;
/// Client threads, each on its own kept-alive connection.
const THREADS: usize = 4;

/// Request `i`: a distinct path (`/users/<i>` or `/x/<i>`), host `h<i % HOSTS>`.
fn request(i: usize) -> (String, String) {
    let path = if i.is_multiple_of(2) {
        format!("/users/{i}")
    } else {
        format!("/x/{i}/y")
    };
    (path, format!("h{}", i % HOSTS))
}

/// 10 000 requests, each path distinct, over 500 hosts, with the default cap of 100: the hosts
/// first seen keep their label, every later one is `overflow` (exactly the requests of hosts
/// `h100..h499`: the first 500 requests go out in host order), routes are `users` and
/// `default`, no raw path is a label, and `request_total` has at most (100 + 1) × 2 series.
pub fn distinct_paths_and_hosts_stay_capped(kind: ProxyKind) {
    let host = kind.name();
    let rig = Rig::start(kind, json!({ "access_log": false }));
    // The first HOSTS requests in order, so the first CAP hosts seen are h0..h99.
    send(&rig, &Client::http1(), 0..HOSTS);
    let per_thread = (REQUESTS - HOSTS) / THREADS;
    thread::scope(|scope| {
        for t in 0..THREADS {
            let rig = &rig;
            let start = HOSTS + t * per_thread;
            scope.spawn(move || send(rig, &Client::http1(), start..start + per_thread));
        }
    });
    let text = rig.proxy.admin_get("/stats/prometheus").text();
    let series: Vec<prometheus::Sample> = prometheus::samples(&text)
        .into_iter()
        .filter(|s| s.name == "request_total")
        .collect();
    let total: f64 = series.iter().map(|s| s.value).sum();
    assert_eq!(total, REQUESTS as f64, "{host}: every request counted");
    let label = |name: &str| -> BTreeSet<String> {
        series
            .iter()
            .filter_map(|s| s.labels.get(name).cloned())
            .collect()
    };
    let authorities = label("authority");
    assert_eq!(authorities.len(), CAP + 1, "{host}: {authorities:?}");
    assert!(authorities.contains("overflow"), "{host}: {authorities:?}");
    assert!(
        authorities.contains("h99") && !authorities.contains("h100"),
        "{host}"
    );
    let routes = label("route");
    assert_eq!(
        routes,
        BTreeSet::from(["default".to_string(), "users".to_string()]),
        "{host}"
    );
    assert!(
        series.len() <= (CAP + 1) * 2,
        "{host}: {} series",
        series.len()
    );
    let overflow: f64 = series
        .iter()
        .filter(|s| s.labels.get("authority").map(String::as_str) == Some("overflow"))
        .map(|s| s.value)
        .sum();
    let late_hosts = REQUESTS * (HOSTS - CAP) / HOSTS;
    assert_eq!(overflow, late_hosts as f64, "{host}: overflow requests");
    assert!(
        !text.contains("/users/") && !text.contains("/x/"),
        "{host}: a raw path became a label"
    );
}

fn send(rig: &Rig, client: &Client, requests: std::ops::Range<usize>) {
    for i in requests {
        let (path, authority) = request(i);
        let response = client.get(&rig.proxy.url("main", &path), &[("host", &authority)]);
        assert_eq!(response.status, 200, "{}: {path}", rig.proxy.kind.name());
    }
}
