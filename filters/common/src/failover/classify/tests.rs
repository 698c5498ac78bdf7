use super::*;

#[test]
fn envoy_code_details_tell_connect_failure_and_reset_apart() {
    let refused = "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}";
    assert_eq!(classify(Some(503), Some(refused)), Outcome::ConnectFailure);
    assert_eq!(
        classify(
            Some(503),
            Some("upstream_reset_before_response_started{connection_termination}")
        ),
        Outcome::Reset
    );
    assert_eq!(
        classify(Some(503), Some("via_upstream")),
        Outcome::Status(503)
    );
}

#[test]
fn without_details_only_the_status_counts() {
    assert_eq!(classify(Some(503), None), Outcome::Status(503));
    assert_eq!(classify(Some(200), None), Outcome::Status(200));
    assert_eq!(classify(None, None), Outcome::Reset);
}

#[test]
fn conditions_cover_what_envoy_s_cover() {
    use Outcome::*;
    let cases = [
        (RetryOn::ConnectFailure, [true, false, false, false, false]),
        (RetryOn::Reset, [true, true, false, false, false]),
        (RetryOn::GatewayError, [true, true, true, false, false]),
        (RetryOn::FiveXx, [true, true, true, true, false]),
    ];
    let outcomes = [ConnectFailure, Reset, Status(503), Status(500), Status(404)];
    for (condition, expected) in cases {
        for (outcome, want) in outcomes.iter().zip(expected) {
            assert_eq!(condition.matches(*outcome), want, "{condition:?} {outcome}");
        }
    }
    assert!(!retryable(&[], ConnectFailure));
}

#[test]
fn failures_for_outlier_detection_and_reasons() {
    assert!(Outcome::Status(500).is_5xx());
    assert!(!Outcome::Status(500).is_gateway_failure());
    assert!(Outcome::Status(504).is_gateway_failure());
    assert!(!Outcome::Status(404).is_5xx());
    assert_eq!(Outcome::Status(502).reason(), Some("gateway-error"));
    assert_eq!(Outcome::Status(500).reason(), Some("5xx"));
    assert_eq!(Outcome::ConnectFailure.reason(), Some("connect-failure"));
    assert_eq!(Outcome::Status(200).reason(), None);
}

#[test]
fn the_proxys_own_circuit_breaker_is_local() {
    let overflow = classify(
        Some(503),
        Some("upstream_reset_before_response_started{overflow}"),
    );
    assert_eq!(overflow, Outcome::Local);
    assert!(!overflow.is_5xx() && !overflow.is_gateway_failure());
    assert_eq!(overflow.reason(), None, "never retried");
    assert!(!retryable(&[RetryOn::FiveXx, RetryOn::Reset], overflow));
}
