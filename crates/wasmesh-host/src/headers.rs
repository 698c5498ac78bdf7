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
    wasmesh_contract::pairs::serialize(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
}

/// Ordered `(name, value)` pairs, every name and value kept back to back in one buffer.
///
/// A map is built, copied and dropped for every request and response (converted from the
/// codec's, lent to each filter, kept for `on_log` and the access log): one buffer and one
/// list instead of two allocations per pair keeps that off the allocator. A value replaced or
/// a pair removed leaves its bytes behind until they outweigh the live ones; then the buffer
/// is rewritten, so a filter that rewrites a header in a loop cannot grow it without bound.
#[derive(Clone, Default)]
pub struct HeaderMap {
    /// Names (lowercase) and values, back to back, with the dead bytes of replaced values and
    /// removed pairs among them.
    bytes: Vec<u8>,
    /// Each pair's name and value in `bytes`, in order.
    pairs: Vec<Pair>,
    /// Bytes in `bytes` that no pair points at.
    dead: usize,
}

/// Where one pair's name and value lie in [`HeaderMap::buffer_and_ranges`]'s buffer.
pub type PairRanges = (std::ops::Range<usize>, std::ops::Range<usize>);

/// Where one pair's name and value lie in the map's buffer.
#[derive(Clone, Copy)]
struct Pair {
    name: Span,
    value: Span,
}

/// A range of the map's buffer.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    len: usize,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start..self.start + self.len
    }
}

/// Bytes of name and value a converted head's pair takes on average, to size its buffer once.
const BYTES_PER_PAIR: usize = 40;

impl HeaderMap {
    /// An empty map.
    pub fn new() -> HeaderMap {
        HeaderMap::default()
    }

    /// An empty map with room for `pairs` pairs: a head converted from a codec's, whose size is
    /// known, allocates its list and buffer once instead of doubling its way up.
    pub fn with_capacity(pairs: usize) -> HeaderMap {
        HeaderMap {
            bytes: Vec::with_capacity(pairs * BYTES_PER_PAIR),
            pairs: Vec::with_capacity(pairs),
            dead: 0,
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

    fn bytes_of(&self, span: Span) -> &[u8] {
        &self.bytes[span.range()]
    }

    /// All pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
        self.pairs
            .iter()
            .map(|pair| (self.bytes_of(pair.name), self.bytes_of(pair.value)))
    }

    /// The buffer every name and value lies in, with each pair's name and value as ranges of
    /// it, in order: a converter to another map type can copy the buffer once and share that
    /// copy among the values it makes, instead of allocating one per value.
    pub fn buffer_and_ranges(&self) -> (&[u8], impl Iterator<Item = PairRanges> + '_) {
        let ranges = (self.pairs.iter()).map(|pair| (pair.name.range(), pair.value.range()));
        (&self.bytes, ranges)
    }

    /// Index of the first pair named `name` (keys are stored lowercase: compared without
    /// making a lowercase copy). Lengths are compared before any byte: most names differ in
    /// length, and a lookup runs about twenty times per request with a few filters.
    fn position(&self, name: &[u8]) -> Option<usize> {
        (self.pairs.iter()).position(|pair| {
            pair.name.len == name.len() && self.bytes_of(pair.name).eq_ignore_ascii_case(name)
        })
    }

    /// First value of `name`.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.position(name)
            .map(|i| self.bytes_of(self.pairs[i].value))
    }

    /// First value of `name` as text.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name.as_bytes())
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Appends `bytes` (lowercased with `lowercase`) to the buffer.
    fn push_bytes(&mut self, bytes: &[u8], lowercase: bool) -> Span {
        let start = self.bytes.len();
        if lowercase {
            (self.bytes).extend(bytes.iter().map(u8::to_ascii_lowercase));
        } else {
            self.bytes.extend_from_slice(bytes);
        }
        Span {
            start,
            len: bytes.len(),
        }
    }

    /// Appends a pair (a second value for an existing name is kept as a separate pair).
    pub fn add(&mut self, name: &[u8], value: &[u8]) {
        let name = self.push_bytes(name, true);
        let value = self.push_bytes(value, false);
        self.pairs.push(Pair { name, value });
    }

    /// Sets `name` to exactly `value`: the first occurrence is replaced in place,
    /// the others removed; appended when absent.
    pub fn replace(&mut self, name: &[u8], value: &[u8]) {
        let Some(first) = self.position(name) else {
            return self.add(name, value);
        };
        self.dead += self.pairs[first].value.len;
        self.pairs[first].value = self.push_bytes(value, false);
        self.remove_from(first + 1, name);
    }

    /// Removes every pair named `name`.
    pub fn remove(&mut self, name: &[u8]) {
        self.remove_from(0, name);
    }

