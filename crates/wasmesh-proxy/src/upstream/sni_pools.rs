//! The connection pools of an `auto_sni` cluster, one per request host: a TLS connection is
//! bound to the name it sent, so a pool keyed by endpoint alone would hand a connection opened
//! for `a.example` to a request for `b.example` (Envoy keys its pools by the transport
//! socket's options for the same reason). The hosts come from clients, so the pools are
//! capped; past the cap the oldest is dropped (its idle connections close, busy ones finish).

use std::collections::{HashMap, VecDeque};

use hyper_util::client::legacy::Client;
use rustls::pki_types::ServerName;

use super::super::body::ProxyBody;
use super::super::connector::CountingConnector;

/// Pools kept per cluster and worker.
const MAX_POOLS: usize = 128;

/// The pools by SNI, oldest first in `order`.
pub struct SniPools {
    connector: CountingConnector,
    build: fn(CountingConnector) -> Client<CountingConnector, ProxyBody>,
    pools: HashMap<String, Client<CountingConnector, ProxyBody>>,
    order: VecDeque<String>,
}

impl SniPools {
    /// Pools whose connections come from `connector` (with each pool's SNI), each client made
    /// by `build`.
    pub fn new(
        connector: CountingConnector,
        build: fn(CountingConnector) -> Client<CountingConnector, ProxyBody>,
    ) -> SniPools {
        SniPools {
            connector,
            build,
            pools: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The client whose connections send `sni`.
    pub fn client(&mut self, sni: ServerName<'static>) -> Client<CountingConnector, ProxyBody> {
        let key = sni.to_str().into_owned();
        if let Some(client) = self.pools.get(&key) {
            return client.clone();
        }
        if self.order.len() >= MAX_POOLS {
            if let Some(oldest) = self.order.pop_front() {
                self.pools.remove(&oldest);
            }
        }
        let client = (self.build)(self.connector.with_sni(sni));
        self.pools.insert(key.clone(), client.clone());
        self.order.push_back(key);
        client
    }
}
