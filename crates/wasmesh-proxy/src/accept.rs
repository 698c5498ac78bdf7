//! What an accept loop does when `accept` fails, shared by the data plane's loops and the
//! embedder's own (the `wasmesh` binary's admin server).

/// How long an accept loop waits after `accept` failed. The usual failure is running out of
/// file descriptors (EMFILE): the pending connection stays in the backlog, so retrying at once
/// fails again at once and the loop spins a core until a descriptor frees up.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(10);

/// What every accept loop (data plane and admin) does when `accept` fails: say so, then wait
/// [`ACCEPT_RETRY`] before the next try.
pub async fn after_accept_error(listener: &str, error: &std::io::Error) {
    log::warn!("{listener}: accept failed: {error}");
    tokio::time::sleep(ACCEPT_RETRY).await;
}
