//! The one wasmtime engine of the process, its epoch clock, and compiled
//! modules cached on disk ([`super::module_cache`]) so a restart does not recompile.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::{Config, Engine, Module, ProfilingStrategy};

use super::module_cache::ModuleCache;
use crate::error::{EngineError, LoadError};
use crate::store::time_cap::EPOCH_TICK;

/// The engine plus where compiled modules are cached.
pub struct Runtime {
    /// Shared by every VM of every plugin.
    pub engine: Engine,
    cache: Option<ModuleCache>,
}

impl Runtime {
    /// Builds the engine and starts the thread that advances its epoch.
    pub fn new() -> Result<Arc<Runtime>, EngineError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Guard the host's own stack: a guest recursing without end traps instead.
        config.max_wasm_stack(1 << 20);
        if let Some(strategy) = profiling_strategy()? {
            config.profiler(strategy);
        }
        let engine = Engine::new(&config).map_err(EngineError::Engine)?;
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("wasmesh-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                ticker.increment_epoch();
            })
            .map_err(EngineError::EpochThread)?;
        let cache = cache_dir().and_then(|dir| match ModuleCache::open(&dir) {
            Ok(cache) => Some(cache),
            Err(e) => {
                log::warn!(
                    "compiled modules are not cached this run: module cache {}: {e}",
                    dir.display()
                );
                None
            }
        });
        Ok(Arc::new(Runtime { engine, cache }))
    }

    /// The module cache's directory, when modules are cached this run.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_ref().map(ModuleCache::dir)
    }

    /// Cached compiled modules refused (see [`ModuleCache::verified`]), for `/metrics`.
    pub fn cache_rejected(&self) -> u64 {
        self.cache.as_ref().map_or(0, ModuleCache::rejected)
    }

    /// Reads the module at `path` and compiles it ([`Runtime::compile`]).
    pub fn load_module(&self, path: &Path) -> Result<Module, LoadError> {
        let bytes = std::fs::read(path).map_err(|error| LoadError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        self.compile(&bytes, &path.display().to_string())
    }

    /// Compiles a module, or loads it from the cache when the same bytes were compiled before
    /// by a compatible engine. `name` says where the bytes came from, in errors.
    pub fn compile(&self, bytes: &[u8], name: &str) -> Result<Module, LoadError> {
        if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
            return Err(LoadError::NotWasm { name: name.into() });
        }
        let cached = self
            .cache
            .as_ref()
            .map(|cache| (cache, cache.path_for(bytes, self.engine_hash())));
        if let Some((cache, cached)) = &cached {
            if cache.verified(cached) {
                // SAFETY: the file was written by `Module::serialize` of this engine
                // configuration (its name includes the engine's compatibility hash), its MAC
                // under the cache's key matches, and only this user can write the directory.
                #[allow(unsafe_code)]
                match unsafe { Module::deserialize_file(&self.engine, cached) } {
                    Ok(module) => return Ok(module),
                    Err(e) => {
                        log::warn!("ignoring unusable module cache {}: {e}", cached.display())
                    }
                }
            }
        }
        let module = Module::new(&self.engine, bytes).map_err(|error| LoadError::Compile {
            name: name.into(),
            error,
        })?;
        if let Some((cache, cached)) = cached {
            let stored = match module.serialize() {
                Ok(compiled) => cache.store(&cached, &compiled).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = stored {
                log::warn!(
                    "could not cache compiled module at {}: {e}",
                    cached.display()
                );
            }
        }
        Ok(module)
    }

    /// The engine's compatibility hash as a number, part of every cached file's name.
    fn engine_hash(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&self.engine.precompile_compatibility_hash(), &mut hasher);
        std::hash::Hasher::finish(&hasher)
    }
}

/// `WASMESH_PROFILE=perfmap`: wasmtime writes `/tmp/perf-<pid>.map`, so `perf report` names
/// the guests' compiled functions instead of showing bare addresses. Unset or empty: none.
fn profiling_strategy() -> Result<Option<ProfilingStrategy>, EngineError> {
    match std::env::var("WASMESH_PROFILE").as_deref() {
        Err(_) | Ok("") => Ok(None),
        Ok("perfmap") => Ok(Some(ProfilingStrategy::PerfMap)),
        Ok(other) => Err(EngineError::Profiler(other.into())),
    }
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
