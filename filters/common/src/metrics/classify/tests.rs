use super::*;
use Classification::{Failure, Success};

#[test]
fn http_status_decides_without_grpc() {
    assert_eq!(Classification::of(Some(200), None), Success);
    assert_eq!(Classification::of(Some(404), None), Success);
    assert_eq!(Classification::of(Some(499), None), Success);
    assert_eq!(Classification::of(Some(500), None), Failure);
    assert_eq!(Classification::of(Some(503), None), Failure);
}

#[test]
fn no_response_is_a_failure() {
    assert_eq!(Classification::of(None, None), Failure);
    assert_eq!(Classification::of(None, Some("0")), Failure);
}

#[test]
fn grpc_status_decides_for_grpc() {
    assert_eq!(Classification::of(Some(200), Some("0")), Success);
    assert_eq!(Classification::of(Some(200), Some(" 0 ")), Success);
    assert_eq!(Classification::of(Some(200), Some("14")), Failure);
    assert_eq!(Classification::of(Some(200), Some("nope")), Failure);
    assert_eq!(Classification::of(Some(503), Some("0")), Failure);
    assert_eq!(Success.as_str(), "success");
    assert_eq!(Failure.as_str(), "failure");
}
