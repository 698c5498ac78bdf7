use super::*;

#[test]
fn names_carry_service_and_endpoint_labels() {
    let a: SocketAddr = "127.0.0.1:8081".parse().unwrap();
    assert_eq!(
        endpoint(REQUESTS, "web", a),
        "lb_requests_total;service=web;endpoint=127.0.0.1:8081"
    );
    assert_eq!(
        endpoint(IN_FLIGHT, "web", "[::1]:80".parse().unwrap()),
        "lb_in_flight;service=web;endpoint=[::1]:80"
    );
    assert_eq!(
        endpoint(EWMA_MS, "web", a),
        "lb_ewma_ms;service=web;endpoint=127.0.0.1:8081"
    );
    assert_eq!(
        service(NO_ENDPOINT, "web"),
        "lb_no_endpoint_total;service=web"
    );
}

#[test]
fn level_gauges_carry_service_and_priority_labels() {
    assert_eq!(
        level(PRIORITY_LOAD, "web", 1),
        "lb_priority_load;service=web;priority=1"
    );
    assert_eq!(level(PANIC, "web", 0), "lb_panic;service=web;priority=0");
    assert!(wasmesh_contract::metric_name::LABELS.contains(&"priority"));
}
