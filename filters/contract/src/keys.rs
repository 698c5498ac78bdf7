//! Names of the shared-data keys the filters use.
//!
//! Shared data is host-wide (every worker, every plugin of a VM id), so keys are namespaced by
//! filter and versioned: a filter that changes its value format bumps the version instead of
//! misreading bytes written by an older module during a hot swap.

/// Common prefix of every wasmesh key, with the format version.
pub const PREFIX: &str = "wasmesh.v1";

/// Stands in for a plugin root id that the host reports as empty, so keys never contain `..`.
pub const DEFAULT_ROOT_ID: &str = "default";

/// The key of one rate-limit slot: `wasmesh.v1.ratelimit.<root id or "default">.slot.<n>`
/// (see `ratelimit::slots`: a slot holds one key's bucket, so the number of keys is bounded).
///
/// The root id keeps two rate-limit plugins in one VM (different limits) from sharing buckets.
pub fn ratelimit_slot(root_id: &str, slot: u32) -> String {
    format!(
        "{PREFIX}.ratelimit.{}.slot.{slot}",
        root_or_default(root_id)
    )
}

/// Shared-data key of the secret a rate-limit plugin's key digests are salted with (see
/// `ratelimit::slots::Salt`), one per root id like its slots.
pub fn ratelimit_salt(root_id: &str) -> String {
    format!("{PREFIX}.ratelimit.{}.salt", root_or_default(root_id))
}

fn root_or_default(root_id: &str) -> &str {
    if root_id.is_empty() {
        DEFAULT_ROOT_ID
    } else {
        root_id
    }
}

/// The key of a service's endpoint set: `wasmesh.v1.endpoints.<service>`, holding an
/// [`crate::endpoint::EndpointSet`] as JSON. Writers (discovery) and readers (lb, failover) in
/// any VM of the same VM id meet here; readers notice a change by the CAS value.
pub fn endpoints(service: &str) -> String {
    format!("{}{service}", endpoints_prefix())
}

/// `wasmesh.v1.endpoints.`: what every [`endpoints`] key starts with, for readers that list
/// every service's set (wasmesh's admin `/endpoints`).
pub fn endpoints_prefix() -> String {
    format!("{PREFIX}.endpoints.")
}

#[cfg(test)]
mod tests;
