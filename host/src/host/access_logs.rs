//! The listeners' access logs a configuration generation opens once for every worker.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use wasmesh_proxy::access_log::writer::LogFile;
use wasmesh_proxy::access_log::AccessLog;

use crate::config::Config;

/// Each listener's access log, by listener name; listeners naming the same file share its
/// writer. Errors name the field.
pub fn open(config: &Config) -> Result<HashMap<String, Arc<AccessLog>>> {
    let mut files: HashMap<&Path, LogFile> = HashMap::new();
    let mut logs = HashMap::new();
    for (i, listener) in config.listeners.iter().enumerate() {
        let Some(spec) = &listener.access_log else {
            continue;
        };
        let at = format!("listeners[{i}].access_log");
        let file = match files.get(spec.path.as_path()) {
            Some(file) => file.clone(),
            None => {
                let interval = std::time::Duration::from_millis(spec.flush_interval_ms);
                let file = LogFile::open(&spec.path, interval).with_context(|| {
                    format!(
                        "config error at `{at}.path`: opening {}",
                        spec.path.display()
                    )
                })?;
                files.insert(&spec.path, file.clone());
                file
            }
        };
        let log = AccessLog::new(&listener.name, spec, file)
            .map_err(|(field, e)| anyhow::anyhow!("config error at `{at}.{field}`: {e}"))?;
        logs.insert(listener.name.clone(), Arc::new(log));
    }
    Ok(logs)
}
