//! `grpc`: the gRPC hostcalls, for their statuses only. wasmesh answers `Unimplemented`; Envoy
//! really dispatches, so every call it accepts is cancelled at once (no callbacks follow).

use proxy_wasm::types::Action;
use serde_json::{json, Value};

use crate::case::{Case, Env};
use crate::raw::{self, GrpcTarget};
use crate::{names, report, status};

/// A call/stream id no host hands out in a test run.
const BAD_TOKEN: u32 = 0x7fff_fff0;

/// Replies with the raw status of each call.
pub struct Grpc;

fn target(upstream: &str) -> GrpcTarget<'_> {
    GrpcTarget {
        upstream,
        service: "abi.Test",
        method: "Call",
    }
}

const METADATA: &[(&str, &[u8])] = &[("x-abi", b"1")];

/// `{"status", "cancel"}` for a call or stream: cancelled right away when accepted.
fn started(st: u32, id: u32, extra: impl FnOnce(u32) -> Option<(&'static str, String)>) -> Value {
    let mut v = json!({"status": status::name(st)});
    if st == 0 {
        if let Some((name, value)) = extra(id) {
            v[name] = Value::from(value);
        }
        v["cancel"] = Value::from(status::name(raw::grpc_cancel(id)));
    }
    v
}

impl Case for Grpc {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let missing = target(names::MISSING_CLUSTER);
        let (st, _) = raw::grpc_call(&missing, METADATA, b"msg", 1000);
        let call_unknown = status::name(st);
        let (st, _) = raw::grpc_stream(&missing, METADATA);
        let stream_unknown = status::name(st);
        let upstream = report::request_header(names::UPSTREAM_HEADER);
        let (call, stream) = match upstream.as_deref() {
            Some(up) => {
                let (st, id) = raw::grpc_call(&target(up), METADATA, b"msg", 1000);
                let call = started(st, id, |_| None);
                let (st, id) = raw::grpc_stream(&target(up), METADATA);
                let stream = started(st, id, |id| {
                    Some(("send", status::name(raw::grpc_send(id, b"msg", false))))
                });
                (call, stream)
            }
            None => (Value::Null, Value::Null),
        };
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "call_unknown_cluster": call_unknown,
                "stream_unknown_cluster": stream_unknown,
                "call": call,
                "stream": stream,
                "send_bad_id": status::name(raw::grpc_send(BAD_TOKEN, b"x", true)),
                "cancel_bad_id": status::name(raw::grpc_cancel(BAD_TOKEN)),
                "close_bad_id": status::name(raw::grpc_close(BAD_TOKEN)),
            }),
        );
        Action::Pause
    }
}
