//! TLS and mutual TLS on a listener, the same in both hosts: a client (curl, on OpenSSL) talks
//! to the abi-test guest over TLS, and the guest reports the `connection.*` properties Envoy
//! defines. Envoy 1.40 (BoringSSL) is the reference for every value and outcome.

use serde_json::{json, Value};

use super::abi::{BACKEND, PLUGIN, PLUGIN_CONFIG, ROOT_ID, VM_CONFIG, VM_ID};
use crate::pki::{spiffe_id, TestPki};
use crate::tls_client::{CurlOutcome, Https};
use crate::{
    build_filters, sha256_hex, Backend, BackendHandle, Cluster, ClusterTls, Listener, ListenerTls,
    MeshConfig, Plugin, Proxy, ProxyKind, Route,
};

/// The name clients ask for (the server certificate's DNS SAN).
pub const HOST: &str = "api.test";

/// What the listener asks of clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    None,
    /// Asked for; a client without one is served.
    Optional,
    /// Asked for; a client without one fails the handshake.
    Require,
}

/// A host terminating TLS in front of the echo backend, the abi-test guest in its chain.
pub struct TlsSetup {
    /// Which host.
    pub kind: ProxyKind,
    /// The running host.
    pub proxy: Proxy,
    /// The echo backend.
    pub backend: BackendHandle,
    /// The certificates.
    pub pki: TestPki,
}

impl TlsSetup {
    /// Starts `kind` with TLS on listener `main` asking clients for `auth`, the abi-test
    /// guest in its chain.
    pub fn start(kind: ProxyKind, auth: ClientAuth) -> TlsSetup {
        let plugin = Plugin::new(PLUGIN, &build_filters().abi_test)
            .root_id(ROOT_ID)
            .vm_id(VM_ID)
            .configuration(json!(PLUGIN_CONFIG))
            .vm_config(json!(VM_CONFIG));
        Self::start_with(kind, auth, plugin)
    }

    /// Starts `kind` with TLS on listener `main` asking clients for `auth`, `plugin` alone in
    /// its chain.
    pub fn start_with(kind: ProxyKind, auth: ClientAuth, plugin: Plugin) -> TlsSetup {
        let pki = TestPki::mint();
        let backend = Backend::start(BACKEND);
        let filter = plugin.name.clone();
        let tls = ListenerTls {
            certificate_chain: pki.server.cert.clone(),
            private_key: pki.server.key.clone(),
            client_ca: (auth != ClientAuth::None).then(|| pki.ca.clone()),
            require_client_certificate: auth == ClientAuth::Require,
        };
        let config = MeshConfig::new()
            .plugin(plugin)
            .cluster(Cluster::fixed("backend", [backend.addr]))
            .listener(
                Listener::new("main")
                    .filter(&filter)
                    .route(Route::prefix("/", "backend"))
                    .tls(tls),
            );
        let proxy = kind.start(&config);
        TlsSetup {
            kind,
            proxy,
            backend,
            pki,
        }
    }

    /// The TLS listener's port.
    pub fn port(&self) -> u16 {
        self.proxy.listener("main").port()
    }

    /// A request for the guest's `properties` case to `HOST`.
    pub fn properties(&self) -> Https<'_> {
        Https::get(HOST, self.port(), "/props", &self.pki.ca).header("x-abi-case", "properties")
    }
}

/// The properties report of a successful request.
fn properties_of(kind: ProxyKind, outcome: &CurlOutcome) -> Value {
    assert_eq!(outcome.exit, 0, "{kind:?}: {outcome:?}");
    assert_eq!(outcome.status, 200, "{kind:?}: {outcome:?}");
    outcome.json()
}

/// Asserts each `(property, value)` of `expected` in `report`'s values.
fn assert_values(kind: ProxyKind, report: &Value, expected: &[(&str, Value)]) {
    for (name, value) in expected {
        assert_eq!(&report["values"][name], value, "{kind:?}: {name}: {report}");
    }
}

