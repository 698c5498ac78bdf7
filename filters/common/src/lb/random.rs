//! Injectable randomness for the randomised policies (`random`, and the two choices of P2C).
//!
//! The filter seeds a [`SplitMix64`] per VM (from the host clock and context id); tests seed it
//! with constants. A statistical-quality generator is all we need: picks are not secrets.

/// A source of random 64-bit words.
pub trait Rng {
    /// The next word.
    fn next_u64(&mut self) -> u64;

    /// A uniform index in `0..n` (`n > 0`), by Lemire's multiply-shift (no modulo bias worth
    /// mentioning at the sizes of an endpoint set).
    fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// SplitMix64: tiny state, good statistical quality, any seed (even 0) is fine.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl Rng for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        crate::hash::fmix64(self.state)
    }
}

/// Two distinct indices in `0..n` for power-of-two-choices; `(0, 0)` when `n == 1`.
pub fn pick_two<R: Rng + ?Sized>(rng: &mut R, n: usize) -> (usize, usize) {
    if n < 2 {
        return (0, 0);
    }
    let a = rng.below(n);
    // Draw from the n-1 others and skip over `a`: distinct without retry loops.
    let mut b = rng.below(n - 1);
    if b >= a {
        b += 1;
    }
    (a, b)
}

#[cfg(test)]
mod tests;
