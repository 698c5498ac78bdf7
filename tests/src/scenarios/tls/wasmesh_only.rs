//! wasmesh's own TLS settings and failure paths: several certificates chosen by SNI, the
//! handshake timeout and the clients that never finish one, configuration errors that name
//! their field, and reloads that keep serving with the old certificates when the new ones are
//! broken.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::HOST;
use crate::pki::TestPki;
use crate::raw;
use crate::scenarios::rollout::metric;
use crate::tls_client::Https;
use crate::{wasmesh_bin, Backend, BackendHandle, Proxy, Wasmesh};

/// The handshake timeout the bad-client test configures.
const HANDSHAKE_TIMEOUT_MS: u64 = 500;

/// A wasmesh config: listener `main` with `tls`, routing to `backend`, no filters.
pub(super) fn config(backend: &BackendHandle, tls: Value) -> Value {
    json!({
        "admin": { "address": "127.0.0.1:0" },
        "clusters": [{ "name": "backend", "type": "static",
                       "endpoints": [backend.addr.to_string()] }],
        "listeners": [{ "name": "main", "address": "127.0.0.1:0",
                        "routes": [{ "match": { "prefix": "/" }, "cluster": "backend" }],
                        "tls": tls }],
    })
}

/// `tls` presenting `api.test` (the default) and `other.test`.
pub(super) fn two_certificates(pki: &TestPki) -> Value {
    json!({ "certificates": [
        { "certificate_chain": pki.server.cert, "private_key": pki.server.key },
        { "certificate_chain": pki.other_server.cert, "private_key": pki.other_server.key },
    ]})
}

/// The subject line of the certificate `openssl s_client` got for `servername` (none: no
/// SNI), and the ALPN protocol it negotiated offering h2.
fn s_client(addr: SocketAddr, servername: Option<&str>) -> (String, String) {
    let mut command = Command::new("openssl");
    command
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-alpn",
            "h2,http/1.1",
        ])
        .stdin(std::process::Stdio::null());
    match servername {
        Some(name) => command.args(["-servername", name]),
        None => command.arg("-noservername"),
    };
    let output = command
        .output()
        .expect("running openssl s_client (Debian package openssl)");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let line = |prefix: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    (line("subject="), line("ALPN protocol:"))
}

/// Several certificates: the SNI picks one, the first serves clients without SNI or with an
/// unknown name; ALPN offers h2.
pub fn sni_picks_the_certificate() {
    let pki = TestPki::mint();
    let backend = Backend::start("b1");
    let proxy = Wasmesh::start(config(&backend, two_certificates(&pki)));
    let addr = proxy.listener("main");
    let cases = [
        (Some("other.test"), "other.test"),
        (Some(HOST), HOST),
        (Some("unknown.test"), HOST),
        (None, HOST),
        // An IP address as SNI (not allowed, yet some clients send one): the default, and no
        // log line per handshake (rustls warns of it; any client could fill the log).
        (Some("127.0.0.1"), HOST),
    ];
    for (servername, served) in cases {
        let (subject, alpn) = s_client(addr, servername);
        assert!(
            subject.ends_with(&format!("CN = {served}")),
            "SNI {servername:?}: got {subject:?}"
        );
        assert_eq!(alpn, "h2", "SNI {servername:?}");
    }
    assert!(!proxy.logs().contains("Illegal SNI"), "{}", proxy.logs());
    // curl checks the name too: each host name gets a certificate that is valid for it.
    for host in ["other.test", HOST] {
        let outcome = Https::get(host, addr.port(), "/", &pki.ca).send();
        assert_eq!(
            (outcome.exit, outcome.status),
            (0, 200),
            "{host}: {outcome:?}"
        );
    }
}

