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
}
