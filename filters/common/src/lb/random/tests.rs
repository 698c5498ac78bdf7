use super::*;

#[test]
fn same_seed_same_sequence() {
    let (mut a, mut b) = (SplitMix64::new(42), SplitMix64::new(42));
    for _ in 0..10 {
        assert_eq!(a.next_u64(), b.next_u64());
    }
}

#[test]
fn below_is_roughly_uniform() {
    let mut rng = SplitMix64::new(1);
    let mut counts = [0u32; 3];
    for _ in 0..30_000 {
        counts[rng.below(3)] += 1;
    }
    assert!(
        counts.iter().all(|&c| (9_500..=10_500).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn pick_two_is_distinct_and_covers_all_pairs() {
    let mut rng = SplitMix64::new(7);
    let mut seen = [[false; 3]; 3];
    for _ in 0..1000 {
        let (a, b) = pick_two(&mut rng, 3);
        assert_ne!(a, b);
        seen[a][b] = true;
    }
    let pairs = seen.iter().flatten().filter(|&&s| s).count();
    assert_eq!(pairs, 6, "every ordered pair of distinct indices");
    assert_eq!(pick_two(&mut rng, 1), (0, 0));
}
