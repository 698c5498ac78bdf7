//! The harness as the plugin's embedder: it keeps every log line for the test, tells the guest
//! its level is trace (so no line is held back), runs the guest's clock only when the test
//! moves it, and answers the host-level properties the test gave the builder.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use wasmesh_host::embedder::Embedder;
use wasmesh_host::plugin_info::PluginInfo;

/// One line the guest logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: log::Level,
    /// The message, without the trailing newline.
    pub message: String,
}

/// What one plugin under test runs in.
pub(crate) struct TestEmbedder {
    logs: Mutex<Vec<LogLine>>,
    now_nanos: AtomicU64,
    properties: HashMap<String, Vec<u8>>,
}

impl TestEmbedder {
    pub(crate) fn new(now_nanos: u64, properties: HashMap<String, Vec<u8>>) -> TestEmbedder {
        TestEmbedder {
            logs: Mutex::default(),
            now_nanos: AtomicU64::new(now_nanos),
            properties,
        }
    }

    pub(crate) fn logs(&self) -> MutexGuard<'_, Vec<LogLine>> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn advance(&self, nanos: u64) {
        self.now_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Embedder for TestEmbedder {
    fn log(&self, _plugin: &PluginInfo, level: log::Level, message: &str) {
        self.logs().push(LogLine {
            level,
            message: message.to_string(),
        });
    }

    fn log_level(&self) -> log::LevelFilter {
        log::LevelFilter::Trace
    }

    fn now_nanos(&self) -> u64 {
        self.now_nanos.load(Ordering::Relaxed)
    }

    fn property(&self, path: &str) -> Option<Vec<u8>> {
        self.properties.get(path).cloned()
    }
}
