//! Metric ids by full name, defined on first use and cached per VM: label values (authorities,
//! status codes, endpoints) appear as traffic brings them, and a cached id makes the request
//! path one `increment_metric`/`record_metric` per series. The cache is bounded because every
//! label value is (routes from the configuration, authority and endpoint capped, status codes
//! three digits).

use std::collections::HashMap;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// The ids this VM has defined.
#[derive(Default)]
pub struct Series {
    ids: HashMap<String, Option<u32>>,
}

impl Series {
    /// Adds `delta` to the counter or gauge `name` (a counter only ever gets positive deltas).
    pub fn add(&mut self, kind: MetricType, name: String, delta: i64) {
        if let Some(id) = self.id(kind, name) {
            if let Err(status) = hostcalls::increment_metric(id, delta) {
                log::warn!("metrics: incrementing metric {id}: {status:?}");
            }
        }
    }

    /// Records `value` in the histogram `name`.
    pub fn record(&mut self, name: String, value: u64) {
        if let Some(id) = self.id(MetricType::Histogram, name) {
            if let Err(status) = hostcalls::record_metric(id, value) {
                log::warn!("metrics: recording metric {id}: {status:?}");
            }
        }
    }

    /// The id of `name`, defining it the first time; `None` (logged once) if the host refuses.
    fn id(&mut self, kind: MetricType, name: String) -> Option<u32> {
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
