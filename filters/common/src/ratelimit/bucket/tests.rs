use super::*;

const SEC: u64 = 1_000_000_000;
const T0: u64 = 1_700_000_000 * SEC;

fn allowed(d: Decision) -> BucketState {
    match d {
        Decision::Allowed(s) => s,
        other => panic!("expected Allowed, got {other:?}"),
    }
}

fn retry_after(d: Decision) -> u64 {
    match d {
        Decision::Limited { retry_after_secs } => retry_after_secs,
        other => panic!("expected Limited, got {other:?}"),
    }
}

/// Sends `n` requests at `now`, threading the state as the filter does.
fn burst_at(
    b: &TokenBucket,
    mut state: Option<BucketState>,
    now: u64,
    n: u32,
) -> Option<BucketState> {
    for _ in 0..n {
        state = Some(allowed(b.take(state, now)));
    }
    state
}

#[test]
fn new_rejects_unusable_limits() {
    assert!(TokenBucket::new(0.0, 1).is_none());
    assert!(TokenBucket::new(-1.0, 1).is_none());
    assert!(TokenBucket::new(f64::NAN, 1).is_none());
    assert!(TokenBucket::new(f64::INFINITY, 1).is_none());
    assert!(TokenBucket::new(1.0, 0).is_none());
    assert!(TokenBucket::new(0.001, 1).is_some());
}

#[test]
fn a_fresh_bucket_allows_burst_then_limits() {
    let b = TokenBucket::new(1.0, 3).unwrap();
    let state = burst_at(&b, None, T0, 3);
    assert_eq!(state.unwrap().tokens, 0.0);
    assert_eq!(retry_after(b.take(state, T0)), 1);
}

#[test]
fn tokens_come_back_at_the_configured_rate() {
    let b = TokenBucket::new(2.0, 1).unwrap();
    let state = burst_at(&b, None, T0, 1);
    // 0.4 s at 2/s: 0.8 tokens, not enough; 0.5 s: exactly one.
    assert_eq!(retry_after(b.take(state, T0 + 400_000_000)), 1);
    let s = allowed(b.take(state, T0 + SEC / 2));
    assert_eq!(s.updated_ns, T0 + SEC / 2);
}

#[test]
fn refill_is_capped_at_burst() {
    let b = TokenBucket::new(10.0, 5).unwrap();
    let state = burst_at(&b, None, T0, 5);
    // An hour idle still only gives back 5 tokens.
    let later = T0 + 3600 * SEC;
    let state = burst_at(&b, state, later, 5);
    assert!(matches!(b.take(state, later), Decision::Limited { .. }));
}

#[test]
fn retry_after_is_whole_seconds_rounded_up() {
    // 0.5/s: an empty bucket needs 2 s for the next token.
    let b = TokenBucket::new(0.5, 1).unwrap();
    let state = burst_at(&b, None, T0, 1);
    assert_eq!(retry_after(b.take(state, T0)), 2);
    // After 1.5 s, 0.75 tokens: 0.5 s to go, rounded up to 1.
    assert_eq!(retry_after(b.take(state, T0 + 3 * SEC / 2)), 1);
    // Very slow rates give long waits.
    let slow = TokenBucket::new(0.01, 1).unwrap();
    let state = burst_at(&slow, None, T0, 1);
    assert_eq!(retry_after(slow.take(state, T0)), 100);
}

#[test]
fn a_clock_going_backwards_refills_nothing_and_keeps_the_later_time() {
    let b = TokenBucket::new(1.0, 1).unwrap();
    let state = burst_at(&b, None, T0, 1);
    assert!(matches!(
        b.take(state, T0 - 10 * SEC),
        Decision::Limited { .. }
    ));
    let s = allowed(b.take(state, T0 + SEC));
    assert_eq!(s.updated_ns, T0 + SEC);
    let stored = BucketState {
        tokens: 1.0,
        updated_ns: T0,
    };
    let s = allowed(b.take(Some(stored), T0 - SEC));
    assert_eq!(s.updated_ns, T0, "the stored time never moves back");
}

#[test]
fn out_of_range_stored_tokens_are_clamped() {
    let b = TokenBucket::new(1.0, 2).unwrap();
    let too_many = BucketState {
        tokens: 50.0,
        updated_ns: T0,
    };
    let s = allowed(b.take(Some(too_many), T0));
    assert_eq!(s.tokens, 1.0);
    let negative = BucketState {
        tokens: -5.0,
        updated_ns: T0,
    };
    assert_eq!(retry_after(b.take(Some(negative), T0)), 1);
}

#[test]
fn state_roundtrips_through_bytes() {
    let s = BucketState {
        tokens: 2.625,
        updated_ns: T0 + 12345,
    };
    let bytes = s.encode();
    assert_eq!(bytes.len(), BucketState::ENCODED_LEN);
    assert_eq!(bytes[0], 1);
    assert_eq!(BucketState::decode(&bytes), Some(s));
}

#[test]
fn decode_rejects_foreign_bytes() {
    let good = BucketState {
        tokens: 1.0,
        updated_ns: 1,
    }
    .encode();
    assert_eq!(BucketState::decode(&good[..16]), None);
    assert_eq!(BucketState::decode(b""), None);
    let mut other_version = good;
    other_version[0] = 2;
    assert_eq!(BucketState::decode(&other_version), None);
    let nan = BucketState {
        tokens: f64::NAN,
        updated_ns: 1,
    }
    .encode();
    assert_eq!(BucketState::decode(&nan), None);
}
