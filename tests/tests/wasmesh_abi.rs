//! The ABI exerciser guest through wasmesh: the same scenarios as `envoy_abi.rs`.

use wasmesh_tests::scenarios::abi;
use wasmesh_tests::ProxyKind::Wasmesh;

#[test]
fn passthrough() {
    abi::passthrough(Wasmesh);
}

#[test]
fn unknown_case() {
    abi::unknown_case(Wasmesh);
}

#[test]
fn log() {
    abi::log(Wasmesh);
}

#[test]
fn headers() {
    abi::headers(Wasmesh);
}

#[test]
fn headers_set_all() {
    abi::headers_set_all(Wasmesh);
}

#[test]
fn trailers_http1() {
    abi::trailers_http1(Wasmesh);
}

#[test]
fn trailers_http2() {
    abi::trailers_http2(Wasmesh);
}

#[test]
fn trailers_from_client() {
    abi::trailers_from_client(Wasmesh);
}

#[test]
fn local_reply() {
    abi::local_reply(Wasmesh);
}

#[test]
fn local_reply_in_response() {
    abi::local_reply_in_response(Wasmesh);
}

#[test]
fn grpc_local_reply() {
    abi::grpc_local_reply(Wasmesh);
}

#[test]
fn properties() {
    abi::properties(Wasmesh);
}

#[test]
fn properties_response() {
    abi::properties_response(Wasmesh);
}

#[test]
fn shared_data() {
    abi::shared_data(Wasmesh);
}

#[test]
fn queue() {
    abi::queue(Wasmesh);
}

#[test]
fn timer() {
    abi::timer(Wasmesh);
}

#[test]
fn time() {
    abi::time(Wasmesh);
}

#[test]
fn wasi() {
    abi::wasi(Wasmesh);
}

#[test]
fn metrics() {
    abi::metrics(Wasmesh);
}

#[test]
fn http_call() {
    abi::http_call(Wasmesh);
}

#[test]
fn http_call_requires_upstream() {
    abi::http_call_requires_upstream(Wasmesh);
}

#[test]
fn http_call_timeout() {
    abi::http_call_timeout(Wasmesh);
}

#[test]
fn http_call_bad_cluster() {
    abi::http_call_bad_cluster(Wasmesh);
}

#[test]
fn continue_request() {
    abi::continue_request(Wasmesh);
}

#[test]
fn continue_response() {
    abi::continue_response(Wasmesh);
}

#[test]
fn body() {
    abi::body(Wasmesh);
}

#[test]
fn body_prepend() {
    abi::body_prepend(Wasmesh);
}

#[test]
fn body_stream() {
    abi::body_stream(Wasmesh);
}

#[test]
fn body_calls() {
    abi::body_calls(Wasmesh);
}

#[test]
fn close() {
    abi::close(Wasmesh);
}

#[test]
fn close_response() {
    abi::close_response(Wasmesh);
}

#[test]
fn foreign() {
    abi::foreign(Wasmesh);
}

#[test]
fn grpc() {
    abi::grpc(Wasmesh);
}

#[test]
fn config() {
    abi::config(Wasmesh);
}

#[test]
fn done() {
    abi::done(Wasmesh);
}