/// `mtls_properties`: a client with a certificate from the trusted CA, on a listener that
/// requires one, over HTTP/1.1 and h2: the guest sees the client's identity, the session and
/// our certificate with Envoy's names and encodings.
pub fn mtls_properties(kind: ProxyKind) {
    let setup = TlsSetup::start(kind, ClientAuth::Require);
    let pki = &setup.pki;
    for http2 in [false, true] {
        let mut request = setup.properties().client(&pki.client);
        if http2 {
            request = request.http2();
        }
        let outcome = request.send();
        let report = properties_of(kind, &outcome);
        assert_eq!(
            outcome.http_version,
            if http2 { "2" } else { "1.1" },
            "{kind:?}: ALPN: {outcome:?}"
        );
        assert_values(
            kind,
            &report,
            &[
                ("connection.mtls", json!(true)),
                ("connection.tls_version", json!("TLSv1.3")),
                ("connection.requested_server_name", json!(HOST)),
                (
                    "connection.subject_peer_certificate",
                    json!("CN=web,O=wasmesh test"),
                ),
                (
                    "connection.uri_san_peer_certificate",
                    json!(spiffe_id("web")),
                ),
                ("connection.dns_san_peer_certificate", Value::Null),
                (
                    "connection.sha256_peer_certificate_digest",
                    json!(sha256_hex(&pki.client.der)),
                ),
                (
                    "connection.subject_local_certificate",
                    json!("CN=api.test,O=wasmesh test"),
                ),
                (
                    "connection.uri_san_local_certificate",
                    json!(spiffe_id("api")),
                ),
                ("connection.dns_san_local_certificate", json!(HOST)),
                ("request.scheme", json!("https")),
                (
                    "request.protocol",
                    json!(if http2 { "HTTP/2" } else { "HTTP/1.1" }),
                ),
            ],
        );
    }
    // The request the backend got says how the client came.
    let outcome = Https::get(HOST, setup.port(), "/echo", &pki.ca)
        .client(&pki.client)
        .send();
    assert_eq!(outcome.status, 200, "{kind:?}: {outcome:?}");
    let echoed = outcome.json();
    assert_eq!(
        echoed["headers"]["x-forwarded-proto"], "https",
        "{kind:?}: {echoed}"
    );
}

/// `optional_client_certificate`: a client without a certificate is served on a listener that
/// only asks for one; the guest sees no mutual TLS and no peer certificate.
pub fn optional_client_certificate(kind: ProxyKind) {
    let setup = TlsSetup::start(kind, ClientAuth::Optional);
    let report = properties_of(kind, &setup.properties().send());
    assert_values(
        kind,
        &report,
        &[
            ("connection.mtls", json!(false)),
            ("connection.tls_version", json!("TLSv1.3")),
            ("connection.requested_server_name", json!(HOST)),
            ("connection.subject_peer_certificate", Value::Null),
            ("connection.uri_san_peer_certificate", Value::Null),
            ("connection.sha256_peer_certificate_digest", Value::Null),
            (
                "connection.subject_local_certificate",
                json!("CN=api.test,O=wasmesh test"),
            ),
        ],
    );
    // With a certificate it is mutual TLS.
    let report = properties_of(kind, &setup.properties().client(&setup.pki.client).send());
    assert_values(
        kind,
        &report,
        &[
            ("connection.mtls", json!(true)),
            (
                "connection.uri_san_peer_certificate",
                json!(spiffe_id("web")),
            ),
        ],
    );
}

/// `plain_listener_properties`: on a plain-text listener `connection.mtls` is false and the
/// TLS properties are absent.
pub fn plain_listener_properties(kind: ProxyKind) {
    let abi = super::abi::Abi::start(kind);
    let report = abi.json_case("properties", "/props", &[]);
    assert_values(
        kind,
        &report,
        &[
            ("connection.mtls", json!(false)),
            ("connection.tls_version", Value::Null),
            ("connection.subject_peer_certificate", Value::Null),
            ("connection.subject_local_certificate", Value::Null),
            ("request.scheme", json!("http")),
        ],
    );
}

