//! Writing a set to shared data with CAS: read what is stored, write only a change (with the
//! next version), and on a CAS mismatch (another worker's discovery wrote meanwhile) look again.

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;
use wasmesh_common::discovery::publish::next;
use wasmesh_common::endpoint::Endpoint;

/// How many times a racing write is retried before giving up until the next poll.
const CAS_ATTEMPTS: usize = 3;

/// Publishes `endpoints` (normalised) at `key`; `Ok(Some(version))` if written, `Ok(None)` if
/// the stored set already had these endpoints.
pub fn publish(key: &str, endpoints: &[Endpoint]) -> Result<Option<u64>, Status> {
    for _ in 0..CAS_ATTEMPTS {
        let (stored, cas) = hostcalls::get_shared_data(key)?;
        let Some(set) = next(stored.as_deref(), endpoints) else {
            return Ok(None);
        };
        match hostcalls::set_shared_data(key, Some(&set.to_json()), cas) {
            Ok(()) => return Ok(Some(set.version)),
            Err(Status::CasMismatch) => continue,
            Err(status) => return Err(status),
        }
    }
    Err(Status::CasMismatch)
}
