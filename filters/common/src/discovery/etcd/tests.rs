use super::*;

const PREFIX: &str = "/wasmesh/services/web/";

fn kv(key: &str, value: &str) -> serde_json::Value {
    json!({"key": base64::encode(key.as_bytes()), "value": base64::encode(value.as_bytes()),
           "create_revision": "2", "mod_revision": "5", "version": "1"})
}

fn answer(revision: &str, kvs: Vec<serde_json::Value>) -> Vec<u8> {
    json!({"header": {"cluster_id": "1", "member_id": "2", "revision": revision, "raft_term": "2"},
           "kvs": kvs, "count": "2"})
    .to_string()
    .into_bytes()
}

#[test]
fn range_covers_the_prefix() {
    assert_eq!(prefix_end(b"/a/"), b"/a0");
    assert_eq!(prefix_end(b"a\xff"), b"b");
    let request = range_request("etcd", "etcd", PREFIX);
    assert_eq!(
        (request.method, request.path.as_str()),
        ("POST", "/v3/kv/range")
    );
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        base64::decode(body["key"].as_str().unwrap()).unwrap(),
        PREFIX.as_bytes()
    );
    assert_eq!(
        base64::decode(body["range_end"].as_str().unwrap()).unwrap(),
        b"/wasmesh/services/web0"
    );
}

#[test]
fn keys_and_values_become_endpoints() {
    let body = answer(
        "7",
        vec![
            kv(
                "/wasmesh/services/web/10.0.0.2:80",
                r#"{"weight": 3, "zone": "b"}"#,
            ),
            kv("/wasmesh/services/web/10.0.0.1:80", ""),
        ],
    );
    let (answer, revision) = parse(&body, PREFIX, None).unwrap();
    assert_eq!(revision, 7);
    let Answer::Endpoints { endpoints, skipped } = answer else {
        panic!("{answer:?}")
    };
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(endpoints[0], Endpoint::new("10.0.0.1:80".parse().unwrap()));
    assert_eq!(endpoints[1].weight, 3);
    assert_eq!(endpoints[1].zone, "b");
}

#[test]
fn same_revision_is_unchanged_and_no_kvs_is_empty() {
    let body = answer("7", vec![]);
    assert_eq!(parse(&body, PREFIX, Some(7)).unwrap().0, Answer::Unchanged);
    let Answer::Endpoints { endpoints, .. } = parse(&body, PREFIX, Some(6)).unwrap().0 else {
        panic!()
    };
    assert!(endpoints.is_empty());
}

#[test]
fn bad_entries_are_skipped_bad_documents_are_errors() {
    let body = answer(
        "9",
        vec![
            kv("/wasmesh/services/web/not-an-address", "{}"),
            kv("/wasmesh/services/web/10.0.0.1:80", "{\"weight\": -1}"),
            kv("/wasmesh/services/web/10.0.0.3:80", "{}"),
        ],
    );
    let Answer::Endpoints { endpoints, skipped } = parse(&body, PREFIX, None).unwrap().0 else {
        panic!()
    };
    assert_eq!(endpoints.len(), 1);
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(parse(b"<html>", PREFIX, None).is_err());
    assert!(parse(
        br#"{"error": "etcdserver: too many requests", "code": 14}"#,
        PREFIX,
        None
    )
    .is_err());
    assert!(parse(br#"{"kvs": []}"#, PREFIX, None).is_err());
}

#[test]
fn a_probe_counts_only_and_compares_the_revision() {
    let request = probe_request("etcd", "etcd", PREFIX);
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["count_only"], true);
    assert_eq!(
        base64::decode(body["key"].as_str().unwrap()).unwrap(),
        PREFIX.as_bytes()
    );
    let probe = br#"{"header": {"revision": "9"}, "count": "2"}"#;
    assert_eq!(parse_probe(probe, 9), Ok((Answer::Unchanged, 9)));
    assert_eq!(parse_probe(probe, 8), Ok((Answer::Changed, 9)));
    assert!(parse_probe(b"{}", 8).is_err());
}
