//! `examples/grafana/`: the Prometheus scrape config passes `promtool check config`, every
//! dashboard query is valid PromQL (`promtool check rules`), and every metric the dashboard
//! queries is one the filters and wasmesh really expose ([`names`]) — checked against real
//! wasmesh and Envoy admins after traffic through the metrics and lb filters ([`exposed`]); the
//! example's wasmesh configuration passes `wasmesh check`; and every query answers through a
//! real Prometheus scraping both hosts under a known traffic mix ([`queried`]).

mod exposed;
mod names;
mod queried;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use wasmesh_tests::{target_dir, workspace_root};

use names::{metric_names, KNOWN};

fn grafana_dir() -> PathBuf {
    workspace_root().join("examples").join("grafana")
}

/// `/usr/bin/promtool` (Debian package `prometheus`); a loud failure when missing.
fn promtool(args: &[&str]) -> std::process::Output {
    let bin = Path::new("/usr/bin/promtool");
    assert!(
        bin.is_file(),
        "promtool missing: install the Debian package `prometheus` (cargo xtask test does)"
    );
    Command::new(bin)
        .args(args)
        .output()
        .expect("running promtool")
}

fn dashboard() -> Value {
    let path = grafana_dir().join("wasmesh-dashboard.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Every panel's queries, and the template variables' `label_values(...)` queries.
fn queries(dashboard: &Value) -> (Vec<String>, Vec<String>) {
    let panels = dashboard["panels"].as_array().expect("panels");
    let exprs = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("a target's expr").to_string())
        .collect();
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .map(|v| {
            v["query"]["query"]
                .as_str()
                .expect("a variable's query")
                .to_string()
        })
        .collect();
    (exprs, variables)
}

#[test]
fn prometheus_config_passes_promtool() {
    let config = grafana_dir().join("prometheus.yml");
    let output = promtool(&["check", "config", config.to_str().expect("UTF-8 path")]);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn dashboard_is_an_importable_grafana_dashboard() {
    let dashboard = dashboard();
    let inputs = dashboard["__inputs"].as_array().expect("__inputs");
    assert_eq!(inputs[0]["name"], "DS_PROMETHEUS", "{inputs:?}");
    assert_eq!(inputs[0]["pluginId"], "prometheus");
    let panels = dashboard["panels"].as_array().expect("panels");
    let ids: BTreeSet<u64> = panels
        .iter()
        .map(|p| p["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in [
        "Success rate",
        "Requests per second",
        "Latency p50",
        "Latency p95",
        "Latency p99",
        "Requests in flight",
        "Request share per endpoint",
        "Peak-EWMA latency estimate",
        "VM failures and rebuilds",
    ] {
        assert!(
            titles.contains(&wanted),
            "no panel {wanted:?} in {titles:?}"
        );
    }
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{}",
            panel["title"]
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} has no query", panel["title"]);
        for target in targets {
            assert_eq!(
                target["datasource"]["uid"], "${DS_PROMETHEUS}",
                "{}",
                panel["title"]
            );
        }
    }
}

#[test]
fn every_query_is_valid_promql() {
    let (exprs, _) = queries(&dashboard());
    // Grafana's variables replaced as Grafana would for "All".
    let rules: Vec<Value> = exprs
        .iter()
        .enumerate()
        .map(|(i, expr)| {
            let expr = expr
                .replace("$__rate_interval", "1m")
                .replace("$job", ".*")
                .replace("$authority", ".*")
                .replace("$route", ".*")
                .replace("$service", ".*");
            json!({ "record": format!("dashboard:query_{i}"), "expr": expr })
        })
        .collect();
    assert!(rules.len() >= 15, "{} queries", rules.len());
    let dir = target_dir().join("e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e");
    let path = dir.join(format!("dashboard-rules-{}.yml", std::process::id()));
    let doc = json!({ "groups": [{ "name": "dashboard", "rules": rules }] });
    std::fs::write(&path, doc.to_string()).expect("writing the rules file");
    let output = promtool(&["check", "rules", path.to_str().expect("UTF-8 path")]);
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn dashboard_queries_only_known_metrics() {
    let (exprs, variables) = queries(&dashboard());
    for expr in exprs.iter().chain(&variables) {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "no metric found in {expr:?}");
        for name in &names {
            assert!(
                KNOWN.contains(&name.as_str()),
                "{name} (in {expr:?}) is no known metric"
            );
        }
    }
}

#[test]
fn monitoring_config_passes_wasmesh_check() {
    wasmesh_tests::build_filters(); // the config loads the built metrics and lb modules
    let config = grafana_dir().join("wasmesh.json");
    let output = Command::new(wasmesh_tests::wasmesh_bin())
        .arg("check")
        .arg("-c")
        .arg(&config)
        .output()
        .expect("running wasmesh check");
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("OK (2 plugins loaded and configured"),
        "{output:?}"
    );
}
