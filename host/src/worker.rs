//! Worker threads, as in Envoy: each has its own current-thread runtime and
//! its own instance of every plugin (one for the plugins that share a VM key), so a request
//! never leaves its thread and no VM is shared between threads. The locks a request can meet guard the process-wide stores (shared data, queues, a
//! metric's first definition) and its connection's activity clocks, which only its worker
//! touches.
//! A worker builds its local copy of the current generation and swaps to a
//! newer one when the host announces it. Singleton plugins (in no listener) get one VM in
//! the process, on worker 0, whose root context runs their ticks, queues and http calls.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;

use crate::events::WorkerEvent;
use crate::host::{Generation, Host};
use crate::singletons::{self, SINGLETON_WORKER};
use wasmesh_host::chain::ChainEntry;
use wasmesh_host::runtime::{PluginFactory, PluginSlot, VmKey, WorkerVm};
use wasmesh_proxy::{route_names, ListenerLocal, WorkerView};
use wasmesh_proxy::{PumpUpstreams, Upstreams};

struct LocalGeneration {
    id: u64,
    listeners: HashMap<String, Rc<ListenerLocal>>,
    /// The singleton plugins' slots (on [`SINGLETON_WORKER`] only): no listener's chain holds
    /// them, so this does, for as long as the generation serves here.
    singletons: Vec<Rc<PluginSlot>>,
    /// Every slot it runs, by plugin name (a canary's as `<name>@canary`), so the next
    /// generation keeps those whose factory it keeps.
    running: HashMap<String, Running>,
    /// Its clusters, whose unchanged ones the next generation keeps with their pools.
    upstreams: Rc<Upstreams>,
}

/// A slot and the clusters its effects pump sends calls to.
#[derive(Clone)]
struct Running {
    slot: Rc<PluginSlot>,
    pump: PumpUpstreams,
}

/// One worker thread's state.
pub struct Worker {
    host: Arc<Host>,
    /// Position among the workers (0-based).
    index: usize,
    events: UnboundedSender<WorkerEvent>,
    local: RefCell<Option<Rc<LocalGeneration>>>,
    /// The VMs it runs, by the number their queue wake-ups name.
    vms: RefCell<HashMap<u64, Weak<WorkerVm>>>,
    /// The same VMs by what a plugin must have to join one (its VM key, and whether it is a
    /// singleton: Envoy runs singletons on its main thread, apart from the workers' VMs).
    vm_keys: RefCell<HashMap<(VmKey, bool), u64>>,
    /// Stop signals of the listeners this worker accepts on, by name.
    accepting: RefCell<HashMap<String, watch::Sender<bool>>>,
}

static NEXT_VM: AtomicU64 = AtomicU64::new(1);

impl WorkerView for Worker {
    fn count_request(&self) {
        self.host.counters.requests.increment(self.index);
    }

    fn overload(&self) -> &Arc<wasmesh_proxy::overload::Overload> {
        &self.host.overload
    }

    fn listener(&self, name: &str) -> Option<Rc<ListenerLocal>> {
        let local = self.local.borrow();
        local.as_ref()?.listeners.get(name).cloned()
    }
}

impl Worker {
    /// Builds the host's current generation locally if it is newer. Only on the host's
    /// `Refresh` event, never on a request's path: building a generation instantiates every
    /// plugin, which no request should wait for.
    fn refresh(&self) {
        let current_id = self.host.current_id();
        if self
            .local
            .borrow()
            .as_ref()
            .is_some_and(|l| l.id == current_id)
        {
            return;
        }
        let generation = self.host.current();
        match self.build(&generation) {
            Ok(mut local) => {
                self.carry_draining(&mut local);
                *self.local.borrow_mut() = Some(Rc::new(local));
            }
            Err(e) => {
                log::error!("worker could not start generation {}: {e:#}", generation.id);
                self.host.worker_failed(generation.id, format!("{e:#}"));
                // Remember the failure (under the new id, with the old listeners) so a later
                // Refresh for the same generation does not build it again.
                let mut slot = self.local.borrow_mut();
                if let Some(old) = slot.as_ref() {
                    *slot = Some(Rc::new(LocalGeneration {
                        id: generation.id,
                        listeners: old.listeners.clone(),
                        singletons: old.singletons.clone(),
                        running: old.running.clone(),
                        upstreams: old.upstreams.clone(),
                    }));
                }
            }
        }
    }

    /// A listener the new generation removed may still get a request on a connection that
    /// has not seen the stop yet: until this worker stops accepting on it, it keeps the old
    /// listener, so that request is served by the chain it was accepted for.
    fn carry_draining(&self, local: &mut LocalGeneration) {
        let old = self.local.borrow();
        let Some(old) = old.as_ref() else { return };
        let accepting = self.accepting.borrow();
        for (name, listener) in &old.listeners {
            if !local.listeners.contains_key(name) && accepting.contains_key(name) {
                local.listeners.insert(name.clone(), listener.clone());
            }
        }
    }

