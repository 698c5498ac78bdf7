//! A plain JSON document served over HTTP, in the shared-data schema itself
//! (`{"endpoints": [{"address": "10.0.0.1:80", "weight": 2}]}`, `version` ignored): the
//! simplest registry, e.g. a file a deploy script rewrites behind any web server.

use super::{normalise, Answer};
use wasmesh_contract::endpoint::EndpointSet;

/// Parses the document: not the schema is an `Err`, a bad entry is skipped.
pub fn parse(body: &[u8]) -> Result<Answer, String> {
    let decoded =
        EndpointSet::decode(body).map_err(|e| format!("not an endpoint document: {e}"))?;
    Ok(Answer::Endpoints {
        endpoints: normalise(decoded.set.endpoints),
        skipped: decoded.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_schema() {
        let body = br#"{"endpoints": [{"address": "10.0.0.2:80", "weight": 2}, {"address": "x"},
                                      {"address": "10.0.0.1:80"}]}"#;
        let Answer::Endpoints { endpoints, skipped } = parse(body).unwrap() else {
            panic!()
        };
        assert_eq!(endpoints.len(), 2);
        assert_eq!(endpoints[0].address, "10.0.0.1:80".parse().unwrap());
        assert_eq!(skipped.len(), 1);
        assert!(parse(b"[]").is_err());
        assert!(parse(b"garbage").is_err());
    }
}
