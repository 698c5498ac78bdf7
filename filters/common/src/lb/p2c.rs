//! Power of two choices: draw two distinct candidates at random, keep the cheaper.
//!
//! Almost as good as scanning for the least loaded one, without its herd behaviour (every worker
//! piling onto the same "best" endpoint) and in constant time. Used by `least_request` (cost =
//! in-flight requests) and `peak_ewma` (cost = latency estimate × (in-flight + 1)).

use crate::lb::random::{pick_two, Rng};

/// The cheaper of two random candidates in `0..n` by `cost` (ties go to the first draw, which
/// is itself random); `None` when `n == 0`.
pub fn pick<R, C>(rng: &mut R, n: usize, mut cost: impl FnMut(usize) -> C) -> Option<usize>
where
    R: Rng + ?Sized,
    C: PartialOrd,
{
    match n {
        0 => None,
        1 => Some(0),
        _ => {
            let (a, b) = pick_two(rng, n);
            if cost(b) < cost(a) {
                Some(b)
            } else {
                Some(a)
            }
        }
    }
}

#[cfg(test)]
mod tests;
