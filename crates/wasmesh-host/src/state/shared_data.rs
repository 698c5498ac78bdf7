//! Shared key-value data with compare-and-swap, as `proxy_get_shared_data`
//! and `proxy_set_shared_data` define it. Keys are scoped by VM id, like
//! Envoy's, so two plugins with different VM ids never see each other's data; each VM id's keys
//! sit under a lock of their own.
//!
//! Each VM id may hold at most [`MAX_KEYS_PER_VM`] keys and [`MAX_BYTES_PER_VM`] bytes of keys
//! and values: past that a set is refused (existing data untouched), so a filter that writes
//! distinct keys forever cannot grow the host without bound.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::refusal::Refusals;

/// Keys one VM id may hold. Real filters keep a handful of keys (a config blob, a few counters,
/// one per upstream); 100 000 is far above that and still a bounded index.
pub const MAX_KEYS_PER_VM: usize = 100_000;
/// Bytes of keys plus values one VM id may hold: 64 MiB, four times the largest single value a
/// guest may store, far above what a filter shares, small next to a host's memory.
pub const MAX_BYTES_PER_VM: usize = 64 << 20;

/// Outcome of a set.
#[derive(Debug, PartialEq, Eq)]
pub enum SetOutcome {
    /// Stored.
    Ok,
    /// The caller's CAS did not match the stored one.
    CasMismatch,
    /// The VM id's key count or byte total would pass its cap; nothing changed.
    Refused,
}

struct Entry {
    /// Shared, so a read takes a reference under the lock and copies into the guest after it.
    value: Arc<[u8]>,
    cas: u32,
}

/// What one VM id holds, against the caps.
#[derive(Default, Clone, Copy)]
struct Usage {
    keys: usize,
    bytes: usize,
}

/// One VM id's keys, under a lock of its own: plugins with different VM ids never wait for
/// each other, and a lookup by key borrows it (no allocation per read).
#[derive(Default)]
struct VmData {
    map: HashMap<Vec<u8>, Entry>,
    usage: Usage,
}

/// The host-wide store.
pub struct SharedData {
    /// Entries are never removed, so a VM id's lock is found under the outer read lock.
    by_vm: RwLock<HashMap<String, RwLock<VmData>>>,
    next_cas: std::sync::atomic::AtomicU32,
    /// Sets refused for a cap.
    pub refused: Refusals,
}

impl Default for SharedData {
    fn default() -> SharedData {
        SharedData {
            by_vm: RwLock::default(),
            next_cas: Default::default(),
            refused: Refusals::new("shared_data"),
        }
    }
}

impl SharedData {
    /// Value and CAS of a key, or `None` when absent. The value is the stored one, shared: no
    /// copy is made while the VM id's lock is held.
    pub fn get(&self, vm_id: &str, key: &[u8]) -> Option<(Arc<[u8]>, u32)> {
        self.read(vm_id, |data| {
            data.map.get(key).map(|e| (e.value.clone(), e.cas))
        })
    }

    /// The CAS of a key (it changes with every write), or `None` when absent: lets a reader
    /// that keeps a decoded copy tell whether it is still current without copying the value.
    pub fn cas(&self, vm_id: &str, key: &[u8]) -> Option<u32> {
        self.read(vm_id, |data| data.map.get(key).map(|e| e.cas))
    }

    /// Stores `value`; a non-zero `cas` must match the stored one (a missing key matches any).
    pub fn set(&self, vm_id: &str, key: &[u8], value: &[u8], cas: u32) -> SetOutcome {
        {
            let by_vm = self.by_vm.read().unwrap_or_else(|e| e.into_inner());
            if let Some(vm) = by_vm.get(vm_id) {
                let mut data = vm.write().unwrap_or_else(|e| e.into_inner());
                return self.set_in(&mut data, vm_id, key, value, cas);
            }
        }
        // The VM id's first write.
        let mut by_vm = self.by_vm.write().unwrap_or_else(|e| e.into_inner());
        let vm = by_vm.entry(vm_id.to_string()).or_default();
        let data = vm.get_mut().unwrap_or_else(|e| e.into_inner());
        self.set_in(data, vm_id, key, value, cas)
    }

