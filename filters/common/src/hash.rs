//! A stable 64-bit hash for consistent hashing (ring hash, Maglev) and hash keys.
//!
//! Stability matters more than speed here: every worker, every VM and both hosts must map the
//! same key to the same endpoint, across restarts and Rust versions, so `std`'s randomly seeded
//! hashers are out. FNV-1a alone mixes short, similar strings (`10.0.0.1:80-0`, `-1`, …) poorly,
//! which bunches ring points together; MurmurHash3's 64-bit finaliser spreads them.

/// FNV-1a over `bytes`, then the MurmurHash3 `fmix64` finaliser.
pub fn hash64(bytes: &[u8]) -> u64 {
    fmix64(fnv1a64(bytes))
}

/// `hash64` of a value seeded with `seed` (e.g. Maglev's two independent hashes of one name).
pub fn hash64_seeded(bytes: &[u8], seed: u64) -> u64 {
    let mut h = FNV_OFFSET ^ fmix64(seed);
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    fmix64(h)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
    })
}

/// MurmurHash3's finaliser: every input bit affects every output bit.
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[cfg(test)]
mod tests;
