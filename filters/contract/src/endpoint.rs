//! The endpoint model every filter shares: what `discovery` writes to shared data and what `lb`
//! and `failover` read: the endpoint-set contract between them.
//!
//! ```json
//! {"version": 7, "endpoints": [{"address": "10.0.0.1:8080", "weight": 1, "priority": 0,
//!   "zone": "eu-1a", "labels": {"version": "v2"}}]}
//! ```
//! Only `address` is required. Readers are lenient where writers may be newer: an entry whose
//! address does not parse is skipped (and reported), so one bad entry does not take a whole
//! service down; a plugin's own static list is validated strictly instead (see `lb::config`).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Weight of an endpoint that does not say.
pub const DEFAULT_WEIGHT: u32 = 1;

/// One upstream endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// `ip:port`: the value the `original_dst` cluster connects to.
    pub address: SocketAddr,
    /// Relative share of traffic; 0 means "drain": kept in the set, never picked.
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// 0 is the most preferred level; `lb` sends a level's traffic to the next one as it loses
    /// endpoints, by Envoy's priority load model (`lb::priority`).
    #[serde(default)]
    pub priority: u32,
    /// Locality; empty when unknown. `lb` with a `local_zone` puts endpoints of other zones
    /// after local ones of the same priority (`lb::candidates::Levels`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub zone: String,
    /// Free-form metadata (version, canary…), for subset policies later.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

fn default_weight() -> u32 {
    DEFAULT_WEIGHT
}

impl Endpoint {
    /// An endpoint at `address` with weight 1, priority 0, no zone and no labels.
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            weight: DEFAULT_WEIGHT,
            priority: 0,
            zone: String::new(),
            labels: BTreeMap::new(),
        }
    }

    /// The same endpoint with `weight`.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }
}

/// A versioned endpoint set, the value stored at [`crate::keys::endpoints`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EndpointSet {
    /// Bumped by the writer on every change, so readers and logs can tell sets apart.
    pub version: u64,
    /// The endpoints, in the writer's order.
    pub endpoints: Vec<Endpoint>,
}

/// What reading a stored set produced: the usable set plus what had to be skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The endpoints that parsed.
    pub set: EndpointSet,
    /// One message per skipped entry (`endpoints[2]: invalid socket address syntax`).
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct RawSet {
    #[serde(default)]
    version: u64,
    endpoints: Vec<serde_json::Value>,
}

impl EndpointSet {
    /// Serialises the set as stored in shared data.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an endpoint set always serialises")
    }

    /// Reads a stored set leniently: a malformed document is an error, a malformed entry is
    /// skipped and reported in [`Decoded::skipped`].
    pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
        let raw: RawSet = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let mut endpoints = Vec::with_capacity(raw.endpoints.len());
        let mut skipped = Vec::new();
        for (i, value) in raw.endpoints.into_iter().enumerate() {
            match serde_json::from_value::<Endpoint>(value) {
                Ok(endpoint) => endpoints.push(endpoint),
                Err(e) => skipped.push(format!("endpoints[{i}]: {e}")),
            }
        }
        Ok(Decoded {
            set: EndpointSet {
                version: raw.version,
                endpoints,
            },
            skipped,
        })
    }
}

#[cfg(test)]
mod tests;
