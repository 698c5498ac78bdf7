//! Metric ids by full name, defined on first use and cached per VM: label values (authorities,
//! status codes, endpoints) appear as traffic brings them. The request path does not come here
//! when warm: [`crate::ids`] keeps the ids per label tuple and asks for a name only the first
//! time a tuple is seen. Two tuples that name the same series (an authority literally called
//! `overflow`) share its id through this map. The map is bounded because every label value is
//! (routes from the configuration, authority and endpoint capped, status codes three digits).

use std::collections::HashMap;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// The ids this VM has defined.
#[derive(Default)]
pub struct Series {
    ids: HashMap<String, Option<u32>>,
}

impl Series {
    /// The id of `name`, defining it the first time; `None` (logged once) if the host refuses.
    pub fn id(&mut self, kind: MetricType, name: String) -> Option<u32> {
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        let id = hostcalls::define_metric(kind, &name)
            .map_err(|status| log::error!("metrics: defining metric {name}: {status:?}"))
            .ok();
        self.ids.insert(name, id);
        id
    }
}

/// Adds `delta` to the counter or gauge `id` (a counter only ever gets positive deltas); nothing
/// if the series could not be defined.
pub fn add(id: Option<u32>, delta: i64) {
    if let Some(id) = id {
        if let Err(status) = hostcalls::increment_metric(id, delta) {
            log::warn!("metrics: incrementing metric {id}: {status:?}");
        }
    }
}

/// Records `value` in the histogram `id`; nothing if the series could not be defined.
pub fn record(id: Option<u32>, value: u64) {
    if let Some(id) = id {
        if let Err(status) = hostcalls::record_metric(id, value) {
            log::warn!("metrics: recording metric {id}: {status:?}");
        }
    }
}
