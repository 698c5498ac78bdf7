//! "The module's own" memory in a wasmesh process: what the issue's aim ("memory per worker VM
//! ≤ 2 MiB over the module's own") sets apart from the VM's.
//!
//! wasmesh loads a compiled module from its disk cache with wasmtime's
//! `Module::deserialize_file` (`crates/wasmesh-host/src/runtime/engine.rs`), which maps the `.cwasm` file:
//! its code (`r-xp`) and read-only data and metadata (`r--p`) are mappings of that file, shared
//! by every VM of the module, however many workers. Each instance also maps the file's data
//! image privately into its linear memory, copy-on-write (`rw-p`): that is the VM's, one per
//! instance, so it is not counted here. The sum is taken from `/proc/<pid>/smaps`.
//!
//! Envoy has nothing to read this way: it reads the `.wasm` into memory and V8 compiles it into
//! anonymous memory, indistinguishable in `smaps` from the VM's heap.

use std::fs;

/// Resident KiB of the non-writable mappings of `.cwasm` files in process `pid`; `None` if
/// `smaps` cannot be read.
pub fn module_rss_kib(pid: u32) -> Option<u64> {
    Some(sum(&fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?))
}

/// The sum over an `smaps` text: each mapping is a header line
/// (`start-end perms offset dev inode [path]`) followed by `Field: value` lines.
fn sum(smaps: &str) -> u64 {
    let mut counting = false;
    let mut total = 0;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if first.ends_with(':') {
            if counting && first == "Rss:" {
                total += words
                    .next()
                    .and_then(|kib| kib.parse::<u64>().ok())
                    .unwrap_or(0);
            }
            continue;
        }
        // A header: the range has no colon. Path is the sixth word (may be absent).
        let perms = words.next().unwrap_or_default();
        let path = words.nth(3).unwrap_or_default();
        counting = path.ends_with(".cwasm") && perms.as_bytes().get(1) != Some(&b'w');
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_shared_mappings_of_compiled_modules_only() {
        let smaps = "\
7f00-7f07 rw-p 0009d000 fe:00 1 /root/.cache/wasmesh/aa-11.cwasm
Size:                 28 kB
Rss:                  28 kB
7f10-7f11 r--p 00000000 fe:00 1 /root/.cache/wasmesh/aa-11.cwasm
Rss:                   4 kB
7f11-7f18 r-xp 00001000 fe:00 1 /root/.cache/wasmesh/aa-11.cwasm
Rss:                 484 kB
VmFlags: rd ex mr mw me
7f20-7f30 rw-p 00000000 00:00 0
Rss:                1000 kB
7f30-7f40 r-xp 00000000 fe:00 2 /usr/lib/libc.so.6
Rss:                 900 kB
7f40-7f41 r--p 00000000 fe:00 3 /root/.cache/wasmesh/bb-11.cwasm
Rss:                  12 kB
";
        assert_eq!(sum(smaps), 4 + 484 + 12);
        assert_eq!(sum(""), 0);
    }

    #[test]
    fn reads_this_process() {
        // The test binary maps no compiled module.
        assert_eq!(module_rss_kib(std::process::id()), Some(0));
    }
}
