//! Singleton plugins in both hosts (`wasmesh_tests::scenarios::singleton`).

use wasmesh_tests::scenarios::singleton::{feeds_filters, trap_on_tick};

wasmesh_tests::in_both_hosts!(feeds_filters, trap_on_tick);
