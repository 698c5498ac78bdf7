//! Taking a token from a key's bucket kept in shared data, safely against other workers.
//!
//! The bucket lives in one of the key's probed slots (`wasmesh_common::ratelimit::slots`):
//! read them, find the key's bucket or a free slot, decide with `TokenBucket::take`, write the
//! new state with the CAS of what was read; on `CasMismatch` another worker got there first,
//! so read again. A limited request writes nothing (refill is computed from the stored time),
//! so rejections cost no contention.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Bytes, Status};
use wasmesh_common::ratelimit::{slots, Decision, KeyDigest, Placement, SlotEntry, TokenBucket};
use wasmesh_contract::keys;

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
    /// Every slot the key may use holds another key's live bucket.
    Full,
}

/// Where a plugin's buckets are: its root id and how many slots it has.
pub struct Table<'a> {
    /// The plugin root id, part of every slot key.
    pub root_id: &'a str,
    /// The number of slots (`max_keys`).
    pub slots: u32,
}

/// Takes one token from `digest`'s bucket for a request at `now_ns`.
///
/// A missing or unreadable slot is empty, and a key without a bucket starts full. Claiming an
/// empty slot is not CAS-protected by the ABI (cas 0 always writes), so two workers claiming
/// the same slot at the same instant may each let one request through: at most one extra
/// request per key.
pub fn take_token(
    table: &Table,
    digest: &KeyDigest,
    bucket: &TokenBucket,
    now_ns: u64,
) -> Result<Decision, StoreError> {
    let slot_keys: Vec<String> = digest
        .probe_slots(table.slots)
        .map(|slot| keys::ratelimit_slot(table.root_id, slot))
        .collect();
    for _ in 0..MAX_CAS_ATTEMPTS {
        let mut entries = Vec::with_capacity(slot_keys.len());
        let mut cases = Vec::with_capacity(slot_keys.len());
        let mut placement = Placement::Full;
        for key in &slot_keys {
            let (value, cas) = read(key)?;
            entries.push(value.as_deref().and_then(SlotEntry::decode));
            cases.push(cas);
            placement = slots::place(&entries, digest, bucket, now_ns);
            // The key's own bucket ends the search; a free slot only once every probe is read.
            if matches!(placement, Placement::Found(_)) {
                break;
            }
        }
        let (i, state) = match placement {
            Placement::Found(i) => (i, entries[i].map(|e| e.state)),
            Placement::Free(i) => (i, None),
            Placement::Full => return Err(StoreError::Full),
        };
        let decision = bucket.take(state, now_ns);
        let Decision::Allowed(next) = decision else {
            return Ok(decision);
        };
        let entry = SlotEntry {
            digest: *digest,
            state: next,
        };
        match hostcalls::set_shared_data(&slot_keys[i], Some(&entry.encode()), cases[i]) {
            Ok(()) => return Ok(decision),
            Err(Status::CasMismatch) => continue,
            Err(status) => return Err(StoreError::Host(status)),
        }
    }
    Err(StoreError::Contended)
}

/// A slot's value and CAS (`None`: never written).
fn read(key: &str) -> Result<(Option<Bytes>, Option<u32>), StoreError> {
    hostcalls::get_shared_data(key).map_err(StoreError::Host)
}
