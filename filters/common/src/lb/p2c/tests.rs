use super::*;
use crate::lb::random::SplitMix64;

#[test]
fn never_picks_the_most_loaded_of_three() {
    let mut rng = SplitMix64::new(3);
    let in_flight = [0u32, 5, 9];
    let mut counts = [0u32; 3];
    for _ in 0..3000 {
        counts[pick(&mut rng, 3, |i| in_flight[i]).unwrap()] += 1;
    }
    assert_eq!(counts[2], 0, "{counts:?}");
    // The idle one wins every pair it is in: 2 of the 3 pairs.
    assert!((1800..=2200).contains(&counts[0]), "{counts:?}");
}

#[test]
fn ties_spread_over_all() {
    let mut rng = SplitMix64::new(4);
    let mut counts = [0u32; 3];
    for _ in 0..3000 {
        counts[pick(&mut rng, 3, |_| 0).unwrap()] += 1;
    }
    assert!(counts.iter().all(|&c| c > 800), "{counts:?}");
    assert_eq!(pick(&mut rng, 0, |_| 0), None);
    assert_eq!(pick(&mut rng, 1, |_| 0), Some(0));
}
