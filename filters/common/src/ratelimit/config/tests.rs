use super::*;

#[test]
fn minimal_configuration_uses_429() {
    let c =
        RateLimitConfig::from_json(br#"{"tokens_per_second": 10, "burst": 20, "key": "global"}"#)
            .unwrap();
    assert_eq!(c.bucket.tokens_per_second(), 10.0);
    assert_eq!(c.bucket.burst(), 20);
    assert_eq!(c.key, KeySource::Global);
    assert_eq!(c.status, 429);
}

#[test]
fn header_key_and_status() {
    let c = RateLimitConfig::from_json(
        br#"{"tokens_per_second": 0.5, "burst": 1, "key": "header:X-Tenant", "status": 503}"#,
    )
    .unwrap();
    assert_eq!(c.key, KeySource::Header("x-tenant".into()));
    assert_eq!(c.status, 503);
}

#[test]
fn each_invalid_field_is_named() {
    let cases: &[(&[u8], &str)] = &[
        (
            br#"{"tokens_per_second": 0, "burst": 1, "key": "global"}"#,
            "tokens_per_second",
        ),
        (
            br#"{"tokens_per_second": -1, "burst": 1, "key": "global"}"#,
            "tokens_per_second",
        ),
        (
            br#"{"tokens_per_second": 1, "burst": 0, "key": "global"}"#,
            "burst",
        ),
        (
            br#"{"tokens_per_second": 1, "burst": -3, "key": "global"}"#,
            "burst",
        ),
        (
            br#"{"tokens_per_second": 1, "burst": 1, "key": "ip"}"#,
            "key",
        ),
        (
            br#"{"tokens_per_second": 1, "burst": 1, "key": "header:"}"#,
            "key",
        ),
        (
            br#"{"tokens_per_second": 1, "burst": 1, "key": "header:a b"}"#,
            "key",
        ),
        (
            br#"{"tokens_per_second": 1, "burst": 1, "key": "global", "status": 99}"#,
            "status",
        ),
        (
            br#"{"tokens_per_second": "1", "burst": 1, "key": "global"}"#,
            "tokens_per_second",
        ),
        (
            br#"{"tokens_per_second": 1, "burst": 1, "key": "global", "extra": 1}"#,
            "extra",
        ),
    ];
    for (json, path) in cases {
        let e = RateLimitConfig::from_json(json).unwrap_err();
        assert_eq!(e.path(), *path, "{} -> {e}", String::from_utf8_lossy(json));
    }
}

#[test]
fn missing_fields_and_empty_configuration_are_errors() {
    let e =
        RateLimitConfig::from_json(br#"{"tokens_per_second": 1, "key": "global"}"#).unwrap_err();
    assert!(e.message().contains("missing field `burst`"), "{e}");
    let e = RateLimitConfig::from_json(b"").unwrap_err();
    assert_eq!(e.path(), ROOT_PATH);
}

#[test]
fn key_source_parse() {
    assert_eq!(KeySource::parse("global"), Ok(KeySource::Global));
    assert_eq!(
        KeySource::parse("header:x-user"),
        Ok(KeySource::Header("x-user".into()))
    );
    assert!(KeySource::parse("Global").is_err());
    assert!(KeySource::parse("header:").is_err());
}
