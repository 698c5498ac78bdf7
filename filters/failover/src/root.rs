//! The root context: parses the configuration, owns the worker's [`Service`], and ticks: to
//! answer requests whose deadline passed, send retries whose backoff ended (their call
//! responses then come here), forgive ejections of endpoints that stayed in service, and
//! bring the `failover_ejected` gauges back to 0 when ejections end.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use wasmesh_common::failover::FailoverConfig;
use wasmesh_filter_glue::clock::now_ms;

use crate::effects::{call_body, call_head};
use crate::service::Service;
use crate::stream::FailoverStream;

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

impl Context for FailoverRoot {
    /// A retry sent by the tick (after its backoff) answered.
    fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize, _: usize) {
        if let Some(service) = &self.service {
            let now = now_ms();
            service.borrow_mut().drive(self.context_id, |retries, fx| {
                retries.on_call_response(fx, token, call_head(headers), call_body(body_size), now);
            });
        }
    }
}

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
        let mut service = Service::new(config, seed);
        service.drive(self.context_id, |retries, fx| {
            retries.retune_tick(fx, now_ms())
        });
        self.service = Some(Rc::new(RefCell::new(service)));
        true
    }

    fn on_tick(&mut self) {
        if let Some(service) = &self.service {
            let mut svc = service.borrow_mut();
            let now = now_ms();
            svc.drive(self.context_id, |retries, fx| retries.on_tick(fx, now));
            svc.world.refresh_health(now);
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(FailoverStream::new(
            context_id,
            self.service.clone(),
        )))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
