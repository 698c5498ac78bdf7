//! The process-wide host: the engine, the shared stores, the current
//! configuration generation and its replacement on reload. A new generation
//! is built completely (modules compiled, every plugin started once to pass
//! `on_vm_start`/`on_configure`) before it replaces the old one; if any part
//! fails, the old one keeps serving and the error is kept for `/config`. Listeners
//! added, moved or removed by a reload are bound first and swapped with it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{bail, Context, Result};
use tokio::sync::mpsc::UnboundedSender;

mod access_logs;
mod tls;

use crate::config::Config;
use crate::events::WorkerEvent;
use crate::listeners::{BoundListener, ListenerPlan};
use wasmesh_host::rollout::Rollout;
use wasmesh_host::runtime::failures::VmFailureCounters;
use wasmesh_host::runtime::{PluginFactory, Runtime};
use wasmesh_host::state::SharedState;
use wasmesh_proxy::access_log::AccessLog;
use wasmesh_proxy::tls::upstream::ClientTls;
use wasmesh_proxy::tls::ServerTls;

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// A file (reloadable).
    File(PathBuf),
    /// The demo configuration compiled into the binary.
    Embedded,
}

impl ConfigSource {
    /// Reads and parses the configuration.
    pub fn load(&self) -> Result<Config> {
        match self {
            ConfigSource::File(path) => Config::load(path),
            ConfigSource::Embedded => Config::parse(crate::config::EMBEDDED_DEFAULT),
        }
    }
}

/// One complete, validated configuration with its compiled plugins.
pub struct Generation {
    /// Increases with every successful (re)load.
    pub id: u64,
    /// The configuration.
    pub config: Arc<Config>,
    /// Compiled plugins by name.
    pub factories: HashMap<String, Arc<PluginFactory>>,
    /// The canaries of plugins in a rollout, by plugin name.
    pub canaries: HashMap<String, Canary>,
    /// Each TLS listener's certificates and settings, loaded once for every worker, by name.
    pub tls: HashMap<String, Arc<ServerTls>>,
    /// Each TLS cluster's CAs, identities and client certificate, by name.
    pub upstream_tls: HashMap<String, Arc<ClientTls>>,
    /// What each cluster's TLS was loaded from ([`tls::ClustersTls`]).
    upstream_tls_sources: HashMap<String, String>,
    /// Each listener's access log, by listener name.
    pub access_logs: HashMap<String, Arc<AccessLog>>,
}

/// A plugin's canary as a generation runs it.
pub struct Canary {
    /// The canary's compiled module and configuration.
    pub factory: Arc<PluginFactory>,
    /// Its share and rollback state, shared by every worker.
    pub rollout: Arc<Rollout>,
    /// What makes it the same canary: a reload that keeps this keeps the rollout (a canary
    /// rolled back stays rolled back until it changes).
    fingerprint: String,
}

