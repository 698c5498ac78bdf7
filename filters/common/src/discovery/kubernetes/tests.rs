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
    let Answer::Endpoints { endpoints, skipped } = parse(LIST.as_bytes(), Some("http")).unwrap()
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
    let Answer::Endpoints { endpoints, .. } = parse(LIST.as_bytes(), None).unwrap() else {
        panic!()
    };
    assert_eq!(endpoints[0].address.port(), 9090);
    let Answer::Endpoints { endpoints, skipped } = parse(LIST.as_bytes(), Some("grpc")).unwrap()
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
    assert!(parse(forbidden.as_bytes(), None)
        .unwrap_err()
        .contains("forbidden"));
    assert!(parse(b"[]", None).is_err());
    assert!(parse(br#"{"kind": "PodList", "items": []}"#, None).is_err());
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
