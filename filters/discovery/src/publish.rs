//! Writing to shared data with CAS: read what is stored, write only a change, and on a CAS
//! mismatch (another worker's discovery wrote meanwhile) look again.

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;
use wasmesh_contract::publish::{document, flag_stale, Update};

/// How many times a racing write is retried before giving up until the next poll.
const CAS_ATTEMPTS: usize = 3;

/// Publishes `update` at `key`; `Ok(Some(version))` if a new version was written, `Ok(None)`
/// if the stored set already had these endpoints (its stale flag may have been rewritten).
pub fn publish(key: &str, update: Update<'_>) -> Result<Option<u64>, Status> {
    let written = write(key, |stored| {
        let stored_version = stored
            .and_then(|b| wasmesh_contract::endpoint::EndpointSet::decode(b).ok())
            .map(|d| d.set.version);
        document(stored, update).map(|doc| {
            let new = (Some(doc.set.version) != stored_version).then_some(doc.set.version);
            (doc.to_json(), new)
        })
    })?;
    Ok(written.flatten())
}

/// Sets the stored document's stale flag (if there is one and it differs).
pub fn set_stale(key: &str, stale: bool) -> Result<(), Status> {
    write(key, |stored| {
        flag_stale(stored, stale).map(|bytes| (bytes, ()))
    })?;
    Ok(())
}

/// The CAS loop: `change` says what to write over the stored bytes (and what to return), or
/// `None` for nothing.
fn write<T>(
    key: &str,
    change: impl Fn(Option<&[u8]>) -> Option<(Vec<u8>, T)>,
) -> Result<Option<T>, Status> {
    for _ in 0..CAS_ATTEMPTS {
        let (stored, cas) = hostcalls::get_shared_data(key)?;
        let Some((bytes, result)) = change(stored.as_deref()) else {
            return Ok(None);
        };
        match hostcalls::set_shared_data(key, Some(&bytes), cas) {
            Ok(()) => return Ok(Some(result)),
            Err(Status::CasMismatch) => continue,
            Err(status) => return Err(status),
        }
    }
    Err(Status::CasMismatch)
}
