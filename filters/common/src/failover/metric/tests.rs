use super::*;
use wasmesh_contract::metric_name::parse;

#[test]
fn names_parse_into_known_labels() {
    let name = retries("web", "connect-failure");
    assert_eq!(
        name,
        "failover_retries_total;service=web;reason=connect-failure"
    );
    let (base, labels) = parse(&name);
    assert_eq!(base, RETRIES);
    assert_eq!(
        labels,
        vec![("service", "web"), ("reason", "connect-failure")]
    );
    let e = endpoint(EJECTED, "web", SocketAddr::from(([127, 0, 0, 1], 8082)));
    assert_eq!(e, "failover_ejected;service=web;endpoint=127.0.0.1:8082");
    assert_eq!(
        budget_exhausted("web"),
        "failover_budget_exhausted_total;service=web"
    );
    assert_eq!(
        not_retried("web", "body_too_large"),
        "failover_not_retried_total;service=web;reason=body_too_large"
    );
    assert_eq!(
        timeouts("web", "per-try"),
        "failover_timeouts_total;service=web;reason=per-try"
    );
}
