//! The connection pools of an `auto_sni` cluster, one per request host: a TLS connection is
//! bound to the name it sent, so a pool keyed by endpoint alone would hand a connection opened
//! for `a.example` to a request for `b.example` (Envoy keys its pools by the transport
//! socket's options for the same reason). The hosts come from clients, so the pools are
//! capped; past the cap the oldest is dropped (its idle connections close, busy ones finish).

use std::collections::{HashMap, VecDeque};

use rustls::pki_types::ServerName;

use super::super::connector::CountingConnector;
use super::pool::Pool;

/// Pools kept per cluster and worker.
const MAX_POOLS: usize = 128;

/// The pools by SNI, oldest first in `order`.
pub struct SniPools {
    connector: CountingConnector,
    http2: bool,
    pools: HashMap<String, Pool>,
    order: VecDeque<String>,
}

impl SniPools {
    /// Pools whose connections come from `connector` (with each pool's SNI), speaking h2 when
    /// `http2`.
    pub fn new(connector: CountingConnector, http2: bool) -> SniPools {
        SniPools {
            connector,
            http2,
            pools: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The pool whose connections send `sni`.
    pub fn pool(&mut self, sni: ServerName<'static>) -> Pool {
        let key = sni.to_str().into_owned();
        if let Some(pool) = self.pools.get(&key) {
            return pool.clone();
        }
        if self.order.len() >= MAX_POOLS {
            if let Some(oldest) = self.order.pop_front() {
                self.pools.remove(&oldest);
            }
        }
        let pool = Pool::new(self.connector.with_sni(sni), self.http2);
        self.pools.insert(key.clone(), pool.clone());
        self.order.push_back(key);
        pool
    }
}