    /// Starts accepting on `socket` for listener `name`.
    fn start_listener(self: &Rc<Self>, name: String, socket: std::net::TcpListener) -> Result<()> {
        socket.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(socket)?;
        let (stop_tx, stop_rx) = watch::channel(false);
        if let Some(previous) = self.accepting.borrow_mut().insert(name.clone(), stop_tx) {
            let _ = previous.send(true);
        }
        tokio::task::spawn_local(wasmesh_proxy::accept_loop(
            listener,
            self.clone() as Rc<dyn WorkerView>,
            name.into(),
            stop_rx,
        ));
        Ok(())
    }

    /// Stops accepting on listener `name`; its connections finish what they serve and close.
    fn stop_listener(&self, name: &str) {
        if let Some(stop) = self.accepting.borrow_mut().remove(name) {
            let _ = stop.send(true);
        }
    }

    fn build(&self, generation: &Generation) -> Result<LocalGeneration> {
        let previous = self.local.borrow().clone();
        let upstreams = Rc::new(Upstreams::new(
            &generation.config.clusters,
            &self.host.overload,
            &self.host.shared,
            &generation.upstream_tls,
            previous.as_ref().map(|p| &*p.upstreams),
        ));
        let mut running = HashMap::new();
        // A plugin whose factory the generation kept keeps its slot here: the same VM, its
        // memory and root context, its ticks (its pump is pointed at the new clusters once the
        // whole generation is built).
        let mut slot_for = |key: String,
                            factory: &Arc<PluginFactory>,
                            singleton: bool|
         -> Result<(Rc<PluginSlot>, bool)> {
            let kept = previous
                .as_ref()
                .and_then(|p| p.running.get(&key))
                .filter(|r| Arc::ptr_eq(&r.slot.factory, factory))
                .cloned();
            let (entry, is_new) = match kept {
                Some(kept) => (kept, false),
                None => (self.start_slot(factory, &upstreams, singleton)?, true),
            };
            let slot = entry.slot.clone();
            running.insert(key, entry);
            Ok((slot, is_new))
        };
        let singleton_names = generation.config.singletons();
        let mut slots: HashMap<String, Rc<PluginSlot>> = HashMap::new();
        let mut singletons = Vec::new();
        // In the configuration's order, as Envoy starts them: the plugins sharing a VM get
        // their root contexts in that order.
        let factories = (generation.config.plugins.iter())
            .filter_map(|p| Some((&p.name, generation.factories.get(&p.name)?)));
        for (name, factory) in factories {
            let singleton = singleton_names.contains(&name.as_str());
            if singleton && self.index != SINGLETON_WORKER {
                continue;
            }
            let (slot, is_new) = slot_for(name.clone(), factory, singleton)
                .with_context(|| format!("starting plugin {name:?}"))?;
            if singleton {
                // Kept up once: a slot kept from a generation where it was a singleton already
                // is (one that was in a listener before is not).
                let kept_up = !is_new
                    && previous
                        .as_ref()
                        .is_some_and(|p| p.singletons.iter().any(|s| Rc::ptr_eq(s, &slot)));
                if !kept_up {
                    singletons::keep_up(&slot);
                }
                singletons.push(slot);
            } else {
                slots.insert(name.clone(), slot);
            }
        }
        let mut canaries = HashMap::new();
        for (name, canary) in &generation.canaries {
            let (slot, _) = slot_for(format!("{name}@canary"), &canary.factory, false)
                .with_context(|| format!("starting plugin {name:?}'s canary"))?;
            canaries.insert(name.clone(), (slot, canary.rollout.clone()));
        }
        for kept in running.values() {
            kept.pump.retarget(upstreams.clone());
        }
        self.forget_gone_vms();
        let listeners = generation
            .config
            .listeners
            .iter()
            .map(|l| {
                let chain = l
                    .filters
                    .iter()
                    .filter_map(|f| {
                        let stable = slots.get(f)?.clone();
                        let canary = canaries.get(f).cloned();
                        Some(ChainEntry { stable, canary })
                    })
                    .collect();
                let local = ListenerLocal {
                    config: l.clone(),
                    chain,
                    upstreams: upstreams.clone(),
                    tls: generation.tls.get(&l.name).cloned(),
                    access_log: generation.access_logs.get(&l.name).cloned(),
                    route_names: route_names(l),
                };
                (l.name.clone(), Rc::new(local))
            })
            .collect();
        Ok(LocalGeneration {
            id: generation.id,
            listeners,
            singletons,
            running,
            upstreams,
        })
    }

