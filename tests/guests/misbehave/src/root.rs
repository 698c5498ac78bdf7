//! The root context: start-up failures chosen by configuration.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::stream::MisbehaveStream;

/// Configuration value that makes `on_configure` return false (a rejected configuration).
pub const FAIL_CONFIGURE: &str = "fail-configure";
/// Configuration value that makes `on_vm_start` panic (a trap before the VM ever serves).
pub const TRAP_ON_START: &str = "trap-on-start";

/// The one root context; it holds no state, every decision is per request.
pub struct MisbehaveRoot;

impl Context for MisbehaveRoot {}

impl RootContext for MisbehaveRoot {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        // The VM configuration is the natural place; the plugin configuration is checked too so a
        // test can use either (hosts that expose it this early let it count).
        let vm = self.get_vm_configuration();
        let plugin = self.get_plugin_configuration();
        if [vm, plugin]
            .iter()
            .flatten()
            .any(|c| c == TRAP_ON_START.as_bytes())
        {
            panic!("misbehave: {TRAP_ON_START} asked for a trap in on_vm_start");
        }
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let configuration = self.get_plugin_configuration().unwrap_or_default();
        if configuration == FAIL_CONFIGURE.as_bytes() {
            log::error!("misbehave: configuration {FAIL_CONFIGURE:?}: refusing to configure");
            return false;
        }
        true
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(MisbehaveStream {
            context_id,
            burn_ms: None,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
