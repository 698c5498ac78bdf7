//! Changing a running wasmesh: the config file and its modules watched, listeners added, moved
//! and removed by a reload, and filters swapped under steady load without a failed request.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::load::{Load, LoadReport};
use crate::{build_filters, Cluster, Listener, MeshConfig, Plugin, Proxy, Route};

/// The response header the swapped filters set, naming the behaviour that served.
pub const MARKER: &str = "x-version";

/// Replaces `path` the way deploy tools do: write a sibling, then rename it over.
pub fn replace_file(path: &Path, contents: &[u8]) {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, contents).unwrap_or_else(|e| panic!("writing {}: {e}", tmp.display()));
    fs::rename(&tmp, path).unwrap_or_else(|e| panic!("renaming onto {}: {e}", path.display()));
}

/// Writes `config` over the running proxy's config file (atomically).
pub fn rewrite_config(proxy: &Proxy, config: &Value) {
    let text = serde_json::to_string_pretty(config).expect("a JSON value serializes");
    replace_file(&proxy.run_dir().join("wasmesh.json"), text.as_bytes());
}

/// Copies `module` into `dir` as `name` (so a test can replace it without touching the build).
pub fn copy_module(module: &Path, dir: &Path, name: &str) -> PathBuf {
    let target = dir.join(name);
    fs::copy(module, &target).unwrap_or_else(|e| panic!("copying {}: {e}", module.display()));
    target
}

/// Listener addresses as `/listeners?format=json` reports them now.
pub fn bound_listeners(proxy: &Proxy) -> Vec<(String, SocketAddr)> {
    let body = proxy.admin_get("/listeners?format=json").json();
    body["listener_statuses"]
        .as_array()
        .unwrap_or_else(|| panic!("/listeners: {body}"))
        .iter()
        .map(|l| {
            let address = &l["local_address"]["socket_address"];
            let addr = format!(
                "{}:{}",
                address["address"].as_str().unwrap_or_default(),
                address["port_value"]
            );
            let name = l["name"].as_str().unwrap_or_default().to_string();
            (name, addr.parse().expect("a socket address"))
        })
        .collect()
}

/// One version of the swapped setup: which module, and the configuration that makes it answer
/// with `marker` in [`MARKER`].
#[derive(Debug, Clone)]
pub struct Version {
    /// The value responses carry while this version serves.
    pub marker: String,
    /// The whole wasmesh configuration.
    pub config: Value,
}

/// Version `i` of a filter swapped under load, alternating two modules and, within each,
/// configurations: even `i` → the `headers` module adding `x-version: headers-<i>`; odd `i` →
/// the `lb` module echoing its pick in `x-version`, alternating between `upstreams`.
pub fn version(i: usize, modules: &SwapModules, upstreams: [SocketAddr; 2]) -> Version {
    let filter = swapped_filter(i, modules, upstreams);
    let cluster = if filter.picks_endpoint {
        "dynamic"
    } else {
        "static"
    };
    let config = MeshConfig::new()
        .workers(2)
        .plugin(Plugin::new("swapped", &filter.wasm).configuration(filter.configuration))
        .cluster(Cluster::fixed("static", [upstreams[0]]))
        .cluster(Cluster::original_dst(
            "dynamic",
            "x-envoy-original-dst-host",
        ))
        .listener(
            Listener::new("main")
                .filter("swapped")
                .route(Route::prefix("/", cluster)),
        )
        .to_wasmesh_json();
    Version {
        marker: filter.marker,
        config,
    }
}

/// The filter alone of [`version`] `i`, for hosts that swap only the filter (Envoy's ECDS)
/// and so route every version alike, on whether `x-envoy-original-dst-host` is set.
pub struct SwappedFilter {
    /// The module.
    pub wasm: PathBuf,
    /// Its plugin configuration.
    pub configuration: Value,
    /// The value responses carry while this version serves.
    pub marker: String,
    /// True for `lb`: it names the endpoint in `x-envoy-original-dst-host`, for an
    /// `original_dst` cluster; `headers` requests go to a static cluster of `upstreams[0]`.
    pub picks_endpoint: bool,
}

/// The filter of [`version`] `i`.
pub fn swapped_filter(
    i: usize,
    modules: &SwapModules,
    upstreams: [SocketAddr; 2],
) -> SwappedFilter {
    if i.is_multiple_of(2) {
        let marker = format!("headers-{i}");
        SwappedFilter {
            wasm: modules.headers.clone(),
            configuration: json!({ "response": { "set": { MARKER: marker.clone() } } }),
            marker,
            picks_endpoint: false,
        }
    } else {
        let upstream = upstreams[(i / 2) % 2];
        SwappedFilter {
            wasm: modules.lb.clone(),
            configuration: json!({
                "service": "web", "policy": "round_robin", "response_header": MARKER,
                "endpoints": [{ "address": upstream.to_string() }],
            }),
            marker: upstream.to_string(),
            picks_endpoint: true,
        }
    }
}

/// The two modules a swap alternates between, copied next to the config.
pub struct SwapModules {
    /// The `headers` filter.
    pub headers: PathBuf,
    /// The `lb` filter.
    pub lb: PathBuf,
}

impl SwapModules {
    /// Copies both modules into `dir`.
    pub fn copy_into(dir: &Path) -> SwapModules {
        let filters = build_filters();
        SwapModules {
            headers: copy_module(&filters.headers, dir, "headers.wasm"),
            lb: copy_module(&filters.lb, dir, "lb.wasm"),
        }
    }
}

/// How one swap went, from the load's point of view.
#[derive(Debug)]
pub struct SwapOutcome {
    /// The version swapped in.
    pub marker: String,
    /// From the file write to the last response of an older version.
    pub switch: Duration,
    /// Responses of the new version before the next swap.
    pub served: usize,
}

/// For each swap `(written at, marker)` and the next swap's time, when the old behaviour
/// stopped; panics if a response after the switch window carries another marker.
pub fn swap_outcomes(
    report: &LoadReport,
    swaps: &[(Instant, String)],
    end: Instant,
    window: Duration,
) -> Vec<SwapOutcome> {
    let outcomes = swap_timings(report, swaps, end);
    for SwapOutcome { marker, switch, .. } in &outcomes {
        assert!(
            *switch <= window,
            "swap to {marker}: an older version still answered {switch:?} after the write"
        );
    }
    outcomes
}

/// [`swap_outcomes`] without the bound, for a test that prints every swap's figures before
/// asserting on them.
pub fn swap_timings(
    report: &LoadReport,
    swaps: &[(Instant, String)],
    end: Instant,
) -> Vec<SwapOutcome> {
    let mut outcomes = Vec::new();
    for (i, (at, marker)) in swaps.iter().enumerate() {
        let until = swaps.get(i + 1).map_or(end, |(next, _)| *next);
        let during: Vec<_> = report
            .ok
            .iter()
            .filter(|s| s.at >= *at && s.at < until)
            .collect();
        let last_old = during
            .iter()
            .filter(|s| s.marker.as_deref() != Some(marker))
            .map(|s| s.at)
            .max();
        let served = during
            .iter()
            .filter(|s| s.marker.as_deref() == Some(marker))
            .count();
        outcomes.push(SwapOutcome {
            marker: marker.clone(),
            switch: last_old.map_or(Duration::ZERO, |t| t - *at),
            served,
        });
    }
    outcomes
}

/// Starts steady load on the proxy's `main` listener.
pub fn start_load(proxy: &Proxy, connections: usize) -> Load {
    Load::start(proxy.listener("main"), "/swap", MARKER, connections)
}
