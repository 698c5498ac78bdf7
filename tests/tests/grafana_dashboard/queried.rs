//! Every dashboard query through a real Prometheus scraping wasmesh and Envoy while a known
//! traffic mix flows: each returns data for the proxies that expose its metrics (none for Envoy
//! where it reads wasmesh's own), and the success rate and request rate are the mix's.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use wasmesh_tests::prometheus::{Job, Prometheus};
use wasmesh_tests::{client, poll_until, Backend, Proxy, ProxyKind};

use super::exposed::dashboard_mesh;
use super::names::metric_names;
use super::{dashboard, queries};

/// How long the mix flows.
const TRAFFIC: Duration = Duration::from_secs(8);
/// One round every 50 ms: 4 answered requests and 1 failed (503) through `main`, 1 through
/// `none` (no endpoint): 100 requests/s on `main` with a success rate of 0.8.
const ROUND: Duration = Duration::from_millis(50);
const OK_PER_ROUND: usize = 4;
const FAILED_PER_ROUND: usize = 1;
/// What `$__rate_interval` stands for (Grafana's: four scrape intervals).
const RATE_INTERVAL: &str = "4s";

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// Sends the mix through `proxy` for [`TRAFFIC`]; returns the requests sent through `main`.
fn send_mix(proxy: &Proxy) -> usize {
    let start = Instant::now();
    let mut sent = 0;
    let mut round = 0u32;
    while start.elapsed() < TRAFFIC {
        for _ in 0..OK_PER_ROUND {
            assert_eq!(client::get(&proxy.url("main", "/"), &[]).status, 200);
        }
        for _ in 0..FAILED_PER_ROUND {
            assert_eq!(
                client::get(&proxy.url("main", "/status/503"), &[]).status,
                503
            );
        }
        assert_eq!(client::get(&proxy.url("none", "/"), &[]).status, 503);
        sent += OK_PER_ROUND + FAILED_PER_ROUND;
        round += 1;
        if let Some(wait) = (ROUND * round).checked_sub(start.elapsed()) {
            thread::sleep(wait);
        }
    }
    sent
}

/// `expr` with the dashboard's variables set for one job.
fn for_job(expr: &str, job: &str) -> String {
    expr.replace("$__rate_interval", RATE_INTERVAL)
        .replace("$job", job)
        .replace("$authority", ".*")
        .replace("$route", ".*")
        .replace("$service", ".*")
}

/// A template variable's `label_values(<selector>, <label>)` as the PromQL Grafana runs for it.
fn label_values_query(variable: &str) -> String {
    let inner = variable
        .strip_prefix("label_values(")
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not a label_values query: {variable}"));
    let (selector, label) = inner
        .rsplit_once(',')
        .expect("label_values(selector, label)");
    format!("count by ({}) ({selector})", label.trim())
}

/// The one value of a result, as a number.
fn value(result: &[Value], expr: &str) -> f64 {
    assert_eq!(result.len(), 1, "{expr}: one series expected: {result:?}");
    result[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{expr}: no value: {result:?}"))
}

#[test]
fn dashboard_queries_answer_through_prometheus() {
    let backend = Backend::start("b1");
    let config = dashboard_mesh(&backend);
    let wasmesh = ProxyKind::Wasmesh.start(&config);
    let envoy = ProxyKind::Envoy.start(&config);
    let prometheus = Prometheus::start(&[
        Job {
            name: "wasmesh",
            target: wasmesh.admin_addr(),
            path: "/metrics",
        },
        Job {
            name: "envoy",
            target: envoy.admin_addr(),
            path: "/stats/prometheus",
        },
    ]);
    // Prometheus applies its targets a few seconds after it starts: the mix flows once both
    // proxies have been scraped.
    for job in ["wasmesh", "envoy"] {
        poll_until(
            "Prometheus to scrape both proxies",
            Duration::from_secs(30),
            || {
                let scraped = prometheus.last_scrape(job, unix_now());
                scraped
                    .map(|_| ())
                    .ok_or_else(|| format!("{job}: not scraped yet"))
            },
        );
    }
    let sent: Vec<usize> = thread::scope(|scope| {
        let threads: Vec<_> = [&wasmesh, &envoy]
            .map(|proxy| scope.spawn(move || send_mix(proxy)))
            .into_iter()
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("traffic thread"))
            .collect()
    });
    let ended = unix_now();
    // Evaluate one second before the traffic stopped, once the scrapes after it are in.
    let at = ended - 1.0;
    for job in ["wasmesh", "envoy"] {
        poll_until(
            "Prometheus to scrape past the traffic",
            Duration::from_secs(10),
            || match prometheus.last_scrape(job, unix_now()) {
                Some(last) if last > ended => Ok(()),
                last => Err(format!(
                    "{job}: last scrape at {last:?}, traffic ended at {ended}"
                )),
            },
        );
    }

    let (exprs, variables) = queries(&dashboard());
    let variables: Vec<String> = variables.iter().map(|v| label_values_query(v)).collect();
    for expr in exprs.iter().chain(&variables) {
        let only_wasmesh = metric_names(expr).iter().all(|m| m.starts_with("wasmesh_"));
        for job in ["wasmesh", "envoy"] {
            let query = for_job(expr, job);
            let result = prometheus.query(&query, at);
            if job == "envoy" && only_wasmesh {
                assert!(
                    result.is_empty(),
                    "{job}: {query}: Envoy has none of these: {result:?}"
                );
            } else {
                assert!(!result.is_empty(), "{job}: {query}: no data");
            }
        }
    }

    let panel = |title: &str| -> String {
        let dashboard = dashboard();
        let panels = dashboard["panels"].as_array().expect("panels").clone();
        let panel = panels
            .iter()
            .find(|p| p["title"] == title)
            .unwrap_or_else(|| panic!("no panel {title:?}"));
        panel["targets"][0]["expr"]
            .as_str()
            .expect("expr")
            .to_string()
    };
    let expected_rate = (OK_PER_ROUND + FAILED_PER_ROUND) as f64 / ROUND.as_secs_f64();
    for (job, sent) in ["wasmesh", "envoy"].into_iter().zip(sent) {
        let query = for_job(&panel("Success rate"), job);
        let success = value(&prometheus.query(&query, at), &query);
        let mix = OK_PER_ROUND as f64 / (OK_PER_ROUND + FAILED_PER_ROUND) as f64;
        assert!(
            (success - mix).abs() < 0.05,
            "{job}: success rate {success}, sent {mix}"
        );
        let query = for_job(&panel("Requests per second"), job);
        let rate = value(&prometheus.query(&query, at), &query);
        assert!(
            (rate / expected_rate - 1.0).abs() < 0.2,
            "{job}: {rate} requests/s, sent {expected_rate}/s ({sent} in {TRAFFIC:?})"
        );
        println!("{job}: success rate {success:.3}, {rate:.1} requests/s (sent {expected_rate}/s)");
    }
}
