use super::*;

const SALT: Salt = Salt([7; 16]);

const SEC: u64 = 1_000_000_000;

fn bucket() -> TokenBucket {
    // One token a second, burst 2: refilled 2 s after the last take.
    TokenBucket::new(1.0, 2).unwrap()
}

fn entry(value: &[u8], tokens: f64, updated_ns: u64) -> Option<SlotEntry> {
    Some(SlotEntry {
        digest: KeyDigest::of(&SALT, value),
        state: BucketState { tokens, updated_ns },
    })
}

#[test]
fn an_entry_has_the_same_size_whatever_the_key() {
    let long = vec![b'x'; 8192];
    for value in [&b"a"[..], &long[..]] {
        let e = entry(value, 1.0, 5).unwrap();
        let bytes = e.encode();
        assert_eq!(bytes.len(), SlotEntry::ENCODED_LEN);
        assert_eq!(SlotEntry::decode(&bytes), Some(e));
    }
    assert_eq!(SlotEntry::decode(b""), None, "an empty slot");
    assert_eq!(SlotEntry::decode(&[9; SlotEntry::ENCODED_LEN]), None);
}

#[test]
fn probes_are_consecutive_within_the_table() {
    let digest = KeyDigest::of(&SALT, b"tenant-a");
    let slots: Vec<u32> = digest.probe_slots(10).collect();
    assert_eq!(slots.len(), PROBES as usize);
    for pair in slots.windows(2) {
        assert_eq!(pair[1], (pair[0] + 1) % 10);
    }
    assert!(slots.iter().all(|s| *s < 10));
    assert_eq!(
        digest.probe_slots(2).count(),
        2,
        "never more probes than slots"
    );
    assert_eq!(
        digest.probe_slots(10).collect::<Vec<_>>(),
        slots,
        "the same key always probes the same slots"
    );
}

#[test]
fn keys_spread_over_the_slots() {
    let mut used = std::collections::HashSet::new();
    for i in 0..200 {
        used.insert(
            KeyDigest::of(&SALT, format!("client-{i}").as_bytes())
                .probe_slots(64)
                .next(),
        );
    }
    assert!(
        used.len() > 50,
        "200 keys started in only {} of 64 slots",
        used.len()
    );
}

#[test]
fn a_keys_own_bucket_is_found_before_a_free_slot() {
    let me = KeyDigest::of(&SALT, b"me");
    let entries = [
        None,
        entry(b"other", 0.0, 10 * SEC),
        entry(b"me", 0.0, 10 * SEC),
    ];
    assert_eq!(
        place(&entries, &me, &bucket(), 10 * SEC),
        Placement::Found(2)
    );
}

#[test]
fn a_new_key_takes_the_first_empty_or_refilled_slot() {
    let me = KeyDigest::of(&SALT, b"me");
    let live = entry(b"a", 0.0, 10 * SEC);
    // Refilled: 2 tokens regained 2 s after it was last taken from.
    let refilled = entry(b"b", 0.0, 8 * SEC);
    assert_eq!(
        place(&[live, refilled, None], &me, &bucket(), 10 * SEC),
        Placement::Free(1)
    );
    assert_eq!(
        place(&[live, None], &me, &bucket(), 10 * SEC),
        Placement::Free(1)
    );
}

#[test]
fn every_probe_holding_a_live_bucket_is_full() {
    let me = KeyDigest::of(&SALT, b"me");
    let entries = [entry(b"a", 0.0, 10 * SEC), entry(b"b", 0.5, 9 * SEC)];
    assert_eq!(place(&entries, &me, &bucket(), 10 * SEC), Placement::Full);
    // Later, once b has refilled, its slot is free again.
    assert_eq!(
        place(&entries, &me, &bucket(), 11 * SEC),
        Placement::Free(1)
    );
}

#[test]
fn the_salt_moves_a_key_to_other_slots() {
    let value = b"victim";
    let slots_under =
        |salt: Salt| -> Vec<u32> { KeyDigest::of(&salt, value).probe_slots(1_000_000).collect() };
    assert_ne!(slots_under(Salt([1; 16])), slots_under(Salt([2; 16])));
    assert_eq!(slots_under(Salt([1; 16])), slots_under(Salt([1; 16])));
    assert_eq!(Salt::decode(&[9; 16]), Some(Salt([9; 16])));
    assert_eq!(Salt::decode(&[9; 15]), None);
}
