//! Host-side DNS discovery: the host resolves `A`/`AAAA`/`SRV` names itself (hickory) and
//! publishes each answer as an endpoint set in shared data, under the key and schema the
//! `discovery` filter writes (`wasmesh.v1.endpoints.<service>`, the endpoint-set contract), so
//! `lb` and `failover` follow DNS without a change. Envoy resolves DNS in its cluster manager
//! instead (`STRICT_DNS` clusters), where no filter sees the endpoints: see `envoy-configs/`.
//!
//! It runs off the request path: a thread of its own with a current-thread tokio runtime, one
//! task per `dns` entry, each looking its name up again when the answer's TTL runs out (within
//! `min_refresh_ms..=refresh_ms`). A reload hands over the new entries: unchanged ones keep
//! running (and their state), changed ones restart, removed ones stop; a rejected reload
//! changes nothing.
//!
//! The stale rules are the `discovery` filter's. **A failing lookup never empties a set**: no
//! answer, an error code, garbage, and also an answer with no usable address (NXDOMAIN, no
//! record of the type, SRV targets that all fail) keep the last good set published, set
//! `discovery_stale{service,source="dns"}` to 1, log once `keeping the last good set, now
//! stale`, and retry with a jittered exponential backoff. DNS cannot tell "this service has no
//! endpoint now" from "this name is being edited or mistyped", so an empty answer is not taken
//! as a change; removing the entry from the configuration stops the refresh (the last set stays
//! in shared data, as a `discovery` plugin's does when it is removed).

pub mod answer;
pub mod config;
pub mod publish;
pub mod resolve;
pub mod schedule;
mod task;

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::DnsService;

use wasmesh_host::state::SharedState;

/// The running DNS discovery; dropping it (the host ending) stops every task.
pub struct Dns {
    entries: watch::Sender<Vec<DnsService>>,
}

impl Dns {
    /// Starts the DNS thread with `entries` (none: it idles until a reload adds some).
    pub fn start(shared: Arc<SharedState>, entries: Vec<DnsService>) -> Result<Dns> {
        let (sender, receiver) = watch::channel(entries);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("building the DNS discovery runtime")?;
        std::thread::Builder::new()
            .name("wasmesh-dns".into())
            .spawn(move || runtime.block_on(supervise(shared, receiver)))
            .context("starting the DNS discovery thread")?;
        Ok(Dns { entries: sender })
    }

    /// Hands over the entries of a new generation (a no-op when they are the same).
    pub fn configure(&self, entries: &[DnsService]) {
        self.entries.send_if_modified(|current| {
            let changed = current.as_slice() != entries;
            if changed {
                *current = entries.to_vec();
            }
            changed
        });
    }
}

/// Keeps one task per wanted entry until the sender is gone.
async fn supervise(shared: Arc<SharedState>, mut entries: watch::Receiver<Vec<DnsService>>) {
    let mut running: Vec<(DnsService, JoinHandle<()>)> = Vec::new();
    loop {
        let wanted = entries.borrow_and_update().clone();
        running.retain(|(entry, task)| {
            let keep = wanted.contains(entry);
            if !keep {
                task.abort();
                publish::Figures::new(shared.clone(), &entry.service).retired();
                log::info!("dns: {}: refresh of {} stopped", entry.service, entry.name);
            }
            keep
        });
        for entry in wanted {
            if !running.iter().any(|(e, _)| *e == entry) {
                log::info!(
                    "dns: {}: resolving {} ({:?}) for vm_id {:?}",
                    entry.service,
                    entry.name,
                    entry.kind,
                    entry.vm_id
                );
                let task = tokio::spawn(task::run(entry.clone(), shared.clone()));
                running.push((entry, task));
            }
        }
        if entries.changed().await.is_err() {
            break;
        }
    }
    for (_, task) in running {
        task.abort();
    }
}
