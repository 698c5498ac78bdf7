use super::*;

#[test]
fn finds_cookies() {
    assert_eq!(
        cookie_value("a=1; session=xyz; b=2", "session"),
        Some("xyz")
    );
    assert_eq!(cookie_value("session=xyz", "session"), Some("xyz"));
    assert_eq!(cookie_value("mysession=1; session2=3", "session"), None);
    assert_eq!(cookie_value("session=\"q\"", "session"), Some("\"q\""));
    assert_eq!(cookie_value("", "session"), None);
}

#[test]
fn strips_ports_from_source_addresses() {
    assert_eq!(source_ip("10.1.2.3:5555"), "10.1.2.3");
    assert_eq!(source_ip("[::1]:5555"), "::1");
    assert_eq!(source_ip("::1"), "::1");
    assert_eq!(source_ip("10.1.2.3"), "10.1.2.3");
}
