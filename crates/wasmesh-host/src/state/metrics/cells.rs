//! A VM's own cells for the counters and histograms it records, summed with every other VM's at
//! a scrape: Envoy's thread-local stats, per VM. A worker's VMs run on that worker's thread only,
//! so a cell has one writer, and an update is a plain load and store on a cache line no other
//! worker writes (one atomic shared by every worker bounced its line between their cores on
//! every request, for every counter a filter bumps).
//!
//! Gauges stay shared atomics: a gauge is *set*, and a set cannot be split into parts to sum
//! (Envoy's gauges are shared too). A VM that has used [`MAX_SLOTS`] slots records any further
//! metric straight into the shared value, so a filter defining a fresh metric per request costs
//! each VM at most [`MAX_SLOTS`] × 8 bytes here.

use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::FxHashMap;

use super::{Metric, MetricError, MetricKind, Registry};

/// Adds to a value only one thread writes (others only read it): a load and a store, no
/// read-modify-write instruction. Also the callback-time cells' (`crate::state::costs`).
pub(crate) fn add_single_writer(value: &AtomicU64, delta: u64) {
    value.store(
        value.load(Ordering::Relaxed).wrapping_add(delta),
        Ordering::Relaxed,
    );
}

/// Slots one VM may hold: 8 192 (64 KiB). A filter records tens of counters and histograms,
/// a histogram taking its bucket count plus two slots.
pub const MAX_SLOTS: usize = 8192;
/// Slots allocated at a time: 4 KiB, the few metrics of a typical filter in one block.
const BLOCK_SLOTS: usize = 512;
const LINE_SLOTS: usize = 16;

/// 128 bytes of slots (two cache lines, as the adjacent-line prefetcher pairs them): blocks
/// are made of whole lines, so two VMs' slots never share one.
#[repr(align(128))]
struct Line([AtomicU64; LINE_SLOTS]);

/// Slots written by one VM and read by scrapes.
pub(super) struct Block {
    lines: Box<[Line]>,
}