/// Plain HTTP, bytes that are not TLS, and a client that connects and says nothing: each
/// connection is closed without a response (the silent one once the handshake timeout
/// passes), counted by reason, and a good client is served all the while.
pub fn bad_clients_are_closed_and_counted() {
    let pki = TestPki::mint();
    let backend = Backend::start("b1");
    let mut tls = two_certificates(&pki);
    tls["handshake_timeout_ms"] = json!(HANDSHAKE_TIMEOUT_MS);
    let proxy = Wasmesh::start(config(&backend, tls));
    let addr = proxy.listener("main");
    let silent = std::thread::spawn(move || {
        let started = Instant::now();
        let got = raw::exchange(addr, b"", Duration::from_secs(5));
        (got, started.elapsed())
    });
    let attempts: [(&str, &[u8]); 2] = [
        ("plain HTTP", b"GET / HTTP/1.1\r\nHost: api.test\r\n\r\n"),
        (
            "garbage",
            b"\x00\x01\x02 not a TLS record at all \xff\xfe\r\n\r\n",
        ),
    ];
    for (what, bytes) in attempts {
        let started = Instant::now();
        let got = raw::exchange(addr, bytes, Duration::from_secs(5));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{what}: closed at once"
        );
        assert!(
            raw::status_code(&got).is_none(),
            "{what}: no HTTP response: {:?}",
            String::from_utf8_lossy(&got)
        );
        let outcome = Https::get(HOST, addr.port(), "/", &pki.ca).send();
        assert_eq!(outcome.status, 200, "after {what}: {outcome:?}");
    }
    let (got, took) = silent.join().expect("the silent client");
    assert!(got.is_empty(), "the silent client got {got:?}");
    let timeout = Duration::from_millis(HANDSHAKE_TIMEOUT_MS);
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(2),
        "the silent client was closed after {took:?}, not at the handshake timeout {timeout:?}"
    );
    let errors = "wasmesh_downstream_tls_handshake_errors_total";
    assert_eq!(
        metric(&proxy, &format!("{errors}{{reason=\"timeout\"}}")),
        1.0
    );
    assert_eq!(
        metric(&proxy, &format!("{errors}{{reason=\"not_tls\"}}")),
        2.0
    );
    assert_eq!(
        metric(
            &proxy,
            "wasmesh_downstream_tls_handshakes_total{listener=\"main\"}"
        ),
        2.0
    );
    assert_eq!(backend.requests_seen(), 2);
}

/// `wasmesh check` on a listener with `tls`: the error it prints (it must fail).
fn check_error(backend: &BackendHandle, tls: Value) -> String {
    check_config_error(&config(backend, tls))
}

/// `wasmesh check` on `config`: the error it prints (it must fail).
fn check_config_error(config: &Value) -> String {
    let dir = crate::target_dir().join("e2e");
    std::fs::create_dir_all(&dir).expect("creating target/e2e");
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("tls-check-{}-{n}.json", std::process::id()));
    let text = serde_json::to_string(config).expect("a config");
    std::fs::write(&path, text).expect("writing the config");
    let output = Command::new(wasmesh_bin())
        .args(["check", "-c"])
        .arg(&path)
        .output()
        .expect("running wasmesh check");
    assert!(!output.status.success(), "wasmesh check accepted it");
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// Each broken TLS setting is refused by `wasmesh check` with a message naming its field.
pub fn bad_tls_config_names_the_field() {
    let pki = TestPki::mint();
    let backend = Backend::start("b1");
    let server = |key: &std::path::Path| json!({ "certificates": [{ "certificate_chain": pki.server.cert, "private_key": key }] });
    let mut unknown_alpn = server(&pki.server.key);
    unknown_alpn["alpn_protocols"] = json!(["h3"]);
    let mut no_versions = server(&pki.server.key);
    no_versions["min_version"] = json!("TLSv1_3");
    no_versions["max_version"] = json!("TLSv1_2");
    let mut missing_ca = server(&pki.server.key);
    missing_ca["client_certificate"] =
        json!({ "mode": "require", "trusted_ca": pki.dir.join("nope.pem") });
    let mut unknown_field = server(&pki.server.key);
    unknown_field["cipher_policy"] = json!("modern");
    let cases = [
        (
            server(&pki.stray_key),
            "listeners[0].tls (\"main\"): certificates[0].private_key:",
            "does not fit",
        ),
        (
            server(&pki.dir.join("missing-key.pem")),
            "certificates[0].private_key:",
            "missing-key.pem",
        ),
        (
            json!({ "certificates": [] }),
            "listeners[0].tls (\"main\"): certificates:",
            "at least one",
        ),
        (unknown_alpn, "alpn_protocols[0]:", "\"h3\""),
        (no_versions, "min_version:", "newer than max_version"),
        (missing_ca, "client_certificate.trusted_ca:", "nope.pem"),
        (unknown_field, "cipher_policy", "unknown field"),
    ];
    for (tls, field, cause) in cases {
        let error = check_error(&backend, tls);
        assert!(error.contains(field), "want {field:?} in: {error}");
        assert!(error.contains(cause), "want {cause:?} in: {error}");
    }
}

