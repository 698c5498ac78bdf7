//! The root context: parses the configuration, names the buckets, defines the counters.

use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use wasmesh_common::ratelimit::RateLimitConfig;

use crate::limiter::RateLimiter;
use crate::metrics::Metrics;

/// What every stream of one configured plugin needs, built once in `on_configure`.
pub struct Plugin {
    /// The validated configuration.
    pub config: RateLimitConfig,
    /// The plugin root id (`plugin_root_id` property), part of every bucket key.
    pub root_id: String,
    /// The outcome counters, if the host let us define them.
    pub metrics: Option<Metrics>,
}

/// One per plugin per worker.
#[derive(Default)]
pub struct RateLimitRoot {
    plugin: Option<Rc<Plugin>>,
    metrics: Option<Metrics>,
}

impl Context for RateLimitRoot {}

impl RootContext for RateLimitRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let Some(config) =
            wasmesh_filter_glue::read_configuration("ratelimit", RateLimitConfig::from_json)
        else {
            return false;
        };
        if self.metrics.is_none() {
            self.metrics = Metrics::define();
        }
        self.plugin = Some(Rc::new(Plugin {
            config,
            root_id: root_id(),
            metrics: self.metrics,
        }));
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(RateLimiter::new(self.plugin.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The `plugin_root_id` property as text; empty when the host has none (the key then uses
/// `default`, see `wasmesh_contract::keys::ratelimit_slot`).
fn root_id() -> String {
    match hostcalls::get_property(vec!["plugin_root_id"]) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => String::new(),
        Err(status) => {
            log::warn!("ratelimit: reading plugin_root_id: {status:?}");
            String::new()
        }
    }
}
