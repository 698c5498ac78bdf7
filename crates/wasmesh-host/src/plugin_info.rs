//! What a plugin is, as every VM of it sees it: its names, configuration bytes and limits.

use std::sync::Arc;
use std::time::Duration;

/// Static facts about a plugin, shared by all its VMs.
#[derive(Debug, PartialEq)]
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
    /// The rollout version these VMs run: `stable` or `canary` for a plugin with a canary,
    /// `None` for a plugin's only version. The metrics the guest defines carry it as a
    /// `version` label, so both versions' series stay apart; the guest still sees `name` as
    /// `plugin_name`.
    pub version: Option<String>,
}

impl PluginInfo {
    /// The name host-side metrics and logs give these VMs: the plugin's name, or
    /// `<name>@canary` for its canary, so a canary's failures and costs are told apart from
    /// the stable version's.
    pub fn label(&self) -> String {
        match self.version.as_deref() {
            Some(version) if version != "stable" => format!("{}@{version}", self.name),
            _ => self.name.clone(),
        }
    }

    /// The name a metric the guest defines as `name` gets: with the `version` label in the
    /// proxy-wasm label convention (`name;key=value`) when the plugin is in a rollout.
    pub fn metric_name<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.version {
            Some(version) if !name.contains(";version=") => {
                std::borrow::Cow::Owned(format!("{name};version={version}"))
            }
            _ => std::borrow::Cow::Borrowed(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(version: Option<&str>) -> PluginInfo {
        PluginInfo {
            name: "auth".into(),
            root_id: String::new(),
            vm_id: String::new(),
            vm_config: Vec::new(),
            configuration: Vec::new(),
            fail_open: false,
            memory_bytes: 1 << 20,
            callback_time: Duration::from_millis(100),
            request_cpu: None,
            clusters: Arc::default(),
            version: version.map(str::to_string),
        }
    }

    #[test]
    fn a_rollout_labels_the_guests_metrics_and_names_the_canary() {
        let (only, stable, canary) = (info(None), info(Some("stable")), info(Some("canary")));
        assert_eq!(only.metric_name("hits;route=a"), "hits;route=a");
        assert_eq!(
            stable.metric_name("hits;route=a"),
            "hits;route=a;version=stable"
        );
        assert_eq!(canary.metric_name("hits"), "hits;version=canary");
        assert_eq!(canary.metric_name("hits;version=x"), "hits;version=x");
        assert_eq!(
            (only.label(), stable.label(), canary.label()),
            ("auth".into(), "auth".into(), "auth@canary".into())
        );
    }
}
