//! Plugins sharing one VM (`members.wat`): a root context each, effects kept apart, one
//! failure fails the VM for all and the rebuild starts every root again, a plugin that leaves
//! ends only its root, queue wake-ups reach the root that registered, a call made from another
//! plugin's context is answered in that plugin's root.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::WorkerVm;
use crate::plugin_info::PluginInfo;
use crate::runtime::failures::VmFailureCounters;
use crate::runtime::{PluginFactory, PluginSlot, Runtime, VmFailure};
use crate::state::SharedState;

const VM_ID: &str = "members";

/// One VM with a plugin per `(name, configuration)`, in that order.
struct Shared {
    vm: Rc<WorkerVm>,
    slots: Vec<Rc<PluginSlot>>,
    shared: Arc<SharedState>,
    counters: Arc<VmFailureCounters>,
}

fn shared_vm(plugins: &[(&str, &str)]) -> Shared {
    let runtime = Runtime::new().expect("the engine starts");
    let wasm = wat::parse_str(include_str!("members.wat")).expect("members.wat assembles");
    let module = (runtime.compile(&wasm, "members.wat")).expect("it compiles");
    let shared = SharedState::new();
    let counters = Arc::new(VmFailureCounters::default());
    let factory = |name: &str, configuration: &str| {
        let info = PluginInfo {
            name: name.into(),
            root_id: name.into(),
            vm_id: VM_ID.into(),
            vm_config: Vec::new(),
            configuration: configuration.as_bytes().to_vec(),
            fail_open: false,
            memory_bytes: 16 << 20,
            callback_time: Duration::from_secs(1),
            request_cpu: None,
            clusters: Arc::new(vec!["c".to_string()]),
            version: None,
        };
        PluginFactory::from_module(&runtime, shared.clone(), &module, info).expect("it links")
    };
    let first = factory(plugins[0].0, plugins[0].1);
    let vm = WorkerVm::start(first, Arc::new(|_, _| {}), counters.clone()).expect("it starts");
    let slots = plugins
        .iter()
        .map(|(name, configuration)| {
            PluginSlot::join(&vm, factory(name, configuration)).expect("the plugin starts")
        })
        .collect();
    Shared {
        vm,
        slots,
        shared,
        counters,
    }
}

/// What the VM runs for `slot`: the root entered, the plugin's name, how many roots it holds.
fn running_for(slot: &PluginSlot) -> (u32, String, usize) {
    let seen = slot.with_vm(|vm| {
        let root = vm.root_context();
        let state = vm.state();
        Ok((root, state.plugin.name.clone(), state.roots.len()))
    });
    seen.expect("a VM is up").expect("nothing failed")
}

fn failure() -> VmFailure {
    VmFailure {
        reason: "a test failure".into(),
        kind: "trap",
    }
}

#[test]
fn each_plugin_runs_in_a_root_of_its_own_with_effects_of_its_own() {
    let vm = shared_vm(&[("ticking", "tick"), ("quiet", "no")]);
    let [ticking, quiet] = [&vm.slots[0], &vm.slots[1]];
    assert_ne!(ticking.root(), quiet.root());
    assert_eq!(running_for(ticking), (ticking.root(), "ticking".into(), 2));
    assert_eq!(running_for(quiet), (quiet.root(), "quiet".into(), 2));
    assert_eq!(
        ticking.take_effects().tick_period,
        Some(Duration::from_secs(1)),
        "the tick asked for in ticking's on_configure is ticking's"
    );
    assert_eq!(quiet.take_effects().tick_period, None);
}