impl Generation {
    /// Compiles every plugin (and canary) and starts each once to check it configures; a
    /// canary unchanged since `previous` keeps its rollout.
    pub fn build(
        id: u64,
        config: Config,
        runtime: &Runtime,
        shared: &Arc<SharedState>,
        previous: Option<&Generation>,
    ) -> Result<Generation> {
        let clusters = Arc::new(
            config
                .clusters
                .iter()
                .map(|c| c.name.clone())
                .collect::<Vec<_>>(),
        );
        let mut factories = HashMap::new();
        // Each plugin is tried once (`on_vm_start`, `on_configure`) before anything serves, on
        // stores of its own: a generation that is then rejected must not have published shared
        // data, taken over a live queue or defined metrics in the stores the workers use.
        let scratch = SharedState::new();
        for (i, plugin) in config.plugins.iter().enumerate() {
            let module = Module {
                wasm: &plugin.wasm,
                sha256: plugin.sha256.as_deref(),
                fetch: &plugin.fetch,
                at: format!("plugins[{i}]"),
            };
            let factory = module
                .load(runtime, shared, plugin.info(clusters.clone()))
                .with_context(|| format!("plugin {:?}", plugin.name))?;
            // Unchanged since the last generation: the same factory, so every worker keeps
            // its VMs (their memory, root context and ticks), as Envoy keeps a VM whose module
            // and configuration did not change.
            let kept = previous
                .and_then(|p| p.factories.get(&plugin.name))
                .filter(|old| old.same_plugin_as(&factory));
            let factory = match kept {
                Some(old) => old.clone(),
                None => {
                    let _check = factory
                        .with_shared(scratch.clone())
                        .instantiate(Arc::new(|_, _| {}))?;
                    factory
                }
            };
            factories.insert(plugin.name.clone(), factory);
        }
        let mut canaries = HashMap::new();
        for (i, plugin) in config.plugins.iter().enumerate() {
            let Some(canary) = &plugin.canary else {
                continue;
            };
            let context = || format!("plugin {:?}: canary", plugin.name);
            let (wasm, sha256) = plugin.canary_wasm(canary);
            let module = Module {
                wasm,
                sha256,
                fetch: &plugin.fetch,
                at: format!("plugins[{i}].canary"),
            };
            let factory = module
                .load(
                    runtime,
                    shared,
                    plugin.canary_info(canary, clusters.clone()),
                )
                .with_context(context)?;
            let _check = factory
                .with_shared(scratch.clone())
                .instantiate(Arc::new(|_, _| {}))
                .with_context(context)?;
            let fingerprint = format!(
                "{:?} {:?} {:?}",
                factory.module_sha256(),
                canary,
                factories.get(&plugin.name).map(|f| f.module_sha256())
            );
            let kept = previous
                .and_then(|p| p.canaries.get(&plugin.name))
                .filter(|c| c.fingerprint == fingerprint);
            let rollout = kept.map_or_else(
                || Arc::new(Rollout::new(&plugin.name, canary.policy())),
                |c| c.rollout.clone(),
            );
            let factory = match kept.filter(|c| c.factory.same_plugin_as(&factory)) {
                Some(c) => c.factory.clone(),
                None => factory,
            };
            let canary = Canary {
                factory,
                rollout,
                fingerprint,
            };
            canaries.insert(plugin.name.clone(), canary);
        }
        let tls = tls::listeners(&config)?;
        let access_logs = access_logs::open(&config)?;
        let clusters_tls = tls::clusters(&config, previous)?;
        Ok(Generation {
            id,
            config: Arc::new(config),
            factories,
            canaries,
            tls,
            upstream_tls: clusters_tls.loaded,
            upstream_tls_sources: clusters_tls.sources,
            access_logs,
        })
    }
}

/// A plugin's (or canary's) module as the config names it.
struct Module<'a> {
    wasm: &'a std::path::Path,
    sha256: Option<&'a str>,
    fetch: &'a crate::config::FetchConfig,
    /// The config field it comes from, for errors.
    at: String,
}

impl Module<'_> {
    /// Reads the file, or fetches the URL or image (off the request path: generations are
    /// built at start and on reloads), checks its sha256 when one is given, and links it.
    fn load(
        &self,
        runtime: &Runtime,
        shared: &Arc<SharedState>,
        info: wasmesh_host::plugin_info::PluginInfo,
    ) -> Result<Arc<PluginFactory>> {
        use crate::modules::{self, ModuleSource};
        let source = ModuleSource::parse(self.wasm)?;
        let (bytes, origin) = match (&source, self.sha256) {
            (ModuleSource::File(path), None) => {
                return Ok(PluginFactory::new(runtime, shared.clone(), path, info)?);
            }
            (ModuleSource::File(path), Some(sha256)) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("reading module {}", path.display()))?;
                let field = format!("{}.sha256", self.at);
                modules::check_digest(&bytes, sha256, &field, &path.display().to_string())?;
                (bytes, path.display().to_string())
            }
            _ => {
                let fetched = modules::fetch(
                    &source,
                    self.sha256,
                    &self.fetch.options(),
                    runtime.cache_dir(),
                    &self.at,
                )?;
                (fetched.bytes, fetched.origin)
            }
        };
        Ok(PluginFactory::from_bytes(
            runtime,
            shared.clone(),
            &bytes,
            &origin,
            info,
        )?)
    }
}

