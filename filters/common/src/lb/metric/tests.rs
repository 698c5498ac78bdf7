use super::*;

#[test]
fn names_are_prometheus_friendly() {
    let a: SocketAddr = "127.0.0.1:8081".parse().unwrap();
    assert_eq!(
        endpoint(REQUESTS, "web", a),
        "lb_requests_total.web.127_0_0_1_8081"
    );
    assert_eq!(endpoint_label("[::1]:80".parse().unwrap()), "__1_80");
    assert_eq!(service(NO_ENDPOINT, "web"), "lb_no_endpoint_total.web");
}
