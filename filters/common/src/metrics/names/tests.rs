use super::*;

#[test]
fn names_follow_linkerd_with_labels_in_the_name() {
    let labels = RequestLabels {
        direction: "inbound",
        authority: "web:8080",
        route: "users",
    };
    assert_eq!(
        labels.request_total(),
        "request_total;direction=inbound;authority=web:8080;route=users"
    );
    assert_eq!(
        labels.in_flight(),
        "request_in_flight;direction=inbound;authority=web:8080;route=users"
    );
    assert_eq!(
        labels.response_total("503", "failure"),
        "response_total;direction=inbound;authority=web:8080;route=users;status_code=503;classification=failure"
    );
    assert_eq!(
        labels.latency("200", "success"),
        "response_latency_ms;direction=inbound;authority=web:8080;route=users;status_code=200;classification=success"
    );
    assert_eq!(
        endpoint_response_total("outbound", "10.0.0.1:80", "success"),
        "endpoint_response_total;direction=outbound;endpoint=10.0.0.1:80;classification=success"
    );
}

#[test]
fn only_convention_labels_are_used() {
    let labels = RequestLabels {
        direction: "inbound",
        authority: "a",
        route: "r",
    };
    for name in [
        labels.latency("200", "success"),
        endpoint_response_total("inbound", "e", "success"),
    ] {
        let (_, parsed) = wasmesh_contract::metric_name::parse(&name);
        for (key, _) in parsed {
            assert!(
                wasmesh_contract::metric_name::LABELS.contains(&key),
                "{key} in {name}"
            );
        }
    }
}

#[test]
fn hostile_values_cannot_add_labels() {
    let labels = RequestLabels {
        direction: "inbound",
        authority: "evil;route=x",
        route: "r",
    };
    assert_eq!(
        labels.request_total(),
        "request_total;direction=inbound;authority=evil_route_x;route=r"
    );
}
