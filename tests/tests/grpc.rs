//! gRPC calls and streams from a filter to a real gRPC server, in both hosts
//! (`wasmesh_tests::scenarios::grpc`).

use wasmesh_tests::scenarios::grpc::{
    rate_limit_service, stream_cancel, stream_chat, stream_fails, stream_unreachable, unary_call,
    unary_call_fails, unary_call_times_out, unary_call_times_out_after_headers,
    unary_call_unreachable,
};

wasmesh_tests::in_both_hosts!(
    unary_call,
    unary_call_fails,
    unary_call_unreachable,
    unary_call_times_out,
    unary_call_times_out_after_headers,
    stream_chat,
    stream_fails,
    stream_cancel,
    stream_unreachable,
    rate_limit_service,
);