    /// Removes the pairs named `name` at index `from` and after, counting their bytes as dead.
    fn remove_from(&mut self, from: usize, name: &[u8]) {
        let mut i = 0;
        let mut dead = 0;
        let bytes = &self.bytes;
        self.pairs.retain(|pair| {
            let keep = i < from || !bytes[pair.name.range()].eq_ignore_ascii_case(name);
            if !keep {
                dead += pair.name.len + pair.value.len;
            }
            i += 1;
            keep
        });
        self.dead += dead;
        self.compact_if_mostly_dead();
    }

    /// Rewrites the buffer with only the live pairs once dead bytes outnumber them (and are
    /// more than a small map's worth, so that a few edits to a small map cost no copy).
    fn compact_if_mostly_dead(&mut self) {
        if self.dead <= 1024 || self.dead <= self.bytes.len() - self.dead {
            return;
        }
        let mut compact = HeaderMap::with_capacity(self.pairs.len());
        for (name, value) in self.iter() {
            compact.add(name, value);
        }
        *self = compact;
    }

    /// The spec's serialization: count, (key len, value len)*, then NUL-terminated keys and values.
    pub fn serialize(&self) -> Vec<u8> {
        wasmesh_contract::pairs::serialize(self.iter())
    }

    /// [`HeaderMap::serialize`], appended to `out`.
    pub fn serialize_into(&self, out: &mut Vec<u8>) {
        wasmesh_contract::pairs::serialize_into(out, self.iter());
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
        let mut map = HeaderMap {
            bytes: Vec::with_capacity(bytes.len() - data.min(bytes.len())),
            pairs: Vec::with_capacity(count),
            dead: 0,
        };
        for i in 0..count {
            let klen = word(4 + i * 8)?;
            let vlen = word(8 + i * 8)?;
            let key = bytes.get(data..data + klen).ok_or(MalformedPairs)?;
            data = data.checked_add(klen + 1).ok_or(MalformedPairs)?;
            let value = bytes.get(data..data + vlen).ok_or(MalformedPairs)?;
            data = data.checked_add(vlen + 1).ok_or(MalformedPairs)?;
            map.add(key, value);
        }
        if data > bytes.len() {
            return Err(MalformedPairs);
        }
        Ok(map)
    }
}

/// Maps are equal when their pairs are, in order (whatever dead bytes either buffer holds).
impl PartialEq for HeaderMap {
    fn eq(&self, other: &HeaderMap) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for HeaderMap {}

/// The pairs, as text where they are UTF-8.
impl std::fmt::Debug for HeaderMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        f.debug_list()
            .entries(self.iter().map(|(k, v)| (text(k), text(v))))
            .finish()
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

    #[test]
    fn names_are_found_in_any_case_and_only_whole() {
        let mut map = HeaderMap::new();
        map.add(b"X-Request-Id", b"1");
        map.add(b"x-request-ids", b"2");
        assert_eq!(map.get(b"x-request-id"), Some(&b"1"[..]));
        assert_eq!(map.get(b"X-REQUEST-ID"), Some(&b"1"[..]));
        assert_eq!(map.get(b"x-request-i"), None);
        assert_eq!(map.get(b"x-request-ie"), None);
        map.replace(b"X-Request-IDS", b"3");
        assert_eq!(map.get(b"x-request-ids"), Some(&b"3"[..]));
        map.remove(b"X-request-id");
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn rewriting_a_header_many_times_keeps_the_buffer_bounded() {
        let mut map = HeaderMap::new();
        map.add(b":path", b"/");
        let value = [b'v'; 100];
        for n in 0..10_000 {
            map.replace(b"x-count", &value);
            map.add(b"x-gone", &value);
            map.remove(b"X-Gone");
            assert_eq!(map.len(), 2, "after {n} rounds");
        }
        assert!(map.bytes.len() < 4096, "{} bytes kept", map.bytes.len());
        assert_eq!(map.get(b"x-count"), Some(&value[..]));
        assert_eq!(map.get(b":path"), Some(&b"/"[..]));
    }

    #[test]
    fn maps_with_the_same_pairs_are_equal_whatever_their_buffers_hold() {
        let pairs = |pairs: &[(&str, &str)]| HeaderMap::deserialize(&serialize_pairs(pairs));
        let mut edited = pairs(&[("A", "old"), ("b", "2")]).unwrap();
        edited.replace(b"a", b"1");
        let mut fresh = pairs(&[("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(edited, fresh);
        assert_eq!(edited.serialize(), fresh.serialize());
        assert_eq!(format!("{edited:?}"), r#"[("a", "1"), ("b", "2")]"#);
        fresh.add(b"c", b"3");
        assert_ne!(edited, fresh);
    }
}
