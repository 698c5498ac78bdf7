//! Guests in Go, AssemblyScript and C (`tests/guests/lang/`), built by their own toolchains,
//! each in wasmesh and in Envoy with the same assertions (`scenarios/lang.rs`). The three are
//! built once for this process.

use wasmesh_tests::scenarios::lang::guest_behaves;
use wasmesh_tests::ProxyKind;

fn go(kind: ProxyKind) {
    guest_behaves(kind, "go");
}

fn assemblyscript(kind: ProxyKind) {
    guest_behaves(kind, "assemblyscript");
}

fn c(kind: ProxyKind) {
    guest_behaves(kind, "c");
}

wasmesh_tests::in_both_hosts!(go, assemblyscript, c);
