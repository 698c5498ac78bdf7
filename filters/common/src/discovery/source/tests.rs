use super::*;

fn reply<'a>(status: Option<u16>, headers: &'a [(String, String)], body: &'a [u8]) -> Reply<'a> {
    Reply {
        status,
        headers,
        body,
    }
}

fn consul() -> SourceState {
    let source = Source::Consul {
        cluster: "c".into(),
        name: None,
        token: None,
        authority: None,
        wait_ms: None,
    };
    SourceState::new("web", source)
}

#[test]
fn failures_are_errors() {
    let mut state = consul();
    assert!(state
        .parse(reply(None, &[], b""))
        .unwrap_err()
        .contains("no response"));
    assert!(state
        .parse(reply(Some(500), &[], b"down"))
        .unwrap_err()
        .contains("status 500: down"));
    assert!(state.parse(reply(Some(200), &[], b"garbage")).is_err());
    let all_bad = br#"[{"Node": {"Address": "h"}, "Service": {"Port": 1}}]"#;
    assert!(state
        .parse(reply(Some(200), &[], all_bad))
        .unwrap_err()
        .contains("every entry"));
}

#[test]
fn consul_index_makes_repeats_unchanged() {
    let mut state = consul();
    let headers = [("X-Consul-Index".to_string(), "42".to_string())];
    let body = br#"[{"Node": {"Address": "10.0.0.1"}, "Service": {"Port": 80}}]"#;
    assert!(matches!(
        state.parse(reply(Some(200), &headers, body)),
        Ok(Answer::Endpoints { .. })
    ));
    assert_eq!(
        state.parse(reply(Some(200), &headers, body)),
        Ok(Answer::Unchanged)
    );
    // A good empty answer is an answer: the registry says there is nobody.
    let empty = state.parse(reply(Some(200), &[], b"[]")).unwrap();
    assert_eq!(
        empty,
        Answer::Endpoints {
            endpoints: vec![],
            skipped: vec![]
        }
    );
}

#[test]
fn requests_per_source() {
    let etcd = SourceState::new(
        "web",
        Source::Etcd {
            cluster: "e".into(),
            prefix: None,
            authority: None,
        },
    );
    let request = etcd.request().unwrap();
    assert_eq!(
        (request.cluster.as_str(), request.authority.as_str()),
        ("e", "e")
    );
    let fixed = Source::Static {
        endpoints: vec![Endpoint::new("10.0.0.1:1".parse().unwrap())],
    };
    let fixed = SourceState::new("web", fixed);
    assert!(fixed.request().is_none());
    assert_eq!(fixed.static_endpoints().unwrap().len(), 1);
}

fn etcd_reply(body: &str) -> (Vec<(String, String)>, Vec<u8>) {
    (Vec::new(), body.as_bytes().to_vec())
}

#[test]
fn etcd_fetches_then_probes_and_fetches_again_on_a_change() {
    let mut state = SourceState::new(
        "web",
        Source::Etcd {
            cluster: "e".into(),
            prefix: None,
            authority: None,
        },
    );
    let is_probe = |state: &SourceState| {
        let body: serde_json::Value =
            serde_json::from_slice(&state.request().unwrap().body).unwrap();
        body["count_only"] == true
    };
    assert!(!is_probe(&state), "nothing known: fetch");
    let (h, range) = etcd_reply(r#"{"header": {"revision": "5"}, "kvs": []}"#);
    assert!(matches!(
        state.parse(reply(Some(200), &h, &range)),
        Ok(Answer::Endpoints { .. })
    ));
    assert!(is_probe(&state), "revision known: probe");
    let (h, same) = etcd_reply(r#"{"header": {"revision": "5"}, "count": "0"}"#);
    let answer = state.parse(reply(Some(200), &h, &same)).unwrap();
    assert_eq!(answer, Answer::Unchanged);
    assert!(!state.ask_again_at_once(&answer, 0));
    let (h, moved) = etcd_reply(r#"{"header": {"revision": "6"}, "count": "1"}"#);
    let answer = state.parse(reply(Some(200), &h, &moved)).unwrap();
    assert_eq!(answer, Answer::Changed);
    assert!(state.ask_again_at_once(&answer, 0), "fetch at once");
    assert!(!is_probe(&state), "the change is fetched");
    let (h, range) = etcd_reply(r#"{"header": {"revision": "6"}, "kvs": []}"#);
    assert!(matches!(
        state.parse(reply(Some(200), &h, &range)),
        Ok(Answer::Endpoints { .. })
    ));
    assert!(is_probe(&state));
}

#[test]
fn consul_blocks_once_it_has_an_index() {
    let mut state = SourceState::new(
        "web",
        Source::Consul {
            cluster: "c".into(),
            name: None,
            token: None,
            authority: None,
            wait_ms: Some(10_000),
        },
    );
    assert_eq!(
        state.request().unwrap().path,
        "/v1/health/service/web?passing"
    );
    let headers = [("x-consul-index".to_string(), "42".to_string())];
    let body = br#"[{"Node": {"Address": "10.0.0.1"}, "Service": {"Port": 80}}]"#;
    let answer = state.parse(reply(Some(200), &headers, body)).unwrap();
    assert!(
        state.ask_again_at_once(&answer, 3),
        "start blocking at once"
    );
    assert_eq!(
        state.request().unwrap().path,
        "/v1/health/service/web?passing&index=42&wait=10000ms"
    );
    let answer = state.parse(reply(Some(200), &headers, body)).unwrap();
    assert_eq!(answer, Answer::Unchanged);
    assert!(state.ask_again_at_once(&answer, 10_100), "the wait ended");
    assert!(
        !state.ask_again_at_once(&answer, 30),
        "unchanged at once: the server does not block; poll at the interval"
    );
}

#[test]
fn kubernetes_same_resource_version_is_unchanged() {
    let mut state = SourceState::new(
        "web",
        Source::Kubernetes {
            cluster: "k".into(),
            namespace: "ns".into(),
            name: None,
            token: None,
            port: None,
            zone: None,
            authority: None,
        },
    );
    let list =
        br#"{"kind": "EndpointSliceList", "metadata": {"resourceVersion": "77"}, "items": []}"#;
    assert!(matches!(
        state.parse(reply(Some(200), &[], list)),
        Ok(Answer::Endpoints { .. })
    ));
    assert!(state
        .request()
        .unwrap()
        .path
        .contains("&resourceVersion=77&resourceVersionMatch=NotOlderThan"));
    assert_eq!(
        state.parse(reply(Some(200), &[], list)),
        Ok(Answer::Unchanged)
    );
}