/// A reload whose certificate and key do not fit is refused with the field named; the proxy
/// keeps serving with the certificates it had. A reload with a new certificate is served to
/// the next handshake.
pub fn reload_keeps_serving_when_the_new_pair_is_broken() {
    let pki = TestPki::mint();
    let backend = Backend::start("b1");
    let serving = |cert: &std::path::Path, key: &std::path::Path| json!({ "certificates": [{ "certificate_chain": cert, "private_key": key }] });
    let proxy: Proxy = Wasmesh::start(config(&backend, serving(&pki.server.cert, &pki.server.key)));
    let port = proxy.listener("main").port();
    let broken = config(&backend, serving(&pki.server.cert, &pki.stray_key));
    let (status, body) = crate::scenarios::remote_modules::reload_with(&proxy, &broken);
    assert_ne!(status, 200, "{body}");
    assert!(body.contains("certificates[0].private_key"), "{body}");
    let outcome = Https::get(HOST, port, "/", &pki.ca).send();
    assert_eq!((outcome.exit, outcome.status), (0, 200), "{outcome:?}");
    let rotated = config(
        &backend,
        serving(&pki.other_server.cert, &pki.other_server.key),
    );
    let (status, body) = crate::scenarios::remote_modules::reload_with(&proxy, &rotated);
    assert_eq!(status, 200, "{body}");
    let outcome = Https::get("other.test", port, "/", &pki.ca).send();
    assert_eq!((outcome.exit, outcome.status), (0, 200), "{outcome:?}");
}

/// The README's TLS example: `cargo xtask certs` mints the files, `examples/tls/wasmesh.json`
/// (its addresses and file locations pointed at this test's) serves the client certificate's
/// holder, names it in the access log, and refuses a client without one.
pub fn readme_example_serves_with_minted_certificates() {
    let dir = crate::target_dir()
        .join("e2e")
        .join(format!("xtask-certs-{}", std::process::id()));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["xtask", "certs", "--out"])
        .arg(&dir)
        .current_dir(crate::workspace_root())
        .output()
        .expect("running cargo xtask certs");
    assert!(output.status.success(), "{output:?}");
    let backend = Backend::start("b1");
    let example = crate::workspace_root().join("examples/tls/wasmesh.json");
    let text = std::fs::read_to_string(&example).expect("reading examples/tls/wasmesh.json");
    let wasm_dir = crate::target_dir().join("wasm32-wasip1").join("wasm");
    let text = text
        .replace("127.0.0.1:9902", "127.0.0.1:0")
        .replace("127.0.0.1:10443", "127.0.0.1:0")
        .replace("127.0.0.1:8081", &backend.addr.to_string())
        .replace("../../target/certs", &dir.display().to_string())
        .replace(
            "../../target/wasm32-wasip1/wasm",
            &wasm_dir.display().to_string(),
        );
    crate::build_filters();
    let proxy = Wasmesh::start(serde_json::from_str(&text).expect("the example is JSON"));
    let port = proxy.listener("edge").port();
    let client = crate::pki::CertFiles {
        cert: dir.join("client.pem"),
        key: dir.join("client-key.pem"),
        der: Vec::new(),
    };
    let ca = dir.join("ca.pem");
    let outcome = Https::get("localhost", port, "/hello", &ca)
        .client(&client)
        .send();
    assert_eq!((outcome.exit, outcome.status), (0, 200), "{outcome:?}");
    let identity = "\"peer_identity\":\"spiffe://wasmesh.example/ns/default/sa/web\"";
    crate::poll_until(
        "the access-log line naming the client",
        Duration::from_secs(5),
        || {
            let logs = proxy.logs();
            logs.contains(identity).then_some(()).ok_or(logs)
        },
    );
    let refused = Https::get("localhost", port, "/hello", &ca).send();
    assert_eq!(refused.status, 0, "no client certificate: {refused:?}");
    assert_eq!(backend.requests_seen(), 1);
}

