//! Reload when files change: the configuration file, every `.wasm` file it names (plugins'
//! and canaries'; not modules fetched by URL or from a registry) and every TLS certificate, key
//! and CA file (listeners' and clusters'), so a rotated certificate reaches new handshakes
//! while open connections go on with the one they began with. Editors
//! and deploy tools replace files by renaming a new one over the old, so the *directories* are
//! watched and events are matched by path. Changes are debounced (a build writing a module in
//! several steps causes one reload), and a reload that fails leaves the old generation serving,
//! exactly as with `SIGHUP` or `POST /reload`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify::{EventKind, RecursiveMode, Watcher};

use crate::config::Config;
use crate::host::{ConfigSource, Host};

/// Quiet time after the last change before reloading.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Starts watching the files of a file-based configuration (the embedded one has none).
pub fn spawn(host: Arc<Host>) -> Result<()> {
    let ConfigSource::File(config_path) = host.source.clone() else {
        return Ok(());
    };
    let (tx, rx) = channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })
    .context("starting the file watcher")?;
    // The directories are watched before this returns, so before the proxy says it is ready:
    // a file changed right after start is seen (the thread once registered them itself, and a
    // change made before its first turn went unnoticed).
    let files = watched_files(&config_path, &host);
    let dirs = watch_dirs(&mut watcher, &files, &BTreeSet::new());
    std::thread::Builder::new()
        .name("wasmesh-watch".into())
        .spawn(move || watch_loop(host, config_path, watcher, rx, files, dirs))?;
    Ok(())
}

type Events = Receiver<notify::Result<notify::Event>>;

fn watch_loop(
    host: Arc<Host>,
    config_path: PathBuf,
    mut watcher: notify::RecommendedWatcher,
    events: Events,
    mut files: BTreeSet<PathBuf>,
    mut dirs: BTreeSet<PathBuf>,
) {
    loop {
        if !wait_for_change(&events, &files) {
            return; // the watcher is gone: the process is stopping
        }
        log::info!("watched files changed: reloading");
        let _ = host.reload(); // logs and records its own outcome
        files = watched_files(&config_path, &host);
        dirs = watch_dirs(&mut watcher, &files, &dirs);
    }
}

/// Blocks until an event touches one of `files`, then until changes have been quiet for
/// [`DEBOUNCE`]. False when the event channel is closed.
fn wait_for_change(events: &Events, files: &BTreeSet<PathBuf>) -> bool {
    loop {
        match events.recv() {
            Ok(Ok(event)) if touches(&event, files) => break,
            Ok(Err(e)) => log::warn!("file watcher: {e}"),
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    // Only changes to the watched files extend the wait: other files in the same directories
    // (a log written on every request, say) must not hold the reload back.
    let mut quiet_until = Instant::now() + DEBOUNCE;
    loop {
        let left = quiet_until.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Ok(event)) if touches(&event, files) => quiet_until = Instant::now() + DEBOUNCE,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

fn touches(event: &notify::Event, files: &BTreeSet<PathBuf>) -> bool {
    !matches!(event.kind, EventKind::Access(_)) && event.paths.iter().any(|p| files.contains(p))
}

/// The config file and the modules and TLS files it names: those of the file as it is now if it parses
/// (so a module that does not exist yet is watched until it appears), else the serving ones.
fn watched_files(config_path: &Path, host: &Host) -> BTreeSet<PathBuf> {
    let config = match Config::load(config_path) {
        Ok(config) => Arc::new(config),
        Err(_) => host.current().config.clone(),
    };
    // Modules fetched by URL or from a registry are not files to watch; canaries' files are.
    let mut files: BTreeSet<PathBuf> = config
        .plugins
        .iter()
        .flat_map(|p| {
            std::iter::once(&p.wasm).chain(p.canary.as_ref().and_then(|c| c.wasm.as_ref()))
        })
        .filter(|wasm| !crate::modules::ModuleSource::is_remote(wasm))
        .map(|wasm| absolute(wasm))
        .collect();
    files.extend(config.tls_files().into_iter().map(absolute));
    files.insert(absolute(config_path));
    files
}

/// Watches the directories of `files` (keeping `already` watched ones); returns the new set.
fn watch_dirs(
    watcher: &mut notify::RecommendedWatcher,
    files: &BTreeSet<PathBuf>,
    already: &BTreeSet<PathBuf>,
) -> BTreeSet<PathBuf> {
    let wanted: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    for dir in wanted.difference(already) {
        if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
            log::warn!("cannot watch {}: {e}", dir.display());
        }
    }
    for dir in already.difference(&wanted) {
        let _ = watcher.unwatch(dir);
    }
    wanted
}

/// Absolute form of `path`, as the watcher reports paths (relative to the working directory
/// otherwise; plugin paths are already resolved against the config file's directory).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
