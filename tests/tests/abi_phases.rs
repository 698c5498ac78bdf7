//! The hostcall × phase table (`wasmesh_tests::scenarios::phases`): every probed hostcall
//! answers in wasmesh what it answers in Envoy 1.40 in every phase, but for the differences the
//! README lists under the table, and the README's table is Envoy's.

use wasmesh_tests::scenarios::phases::{markdown, phase_table, PHASES};
use wasmesh_tests::ProxyKind;

/// The cells where wasmesh answers otherwise, each listed under the README's table: (phase,
/// hostcall, Envoy's status, wasmesh's status).
const KNOWN_DIFFERENCES: &[(&str, &str, u32, u32)] = &[
    // wasmesh keeps the request's properties readable after its header phase.
    ("request_body", "proxy_get_property(request.path)", 1, 0),
    ("response_headers", "proxy_get_property(request.path)", 1, 0),
    ("response_body", "proxy_get_property(request.path)", 1, 0),
    ("done", "proxy_get_property(request.path)", 1, 0),
    // Envoy hands a body that arrived during a header pause to the filter in one piece with
    // its end, where trailers may be added; wasmesh passes it as the codec read it.
    (
        "request_body",
        "proxy_get_header_map_size(request_trailers)",
        0,
        2,
    ),
    (
        "request_body",
        "proxy_add_header_map_value(request_trailers)",
        0,
        2,
    ),
    (
        "request_body",
        "proxy_remove_header_map_value(request_trailers)",
        0,
        2,
    ),
];

#[test]
fn every_hostcall_answers_as_in_envoy_in_every_phase() {
    let envoy = phase_table(ProxyKind::Envoy);
    let table = markdown(&envoy);
    println!("{table}");
    let wasmesh = phase_table(ProxyKind::Wasmesh);
    let mut differences = Vec::new();
    for phase in PHASES {
        assert_eq!(envoy[phase].len(), wasmesh[phase].len(), "{phase}");
        for ((call, theirs), (_, ours)) in envoy[phase].iter().zip(&wasmesh[phase]) {
            let known = KNOWN_DIFFERENCES.contains(&(phase, call.as_str(), *theirs, *ours));
            if theirs != ours && !known {
                differences.push(format!("{phase} {call}: envoy {theirs}, wasmesh {ours}"));
            }
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
    let readme = std::fs::read_to_string(wasmesh_tests::workspace_root().join("README.md"))
        .expect("reading the README");
    assert!(
        readme.contains(&table),
        "the README's hostcall × phase table is not Envoy's; Envoy's is:\n{table}"
    );
}