    /// `factory`'s plugin on this worker, its effects pumped: in the VM this worker runs for
    /// its VM key when there is one (Envoy's VM sharing), else in a new one.
    fn start_slot(
        &self,
        factory: &Arc<PluginFactory>,
        upstreams: &Rc<Upstreams>,
        singleton: bool,
    ) -> Result<Running> {
        let key = factory.vm_key().map(|key| (key, singleton));
        let running = key
            .as_ref()
            .and_then(|key| self.vm_keys.borrow().get(key).copied())
            .and_then(|id| self.vms.borrow().get(&id).and_then(Weak::upgrade));
        let vm = match running {
            Some(vm) => vm,
            None => {
                let id = NEXT_VM.fetch_add(1, Ordering::Relaxed);
                let events = self.events.clone();
                let waker = Arc::new(move |root, queue| {
                    let _ = events.send(WorkerEvent::QueueReady {
                        vm: id,
                        root,
                        queue,
                    });
                });
                let counters = self.host.counters.vms.clone();
                let vm = WorkerVm::start(factory.clone(), waker, counters)?;
                self.vms.borrow_mut().insert(id, Rc::downgrade(&vm));
                if let Some(key) = key {
                    self.vm_keys.borrow_mut().insert(key, id);
                }
                vm
            }
        };
        let slot = PluginSlot::join(&vm, factory.clone())?;
        let pump = wasmesh_proxy::start_pump(&slot, upstreams.clone());
        Ok(Running { slot, pump })
    }

    /// Forgets the VMs no plugin runs in any more.
    fn forget_gone_vms(&self) {
        let mut vms = self.vms.borrow_mut();
        vms.retain(|_, vm| vm.strong_count() > 0);
        self.vm_keys
            .borrow_mut()
            .retain(|_, id| vms.contains_key(id));
    }

    fn deliver(self: &Rc<Self>, event: WorkerEvent) {
        match event {
            WorkerEvent::Shutdown(_) => {}
            WorkerEvent::Refresh => self.refresh(),
            WorkerEvent::Listeners { start, stop } => {
                for name in &stop {
                    self.stop_listener(name);
                }
                for (name, socket) in start {
                    if let Err(e) = self.start_listener(name.clone(), socket) {
                        log::error!("listener {name:?}: cannot accept: {e:#}");
                    }
                }
            }
            WorkerEvent::QueueReady { vm, root, queue } => {
                let vm = self.vms.borrow().get(&vm).and_then(Weak::upgrade);
                if let Some(vm) = vm {
                    vm.deliver_queue_ready(root, queue);
                }
            }
        }
    }
}

/// Starts `count` workers serving the host's listeners; returns once every one serves.
pub fn spawn(host: Arc<Host>, count: usize) -> Result<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    for index in 0..count {
        let host = host.clone();
        let ready = ready_tx.clone();
        let sockets = host.listener_sockets(index)?;
        let (events_tx, events_rx) = unbounded_channel();
        host.add_worker(events_tx.clone());
        std::thread::Builder::new()
            .name(format!("wasmesh-worker-{index}"))
            .spawn(move || run(host, index, sockets, events_tx, events_rx, ready))?;
    }
    drop(ready_tx);
    for _ in 0..count {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => anyhow::bail!("a worker failed to start: {e}"),
            Err(_) => anyhow::bail!("a worker exited during start"),
        }
    }
    Ok(())
}

fn run(
    host: Arc<Host>,
    index: usize,
    sockets: Vec<(String, std::net::TcpListener)>,
    events_tx: UnboundedSender<WorkerEvent>,
    mut events: UnboundedReceiver<WorkerEvent>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    // A local runtime rather than a `LocalSet` in a current-thread runtime: a `LocalSet`'s
    // task woken by the I/O driver wakes the set through the runtime's unpark, one eventfd
    // write and one more `epoll_wait` per request; here `spawn_local` tasks are the runtime's.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build_local(tokio::runtime::LocalOptions::default())
    {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    let acknowledge = runtime.block_on(async move {
        let worker = Rc::new(Worker {
            host,
            index,
            events: events_tx,
            local: RefCell::new(None),
            vms: RefCell::new(HashMap::new()),
            vm_keys: RefCell::new(HashMap::new()),
            accepting: RefCell::new(HashMap::new()),
        });
        let generation = worker.host.current();
        match worker.build(&generation) {
            Ok(l) => *worker.local.borrow_mut() = Some(Rc::new(l)),
            Err(e) => {
                let _ = ready.send(Err(format!("{e:#}")));
                return None;
            }
        }
        for (name, socket) in sockets {
            if let Err(e) = worker.start_listener(name.clone(), socket) {
                let _ = ready.send(Err(format!("listener {name}: {e:#}")));
                return None;
            }
        }
        let _ = ready.send(Ok(()));
        while let Some(event) = events.recv().await {
            if let WorkerEvent::Shutdown(acknowledge) = event {
                worker.local.borrow_mut().take();
                return Some(acknowledge);
            }
            worker.deliver(event);
        }
        None
    });
    // Dropping the runtime drops in-flight streams and with them the last
    // references to the plugin slots, whose VMs then get their root `on_done`.
    drop(runtime);
    if let Some(acknowledge) = acknowledge {
        let _ = acknowledge.send(());
    }
}
