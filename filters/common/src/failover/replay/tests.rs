use super::*;

use crate::failover::captured::CapturedHeaders;

fn headers() -> CapturedHeaders {
    CapturedHeaders::from_pairs(&[(":method", "POST")])
}

#[test]
fn a_bodiless_request_is_ready_at_once() {
    let replay = Replay::start(headers(), true);
    assert_eq!(
        replay,
        Replay::Ready {
            headers: headers(),
            body: vec![]
        }
    );
    assert_eq!(replay.not_ready_reason(), None);
}

#[test]
fn chunks_are_kept_until_the_end() {
    let mut replay = Replay::start(headers(), false);
    replay.buffer(b"order=", false, 10);
    assert_eq!(replay.not_ready_reason(), Some("body_incomplete"));
    replay.buffer(b"1", true, 10);
    assert_eq!(
        replay,
        Replay::Ready {
            headers: headers(),
            body: b"order=1".to_vec()
        }
    );
}

#[test]
fn a_body_over_the_limit_is_dropped_for_good() {
    let mut replay = Replay::start(headers(), false);
    replay.buffer(b"0123456789", false, 10);
    assert!(
        matches!(replay, Replay::Buffering { .. }),
        "exactly the limit"
    );
    replay.buffer(b"x", false, 10);
    assert_eq!(replay, Replay::TooLarge);
    replay.buffer(b"", true, 10);
    assert_eq!(replay.not_ready_reason(), Some("body_too_large"));
    let mut none = Replay::No;
    none.buffer(b"abc", true, 10);
    assert_eq!(none, Replay::No);
}
