//! wasmesh-filter-authz: a proxy-wasm HTTP filter that allows or denies each request by who is
//! calling (the identity in the client certificate's URI SAN, as the host reports it in
//! `connection.uri_san_peer_certificate`, or the client's network) and what it asks for, as
//! configured (see `wasmesh_common::authz` for the policy and its JSON).
//!
//! A denial is answered locally with the configured status (403) and a body naming the rule,
//! before anything reaches the upstream; in audit mode it is only logged. Every decision is
//! counted by rule and identity: `authz_allowed_total`, `authz_denied_total` and, in audit
//! mode, `authz_audit_denied_total`.

mod filter;
mod root;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_context_id| Box::new(root::AuthzRoot::default()));
}}
