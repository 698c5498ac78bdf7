//! A guest's own calls to a TLS cluster, in both hosts: an `http_call` over mutual TLS to a
//! wasmesh that requires client certificates, and a gRPC call to a real gRPC server (Python
//! grpcio, on BoringSSL) serving TLS. The calls take the cluster's TLS as proxied requests do.

use serde_json::json;

use super::{mutual_tls, spiffe_id, ClientAuth, TlsSetup};
use crate::grpc_server::GrpcServer;
use crate::pki::TestPki;
use crate::scenarios::abi::{Abi, BACKEND};
use crate::{Cluster, ClusterTls, ProxyKind};

/// The TLS cluster the calls name.
const TLS_CLUSTER: &str = "tls_upstream";

/// `http_call_over_tls`: the call reaches the server over mutual TLS (its backend sees
/// `x-forwarded-proto: https`), and the guest gets the echo.
pub fn http_call_over_tls(kind: ProxyKind) {
    let server = TlsSetup::start(ProxyKind::Wasmesh, ClientAuth::Require);
    let pki = &server.pki;
    let tls = mutual_tls(pki, &spiffe_id("api"));
    let upstream = server.proxy.listener("main");
    let abi = Abi::start_with(kind, vec![Cluster::fixed(TLS_CLUSTER, [upstream]).tls(tls)]);
    let body = abi.json_case("http-call", "/", &[("x-abi-upstream", TLS_CLUSTER)]);
    assert_eq!(body["status"], "200", "{kind:?}: {body}");
    let echo = &body["body"];
    assert_eq!(echo["backend"], BACKEND, "{kind:?}: {body}");
    assert_eq!(echo["path"], "/from-http-call", "{kind:?}: {body}");
    assert_eq!(
        echo["headers"]["x-forwarded-proto"], "https",
        "{kind:?}: {body}"
    );
    assert_eq!(server.backend.requests_seen(), 1, "{kind:?}");
    assert_eq!(abi.backend.requests_seen(), 0, "{kind:?}");
}

/// `grpc_call_over_tls`: a unary call to a gRPC server serving TLS (ALPN h2), its identity
/// checked, answers as over h2c.
pub fn grpc_call_over_tls(kind: ProxyKind) {
    let pki = TestPki::mint();
    let server = GrpcServer::start_tls(&pki.server.cert, &pki.server.key);
    let tls = ClusterTls {
        trusted_ca: pki.ca.clone(),
        subject_alt_names: vec![spiffe_id("api")],
        ..ClusterTls::default()
    };
    let cluster = Cluster::fixed(TLS_CLUSTER, [server.addr]).http2().tls(tls);
    let abi = Abi::start_with(kind, vec![cluster]);
    let got = abi.json_case(
        "grpc-call",
        "/",
        &[
            ("x-abi-upstream", TLS_CLUSTER),
            ("x-abi-grpc-text", "over tls"),
            ("x-abi-grpc-target", "name"),
        ],
    );
    assert_eq!(got["dispatch"], "Ok", "{kind:?}: {got}");
    assert_eq!(got["status_code"], 0, "{kind:?}: {got}");
    assert_eq!(got["reply"]["text"], json!("over tls"), "{kind:?}: {got}");
    assert_eq!(
        got["reply"]["method"], "/wasmesh.test.Echo/Unary",
        "{kind:?}: {got}"
    );
}
