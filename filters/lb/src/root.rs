//! The root context: parses the configuration and owns the worker's [`Service`].

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use wasmesh_common::lb::LbConfig;
use wasmesh_filter_glue::clock::now_ns;

use crate::service::Service;
use crate::stream::LbStream;

/// One per plugin per worker.
pub struct LbRoot {
    context_id: u32,
    service: Option<Rc<RefCell<Service>>>,
}

impl LbRoot {
    /// The root context `context_id` (part of the random seed), not configured yet.
    pub fn new(context_id: u32) -> Self {
        Self {
            context_id,
            service: None,
        }
    }
}

impl Context for LbRoot {}

impl RootContext for LbRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let Some(config) = wasmesh_filter_glue::read_configuration("lb", LbConfig::from_json)
        else {
            return false;
        };
        let now = now_ns();
        log::info!(
            "lb: service {}: policy {}, endpoints from {}",
            config.service,
            config.policy.name(),
            if config.endpoints.is_some() {
                "the configuration"
            } else {
                "shared data"
            }
        );
        // Each worker seeds its own generator from the clock and its context id (picks are not
        // secrets; WASI has no process id to mix in).
        let seed = now ^ (u64::from(self.context_id) << 32);
        self.service = Some(Rc::new(RefCell::new(Service::new(config, seed, now))));
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(LbStream::new(self.service.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
