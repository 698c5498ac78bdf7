//! `vm-instance`: what the module instance running this stream has seen, so a test can tell
//! which plugins share one instance (Envoy gives plugins with the same VM id, VM configuration
//! and module one instance per worker, with a root context each) and which have their own.
//!
//! The counts are the instance's globals: every plugin running in the same instance adds to
//! the same ones.

use std::sync::atomic::{AtomicU32, Ordering};

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, MapType};

use crate::case::{Case, Env};
use crate::report::{self, text};

/// `proxy_on_vm_start` calls this instance got.
pub static VM_STARTS: AtomicU32 = AtomicU32::new(0);
/// Root contexts this instance created.
pub static ROOTS: AtomicU32 = AtomicU32::new(0);
/// `vm-instance` streams this instance saw, over all its root contexts.
static STREAMS: AtomicU32 = AtomicU32::new(0);

/// Adds `x-abi-instance-<plugin_root_id>: stream=…;root_context=…;roots=…;vm_starts=…` to the
/// response, with the counts as the request passed this filter.
#[derive(Default)]
pub struct Instance {
    seen: Option<(String, String)>,
}

impl Case for Instance {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let stream = STREAMS.fetch_add(1, Ordering::Relaxed) + 1;
        let root_id = hostcalls::get_property(vec!["plugin_root_id"])
            .ok()
            .flatten()
            .map(|v| text(&v))
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let seen = format!(
            "stream={stream};root_context={};roots={};vm_starts={}",
            env.root.root_context_id,
            ROOTS.load(Ordering::Relaxed),
            VM_STARTS.load(Ordering::Relaxed),
        );
        self.seen = Some((format!("x-abi-instance-{root_id}"), seen));
        Action::Continue
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        if let Some((name, value)) = &self.seen {
            report::set_header(MapType::HttpResponseHeaders, name, value);
        }
        Action::Continue
    }
}
