//! The service's health document (`wasmesh.v1.health.<service>`, written by `failover`'s
//! outlier detection): which endpoints to skip. Checked at most every [`REFRESH_NS`] per worker
//! (a CAS comparison; parsed only when it changed), and re-evaluated when an ejection ends, so
//! an ejection is honoured within ~100 ms and a returning endpoint is picked again on time.

use std::net::SocketAddr;

use proxy_wasm::hostcalls;
use wasmesh_contract::health::{key, Health};

/// How often a worker looks at the health document.
pub const REFRESH_NS: u64 = 100_000_000;

/// One worker's view of a service's health.
pub struct HealthWatch {
    key: String,
    cas: Option<u32>,
    checked_ns: Option<u64>,
    health: Health,
    /// When the ejected list must be recomputed even without a new document (an ejection ends).
    next_return_ms: Option<u64>,
}

impl HealthWatch {
    /// A watch on `service`'s document, not read yet.
    pub fn new(service: &str) -> Self {
        Self {
            key: key(service),
            cas: None,
            checked_ns: None,
            health: Health::default(),
            next_return_ms: None,
        }
    }

    /// The ejected addresses if they may have changed since the last call, else `None`.
    pub fn refresh(&mut self, now_ns: u64) -> Option<Vec<SocketAddr>> {
        let now_ms = now_ns / 1_000_000;
        let mut changed = self.next_return_ms.is_some_and(|t| now_ms >= t);
        if self
            .checked_ns
            .is_none_or(|t| now_ns.saturating_sub(t) >= REFRESH_NS)
        {
            self.checked_ns = Some(now_ns);
            changed |= self.read();
        }
        if !changed {
            return None;
        }
        self.next_return_ms = self.health.next_return_ms(now_ms);
        Some(self.health.ejected(now_ms).collect())
    }

    /// Reads the document if its CAS moved; whether it did.
    fn read(&mut self) -> bool {
        let (value, cas) = match hostcalls::get_shared_data(&self.key) {
            Ok(found) => found,
            Err(status) => {
                log::warn!("lb: reading {}: {status:?}", self.key);
                return false;
            }
        };
        if cas == self.cas {
            return false;
        }
        self.cas = cas;
        self.health = match value.as_deref().map(Health::decode) {
            None => Health::default(),
            Some(Ok(health)) => health,
            Some(Err(e)) => {
                log::warn!(
                    "lb: {}: unreadable health document ({e}); ignoring it",
                    self.key
                );
                Health::default()
            }
        };
        true
    }
}
