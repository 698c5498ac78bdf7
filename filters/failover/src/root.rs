//! The root context: parses the configuration, owns the worker's [`Service`], and ticks to
//! bring the `failover_ejected` gauges back to 0 when ejections end.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use wasmesh_common::failover::FailoverConfig;

use crate::clock::now_ms;
use crate::service::Service;
use crate::stream::FailoverStream;

/// How often ended ejections are noticed for the gauge (and logged).
const TICK: Duration = Duration::from_millis(250);

/// One per plugin per worker.
pub struct FailoverRoot {
    context_id: u32,
    service: Option<Rc<RefCell<Service>>>,
}

impl FailoverRoot {
    /// The root context `context_id` (part of the random seed), not configured yet.
    pub fn new(context_id: u32) -> Self {
        Self {
            context_id,
            service: None,
        }
    }
}

impl Context for FailoverRoot {}

impl RootContext for FailoverRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let Some(config) =
            wasmesh_filter_glue::read_configuration("failover", FailoverConfig::from_json)
        else {
            return false;
        };
        log::info!(
            "failover: service {}: retries {} on {:?} via cluster {}",
            config.service,
            config.retry.max_retries,
            config.retry.retry_on,
            config.cluster
        );
        let seed = now_ms() ^ (u64::from(self.context_id) << 32);
        self.service = Some(Rc::new(RefCell::new(Service::new(config, seed))));
        if let Err(status) = hostcalls::set_tick_period(TICK) {
            log::warn!("failover: no tick ({status:?}); ejected gauges stay at 1");
        }
        true
    }

    fn on_tick(&mut self) {
        if let Some(service) = &self.service {
            service.borrow_mut().tick(now_ms());
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(FailoverStream::new(self.service.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