/// `refused_client_certificates`: on a listener that requires a client certificate, no
/// certificate, one from an untrusted CA and an expired one each fail the handshake; the
/// backend sees nothing, and a good client is served right after.
pub fn refused_client_certificates(kind: ProxyKind) {
    let setup = TlsSetup::start(kind, ClientAuth::Require);
    let pki = &setup.pki;
    let refused = [
        ("no certificate", None),
        ("untrusted CA", Some(&pki.untrusted_client)),
        ("expired", Some(&pki.expired_client)),
    ];
    for (what, client) in refused {
        let mut request = setup.properties();
        if let Some(client) = client {
            request = request.client(client);
        }
        let outcome = request.send();
        assert_ne!(outcome.exit, 0, "{kind:?}: {what}: {outcome:?}");
        assert_eq!(
            outcome.status, 0,
            "{kind:?}: {what}: no response: {outcome:?}"
        );
    }
    assert_eq!(setup.backend.requests_seen(), 0, "{kind:?}");
    let report = properties_of(kind, &setup.properties().client(&pki.client).send());
    assert_values(kind, &report, &[("connection.mtls", json!(true))]);
}

/// `access_log_names_the_client`: the metrics filter's access-log line carries the client's
/// SPIFFE ID (its certificate's URI SAN) in `peer_identity`.
pub fn access_log_names_the_client(kind: ProxyKind) {
    let metrics = Plugin::new("metrics", &build_filters().metrics)
        .vm_id("metrics")
        .configuration(json!({ "direction": "inbound", "access_log": true }));
    let setup = TlsSetup::start_with(kind, ClientAuth::Require, metrics);
    let outcome = Https::get(HOST, setup.port(), "/echo", &setup.pki.ca)
        .client(&setup.pki.client)
        .send();
    assert_eq!(outcome.status, 200, "{kind:?}: {outcome:?}");
    let echoed = outcome.json();
    let request_id = echoed["headers"]["x-request-id"]
        .as_str()
        .unwrap_or_else(|| panic!("{kind:?}: no x-request-id upstream: {echoed}"))
        .to_string();
    let line = crate::poll_until(
        &format!("{kind:?}: the access-log line of {request_id}"),
        std::time::Duration::from_secs(5),
        || {
            super::metrics::tracing::find_log_line(&setup.proxy, &request_id)
                .ok_or_else(|| setup.proxy.logs())
        },
    );
    assert_eq!(line["peer_identity"], spiffe_id("web"), "{kind:?}: {line}");
}

/// Mutual TLS to endpoints with identity `accept`, signed by `pki`'s CA, presenting its
/// client certificate (`web`).
pub(crate) fn mutual_tls(pki: &TestPki, accept: &str) -> ClusterTls {
    ClusterTls {
        trusted_ca: pki.ca.clone(),
        subject_alt_names: vec![accept.to_string()],
        client_certificate: Some((pki.client.cert.clone(), pki.client.key.clone())),
        auto_sni: false,
    }
}

/// A front proxy of `kind` with the abi-test guest, sending everything to `cluster` (named
/// `backend`).
fn front_with(kind: ProxyKind, cluster: Cluster) -> Proxy {
    let plugin = Plugin::new(PLUGIN, &build_filters().abi_test)
        .root_id(ROOT_ID)
        .vm_id(VM_ID)
        .configuration(json!(PLUGIN_CONFIG))
        .vm_config(json!(VM_CONFIG));
    let config = MeshConfig::new().plugin(plugin).cluster(cluster).listener(
        Listener::new("main")
            .filter(PLUGIN)
            .route(Route::prefix("/", "backend")),
    );
    kind.start(&config)
}

/// A front proxy of `kind` with the abi-test guest, sending everything over mutual TLS to
/// `server` (a TLS listener requiring client certificates), trusting `pki`'s CA and accepting
/// an endpoint with identity `accept`.
fn front(kind: ProxyKind, server: &TlsSetup, accept: &str) -> Proxy {
    let pki = &server.pki;
    let tls = mutual_tls(pki, accept);
    let upstream = server.proxy.listener("main");
    front_with(kind, Cluster::fixed("backend", [upstream]).tls(tls))
}

