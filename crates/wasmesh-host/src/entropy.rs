//! Operating-system randomness, read in batches per thread.
//!
//! A request can ask for random bytes twice (the `x-request-id` the host adds, and a guest's
//! `random_get`, e.g. for a trace id): a `getrandom` system call each, which a profile under load
//! counted at two per request. The bytes are the same kernel randomness, only fetched
//! [`BATCH`] at a time and handed out once each.

use std::cell::RefCell;

/// Bytes fetched from the kernel at a time.
pub const BATCH: usize = 4096;

struct Pool {
    bytes: [u8; BATCH],
    /// Bytes at `used..` are not handed out yet.
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; BATCH], used: BATCH })
    };
}

/// Fills `out` with kernel randomness; an error when the kernel has none to give. Requests
/// larger than [`BATCH`] go straight to the kernel.
pub fn fill(out: &mut [u8]) -> Result<(), getrandom::Error> {
    if out.len() > BATCH {
        return getrandom::fill(out);
    }
    POOL.with_borrow_mut(|pool| {
        if BATCH - pool.used < out.len() {
            getrandom::fill(&mut pool.bytes)?;
            pool.used = 0;
        }
        let taken = &mut pool.bytes[pool.used..pool.used + out.len()];
        out.copy_from_slice(taken);
        // Never handed out twice, even if a later refill fails.
        taken.fill(0);
        pool.used += out.len();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_distinct_bytes_across_refills() {
        let mut seen = std::collections::HashSet::new();
        // 3 batches' worth of 16-byte ids: every one different (a repeat of 128 random bits
        // would mean bytes were handed out twice).
        for _ in 0..(3 * BATCH / 16) {
            let mut id = [0u8; 16];
            fill(&mut id).unwrap();
            assert!(seen.insert(id), "{id:?} handed out twice");
        }
        let mut big = vec![0u8; BATCH + 1];
        fill(&mut big).unwrap();
        assert!(big.iter().any(|&b| b != 0));
        let mut empty = [];
        fill(&mut empty).unwrap();
    }
}
