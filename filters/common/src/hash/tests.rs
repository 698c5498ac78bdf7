use super::*;

#[test]
fn hash_is_stable_across_builds() {
    // Pinned values: a change here remaps every consistent-hash key in production.
    assert_eq!(fnv1a64(b""), FNV_OFFSET);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(hash64(b"user-1"), hash64(b"user-1"));
    assert_ne!(hash64(b"user-1"), hash64(b"user-2"));
}

#[test]
fn seeds_give_independent_hashes() {
    assert_ne!(hash64_seeded(b"x", 1), hash64_seeded(b"x", 2));
    assert_eq!(hash64_seeded(b"x", 7), hash64_seeded(b"x", 7));
}

#[test]
fn similar_inputs_spread_over_the_range() {
    // 1000 similar strings: the top 4 bits should hit all 16 buckets fairly evenly.
    let mut buckets = [0u32; 16];
    for i in 0..1000 {
        buckets[(hash64(format!("10.0.0.1:80-{i}").as_bytes()) >> 60) as usize] += 1;
    }
    assert!(
        buckets.iter().all(|&n| (30..=100).contains(&n)),
        "{buckets:?}"
    );
}
