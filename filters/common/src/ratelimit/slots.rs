//! Where a key's bucket lives in shared data: one of a fixed number of slots, so the store a
//! rate limiter writes is bounded whatever the clients send.
//!
//! Keying buckets by the raw header value let one client fill a VM id's shared data with
//! new 8 KB keys until every write was refused (and the Rust SDK panics on a refused write).
//! Instead the value is digested (SHA-256 of a secret salt and the value, first 16 bytes), the
//! digest picks [`PROBES`] consecutive slots of the plugin's `max_keys`, and each slot holds
//! one digest and its bucket. The salt is random and shared by the plugin's VMs through shared
//! data: without it a client could compute which values land in a victim's slots and keep them
//! full of its own live buckets, so that the victim's key finds no slot.
//! A bucket that has refilled completely is the same as no bucket, so its slot may be taken
//! by another key: buckets expire by themselves. When every probed slot holds another key's
//! live bucket the store is full for that key, and the configuration says whether such a
//! request passes or is refused.

use sha2::{Digest as _, Sha256};

use super::bucket::{BucketState, TokenBucket};

/// Slots tried per key, consecutive from the one its digest picks: enough that a table
/// well under full rarely refuses a key, few enough that a new key costs few reads.
pub const PROBES: u32 = 4;

/// The digest a bucket is filed under: the first 16 bytes of SHA-256 of the key value, so a
/// stored key's size does not depend on what the client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDigest(pub [u8; 16]);

/// The secret a plugin's digests are salted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Salt(pub [u8; 16]);

impl Salt {
    /// Length of the stored salt.
    pub const LEN: usize = 16;

    /// A stored salt; `None` for anything that is not one.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }
}

impl KeyDigest {
    /// The digest of `key_value` under `salt`.
    pub fn of(salt: &Salt, key_value: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(salt.0);
        hasher.update(key_value);
        let full = hasher.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        Self(out)
    }

    /// The slots this digest may live in, in the order they are tried.
    pub fn probe_slots(&self, slots: u32) -> impl Iterator<Item = u32> {
        let slots = slots.max(1);
        let start =
            u64::from_le_bytes(self.0[..8].try_into().expect("16 bytes")) % u64::from(slots);
        let start = start as u32;
        (0..PROBES.min(slots))
            .map(move |i| ((u64::from(start) + u64::from(i)) % u64::from(slots)) as u32)
    }
}

/// One slot's value: whose bucket it holds, and the bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotEntry {
    /// The key the bucket counts.
    pub digest: KeyDigest,
    /// The bucket.
    pub state: BucketState,
}

impl SlotEntry {
    /// Format version, first byte of the encoding.
    const VERSION: u8 = 1;
    /// Length of [`SlotEntry::encode`]'s output.
    pub const ENCODED_LEN: usize = 1 + 16 + BucketState::ENCODED_LEN;

    /// Version byte, the digest, then [`BucketState::encode`].
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[0] = Self::VERSION;
        out[1..17].copy_from_slice(&self.digest.0);
        out[17..].copy_from_slice(&self.state.encode());
        out
    }

    /// Reads [`SlotEntry::encode`]'s output; `None` for anything else (an empty slot).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::ENCODED_LEN || bytes[0] != Self::VERSION {
            return None;
        }
        let digest = KeyDigest(bytes[1..17].try_into().ok()?);
        let state = BucketState::decode(&bytes[17..])?;
        Some(Self { digest, state })
    }
}

/// Which probed slot a key's bucket is in, or may go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The key's bucket is in the probe at this index.
    Found(usize),
    /// The key has no bucket; the probe at this index is empty or holds a refilled bucket.
    Free(usize),
    /// Every probed slot holds another key's live bucket.
    Full,
}

/// Where `digest`'s bucket is among the probed slots' `entries` (`None`: empty slot) at `now_ns`.
/// A key's own bucket is looked for in every probe before a free one is chosen, so a key never
/// gets a second, fresh bucket while its first one is still live further along.
pub fn place(
    entries: &[Option<SlotEntry>],
    digest: &KeyDigest,
    bucket: &TokenBucket,
    now_ns: u64,
) -> Placement {
    if let Some(i) = entries
        .iter()
        .position(|e| e.is_some_and(|e| e.digest == *digest))
    {
        return Placement::Found(i);
    }
    entries
        .iter()
        .position(|e| e.is_none_or(|e| bucket.is_refilled(&e.state, now_ns)))
        .map_or(Placement::Full, Placement::Free)
}

#[cfg(test)]
mod tests;
