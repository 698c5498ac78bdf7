//! The `/endpoints` document: what the admin serves (`admin/endpoints.rs` builds it from shared
//! data) and `wasmesh stat --discovery` reads back and renders (`stat/discovery.rs`). Its own
//! module because both sides read it and neither should depend on the other for it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    /// The host clock when the view was taken, unix ms (ages and ejections are relative to it).
    pub now_ms: u64,
    /// One entry per service and VM id, sorted by service.
    pub services: Vec<ServiceView>,
}

/// One service's set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceView {
    /// The service name (the key's suffix).
    pub service: String,
    /// The VM id whose shared data holds it.
    pub vm_id: String,
    /// The source kind, if the writer said (`null` for a set written by something else).
    pub source: Option<String>,
    /// The set's version.
    pub version: u64,
    /// When this version was published, unix ms, if the writer said.
    pub updated_ms: Option<u64>,
    /// `now_ms - updated_ms`.
    pub age_ms: Option<u64>,
    /// The source is failing; this is its last good set.
    pub stale: bool,
    /// Why the stored document is unreadable, or entries of it were skipped.
    pub errors: Vec<String>,
    /// The endpoints.
    pub endpoints: Vec<EndpointView>,
}

/// One endpoint and its health.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointView {
    /// `ip:port`.
    pub address: String,
    /// Relative weight (0: draining).
    pub weight: u32,
    /// Priority level (0 is preferred).
    pub priority: u32,
    /// Zone, empty when unknown.
    pub zone: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Ejected by `failover` now.
    pub ejected: bool,
    /// The end of its current or last ejection, unix ms (absent: never ejected).
    pub ejected_until_ms: Option<u64>,
    /// How many times it was ejected.
    pub ejections: u32,
}
