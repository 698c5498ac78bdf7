//! One entry's refresh loop: look up, publish or keep the last set, wait, again.

use std::sync::Arc;
use std::time::Duration;

use super::config::DnsService;
use super::publish::{publish, set_stale, Figures};
use super::resolve::{Answer, Failure, Lookup};
use super::schedule::Schedule;
use wasmesh_host::state::SharedState;

/// Runs until aborted (the entry was removed or changed by a reload).
pub async fn run(entry: DnsService, shared: Arc<SharedState>) {
    let figures = Figures::new(shared.clone(), &entry.service);
    let mut schedule = Schedule::new(&entry, seed(&entry.service));
    let mut lookup: Option<Lookup> = None;
    loop {
        let result = match &lookup {
            Some(lookup) => lookup.resolve().await,
            None => match Lookup::new(&entry) {
                Ok(made) => lookup.insert(made).resolve().await,
                Err(failure) => Err(failure),
            },
        };
        let wait = match result {
            Ok(answer) => answered(&entry, &shared, &figures, &mut schedule, answer),
            Err(failure) => {
                let kept = set_stale(&shared.shared_data, &entry.vm_id, &entry.service);
                failed(&entry, &figures, &mut schedule, failure, kept)
            }
        };
        tokio::time::sleep(wait).await;
    }
}

fn answered(
    entry: &DnsService,
    shared: &SharedState,
    figures: &Figures,
    schedule: &mut Schedule,
    answer: Answer,
) -> Duration {
    let service = &entry.service;
    for skipped in &answer.skipped {
        log::warn!("dns: {service}: SRV target left out: {skipped}");
    }
    let version = publish(
        &shared.shared_data,
        &entry.vm_id,
        service,
        &answer.endpoints,
    );
    figures.answered(answer.endpoints.len(), version.is_some());
    if let Some(version) = version {
        let addresses: Vec<String> = answer
            .endpoints
            .iter()
            .map(|e| e.address.to_string())
            .collect();
        log::info!(
            "dns: {service}: {} -> {addresses:?} (TTL {} s), set version {version}",
            entry.name,
            answer.ttl_s
        );
    }
    let (wait, was_stale) = schedule.succeeded(answer.ttl_s);
    if was_stale {
        log::info!("dns: {service}: {} answers again; set fresh", entry.name);
    }
    wait
}

fn failed(
    entry: &DnsService,
    figures: &Figures,
    schedule: &mut Schedule,
    failure: Failure,
    kept: bool,
) -> Duration {
    figures.failed(failure.reason);
    let failed = schedule.failed();
    let outcome = if kept {
        "keeping the last good set, now stale"
    } else {
        "no set published yet, stale"
    };
    let line = format!(
        "dns: {}: lookup of {} failed ({}: {}); {outcome}; retry in {} ms",
        entry.service,
        entry.name,
        failure.reason,
        failure.message,
        failed.retry_in.as_millis()
    );
    if failed.became_stale {
        log::warn!("{line}");
    } else {
        log::debug!("{line} (failure {})", failed.consecutive);
    }
    failed.retry_in
}

/// Jitter seed: differs per service and per process start, so proxies that lost the same
/// server together do not retry together.
fn seed(service: &str) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    service
        .bytes()
        .fold(now ^ u64::from(std::process::id()), |h, b| {
            h.rotate_left(5) ^ u64::from(b)
        })
}
