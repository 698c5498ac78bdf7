//! One instance of a module on one worker ([`WorkerVm`]), which the plugins sharing it
//! ([`PluginFactory::vm_key`]) run in, each with a root context of its own (its
//! [`PluginSlot`]). It is rebuilt after a failure with backoff, so a module that keeps
//! crashing is not rebuilt in a hot loop; a rebuild starts every plugin's root again.

use std::cell::{Cell, RefCell, RefMut};
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::failures::VmFailureCounters;
use super::plugin::PluginFactory;
use super::slot::PluginSlot;
use super::vm::{PluginVm, VmFailure};
use crate::error::StartError;
use crate::store::QueueDispatch;

/// Shortest and longest wait before rebuilding a VM that keeps failing.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A module's instance on one worker, with the plugins that run in it and its rebuild policy.
pub struct WorkerVm {
    /// What it is instantiated from: the first plugin's factory (every plugin in it has the
    /// same module, VM configuration and limits).
    factory: Arc<PluginFactory>,
    pub(super) vm: RefCell<Option<PluginVm>>,
    /// Bumped when the VM is replaced, so contexts of an older VM are recognised.
    generation: Cell<u64>,
    consecutive_failures: Cell<u32>,
    retry_at: Cell<Option<Instant>>,
    queue_waker: QueueDispatch,
    counters: Arc<VmFailureCounters>,
    /// The plugins running in it, in the order they joined (a rebuild starts their roots in
    /// that order).
    members: RefCell<Vec<Weak<PluginSlot>>>,
}

impl WorkerVm {
    /// Instantiates `factory`'s module (start function included), with no plugin in it yet.
    pub fn start(
        factory: Arc<PluginFactory>,
        queue_waker: QueueDispatch,
        counters: Arc<VmFailureCounters>,
    ) -> Result<Rc<WorkerVm>, StartError> {
        let vm = factory.instantiate_module(queue_waker.clone())?;
        Ok(Rc::new(WorkerVm {
            factory,
            vm: RefCell::new(Some(vm)),
            generation: Cell::new(1),
            consecutive_failures: Cell::new(0),
            retry_at: Cell::new(None),
            queue_waker,
            counters,
            members: RefCell::new(Vec::new()),
        }))
    }

    /// Current VM generation.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// What counts its failures.
    pub(super) fn counters(&self) -> &Arc<VmFailureCounters> {
        &self.counters
    }

    /// Whether any plugin still runs in it.
    pub(super) fn has_members(&self) -> bool {
        self.members.borrow().iter().any(|m| m.strong_count() > 0)
    }

    pub(super) fn add_member(&self, slot: &Rc<PluginSlot>) {
        let mut members = self.members.borrow_mut();
        members.retain(|m| m.strong_count() > 0);
        members.push(Rc::downgrade(slot));
    }

    /// Delivers `proxy_on_queue_ready` for `queue` to the plugin whose root context `root`
    /// registered it (none: the root is gone, or belonged to a VM since rebuilt).
    pub fn deliver_queue_ready(&self, root: u32, queue: u32) {
        let member = self
            .members
            .borrow()
            .iter()
            .filter_map(Weak::upgrade)
            .find(|m| m.root() == root);
        if let Some(member) = member {
            let _ = member.with_vm(|vm| vm.deliver_queue_ready(queue));
        }
    }

    /// The live VM, rebuilt first when it failed and its backoff has passed; `None` while
    /// there is none.
    pub(super) fn live(&self) -> Option<RefMut<'_, PluginVm>> {
        self.ensure_vm();
        RefMut::filter_map(self.vm.borrow_mut(), Option::as_mut).ok()
    }

    /// `plugin`'s callback failed the VM: it is torn down (every plugin's streams on it take
    /// their fail outcome) and rebuilt at the next use once its backoff has passed.
    pub(super) fn fail(&self, mut vm: RefMut<'_, PluginVm>, plugin: &str, failure: &VmFailure) {
        log::error!("plugin {plugin:?}: VM failed, it will be rebuilt: {failure}");
        self.counters.record(plugin, failure.kind);
        for stream in vm.state().streams.values() {
            stream.wake();
        }
        drop(vm);
        self.vm.borrow_mut().take();
        let failures = self.consecutive_failures.get() + 1;
        self.consecutive_failures.set(failures);
        let backoff = BACKOFF_MIN
            .saturating_mul(1 << failures.min(16).saturating_sub(1))
            .min(BACKOFF_MAX);
        self.retry_at.set(Some(
            Instant::now()
                + if failures <= 1 {
                    Duration::ZERO
                } else {
                    backoff
                },
        ));
        self.generation.set(self.generation.get() + 1);
    }

    /// A request went through this VM without failure: reset the backoff.
    pub fn mark_healthy(&self) {
        self.consecutive_failures.set(0);
    }

    fn ensure_vm(&self) {
        if self.vm.borrow().is_some() {
            return;
        }
        if let Some(at) = self.retry_at.get() {
            if Instant::now() < at {
                return;
            }
        }
        let members: Vec<Rc<PluginSlot>> = (self.members.borrow().iter())
            .filter_map(Weak::upgrade)
            .collect();
        match self.rebuild(&members) {
            Ok(vm) => {
                self.counters.rebuilt.fetch_add(1, Ordering::Relaxed);
                for member in &members {
                    log::info!("plugin {:?}: VM rebuilt", member.name());
                    (self.counters.rebuilt_by_plugin).inc(member.name());
                }
                *self.vm.borrow_mut() = Some(vm);
                self.retry_at.set(None);
            }
            Err(e) => {
                let failures = self.consecutive_failures.get() + 1;
                self.consecutive_failures.set(failures);
                let backoff = BACKOFF_MIN
                    .saturating_mul(1 << failures.min(16))
                    .min(BACKOFF_MAX);
                log::error!("rebuilding a VM failed, next try in {backoff:?}: {e:#}");
                self.retry_at.set(Some(Instant::now() + backoff));
            }
        }
    }

    /// A new instance with every member's root started again, in the order they joined.
    fn rebuild(&self, members: &[Rc<PluginSlot>]) -> Result<PluginVm, StartError> {
        let mut vm = self.factory.instantiate_module(self.queue_waker.clone())?;
        for member in members {
            member.start_in(&mut vm)?;
        }
        Ok(vm)
    }
}

#[cfg(test)]
mod tests;
