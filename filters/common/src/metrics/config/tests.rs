use super::*;

fn parse(json: &str) -> Result<MetricsConfig, ConfigError> {
    MetricsConfig::from_json(json.as_bytes())
}

fn err(json: &str) -> String {
    parse(json).expect_err(json).to_string()
}

#[test]
fn empty_means_defaults() {
    assert_eq!(parse("").unwrap(), MetricsConfig::default());
    assert_eq!(parse("{}").unwrap(), MetricsConfig::default());
    let d = MetricsConfig::default();
    assert_eq!(d.direction, Direction::Inbound);
    assert_eq!(d.max_label_values, 100);
    assert!(!d.access_log && d.trace);
}

#[test]
fn full_config() {
    let c = parse(
        r#"{"direction":"outbound","max_label_values":5,"access_log":true,"trace":false,
            "routes":[{"name":"users","path":"/users/{id}"},{"name":"api","prefix":"/api/"}]}"#,
    )
    .unwrap();
    assert_eq!(c.direction, Direction::Outbound);
    assert_eq!(c.max_label_values, 5);
    assert!(c.access_log && !c.trace);
    assert_eq!(c.routes.len(), 2);
    assert_eq!(c.routes.name_of("/users/7"), "users");
    assert_eq!(c.routes.name_of("/api/x"), "api");
}

#[test]
fn errors_name_the_field() {
    assert_eq!(
        err(r#"{"direction":"sideways"}"#),
        "direction: unknown variant `sideways`, expected `inbound` or `outbound` at line 1 column 23"
    );
    assert!(err(r#"{"max_label_value":5}"#).contains("unknown field `max_label_value`"));
    assert_eq!(
        err(r#"{"max_label_values":0}"#),
        "max_label_values: must be above 0"
    );
    assert!(err(r#"{"routes":[{"name":"a","path":"users"}]}"#).starts_with("routes[0].path:"));
    assert!(err(r#"{"routes":[{"name":"a","prefix":"api"}]}"#).starts_with("routes[0].prefix:"));
    assert!(err(r#"{"routes":[{"name":"a"}]}"#).starts_with("routes[0]: exactly one"));
    assert!(
        err(r#"{"routes":[{"name":"a","path":"/a","prefix":"/b"}]}"#).starts_with("routes[0]:")
    );
    assert!(err(r#"{"routes":[{"name":"a b","path":"/a"}]}"#).starts_with("routes[0].name:"));
    assert!(err(r#"{"routes":[{"name":"default","path":"/a"}]}"#).starts_with("routes[0].name:"));
    assert!(
        err(r#"{"routes":[{"name":"a","path":"/a"},{"name":"a","path":"/b"}]}"#)
            .starts_with("routes[1].name: duplicate")
    );
    assert!(err(r#"{"routes":[{"name":"a","pth":"/a"}]}"#).contains("unknown field `pth`"));
    assert!(err(r#"{"trace":"yes"}"#).starts_with("trace:"));
}
