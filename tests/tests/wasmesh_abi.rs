//! The ABI exerciser guest through wasmesh: the same scenarios as `envoy_abi.rs`.

use wasmesh_tests::scenarios::abi;
use wasmesh_tests::scenarios::signature::KeyKind;
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
fn declare_property() {
    abi::declare_property(Wasmesh);
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

/// The capability report: the admin's `GET /abi` (JSON and `?format=text`) and `wasmesh abi`
/// (`--json` and the table) say the same, and say what this host links and calls.
#[test]
fn capability_report() {
    use std::process::Command;
    let abi = abi::Abi::start(Wasmesh);
    let served: serde_json::Value =
        serde_json::from_slice(&abi.proxy.admin_get("/abi").body).expect("GET /abi is JSON");
    let printed = Command::new(wasmesh_tests::wasmesh_bin())
        .args(["abi", "--json"])
        .output()
        .expect("running wasmesh abi --json");
    assert!(printed.status.success(), "{printed:?}");
    let printed: serde_json::Value =
        serde_json::from_slice(&printed.stdout).expect("wasmesh abi --json is JSON");
    assert_eq!(served, printed);
    let find = |list: &str, name: &str| {
        served[list]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["name"] == name))
            .unwrap_or_else(|| panic!("{name} not in {list}"))["support"]
            .clone()
    };
    assert_eq!(find("hostcalls", "proxy_grpc_send"), "implemented");
    assert_eq!(find("hostcalls", "proxy_call_foreign_function"), "partial");
    assert_eq!(find("callbacks", "proxy_on_grpc_close"), "implemented");
    assert_eq!(find("callbacks", "proxy_on_new_connection"), "implemented");
    assert_eq!(
        find("callbacks", "proxy_on_request_metadata"),
        "not offered"
    );
    assert_eq!(
        served["wasi"]["functions"].as_array().map(Vec::len),
        Some(46)
    );
    assert_eq!(
        served["wasi"]["modules"],
        serde_json::json!(["wasi_snapshot_preview1", "wasi_unstable"])
    );
    let table = abi.proxy.admin_get("/abi?format=text").text();
    let printed = Command::new(wasmesh_tests::wasmesh_bin())
        .arg("abi")
        .output()
        .expect("running wasmesh abi");
    assert_eq!(table, String::from_utf8_lossy(&printed.stdout));
    assert!(
        table.contains("0x000A  HAS_TCP_FILTER                 yes"),
        "{table}"
    );
    assert!(
        table.contains("0x0006  HAS_HTTP_CALLOUTS_STREAMING    no"),
        "{table}"
    );
}

#[test]
fn plugins_with_one_vm_id_share_an_instance() {
    wasmesh_tests::scenarios::vm_sharing::plugins_with_one_vm_id_share_an_instance(Wasmesh);
}

#[test]
fn sign_and_verify_with_rsa() {
    wasmesh_tests::scenarios::signature::sign_and_verify(Wasmesh, KeyKind::Rsa);
}

#[test]
fn sign_and_verify_with_ec() {
    wasmesh_tests::scenarios::signature::sign_and_verify(Wasmesh, KeyKind::Ec);
}

#[test]
fn cel() {
    abi::cel(Wasmesh);
}
