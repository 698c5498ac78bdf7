//! `GET /endpoints`: every service's current endpoint set as the `discovery` filter published
//! it in shared data (`wasmesh.v1.endpoints.<service>`, every VM id), with the source, version,
//! age and stale flag, and per endpoint the ejections `failover` recorded
//! (`wasmesh.v1.health.<service>`). Key names and document formats come from
//! `wasmesh-contract`, the crate the filters write them with, so the admin cannot drift from them.
//!
//! JSON by default (the [`View`] document, which `wasmesh stat --discovery` reads back);
//! `?format=text` is the same table `wasmesh stat --discovery` prints.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use wasmesh_contract::endpoint::EndpointSet;
use wasmesh_contract::health::{self, Health};
use wasmesh_contract::keys;
use wasmesh_contract::publish::Meta;

use crate::endpoints_view::{EndpointView, ServiceView, View};
use crate::host::Host;

/// The view of every VM id's shared data at this moment (the VM ids of the running
/// configuration: its plugins' and its host-side DNS entries').
pub fn collect(host: &Host) -> View {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let generation = host.current();
    let vm_ids: BTreeSet<&str> = generation
        .config
        .plugins
        .iter()
        .map(|p| p.vm_id.as_str())
        .chain(generation.config.dns.iter().map(|d| d.vm_id.as_str()))
        .collect();
    let data = &host.shared.shared_data;
    let prefix = keys::endpoints_prefix();
    let mut services = Vec::new();
    for vm_id in vm_ids {
        for key in data.keys(vm_id) {
            let Some(service) = std::str::from_utf8(&key)
                .ok()
                .and_then(|k| k.strip_prefix(&prefix))
            else {
                continue;
            };
            let Some((bytes, _)) = data.get(vm_id, &key) else {
                continue; // removed meanwhile
            };
            let health = data
                .get(vm_id, health::key(service).as_bytes())
                .and_then(|(b, _)| Health::decode(&b).ok())
                .unwrap_or_default();
            services.push(service_view(service, vm_id, &bytes, &health, now_ms));
        }
    }
    services.sort_by(|a, b| (&a.service, &a.vm_id).cmp(&(&b.service, &b.vm_id)));
    View { now_ms, services }
}

fn service_view(
    service: &str,
    vm_id: &str,
    bytes: &[u8],
    health: &Health,
    now_ms: u64,
) -> ServiceView {
    let meta = Meta::decode(bytes);
    let (set, errors) = match EndpointSet::decode(bytes) {
        Ok(decoded) => (decoded.set, decoded.skipped),
        Err(e) => (EndpointSet::default(), vec![format!("unreadable: {e}")]),
    };
    let endpoints = set
        .endpoints
        .into_iter()
        .map(|e| {
            let record = health.endpoints.get(&e.address);
            EndpointView {
                address: e.address.to_string(),
                weight: e.weight,
                priority: e.priority,
                zone: e.zone,
                labels: e.labels,
                ejected: health.is_ejected(e.address, now_ms),
                ejected_until_ms: record.map(|r| r.ejected_until_ms),
                ejections: record.map_or(0, |r| r.ejections),
            }
        })
        .collect();
    ServiceView {
        service: service.to_string(),
        vm_id: vm_id.to_string(),
        source: meta.source,
        version: set.version,
        updated_ms: meta.updated_ms,
        age_ms: meta.updated_ms.map(|t| now_ms.saturating_sub(t)),
        stale: meta.stale,
        errors,
        endpoints,
    }
}

#[cfg(test)]
mod tests;
