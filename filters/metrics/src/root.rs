//! The root context: parses the configuration and owns the worker's [`State`].

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use wasmesh_common::metrics::MetricsConfig;

use crate::state::State;
use crate::stream::MetricsStream;

/// One per plugin per worker.
#[derive(Default)]
pub struct MetricsRoot {
    state: Option<Rc<RefCell<State>>>,
}

impl Context for MetricsRoot {}

impl RootContext for MetricsRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let Some(config) =
            wasmesh_filter_glue::read_configuration("metrics", MetricsConfig::from_json)
        else {
            return false;
        };
        log::info!(
            "metrics: {} direction, {} routes, at most {} authorities and endpoints per worker",
            config.direction.as_str(),
            config.routes.len(),
            config.max_label_values
        );
        self.state = Some(Rc::new(RefCell::new(State::new(config))));
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(MetricsStream::new(self.state.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
