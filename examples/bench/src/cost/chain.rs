//! The filter chain `--chain` names, and the one proxy description both hosts get for it.
//!
//! Everything a filter needs from the bench (its module, configuration, VM id, whether it picks
//! the endpoint, extra host settings, the mark that proves it ran) is one [`Spec`], returned by
//! one match arm of [`Filter::spec`]: adding a filter is one variant and one arm.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use serde_json::Value;
use wasmesh_common::metrics::LATENCY_BUCKETS_MS;
use wasmesh_tests::{Cluster, FilterSet, Listener, MeshConfig, Plugin, Route};

use crate::cost::marks::{self, Evidence};
use crate::lb::cases::PICK_HEADER;

/// A filter the cost benchmark can put in a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `filters/headers`: one request and one response header, about the least a filter can do.
    Headers,
    /// `filters/metrics`: Linkerd's golden metrics, trace headers, access log.
    Metrics,
    /// `filters/failover`: outlier detection and retries on another endpoint; before `lb`.
    Failover,
    /// `filters/lb`: picks the endpoint (`round_robin` over the one backend) for `original_dst`.
    Lb,
}

/// The backends a chain is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upstreams {
    /// The one backend every measured request goes to.
    pub backend: SocketAddr,
    /// A second backend only `failover` lists: where it retries the probe's failing request, so
    /// the probe can show a retry; `lb` never picks it, so the load never reaches it.
    pub spare: SocketAddr,
}

/// What the bench needs to know about one filter.
pub struct Spec {
    /// The name on the command line, in labels and as the plugin's name.
    pub name: &'static str,
    /// The built module in the test rig's set.
    pub wasm: fn(&FilterSet) -> &Path,
    /// The plugin configuration, given the backends.
    pub configuration: fn(&Upstreams) -> Value,
    /// The VM id (`lb` uses `mesh`, which `failover` must share with it for shared data).
    pub vm_id: &'static str,
    /// Whether the filter names the endpoint, so the route goes to an `original_dst` cluster.
    pub picks_endpoint: bool,
    /// Histogram buckets by metric-name prefix the hosts must be given for this filter.
    pub histograms: Option<(&'static str, &'static [f64])>,
    /// Whether the probe request shows the filter's mark; an error for a half or wrong mark.
    pub ran: fn(&Evidence) -> anyhow::Result<bool>,
    /// A filter that must come later in the chain for this one to work (`failover` reads the
    /// endpoint `lb` picked, from `lb`'s response header, set before its own response phase).
    pub needs_after: Option<Filter>,
}

impl Filter {
    /// Every filter, in the order the `--chain` help lists them.
    pub const ALL: [Filter; 4] = [
        Filter::Headers,
        Filter::Metrics,
        Filter::Failover,
        Filter::Lb,
    ];

    /// Everything about this filter, in one place.
    pub fn spec(self) -> Spec {
        match self {
            Filter::Headers => Spec {
                name: "headers",
                wasm: |set| &set.headers,
                configuration: |_| marks::headers_configuration(),
                vm_id: "headers",
                picks_endpoint: false,
                histograms: None,
                ran: marks::headers_ran,
                needs_after: None,
            },
            Filter::Metrics => Spec {
                name: "metrics",
                wasm: |set| &set.metrics,
                configuration: |_| serde_json::json!({}),
                vm_id: "metrics",
                picks_endpoint: false,
                // Linkerd's latency buckets, as the metrics tests and the demo configure them.
                histograms: Some(("response_latency_ms", &LATENCY_BUCKETS_MS)),
                ran: marks::metrics_ran,
                needs_after: None,
            },
            Filter::Failover => Spec {
                name: "failover",
                wasm: |set| &set.failover,
                configuration: marks::failover_configuration,
                // Shared data (ejections) is scoped by VM id: the same as `lb`'s.
                vm_id: "mesh",
                // It retries through the `original_dst` cluster, so it needs that route.
                picks_endpoint: true,
                histograms: None,
                ran: marks::failover_ran,
                needs_after: Some(Filter::Lb),
            },
            Filter::Lb => Spec {
                name: "lb",
                wasm: |set| &set.lb,
                configuration: |upstreams| marks::lb_configuration(upstreams.backend),
                vm_id: "mesh",
                picks_endpoint: true,
                histograms: None,
                ran: marks::lb_ran,
                needs_after: None,
            },
        }
    }
}

