//! Service discovery as pure logic: what the `discovery` filter asks each registry, how each
//! registry's answer becomes the one endpoint model ([`wasmesh_contract::endpoint`]), when a set has
//! changed, and how a failing registry is retried.
//!
//! Like [`crate::lb`], nothing here does I/O or reads a clock: requests are described as
//! [`request::HttpRequest`] values, answers come in as bytes, time as milliseconds. So every
//! parser and the stale/backoff rules are unit-tested natively, and the filter is glue.

pub mod base64;
pub mod config;
pub mod consul;
pub mod document;
pub mod etcd;
pub mod kubernetes;
pub mod poller;
pub mod request;
pub mod source;

pub use config::{DiscoveryConfig, Source};
pub use poller::Poller;

use wasmesh_contract::endpoint::Endpoint;

/// What a registry answer said, once parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The registry's current endpoints (possibly none: a registry may say so), plus one message
    /// per entry that had to be skipped.
    Endpoints {
        /// The usable endpoints, sorted by address.
        endpoints: Vec<Endpoint>,
        /// Why entries were skipped (`/wasmesh/services/web/x: invalid socket address`).
        skipped: Vec<String>,
    },
    /// The registry says nothing changed since the last answer (same etcd revision, Consul
    /// index or Kubernetes resourceVersion), so the last set stands.
    Unchanged,
    /// A cheap probe says the registry changed (etcd's revision moved): ask for the set now.
    Changed,
}

/// Sorts by address and drops later duplicates, so two answers listing the same endpoints in
/// another order compare equal and nothing is published for a reordering.
pub fn normalise(mut endpoints: Vec<Endpoint>) -> Vec<Endpoint> {
    endpoints.sort_by_key(|e| e.address);
    endpoints.dedup_by_key(|e| e.address);
    endpoints
}
