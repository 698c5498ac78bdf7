use super::*;

#[test]
fn durations_take_ms_s_m_or_plain_seconds() {
    assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
    assert!(parse_duration("1h").unwrap_err().contains("unit"));
    assert!(parse_duration("fast").is_err());
}