/// Filters in request order; empty for a proxy without plugins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain(Vec<Filter>);

impl FromStr for Chain {
    type Err = String;

    /// `metrics,failover,lb`: known names, each at most once (a plugin name must be unique),
    /// each filter's `needs_after` later in the chain.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut filters = Vec::new();
        for name in text.split(',').map(str::trim) {
            let filter = Filter::ALL
                .into_iter()
                .find(|f| f.spec().name == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = Filter::ALL.iter().map(|f| f.spec().name).collect();
                    format!("unknown filter {name:?} (known: {})", known.join(", "))
                })?;
            if filters.contains(&filter) {
                return Err(format!("{name:?} is in the chain twice"));
            }
            filters.push(filter);
        }
        for (i, filter) in filters.iter().enumerate() {
            if let Some(needed) = filter.spec().needs_after {
                if !filters[i + 1..].contains(&needed) {
                    return Err(format!(
                        "{:?} needs {:?} after it in the chain (e.g. failover,lb)",
                        filter.spec().name,
                        needed.spec().name
                    ));
                }
            }
        }
        Ok(Self(filters))
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl Chain {
    /// The filters, in request order.
    pub fn filters(&self) -> &[Filter] {
        &self.0
    }

    /// `metrics + lb`, as the table shows it.
    pub fn label(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|f| f.spec().name).collect();
        names.join(" + ")
    }

    /// Step `n` of `--per-filter`: the first `n` filters in the order they can be added (a
    /// filter right after the one it `needs_after`: `metrics,failover,lb` is added as
    /// `metrics`, `lb`, `failover`), kept in request order, so every step is a working chain
    /// (`metrics + lb`, then `metrics + failover + lb`). Step `len` is the whole chain.
    pub fn step(&self, n: usize) -> Chain {
        let mut adding: Vec<Filter> = Vec::with_capacity(self.0.len());
        let mut waiting: Vec<Filter> = Vec::new();
        for &filter in &self.0 {
            match filter.spec().needs_after {
                Some(needed) if !adding.contains(&needed) => waiting.push(filter),
                _ => adding.push(filter),
            }
            // A waiting filter follows as soon as what it needs is in.
            while let Some(at) = waiting
                .iter()
                .position(|w| w.spec().needs_after.is_some_and(|n| adding.contains(&n)))
            {
                adding.push(waiting.remove(at));
            }
        }
        let first = &adding[..n];
        Chain(
            self.0
                .iter()
                .copied()
                .filter(|f| first.contains(f))
                .collect(),
        )
    }

    /// Listener `main` running the chain, one worker. The route goes to a static cluster of the
    /// backend, or, when a filter picks the endpoint, to `original_dst` on the pick header, as
    /// the end-to-end `lb` tests configure it.
    /// `module` says where each filter's `.wasm` is.
    pub fn mesh_config<'a>(
        &self,
        module: impl Fn(Filter) -> &'a Path,
        upstreams: &Upstreams,
    ) -> MeshConfig {
        let specs: Vec<Spec> = self.0.iter().map(|f| f.spec()).collect();
        let plugins: Vec<Plugin> = self
            .0
            .iter()
            .zip(&specs)
            .map(|(&filter, spec)| {
                Plugin::new(spec.name, module(filter))
                    .vm_id(spec.vm_id)
                    .configuration((spec.configuration)(upstreams))
            })
            .collect();
        let mut config = if specs.iter().any(|spec| spec.picks_endpoint) {
            let listener = specs
                .iter()
                .fold(Listener::new("main"), |l, spec| l.filter(spec.name))
                .route(Route::prefix("/", "dynamic"));
            plugins
                .into_iter()
                .fold(MeshConfig::new(), MeshConfig::plugin)
                .cluster(Cluster::original_dst("dynamic", PICK_HEADER))
                .listener(listener)
        } else {
            MeshConfig::single(plugins, [upstreams.backend])
        };
        for (prefix, bounds) in specs.iter().filter_map(|spec| spec.histograms) {
            config = config.histogram_buckets(prefix, bounds);
        }
        config.workers(1)
    }
}

#[cfg(test)]
mod tests;