    fn set_in(
        &self,
        data: &mut VmData,
        vm_id: &str,
        key: &[u8],
        value: &[u8],
        cas: u32,
    ) -> SetOutcome {
        let old_bytes = match data.map.get(key) {
            Some(entry) if cas != 0 && cas != entry.cas => return SetOutcome::CasMismatch,
            Some(entry) => Some(key.len() + entry.value.len()),
            None => None,
        };
        let mut usage = data.usage;
        usage.keys += usize::from(old_bytes.is_none());
        usage.bytes = usage.bytes - old_bytes.unwrap_or(0) + key.len() + value.len();
        let grows = old_bytes.is_none_or(|old| key.len() + value.len() > old);
        if grows && (usage.keys > MAX_KEYS_PER_VM || usage.bytes > MAX_BYTES_PER_VM) {
            self.refused.refuse(
                vm_id,
                &format!(
                    "shared data is capped at {MAX_KEYS_PER_VM} keys and {MAX_BYTES_PER_VM} \
                     bytes of keys and values per VM id"
                ),
            );
            return SetOutcome::Refused;
        }
        data.usage = usage;
        let cas = self.fresh_cas();
        let entry = Entry {
            value: Arc::from(value),
            cas,
        };
        match data.map.get_mut(key) {
            Some(stored) => *stored = entry,
            None => {
                data.map.insert(key.to_vec(), entry);
            }
        }
        SetOutcome::Ok
    }

    /// Every key of a VM id (for the admin).
    pub fn keys(&self, vm_id: &str) -> Vec<Vec<u8>> {
        self.read(vm_id, |data| Some(data.map.keys().cloned().collect()))
            .unwrap_or_default()
    }

    /// `f` over `vm_id`'s data under its read lock; `None` when the VM id holds nothing.
    fn read<T>(&self, vm_id: &str, f: impl FnOnce(&VmData) -> Option<T>) -> Option<T> {
        let by_vm = self.by_vm.read().unwrap_or_else(|e| e.into_inner());
        let data = by_vm.get(vm_id)?.read().unwrap_or_else(|e| e.into_inner());
        f(&data)
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
        assert_eq!(&*value, b"1");
        assert_eq!(data.set("vm", b"k", b"2", cas), SetOutcome::Ok);
        assert_eq!(data.set("vm", b"k", b"3", cas), SetOutcome::CasMismatch);
        assert_eq!(&*data.get("vm", b"k").unwrap().0, b"2");
        assert!(data.get("other", b"k").is_none());
    }

    #[test]
    fn key_cap_refuses_new_keys_but_keeps_old_ones_writable() {
        let data = SharedData::default();
        for i in 0..MAX_KEYS_PER_VM {
            assert_eq!(data.set("vm", &i.to_le_bytes(), b"", 0), SetOutcome::Ok);
        }
        let extra = MAX_KEYS_PER_VM.to_le_bytes();
        assert_eq!(data.set("vm", &extra, b"", 0), SetOutcome::Refused);
        assert_eq!(data.set("vm", &extra, b"", 0), SetOutcome::Refused);
        assert_eq!(data.refused.count(), 2);
        assert!(data.get("vm", &extra).is_none());
        // Existing keys stay readable and writable; another VM id has its own budget.
        assert_eq!(
            data.set("vm", &0usize.to_le_bytes(), b"x", 0),
            SetOutcome::Ok
        );
        assert_eq!(&*data.get("vm", &0usize.to_le_bytes()).unwrap().0, b"x");
        assert_eq!(data.set("other", &extra, b"", 0), SetOutcome::Ok);
    }

    #[test]
    fn byte_cap_counts_keys_and_values_and_frees_on_shrink() {
        let data = SharedData::default();
        let big = vec![7u8; MAX_BYTES_PER_VM / 4];
        for key in [b"a", b"b", b"c"] {
            assert_eq!(data.set("vm", key, &big, 0), SetOutcome::Ok);
        }
        // The fourth quarter plus its one-byte key is one byte too many.
        assert_eq!(data.set("vm", b"d", &big, 0), SetOutcome::Refused);
        // Growing an existing key past the cap is refused and leaves the old value.
        let bigger = vec![8u8; MAX_BYTES_PER_VM / 2];
        assert_eq!(data.set("vm", b"a", &bigger, 0), SetOutcome::Refused);
        assert_eq!(&*data.get("vm", b"a").unwrap().0, &big[..]);
        // Shrinking one frees room for the new key.
        assert_eq!(data.set("vm", b"a", b"small", 0), SetOutcome::Ok);
        assert_eq!(data.set("vm", b"d", &big, 0), SetOutcome::Ok);
    }
}
