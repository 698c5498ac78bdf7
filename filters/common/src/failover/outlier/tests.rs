use super::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn five_consecutive_5xx_trigger_once_then_count_again() {
    let mut d = Detector::new(Thresholds {
        consecutive_5xx: 5,
        consecutive_gateway_failure: 0,
    });
    for _ in 0..4 {
        assert_eq!(d.record(addr(1), Outcome::Status(500)), None);
    }
    assert_eq!(
        d.record(addr(1), Outcome::Status(500)),
        Some(Trigger::Consecutive5xx)
    );
    assert_eq!(d.streak(addr(1)), 0);
    assert_eq!(d.record(addr(1), Outcome::Status(500)), None);
}

#[test]
fn a_success_breaks_the_streak_and_endpoints_count_apart() {
    let mut d = Detector::new(Thresholds::default());
    for _ in 0..4 {
        d.record(addr(1), Outcome::Status(503));
        d.record(addr(2), Outcome::Status(503));
    }
    d.record(addr(1), Outcome::Status(200));
    assert_eq!(d.record(addr(1), Outcome::Status(503)), None);
    assert_eq!(
        d.record(addr(2), Outcome::ConnectFailure),
        Some(Trigger::ConsecutiveGatewayFailure)
    );
    // A 404 is a success for outlier detection.
    d.record(addr(1), Outcome::Status(404));
    assert_eq!(d.streak(addr(1)), 0);
}

#[test]
fn gateway_streak_is_broken_by_other_5xx_but_5xx_streak_is_not() {
    let mut d = Detector::new(Thresholds {
        consecutive_5xx: 0,
        consecutive_gateway_failure: 3,
    });
    d.record(addr(1), Outcome::Status(502));
    d.record(addr(1), Outcome::Reset);
    d.record(addr(1), Outcome::Status(500));
    assert_eq!(d.record(addr(1), Outcome::Status(502)), None);
    assert_eq!(d.streak(addr(1)), 4);
}

#[test]
fn a_local_refusal_neither_counts_nor_clears_a_streak() {
    let mut d = Detector::new(Thresholds {
        consecutive_5xx: 3,
        consecutive_gateway_failure: 0,
    });
    d.record(addr(1), Outcome::Status(500));
    d.record(addr(1), Outcome::Status(500));
    assert_eq!(d.record(addr(1), Outcome::Local), None);
    assert_eq!(
        d.streak(addr(1)),
        2,
        "the streak is the endpoint's, untouched"
    );
    assert_eq!(
        d.record(addr(1), Outcome::Status(500)),
        Some(Trigger::Consecutive5xx)
    );
}
