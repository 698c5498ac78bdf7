use std::sync::atomic::AtomicBool;

use super::*;
use crate::state::metrics::tests::render;

#[test]
fn every_vms_counts_add_up_and_outlive_the_vm() {
    let registry = Registry::default();
    let c = registry.define("reqs", MetricKind::Counter);
    let h = registry.define("lat", MetricKind::Histogram);
    let (mut a, mut b) = (MetricCells::default(), MetricCells::default());
    a.increment(&registry, c, 2).unwrap();
    b.increment(&registry, c, 3).unwrap();
    a.record(&registry, h, 3).unwrap();
    b.record(&registry, h, 700).unwrap();
    registry.get(c).unwrap().increment(1).unwrap(); // the host's own, into the shared value
    assert_eq!(a.get(&registry, c), Ok(6));
    drop(a);
    assert_eq!(b.get(&registry, c), Ok(6), "a VM's counts outlive it");
    let text = render(&registry);
    assert!(text.contains("reqs 6\n"), "{text}");
    assert!(text.contains("lat_bucket{le=\"5\"} 1\n"), "{text}");
    assert!(text.contains("lat_bucket{le=\"1000\"} 2\n"), "{text}");
    assert!(text.contains("lat_sum 703\n"), "{text}");
    assert!(text.contains("lat_count 2\n"), "{text}");
    drop(b);
    assert!(render(&registry).contains("reqs 6\n"));
    assert_eq!(registry.get(h).unwrap().samples(), (2, 703));
}

#[test]
fn updates_answer_as_envoy_does() {
    let registry = Registry::default();
    let c = registry.define("c", MetricKind::Counter);
    let g = registry.define("g", MetricKind::Gauge);
    let h = registry.define("h", MetricKind::Histogram);
    let mut vm = MetricCells::default();
    assert_eq!(vm.increment(&registry, c, 0), Err(MetricError::BadArgument));
    assert_eq!(
        vm.increment(&registry, c, -1),
        Err(MetricError::BadArgument)
    );
    vm.increment(&registry, c, 1).unwrap();
    vm.record(&registry, c, 4).unwrap();
    assert_eq!(vm.get(&registry, c), Ok(5), "recording adds to a counter");
    vm.record(&registry, g, 10).unwrap();
    vm.increment(&registry, g, -3).unwrap();
    assert_eq!(vm.get(&registry, g), Ok(7));
    assert_eq!(vm.increment(&registry, h, 1), Err(MetricError::BadArgument));
    assert_eq!(vm.get(&registry, h), Err(MetricError::BadArgument));
    assert_eq!(vm.get(&registry, 99), Err(MetricError::NotFound));
    assert_eq!(vm.record(&registry, 99, 1), Err(MetricError::NotFound));
}

#[test]
fn a_vm_past_its_slots_records_into_the_shared_value() {
    let registry = Registry::default();
    let mut vm = MetricCells::default();
    let ids: Vec<u32> = (0..MAX_SLOTS + 10)
        .map(|i| registry.define(&format!("c{i}"), MetricKind::Counter))
        .collect();
    for &id in &ids {
        vm.increment(&registry, id, 2).unwrap();
    }
    assert_eq!(vm.blocks.taken, MAX_SLOTS);
    let last = *ids.last().unwrap();
    assert!(registry.get(last).unwrap().parts.lock().is_empty());
    assert_eq!(vm.get(&registry, last), Ok(2));
    assert_eq!(vm.get(&registry, ids[0]), Ok(2));
}

/// A scrape never sees a counter go down while VMs come and go (a VM's part is folded into the
/// metric under the lock a scrape sums under): Prometheus would read a drop as a reset.
#[test]
fn totals_never_go_down_while_vms_leave() {
    let registry = Arc::new(Registry::default());
    let c = registry.define("reqs", MetricKind::Counter);
    let done = Arc::new(AtomicBool::new(false));
    let scraper = {
        let (registry, done) = (Arc::clone(&registry), Arc::clone(&done));
        std::thread::spawn(move || {
            let metric = registry.get(c).unwrap();
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let now = metric.get().unwrap();
                assert!(now >= last, "{now} after {last}");
                last = now;
            }
        })
    };
    for _ in 0..2000 {
        let mut vm = MetricCells::default();
        for _ in 0..5 {
            vm.increment(&registry, c, 1).unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    scraper.join().unwrap();
    assert_eq!(registry.get(c).unwrap().get(), Ok(10_000));
}
