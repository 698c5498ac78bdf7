//! The live view: a page the admin serves at `/ui` (and `/`), drawn in the browser from
//! `/ui/data`, which updates itself every [`SAMPLE_EVERY`](super::live::SAMPLE_EVERY). Its
//! assets are compiled into the binary, the charting library (uPlot, MIT, vendored from its npm
//! release: `ui/vendor/README.md`) included, so the proxy needs nothing at run time and the page
//! works with no network beyond the admin.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use wasmesh_contract::exposition::{self, Sample};

use super::live::{Live, SAMPLE_EVERY};
use crate::host::Host;
use crate::stat::snapshot::EndpointKey;

/// A file of the page: its path under the admin, content type and bytes.
pub struct Asset {
    /// Where the admin serves it.
    pub path: &'static str,
    /// Its `content-type`.
    pub content_type: &'static str,
    /// The file.
    pub body: &'static str,
}

/// Everything the page loads.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/ui",
        content_type: "text/html; charset=utf-8",
        body: include_str!("ui/index.html"),
    },
    Asset {
        path: "/ui/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("ui/app.js"),
    },
    Asset {
        path: "/ui/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("ui/style.css"),
    },
    Asset {
        path: "/ui/vendor/uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("ui/vendor/uPlot.iife.min.js"),
    },
    Asset {
        path: "/ui/vendor/uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("ui/vendor/uPlot.min.css"),
    },
];

/// The asset served at `path`, if any.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// `GET /ui/data`: the kept windows, the endpoints with their health and last window, the
/// plugins with their module digest, failures, rebuilds and memory, and the last reloads.
pub fn data(host: &Host, live: &Live) -> Value {
    let samples = exposition::samples(&super::metrics(host));
    json!({
        "generation": host.current_id(),
        "sample_every_ms": SAMPLE_EVERY.as_millis() as u64,
        "windows": live.windows(),
        "endpoints": endpoints(host, live),
        "plugins": plugins(host, &samples),
        "reloads": host.reloads.newest_first(),
    })
}

/// One row per endpoint: what discovery published and failover's health (`/endpoints`), joined
/// with the lb filter's last minute; lb endpoints no discovery published come last.
fn endpoints(host: &Host, live: &Live) -> Vec<Value> {
    let view = super::endpoints::collect(host);
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    let lb = |key: &EndpointKey| {
        live.endpoint(key).map_or_else(
            || json!({"rps": null, "failures": null, "in_flight": null, "ewma_ms": null}),
            |row| {
                json!({"rps": row.rps, "failures": row.failures, "in_flight": row.in_flight,
                       "ewma_ms": row.ewma_ms})
            },
        )
    };
    for service in &view.services {
        for endpoint in &service.endpoints {
            let key = EndpointKey {
                service: service.service.clone(),
                endpoint: endpoint.address.clone(),
            };
            rows.push(json!({
                "service": service.service, "address": endpoint.address,
                "weight": endpoint.weight, "priority": endpoint.priority, "zone": endpoint.zone,
                "source": service.source, "version": service.version, "stale": service.stale,
                "age_ms": service.age_ms, "ejected": endpoint.ejected,
                "ejected_until_ms": endpoint.ejected_until_ms, "ejections": endpoint.ejections,
                "lb": lb(&key),
            }));
            seen.insert(key);
        }
    }
    for key in live.endpoint_keys() {
        if !seen.contains(&key) {
            rows.push(json!({"service": key.service, "address": key.endpoint, "lb": lb(&key)}));
        }
    }
    rows
}

/// One row per configured plugin and one per canary, with the figures `/metrics` has for each
/// (a canary's under `<name>@canary`) and the plugin's rollout.
fn plugins(host: &Host, samples: &[Sample]) -> Vec<Value> {
    let by_plugin = |name: &str| -> BTreeMap<String, f64> {
        let mut values = BTreeMap::new();
        for sample in samples.iter().filter(|s| s.name == name) {
            if let Some(plugin) = sample.labels.get("plugin") {
                *values.entry(plugin.clone()).or_default() += sample.value;
            }
        }
        values
    };
    let memory = by_plugin("wasmesh_plugin_memory_bytes");
    let rebuilds = by_plugin("wasmesh_vm_rebuilds_by_plugin_total");
    let calls = by_plugin("wasmesh_plugin_callback_seconds_count");
    let seconds = by_plugin("wasmesh_plugin_callback_seconds_sum");
    let failures = |plugin: &str| -> BTreeMap<String, f64> {
        samples
            .iter()
            .filter(|s| s.name == "wasmesh_vm_failures_by_kind_total")
            .filter(|s| s.labels.get("plugin").map(String::as_str) == Some(plugin))
            .filter_map(|s| Some((s.labels.get("kind")?.clone(), s.value)))
            .collect()
    };
    let generation = host.current();
    let mut rows = Vec::new();
    for plugin in &generation.config.plugins {
        let name = plugin.name.as_str();
        let canary = generation.canaries.get(name);
        let rollout = canary.map(|c| serde_json::to_value(c.rollout.status()).unwrap_or_default());
        let row = |label: &str, version: &str, sha256: Option<&str>, fail_open: bool| {
            let (calls, seconds) = (calls.get(label).copied(), seconds.get(label).copied());
            json!({
                "name": label, "plugin": name, "version": version, "root_id": plugin.root_id,
                "vm_id": plugin.vm_id, "sha256": sha256, "fail_open": fail_open,
                "memory_bytes": memory.get(label), "rebuilds": rebuilds.get(label).copied().unwrap_or(0.0),
                "failures": failures(label), "calls": calls,
                "mean_call_us": calls.filter(|n| *n > 0.0).zip(seconds).map(|(n, s)| s / n * 1e6),
                "rollout": rollout,
            })
        };
        let sha256 = generation
            .factories
            .get(name)
            .and_then(|f| f.module_sha256());
        rows.push(row(name, "stable", sha256, plugin.fail_open));
        if let Some(canary) = canary {
            let info = &canary.factory.info;
            let sha256 = canary.factory.module_sha256();
            rows.push(row(&info.label(), "canary", sha256, info.fail_open));
        }
    }
    rows
}
