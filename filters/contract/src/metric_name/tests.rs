use super::*;

#[test]
fn labelled_names_parse_back() {
    let name = labelled(
        "response_total",
        &[("authority", "web.local:80"), ("status_code", "200")],
    );
    assert_eq!(
        name,
        "response_total;authority=web.local:80;status_code=200"
    );
    assert_eq!(
        parse(&name),
        (
            "response_total",
            vec![("authority", "web.local:80"), ("status_code", "200")]
        )
    );
}

#[test]
fn values_cannot_break_the_name() {
    assert_eq!(value("a;b=c\nd"), "a_b_c_d");
    assert_eq!(value(""), "unknown");
    assert_eq!(value("é"), "_");
    assert_eq!(value(&"x".repeat(500)).len(), MAX_VALUE_LEN);
    assert_eq!(value(&"x".repeat(MAX_VALUE_LEN)).len(), MAX_VALUE_LEN);
    let name = labelled("m", &[("route", "x;status_code=500")]);
    assert_eq!(parse(&name).1, vec![("route", "x_status_code_500")]);
}

#[test]
fn names_off_the_convention_stay_whole() {
    assert_eq!(parse("abi_counter"), ("abi_counter", vec![]));
    assert_eq!(parse("a;b"), ("a;b", vec![]));
    assert_eq!(parse("a;=x"), ("a;=x", vec![]));
}

#[test]
fn envoy_regex_names_the_label() {
    assert_eq!(envoy_tag_regex("route"), "(;route=([^;]*))");
    assert!(LABELS
        .iter()
        .all(|l| l.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
}

#[test]
fn safe_values_are_borrowed_and_others_made_safe() {
    for raw in ["web.local:80", "10.0.0.1:8080", "", "a;b", "é", "tab\there"] {
        assert_eq!(value_cow(raw), value(raw), "{raw:?}");
    }
    assert!(matches!(value_cow("web:80"), Cow::Borrowed("web:80")));
    assert!(matches!(value_cow("a;b"), Cow::Owned(_)));
    let long = "x".repeat(MAX_VALUE_LEN + 1);
    assert_eq!(value_cow(&long).len(), MAX_VALUE_LEN);
}
