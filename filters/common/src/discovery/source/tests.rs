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
