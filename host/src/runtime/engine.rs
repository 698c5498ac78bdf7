//! The one wasmtime engine of the process, its epoch clock, and compiled
//! modules cached on disk so a restart does not recompile.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, Module, ProfilingStrategy};

/// How often the epoch advances; callback deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The engine plus where compiled modules are cached.
pub struct Runtime {
    /// Shared by every VM of every plugin.
    pub engine: Engine,
    cache_dir: Option<PathBuf>,
}

impl Runtime {
    /// Builds the engine and starts the thread that advances its epoch.
    pub fn new() -> Result<Arc<Runtime>> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Guard the host's own stack: a guest recursing without end traps instead.
        config.max_wasm_stack(1 << 20);
        if let Some(strategy) = profiling_strategy()? {
            config.profiler(strategy);
        }
        let engine =
            Engine::new(&config).map_err(|e| anyhow::anyhow!("creating the wasm engine: {e}"))?;
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("wasmesh-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                ticker.increment_epoch();
            })
            .context("starting the epoch thread")?;
        Ok(Arc::new(Runtime {
            engine,
            cache_dir: cache_dir(),
        }))
    }

    /// Compiles a module, or loads it from the cache when the same bytes were
    /// compiled before by a compatible engine.
    pub fn load_module(&self, path: &Path) -> Result<Module> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("reading wasm module {}", path.display()))?;
        if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
            bail!("{} is not a wasm module (bad magic number)", path.display());
        }
        let cached = self.cache_path(&bytes);
        if let Some(cached) = &cached {
            if cached.exists() {
                // SAFETY: the file was written by `Module::serialize` of this engine
                // configuration (its name includes the engine's compatibility hash),
                // in a cache directory only this program writes.
                #[allow(unsafe_code)]
                match unsafe { Module::deserialize_file(&self.engine, cached) } {
                    Ok(module) => return Ok(module),
                    Err(e) => {
                        log::warn!("ignoring unusable module cache {}: {e}", cached.display())
                    }
                }
            }
        }
        let module = Module::new(&self.engine, &bytes)
            .map_err(|e| anyhow::anyhow!("compiling {}: {e}", path.display()))?;
        if let Some(cached) = cached {
            if let Err(e) = write_cache(&module, &cached) {
                log::warn!(
                    "could not cache compiled module at {}: {e}",
                    cached.display()
                );
            }
        }
        Ok(module)
    }

    fn cache_path(&self, bytes: &[u8]) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let mut hasher = Sha256::new();
        hasher.update(bytes);
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(
            &self.engine.precompile_compatibility_hash(),
            &mut engine_hash,
        );
        let engine_hash = std::hash::Hasher::finish(&engine_hash);
        let digest = hasher.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Some(dir.join(format!("{hex}-{engine_hash:016x}.cwasm")))
    }
}

/// `WASMESH_PROFILE=perfmap`: wasmtime writes `/tmp/perf-<pid>.map`, so `perf report` names
/// the guests' compiled functions instead of showing bare addresses. Unset or empty: none.
fn profiling_strategy() -> Result<Option<ProfilingStrategy>> {
    match std::env::var("WASMESH_PROFILE").as_deref() {
        Err(_) | Ok("") => Ok(None),
        Ok("perfmap") => Ok(Some(ProfilingStrategy::PerfMap)),
        Ok(other) => bail!("WASMESH_PROFILE={other:?}: the only profiler is \"perfmap\""),
    }
}

fn write_cache(module: &Module, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, module.serialize()?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// `WASMESH_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmesh`, else `~/.cache/wasmesh`;
/// `WASMESH_CACHE_DIR=off` disables the cache.
fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("WASMESH_CACHE_DIR") {
        if dir == "off" {
            return None;
        }
        return Some(PathBuf::from(dir));
    }
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(xdg).join("wasmesh"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/wasmesh"))
}
