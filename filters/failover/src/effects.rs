//! The retry state machine's [`Effects`] over proxy-wasm.
//!
//! A retry sent after its backoff is dispatched from the root's tick, so its response comes
//! to the root; acting on the stream then goes through `proxy_set_effective_context` (the
//! call's response is read *before* switching: it belongs to the calling context).

use std::net::SocketAddr;
use std::time::Duration;

use proxy_wasm::hostcalls;
use wasmesh_common::failover::flight::Answer;
use wasmesh_common::failover::retry::{Attempt, Effects, Event};
use wasmesh_common::failover::Outcome;
use wasmesh_contract::endpoint::Endpoint;
use wasmesh_contract::health::Health;
use wasmesh_filter_glue::{call_response_body, call_response_head};

use crate::reply;
use crate::service::World;

/// The effects, from the callback of context `home`.
pub struct Proxy<'a> {
    /// The service around the state machine.
    pub world: &'a mut World,
    /// The context the host is calling.
    pub home: u32,
}

impl Proxy<'_> {
    /// Runs `act` with stream `ctx` as the effective context; nothing if the stream is gone.
    fn on_stream(&self, ctx: u32, act: impl FnOnce()) {
        let home = self.home;
        if ctx != home && hostcalls::set_effective_context(ctx).is_err() {
            return;
        }
        act();
        if ctx != home {
            let _ = hostcalls::set_effective_context(home);
        }
    }
}

impl Effects for Proxy<'_> {
    fn endpoints(&mut self) -> Vec<Endpoint> {
        self.world.endpoints()
    }

    fn health(&mut self) -> Health {
        self.world.health()
    }

    fn record(&mut self, endpoint: SocketAddr, outcome: Outcome, now_ms: u64) {
        self.world.record(endpoint, outcome, now_ms);
    }

    fn send(&mut self, attempt: Attempt<'_>) -> Option<u32> {
        let cluster = &self.world.config.cluster;
        let timeout = Duration::from_millis(attempt.timeout_ms);
        hostcalls::dispatch_http_call(cluster, attempt.headers, attempt.body, vec![], timeout)
            .map_err(|status| log::warn!("failover: http_call to cluster {cluster}: {status:?}"))
            .ok()
    }

    fn reply(&mut self, stream: u32, answer: &Answer) {
        self.on_stream(stream, || {
            reply::send(answer.status, &answer.headers, &[], &answer.body);
        });
    }

    fn resume(&mut self, stream: u32) {
        self.on_stream(stream, || {
            if let Err(status) = hostcalls::resume_http_response() {
                log::warn!("failover: resuming the response: {status:?}");
            }
        });
    }

    fn set_tick_period(&mut self, period_ms: u64) -> bool {
        hostcalls::set_tick_period(Duration::from_millis(period_ms))
            .map_err(|status| {
                log::warn!("failover: no tick ({status:?}): no timeouts or backoff");
            })
            .is_ok()
    }

    fn event(&mut self, event: Event) {
        let world = &mut *self.world;
        let service = &world.config.service;
        match event {
            Event::NotRetried(reason) => {
                world.metrics.not_retried(reason);
                log::debug!("failover: {service}: not retried: {reason}");
            }
            Event::NoOtherEndpoint => log::debug!("failover: {service}: no other endpoint"),
            Event::BudgetExhausted => {
                world.metrics.budget_exhausted();
                log::debug!("failover: {service}: retry budget exhausted");
            }
            Event::Retrying { outcome, target } => {
                world.metrics.retry(outcome.reason().unwrap_or("other"));
                log::debug!("failover: {service}: {outcome}, retrying on {target}");
            }
            Event::Timeout(which) => {
                world.metrics.timeout(which);
                if which == "request" {
                    log::debug!(
                        "failover: {service}: request timeout ({} ms) exceeded",
                        world.config.timeout_ms
                    );
                }
            }
        }
    }
}

/// Reads a retry call's response head when the state machine asks (`headers` 0: no response).
pub fn call_head(headers: usize) -> impl FnOnce() -> (Vec<(String, String)>, Option<u16>) {
    move || call_response_head(headers)
}

/// Reads a retry call's response body when the state machine asks.
pub fn call_body(body_size: usize) -> impl FnOnce() -> Vec<u8> {
    move || call_response_body(body_size)
}
