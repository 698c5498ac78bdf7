use super::*;

fn parse(json: &str) -> Result<LbConfig, ConfigError> {
    LbConfig::from_json(json.as_bytes())
}

fn err(json: &str) -> ConfigError {
    parse(json).expect_err(json)
}

#[test]
fn minimal_static_config() {
    let c = parse(
        r#"{"service":"web","policy":"round_robin","endpoints":[{"address":"127.0.0.1:8081"}]}"#,
    )
    .unwrap();
    assert_eq!(c.service, "web");
    assert_eq!(c.policy, Policy::RoundRobin);
    assert_eq!(c.header, DEFAULT_PICK_HEADER);
    assert_eq!(c.response_header, None);
    assert_eq!(c.endpoints.unwrap()[0].weight, 1);
}

#[test]
fn full_config() {
    let c = parse(
        r#"{"service":"web","policy":"peak_ewma","header":"X-Pick","response_header":"x-wasmesh-endpoint",
            "peak_ewma":{"decay_ms":5000}}"#,
    )
    .unwrap();
    assert_eq!(c.policy, Policy::PeakEwma(EwmaConfig::from_ms(5000, 30)));
    assert_eq!(c.header, "x-pick");
    assert_eq!(c.endpoints, None, "shared data");
    let c = parse(r#"{"service":"web","policy":"maglev","hash_key":"source_ip"}"#).unwrap();
    assert_eq!(c.policy, Policy::Maglev(HashKey::SourceIp));
    let c =
        parse(r#"{"service":"web","policy":"ring_hash","hash_key":{"cookie":"session"}}"#).unwrap();
    assert_eq!(
        c.policy.hash_key(),
        Some(&HashKey::Cookie("session".into()))
    );
}

#[test]
fn errors_name_the_field() {
    let e = err(r#"{"service":"web","policy":"fastest"}"#);
    assert_eq!(e.path(), "policy");
    assert!(e.message().contains("fastest"), "{e}");
    assert!(err(r#"{"service":"web","policy":"random","extra":1}"#)
        .to_string()
        .contains("unknown field `extra`"));
    assert!(err(r#"{"service":"web","policy":"random","extra":1}"#)
        .message()
        .contains("extra"));
    let e = err(r#"{"service":"web","policy":"random","endpoints":[]}"#);
    assert_eq!(e.path(), "endpoints");
    let e = err(r#"{"service":"web","policy":"random","endpoints":[{"address":"nope"}]}"#);
    assert_eq!(e.path(), "endpoints[0].address", "{e}");
    let e = err(
        r#"{"service":"web","policy":"random","endpoints":[{"address":"1.1.1.1:1"},{"address":"1.1.1.1:1"}]}"#,
    );
    assert_eq!(e.path(), "endpoints[1].address", "{e}");
    let e = err(
        r#"{"service":"web","policy":"weighted","endpoints":[{"address":"1.1.1.1:1","weight":0}]}"#,
    );
    assert!(e.message().contains("every weight is 0"), "{e}");
    assert_eq!(
        err(r#"{"service":"a b","policy":"random"}"#).path(),
        "service"
    );
    assert_eq!(err(r#"{"service":"","policy":"random"}"#).path(), "service");
    assert_eq!(
        err(r#"{"service":"web","policy":"ring_hash"}"#).path(),
        "hash_key"
    );
    assert_eq!(
        err(r#"{"service":"web","policy":"random","hash_key":"source_ip"}"#).path(),
        "hash_key"
    );
    assert_eq!(
        err(r#"{"service":"web","policy":"random","peak_ewma":{}}"#).path(),
        "peak_ewma"
    );
    assert_eq!(
        err(r#"{"service":"web","policy":"peak_ewma","peak_ewma":{"decay":1}}"#).path(),
        "peak_ewma.decay"
    );
    assert_eq!(
        err(r#"{"service":"web","policy":"maglev","hash_key":{"header":"a b"}}"#).path(),
        "hash_key.header"
    );
    assert_eq!(
        err(r#"{"service":"web","policy":"random","header":"a b"}"#).path(),
        "header"
    );
    assert_eq!(err("  ").path(), ROOT_PATH);
}

#[test]
fn priority_levels_default_to_envoys_and_are_configurable() {
    let base = r#"{"service":"web","policy":"round_robin""#;
    let c = parse(&format!("{base}}}")).unwrap();
    assert_eq!(c.levels, Levels::default());
    assert_eq!(c.levels.model.overprovisioning_factor, 140);
    assert_eq!(c.levels.model.panic_threshold, 50.0);
    let c = parse(&format!(
        r#"{base},"overprovisioning_factor":100,"panic_threshold":0,"local_zone":"a"}}"#
    ))
    .unwrap();
    assert_eq!(c.levels.model.overprovisioning_factor, 100);
    assert_eq!(c.levels.model.panic_threshold, 0.0);
    assert_eq!(c.levels.local_zone.as_deref(), Some("a"));
}

#[test]
fn bad_priority_settings_name_the_field() {
    let base = r#"{"service":"web","policy":"round_robin""#;
    for (extra, path) in [
        (r#""overprovisioning_factor":0"#, "overprovisioning_factor"),
        (
            r#""overprovisioning_factor":1.4"#,
            "overprovisioning_factor",
        ),
        (r#""panic_threshold":101"#, "panic_threshold"),
        (r#""panic_threshold":-1"#, "panic_threshold"),
        (r#""local_zone":"""#, "local_zone"),
        (r#""local_zone":1"#, "local_zone"),
    ] {
        let e = err(&format!("{base},{extra}}}"));
        assert_eq!(e.path(), path, "{extra}: {e}");
    }
}