/// `original_dst_over_tls`: an original-destination cluster with mutual TLS: the destination
/// a filter names (the `headers` filter, since wasmesh ignores a client's own destination
/// header) is reached over TLS, its identity checked, and the guest reads the session.
pub fn original_dst_over_tls(kind: ProxyKind) {
    let server = TlsSetup::start(ProxyKind::Wasmesh, ClientAuth::Require);
    let pki = &server.pki;
    let tls = mutual_tls(pki, &spiffe_id("api"));
    let destination = server.proxy.listener("main").to_string();
    let set_destination = Plugin::new("destination", &build_filters().headers)
        .configuration(json!({ "request": { "add": { "x-destination": destination } } }));
    let abi = Plugin::new(PLUGIN, &build_filters().abi_test)
        .root_id(ROOT_ID)
        .vm_id(VM_ID)
        .configuration(json!(PLUGIN_CONFIG))
        .vm_config(json!(VM_CONFIG));
    let config = MeshConfig::new()
        .plugin(set_destination)
        .plugin(abi)
        .cluster(Cluster::original_dst("backend", "x-destination").tls(tls))
        .listener(
            Listener::new("main")
                .filter("destination")
                .filter(PLUGIN)
                .route(Route::prefix("/", "backend")),
        );
    let front = kind.start(&config);
    let response = crate::client::get(
        &front.url("main", "/"),
        &[("x-abi-case", "properties-response")],
    );
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let api = spiffe_id("api");
    assert_eq!(
        response.header("x-abi-prop-upstream-peer-uri-san"),
        Some(api.as_str()),
        "{kind:?}"
    );
    assert_eq!(server.backend.requests_seen(), 1, "{kind:?}");
}

/// `auto_sni`: a front proxy of either host sends each request's host as SNI to a wasmesh
/// serving `api.test` and `other.test`, and checks the certificate against that host: each
/// request gets the certificate of its host (connections are not shared across hosts), and a
/// host the server has no certificate for gets the default one, which is refused: `503`.
pub fn auto_sni(kind: ProxyKind) {
    let pki = TestPki::mint();
    let backend = Backend::start(BACKEND);
    let server = crate::Wasmesh::start(wasmesh_only::config(
        &backend,
        wasmesh_only::two_certificates(&pki),
    ));
    let tls = ClusterTls {
        trusted_ca: pki.ca.clone(),
        auto_sni: true,
        ..ClusterTls::default()
    };
    let front = front_with(
        kind,
        Cluster::fixed("backend", [server.listener("main")]).tls(tls),
    );
    for host in ["other.test", HOST, "other.test", HOST] {
        let response = crate::client::get(
            &front.url("main", "/"),
            &[("host", host), ("x-abi-case", "properties-response")],
        );
        assert_eq!(response.status, 200, "{kind:?} {host}: {}", response.text());
        assert_eq!(
            response.header("x-abi-prop-upstream-peer-dns-san"),
            Some(host),
            "{kind:?}: the certificate for {host}"
        );
    }
    let seen = backend.requests_seen();
    let response = crate::client::get(&front.url("main", "/"), &[("host", "unknown.test")]);
    assert_eq!(response.status, 503, "{kind:?}: {}", response.text());
    assert_eq!(
        backend.requests_seen(),
        seen,
        "{kind:?}: nothing reached the server"
    );
}

