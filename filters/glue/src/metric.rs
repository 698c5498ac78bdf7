//! Metric hostcalls with the failure policy every filter wants: a metric the host refuses is
//! logged (prefixed with the filter's name) and then skipped, never a failed request. Ids are
//! `Option<u32>` so a series that could not be defined is remembered as such and not asked for
//! again on every request.

use std::collections::HashMap;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MetricType;

/// Defines the metric `name`; `None` (logged) if the host refuses it.
pub fn define(filter: &str, kind: MetricType, name: &str) -> Option<u32> {
    hostcalls::define_metric(kind, name)
        .map_err(|status| log::error!("{filter}: defining metric {name}: {status:?}"))
        .ok()
}

/// Adds `delta` to the counter or gauge `id` (a counter only ever gets positive deltas);
/// nothing if the metric could not be defined.
pub fn add(filter: &str, id: Option<u32>, delta: i64) {
    if let Some(id) = id {
        if let Err(status) = hostcalls::increment_metric(id, delta) {
            log::warn!("{filter}: incrementing metric {id}: {status:?}");
        }
    }
}

/// Sets the gauge, or records in the histogram, `id`; nothing if the metric could not be
/// defined.
pub fn record(filter: &str, id: Option<u32>, value: u64) {
    if let Some(id) = id {
        if let Err(status) = hostcalls::record_metric(id, value) {
            log::warn!("{filter}: recording metric {id}: {status:?}");
        }
    }
}

/// Metric ids by full name, defined on first use and cached for the VM's life: label values
/// (endpoints, reasons, status codes) appear as traffic brings them, and defining a metric
/// costs a hostcall and a name lookup on the host. Bounded only by the names it is given.
#[derive(Debug)]
pub struct Series {
    filter: &'static str,
    ids: HashMap<String, Option<u32>>,
}

impl Series {
    /// An empty cache for `filter` (the prefix of its log lines).
    pub fn new(filter: &'static str) -> Self {
        Self {
            filter,
            ids: HashMap::new(),
        }
    }

    /// The id of `name`, defining it the first time; `None` (logged once) if the host refuses.
    pub fn id(&mut self, kind: MetricType, name: String) -> Option<u32> {
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        let id = define(self.filter, kind, &name);
        self.ids.insert(name, id);
        id
    }
}
