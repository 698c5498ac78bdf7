//! Shared data the filter reads and writes: the endpoint set (when not static) and the health
//! document. Read on demand, not cached: the filter needs them only on the failure path
//! (choosing a retry's endpoint, ejecting, the gauge tick), while `lb` reads them per request.

use std::net::SocketAddr;

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;
use wasmesh_contract::endpoint::{Endpoint, EndpointSet};
use wasmesh_contract::health::{EjectionPolicy, Health, Refused};
use wasmesh_contract::keys;

/// CAS conflicts tolerated in a row before an ejection is given up (another worker is
/// writing; the next failure will try again).
const CAS_ATTEMPTS: usize = 4;

/// The service's endpoint set from shared data (empty if absent or unreadable).
pub fn endpoints(service: &str) -> Vec<Endpoint> {
    let key = keys::endpoints(service);
    match hostcalls::get_shared_data(&key) {
        Ok((Some(bytes), _)) => EndpointSet::decode(&bytes)
            .map(|d| d.set.endpoints)
            .unwrap_or_default(),
        Ok((None, _)) => Vec::new(),
        Err(status) => {
            log::warn!("failover: reading {key}: {status:?}");
            Vec::new()
        }
    }
}

/// The health document and its CAS (an empty document if absent or unreadable).
pub fn health(key: &str) -> (Health, Option<u32>) {
    match hostcalls::get_shared_data(key) {
        Ok((Some(bytes), cas)) => match Health::decode(&bytes) {
            Ok(health) => (health, cas),
            Err(e) => {
                log::warn!("failover: {key}: unreadable health document ({e}); replacing it");
                (Health::default(), cas)
            }
        },
        Ok((None, cas)) => (Health::default(), cas),
        Err(status) => {
            log::warn!("failover: reading {key}: {status:?}");
            (Health::default(), None)
        }
    }
}

/// Ejects `endpoint` (one of `total`) in the document at `key` by compare-and-swap; the
/// ejection's length in ms if this call wrote it.
pub fn eject(
    key: &str,
    endpoint: SocketAddr,
    now_ms: u64,
    total: usize,
    policy: &EjectionPolicy,
) -> Option<u64> {
    for _ in 0..CAS_ATTEMPTS {
        let (mut health, cas) = health(key);
        let length = match health.eject(endpoint, now_ms, total, policy) {
            Ok(length) => length,
            Err(Refused::AlreadyEjected) => return None,
            Err(Refused::MaxEjected) => {
                log::info!(
                    "failover: not ejecting {endpoint}: max_ejection_percent {}% of {total} reached",
                    policy.max_percent
                );
                return None;
            }
        };
        match hostcalls::set_shared_data(key, Some(&health.to_json()), cas) {
            Ok(()) => return Some(length),
            Err(Status::CasMismatch) => continue,
            Err(status) => {
                log::warn!("failover: writing {key}: {status:?}");
                return None;
            }
        }
    }
    None
}

/// Forgives ejections of endpoints that stayed in service ([`Health::decay`]) in the document
/// at `key`; written back only if something changed (a CAS conflict leaves it to the next
/// call: another worker wrote, and may have done it).
pub fn decay(key: &str, now_ms: u64, base_ms: u64) {
    let (mut health, cas) = health(key);
    if !health.decay(now_ms, base_ms) {
        return;
    }
    match hostcalls::set_shared_data(key, Some(&health.to_json()), cas) {
        Ok(()) | Err(Status::CasMismatch) => {}
        Err(status) => log::warn!("failover: writing {key}: {status:?}"),
    }
}
