//! The document `discovery` stores at `wasmesh.v1.endpoints.<service>`, and change detection
//! against what is stored.
//!
//! The document is an [`EndpointSet`] (what `lb` and `failover` read) plus three fields for the
//! admin's `/endpoints` view: `source` (`consul`, `etcd`…), `updated_ms` (when this set was
//! published, unix ms, so the age survives restarts of nothing but the reader) and `stale`
//! (the source is failing and this is the last good set). Readers ignore fields they do not
//! know ([`EndpointSet::decode`]), so older `lb` modules read newer documents, and [`Meta`]
//! reads documents written before these fields existed.
//!
//! A set is written only when its endpoints differ from the stored ones (with the stored version
//! plus one), or when only the stale flag changed (same version). Every worker (and Envoy's main
//! thread) runs its own discovery root context; with the same answer they all find "no change",
//! and a racing write is refused by the CAS, so readers see each change once.

use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, EndpointSet};

/// The stored document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    /// What `lb` and `failover` read.
    #[serde(flatten)]
    pub set: EndpointSet,
    /// The source kind (`static`, `http`, `etcd`, `consul`, `kubernetes`).
    pub source: String,
    /// When this version was first published, unix ms.
    pub updated_ms: u64,
    /// Whether the source is failing and this is its last good set.
    pub stale: bool,
}

impl Published {
    /// Serialises the document as stored in shared data.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a published set always serialises")
    }
}

/// The admin's fields of a stored document, each absent in documents written by an older
/// module (or by something else than `discovery`, e.g. a test writing shared data directly).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Meta {
    /// See [`Published::source`].
    #[serde(default)]
    pub source: Option<String>,
    /// See [`Published::updated_ms`].
    #[serde(default)]
    pub updated_ms: Option<u64>,
    /// See [`Published::stale`].
    #[serde(default)]
    pub stale: bool,
}

impl Meta {
    /// Reads the fields leniently: an unreadable document has none.
    pub fn decode(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes).unwrap_or_default()
    }
}

/// What a write is about: the source's endpoints (normalised), its kind, whether it is stale,
/// and the time.
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    /// The endpoints to publish.
    pub endpoints: &'a [Endpoint],
    /// The source kind.
    pub source: &'a str,
    /// Whether the source is failing.
    pub stale: bool,
    /// Now, unix ms.
    pub now_ms: u64,
}

/// The document to write over `stored` (the raw shared-data value, if any) for `update`, or
/// `None` when the stored one already says the same.
pub fn document(stored: Option<&[u8]>, update: Update<'_>) -> Option<Published> {
    let current = stored.and_then(|bytes| EndpointSet::decode(bytes).ok().map(|d| (d, bytes)));
    let (version, updated_ms) = match current {
        Some((decoded, bytes)) => {
            let meta = Meta::decode(bytes);
            let mut old = decoded.set.endpoints;
            old.sort_by_key(|e| e.address);
            let same = decoded.skipped.is_empty() && old == update.endpoints;
            match (same, meta.stale == update.stale) {
                (true, true) => return None,
                (true, false) => (
                    decoded.set.version,
                    meta.updated_ms.unwrap_or(update.now_ms),
                ),
                (false, _) => (decoded.set.version + 1, update.now_ms),
            }
        }
        None => (1, update.now_ms),
    };
    Some(Published {
        set: EndpointSet {
            version,
            endpoints: update.endpoints.to_vec(),
        },
        source: update.source.to_string(),
        updated_ms,
        stale: update.stale,
    })
}

/// The stored document with its stale flag set to `stale`, or `None` when there is nothing to
/// change (no document, an unreadable one, or the flag already says so). Used when a source
/// starts or stops failing without a new set to publish.
pub fn flag_stale(stored: Option<&[u8]>, stale: bool) -> Option<Vec<u8>> {
    let mut document: serde_json::Value = serde_json::from_slice(stored?).ok()?;
    let object = document.as_object_mut()?;
    if object.get("stale").and_then(serde_json::Value::as_bool) == Some(stale) {
        return None;
    }
    object.insert("stale".to_string(), serde_json::Value::Bool(stale));
    Some(document.to_string().into_bytes())
}

#[cfg(test)]
mod tests;
