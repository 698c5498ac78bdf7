//! Random hostcall arguments from a seeded SplitMix64: pointers, sizes, enums and ids drawn from a
//! mix of well-formed values (so calls also succeed and reach deep host code) and hostile ones
//! (null, the last bytes of memory, past the end, `u32::MAX`), so every bounds check is hit.

use std::sync::atomic::{AtomicU32, Ordering};

/// Bytes of the scratch buffer pointers may land in (and the host may write over).
const SCRATCH_BYTES: usize = 4096;
/// Out-slots for well-formed return pointers (`ret_ptr`, `ret_size`, `ret_cas`...).
const SLOTS: usize = 8;
/// Longest in-bounds value [`Args::kept_bytes`] hands out.
const MAX_KEPT: u32 = 4096;
/// What a well-formed `fd_write` writes.
const IOV_TEXT: &[u8] = b"misbehave fuzz: fd_write\n";
/// Wasm page size.
const PAGE: u32 = 65536;

/// The page this module grew for itself at the end of memory (0: none yet). Writes the host makes
/// "near the end of memory" land there instead of in the allocator's heap, so the fuzz does not
/// corrupt its own state (which would only make the test less observable).
static GUARD_PAGE: AtomicU32 = AtomicU32::new(0);

/// SplitMix64: tiny, seedable, good enough to spread arguments.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Draws arguments for one request's worth of calls.
pub struct Args {
    rng: SplitMix64,
    scratch: Vec<u8>,
    slots: Vec<u32>,
    /// A one-entry iovec table (`[ptr, len]`) over [`IOV_TEXT`], for the WASI fd calls.
    iov: Vec<u32>,
    /// Whether `proxy_close_stream` may be given a valid stream type (seeds ≡ 2 mod 4). A closed
    /// stream is reset (as in Envoy) and no summary can reach the client, so the test accepts a
    /// reset for those seeds only; the other seeds get invalid stream types.
    pub may_close: bool,
    /// Whether a range drawn for the current call lies (partly) outside memory.
    oob: bool,
    /// Ids the host handed out (metrics, queues, tokens, contexts), reused as arguments.
    pub known_ids: Vec<u32>,
}

impl Args {
    /// A generator for `seed`, with a scratch buffer of random bytes and a guard page.
    pub fn new(seed: u64) -> Self {
        let mut rng = SplitMix64(seed);
        // Twice the size pointers are drawn from, so a medium size from a scratch pointer stays in
        // the buffer instead of running into the allocator's other blocks.
        let scratch = (0..2 * SCRATCH_BYTES).map(|_| rng.next() as u8).collect();
        ensure_guard_page();
        Self {
            rng,
            scratch,
            slots: vec![0; SLOTS],
            iov: vec![IOV_TEXT.as_ptr() as u32, IOV_TEXT.len() as u32],
            known_ids: Vec::new(),
            oob: false,
            may_close: seed % 4 == 2,
        }
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u32) -> u32 {
        (self.rng.next() % u64::from(n)) as u32
    }

    /// True `percent` % of the time.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    /// 32 random bits.
    pub fn any(&mut self) -> u32 {
        self.rng.next() as u32
    }

    /// 64 random bits.
    pub fn any64(&mut self) -> u64 {
        self.rng.next()
    }

    /// One of `values`.
    pub fn one_of<T: Copy>(&mut self, values: &[T]) -> T {
        values[self.below(values.len() as u32) as usize]
    }

    /// A pointer: null, inside the scratch buffer, in the last bytes of memory, exactly at its
    /// end, or (mostly out of bounds) random.
    pub fn ptr(&mut self) -> u32 {
        let end = memory_end();
        match self.below(10) {
            0 => 0,
            1..=3 => self.scratch.as_ptr() as u32 + self.below(SCRATCH_BYTES as u32),
            4 => end.saturating_sub(self.below(17)),
            5 => end,
            6 => u32::MAX - self.below(16),
            _ => self.any(),
        }
    }

