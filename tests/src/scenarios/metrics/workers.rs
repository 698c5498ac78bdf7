//! Counts from every worker and every VM add up: each worker's VM counts a filter's counters
//! and histograms on its own (wasmesh in cells per VM, Envoy in its stats), and a scrape shows
//! their sum; in wasmesh a reload that replaces the VMs keeps the totals going.

use serde_json::json;

use super::{assert_samples, config_with, mesh, plus, request_labels, Expected, Labels};
use crate::{client, Backend, Proxy, ProxyKind};

/// Requests sent in each round, each on a new connection (the kernel spreads connections over
/// the workers' sockets).
const ROUND: usize = 100;

fn send_round(proxy: &Proxy) {
    for i in 0..ROUND {
        let response = client::get(&proxy.url("main", &format!("/w?i={i}")), &[]);
        assert_eq!(response.status, 200, "{}", response.text());
    }
}

/// The default route's request count, its 200s and its latency samples, all `n`.
fn counted(proxy: &Proxy, n: usize) -> Vec<Expected> {
    let default: Labels = request_labels(&proxy.listener("main").to_string(), "default");
    let ok = plus(
        &default,
        &[("status_code", "200"), ("classification", "success")],
    );
    let n = n as f64;
    vec![
        ("request_total", default, n),
        ("response_total", ok.clone(), n),
        ("response_latency_ms_count", ok, n),
    ]
}

/// Two workers: every request counted once in the sum of both workers' counts.
pub fn counts_from_every_worker_add_up(kind: ProxyKind) {
    let backend = Backend::start("b1");
    let proxy = kind.start(&mesh(config_with(json!({})), [backend.addr]).workers(2));
    send_round(&proxy);
    send_round(&proxy);
    assert_samples(&proxy, &counted(&proxy, 2 * ROUND));
}

/// wasmesh: a reload with a new filter configuration replaces every worker's VM; the counts
/// the old VMs made stay in the totals (read before any new request), and the new VMs' counts
/// add to them.
pub fn counts_outlive_the_vms_a_reload_replaces() {
    let backend = Backend::start("b1");
    let config = mesh(config_with(json!({})), [backend.addr]).workers(2);
    let proxy = ProxyKind::Wasmesh.start(&config);
    send_round(&proxy);
    assert_samples(&proxy, &counted(&proxy, ROUND));
    let mut changed = config.to_wasmesh_json();
    changed["plugins"][0]["configuration"]["routes"]
        .as_array_mut()
        .expect("the filter configuration has routes")
        .push(json!({ "name": "extra", "prefix": "/extra/" }));
    let (status, body) = super::super::remote_modules::reload_with(&proxy, &changed);
    assert_eq!(status, 200, "{body}");
    assert_samples(&proxy, &counted(&proxy, ROUND));
    send_round(&proxy);
    assert_samples(&proxy, &counted(&proxy, 2 * ROUND));
}