/// `upstream_mtls`: a front proxy of either host talks mutual TLS to a wasmesh that requires
/// client certificates: the front's guest reads the upstream session (`upstream.*`) as Envoy
/// defines it, and the server's access log names the front's identity.
pub fn upstream_mtls(kind: ProxyKind) {
    let metrics = Plugin::new("metrics", &build_filters().metrics)
        .vm_id("metrics")
        .configuration(json!({ "direction": "inbound", "access_log": true }));
    let server = TlsSetup::start_with(ProxyKind::Wasmesh, ClientAuth::Require, metrics);
    let front = front(kind, &server, &spiffe_id("api"));
    let response = crate::client::get(
        &front.url("main", "/"),
        &[("x-abi-case", "properties-response")],
    );
    assert_eq!(response.status, 200, "{kind:?}: {}", response.text());
    let digest = sha256_hex(&server.pki.server.der);
    let api = spiffe_id("api");
    let web = spiffe_id("web");
    let expected = [
        ("x-abi-prop-upstream-tls-version", "TLSv1.3"),
        (
            "x-abi-prop-upstream-peer-subject",
            "CN=api.test,O=wasmesh test",
        ),
        ("x-abi-prop-upstream-peer-uri-san", api.as_str()),
        ("x-abi-prop-upstream-peer-dns-san", HOST),
        ("x-abi-prop-upstream-peer-digest", digest.as_str()),
        ("x-abi-prop-upstream-local-uri-san", web.as_str()),
        ("x-abi-prop-upstream-local-subject", "CN=web,O=wasmesh test"),
        ("x-abi-prop-response-header", BACKEND),
    ];
    for (header, value) in expected {
        assert_eq!(response.header(header), Some(value), "{kind:?}: {header}");
    }
    crate::poll_until(
        &format!("{kind:?}: the server's access log naming the front"),
        std::time::Duration::from_secs(5),
        || {
            let logs = server.proxy.logs();
            let named = format!("\"peer_identity\":\"{web}\"");
            logs.contains(&named).then_some(()).ok_or(logs)
        },
    );
}

/// `upstream_identity_is_checked`: a front that accepts only another identity than the
/// server's refuses the connection: `503`, and nothing reaches the server's backend.
pub fn upstream_identity_is_checked(kind: ProxyKind) {
    let server = TlsSetup::start(ProxyKind::Wasmesh, ClientAuth::Require);
    let front = front(kind, &server, &spiffe_id("someone-else"));
    let response = crate::client::get(&front.url("main", "/"), &[]);
    assert_eq!(response.status, 503, "{kind:?}: {}", response.text());
    assert_eq!(server.backend.requests_seen(), 0, "{kind:?}");
}

/// `wasmesh_to_envoy_mtls`: wasmesh as the mutual-TLS client of Envoy: Envoy's guest sees
/// wasmesh's identity, and wasmesh accepts Envoy only under the server's identity.
pub fn wasmesh_to_envoy_mtls() {
    let server = TlsSetup::start(ProxyKind::Envoy, ClientAuth::Require);
    let pki = &server.pki;
    let tls = mutual_tls(pki, &spiffe_id("api"));
    let config = MeshConfig::new()
        .cluster(Cluster::fixed("envoy", [server.proxy.listener("main")]).tls(tls))
        .listener(Listener::new("main").route(Route::prefix("/", "envoy")));
    let front = ProxyKind::Wasmesh.start(&config);
    let response = crate::client::get(
        &front.url("main", "/props"),
        &[("x-abi-case", "properties")],
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let report: Value = serde_json::from_slice(&response.body).expect("the guest's JSON");
    assert_values(
        ProxyKind::Envoy,
        &report,
        &[
            ("connection.mtls", json!(true)),
            (
                "connection.uri_san_peer_certificate",
                json!(spiffe_id("web")),
            ),
            ("connection.tls_version", json!("TLSv1.3")),
        ],
    );
}

/// `untrusting_client`: a client that does not trust our CA refuses the handshake itself.
pub fn untrusting_client(kind: ProxyKind) {
    let setup = TlsSetup::start(kind, ClientAuth::None);
    let outcome = Https::get(HOST, setup.port(), "/", &setup.pki.untrusted_client.cert).send();
    assert_eq!(
        outcome.exit, 60,
        "{kind:?}: curl's 'peer certificate cannot be authenticated': {outcome:?}"
    );
    let outcome = Https::get("wrong.test", setup.port(), "/", &setup.pki.ca).send();
    assert_eq!(
        outcome.exit, 60,
        "{kind:?}: a name the certificate lacks: {outcome:?}"
    );
    assert_eq!(setup.backend.requests_seen(), 0, "{kind:?}");
}

pub mod calls;
pub mod wasmesh_only;
