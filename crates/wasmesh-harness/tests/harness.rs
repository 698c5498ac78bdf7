//! The harness drives a WAT filter (`guests/probe.wat`) as a proxy would, and shows each part
//! of what a test can see.

use std::time::Duration;

use wasmesh_harness::{HarnessError, LogLine, Outcome, Plugin};

fn probe() -> Plugin {
    start(b"{}")
}

fn start(configuration: &[u8]) -> Plugin {
    let wasm = wat::parse_str(include_str!("guests/probe.wat")).expect("probe.wat assembles");
    Plugin::from_bytes(wasm)
        .name("probe")
        .vm_id("tests")
        .configuration(configuration)
        .cluster("auth")
        .start()
        .expect("the probe starts")
}

fn get(path: &str) -> Vec<(&str, &str)> {
    vec![(":method", "GET"), (":path", path), (":authority", "svc")]
}

#[test]
fn a_request_the_filter_passes_carries_its_changes_and_is_counted() {
    let plugin = probe();
    let mut stream = plugin.stream().unwrap();
    let outcome = stream.request_headers(&get("/hello"), true).unwrap();
    assert_eq!(outcome, Outcome::Continue);
    assert_eq!(
        stream.request_header("x-probe").unwrap().as_deref(),
        Some("seen")
    );
    assert_eq!(
        stream.request_header(":path").unwrap().as_deref(),
        Some("/hello")
    );
    assert_eq!(plugin.counter("probe_requests_total"), Some(1));
    assert_eq!(plugin.counter("no_such_metric"), None);
}

#[test]
fn the_filter_reads_the_properties_the_test_gives_the_host() {
    let wasm = wat::parse_str(include_str!("guests/probe.wat")).expect("probe.wat assembles");
    let plugin = Plugin::from_bytes(wasm)
        .property("node.region", "eu-west-1")
        .start()
        .expect("the probe starts");
    let mut stream = plugin.stream().unwrap();
    stream.request_headers(&get("/hello"), true).unwrap();
    assert_eq!(
        stream.request_header("x-region").unwrap().as_deref(),
        Some("eu-west-1")
    );
    // Without it the guest gets NotFound, as from Envoy for a property it does not have.
    let mut stream = probe().stream().unwrap();
    stream.request_headers(&get("/hello"), true).unwrap();
    assert_eq!(stream.request_header("x-region").unwrap(), None);
}

#[test]
fn a_local_reply_is_the_outcome() {
    let plugin = probe();
    let mut stream = plugin.stream().unwrap();
    let Outcome::LocalReply(reply) = stream.request_headers(&get("/deny/me"), true).unwrap() else {
        panic!("the filter answers /deny itself");
    };
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body_text(), "denied");
    assert_eq!(reply.details, "denied");
    assert_eq!(plugin.counter("probe_requests_total"), Some(0));
}

#[test]
fn a_paused_request_continues_when_its_call_is_answered_2xx() {
    let plugin = probe();
    let mut stream = plugin.stream().unwrap();
    assert_eq!(
        stream.request_headers(&get("/call"), true).unwrap(),
        Outcome::Pause
    );
    assert_eq!(
        stream.resumed().unwrap(),
        None,
        "still waiting for the call"
    );
    let calls = plugin.http_calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.cluster, "auth");
    assert_eq!(call.header(":path"), Some("/check"));
    assert_eq!(call.timeout, Duration::from_millis(500));
    assert_ne!(
        call.context,
        stream.context_id(),
        "the root makes the call, as in Envoy"
    );
    assert!(plugin.http_calls().is_empty(), "calls are taken once");

    plugin.answer_call(call, 204, &[], b"").unwrap();
    assert_eq!(stream.resumed().unwrap(), Some(Outcome::Continue));
}