/// Counters the admin's `/metrics` shows about the host itself.
#[derive(Default)]
pub struct HostCounters {
    /// Downstream requests handled.
    pub requests: crate::per_worker_counter::PerWorkerCounter,
    /// Successful reloads.
    pub reloads_ok: AtomicU64,
    /// Rejected reloads.
    pub reloads_failed: AtomicU64,
    /// VM failures and rebuilds.
    pub vms: Arc<VmFailureCounters>,
}

/// The host.
pub struct Host {
    /// The wasm engine.
    pub runtime: Arc<Runtime>,
    /// Shared data, queues, metrics.
    pub shared: Arc<SharedState>,
    /// Where the config comes from.
    pub source: ConfigSource,
    /// Figures for `/metrics`.
    pub counters: HostCounters,
    /// Listener connection limits and cluster circuit breakers, over every worker.
    pub overload: Arc<wasmesh_proxy::overload::Overload>,
    /// The start and the last reloads, for the admin's live view.
    pub reloads: crate::reload_history::ReloadHistory,
    /// Host-side DNS discovery, handed each new generation's `dns` entries.
    dns: crate::dns::Dns,
    current: RwLock<Arc<Generation>>,
    /// Copy of `current`'s id, read without the lock (workers on `Refresh`, the admin's `/config`).
    current_id: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// The last generation a worker could not start, and why.
    worker_error: Mutex<Option<(u64, String)>>,
    listeners: Mutex<Vec<BoundListener>>,
    /// How many workers accept: each listener has a socket for each.
    accepting_workers: AtomicUsize,
    workers: Mutex<Vec<UnboundedSender<WorkerEvent>>>,
    ready: AtomicBool,
    reload_lock: Mutex<()>,
}

impl Host {
    /// Loads the configuration and builds the first generation.
    pub fn start(source: ConfigSource) -> Result<Arc<Host>> {
        let runtime = Runtime::new()?;
        let shared = SharedState::new();
        let config = source.load()?;
        shared.metrics.set_bucket_rules(config.stats.bucket_rules());
        let generation = Generation::build(1, config, &runtime, &shared, None)?;
        let dns = crate::dns::Dns::start(shared.clone(), generation.config.dns.clone())?;
        let reloads = crate::reload_history::ReloadHistory::default();
        reloads.record(generation.id, None);
        Ok(Arc::new(Host {
            runtime,
            shared,
            source,
            counters: HostCounters::default(),
            overload: Arc::default(),
            reloads,
            dns,
            current: RwLock::new(Arc::new(generation)),
            current_id: AtomicU64::new(1),
            last_error: Mutex::new(None),
            worker_error: Mutex::new(None),
            listeners: Mutex::new(Vec::new()),
            accepting_workers: AtomicUsize::new(1),
            workers: Mutex::new(Vec::new()),
            ready: AtomicBool::new(false),
            reload_lock: Mutex::new(()),
        }))
    }

    /// The generation serving now.
    pub fn current(&self) -> Arc<Generation> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Id of the generation serving now (an atomic load).
    pub fn current_id(&self) -> u64 {
        self.current_id.load(Ordering::Acquire)
    }

