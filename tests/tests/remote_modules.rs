//! A module fetched by URL and pinned by sha256, in both hosts
//! (`wasmesh_tests::scenarios::remote_modules`).

use wasmesh_tests::scenarios::remote_modules::{
    module_by_https_url_serves, module_by_url_serves, module_with_a_wrong_sha256,
};

wasmesh_tests::in_both_hosts!(
    module_by_url_serves,
    module_by_https_url_serves,
    module_with_a_wrong_sha256
);
