//! The `authz` filter in both hosts (`wasmesh_tests::scenarios::authz`): the same module and
//! policy, clients over mutual TLS with SPIFFE IDs.

use wasmesh_tests::in_both_hosts;
use wasmesh_tests::scenarios::authz::{
    allowed_and_denied_by_identity, audit_mode_counts_what_it_would_deny,
};

in_both_hosts!(
    allowed_and_denied_by_identity,
    audit_mode_counts_what_it_would_deny
);
