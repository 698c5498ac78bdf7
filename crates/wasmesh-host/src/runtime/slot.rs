//! A plugin on one worker ([`PluginSlot`]): its root context in the [`WorkerVm`] it runs in
//! (its own, or one it shares with the plugins of the same VM key), and the effects its
//! callbacks asked for (timers, HTTP and gRPC calls), kept apart from the other plugins' in
//! the same VM.

use std::cell::{Cell, RefCell, RefMut};
use std::rc::Rc;
use std::sync::Arc;

use super::failures::VmFailureCounters;
use super::plugin::PluginFactory;
use super::vm::{PluginVm, VmFailure};
use super::worker_vm::WorkerVm;
use crate::error::StartError;
use crate::store::{Effects, QueueDispatch};

/// A plugin's root context in a VM on one worker.
pub struct PluginSlot {
    /// What the plugin is (its facts; the VM's module is the same).
    pub factory: Arc<PluginFactory>,
    /// The plugin's name in logs and host-side metrics ([`crate::plugin_info::PluginInfo::label`]).
    label: String,
    vm: Rc<WorkerVm>,
    /// Its root context in the VM's current generation (a rebuild starts a new one).
    root: Cell<u32>,
    /// What its callbacks asked for and the effects pump has not taken yet.
    effects: RefCell<Effects>,
    effects_ready: Rc<tokio::sync::Notify>,
}

impl PluginSlot {
    /// A plugin in a VM of its own, created now (an error means the plugin cannot start).
    pub fn new(
        factory: Arc<PluginFactory>,
        queue_waker: QueueDispatch,
        counters: Arc<VmFailureCounters>,
    ) -> Result<Rc<PluginSlot>, StartError> {
        let vm = WorkerVm::start(factory.clone(), queue_waker, counters)?;
        PluginSlot::join(&vm, factory)
    }

    /// Starts `factory`'s plugin in `vm` (a root context of its own there): Envoy's way with a
    /// plugin whose VM key matches a VM the worker runs. A failure in its start fails the VM.
    pub fn join(
        vm: &Rc<WorkerVm>,
        factory: Arc<PluginFactory>,
    ) -> Result<Rc<PluginSlot>, StartError> {
        let slot = Rc::new(PluginSlot {
            label: factory.info.label(),
            factory,
            vm: vm.clone(),
            root: Cell::new(0),
            effects: RefCell::new(Effects::default()),
            effects_ready: Rc::new(tokio::sync::Notify::new()),
        });
        // A VM that failed and waits for its rebuild starts the plugin's root with the others'.
        if let Some(mut live) = vm.live() {
            if let Err(e) = slot.start_in(&mut live) {
                if let StartError::Callback { failure, .. } = &e {
                    vm.fail(live, &slot.label, failure);
                }
                return Err(e);
            }
        }
        vm.add_member(&slot);
        Ok(slot)
    }

    /// Starts this plugin's root context in `vm` (a live VM, or one being rebuilt) and takes
    /// the effects its start asked for.
    pub(super) fn start_in(&self, vm: &mut PluginVm) -> Result<(), StartError> {
        let root = vm
            .start_root(self.factory.info.clone())
            .map_err(|e| e.for_plugin(self.label.clone()))?;
        self.root.set(root);
        self.keep_effects(vm);
        Ok(())
    }

    /// Its root context in the VM's current generation.
    pub fn root(&self) -> u32 {
        self.root.get()
    }

    /// Current VM generation.
    pub fn generation(&self) -> u64 {
        self.vm.generation()
    }

    /// The plugin's name for logs and host-side metrics (`<name>@canary` for a canary).
    pub fn name(&self) -> &str {
        &self.label
    }

    /// Runs `f` on the VM for this plugin (its root entered) when one is up, rebuilding a
    /// failed one if its backoff has passed. `None` when no VM is available; `Some(Err)` when
    /// `f` failed, after which the VM is torn down for every plugin in it.
    pub fn with_vm<R>(
        &self,
        f: impl FnOnce(&mut PluginVm) -> Result<R, VmFailure>,
    ) -> Option<Result<R, VmFailure>> {
        let mut vm = self.vm.live()?;
        if !vm.state().enter(self.root.get()) {
            return None;
        }
        let result = f(&mut vm);
        match &result {
            Ok(_) => self.keep_effects(&mut vm),
            Err(failure) => self.vm.fail(vm, &self.label, failure),
        }
        Some(result)
    }

    /// Like [`PluginSlot::with_vm`] but only on the VM of `generation`.
    pub fn with_vm_of<R>(
        &self,
        generation: u64,
        f: impl FnOnce(&mut PluginVm) -> Result<R, VmFailure>,
    ) -> Option<Result<R, VmFailure>> {
        if generation != self.vm.generation() || self.vm.vm.borrow().is_none() {
            return None;
        }
        self.with_vm(f)
    }

    /// Moves what this plugin's callbacks asked of the VM into its own effects, and wakes its
    /// pump. Most callbacks ask for nothing: looked at in place then, not taken and dropped.
    fn keep_effects(&self, vm: &mut PluginVm) {
        if vm.state().effects.is_empty() {
            return;
        }
        let effects = vm.take_effects();
        self.effects.borrow_mut().merge(effects);
        self.effects_ready.notify_one();
    }

    /// A stream spent more than `limits.request_cpu_ms` in this plugin: count it.
    pub fn request_cpu_exceeded(&self) {
        self.vm.counters().request_cpu_exceeded.inc(self.name());
    }

    /// A request went through this VM without failure: reset the backoff.
    pub fn mark_healthy(&self) {
        self.vm.mark_healthy();
    }

    /// Woken when callbacks left effects (timers, HTTP calls, gRPC commands) to apply.
    pub fn effects_ready(&self) -> Rc<tokio::sync::Notify> {
        self.effects_ready.clone()
    }

    /// Takes the effects the last callbacks asked for.
    pub fn take_effects(&self) -> Effects {
        std::mem::take(&mut *self.effects.borrow_mut())
    }
}

impl Drop for PluginSlot {
    /// The plugin leaves its VM: its root context is told it is done (`on_done`, `on_delete`);
    /// the VM goes with the last plugin in it.
    fn drop(&mut self) {
        let Ok(mut guard) = self.vm.vm.try_borrow_mut() else {
            return;
        };
        let Some(vm) = guard.as_mut() else { return };
        let Err(failure) = vm.end_root(self.root.get()) else {
            return;
        };
        log::warn!(
            "plugin {:?}: shutting its root context down: {failure}",
            self.label
        );
        // The plugins still in the VM must not run on in a VM that failed.
        if self.vm.has_members() {
            if let Ok(vm) = RefMut::filter_map(guard, Option::as_mut) {
                self.vm.fail(vm, &self.label, &failure);
            }
        }
    }
}
