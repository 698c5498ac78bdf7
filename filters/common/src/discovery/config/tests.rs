use super::*;

#[test]
fn parses_every_source_with_defaults() {
    let config = DiscoveryConfig::from_json(
        br#"{"services": [
            {"service": "web", "source": {"etcd": {"cluster": "etcd"}}},
            {"service": "api", "source": {"consul": {"cluster": "consul", "token": "t"}}},
            {"service": "k", "source": {"kubernetes": {"cluster": "kube", "namespace": "ns"}}},
            {"service": "doc", "source": {"http": {"cluster": "cfg", "path": "/doc.json"}}},
            {"service": "fixed", "source": {"static": {"endpoints": [{"address": "10.0.0.1:80"}]}}}
        ]}"#,
    )
    .unwrap();
    assert_eq!(config.poll_ms, DEFAULT_POLL_MS);
    assert_eq!(config.timeout_ms, DEFAULT_TIMEOUT_MS);
    assert_eq!(config.services.len(), 5);
    assert!(matches!(
        config.services[0].source,
        Source::Etcd { prefix: None, .. }
    ));
}

#[test]
fn errors_name_the_field() {
    let err = |json: &str| {
        DiscoveryConfig::from_json(json.as_bytes())
            .unwrap_err()
            .to_string()
    };
    assert!(err(r#"{"services": []}"#).starts_with("services: must not be empty"));
    assert!(
        err(r#"{"services": [{"service": "a b", "source": {"etcd": {"cluster": "e"}}}]}"#)
            .starts_with("services[0].service:")
    );
    let e = err(
        r#"{"services": [{"service": "a", "source": {"etcd": {"cluster": "e", "prefx": "/"}}}]}"#,
    );
    assert!(e.contains("prefx"), "{e}");
    let e = err(
        r#"{"services": [{"service": "a", "source": {"etcd": {"cluster": "e"}}},
                                 {"service": "a", "source": {"etcd": {"cluster": "e"}}}]}"#,
    );
    assert!(e.starts_with("services[1].service: duplicate"), "{e}");
    let e = err(r#"{"services": [{"service": "a", "source": {"static": {"endpoints": []}}}]}"#);
    assert!(
        e.starts_with("services[0].source.static.endpoints: must not be empty"),
        "{e}"
    );
    assert!(err("").contains("required"));
}

#[test]
fn blocking_waits_are_bounded_and_lengthen_the_call() {
    let config = DiscoveryConfig::from_json(
        br#"{"timeout_ms": 1000, "services": [
            {"service": "api", "source": {"consul": {"cluster": "consul", "wait_ms": 16000}}},
            {"service": "web", "source": {"etcd": {"cluster": "etcd"}}}]}"#,
    )
    .unwrap();
    assert_eq!(config.services[0].source.call_timeout_ms(1000), 18_000);
    assert_eq!(config.services[1].source.call_timeout_ms(1000), 1000);
    for wait in ["0", "600001"] {
        let json = format!(
            r#"{{"services": [{{"service": "a", "source": {{"consul": {{"cluster": "c", "wait_ms": {wait}}}}}}}]}}"#
        );
        let e = DiscoveryConfig::from_json(json.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("services[0].source.consul.wait_ms: must be 1 to 600000"),
            "{e}"
        );
    }
}
