//! The salt of a plugin's key digests (`wasmesh_common::ratelimit::Salt`), shared by all of its
//! VMs through shared data: the first VM to need it draws one at random and stores it, and
//! every VM reads the stored one, so all of them file a key in the same slots.
//!
//! The ABI has no insert-if-absent (a write with cas 0 always wins), so two VMs drawing at the
//! same instant both write; each reads back what is stored, and is read again on every request,
//! so after the first moments every VM uses the one salt that stayed.

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;
use wasmesh_common::ratelimit::Salt;
use wasmesh_contract::keys;

/// The plugin's salt, drawn and stored if there is none yet.
pub fn current(root_id: &str) -> Result<Salt, Status> {
    let key = keys::ratelimit_salt(root_id);
    if let Some(salt) = stored(&key)? {
        return Ok(salt);
    }
    let mut drawn = [0u8; Salt::LEN];
    // WASI's random_get: both hosts give the guest the system's randomness.
    getrandom::fill(&mut drawn).map_err(|_| Status::InternalFailure)?;
    hostcalls::set_shared_data(&key, Some(&drawn), None)?;
    Ok(stored(&key)?.unwrap_or(Salt(drawn)))
}

fn stored(key: &str) -> Result<Option<Salt>, Status> {
    let (value, _) = hostcalls::get_shared_data(key)?;
    Ok(value.as_deref().and_then(Salt::decode))
}
