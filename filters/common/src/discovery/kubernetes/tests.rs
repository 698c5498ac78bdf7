use super::*;

/// Shaped like the EndpointSlice example of the Kubernetes documentation, as a list.
const LIST: &str = r#"{"kind": "EndpointSliceList", "apiVersion": "discovery.k8s.io/v1",
  "metadata": {"resourceVersion": "1234"},
  "items": [
    {"metadata": {"name": "example-abc", "labels": {"kubernetes.io/service-name": "example"}},
     "addressType": "IPv4",
     "ports": [{"name": "metrics", "protocol": "TCP", "port": 9090}, {"name": "http", "protocol": "TCP", "port": 80}],
     "endpoints": [
       {"addresses": ["10.1.2.3"], "conditions": {"ready": true, "serving": true, "terminating": false},
        "hostname": "pod-1", "nodeName": "node-1", "zone": "us-west2-a"},
       {"addresses": ["10.1.2.4"], "conditions": {"ready": false, "serving": true, "terminating": true},
        "nodeName": "node-2", "zone": "us-west2-b"},
       {"addresses": ["10.1.2.5"], "conditions": {"ready": false, "serving": false, "terminating": false}},
       {"addresses": ["10.1.2.6"]}
     ]},
    {"addressType": "FQDN", "ports": [{"name": "http", "port": 80}], "endpoints": [{"addresses": ["a.example"]}]}
  ]}"#;

#[test]
fn conditions_decide_membership_and_priority() {
    let Answer::Endpoints { endpoints, skipped } =
        parse(LIST.as_bytes(), Some("http"), None).unwrap()
    else {
        panic!()
    };
    assert_eq!(skipped, vec!["items[1]: FQDN slice".to_string()]);
    let got: Vec<(String, u32)> = endpoints
        .iter()
        .map(|e| (e.address.to_string(), e.priority))
        .collect();
    assert_eq!(
        got,
        [("10.1.2.3:80", 0), ("10.1.2.4:80", 1), ("10.1.2.6:80", 0)]
            .map(|(a, p)| (a.to_string(), p))
    );
    assert_eq!(endpoints[0].zone, "us-west2-a");
    assert_eq!(endpoints[0].labels["node"], "node-1");
}

#[test]
fn first_port_without_a_name() {
    let Answer::Endpoints { endpoints, .. } = parse(LIST.as_bytes(), None, None).unwrap() else {
        panic!()
    };
    assert_eq!(endpoints[0].address.port(), 9090);
    let Answer::Endpoints { endpoints, skipped } =
        parse(LIST.as_bytes(), Some("grpc"), None).unwrap()
    else {
        panic!()
    };
    assert!(endpoints.is_empty());
    assert!(skipped[0].contains("no port"), "{skipped:?}");
}

#[test]
fn status_documents_and_garbage_are_errors() {
    let forbidden = r#"{"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": "endpointslices.discovery.k8s.io is forbidden", "reason": "Forbidden", "code": 403}"#;
    assert!(parse(forbidden.as_bytes(), None, None)
        .unwrap_err()
        .contains("forbidden"));
    assert!(parse(b"[]", None, None).is_err());
    assert!(parse(br#"{"kind": "PodList", "items": []}"#, None, None).is_err());
    let request = request("kube", "kube", "default", "web", Some("tok"), None);
    assert!(request
        .path
        .ends_with("labelSelector=kubernetes.io%2Fservice-name%3Dweb"));
    assert!(request
        .headers
        .contains(&("authorization".into(), "Bearer tok".into())));
}

#[test]
fn resource_version_is_read_and_asked_for() {
    let list =
        br#"{"kind": "EndpointSliceList", "metadata": {"resourceVersion": "1234"}, "items": []}"#;
    assert_eq!(resource_version(list), Some("1234".into()));
    assert_eq!(resource_version(br#"{"items": []}"#), None);
    assert_eq!(resource_version(b"garbage"), None);
    let request = request("kube", "kube", "default", "web", None, Some("1234"));
    assert!(
        request
            .path
            .ends_with("&resourceVersion=1234&resourceVersionMatch=NotOlderThan"),
        "{}",
        request.path
    );
}

/// Shaped like the documentation's hinted EndpointSlice: two zones, each endpoint hinted for
/// its own zone, one of zone b's hinted for zone a too (capacity moved), one terminating.
const HINTED: &str = r#"{"kind": "EndpointSliceList", "items": [
  {"addressType": "IPv4", "ports": [{"name": "http", "port": 80}],
   "endpoints": [
     {"addresses": ["10.0.0.1"], "zone": "a", "hints": {"forZones": [{"name": "a"}]}},
     {"addresses": ["10.0.0.2"], "zone": "b", "hints": {"forZones": [{"name": "a"}, {"name": "b"}]}},
     {"addresses": ["10.0.0.3"], "zone": "b", "hints": {"forZones": [{"name": "b"}]}},
     {"addresses": ["10.0.0.4"], "zone": "a",
      "conditions": {"ready": false, "serving": true, "terminating": true}}
   ]}]}"#;

fn priorities(body: &str, zone: Option<&str>) -> Vec<(String, u32)> {
    let Answer::Endpoints { endpoints, .. } = parse(body.as_bytes(), None, zone).unwrap() else {
        panic!()
    };
    endpoints
        .iter()
        .map(|e| (e.address.to_string(), e.priority))
        .collect()
}

#[test]
fn zone_hints_demote_endpoints_hinted_for_other_zones() {
    let want = |list: [(&str, u32); 4]| list.map(|(a, p)| (a.to_string(), p)).to_vec();
    assert_eq!(
        priorities(HINTED, Some("a")),
        want([
            ("10.0.0.1:80", 0),
            ("10.0.0.2:80", 0),
            ("10.0.0.3:80", 1),
            ("10.0.0.4:80", 2)
        ])
    );
    assert_eq!(
        priorities(HINTED, Some("b")),
        want([
            ("10.0.0.1:80", 1),
            ("10.0.0.2:80", 0),
            ("10.0.0.3:80", 0),
            ("10.0.0.4:80", 2)
        ])
    );
    // No zone of our own, or a zone no endpoint is hinted for: hints are not in force.
    let plain = want([
        ("10.0.0.1:80", 0),
        ("10.0.0.2:80", 0),
        ("10.0.0.3:80", 0),
        ("10.0.0.4:80", 1),
    ]);
    assert_eq!(priorities(HINTED, None), plain);
    assert_eq!(priorities(HINTED, Some("c")), plain);
    let Answer::Endpoints { endpoints, .. } = parse(HINTED.as_bytes(), None, None).unwrap() else {
        panic!()
    };
    assert_eq!(endpoints[1].labels["hints"], "a,b");
}

#[test]
fn zone_hints_need_every_ready_endpoint_hinted() {
    let one_unhinted = HINTED.replace(r#", "hints": {"forZones": [{"name": "b"}]}"#, "");
    assert_eq!(
        priorities(&one_unhinted, Some("a")),
        [
            ("10.0.0.1:80", 0),
            ("10.0.0.2:80", 0),
            ("10.0.0.3:80", 0),
            ("10.0.0.4:80", 1)
        ]
        .map(|(a, p)| (a.to_string(), p))
        .to_vec()
    );
}
