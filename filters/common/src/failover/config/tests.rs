use super::*;
use crate::lb::config::DEFAULT_PICK_HEADER;

fn err(json: &str) -> String {
    FailoverConfig::from_json(json.as_bytes())
        .expect_err(json)
        .to_string()
}

#[test]
fn minimal_config_gets_the_defaults() {
    let c = FailoverConfig::from_json(br#"{"service":"web","cluster":"dynamic"}"#).unwrap();
    assert_eq!(c.header, DEFAULT_PICK_HEADER);
    assert_eq!(c.retry.max_retries, 2);
    assert_eq!(
        c.retry.retry_on,
        vec![
            RetryOn::ConnectFailure,
            RetryOn::Reset,
            RetryOn::GatewayError
        ]
    );
    assert!(c.retries_method("GET") && c.retries_method("DELETE"));
    assert!(!c.retries_method("POST"));
    assert_eq!(c.retry.budget, BudgetConfig::default());
    assert_eq!(c.thresholds, Thresholds::default());
    assert_eq!(c.ejection, EjectionPolicy::default());
    assert_eq!(c.endpoints, None);
    assert_eq!(c.local_zone, None);
    assert_eq!(c.timeout_ms, 15_000);
    assert_eq!(c.retry.max_body_bytes, 65_536);
    assert_eq!(c.retry.backoff, Backoff::default());
}

#[test]
fn timeout_body_limit_and_backoff() {
    let c = FailoverConfig::from_json(
        br#"{"service":"web","cluster":"d","timeout_ms":0,
             "retry":{"max_body_bytes":10,"backoff":{"base_interval_ms":40}}}"#,
    )
    .unwrap();
    assert_eq!(c.timeout_ms, 0);
    assert_eq!(c.retry.max_body_bytes, 10);
    assert_eq!(
        c.retry.backoff,
        Backoff {
            base_ms: 40,
            max_ms: 400
        }
    );
    let none = r#"{"service":"w","cluster":"d","retry":{"backoff":{"base_interval_ms":0}}}"#;
    let c = FailoverConfig::from_json(none.as_bytes()).unwrap();
    assert_eq!(c.retry.backoff.max_ms, 0);
}

#[test]
fn full_config() {
    let c = FailoverConfig::from_json(
        br#"{"service":"web","cluster":"dynamic","endpoints":[{"address":"127.0.0.1:1"}],
             "response_header":"X-Wasmesh-Endpoint","local_zone":"eu-1a",
             "retry":{"max_retries":1,"retry_on":["5xx"],"methods":["GET","POST"],
                      "per_try_timeout_ms":200,"budget":{"ratio":0.5}},
             "outlier":{"consecutive_5xx":3,"base_ejection_time_ms":1000,
                        "max_ejection_time_ms":5000,"max_ejection_percent":50}}"#,
    )
    .unwrap();
    assert_eq!(c.response_header.as_deref(), Some("x-wasmesh-endpoint"));
    assert_eq!(c.local_zone.as_deref(), Some("eu-1a"));
    assert_eq!(c.retry.retry_on, vec![RetryOn::FiveXx]);
    assert!(c.retries_method("POST"));
    assert_eq!(c.retry.budget.ratio, 0.5);
    assert_eq!(c.retry.budget.min_per_second, 10);
    assert_eq!(c.thresholds.consecutive_5xx, 3);
    assert_eq!(c.thresholds.consecutive_gateway_failure, 5);
    assert_eq!(c.ejection.max_percent, 50);
}

#[test]
fn errors_name_the_field() {
    assert!(err(r#"{"service":"web"}"#).contains("missing field `cluster`"));
    assert!(
        err(r#"{"service":"web","cluster":"d","retry":{"retries":1}}"#)
            .starts_with("retry.retries: unknown field `retries`")
    );
    assert!(
        err(r#"{"service":"web","cluster":"d","retry":{"retry_on":["5XX"]}}"#)
            .starts_with("retry.retry_on[0]: unknown variant `5XX`")
    );
    assert!(
        err(r#"{"service":"web","cluster":"d","retry":{"methods":["get"]}}"#)
            .starts_with("retry.methods[0]:")
    );
    assert!(
        err(r#"{"service":"web","cluster":"d","outlier":{"max_ejection_percent":101}}"#)
            .starts_with("outlier.max_ejection_percent:")
    );
    assert!(err(r#"{"service":"web","cluster":"d","outlier":{"base_ejection_time_ms":2000,"max_ejection_time_ms":1000}}"#)
        .starts_with("outlier.max_ejection_time_ms:"));
    assert!(err(r#"{"service":"w b","cluster":"d"}"#).starts_with("service:"));
    assert!(err(r#"{"service":"web","cluster":"d","endpoints":[]}"#).starts_with("endpoints:"));
    assert!(err(" ").starts_with("(root):"));
    assert!(err(r#"{"service":"w","cluster":"d","retry":{"backoff":{"base_interval_ms":50,"max_interval_ms":10}}}"#)
        .starts_with("retry.backoff.max_interval_ms:"));
    assert!(err(r#"{"service":"w","cluster":"d","timeout_ms":-1}"#).starts_with("timeout_ms:"));
    assert!(err(r#"{"service":"w","cluster":"d","local_zone":""}"#)
        .starts_with("local_zone: must not be empty"));
}
