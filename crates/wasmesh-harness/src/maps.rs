//! Header maps as a test writes and reads them: `(&str, &str)` pairs in, `(String, String)`
//! pairs out (bytes that are not UTF-8 are shown lossily).

use wasmesh_host::headers::HeaderMap;

/// A host map from a test's pairs, in order.
pub(crate) fn to_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.add(name.as_bytes(), value.as_bytes());
    }
    map
}

/// A host map's pairs, in order.
pub(crate) fn to_pairs(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(name).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            )
        })
        .collect()
}

/// The first value of `name` (names compare case-insensitively, as HTTP's do).
pub(crate) fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