impl Block {
    fn new(slots: usize) -> Block {
        let lines = slots.div_ceil(LINE_SLOTS);
        Block {
            lines: (0..lines)
                .map(|_| Line(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
        }
    }

    fn slots(&self) -> usize {
        self.lines.len() * LINE_SLOTS
    }

    fn slot(&self, at: usize) -> &AtomicU64 {
        &self.lines[at / LINE_SLOTS].0[at % LINE_SLOTS]
    }

    /// Adds to a slot only this block's VM writes.
    fn add(&self, at: usize, delta: u64) {
        add_single_writer(self.slot(at), delta);
    }

    fn get(&self, at: usize) -> u64 {
        self.slot(at).load(Ordering::Relaxed)
    }
}

/// One VM's part of one metric: its slots in `block` from `at` (a counter's value; a
/// histogram's buckets, then its sum, then its count).
pub(super) struct Part {
    block: Arc<Block>,
    at: usize,
}

/// Every VM's parts of one metric, and what VMs that are gone left behind (in the metric's own
/// atomics). A scrape sums under this lock and a VM leaving folds its part in under it, so no
/// scrape sees a part both ways or neither.
#[derive(Default)]
pub(super) struct Parts(Mutex<Vec<Part>>);

impl Parts {
    pub(super) fn lock(&self) -> MutexGuard<'_, Vec<Part>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Metric {
    /// Slots a VM's part of this metric takes (none for a gauge).
    fn part_slots(&self) -> usize {
        match self.kind {
            MetricKind::Counter => 1,
            MetricKind::Gauge => 0,
            MetricKind::Histogram => self.bounds.len() + 2,
        }
    }

    /// A counter's value: what VMs that are gone left, plus every live VM's part.
    pub(super) fn counter_total(&self) -> u64 {
        let parts = self.parts.lock();
        let base = self.value.load(Ordering::Relaxed) as u64;
        parts
            .iter()
            .fold(base, |sum, part| sum.wrapping_add(part.block.get(part.at)))
    }

    /// A histogram's per-bucket counts (not cumulative), sum and count over every VM.
    pub(super) fn histogram_total(&self) -> (Vec<u64>, u64, u64) {
        let parts = self.parts.lock();
        let mut buckets: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let mut sum = self.sum.load(Ordering::Relaxed);
        let mut count = self.count.load(Ordering::Relaxed);
        let n = buckets.len();
        for part in parts.iter() {
            for (i, bucket) in buckets.iter_mut().enumerate() {
                *bucket += part.block.get(part.at + i);
            }
            sum = sum.wrapping_add(part.block.get(part.at + n));
            count += part.block.get(part.at + n + 1);
        }
        (buckets, sum, count)
    }

    /// Moves a leaving VM's part into the metric's own atomics.
    fn fold(&self, block: &Arc<Block>, at: usize) {
        let mut parts = self.parts.lock();
        let Some(index) = parts
            .iter()
            .position(|p| Arc::ptr_eq(&p.block, block) && p.at == at)
        else {
            return;
        };
        parts.swap_remove(index);
        match self.kind {
            MetricKind::Counter => {
                self.value
                    .fetch_add(block.get(at) as i64, Ordering::Relaxed);
            }
            MetricKind::Histogram => {
                let n = self.buckets.len();
                for (i, bucket) in self.buckets.iter().enumerate() {
                    bucket.fetch_add(block.get(at + i), Ordering::Relaxed);
                }
                self.sum.fetch_add(block.get(at + n), Ordering::Relaxed);
                self.count
                    .fetch_add(block.get(at + n + 1), Ordering::Relaxed);
            }
            MetricKind::Gauge => {}
        }
    }
}

/// A metric a VM has used: the registry's entry, and the VM's part of it if it has one.
struct Used {
    metric: Arc<Metric>,
    /// Index of its block among the VM's blocks, and its first slot there.
    part: Option<(usize, usize)>,
}

/// The metrics one VM has used, by id, and the blocks its parts live in. Dropped with the VM,
/// which folds every part into its metric (a reload's new VMs start from zero, and the totals
/// go on).
#[derive(Default)]
pub struct MetricCells {
    used: FxHashMap<u32, Used>,
    blocks: Blocks,
}

/// One VM's blocks, filled in order.
#[derive(Default)]
struct Blocks {
    blocks: Vec<Arc<Block>>,
    /// First free slot of the last block.
    next: usize,
    /// Slots taken in all blocks.
    taken: usize,
}

impl MetricCells {
    /// `proxy_increment_metric`, as Envoy answers it: a counter takes positive deltas only, a
    /// gauge any, a histogram none.
    pub fn increment(
        &mut self,
        registry: &Registry,
        id: u32,
        delta: i64,
    ) -> Result<(), MetricError> {
        let used = used(&mut self.used, &mut self.blocks, registry, id)?;
        match (used.metric.kind, used.part) {
            (MetricKind::Counter, _) if delta <= 0 => Err(MetricError::BadArgument),
            (MetricKind::Counter, Some((block, at))) => {
                self.blocks.blocks[block].add(at, delta as u64);
                Ok(())
            }
            _ => used.metric.increment(delta),
        }
    }

    /// `proxy_record_metric`, as Envoy answers it: adds to a counter, sets a gauge, records a
    /// histogram sample.
    pub fn record(&mut self, registry: &Registry, id: u32, value: u64) -> Result<(), MetricError> {
        let used = used(&mut self.used, &mut self.blocks, registry, id)?;
        let metric = &used.metric;
        match (metric.kind, used.part) {
            (MetricKind::Counter, Some((block, at))) => self.blocks.blocks[block].add(at, value),
            (MetricKind::Histogram, Some((block, at))) => {
                let block = &self.blocks.blocks[block];
                let n = metric.bounds.len();
                if let Some(i) = metric.bucket_of(value) {
                    block.add(at + i, 1);
                }
                block.add(at + n, value);
                block.add(at + n + 1, 1);
            }
            _ => metric.record(value),
        }
        Ok(())
    }

    /// `proxy_get_metric`: a counter's total over every VM, a gauge's value.
    pub fn get(&mut self, registry: &Registry, id: u32) -> Result<u64, MetricError> {
        used(&mut self.used, &mut self.blocks, registry, id)?
            .metric
            .get()
    }
}

/// The VM's entry for `id`: from its own table after the first use, so the request path takes
/// no lock and touches no shared reference count; the first use looks the metric up in the
/// host-wide registry and gives the VM its part.
fn used<'a>(
    used: &'a mut FxHashMap<u32, Used>,
    blocks: &mut Blocks,
    registry: &Registry,
    id: u32,
) -> Result<&'a Used, MetricError> {
    Ok(match used.entry(id) {
        Entry::Occupied(entry) => entry.into_mut(),
        Entry::Vacant(entry) => {
            let metric = registry.get(id)?;
            let part = blocks.take_part(&metric);
            entry.insert(Used { metric, part })
        }
    })
}

impl Blocks {
    /// Slots for this VM's part of `metric`, registered with the metric; none for a gauge or
    /// past [`MAX_SLOTS`].
    fn take_part(&mut self, metric: &Metric) -> Option<(usize, usize)> {
        let slots = metric.part_slots();
        if slots == 0 || self.taken + slots > MAX_SLOTS {
            return None;
        }
        let fits = self
            .blocks
            .last()
            .is_some_and(|block| self.next + slots <= block.slots());
        if !fits {
            self.blocks
                .push(Arc::new(Block::new(slots.max(BLOCK_SLOTS))));
            self.next = 0;
        }
        let index = self.blocks.len() - 1;
        let at = self.next;
        self.next += slots;
        self.taken += slots;
        metric.parts.lock().push(Part {
            block: Arc::clone(&self.blocks[index]),
            at,
        });
        Some((index, at))
    }
}

impl Drop for MetricCells {
    fn drop(&mut self) {
        for used in self.used.values() {
            if let Some((block, at)) = used.part {
                used.metric.fold(&self.blocks.blocks[block], at);
            }
        }
    }
}

#[cfg(test)]
mod tests;
