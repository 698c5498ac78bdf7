//! Change detection against what is stored: a set is written only when its endpoints differ
//! from the stored ones, with the stored version plus one. Every worker (and Envoy's main
//! thread) runs its own discovery root context; with the same answer they all find "no change",
//! and a racing write is refused by the CAS, so readers see each change once.

use crate::endpoint::{Endpoint, EndpointSet};

/// The set to write over `stored` (the raw shared-data value, if any) for `endpoints`
/// (normalised), or `None` when the stored set already has exactly these endpoints.
pub fn next(stored: Option<&[u8]>, endpoints: &[Endpoint]) -> Option<EndpointSet> {
    let current = stored.and_then(|bytes| EndpointSet::decode(bytes).ok());
    let version = match current {
        Some(decoded) => {
            let mut old = decoded.set.endpoints;
            old.sort_by_key(|e| e.address);
            if decoded.skipped.is_empty() && old == endpoints {
                return None;
            }
            decoded.set.version + 1
        }
        None => 1,
    };
    Some(EndpointSet {
        version,
        endpoints: endpoints.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(address: &str) -> Endpoint {
        Endpoint::new(address.parse().unwrap())
    }

    #[test]
    fn writes_only_changes_with_the_next_version() {
        let first = next(None, &[at("10.0.0.1:80")]).unwrap();
        assert_eq!(first.version, 1);
        let stored = first.to_json();
        assert_eq!(next(Some(&stored), &[at("10.0.0.1:80")]), None);
        let reweighted = next(Some(&stored), &[at("10.0.0.1:80").with_weight(3)]).unwrap();
        assert_eq!(reweighted.version, 2);
        assert_eq!(
            next(Some(b"garbage"), &[at("10.0.0.1:80")])
                .unwrap()
                .version,
            1
        );
        let empty = next(Some(&stored), &[]).unwrap();
        assert!(
            empty.endpoints.is_empty(),
            "a registry that says nobody is heard"
        );
    }
}
