//! `singleton`: what the singleton root (`crate::singleton`) counted, read from shared data;
//! then one item for its queue.

use proxy_wasm::hostcalls;
use proxy_wasm::types::Action;
use serde_json::json;

use crate::case::{Case, Env};
use crate::report::text;
use crate::{counter, names, report, status};

/// `singleton`: headers `x-abi-singleton-ticks`, `x-abi-singleton-calls` and
/// `x-abi-singleton-queued` (0 when absent), body `{"ticks": n, "calls": m, "queued": q,
/// "enqueue": status}`; the item is enqueued after the counters are read.
pub struct Singleton;

impl Case for Singleton {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let read = |key| counter::read(key).ok().flatten().unwrap_or(0);
        let ticks = read(names::SINGLETON_TICKS_KEY);
        let calls = read(names::SINGLETON_CALLS_KEY);
        let queued = read(names::SINGLETON_QUEUED_KEY);
        let enqueue = status::of_result(&enqueue());
        let headers = [
            ("x-abi-singleton-ticks", ticks.to_string()),
            ("x-abi-singleton-calls", calls.to_string()),
            ("x-abi-singleton-queued", queued.to_string()),
        ];
        let body = json!({"ticks": ticks, "calls": calls, "queued": queued, "enqueue": enqueue});
        report::reply_json(env, 200, &headers, &body);
        Action::Pause
    }
}

/// One item onto the singleton's queue, found by this plugin's VM id.
fn enqueue() -> Result<(), proxy_wasm::types::Status> {
    let vm_id = hostcalls::get_property(vec!["plugin_vm_id"])?
        .map(|v| text(&v))
        .unwrap_or_default();
    match hostcalls::resolve_shared_queue(&vm_id, names::SINGLETON_QUEUE)? {
        Some(id) => hostcalls::enqueue_shared_queue(id, Some(b"item")),
        None => Err(proxy_wasm::types::Status::NotFound),
    }
}
