use super::*;

const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn parses_the_spec_example() {
    let t = TraceParent::parse(VALID).unwrap();
    assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(t.flags, 1);
    assert_eq!(t.header(), VALID);
}

#[test]
fn invalid_values_are_refused() {
    for bad in [
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
    ] {
        assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
    }
    // A later version with extra fields is read as far as 00 goes.
    assert!(TraceParent::parse(
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever"
    )
    .is_some());
}

#[test]
fn next_hop_continues_a_valid_trace_with_a_new_span() {
    let random: [u8; 24] = core::array::from_fn(|i| i as u8 + 1);
    let next = next_hop(Some(VALID), &random);
    assert_eq!(next.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(next.parent_id, [17, 18, 19, 20, 21, 22, 23, 24]);
    assert_eq!(next.flags, 1);
    let unsampled = VALID.replace("-01", "-00");
    assert_eq!(next_hop(Some(&unsampled), &random).flags, 0, "flags kept");
}

#[test]
fn next_hop_starts_a_trace_when_absent_or_invalid() {
    let random: [u8; 24] = core::array::from_fn(|i| i as u8 + 1);
    for incoming in [None, Some("garbage")] {
        let next = next_hop(incoming, &random);
        assert_eq!(next.trace_id, core::array::from_fn(|i| i as u8 + 1));
        assert_eq!(next.flags, 1);
        assert_eq!(
            next.header(),
            "00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01"
        );
    }
    let zeros = next_hop(None, &[0; 24]);
    assert_ne!(zeros.trace_id, [0; 16]);
    assert_ne!(zeros.parent_id, [0; 8]);
    assert!(TraceParent::parse(&zeros.header()).is_some());
}

#[test]
fn uuid_v4_has_version_and_variant() {
    let id = uuid_v4(&[0xff; 16]);
    assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    let id = uuid_v4(&[0; 16]);
    assert_eq!(id, "00000000-0000-4000-8000-000000000000");
    let id = uuid_v4(&core::array::from_fn(|i| i as u8));
    assert_eq!(id, "00010203-0405-4607-8809-0a0b0c0d0e0f");
}
