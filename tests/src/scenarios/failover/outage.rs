//! What the tests that kill and restart backends under steady load assert: no failed
//! request, which backends answered when, and that an ejected one came back no earlier than
//! its ejection time.

use std::net::SocketAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::load::LoadReport;
use crate::{poll_until, Backend, BackendHandle};

/// Asserts that the steady load saw no failure.
pub fn assert_no_failures(host: &str, report: &LoadReport) {
    assert!(
        report.failures.is_empty(),
        "{host}: {} failed requests, e.g. {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(10)]
    );
}

/// Of the load's answers that arrived in `window`: how many, and how many came from a backend
/// whose marker (`x-backend`) `from` accepts.
pub fn answers_in(
    report: &LoadReport,
    window: Range<Instant>,
    from: impl Fn(&str) -> bool,
) -> (usize, usize) {
    let answers: Vec<_> = report
        .ok
        .iter()
        .filter(|s| window.contains(&s.at))
        .collect();
    let matching = answers
        .iter()
        .filter(|s| s.marker.as_deref().is_some_and(&from))
        .count();
    (answers.len(), matching)
}

/// Asserts that `what` came back `back_after` its ejection (or failover), not before the
/// ejection time `ejection_ms` ended, less `slack_ms` for when the test saw the ejection.
pub fn assert_back_after_ejection(
    host: &str,
    what: &str,
    back_after: Duration,
    ejection_ms: u64,
    slack_ms: u64,
) {
    assert!(
        back_after + Duration::from_millis(slack_ms) >= Duration::from_millis(ejection_ms),
        "{host}: {what} back {back_after:?} after its ejection, before the {ejection_ms} ms \
         ejection time ended"
    );
}

/// Restarts backend `name` on the `addr` of a killed one (retrying while the port is still
/// held by the old sockets).
pub fn restart(host: &str, name: &str, addr: SocketAddr) -> BackendHandle {
    poll_until(
        &format!("{host}: restarting {name} on {addr}"),
        Duration::from_secs(5),
        || Backend::start_on(name, addr).map_err(|e| e.to_string()),
    )
}
