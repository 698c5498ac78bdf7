//! What a plugin's VMs ask of the program that embeds them, as a trait that program implements
//! (wasmtime-wasi's `WasiView` and proxy-wasm-cpp-host's `ContextBase` are the same idea): where
//! guest log lines go and at what level, the wall clock a guest reads, and the properties that
//! belong to the embedder rather than to a stream (Envoy's `node.*`, for one).
//!
//! The rest of the interface is data, because it crosses an `await`: the embedder describes each
//! stream in a [`StreamInfo`](crate::stream_info::StreamInfo) as its facts become known, drives
//! the stream through [`chain`](crate::chain) (headers, bodies, trailers, local replies, pauses),
//! and collects what a VM asked for off the request path (http calls, tick periods) with
//! [`PluginVm::take_effects`](crate::runtime::PluginVm::take_effects), answering through the
//! `deliver_*` methods. Every method here has the process's default, so [`ProcessEmbedder`] is
//! all a proxy needs; a test harness captures the log and sets the time instead, so a rate
//! limiter's refill or an ejection's expiry is tested without waiting.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::plugin_info::PluginInfo;

/// Everything a plugin's VMs need from their embedder beyond the stream data. Called on the
/// worker thread, inside a guest callback: keep each method quick and never block.
pub trait Embedder: Send + Sync {
    /// Takes one guest log line (`proxy_log`, WASI stdout/stderr), its trailing newline
    /// removed. Default: the `log` crate, target `wasm`, prefixed as Envoy prefixes it
    /// ([`log_prefix`]).
    fn log(&self, plugin: &PluginInfo, level: log::Level, message: &str) {
        log::log!(target: "wasm", level, "{}: {}", LogPrefix(plugin), message);
    }

    /// The level a guest is told (`proxy_get_log_level`); lines below it are usually not sent.
    /// Default: the `log` crate's maximum level.
    fn log_level(&self) -> log::LevelFilter {
        log::max_level()
    }

    /// The wall-clock time a guest reads (`proxy_get_current_time_nanoseconds`, WASI
    /// realtime), in Unix nanoseconds. Default: the system's.
    fn now_nanos(&self) -> u64 {
        system_now_nanos()
    }

    /// A property this host does not answer itself, by its dotted path (`node.id`): asked after
    /// the plugin's own (`plugin_name`, ...), the ones a filter set and the stream's facts, in
    /// any context. Default: none (the guest gets `NotFound`).
    fn property(&self, path: &str) -> Option<Vec<u8>> {
        let _ = path;
        None
    }
}

/// The embedder a proxy is: the process's log and clock, no properties of its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEmbedder;

impl Embedder for ProcessEmbedder {}

/// How a plugin's VMs hold their embedder.
pub type SharedEmbedder = Arc<dyn Embedder>;

/// What Envoy writes before a guest's log line: `wasm log`, then the plugin's name, root id and
/// VM id, each only when it is not empty (`wasm log my-filter: ...` for a plugin with neither).
/// A canary's lines name it `<name>@canary` ([`PluginInfo::label`]).
pub fn log_prefix(plugin: &PluginInfo) -> String {
    LogPrefix(plugin).to_string()
}

/// [`log_prefix`] written straight into a log line: a guest that logs per request costs no
/// allocation for it.
pub struct LogPrefix<'a>(pub &'a PluginInfo);

impl std::fmt::Display for LogPrefix<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plugin = self.0;
        f.write_str("wasm log")?;
        // The plugin's label (`name`, or `name@version` for a version other than stable).
        let version = plugin.version.as_deref().filter(|v| *v != "stable");
        if !plugin.name.is_empty() || version.is_some() {
            write!(f, " {}", plugin.name)?;
            if let Some(version) = version {
                write!(f, "@{version}")?;
            }
        }
        for id in [&plugin.root_id, &plugin.vm_id] {
            if !id.is_empty() {
                write!(f, " {id}")?;
            }
        }
        Ok(())
    }
}

/// The system's wall clock in nanoseconds since the Unix epoch (0 before 1970).
pub fn system_now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::log_prefix;
    use crate::plugin_info::PluginInfo;

    fn plugin(name: &str, root_id: &str, vm_id: &str) -> PluginInfo {
        PluginInfo {
            name: name.into(),
            root_id: root_id.into(),
            vm_id: vm_id.into(),
            vm_config: Vec::new(),
            configuration: Vec::new(),
            fail_open: false,
            memory_bytes: 1 << 20,
            callback_time: Duration::from_millis(100),
            request_cpu: None,
            clusters: Arc::new(Vec::new()),
            version: None,
        }
    }

    #[test]
    fn the_log_prefix_leaves_empty_ids_out_as_envoy_does() {
        assert_eq!(log_prefix(&plugin("f", "r", "v")), "wasm log f r v");
        assert_eq!(log_prefix(&plugin("f", "", "")), "wasm log f");
        assert_eq!(log_prefix(&plugin("f", "", "v")), "wasm log f v");
        assert_eq!(log_prefix(&plugin("", "", "")), "wasm log");
    }
}
