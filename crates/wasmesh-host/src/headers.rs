//! An ordered header map with Envoy's semantics (lowercase keys, pseudo
//! headers first, first value wins on get) and the proxy-wasm pair
//! serialization.

/// Why a serialized map could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct MalformedPairs;

/// Most pairs a guest may hand over in one map; a bound so a bogus count
/// cannot make the host allocate without end.
pub const MAX_PAIRS: usize = 8192;

/// `pairs` in the spec's serialization: count, (key len, value len)*, then NUL-terminated keys
/// and values. Header maps use it, and so do other values Envoy hands over as pairs (a CEL map
/// or list), whose keys are kept as they are.
pub fn serialize_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Vec<u8> {
    let data: usize = (pairs.iter())
        .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
        .sum();
    let mut out = Vec::with_capacity(4 + pairs.len() * 8 + data);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.as_ref().len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.as_ref().len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_ref());
        out.push(0);
        out.extend_from_slice(v.as_ref());
        out.push(0);
    }
    out
}

/// Ordered `(name, value)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMap {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl HeaderMap {
    /// An empty map.
    pub fn new() -> HeaderMap {
        HeaderMap::default()
    }

    /// An empty map with room for `pairs` pairs: a head converted from a codec's, whose size is
    /// known, allocates its list once instead of doubling its way up.
    pub fn with_capacity(pairs: usize) -> HeaderMap {
        HeaderMap {
            pairs: Vec::with_capacity(pairs),
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// All pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.pairs.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// First value of `name`.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        // Keys are stored lowercase: compare without allocating a lowercase copy.
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// First value of `name` as text.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name.as_bytes())
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Appends a pair (a second value for an existing name is kept as a separate pair).
    pub fn add(&mut self, name: &[u8], value: &[u8]) {
        self.pairs.push((name.to_ascii_lowercase(), value.to_vec()));
    }

    /// Sets `name` to exactly `value`: the first occurrence is replaced in place,
    /// the others removed; appended when absent.
    pub fn replace(&mut self, name: &[u8], value: &[u8]) {
        let name = name.to_ascii_lowercase();
        match self.pairs.iter().position(|(k, _)| *k == name) {
            Some(first) => {
                self.pairs[first].1 = value.to_vec();
                let mut i = 0;
                self.pairs.retain(|(k, _)| {
                    let keep = i <= first || *k != name;
                    i += 1;
                    keep
                });
            }
            None => self.pairs.push((name, value.to_vec())),
        }
    }

    /// Removes every pair named `name`.
    pub fn remove(&mut self, name: &[u8]) {
        self.pairs.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    /// The spec's serialization: count, (key len, value len)*, then NUL-terminated keys and values.
    pub fn serialize(&self) -> Vec<u8> {
        serialize_pairs(&self.pairs)
    }

    /// Parses the spec's serialization; an empty input (or a single 0 byte) is an empty map.
    pub fn deserialize(bytes: &[u8]) -> Result<HeaderMap, MalformedPairs> {
        if bytes.len() <= 1 {
            return Ok(HeaderMap::new());
        }
        let word = |at: usize| -> Result<usize, MalformedPairs> {
            let raw = bytes.get(at..at + 4).ok_or(MalformedPairs)?;
            Ok(u32::from_le_bytes(raw.try_into().map_err(|_| MalformedPairs)?) as usize)
        };
        let count = word(0)?;
        if count > MAX_PAIRS || count.saturating_mul(8) > bytes.len() {
            return Err(MalformedPairs);
        }
        let mut data = 4 + count * 8;
        let mut pairs = Vec::with_capacity(count);
        for i in 0..count {
            let klen = word(4 + i * 8)?;
            let vlen = word(8 + i * 8)?;
            let key = bytes.get(data..data + klen).ok_or(MalformedPairs)?;
            data = data.checked_add(klen + 1).ok_or(MalformedPairs)?;
            let value = bytes.get(data..data + vlen).ok_or(MalformedPairs)?;
            data = data.checked_add(vlen + 1).ok_or(MalformedPairs)?;
            pairs.push((key.to_ascii_lowercase(), value.to_vec()));
        }
        if data > bytes.len() {
            return Err(MalformedPairs);
        }
        Ok(HeaderMap { pairs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialization_matches_the_spec_example() {
        let mut map = HeaderMap::new();
        map.add(b"a", b"1");
        map.add(b"b", b"22");
        let bytes = map.serialize();
        let expected: Vec<u8> = [
            &2u32.to_le_bytes()[..],
            &1u32.to_le_bytes(),
            &1u32.to_le_bytes(),
            &1u32.to_le_bytes(),
            &2u32.to_le_bytes(),
            b"a\x001\x00b\x0022\x00",
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(HeaderMap::deserialize(&bytes).unwrap(), map);
    }

    #[test]
    fn malformed_input_is_rejected_not_panicking() {
        assert!(HeaderMap::deserialize(&[]).unwrap().is_empty());
        assert!(HeaderMap::deserialize(&[0]).unwrap().is_empty());
        assert_eq!(
            HeaderMap::deserialize(&u32::MAX.to_le_bytes()),
            Err(MalformedPairs)
        );
        let mut bad = HeaderMap::new();
        bad.add(b"k", b"v");
        let mut bytes = bad.serialize();
        bytes[4] = 200; // key length past the end
        assert_eq!(HeaderMap::deserialize(&bytes), Err(MalformedPairs));
    }

    #[test]
    fn replace_keeps_position_and_drops_duplicates() {
        let mut map = HeaderMap::new();
        map.add(b"x", b"1");
        map.add(b"y", b"2");
        map.add(b"X", b"3");
        map.replace(b"x", b"9");
        assert_eq!(
            map.iter().collect::<Vec<_>>(),
            vec![(&b"x"[..], &b"9"[..]), (&b"y"[..], &b"2"[..])]
        );
        map.remove(b"Y");
        assert_eq!(map.len(), 1);
    }
}
