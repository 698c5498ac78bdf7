//! The harness shows a filter's gRPC calls and streams (`guests/grpc.wat`) and plays the
//! server's side of them.

use std::time::Duration;

use wasmesh_harness::{GrpcAnswer, GrpcRequest, Plugin};

fn started() -> Plugin {
    let wasm = wat::parse_str(include_str!("guests/grpc.wat")).expect("grpc.wat assembles");
    Plugin::from_bytes(wasm)
        .name("grpc")
        .cluster("rls")
        .start()
        .expect("the filter starts")
}

fn logged(plugin: &Plugin) -> Vec<String> {
    plugin.take_logs().into_iter().map(|l| l.message).collect()
}

#[test]
fn a_call_and_a_stream_are_seen_and_answered() {
    let plugin = started();
    plugin.tick().unwrap();
    let requests = plugin.grpc_requests();
    let metadata = vec![("x-md".to_string(), "1".to_string())];
    let [GrpcRequest::Call { token: call, .. }, GrpcRequest::Open { token: stream, .. }, _] =
        requests.as_slice()
    else {
        panic!("a call, a stream and a send: {requests:?}")
    };
    let (call, stream) = (*call, *stream);
    assert_eq!(
        requests,
        [
            GrpcRequest::Call {
                token: call,
                cluster: "rls".into(),
                service: "test.Svc".into(),
                method: "Check".into(),
                metadata: metadata.clone(),
                message: b"ping".to_vec(),
                timeout: Some(Duration::from_secs(1)),
            },
            GrpcRequest::Open {
                token: stream,
                cluster: "rls".into(),
                service: "test.Svc".into(),
                method: "Watch".into(),
                metadata,
            },
            GrpcRequest::Send {
                token: stream,
                message: b"hello".to_vec(),
                end_stream: true,
            },
        ]
    );
    assert!(plugin.grpc_requests().is_empty(), "requests are taken once");

    plugin
        .answer_grpc(call, GrpcAnswer::Message(b"pong"))
        .unwrap();
    assert_eq!(logged(&plugin), ["pong"]);
    plugin
        .answer_grpc(call, GrpcAnswer::Message(b"again"))
        .unwrap();
    assert!(
        logged(&plugin).is_empty(),
        "a unary call is over with its answer"
    );

    plugin
        .answer_grpc(stream, GrpcAnswer::InitialMetadata(&[("x-md", "v1")]))
        .unwrap();
    plugin
        .answer_grpc(stream, GrpcAnswer::Message(b"m1"))
        .unwrap();
    plugin
        .answer_grpc(stream, GrpcAnswer::Message(b"m2"))
        .unwrap();
    plugin
        .answer_grpc(
            stream,
            GrpcAnswer::TrailingMetadata(&[("grpc-status", "0")]),
        )
        .unwrap();
    plugin
        .answer_grpc(
            stream,
            GrpcAnswer::Close {
                code: 0,
                message: "",
            },
        )
        .unwrap();
    assert_eq!(logged(&plugin), ["v1", "m1", "m2", "trailers", "closed"]);
    plugin
        .answer_grpc(stream, GrpcAnswer::Message(b"late"))
        .unwrap();
    assert!(
        logged(&plugin).is_empty(),
        "both sides closed: the stream is over"
    );
}
