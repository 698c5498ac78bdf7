use super::*;

fn config(json: &str) -> AuthzConfig {
    AuthzConfig::from_json(json.as_bytes()).unwrap()
}

fn request<'a>(identity: Option<&'a str>, method: &'a str, path: &'a str) -> Request<'a> {
    Request {
        identity,
        source: Some("10.1.2.3".parse().unwrap()),
        method,
        path,
    }
}

const WEB: &str = "spiffe://example.org/ns/default/sa/web";
const BATCH: &str = "spiffe://example.org/ns/batch/sa/job";
const ELSEWHERE: &str = "spiffe://other.org/ns/default/sa/web";

#[test]
fn first_matching_rule_decides_then_the_default() {
    let policy = config(
        r#"{"rules": [
            {"name": "no-admin", "action": "deny", "to": {"path_prefixes": ["/admin"]}},
            {"name": "web", "action": "allow", "from": {"identities": ["spiffe://example.org/ns/default/sa/web"]}}
        ]}"#,
    );
    let no_headers = |_: &str| None;
    let d = policy.decide(&request(Some(WEB), "GET", "/admin/x?y"), no_headers);
    assert_eq!((d.action, d.rule), (Action::Deny, Some("no-admin")));
    let d = policy.decide(&request(Some(WEB), "GET", "/users"), no_headers);
    assert_eq!((d.action, d.rule), (Action::Allow, Some("web")));
    let d = policy.decide(&request(Some(BATCH), "GET", "/users"), no_headers);
    assert_eq!((d.action, d.rule), (Action::Deny, None));
    let d = policy.decide(&request(None, "GET", "/users"), no_headers);
    assert_eq!((d.action, d.rule), (Action::Deny, None));
}

#[test]
fn identities_match_exactly_by_prefix_or_trust_domain() {
    let policy = config(
        r#"{"default": "deny", "rules": [
            {"name": "batch", "action": "allow", "from": {"identity_prefixes": ["spiffe://example.org/ns/batch/"]}},
            {"name": "domain", "action": "allow", "from": {"trust_domains": ["other.org"]}},
            {"name": "anonymous", "action": "allow", "from": {"unauthenticated": true}, "to": {"paths": ["/health"]}}
        ]}"#,
    );
    let rule = |identity, path| {
        policy
            .decide(&request(identity, "GET", path), |_| None)
            .rule
    };
    assert_eq!(rule(Some(BATCH), "/"), Some("batch"));
    assert_eq!(rule(Some(ELSEWHERE), "/"), Some("domain"));
    assert_eq!(rule(Some("spiffe://other.org.evil/ns/x"), "/"), None);
    assert_eq!(rule(Some(WEB), "/"), None);
    assert_eq!(rule(None, "/health"), Some("anonymous"));
    assert_eq!(rule(None, "/health?full=1"), Some("anonymous"));
    assert_eq!(rule(None, "/"), None);
}

#[test]
fn networks_methods_and_headers() {
    let policy = config(
        r#"{"rules": [
            {"name": "office", "action": "allow",
             "from": {"networks": ["10.0.0.0/8", "fd00::/8"]},
             "to": {"methods": ["GET", "HEAD"], "headers": [{"name": "X-Team", "exact": "blue"}, {"name": "x-trace"}]}}
        ]}"#,
    );
    let headers = |name: &str| match name {
        "x-team" => Some("blue".to_string()),
        "x-trace" => Some("1".to_string()),
        _ => None,
    };
    let get = request(None, "GET", "/");
    assert_eq!(policy.decide(&get, headers).action, Action::Allow);
    assert_eq!(
        policy.decide(&request(None, "POST", "/"), headers).action,
        Action::Deny
    );
    assert_eq!(policy.decide(&get, |_| None).action, Action::Deny);
    let outside = Request {
        source: Some("192.168.0.1".parse().unwrap()),
        ..get
    };
    assert_eq!(policy.decide(&outside, headers).action, Action::Deny);
    let v6 = Request {
        source: Some("fd12::1".parse().unwrap()),
        ..get
    };
    assert_eq!(policy.decide(&v6, headers).action, Action::Allow);
    assert!(policy.reads_headers());
}

#[test]
fn errors_name_the_field() {
    let error = |json: &str| {
        AuthzConfig::from_json(json.as_bytes())
            .unwrap_err()
            .to_string()
    };
    assert!(
        error(r#"{"rules": [{"name": "a", "action": "maybe"}]}"#).starts_with("rules[0].action:")
    );
    assert!(error(
        r#"{"rules": [{"name": "a", "action": "allow", "from": {"networks": ["10.0.0.0/33"]}}]}"#
    )
    .starts_with("rules[0].from.networks[0]:"));
    assert!(error(
        r#"{"rules": [{"name": "a", "action": "allow"}, {"name": "a", "action": "deny"}]}"#
    )
    .starts_with("rules[1].name:"));
    assert!(error(r#"{"rules": [{"name": "a", "action": "allow", "from": {"trust_domains": ["spiffe://x"]}}]}"#)
        .starts_with("rules[0].from.trust_domains[0]:"));
    assert!(error(r#"{"deny_status": 42}"#).starts_with("deny_status:"));
    assert!(
        error(r#"{"rules": [{"name": "a", "action": "allow", "to": {"pathz": []}}]}"#)
            .contains("pathz")
    );
}

#[test]
fn cidrs_parse_and_contain() {
    let net: Cidr = "10.0.0.0/8".parse().unwrap();
    assert!(net.contains("10.255.0.1".parse().unwrap()));
    assert!(!net.contains("11.0.0.1".parse().unwrap()));
    let one: Cidr = "127.0.0.1".parse().unwrap();
    assert!(one.contains("127.0.0.1".parse().unwrap()));
    assert!(!one.contains("127.0.0.2".parse().unwrap()));
    let all: Cidr = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains("8.8.8.8".parse().unwrap()));
    assert!(!all.contains("::1".parse().unwrap()));
    assert!("10.0.0.0/40".parse::<Cidr>().is_err());
    assert!("nope".parse::<Cidr>().is_err());
}
