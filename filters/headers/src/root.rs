//! The root context: owns the parsed configuration and hands it to each HTTP stream.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use wasmesh_common::headers::HeadersConfig;

use crate::filter::HeadersFilter;

/// One per plugin per worker. The configuration is shared (not copied) with every stream.
#[derive(Default)]
pub struct HeadersRoot {
    config: Rc<HeadersConfig>,
}

impl Context for HeadersRoot {}

impl RootContext for HeadersRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        match wasmesh_filter_glue::read_configuration("headers", HeadersConfig::from_json) {
            Some(config) => {
                self.config = Rc::new(config);
                true
            }
            None => false,
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(HeadersFilter::new(self.config.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
