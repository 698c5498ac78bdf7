//! The singleton's root context: what a root with root id [`names::SINGLETON_ROOT_ID`] does
//! instead of the filter root's start-up (Envoy runs it as an `envoy.bootstrap.wasm`
//! singleton, wasmesh as a plugin in no listener). Every tick it counts itself in shared data
//! and calls the cluster its plugin configuration names; every `200` answer is counted too, and
//! so is every item it dequeues from the queue it registers (the `singleton` case enqueues).
//! No stream is ever created for it, so only these counters show that it runs; the
//! `singleton` case reads them back through a filter of the same VM id.

use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::types::MapType;

use crate::report::text;
use crate::{counter, names, status};

/// Tick period the singleton asks for.
pub const TICK_PERIOD: Duration = Duration::from_millis(100);
/// Timeout of each call, shorter than a tick's worth of waiting in the tests.
const CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// Path the singleton's calls ask the backend for (the tests ignore it).
const CALL_PATH: &str = "/from-singleton";

/// A started singleton root.
pub struct Singleton {
    cluster: String,
}

impl Singleton {
    /// Starts ticking; `configuration` is the cluster to call.
    pub fn start(configuration: &[u8]) -> Self {
        if let Err(s) = hostcalls::set_tick_period(TICK_PERIOD) {
            log::error!("abi-test singleton: set_tick_period: {}", status::of(s));
        }
        if let Err(s) = hostcalls::register_shared_queue(names::SINGLETON_QUEUE) {
            log::error!(
                "abi-test singleton: register_shared_queue: {}",
                status::of(s)
            );
        }
        let cluster = text(configuration);
        log::info!("abi-test singleton: started, calling cluster {cluster:?}");
        Self { cluster }
    }

    /// Counts the tick and calls the cluster.
    pub fn on_tick(&self) {
        if let Err(s) = counter::add(names::SINGLETON_TICKS_KEY, 1) {
            log::warn!("abi-test singleton: counting a tick: {}", status::of(s));
        }
        let headers = vec![
            (":method", "GET"),
            (":path", CALL_PATH),
            (":authority", "singleton"),
        ];
        let call =
            hostcalls::dispatch_http_call(&self.cluster, headers, None, vec![], CALL_TIMEOUT);
        if let Err(s) = call {
            log::warn!("abi-test singleton: dispatch: {}", status::of(s));
        }
    }

    /// Counts what the queue holds, dequeuing all of it.
    pub fn on_queue_ready(&self, queue_id: u32) {
        let mut items = 0;
        while let Ok(Some(_)) = hostcalls::dequeue_shared_queue(queue_id) {
            items += 1;
        }
        if let Err(s) = counter::add(names::SINGLETON_QUEUED_KEY, items) {
            log::warn!(
                "abi-test singleton: counting queue items: {}",
                status::of(s)
            );
        }
    }

    /// Counts a `200` answer.
    pub fn on_http_call_response(&self) {
        let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status");
        if matches!(status, Ok(Some(ref s)) if s == "200") {
            if let Err(s) = counter::add(names::SINGLETON_CALLS_KEY, 1) {
                log::warn!("abi-test singleton: counting a call: {}", status::of(s));
            }
        } else {
            log::warn!("abi-test singleton: call answered {status:?}");
        }
    }
}