    /// Re-reads the configuration and swaps it in if all of it builds.
    pub fn reload(&self) -> Result<u64> {
        let _one_at_a_time = self.reload_lock.lock().unwrap_or_else(|e| e.into_inner());
        let result = self.try_reload();
        match &result {
            Ok(id) => {
                self.counters.reloads_ok.fetch_add(1, Ordering::Relaxed);
                self.reloads.record(*id, None);
                log::info!("reload: generation {id} is serving");
            }
            Err(e) => {
                self.counters.reloads_failed.fetch_add(1, Ordering::Relaxed);
                *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{e:#}"));
                self.reloads
                    .record(self.current_id(), Some(format!("{e:#}")));
                log::error!(
                    "reload rejected, generation {} keeps serving: {e:#}",
                    self.current_id()
                );
            }
        }
        result
    }

    fn try_reload(&self) -> Result<u64> {
        let config = self.source.load()?;
        let old = self.current();
        if config.admin.address != old.config.admin.address {
            bail!("admin.address changed; that needs a restart");
        }
        // New addresses are bound before anything else changes: a port in use rejects the reload.
        let workers = self.accepting_workers.load(Ordering::Acquire);
        let plan = ListenerPlan::make(&self.lock_listeners(), &config.listeners, workers)?;
        // Histograms the new plugins define while being built already get the new buckets.
        let previous_rules = (self.shared.metrics).set_bucket_rules(config.stats.bucket_rules());
        let built = Generation::build(old.id + 1, config, &self.runtime, &self.shared, Some(&old));
        let generation = match built {
            Ok(generation) => generation,
            Err(e) => {
                self.shared.metrics.set_bucket_rules(previous_rules);
                return Err(e);
            }
        };
        let id = generation.id;
        self.dns.configure(&generation.config.dns);
        // Cleared before the new generation shows: `/config` never pairs it with an old error.
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(generation);
        self.current_id.store(id, Ordering::Release);
        let stop = plan.stop.clone();
        let started = plan.apply(&mut self.lock_listeners());
        for (index, worker) in self
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .enumerate()
        {
            // The new generation first, so a new listener's first request finds it.
            let _ = worker.send(WorkerEvent::Refresh);
            if !started.is_empty() || !stop.is_empty() {
                let start = started
                    .iter()
                    .filter_map(|b| Some((b.name.clone(), b.socket_for(index).ok()?)))
                    .collect();
                let stop = stop.clone();
                let _ = worker.send(WorkerEvent::Listeners { start, stop });
            }
        }
        Ok(id)
    }

    /// A worker could not start generation `id` (it keeps serving the one it had): shown at
    /// `/config` while `id` is current.
    pub fn worker_failed(&self, id: u64, error: String) {
        *self.worker_error.lock().unwrap_or_else(|e| e.into_inner()) = Some((id, error));
    }

    /// Why a worker could not start the current generation, if one could not.
    pub fn worker_error(&self) -> Option<String> {
        let error = self.worker_error.lock().unwrap_or_else(|e| e.into_inner());
        error
            .as_ref()
            .filter(|(id, _)| *id == self.current_id())
            .map(|(_, message)| message.clone())
    }

    /// The last reload error, if the last reload failed.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops every worker so each VM's root context gets `on_done` and
    /// `on_delete`; waits at most `limit` for them.
    pub fn shutdown(&self, limit: std::time::Duration) {
        let (tx, rx) = std::sync::mpsc::channel();
        let workers = self
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for worker in &workers {
            let _ = worker.send(WorkerEvent::Shutdown(tx.clone()));
        }
        let deadline = std::time::Instant::now() + limit;
        for _ in &workers {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if rx.recv_timeout(left).is_err() {
                log::warn!("shutdown: a worker did not stop within {limit:?}");
                return;
            }
        }
    }

    /// Binds the first generation's listeners, a socket for each of `workers` workers (a
    /// failure names the listener and address).
    pub fn bind_listeners(&self, workers: usize) -> Result<()> {
        self.accepting_workers
            .store(workers.max(1), Ordering::Release);
        let config = self.current().config.clone();
        let bound = config
            .listeners
            .iter()
            .map(|listener| BoundListener::bind(listener, workers))
            .collect::<Result<Vec<_>>>()?;
        *self.lock_listeners() = bound;
        Ok(())
    }

    /// Worker `index`'s socket of every listener, for it starting up.
    pub fn listener_sockets(&self, index: usize) -> Result<Vec<(String, std::net::TcpListener)>> {
        self.lock_listeners()
            .iter()
            .map(|b| Ok((b.name.clone(), b.socket_for(index)?)))
            .collect()
    }

    /// Where listeners are bound (for `/listeners`).
    pub fn bound(&self) -> Vec<(String, SocketAddr)> {
        self.lock_listeners()
            .iter()
            .map(|b| (b.name.clone(), b.local))
            .collect()
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, Vec<BoundListener>> {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a worker's event channel.
    pub fn add_worker(&self, events: UnboundedSender<WorkerEvent>) {
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(events);
    }

    /// Marks the host ready (all workers serving).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// True once every worker serves.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
