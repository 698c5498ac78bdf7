//! Interleaved rounds, shared by every mode: each round measures every case once, starting one
//! case later than the previous round, so slow drift in the machine (other load, thermal, page
//! cache) spreads over all cases instead of always hitting the same one.

use crate::table::ms;
use crate::wrk::WrkResult;

/// The case indices of round `round` (0-based) over `count` cases: `round, round+1, …` mod `count`.
pub fn order(round: usize, count: usize) -> impl Iterator<Item = usize> {
    (0..count).map(move |i| (round + i) % count)
}

/// One progress line on stderr per sample (the report goes to stdout); `extra` is the mode's own
/// figures, appended.
pub fn progress(round: usize, rounds: u32, label: &str, wrk: &WrkResult, extra: &str) {
    eprintln!(
        "round {}/{} {:<34} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms{extra}",
        round + 1,
        rounds,
        label,
        wrk.requests_per_sec,
        ms(wrk.p50),
        ms(wrk.p99),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_one_case_per_round() {
        let rounds: Vec<Vec<usize>> = (0..4).map(|r| order(r, 3).collect()).collect();
        assert_eq!(rounds, [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]);
    }
}
