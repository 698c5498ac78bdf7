//! Writing a resolved set where the filters read it, and the figures that say how it went.
//!
//! The set goes to the shared data of the entry's VM id at `wasmesh.v1.endpoints.<service>`,
//! through the same change detection as the `discovery` filter (`publish::next`: written only
//! when the endpoints differ, version + 1, with CAS), so `lb` sees each change once and a
//! refresh that finds the same answer costs readers nothing.

use std::sync::Arc;

use wasmesh_common::discovery::metric;
use wasmesh_common::discovery::publish::next;
use wasmesh_common::endpoint::Endpoint;
use wasmesh_common::keys;
use wasmesh_common::metric_name::labelled;

use crate::state::metrics::{Metric, MetricKind, Registry};
use crate::state::shared_data::{SetOutcome, SharedData};
use crate::state::SharedState;

/// Writes `endpoints` as the set of `service` in `vm_id`'s shared data if they differ from the
/// stored set; returns the new version, or `None` when nothing changed.
pub fn publish(
    shared: &SharedData,
    vm_id: &str,
    service: &str,
    endpoints: &[Endpoint],
) -> Option<u64> {
    let key = keys::endpoints(service);
    // A racing writer (a `discovery` plugin publishing the same service) makes the CAS fail:
    // read again and retry, a few times at most.
    for _ in 0..3 {
        let stored = shared.get(vm_id, key.as_bytes());
        let set = next(stored.as_ref().map(|(v, _)| v.as_slice()), endpoints)?;
        let cas = stored.map_or(0, |(_, cas)| cas);
        if shared.set(vm_id, key.as_bytes(), &set.to_json(), cas) == SetOutcome::Ok {
            return Some(set.version);
        }
    }
    log::warn!("dns: {service}: the set kept changing under the write; trying at the next refresh");
    None
}

/// The `discovery_*` metrics of one service, labelled `source="dns"` so they stand beside
/// (and never collide with) those of a `discovery` plugin.
pub struct Figures {
    state: Arc<SharedState>,
    service: String,
    stale: Arc<Metric>,
    endpoints: Arc<Metric>,
    updates: Arc<Metric>,
}

impl Figures {
    /// Defines (or finds) the service's metrics.
    pub fn new(state: Arc<SharedState>, service: &str) -> Self {
        let define = |base: &str, kind| {
            let name = labelled(base, &[("service", service), ("source", "dns")]);
            get(&state.metrics, &name, kind)
        };
        Self {
            stale: define(metric::STALE, MetricKind::Gauge),
            endpoints: define(metric::ENDPOINTS, MetricKind::Gauge),
            updates: define(metric::UPDATES, MetricKind::Counter),
            service: service.to_string(),
            state,
        }
    }

    /// A good answer with `count` endpoints; `written` when it changed the stored set.
    pub fn answered(&self, count: usize, written: bool) {
        self.stale.record(0);
        self.endpoints.record(count as u64);
        if written {
            let _ = self.updates.increment(1);
        }
    }

    /// A failed lookup, by `reason`.
    pub fn failed(&self, reason: &str) {
        self.stale.record(1);
        let name = labelled(
            metric::ERRORS,
            &[
                ("service", &self.service),
                ("source", "dns"),
                ("reason", reason),
            ],
        );
        let _ = get(&self.state.metrics, &name, MetricKind::Counter).increment(1);
    }

    /// The entry was removed from the configuration: it is not stale any more, it is gone.
    pub fn retired(&self) {
        self.stale.record(0);
    }
}

fn get(registry: &Registry, name: &str, kind: MetricKind) -> Arc<Metric> {
    let id = registry.define(name, kind);
    registry
        .get(id)
        .expect("a metric just defined is in the registry")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmesh_common::endpoint::EndpointSet;

    #[test]
    fn writes_changes_only_with_the_next_version() {
        let shared = SharedData::default();
        let a = Endpoint::new("10.0.0.1:80".parse().unwrap());
        let b = Endpoint::new("10.0.0.2:80".parse().unwrap());
        assert_eq!(
            publish(&shared, "mesh", "web", std::slice::from_ref(&a)),
            Some(1)
        );
        assert_eq!(
            publish(&shared, "mesh", "web", std::slice::from_ref(&a)),
            None
        );
        assert_eq!(publish(&shared, "mesh", "web", &[a, b]), Some(2));
        let (stored, _) = shared.get("mesh", b"wasmesh.v1.endpoints.web").unwrap();
        let decoded = EndpointSet::decode(&stored).unwrap();
        assert_eq!((decoded.set.version, decoded.set.endpoints.len()), (2, 2));
        assert!(shared.get("other", b"wasmesh.v1.endpoints.web").is_none());
    }
}
