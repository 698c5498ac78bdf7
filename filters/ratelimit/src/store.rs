//! Taking a token from a bucket kept in shared data, safely against other workers.
//!
//! Read the bucket and its CAS, decide with `TokenBucket::take`, write the new state with that
//! CAS; on `CasMismatch` another worker got there first, so read again. A limited request
//! writes nothing (refill is computed from the stored time), so rejections cost no contention.

use proxy_wasm::hostcalls;
use proxy_wasm::types::Status;
use wasmesh_common::ratelimit::{BucketState, Decision, TokenBucket};

/// How many read-decide-write rounds to try before giving up on a hot bucket. Each round is
/// a few microseconds; losing 8 in a row means heavy contention, not a slow path.
pub const MAX_CAS_ATTEMPTS: usize = 8;

/// Why a token could not be settled in shared data.
#[derive(Debug)]
pub enum StoreError {
    /// Other workers kept changing the bucket for [`MAX_CAS_ATTEMPTS`] rounds.
    Contended,
    /// The host refused a shared-data call.
    Host(Status),
}

/// Takes one token from the bucket at `key` for a request at `now_ns`.
///
/// A missing or unreadable value is a fresh (full) bucket. Creating a bucket is not
/// CAS-protected by the ABI (cas 0 always writes), so two workers creating the same bucket at
/// the same instant may each let one request through: at most one extra request per key.
pub fn take_token(key: &str, bucket: &TokenBucket, now_ns: u64) -> Result<Decision, StoreError> {
    for _ in 0..MAX_CAS_ATTEMPTS {
        let (value, cas) = hostcalls::get_shared_data(key).map_err(StoreError::Host)?;
        let state = value.as_deref().and_then(BucketState::decode);
        let decision = bucket.take(state, now_ns);
        let Decision::Allowed(next) = decision else {
            return Ok(decision);
        };
        match hostcalls::set_shared_data(key, Some(&next.encode()), cas) {
            Ok(()) => return Ok(decision),
            Err(Status::CasMismatch) => continue,
            Err(status) => return Err(StoreError::Host(status)),
        }
    }
    Err(StoreError::Contended)
}