/// Each broken cluster TLS setting is refused by `wasmesh check`, naming its field.
pub fn bad_cluster_tls_names_the_field() {
    let pki = TestPki::mint();
    let backend = Backend::start("b1");
    let with_cluster_tls = |tls: Value| {
        let mut config = config(&backend, two_certificates(&pki));
        config["clusters"][0]["tls"] = tls;
        config
    };
    let cases = [
        (
            json!({ "trusted_ca": pki.dir.join("nope.pem") }),
            "clusters[0].tls (\"backend\"): trusted_ca:",
            "nope.pem",
        ),
        (
            json!({ "trusted_ca": pki.ca, "sni": "not a name!" }),
            "sni:",
            "not a name!",
        ),
        (
            json!({ "trusted_ca": pki.ca, "client_certificate":
                    { "certificate_chain": pki.client.cert, "private_key": pki.stray_key } }),
            "client_certificate.private_key:",
            "",
        ),
    ];
    for (tls, field, cause) in cases {
        let error = check_config_error(&with_cluster_tls(tls));
        assert!(error.contains(field), "want {field:?} in: {error}");
        assert!(error.contains(cause), "want {cause:?} in: {error}");
    }
}

/// Certificate files are watched: writing a new certificate and key over the served ones
/// reaches the next handshake without a reload command, while a connection opened before goes
/// on serving; a broken pair written over them is refused (the reload fails and says why),
/// and the pair before keeps serving.
pub fn rotated_certificate_files_reach_new_handshakes() {
    let pki = TestPki::mint();
    let backend = Backend::start("b1");
    // The served files are copies the test overwrites, as a certificate manager would.
    let (cert, key) = (pki.dir.join("served.pem"), pki.dir.join("served-key.pem"));
    let install = |from_cert: &std::path::Path, from_key: &std::path::Path| {
        crate::scenarios::reload::replace_file(&cert, &std::fs::read(from_cert).expect("cert"));
        crate::scenarios::reload::replace_file(&key, &std::fs::read(from_key).expect("key"));
    };
    install(&pki.server.cert, &pki.server.key);
    let tls = json!({ "certificates": [{ "certificate_chain": cert, "private_key": key }] });
    let proxy = Wasmesh::start(config(&backend, tls));
    let addr = proxy.listener("main");
    let mut before =
        crate::tls_client::KeepAlive::connect(addr, HOST, &pki.ca).expect("a TLS connection");
    assert_eq!(before.served_certificate(), pki.server.der);
    assert_eq!(before.get(HOST, "/"), Ok(200));
    // The same names, a new certificate: `other` is valid for other.test, so ask for that.
    install(&pki.other_server.cert, &pki.other_server.key);
    let rotated = crate::poll_until(
        "a new handshake gets the rotated certificate",
        Duration::from_secs(10),
        || {
            let fresh = crate::tls_client::KeepAlive::connect(addr, "other.test", &pki.ca)?;
            (fresh.served_certificate() == pki.other_server.der)
                .then_some(fresh)
                .ok_or_else(|| "still the old certificate".to_string())
        },
    );
    drop(rotated);
    assert_eq!(
        before.get(HOST, "/"),
        Ok(200),
        "the connection from before goes on"
    );
    let failed = metric(&proxy, "wasmesh_reloads_failed_total");
    install(&pki.server.cert, &pki.stray_key);
    crate::poll_until(
        "the broken pair's reload fails",
        Duration::from_secs(10),
        || {
            (metric(&proxy, "wasmesh_reloads_failed_total") > failed)
                .then_some(())
                .ok_or_else(|| proxy.logs())
        },
    );
    let config_view = proxy.admin_get("/config").text();
    assert!(config_view.contains("does not fit"), "{config_view}");
    let after =
        crate::tls_client::KeepAlive::connect(addr, "other.test", &pki.ca).expect("still served");
    assert_eq!(after.served_certificate(), pki.other_server.der);
}