    /// A size for a range at `ptr`: 0, small, medium, large, `u32::MAX`, or exactly to the end of
    /// memory (the largest in-bounds size).
    pub fn size(&mut self, ptr: u32) -> u32 {
        // Megabyte in-bounds ranges (the last class) are the costly ones for the host (it converts
        // and hashes every byte of a name or path), so they come up less often than the rest.
        match self.below(20) {
            0..=3 => 0,
            4..=9 => 1 + self.below(16),
            10..=12 => self.below(SCRATCH_BYTES as u32),
            13..=15 => (1 << 16) + self.below(u32::MAX - (1 << 16)),
            16..=17 => u32::MAX,
            _ => memory_end().saturating_sub(ptr),
        }
    }

    /// A (pointer, size) the host reads: `valid` in place 40 % of the time, else hostile.
    pub fn bytes(&mut self, valid: &[u8]) -> (u32, u32) {
        if self.chance(40) {
            return (valid.as_ptr() as u32, valid.len() as u32);
        }
        let ptr = self.ptr();
        let size = self.size(ptr);
        self.note(ptr, size.into());
        (ptr, size)
    }

    /// A WASI iovec table (pointer, entries): the valid one-entry table or hostile bytes.
    pub fn iovecs(&mut self) -> (u32, u32) {
        if self.chance(40) {
            return (self.iov.as_ptr() as u32, 1);
        }
        let ptr = self.ptr();
        (ptr, self.size(ptr))
    }

