//! The ABI exerciser guest in real Envoy: the reference for `wasmesh_abi.rs`.

use wasmesh_tests::scenarios::abi;
use wasmesh_tests::scenarios::signature::KeyKind;
use wasmesh_tests::ProxyKind::Envoy;

#[test]
fn passthrough() {
    abi::passthrough(Envoy);
}

#[test]
fn unknown_case() {
    abi::unknown_case(Envoy);
}

#[test]
fn log() {
    abi::log(Envoy);
}

#[test]
fn headers() {
    abi::headers(Envoy);
}

#[test]
fn headers_set_all() {
    abi::headers_set_all(Envoy);
}

#[test]
fn trailers_http1() {
    abi::trailers_http1(Envoy);
}

#[test]
fn trailers_http2() {
    abi::trailers_http2(Envoy);
}

#[test]
fn trailers_from_client() {
    abi::trailers_from_client(Envoy);
}

#[test]
fn local_reply() {
    abi::local_reply(Envoy);
}

#[test]
fn local_reply_in_response() {
    abi::local_reply_in_response(Envoy);
}

#[test]
fn grpc_local_reply() {
    abi::grpc_local_reply(Envoy);
}

#[test]
fn properties() {
    abi::properties(Envoy);
}

#[test]
fn properties_response() {
    abi::properties_response(Envoy);
}

#[test]
fn shared_data() {
    abi::shared_data(Envoy);
}

#[test]
fn queue() {
    abi::queue(Envoy);
}

#[test]
fn timer() {
    abi::timer(Envoy);
}

#[test]
fn time() {
    abi::time(Envoy);
}

#[test]
fn wasi() {
    abi::wasi(Envoy);
}

#[test]
fn metrics() {
    abi::metrics(Envoy);
}

#[test]
fn http_call() {
    abi::http_call(Envoy);
}

#[test]
fn http_call_requires_upstream() {
    abi::http_call_requires_upstream(Envoy);
}

#[test]
fn http_call_timeout() {
    abi::http_call_timeout(Envoy);
}

#[test]
fn http_call_bad_cluster() {
    abi::http_call_bad_cluster(Envoy);
}

#[test]
fn continue_request() {
    abi::continue_request(Envoy);
}

#[test]
fn continue_response() {
    abi::continue_response(Envoy);
}

#[test]
fn body() {
    abi::body(Envoy);
}

#[test]
fn body_prepend() {
    abi::body_prepend(Envoy);
}

#[test]
fn body_stream() {
    abi::body_stream(Envoy);
}

#[test]
fn body_calls() {
    abi::body_calls(Envoy);
}

#[test]
fn close() {
    abi::close(Envoy);
}

#[test]
fn close_response() {
    abi::close_response(Envoy);
}

#[test]
fn foreign() {
    abi::foreign(Envoy);
}

#[test]
fn declare_property() {
    abi::declare_property(Envoy);
}

#[test]
fn grpc() {
    abi::grpc(Envoy);
}

#[test]
fn config() {
    abi::config(Envoy);
}

#[test]
fn done() {
    abi::done(Envoy);
}

#[test]
fn plugins_with_one_vm_id_share_an_instance() {
    wasmesh_tests::scenarios::vm_sharing::plugins_with_one_vm_id_share_an_instance(Envoy);
}

#[test]
fn sign_and_verify_with_rsa() {
    wasmesh_tests::scenarios::signature::sign_and_verify(Envoy, KeyKind::Rsa);
}

#[test]
fn sign_and_verify_with_ec() {
    wasmesh_tests::scenarios::signature::sign_and_verify(Envoy, KeyKind::Ec);
}

#[test]
fn cel() {
    abi::cel(Envoy);
}
