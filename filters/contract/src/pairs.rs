//! The proxy-wasm spec's serialization of `(name, value)` pairs, which the host writes into a
//! guest for a header map (and Envoy for other values it hands over as pairs, a CEL map or
//! list) and a guest may keep as it came: a little-endian u32 count, a u32 length for each
//! name and each value, then the names and values, each followed by a NUL.

/// `pairs` serialized (walked twice: lengths, then bytes).
pub fn serialize<'a>(pairs: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone) -> Vec<u8> {
    let mut out = Vec::new();
    serialize_into(&mut out, pairs);
    out
}

/// [`serialize`], appended to `out` (a buffer kept for the next call costs no allocation).
pub fn serialize_into<'a>(
    out: &mut Vec<u8>,
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
) {
    let (count, data) = (pairs.clone()).fold((0, 0), |(count, data), (k, v)| {
        (count + 1, data + k.len() + v.len() + 2)
    });
    out.reserve(4 + count * 8 + data);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    for (k, v) in pairs.clone() {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
}

/// The pairs of a serialization, in order, as bytes. A malformed buffer (which no host sends)
/// yields the pairs before the fault.
pub fn parse(serialized: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
    let word = move |at: usize| -> Option<usize> {
        let raw = serialized.get(at..at + 4)?;
        Some(u32::from_le_bytes(raw.try_into().ok()?) as usize)
    };
    let count = word(0).unwrap_or(0);
    // Names and values start after the count and two lengths per pair.
    let mut at = 4usize.saturating_add(count.saturating_mul(8));
    (0..count).map_while(move |i| {
        let name_len = word(4 + i * 8)?;
        let value_len = word(8 + i * 8)?;
        let name = serialized.get(at..at.checked_add(name_len)?)?;
        let value_at = at + name_len + 1;
        let value = serialized.get(value_at..value_at.checked_add(value_len)?)?;
        at = value_at + value_len + 1;
        Some((name, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_first_then_nul_terminated_bytes() {
        let pairs = [(&b"a"[..], &b"xy"[..]), (b"", b"")];
        let expected = [
            &2u32.to_le_bytes()[..],
            &1u32.to_le_bytes(),
            &2u32.to_le_bytes(),
            &0u32.to_le_bytes(),
            &0u32.to_le_bytes(),
            b"a\0xy\0\0\0",
        ]
        .concat();
        assert_eq!(serialize(pairs.into_iter()), expected);
        assert_eq!(serialize(std::iter::empty()), 0u32.to_le_bytes());
    }

    #[test]
    fn parsed_back_in_order() {
        let pairs = [
            (&b":path"[..], &b"/x"[..]),
            (b"a", b"1"),
            (b"a", b"2"),
            (b"", b""),
        ];
        let serialized = serialize(pairs.into_iter());
        assert_eq!(parse(&serialized).collect::<Vec<_>>(), pairs);
        assert_eq!(parse(&[]).count(), 0);
        // Cut short: the pairs before the cut.
        assert_eq!(parse(&serialized[..serialized.len() - 6]).count(), 2);
    }
}
