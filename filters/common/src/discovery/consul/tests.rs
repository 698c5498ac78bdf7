use super::*;

/// Shaped like Consul's documented sample answer of `/v1/health/service/web`.
const ANSWER: &str = r#"[
  {"Node": {"ID": "40e4a748", "Node": "foobar", "Address": "10.1.10.12", "Datacenter": "dc1",
            "TaggedAddresses": {"lan": "10.1.10.12", "wan": "10.1.10.12"},
            "Meta": {"zone": "eu-1a"}},
   "Service": {"ID": "redis", "Service": "redis", "Tags": ["primary", "v1"], "Address": "10.1.10.12",
               "Meta": {"redis_version": "4.0"}, "Port": 8000, "Weights": {"Passing": 10, "Warning": 1},
               "Namespace": "default"},
   "Checks": [{"Node": "foobar", "CheckID": "service:redis", "Status": "passing"}]},
  {"Node": {"Node": "n2", "Address": "10.1.10.13", "Meta": null},
   "Service": {"ID": "redis2", "Service": "redis", "Tags": null, "Address": "", "Meta": {"zone": "eu-1b"},
               "Port": 8001},
   "Checks": []}
]"#;

#[test]
fn entries_become_endpoints() {
    let Answer::Endpoints { endpoints, skipped } =
        parse(ANSWER.as_bytes(), Some("10"), None).unwrap()
    else {
        panic!()
    };
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(endpoints.len(), 2);
    let first = &endpoints[0];
    assert_eq!(first.address, "10.1.10.12:8000".parse().unwrap());
    assert_eq!((first.weight, first.zone.as_str()), (10, "eu-1a"));
    assert_eq!(first.labels["tags"], "primary,v1");
    assert_eq!(first.labels["redis_version"], "4.0");
    let second = &endpoints[1];
    assert_eq!(
        second.address,
        "10.1.10.13:8001".parse().unwrap(),
        "Node.Address fallback"
    );
    assert_eq!((second.weight, second.zone.as_str()), (1, "eu-1b"));
}

#[test]
fn same_index_is_unchanged() {
    assert_eq!(
        parse(ANSWER.as_bytes(), Some("10"), Some("10")).unwrap(),
        Answer::Unchanged
    );
}

#[test]
fn hostnames_and_garbage() {
    let body = r#"[{"Node": {"Address": "node.example"}, "Service": {"ID": "x", "Address": "", "Port": 80}},
                   {"Node": {"Address": "10.0.0.1"}, "Service": {"ID": "y"}}]"#;
    let Answer::Endpoints { endpoints, skipped } = parse(body.as_bytes(), None, None).unwrap()
    else {
        panic!()
    };
    assert!(endpoints.is_empty());
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(parse(b"{}", None, None).is_err());
    assert!(parse(b"rpc error", None, None).is_err());
    let request = request("consul", "consul", "web", Some("secret"), None);
    assert_eq!(request.path, "/v1/health/service/web?passing");
    assert!(request
        .headers
        .contains(&("x-consul-token".into(), "secret".into())));
}

#[test]
fn blocking_queries_carry_index_and_wait() {
    let block = Block {
        index: "42",
        wait_ms: 10_000,
    };
    let request = request("consul", "consul", "web", None, Some(block));
    assert_eq!(
        request.path,
        "/v1/health/service/web?passing&index=42&wait=10000ms"
    );
}

#[test]
fn an_index_that_goes_backwards_or_is_zero_is_forgotten() {
    assert_eq!(next_index(Some("7"), None), Some("7".into()));
    assert_eq!(next_index(Some("9"), Some("7")), Some("9".into()));
    assert_eq!(next_index(Some("7"), Some("7")), Some("7".into()));
    assert_eq!(next_index(Some("3"), Some("7")), None, "went backwards");
    assert_eq!(next_index(Some("0"), None), None);
    assert_eq!(next_index(Some("x"), None), None);
    assert_eq!(next_index(None, Some("7")), None);
}
