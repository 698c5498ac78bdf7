//! Giving memory back to the system after a burst of connections. Each connection's buffers are
//! freed when it closes, but glibc's allocator keeps freed pages in its per-thread arenas, so a
//! burst of 2 000 connections left wasmesh at 69 MiB instead of 14 long after they had gone.
//! Envoy has the same need and answers it with tcmalloc's periodic release and the overload
//! manager's `shrink_heap` action; here a thread watches the open connections and, once a burst
//! has mostly drained, asks the allocator to return its free pages (`malloc_trim`).

use std::sync::Arc;
use std::time::Duration;

use wasmesh_proxy::overload::Overload;

/// How often the open connections are looked at.
const EVERY: Duration = Duration::from_secs(1);
/// A burst smaller than this is not worth a trim.
const BURST: usize = 64;

/// Starts the trimming thread (on glibc; elsewhere the allocator is left as it is).
pub fn spawn(overload: Arc<Overload>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("heap-trim".into())
        .spawn(move || {
            let mut peak = 0;
            loop {
                std::thread::sleep(EVERY);
                let open = overload.open_connections();
                peak = peak.max(open);
                if drained(peak, open) {
                    let released = trim();
                    log::debug!(
                        "{peak} connections went down to {open}: allocator trimmed (released: {released})"
                    );
                    peak = open;
                }
            }
        })
        .map(|_| ())
}

/// Whether a burst of connections has mostly gone: it was worth a trim, and at most half of
/// its connections are still open.
fn drained(peak: usize, open: usize) -> bool {
    peak >= BURST && open * 2 <= peak
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() -> bool {
    // SAFETY: malloc_trim only walks the allocator's own free lists; 0 keeps no padding.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0) == 1
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_once_a_large_enough_burst_has_mostly_drained() {
        assert!(!drained(10, 0), "too small a burst");
        assert!(!drained(2000, 1500));
        assert!(drained(2000, 1000));
        assert!(drained(64, 0));
    }
}
