//! Shared key-value data with compare-and-swap, as `proxy_get_shared_data`
//! and `proxy_set_shared_data` define it. Keys are scoped by VM id, like
//! Envoy's, so two plugins with different VM ids never see each other's data.

use std::collections::HashMap;
use std::sync::RwLock;

/// Outcome of a set.
#[derive(Debug, PartialEq, Eq)]
pub enum SetOutcome {
    /// Stored.
    Ok,
    /// The caller's CAS did not match the stored one.
    CasMismatch,
}

struct Entry {
    value: Vec<u8>,
    cas: u32,
}

/// The host-wide store.
#[derive(Default)]
pub struct SharedData {
    map: RwLock<HashMap<(String, Vec<u8>), Entry>>,
    next_cas: std::sync::atomic::AtomicU32,
}

impl SharedData {
    /// Value and CAS of a key, or `None` when absent.
    pub fn get(&self, vm_id: &str, key: &[u8]) -> Option<(Vec<u8>, u32)> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(&(vm_id.to_string(), key.to_vec()))
            .map(|e| (e.value.clone(), e.cas))
    }

    /// Stores `value`; a non-zero `cas` must match the stored one (a missing key matches any).
    pub fn set(&self, vm_id: &str, key: &[u8], value: &[u8], cas: u32) -> SetOutcome {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let slot = (vm_id.to_string(), key.to_vec());
        if let Some(entry) = map.get(&slot) {
            if cas != 0 && cas != entry.cas {
                return SetOutcome::CasMismatch;
            }
        }
        let cas = self.fresh_cas();
        map.insert(
            slot,
            Entry {
                value: value.to_vec(),
                cas,
            },
        );
        SetOutcome::Ok
    }

    /// Every key of a VM id (for the admin).
    pub fn keys(&self, vm_id: &str) -> Vec<Vec<u8>> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.keys()
            .filter(|(id, _)| id == vm_id)
            .map(|(_, k)| k.clone())
            .collect()
    }

    fn fresh_cas(&self) -> u32 {
        loop {
            let cas = self
                .next_cas
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .wrapping_add(1);
            if cas != 0 {
                return cas;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_guards_updates() {
        let data = SharedData::default();
        assert!(data.get("vm", b"k").is_none());
        assert_eq!(data.set("vm", b"k", b"1", 0), SetOutcome::Ok);
        let (value, cas) = data.get("vm", b"k").unwrap();
        assert_eq!(value, b"1");
        assert_eq!(data.set("vm", b"k", b"2", cas), SetOutcome::Ok);
        assert_eq!(data.set("vm", b"k", b"3", cas), SetOutcome::CasMismatch);
        assert_eq!(data.get("vm", b"k").unwrap().0, b"2");
        assert!(data.get("other", b"k").is_none());
    }
}
