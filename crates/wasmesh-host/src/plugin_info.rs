//! What a plugin is, as every VM of it sees it: its names, configuration bytes and limits.

use std::sync::Arc;
use std::time::Duration;

/// Static facts about a plugin, shared by all its VMs.
#[derive(Debug)]
pub struct PluginInfo {
    /// `plugin_name`.
    pub name: String,
    /// `plugin_root_id`.
    pub root_id: String,
    /// `plugin_vm_id`: the scope of shared data and queues.
    pub vm_id: String,
    /// Bytes for `proxy_on_vm_start`.
    pub vm_config: Vec<u8>,
    /// Bytes for `proxy_on_configure`.
    pub configuration: Vec<u8>,
    /// Pass requests on when the VM fails (else 503).
    pub fail_open: bool,
    /// Per-VM linear memory cap in bytes.
    pub memory_bytes: usize,
    /// Per-callback time cap.
    pub callback_time: Duration,
    /// CPU time a stream may spend in this plugin over all its callbacks.
    pub request_cpu: Option<Duration>,
    /// Cluster names `proxy_http_call` may target.
    pub clusters: Arc<Vec<String>>,
    /// The rollout version these VMs run (`canary`); `None` for a plugin's only (or stable)
    /// version. The guest still sees `name` as `plugin_name`.
    pub version: Option<String>,
}

impl PluginInfo {
    /// The name host-side metrics and logs give these VMs: the plugin's name, or
    /// `<name>@<version>` for a rollout's other version, so a canary's failures and costs are
    /// told apart from the stable version's.
    pub fn label(&self) -> String {
        match &self.version {
            Some(version) => format!("{}@{version}", self.name),
            None => self.name.clone(),
        }
    }
}
