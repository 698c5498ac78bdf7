//! One discovered service on one root context: its source, its poll schedule, its metrics, and
//! what to do with an answer (publish a change) or a failure (keep the last good set, stale).

use std::time::Duration;

use proxy_wasm::hostcalls;
use wasmesh_common::discovery::config::ServiceConfig;
use wasmesh_common::discovery::source::{Reply, SourceState};
use wasmesh_common::discovery::{Answer, Poller};
use wasmesh_contract::endpoint::Endpoint;
use wasmesh_contract::keys;
use wasmesh_contract::publish::Update;
use wasmesh_filter_glue::clock::now_ms;

use crate::metrics::Metrics;
use crate::publish::{publish, set_stale};

/// A service being discovered.
pub struct Service {
    name: String,
    kind: &'static str,
    key: String,
    source: SourceState,
    poller: Poller,
    metrics: Metrics,
    timeout: Duration,
    sent_ms: u64,
}

impl Service {
    /// `config`'s service, polled every `poll_ms` with calls of `timeout_ms` (more for a
    /// blocking query: its wait on top).
    pub fn new(config: &ServiceConfig, poll: (u64, u64, u64), seed: u64) -> Self {
        let (poll_ms, timeout_ms, max_backoff_ms) = poll;
        let timeout_ms = config.source.call_timeout_ms(timeout_ms);
        Self {
            name: config.service.clone(),
            kind: config.source.kind(),
            key: keys::endpoints(&config.service),
            source: SourceState::new(&config.service, config.source.clone()),
            poller: Poller::new(poll_ms, timeout_ms, max_backoff_ms, seed),
            metrics: Metrics::new(&config.service),
            timeout: Duration::from_millis(timeout_ms),
            sent_ms: 0,
        }
    }

    /// Publishes a static list (once, at configuration); `false` for a registry.
    pub fn publish_static(&mut self) -> bool {
        let Some(endpoints) = self.source.static_endpoints() else {
            return false;
        };
        self.publish(&endpoints);
        true
    }

    /// Starts a poll if one is due; returns the call's token.
    pub fn tick(&mut self, now_ms: u64) -> Option<u32> {
        let (due, lost) = self.poller.due(now_ms);
        if let Some(failure) = lost {
            self.report_failure("no response (the answer never came)", failure);
        }
        if !due {
            return None;
        }
        let request = self.source.request()?;
        let body = (!request.body.is_empty()).then_some(request.body.as_slice());
        match hostcalls::dispatch_http_call(
            &request.cluster,
            request.all_headers(),
            body,
            vec![],
            self.timeout,
        ) {
            Ok(token) => {
                self.poller.sent(now_ms);
                self.sent_ms = now_ms;
                Some(token)
            }
            Err(status) => {
                let failure = self.poller.failed(now_ms);
                let message = format!("no response (http_call to {}: {status:?})", request.cluster);
                self.report_failure(&message, failure);
                None
            }
        }
    }

    /// Handles the answer to this service's poll.
    pub fn answered(&mut self, reply: Reply<'_>, now_ms: u64) {
        match self.source.parse(reply) {
            Ok(answer) => {
                let held_ms = now_ms.saturating_sub(self.sent_ms);
                let again = self.source.ask_again_at_once(&answer, held_ms);
                if self.poller.succeeded(now_ms) {
                    log::info!(
                        "discovery: {}: the source answers again; set fresh",
                        self.name
                    );
                    self.metrics.set_stale(false);
                    if matches!(answer, Answer::Unchanged) {
                        self.write_stale(false);
                    }
                }
                if again {
                    self.poller.ask_again(now_ms);
                }
                if let Answer::Endpoints { endpoints, skipped } = answer {
                    for skipped in &skipped {
                        log::warn!("discovery: {}: skipping {skipped}", self.name);
                    }
                    self.publish(&endpoints);
                }
            }
            Err(message) => {
                let failure = self.poller.failed(now_ms);
                self.report_failure(&message, failure);
            }
        }
    }

    fn publish(&mut self, endpoints: &[Endpoint]) {
        self.metrics.set_endpoints(endpoints.len());
        let update = Update {
            endpoints,
            source: self.kind,
            stale: self.poller.is_stale(),
            now_ms: now_ms(),
        };
        match publish(&self.key, update) {
            Ok(Some(version)) => {
                self.metrics.updated();
                let list: Vec<String> = endpoints
                    .iter()
                    .map(|e| format!("{}*{}", e.address, e.weight))
                    .collect();
                log::info!(
                    "discovery: {}: published version {version}: [{}]",
                    self.name,
                    list.join(", ")
                );
            }
            Ok(None) => {}
            Err(status) => log::warn!("discovery: {}: writing {}: {status:?}", self.name, self.key),
        }
    }

    /// Marks the stored set stale (or fresh again) for the admin's `/endpoints`.
    fn write_stale(&self, stale: bool) {
        if let Err(status) = set_stale(&self.key, stale) {
            log::warn!(
                "discovery: {}: flagging {}: {status:?}",
                self.name,
                self.key
            );
        }
    }

    fn report_failure(
        &mut self,
        message: &str,
        failure: wasmesh_common::discovery::poller::Failure,
    ) {
        self.metrics.error(message);
        if failure.became_stale {
            self.metrics.set_stale(true);
            self.write_stale(true);
            log::warn!(
                "discovery: {}: source failed ({message}); keeping the last good set, now stale; retry in {} ms",
                self.name,
                failure.retry_in_ms
            );
        } else {
            log::info!(
                "discovery: {}: source still failing ({message}), {} in a row; retry in {} ms",
                self.name,
                failure.consecutive,
                failure.retry_in_ms
            );
        }
    }
}