#[test]
fn a_paused_request_gets_the_filters_reply_when_its_call_is_refused_or_fails() {
    // The probe remembers one waiting stream, so the two cases run one after the other.
    let plugin = probe();
    let mut refused = plugin.stream().unwrap();
    refused.request_headers(&get("/call"), true).unwrap();
    let call = plugin.http_calls().pop().expect("a call");
    plugin
        .answer_call(&call, 401, &[("www-authenticate", "Basic")], b"no")
        .unwrap();
    let Some(Outcome::LocalReply(reply)) = refused.resumed().unwrap() else {
        panic!("a 401 from auth is a 403 from the filter");
    };
    assert_eq!(
        (reply.status, reply.body_text().as_str()),
        (403, "forbidden")
    );

    let mut failed = plugin.stream().unwrap();
    failed.request_headers(&get("/call"), true).unwrap();
    let call = plugin.http_calls().pop().expect("a call");
    plugin.fail_call(&call).unwrap();
    let Some(Outcome::LocalReply(reply)) = failed.resumed().unwrap() else {
        panic!("a call without an answer is a 503 from the filter");
    };
    assert_eq!(
        (reply.status, reply.body_text().as_str()),
        (503, "no answer")
    );
}

#[test]
fn a_body_the_filter_buffers_is_let_through_at_the_end() {
    let plugin = probe();
    let mut stream = plugin.stream().unwrap();
    stream.request_headers(&get("/upload"), false).unwrap();
    assert_eq!(stream.request_body(b"ab", false).unwrap(), Outcome::Pause);
    assert_eq!(stream.request_body(b"cd", false).unwrap(), Outcome::Pause);
    assert_eq!(stream.request_body_sent(), b"");
    assert_eq!(stream.request_body(b"ef", true).unwrap(), Outcome::Continue);
    assert_eq!(stream.request_body_sent(), b"abcdef");
}

#[test]
fn logs_ticks_and_the_end_of_a_stream_are_visible() {
    let plugin = probe();
    assert_eq!(
        plugin.take_logs(),
        [LogLine {
            level: log::Level::Info,
            message: "configured".into()
        }]
    );
    assert_eq!(plugin.tick_period(), Some(Duration::from_secs(1)));
    plugin.tick().unwrap();
    plugin.tick().unwrap();
    let ticks: Vec<String> = plugin.logs().into_iter().map(|l| l.message).collect();
    assert_eq!(ticks, ["tick", "tick"]);

    let mut stream = plugin.stream().unwrap();
    stream.request_headers(&get("/"), true).unwrap();
    assert_eq!(plugin.shared_data("last-log"), None);
    stream.end().unwrap();
    assert_eq!(
        plugin.shared_data("last-log").as_deref(),
        Some(&b"done"[..])
    );
}

#[test]
fn a_refused_configuration_fails_the_start() {
    let wasm = wat::parse_str(include_str!("guests/probe.wat")).unwrap();
    let error = Plugin::from_bytes(wasm)
        .configuration("refuse")
        .start()
        .err()
        .expect("on_configure answers false");
    assert!(matches!(error, HarnessError::Start { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("proxy_on_configure returned false"),
        "{error}"
    );
}

#[test]
fn a_trap_fails_the_plugin_and_every_later_call_says_so() {
    let plugin = probe();
    let mut stream = plugin.stream().unwrap();
    stream.request_headers(&get("/"), true).unwrap();
    let error = stream
        .response_trailers(&[("grpc-status", "0")])
        .unwrap_err();
    assert!(matches!(error, HarnessError::VmFailed(_)), "{error}");
    let failure = plugin.failure().expect("the failure is kept");
    assert_eq!(failure.kind, "trap");
    assert!(
        failure.reason.contains("proxy_on_response_trailers"),
        "{failure}"
    );
    assert!(matches!(plugin.tick(), Err(HarnessError::VmDead(_))));
}

#[test]
fn not_a_module_is_a_load_error() {
    let error = Plugin::from_bytes(b"not wasm".to_vec())
        .start()
        .err()
        .unwrap();
    assert!(matches!(error, HarnessError::Load(_)), "{error}");
    assert!(error.to_string().contains("not a wasm module"), "{error}");
}
