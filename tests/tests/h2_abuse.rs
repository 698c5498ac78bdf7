//! h2 clients that misbehave on purpose (issue 15): a dripped header block, and floods of
//! resets, CONTINUATION, SETTINGS and PING frames, in both hosts.

use wasmesh_tests::scenarios::h2::{
    a_dripped_header_block_is_cut, floods_end_the_connection_not_the_proxy,
    pings_between_requests_keep_the_connection, streams_past_the_limit_are_refused, Flood,
};
use wasmesh_tests::ProxyKind;

wasmesh_tests::in_both_hosts!(
    pings_between_requests_keep_the_connection,
    streams_past_the_limit_are_refused,
);

/// wasmesh only: Envoy kept the dripping connection open (see the scenario).
#[test]
fn dripped_header_block() {
    a_dripped_header_block_is_cut(ProxyKind::Wasmesh);
}

fn rapid_reset(kind: ProxyKind) {
    floods_end_the_connection_not_the_proxy(kind, Flood::RapidReset);
}

fn continuation(kind: ProxyKind) {
    floods_end_the_connection_not_the_proxy(kind, Flood::Continuation);
}

fn settings(kind: ProxyKind) {
    floods_end_the_connection_not_the_proxy(kind, Flood::Settings);
}

fn ping(kind: ProxyKind) {
    floods_end_the_connection_not_the_proxy(kind, Flood::Ping);
}

wasmesh_tests::in_both_hosts!(rapid_reset, continuation, settings, ping);