    /// Like [`Args::bytes`] for data the host keeps beyond the request (shared data, queue items,
    /// root properties): an in-bounds range longer than [`MAX_KEPT`] is cut to that length, so
    /// the fuzz does not fill the host (and every later read of the value) with megabytes of its
    /// own memory. Out-of-bounds ranges stay as drawn.
    pub fn kept_bytes(&mut self, choices: &[&'static [u8]]) -> (u32, u32) {
        let (ptr, size) = self.bytes_of(choices);
        if self.out_of_bounds(ptr, size) {
            (ptr, size)
        } else {
            (ptr, size.min(MAX_KEPT))
        }
    }

    /// One of `choices` through [`Args::bytes`].
    pub fn bytes_of(&mut self, choices: &[&'static [u8]]) -> (u32, u32) {
        let valid = self.one_of(choices);
        self.bytes(valid)
    }

    /// An address the host writes a u32 to: out-slot `slot` 60 % of the time, else hostile.
    pub fn out(&mut self, slot: usize) -> u32 {
        self.out_of_width(slot, 4)
    }

    /// Like [`Args::out`] for a u64 (`slot` and the next one).
    pub fn out8(&mut self, slot: usize) -> u32 {
        self.out_of_width(slot, 8)
    }

    fn out_of_width(&mut self, slot: usize, width: u64) -> u32 {
        if self.chance(60) {
            return self.slot_ptr(slot);
        }
        let ptr = self.ptr();
        self.note(ptr, width);
        ptr
    }

    /// Records whether `ptr..ptr+size` is outside memory, for [`Args::take_out_of_bounds`].
    pub fn note(&mut self, ptr: u32, size: u64) {
        if u64::from(ptr) + size > u64::from(memory_end()) {
            self.oob = true;
        }
    }

    /// A range the host may fill with `size` bytes: `ptr..ptr+size` when it is out of bounds (the
    /// host must refuse it) or inside the scratch buffer or the guard page; otherwise the start of
    /// the guard page (an in-bounds write over the allocator's blocks would only make the guest
    /// break itself, which tests nothing about the host).
    pub fn writable(&self, ptr: u32, size: u32) -> (u32, u32) {
        let (start, end) = (u64::from(ptr), u64::from(ptr) + u64::from(size));
        let scratch = self.scratch.as_ptr() as u64;
        let guard = u64::from(GUARD_PAGE.load(Ordering::Relaxed)) * u64::from(PAGE);
        let inside = |lo: u64, len: u64| start >= lo && end <= lo + len;
        if self.out_of_bounds(ptr, size)
            || inside(scratch, self.scratch.len() as u64)
            || (guard != 0 && inside(guard, u64::from(PAGE)))
        {
            (ptr, size)
        } else {
            (guard as u32, size.min(PAGE))
        }
    }

    /// Whether `ptr..ptr+size` lies (partly) outside memory.
    pub fn out_of_bounds(&self, ptr: u32, size: u32) -> bool {
        u64::from(ptr) + u64::from(size) > u64::from(memory_end())
    }

    /// Whether the call just made was handed a range outside memory for data the host must read
    /// or write (then `Ok` would mean the host skipped a bounds check); clears the flag.
    pub fn take_out_of_bounds(&mut self) -> bool {
        std::mem::take(&mut self.oob)
    }

    /// The address of out-slot `slot`.
    pub fn slot_ptr(&mut self, slot: usize) -> u32 {
        std::ptr::from_mut(&mut self.slots[slot % SLOTS]) as u32
    }

    /// What the host wrote into out-slot `slot`.
    pub fn slot(&self, slot: usize) -> u32 {
        self.slots[slot % SLOTS]
    }

    /// An enum-like argument: in `0..=max_valid` 75 % of the time, else just past it, `u32::MAX`
    /// or random.
    pub fn enumeration(&mut self, max_valid: u32) -> u32 {
        if self.chance(75) {
            return self.below(max_valid + 1);
        }
        let past = max_valid + 1;
        let any = self.any();
        self.one_of(&[past, u32::MAX, any])
    }

    /// An enum-like argument that is never valid: just past `max_valid`, `u32::MAX` or random
    /// above `max_valid`.
    pub fn invalid_enumeration(&mut self, max_valid: u32) -> u32 {
        let past = max_valid + 1;
        let above = past + self.below(u32::MAX - past);
        self.one_of(&[past, u32::MAX, above])
    }

    /// An id: one the host handed out, a small number, or random.
    pub fn id(&mut self) -> u32 {
        match self.below(4) {
            0 | 1 if !self.known_ids.is_empty() => {
                let ids = self.known_ids.clone();
                self.one_of(&ids)
            }
            2 => self.below(8),
            _ => self.any(),
        }
    }

    /// Remembers an id the host wrote into out-slot `slot` (when the call succeeded).
    pub fn learn_id(&mut self, status: u32, out: u32, slot: usize) {
        if status == 0 && out == self.slot_ptr(slot) && self.known_ids.len() < 64 {
            let id = self.slot(slot);
            self.known_ids.push(id);
        }
    }

    /// Frees a buffer the host allocated through the guest allocator and returned through
    /// out-slots 0 (pointer) and 1 (size); without this every successful call would leak.
    pub fn free_returned(&mut self, status: u32, ret_ptr: u32, ret_size: u32) {
        if status != 0 || ret_ptr != self.slot_ptr(0) || ret_size != self.slot_ptr(1) {
            return; // not returned, or written somewhere this code does not own: leaked
        }
        let (ptr, size) = (self.slot(0), self.slot(1));
        if ptr != 0 && size != 0 {
            #[allow(unsafe_code)]
            // SAFETY: the SDK's `proxy_on_memory_allocate(size)` made exactly this
            // `Vec::with_capacity(size)` and forgot it; the host reported that pointer and size.
            unsafe {
                drop(Vec::<u8>::from_raw_parts(ptr as *mut u8, 0, size as usize));
            }
        }
        self.slots[0] = 0;
        self.slots[1] = 0;
    }
}

/// The size of linear memory in bytes (saturating at `u32::MAX` for a full 4 GiB memory).
fn memory_end() -> u32 {
    let pages = core::arch::wasm32::memory_size(0) as u64;
    (pages * u64::from(PAGE)).min(u64::from(u32::MAX)) as u32
}

/// Makes sure the last page of memory is [`GUARD_PAGE`] (grows one more page otherwise).
fn ensure_guard_page() {
    let pages = core::arch::wasm32::memory_size(0) as u32;
    let guard = GUARD_PAGE.load(Ordering::Relaxed);
    if guard != 0 && guard + 1 == pages {
        return;
    }
    let old = core::arch::wasm32::memory_grow(0, 1);
    if old != usize::MAX {
        GUARD_PAGE.store(old as u32, Ordering::Relaxed);
    }
}
