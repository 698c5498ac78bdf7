//! The root context: parses the configuration, ticks, starts polls and routes each
//! `http_call` answer to the service that asked.

use std::collections::HashMap;
use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;
use wasmesh_common::discovery::source::Reply;
use wasmesh_common::discovery::DiscoveryConfig;
use wasmesh_filter_glue::clock::now_ms;

use crate::service::Service;
use crate::stream::PassThrough;

/// Tick bounds: a fifth of the poll interval, so a poll starts at most that late.
const MIN_TICK_MS: u64 = 20;
const MAX_TICK_MS: u64 = 250;

/// One per plugin per worker (and on Envoy's main thread): each polls on its own; the
/// CAS write makes them agree on what is stored.
pub struct DiscoveryRoot {
    context_id: u32,
    services: Vec<Service>,
    calls: HashMap<u32, usize>,
}

impl DiscoveryRoot {
    /// The root context `context_id`, not configured yet.
    pub fn new(context_id: u32) -> Self {
        Self {
            context_id,
            services: Vec::new(),
            calls: HashMap::new(),
        }
    }
}

impl Context for DiscoveryRoot {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize, _: usize) {
        let Some(index) = self.calls.remove(&token) else {
            return;
        };
        // No headers: Envoy's onFailure (a reset); timeouts and refused connections arrive as
        // 504 and 503 responses.
        let (pairs, status) = wasmesh_filter_glue::call_response_head(headers);
        let body = wasmesh_filter_glue::call_response_body(body_size);
        let reply = Reply {
            status,
            headers: &pairs,
            body: &body,
        };
        let now = now_ms();
        let service = &mut self.services[index];
        service.answered(reply, now);
        // A blocking query answered or a probe saw a change: ask again now, not at the tick.
        if let Some(token) = service.tick(now) {
            self.calls.insert(token, index);
        }
    }
}

impl RootContext for DiscoveryRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let Some(config) =
            wasmesh_filter_glue::read_configuration("discovery", DiscoveryConfig::from_json)
        else {
            return false;
        };
        let seed = now_ms() ^ (u64::from(self.context_id) << 32);
        let poll = (config.poll_ms, config.timeout_ms, config.max_backoff_ms);
        self.services = config
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| Service::new(s, poll, seed.wrapping_add(i as u64)))
            .collect();
        let mut polled = 0;
        for service in &mut self.services {
            if !service.publish_static() {
                polled += 1;
            }
        }
        log::info!(
            "discovery: {} services, {polled} polled every {} ms",
            self.services.len(),
            config.poll_ms
        );
        if polled > 0 {
            let tick = (config.poll_ms / 5).clamp(MIN_TICK_MS, MAX_TICK_MS);
            if let Err(status) = hostcalls::set_tick_period(Duration::from_millis(tick)) {
                log::error!("discovery: no tick ({status:?}); registries will not be polled");
                return false;
            }
        }
        true
    }

    fn on_tick(&mut self) {
        let now = now_ms();
        for (index, service) in self.services.iter_mut().enumerate() {
            if let Some(token) = service.tick(now) {
                self.calls.insert(token, index);
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(PassThrough))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
