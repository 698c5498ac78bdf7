//! A request's headers kept for a retry, in the proxy-wasm pair serialization the host hands
//! over (a count, each pair's name and value lengths, then the NUL-terminated names and
//! values), decoded only when a retry replays them.
//!
//! Most requests are never retried. Fetched as the SDK's list of `String` pairs, every
//! retryable request paid an allocation and a UTF-8 check per name and per value (about 9 000
//! wasm instructions for a GET's eight headers, a twentieth of the whole chain's cost per
//! request); kept as the host's one buffer, it pays one allocation.

use std::borrow::Cow;

use wasmesh_contract::pairs;

/// Serialized header pairs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CapturedHeaders {
    serialized: Vec<u8>,
}

impl CapturedHeaders {
    /// Headers as the host serialized them (`proxy_get_header_map_pairs`).
    pub fn from_serialized(serialized: Vec<u8>) -> Self {
        CapturedHeaders { serialized }
    }

    /// Headers from pairs, serialized as the host would.
    pub fn from_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Self {
        let as_bytes = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
        CapturedHeaders::from_serialized(pairs::serialize(as_bytes))
    }

    /// The same headers without those whose name `drop` picks; the buffer is rewritten only
    /// when one is dropped.
    pub fn without(self, drop: impl Fn(&[u8]) -> bool) -> Self {
        if !self.raw_pairs().any(|(name, _)| drop(name)) {
            return self;
        }
        let kept = self.raw_pairs().filter(|(name, _)| !drop(name));
        CapturedHeaders::from_serialized(pairs::serialize(kept))
    }

    /// The pairs in order, as text. The SDK's calls take text; a name or value that is not
    /// UTF-8 (which the SDK's own map reads would trap on) goes with U+FFFD in place of its
    /// invalid bytes.
    pub fn pairs(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        self.raw_pairs()
            .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v)))
            .collect()
    }

    /// The pairs as bytes.
    fn raw_pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
        pairs::parse(&self.serialized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(headers: &CapturedHeaders) -> Vec<(String, String)> {
        let pairs = headers.pairs().into_iter();
        pairs
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn pairs_read_back_in_order() {
        let pairs = [(":method", "GET"), ("x-a", ""), ("x-a", "2")];
        let headers = CapturedHeaders::from_pairs(&pairs);
        let expected: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(text(&headers), expected);
        assert!(text(&CapturedHeaders::default()).is_empty());
    }

    #[test]
    fn dropped_names_leave_the_rest_in_order() {
        let headers =
            CapturedHeaders::from_pairs(&[("a", "1"), ("content-length", "3"), ("b", "2")]);
        let kept = headers.without(|name| name == b"content-length");
        assert_eq!(
            text(&kept),
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        let untouched = kept.clone().without(|name| name == b"absent");
        assert_eq!(untouched, kept);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced_not_trapped_on() {
        let headers = CapturedHeaders::from_pairs(&[(&b"x-bin"[..], &b"a\xffb"[..])]);
        assert_eq!(text(&headers), [("x-bin".into(), "a\u{fffd}b".into())]);
    }

    #[test]
    fn a_malformed_buffer_yields_the_pairs_before_the_fault() {
        let mut bytes = CapturedHeaders::from_pairs(&[("a", "1"), ("b", "2")]).serialized;
        bytes.truncate(bytes.len() - 3); // the second value is cut
        assert_eq!(
            text(&CapturedHeaders::from_serialized(bytes)),
            [("a".into(), "1".into())]
        );
        let huge_count = u32::MAX.to_le_bytes().to_vec();
        assert!(text(&CapturedHeaders::from_serialized(huge_count)).is_empty());
    }
}
