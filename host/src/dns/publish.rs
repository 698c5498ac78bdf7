//! Writing a resolved set where the filters read it, and the figures that say how it went.
//!
//! The set goes to the shared data of the entry's VM id at `wasmesh.v1.endpoints.<service>`, as
//! the document the `discovery` filter writes (`publish::document`: the endpoint set plus
//! `source: "dns"`, `updated_ms` and `stale`, which the admin's `/endpoints` shows), written only
//! when the endpoints differ (version + 1) or the stale flag changes, with CAS; so `lb` sees each
//! change once and a refresh that finds the same answer costs readers nothing.

use std::sync::Arc;

use wasmesh_contract::discovery_metric;
use wasmesh_contract::endpoint::{Endpoint, EndpointSet};
use wasmesh_contract::keys;
use wasmesh_contract::metric_name::labelled;
use wasmesh_contract::publish::{document, flag_stale, Update};

use wasmesh_host::state::metrics::{Metric, MetricKind, Registry};
use wasmesh_host::state::shared_data::{SetOutcome, SharedData};
use wasmesh_host::state::SharedState;

/// The `source` the admin's `/endpoints` shows for sets written here.
pub const SOURCE: &str = "dns";

/// Writes `endpoints` (fresh) as the set of `service` in `vm_id`'s shared data if they or the
/// stale flag differ from what is stored; returns the new version, or `None` when the
/// endpoints did not change.
pub fn publish(
    shared: &SharedData,
    vm_id: &str,
    service: &str,
    endpoints: &[Endpoint],
) -> Option<u64> {
    let update = Update {
        endpoints,
        source: SOURCE,
        stale: false,
        now_ms: now_ms(),
    };
    write(shared, vm_id, service, |stored| {
        let stored_version = stored
            .and_then(|bytes| EndpointSet::decode(bytes).ok())
            .map(|decoded| decoded.set.version);
        document(stored, update).map(|doc| {
            let new = (Some(doc.set.version) != stored_version).then_some(doc.set.version);
            (doc.to_json(), new)
        })
    })
    .flatten()
}

/// Marks the stored set of `service` stale, if there is one and it says otherwise; returns
/// whether there is one (what a failing lookup keeps serving).
pub fn set_stale(shared: &SharedData, vm_id: &str, service: &str) -> bool {
    write(shared, vm_id, service, |stored| {
        flag_stale(stored, true).map(|bytes| (bytes, ()))
    });
    shared
        .get(vm_id, keys::endpoints(service).as_bytes())
        .is_some()
}

/// The CAS loop: `change` says what to write over the stored bytes (and what to return), or
/// `None` for nothing. A racing writer (a `discovery` plugin publishing the same service)
/// makes the CAS fail: read again and retry, a few times at most.
fn write<T>(
    shared: &SharedData,
    vm_id: &str,
    service: &str,
    change: impl Fn(Option<&[u8]>) -> Option<(Vec<u8>, T)>,
) -> Option<T> {
    let key = keys::endpoints(service);
    for _ in 0..3 {
        let stored = shared.get(vm_id, key.as_bytes());
        let (bytes, result) = change(stored.as_ref().map(|(v, _)| &v[..]))?;
        let cas = stored.map_or(0, |(_, cas)| cas);
        if shared.set(vm_id, key.as_bytes(), &bytes, cas) == SetOutcome::Ok {
            return Some(result);
        }
    }
    log::warn!("dns: {service}: the set kept changing under the write; trying at the next refresh");
    None
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
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
            stale: define(discovery_metric::STALE, MetricKind::Gauge),
            endpoints: define(discovery_metric::ENDPOINTS, MetricKind::Gauge),
            updates: define(discovery_metric::UPDATES, MetricKind::Counter),
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
            discovery_metric::ERRORS,
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

    #[test]
    fn writes_changes_only_with_the_next_version_and_flags_staleness() {
        let shared = SharedData::default();
        let a = Endpoint::new("10.0.0.1:80".parse().unwrap());
        let b = Endpoint::new("10.0.0.2:80".parse().unwrap());
        let stored = || {
            let (bytes, _) = shared.get("mesh", b"wasmesh.v1.endpoints.web").unwrap();
            let meta: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let set = EndpointSet::decode(&bytes).unwrap().set;
            (
                set.version,
                set.endpoints.len(),
                meta["source"].clone(),
                meta["stale"].clone(),
            )
        };
        let one = std::slice::from_ref(&a);
        assert_eq!(publish(&shared, "mesh", "web", one), Some(1));
        assert_eq!(publish(&shared, "mesh", "web", one), None);
        assert!(set_stale(&shared, "mesh", "web"));
        assert!(!set_stale(&shared, "mesh", "api"), "nothing stored for api");
        assert_eq!(stored(), (1, 1, "dns".into(), true.into()));
        assert_eq!(
            publish(&shared, "mesh", "web", one),
            None,
            "fresh again, same set"
        );
        assert_eq!(stored(), (1, 1, "dns".into(), false.into()));
        assert_eq!(publish(&shared, "mesh", "web", &[a, b]), Some(2));
        assert_eq!(stored(), (2, 2, "dns".into(), false.into()));
        assert!(shared.get("other", b"wasmesh.v1.endpoints.web").is_none());
    }
}
