//! The addresses in published endpoint sets (`wasmesh.v1.endpoints.<service>` in a VM id's
//! shared data, written by `discovery` or the host's DNS discovery), for an `original_dst`
//! cluster's `allowed_endpoints`: a filter may then send a request only to an address the
//! mesh knows as an endpoint of those services. Each set is decoded once per change (its CAS
//! tells), not per request.

use std::cell::RefCell;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use wasmesh_contract::endpoint::EndpointSet;
use wasmesh_contract::keys;

use crate::spec::PublishedEndpoints;
use wasmesh_host::state::SharedState;

/// One service's addresses, with the CAS of the set they were decoded from.
type Decoded = Option<(u32, HashSet<SocketAddr>)>;

/// One worker's view of some services' published addresses.
pub struct PublishedAddresses {
    shared: Arc<SharedState>,
    vm_id: String,
    keys: Vec<String>,
    /// Per service, in `keys` order.
    decoded: RefCell<Vec<Decoded>>,
}

impl PublishedAddresses {
    /// The addresses `config` names, read from `shared`.
    pub fn new(config: &PublishedEndpoints, shared: Arc<SharedState>) -> Self {
        let keys: Vec<String> = config.services.iter().map(|s| keys::endpoints(s)).collect();
        Self {
            shared,
            vm_id: config.vm_id.clone(),
            decoded: RefCell::new(vec![None; keys.len()]),
            keys,
        }
    }

    /// Whether `address` is in any of the services' sets as published now.
    pub fn contains(&self, address: SocketAddr) -> bool {
        let data = &self.shared.shared_data;
        let mut decoded = self.decoded.borrow_mut();
        for (key, cached) in self.keys.iter().zip(decoded.iter_mut()) {
            let Some(cas) = data.cas(&self.vm_id, key.as_bytes()) else {
                *cached = None;
                continue;
            };
            if cached.as_ref().is_none_or(|(seen, _)| *seen != cas) {
                let (value, cas) = data.get(&self.vm_id, key.as_bytes()).unwrap_or_default();
                let addresses = EndpointSet::decode(&value)
                    .map(|d| d.set.endpoints.iter().map(|e| e.address).collect())
                    .unwrap_or_default();
                *cached = Some((cas, addresses));
            }
            if cached
                .as_ref()
                .is_some_and(|(_, set)| set.contains(&address))
            {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmesh_contract::endpoint::Endpoint;

    fn publish(shared: &SharedState, service: &str, addresses: &[&str]) {
        let set = EndpointSet {
            version: 1,
            endpoints: addresses
                .iter()
                .map(|a| Endpoint::new(a.parse().unwrap()))
                .collect(),
        };
        let key = keys::endpoints(service);
        shared
            .shared_data
            .set("mesh", key.as_bytes(), &set.to_json(), 0);
    }

    #[test]
    fn follows_each_publication() {
        let shared = SharedState::new();
        let config = PublishedEndpoints {
            vm_id: "mesh".into(),
            services: vec!["web".into(), "api".into()],
        };
        let published = PublishedAddresses::new(&config, shared.clone());
        let a: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:80".parse().unwrap();
        assert!(!published.contains(a), "nothing published yet");
        publish(&shared, "web", &["10.0.0.1:80"]);
        assert!(published.contains(a));
        assert!(!published.contains(b));
        publish(&shared, "api", &["10.0.0.2:80"]);
        publish(&shared, "web", &["10.0.0.3:80"]);
        assert!(published.contains(b), "from the second service");
        assert!(!published.contains(a), "no longer published");
    }
}
