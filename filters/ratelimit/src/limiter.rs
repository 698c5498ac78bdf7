//! The per-stream context: one token per request, taken on request headers.

use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use wasmesh_common::ratelimit::{Decision, KeyDigest, KeySource, OnStoreFull};
use wasmesh_filter_glue::clock::now_ns;

use crate::root::Plugin;
use crate::store::{self, StoreError, Table};

/// Body of the local reply to a limited request.
const LIMITED_BODY: &[u8] = b"rate limited\n";
/// `retry-after` of a request refused because its key found no slot: slots free up as the
/// buckets in them refill, which a client cannot see, so it is told to come back soon.
const STORE_FULL_RETRY_AFTER_SECS: u64 = 1;

/// One per HTTP stream.
pub struct RateLimiter {
    plugin: Option<Rc<Plugin>>,
}

impl RateLimiter {
    /// A stream context over the root's current plugin (`None` only if the root was never
    /// configured successfully, in which case requests pass).
    pub fn new(plugin: Option<Rc<Plugin>>) -> Self {
        Self { plugin }
    }
}

impl Context for RateLimiter {}

impl HttpContext for RateLimiter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(plugin) = self.plugin.as_deref() else {
            return Action::Continue;
        };
        let salt = match crate::salt::current(&plugin.root_id) {
            Ok(salt) => salt,
            Err(status) => {
                // As for any other refused shared-data call: the request passes.
                log::warn!("ratelimit: no salt for the key digests: {status:?}");
                return Action::Continue;
            }
        };
        let digest = KeyDigest::of(&salt, &key_value(&plugin.config.key));
        let table = Table {
            root_id: &plugin.root_id,
            slots: plugin.config.max_keys,
        };
        let bucket = &plugin.config.bucket;
        let allowed = match store::take_token(&table, &digest, bucket, now_ns()) {
            Ok(Decision::Allowed(_)) => true,
            Ok(Decision::Limited { retry_after_secs }) => {
                reply_limited(plugin, retry_after_secs);
                false
            }
            Err(StoreError::Full) => {
                if let Some(metrics) = plugin.metrics {
                    metrics.count_store_full();
                }
                match plugin.config.on_store_full {
                    OnStoreFull::Allow => true,
                    OnStoreFull::Deny => {
                        reply_limited(plugin, STORE_FULL_RETRY_AFTER_SECS);
                        false
                    }
                }
            }
            // Fail open: an overloaded or misbehaving store must not turn into an outage.
            Err(StoreError::Contended) => {
                log::warn!(
                    "ratelimit: still contended after {} attempts, allowing",
                    store::MAX_CAS_ATTEMPTS
                );
                true
            }
            Err(StoreError::Host(status)) => {
                log::warn!("ratelimit: shared data failed ({status:?}), allowing");
                true
            }
        };
        if let Some(metrics) = plugin.metrics {
            metrics.count(allowed);
        }
        if allowed {
            Action::Continue
        } else {
            Action::Pause
        }
    }
}

/// The value the request is counted by: `global`, or the configured header's value (its raw
/// bytes; [`KeySource::MISSING_HEADER_VALUE`] when absent).
fn key_value(source: &KeySource) -> Vec<u8> {
    match source {
        KeySource::Global => b"global".to_vec(),
        KeySource::Header(name) => {
            match hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name) {
                Ok(Some(value)) => value,
                Ok(None) => KeySource::MISSING_HEADER_VALUE.as_bytes().to_vec(),
                Err(status) => {
                    log::warn!("ratelimit: reading header {name}: {status:?}");
                    KeySource::MISSING_HEADER_VALUE.as_bytes().to_vec()
                }
            }
        }
    }
}

fn reply_limited(plugin: &Plugin, retry_after_secs: u64) {
    let retry_after = retry_after_secs.to_string();
    let limit = plugin.config.bucket.burst().to_string();
    let headers = vec![
        ("retry-after", retry_after.as_str()),
        ("x-ratelimit-limit", limit.as_str()),
    ];
    if let Err(status) =
        hostcalls::send_http_response(plugin.config.status, headers, Some(LIMITED_BODY))
    {
        log::warn!("ratelimit: sending the local reply: {status:?}");
    }
}
