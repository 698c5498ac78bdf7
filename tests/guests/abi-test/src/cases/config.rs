//! `config`: the plugin and VM configurations the root read in `on_configure` and
//! `on_vm_start` (the only callbacks where the spec makes them readable).

use proxy_wasm::types::Action;
use serde_json::json;

use crate::case::{Case, Env};
use crate::report::{self, text};

/// Replies with both configurations as text and their announced sizes.
pub struct Config;

impl Case for Config {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let root = env.root;
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "plugin_configuration": text(&root.plugin_configuration),
                "plugin_configuration_size": root.plugin_configuration_size,
                "vm_configuration": text(&root.vm_configuration),
                "vm_configuration_size": root.vm_configuration_size,
            }),
        );
        Action::Pause
    }
}
