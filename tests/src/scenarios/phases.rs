//! The hostcall × phase table: what each hostcall answers in each phase of a plugin's life, in
//! Envoy and in wasmesh. The abi-test guest's `phases` case (and its root, configured with
//! `probe-phases`) calls every hostcall of `tests/guests/abi-test/src/probe.rs` with harmless
//! arguments in each phase and logs the raw statuses; this reads them back from the host's log.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::scenarios::abi::{BACKEND, CALL_CLUSTER};
use crate::{build_filters, client, poll_until, Backend, Cluster, Listener, MeshConfig, Plugin};
use crate::{ProxyKind, Route};

/// The phases, in the table's column order.
pub const PHASES: [&str; 9] = [
    "configure",
    "tick",
    "request_headers",
    "call_response",
    "request_body",
    "response_headers",
    "response_body",
    "log",
    "done",
];

/// Each probed hostcall's status, by phase then call, as `kind` answered them.
pub type PhaseTable = BTreeMap<String, Vec<(String, u32)>>;

/// Runs the probes in `kind` and returns what it answered.
pub fn phase_table(kind: ProxyKind) -> PhaseTable {
    let backend = Backend::start(BACKEND);
    let plugin = Plugin::new("abi", &build_filters().abi_test)
        .root_id("abi-root")
        .vm_id("abi-vm")
        .configuration(json!("abi-plugin-config probe-phases"));
    let config = MeshConfig::new()
        .plugin(plugin)
        .cluster(Cluster::fixed("backend", [backend.addr]))
        .cluster(Cluster::fixed(CALL_CLUSTER, [backend.addr]))
        .listener(
            Listener::new("main")
                .filter("abi")
                .route(Route::prefix("/", "backend")),
        );
    let proxy = kind.start(&config);
    let response = client::post(
        &proxy.url("main", "/phases"),
        &[("x-abi-case", "phases"), ("x-abi-upstream", CALL_CLUSTER)],
        "a request body",
    );
    assert_eq!(
        response.status,
        200,
        "{}: {:?}",
        kind.name(),
        response.text()
    );
    poll_until(
        "every phase's probe in the log",
        Duration::from_secs(10),
        || {
            let table = parse(&proxy.logs());
            let missing: Vec<&str> = PHASES
                .iter()
                .copied()
                .filter(|p| !table.contains_key(*p))
                .collect();
            match missing.is_empty() {
                true => Ok(table),
                false => Err(format!("{}: no probe yet for {missing:?}", kind.name())),
            }
        },
    )
}

/// The probe lines of a log (the first of each phase; the root probes once per worker).
fn parse(logs: &str) -> PhaseTable {
    let mut table = PhaseTable::new();
    for line in logs.lines() {
        let Some((_, rest)) = line.split_once("abi-test: phase ") else {
            continue;
        };
        let Some((phase, cells)) = rest.trim().split_once(' ') else {
            continue;
        };
        let row = cells
            .split(';')
            .filter_map(|cell| {
                let (name, status) = cell.rsplit_once('=')?;
                Some((name.to_string(), status.parse().ok()?))
            })
            .collect();
        table.entry(phase.to_string()).or_insert(row);
    }
    table
}

/// The spec's name for a status.
pub fn status_name(status: u32) -> &'static str {
    match status {
        0 => "Ok",
        1 => "NotFound",
        2 => "BadArgument",
        3 => "SerializationFailure",
        6 => "InvalidMemoryAccess",
        7 => "Empty",
        8 => "CasMismatch",
        10 => "InternalFailure",
        12 => "Unimplemented",
        _ => "other",
    }
}

/// The table as the README shows it: a row per hostcall, a column per phase.
pub fn markdown(table: &PhaseTable) -> String {
    let mut out = format!("| hostcall | {} |\n|---|", PHASES.join(" | "));
    out.push_str(&"---|".repeat(PHASES.len()));
    out.push('\n');
    let calls: Vec<&String> = table[PHASES[0]].iter().map(|(name, _)| name).collect();
    for call in calls {
        let cells: Vec<&str> = PHASES
            .iter()
            .map(|phase| {
                table[*phase]
                    .iter()
                    .find(|(name, _)| name == call)
                    .map_or("-", |(_, s)| status_name(*s))
            })
            .collect();
        out.push_str(&format!("| `{call}` | {} |\n", cells.join(" | ")));
    }
    out
}