#[test]
fn a_failure_fails_the_vm_for_every_plugin_and_the_rebuild_starts_every_root() {
    let vm = shared_vm(&[("ticking", "tick"), ("quiet", "no")]);
    let [ticking, quiet] = [&vm.slots[0], &vm.slots[1]];
    let before = ticking.generation();
    ticking.take_effects();
    let failed = quiet.with_vm(|_| Err::<(), _>(failure()));
    assert!(
        matches!(failed, Some(Err(_))),
        "the callback's failure is answered"
    );
    assert_eq!(
        vm.counters.total.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(
        ticking.with_vm_of(before, |_| Ok(())).is_none(),
        "ticking's contexts were in the failed VM too"
    );
    assert_eq!(ticking.generation(), quiet.generation());
    // The first failure is rebuilt at the next use, whichever plugin uses it.
    let (root, name, roots) = running_for(ticking);
    assert_eq!((root, name.as_str(), roots), (ticking.root(), "ticking", 2));
    assert_ne!(ticking.root(), quiet.root());
    assert_eq!(running_for(quiet).1, "quiet");
    assert_eq!(
        vm.counters
            .rebuilt
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        ticking.take_effects().tick_period,
        Some(Duration::from_secs(1)),
        "the rebuilt root's on_configure asked for its tick again"
    );
}

#[test]
fn a_plugin_that_leaves_ends_only_its_root() {
    let mut vm = shared_vm(&[("staying", "no"), ("leaving", "no")]);
    let leaving = vm.slots.pop().expect("two plugins");
    let root = leaving.root();
    drop(leaving);
    let staying = &vm.slots[0];
    assert_eq!(running_for(staying), (staying.root(), "staying".into(), 1));
    let gone = staying.with_vm(|vm| Ok(vm.state().roots.contains_key(&root)));
    assert!(!gone.expect("a VM").expect("no failure"));
    assert_eq!(
        vm.counters.total.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

#[test]
fn queue_wake_ups_reach_the_root_that_registered_the_queue() {
    let vm = shared_vm(&[("first", "no"), ("second", "no")]);
    let second = &vm.slots[1];
    let readied = || {
        let value = vm.shared.shared_data.get(VM_ID, b"queue-ready");
        value.map(|(bytes, _)| u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")))
    };
    vm.vm.deliver_queue_ready(second.root() + 100, 1);
    assert_eq!(readied(), None, "a root the VM does not have gets nothing");
    vm.vm.deliver_queue_ready(second.root(), 1);
    assert_eq!(readied(), Some(second.root()));
}

#[test]
fn a_call_made_from_another_plugins_context_is_answered_in_that_plugins_root() {
    let vm = shared_vm(&[("caller", "no"), ("other", "no")]);
    let [caller, other] = [&vm.slots[0], &vm.slots[1]];
    assert_eq!(
        (caller.root(), other.root()),
        (1, 2),
        "the module's tick expects these"
    );
    caller.take_effects();
    // The caller's tick moves to context 2 (the other plugin's root) and calls from there.
    let ticked = caller.with_vm(|vm| vm.deliver_tick());
    assert!(matches!(ticked, Some(Ok(()))));
    let calls = caller.take_effects().http_calls;
    assert_eq!(calls.len(), 1, "the caller's pump sends it");
    assert_eq!(
        calls[0].context_id,
        other.root(),
        "made in the other plugin's root"
    );
    let token = calls[0].token;
    let delivered = caller.with_vm(|vm| {
        vm.deliver_call_response(token, other.root(), crate::store::CallResponse::default())
    });
    assert!(matches!(delivered, Some(Ok(()))));
    let answered = vm.shared.shared_data.get(VM_ID, b"call-answered");
    let answered = answered.map(|(bytes, _)| u32::from_le_bytes(bytes[..4].try_into().expect("4")));
    assert_eq!(
        answered,
        Some(other.root()),
        "the other plugin's root got the answer"
    );
    assert_eq!(
        running_for(caller).1,
        "caller",
        "and the caller's plugin runs again after"
    );
}

/// The memory gauge of every plugin sharing the VM follows a growth in any one's callback.
#[test]
fn a_memory_growth_shows_in_the_gauge_of_every_plugin_of_the_vm() {
    let vm = shared_vm(&[("first", "no"), ("grower", "no")]);
    let [first, grower] = [&vm.slots[0], &vm.slots[1]];
    let gauges = || {
        let mut text = String::new();
        vm.shared.costs.render(&mut text);
        let gauge = |plugin: &str| {
            let prefix = format!("wasmesh_plugin_memory_bytes{{plugin=\"{plugin}\"}} ");
            text.lines()
                .find_map(|line| line.strip_prefix(&prefix)?.parse::<u64>().ok())
        };
        (gauge("first"), gauge("grower"))
    };
    let ticked = first.with_vm(|vm| vm.deliver_tick());
    assert!(matches!(ticked, Some(Ok(()))));
    assert_eq!(
        gauges().0,
        Some(65536),
        "one page, shown at first's first callback"
    );
    let ticked = grower.with_vm(|vm| vm.deliver_tick());
    assert!(
        matches!(ticked, Some(Ok(()))),
        "grower's tick grows the memory a page"
    );
    assert_eq!(gauges(), (Some(131072), Some(131072)));
}
