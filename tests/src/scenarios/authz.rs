//! The `authz` filter in both hosts, the same module and policy: requests over mutual TLS
//! allowed or denied by the client's identity (the SPIFFE ID each host reports in
//! `connection.uri_san_peer_certificate`), by path, and by default; audit mode lets through
//! what it would deny, and counts it. The listener asks for client certificates without
//! requiring one, so clients without an identity reach the filter.

use std::time::Duration;

use serde_json::{json, Value};
use wasmesh_contract::exposition as prometheus;

use super::tls::{ClientAuth, TlsSetup, HOST};
use crate::pki::spiffe_id;
use crate::tls_client::{CurlOutcome, Https};
use crate::{build_filters, poll_until, Plugin, ProxyKind};

/// The policy: `web` may read, everyone may see `/health`, nobody `/admin`.
fn policy(audit: bool) -> Value {
    json!({
        "default": "deny",
        "audit": audit,
        "rules": [
            { "name": "no-admin", "action": "deny", "to": { "path_prefixes": ["/admin"] } },
            { "name": "web-reads", "action": "allow",
              "from": { "identities": [spiffe_id("web")] }, "to": { "methods": ["GET"] } },
            { "name": "health", "action": "allow",
              "from": { "unauthenticated": true, "trust_domains": ["wasmesh.test"] },
              "to": { "paths": ["/health"] } },
        ],
    })
}

fn start(kind: ProxyKind, audit: bool) -> TlsSetup {
    let plugin = Plugin::new("authz", &build_filters().authz)
        .vm_id("authz")
        .configuration(policy(audit));
    TlsSetup::start_with(kind, ClientAuth::Optional, plugin)
}

/// Who calls: a client certificate, or none.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Web,
    Batch,
    Anonymous,
}

fn get(setup: &TlsSetup, caller: Caller, path: &str) -> CurlOutcome {
    let pki = &setup.pki;
    let request = Https::get(HOST, setup.port(), path, &pki.ca);
    match caller {
        Caller::Web => request.client(&pki.client).send(),
        Caller::Batch => request.client(&pki.other_client).send(),
        Caller::Anonymous => request.send(),
    }
}

/// Polls the host's exposition until each `(metric, rule, identity)` counts `want`.
fn assert_counts(setup: &TlsSetup, expected: &[(&str, &str, &str, f64)]) {
    poll_until(
        &format!("{:?}: the authz counters", setup.kind),
        Duration::from_secs(10),
        || {
            let text = setup.proxy.admin_get("/stats/prometheus").text();
            let wrong: Vec<String> = expected
                .iter()
                .filter_map(|(name, rule, identity, want)| {
                    let labels = [("rule", *rule), ("identity", *identity)];
                    let got = prometheus::value(&text, name, &labels);
                    (got != Some(*want)).then(|| format!("{name}{labels:?}: {got:?}, want {want}"))
                })
                .collect();
            if wrong.is_empty() {
                Ok(())
            } else {
                Err(format!("{}\n--- exposition ---\n{text}", wrong.join("\n")))
            }
        },
    );
}

/// `allowed_and_denied_by_identity`: each caller gets what the policy says, a denial is a 403
/// naming the rule (or saying none allows it) with nothing sent upstream, and each decision
/// is counted by rule and identity.
pub fn allowed_and_denied_by_identity(kind: ProxyKind) {
    let setup = start(kind, false);
    let cases = [
        (Caller::Web, "/users", 200, ""),
        (
            Caller::Batch,
            "/users",
            403,
            "access denied: no rule allows this request\n",
        ),
        (
            Caller::Anonymous,
            "/users",
            403,
            "access denied: no rule allows this request\n",
        ),
        (
            Caller::Web,
            "/admin/x",
            403,
            "access denied: rule no-admin\n",
        ),
        (Caller::Anonymous, "/health", 200, ""),
        (Caller::Batch, "/health", 200, ""),
    ];
    for (caller, path, status, body) in cases {
        let outcome = get(&setup, caller, path);
        assert_eq!(
            outcome.status, status,
            "{kind:?}: {caller:?} {path}: {outcome:?}"
        );
        if status == 403 {
            assert_eq!(
                String::from_utf8_lossy(&outcome.body),
                body,
                "{kind:?}: {caller:?} {path}"
            );
        }
    }
    assert_eq!(
        setup.backend.requests_seen(),
        3,
        "{kind:?}: only the allowed ones reach it"
    );
    let (web, batch) = (spiffe_id("web"), spiffe_id("batch"));
    assert_counts(
        &setup,
        &[
            ("authz_allowed_total", "web-reads", &web, 1.0),
            ("authz_allowed_total", "health", "unauthenticated", 1.0),
            ("authz_allowed_total", "health", &batch, 1.0),
            ("authz_denied_total", "default", &batch, 1.0),
            ("authz_denied_total", "default", "unauthenticated", 1.0),
            ("authz_denied_total", "no-admin", &web, 1.0),
        ],
    );
}

/// `audit_mode_counts_what_it_would_deny`: in audit mode every request passes, and what would
/// have been denied is counted as such (and nothing as denied).
pub fn audit_mode_counts_what_it_would_deny(kind: ProxyKind) {
    let setup = start(kind, true);
    for (caller, path) in [(Caller::Batch, "/users"), (Caller::Web, "/admin/x")] {
        let outcome = get(&setup, caller, path);
        assert_eq!(
            outcome.status, 200,
            "{kind:?}: {caller:?} {path}: {outcome:?}"
        );
    }
    assert_eq!(setup.backend.requests_seen(), 2, "{kind:?}");
    assert_counts(
        &setup,
        &[
            (
                "authz_audit_denied_total",
                "default",
                &spiffe_id("batch"),
                1.0,
            ),
            (
                "authz_audit_denied_total",
                "no-admin",
                &spiffe_id("web"),
                1.0,
            ),
        ],
    );
    let text = setup.proxy.admin_get("/stats/prometheus").text();
    assert!(
        !text.contains("authz_denied_total{"),
        "{kind:?}: nothing denied: {text}"
    );
}
