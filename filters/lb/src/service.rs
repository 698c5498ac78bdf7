//! One configured service on one worker: its balancer, where its endpoint set comes from, and
//! its counters. Shared (`Rc<RefCell>`) by the root context and every stream of the worker.

use proxy_wasm::hostcalls;
use wasmesh_common::lb::{Balancer, LbConfig, LevelView};
use wasmesh_contract::endpoint::EndpointSet;
use wasmesh_contract::keys;

use crate::address_text::AddressTexts;
use crate::health::HealthWatch;
use crate::metrics::Metrics;

/// How often a worker looks at the shared-data set while it has endpoints to pick from (the
/// set is re-parsed only when its CAS changed, so a look is one small hostcall); 100 ms keeps
/// a discovery change within its poll interval. A worker with none looks on every request, so
/// a newly written set is used at once.
pub const REFRESH_NS: u64 = 100_000_000;

/// Where the endpoint set comes from.
enum Source {
    /// The plugin configuration's list, set once.
    Static,
    /// The shared-data key, re-read when its CAS changes.
    Shared {
        key: String,
        cas: Option<u32>,
        checked_ns: Option<u64>,
    },
}

/// Everything a stream needs to pick and report.
pub struct Service {
    /// The validated configuration.
    pub config: LbConfig,
    /// The worker's balancer.
    pub balancer: Balancer,
    /// Per-endpoint counters.
    pub metrics: Metrics,
    /// The endpoints' `ip:port` texts the headers carry.
    pub texts: AddressTexts,
    source: Source,
    health: HealthWatch,
    /// The balancer's levels version last shown in the level gauges.
    published: Option<u64>,
}

impl Service {
    /// A service for `config`, its balancer seeded with `seed`, as of `now_ns`.
    pub fn new(config: LbConfig, seed: u64, now_ns: u64) -> Self {
        let mut balancer =
            Balancer::new(config.policy.clone(), seed).with_levels(config.levels.clone());
        let source = match &config.endpoints {
            Some(endpoints) => {
                balancer.set_endpoints(endpoints.clone(), now_ns);
                Source::Static
            }
            None => Source::Shared {
                key: keys::endpoints(&config.service),
                cas: None,
                checked_ns: None,
            },
        };
        let mut service = Self {
            metrics: Metrics::new(&config.service),
            health: HealthWatch::new(&config.service),
            texts: AddressTexts::default(),
            config,
            balancer,
            source,
            published: None,
        };
        service.publish_levels();
        service
    }

    /// Brings the endpoint set (a no-op for a static list, or when checked less than
    /// [`REFRESH_NS`] ago and there are endpoints) and the ejections up to date.
    pub fn refresh(&mut self, now_ns: u64) {
        self.refresh_set(now_ns);
        if let Some(ejected) = self.health.refresh(now_ns) {
            if ejected != self.balancer.ejected() {
                log::info!(
                    "lb: {}: ejected endpoints now {ejected:?}",
                    self.config.service
                );
            }
            self.balancer.set_ejected(ejected);
        }
        self.publish_levels();
    }

    /// Shows the levels' loads and panic states in the gauges (and the log) when they changed.
    fn publish_levels(&mut self) {
        let version = self.balancer.levels_version();
        if self.published == Some(version) {
            return;
        }
        self.published = Some(version);
        let levels: Vec<LevelView> = self.balancer.levels().collect();
        if levels.len() > 1 || levels.iter().any(|l| l.panic) {
            let shown: Vec<String> = levels
                .iter()
                .map(|l| {
                    let panic = if l.panic { " (panic)" } else { "" };
                    format!("P{} {}%{panic}", l.priority, l.load)
                })
                .collect();
            log::info!(
                "lb: {}: priority loads now {}",
                self.config.service,
                shown.join(", ")
            );
        }
        self.metrics.publish_levels(&levels);
    }

    fn refresh_set(&mut self, now_ns: u64) {
        let has_endpoints = self.balancer.endpoints().next().is_some();
        let Source::Shared {
            key,
            cas,
            checked_ns,
        } = &mut self.source
        else {
            return;
        };
        if has_endpoints && checked_ns.is_some_and(|t| now_ns.saturating_sub(t) < REFRESH_NS) {
            return;
        }
        *checked_ns = Some(now_ns);
        let (value, new_cas) = match hostcalls::get_shared_data(key) {
            Ok(found) => found,
            Err(status) => {
                log::warn!("lb: reading {key}: {status:?}; keeping the current set");
                return;
            }
        };
        if new_cas.is_some() && new_cas == *cas {
            return;
        }
        *cas = new_cas;
        let Some(bytes) = value else {
            if has_endpoints {
                log::warn!("lb: {key} disappeared; no endpoints left");
            }
            self.balancer.set_endpoints(Vec::new(), now_ns);
            return;
        };
        match EndpointSet::decode(&bytes) {
            Ok(decoded) => {
                for skipped in &decoded.skipped {
                    log::warn!("lb: {key}: skipping {skipped}");
                }
                log::info!(
                    "lb: {key}: version {}, {} endpoints",
                    decoded.set.version,
                    decoded.set.endpoints.len()
                );
                self.balancer.set_endpoints(decoded.set.endpoints, now_ns);
            }
            Err(e) => {
                log::warn!("lb: {key}: unreadable endpoint set ({e}); keeping the current set")
            }
        }
    }
}
