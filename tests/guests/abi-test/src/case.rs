//! A test case: the HTTP callbacks it cares about, and the table mapping `x-abi-case` values
//! to cases. Every callback defaults to "do nothing, continue", so a case implements only the
//! phases it exercises.

use proxy_wasm::types::Action;

use crate::cases;
use crate::root::RootInfo;

/// What a case sees besides the callback arguments.
pub struct Env<'a> {
    /// The `x-abi-case` value that selected this case (echoed in every JSON reply).
    pub case: &'static str,
    /// What the root context learned at start-up (configurations, metric ids).
    pub root: &'a RootInfo,
    /// The stream's context id.
    pub context_id: u32,
}

/// One behaviour of the exerciser. Each method mirrors the `HttpContext` callback of the same
/// name; hostcalls are made through `proxy_wasm::hostcalls` (or `crate::raw`).
pub trait Case {
    /// `proxy_on_request_headers`.
    fn on_request_headers(&mut self, _env: &Env<'_>, _num_headers: usize, _eos: bool) -> Action {
        Action::Continue
    }
    /// `proxy_on_request_body`.
    fn on_request_body(&mut self, _env: &Env<'_>, _body_size: usize, _eos: bool) -> Action {
        Action::Continue
    }
    /// `proxy_on_request_trailers`.
    fn on_request_trailers(&mut self, _env: &Env<'_>, _num_trailers: usize) -> Action {
        Action::Continue
    }
    /// `proxy_on_response_headers`.
    fn on_response_headers(&mut self, _env: &Env<'_>, _num_headers: usize, _eos: bool) -> Action {
        Action::Continue
    }
    /// `proxy_on_response_body`.
    fn on_response_body(&mut self, _env: &Env<'_>, _body_size: usize, _eos: bool) -> Action {
        Action::Continue
    }
    /// `proxy_on_response_trailers`.
    fn on_response_trailers(&mut self, _env: &Env<'_>, _num_trailers: usize) -> Action {
        Action::Continue
    }
    /// `proxy_on_http_call_response` for a call this stream dispatched.
    fn on_http_call_response(
        &mut self,
        _env: &Env<'_>,
        _token: u32,
        _num_headers: usize,
        _body_size: usize,
        _num_trailers: usize,
    ) {
    }
    /// `proxy_on_grpc_receive` or `proxy_on_grpc_close` for a unary call this stream made.
    fn on_grpc_call_response(&mut self, _env: &Env<'_>, _token: u32, _status: u32, _size: usize) {}
    /// `proxy_on_grpc_receive_initial_metadata` for a stream this stream opened.
    fn on_grpc_stream_initial_metadata(&mut self, _env: &Env<'_>, _token: u32, _count: u32) {}
    /// `proxy_on_grpc_receive` for a stream this stream opened.
    fn on_grpc_stream_message(&mut self, _env: &Env<'_>, _token: u32, _size: usize) {}
    /// `proxy_on_grpc_receive_trailing_metadata` for a stream this stream opened.
    fn on_grpc_stream_trailing_metadata(&mut self, _env: &Env<'_>, _token: u32, _count: u32) {}
    /// `proxy_on_grpc_close` for a stream this stream opened.
    fn on_grpc_stream_close(&mut self, _env: &Env<'_>, _token: u32, _status: u32) {}
    /// `proxy_on_log`.
    fn on_log(&mut self, _env: &Env<'_>) {}
    /// `proxy_on_done`.
    fn on_done(&mut self, _env: &Env<'_>) {}
}

/// Builds a fresh case for one stream.
type Constructor = fn() -> Box<dyn Case>;

/// Every case, by its `x-abi-case` value. `README.md` documents each one.
pub const CASES: &[(&str, Constructor)] = &[
    ("log", || Box::new(cases::log::Log)),
    ("headers", || Box::new(cases::headers::Headers::new(false))),
    ("headers-set-all", || {
        Box::new(cases::headers::Headers::new(true))
    }),
    (
        "trailers",
        || Box::new(cases::trailers::Trailers::default()),
    ),
    ("local-reply", || {
        Box::new(cases::local_reply::LocalReply::InRequest)
    }),
    ("local-reply-in-response", || {
        Box::new(cases::local_reply::LocalReply::InResponse)
    }),
    ("grpc-local-reply", || {
        Box::new(cases::local_reply::LocalReply::Grpc)
    }),
    ("properties", || {
        Box::new(cases::properties::RequestProperties)
    }),
    ("properties-response", || {
        Box::new(cases::properties::ResponseProperties)
    }),
    ("shared-data", || Box::new(cases::shared_data::SharedData)),
    ("queue", || Box::new(cases::queue::Enqueue)),
    ("queue-read", || Box::new(cases::queue::ReadBack)),
    ("timer", || Box::new(cases::clock::Ticks)),
    ("singleton", || Box::new(cases::singleton::Singleton)),
    ("time", || Box::new(cases::clock::Time)),
    ("wasi", || Box::new(cases::clock::Wasi)),
    ("metrics", || Box::new(cases::metrics::Metrics)),
    ("http-call", || {
        Box::new(cases::http_call::HttpCall::new(
            cases::http_call::Kind::Echo,
        ))
    }),
    ("http-call-timeout", || {
        Box::new(cases::http_call::HttpCall::new(
            cases::http_call::Kind::Timeout,
        ))
    }),
    ("http-call-bad-cluster", || {
        Box::new(cases::http_call::HttpCall::new(
            cases::http_call::Kind::BadCluster,
        ))
    }),
    ("continue", || Box::new(cases::resume::Resume::request())),
    ("continue-response", || {
        Box::new(cases::resume::Resume::response())
    }),
    ("body", || {
        Box::new(cases::body::Body::new(cases::body::Mode::Buffer))
    }),
    ("body-prepend", || {
        Box::new(cases::body::Body::new(cases::body::Mode::Prepend))
    }),
    ("body-stream", || {
        Box::new(cases::body::Body::new(cases::body::Mode::Stream))
    }),
    ("body-calls", || Box::new(cases::body_calls::BodyCalls)),
    ("close", || Box::new(cases::close::Close::Request)),
    ("close-response", || Box::new(cases::close::Close::Response)),
    ("foreign", || Box::new(cases::foreign::Foreign)),
    ("grpc", || Box::new(cases::grpc::Grpc)),
    ("grpc-call", || Box::new(cases::grpc_echo::Call::default())),
    ("grpc-stream", || {
        Box::new(cases::grpc_echo::Stream::default())
    }),
    ("grpc-ratelimit", || {
        Box::new(cases::grpc_ratelimit::RateLimit)
    }),
    ("config", || Box::new(cases::config::Config)),
    ("declare-property", || Box::new(cases::declare::Declare)),
    ("done", || Box::new(cases::done::Done)),
    ("phases", || Box::new(cases::phases::Phases::default())),
    ("vm-instance", || {
        Box::new(cases::instance::Instance::default())
    }),
    ("signature", || Box::new(cases::signature::Signature)),
    ("cel", || Box::new(cases::cel::Cel)),
];

/// The case named `name`, with its `'static` name; `None` for an unknown name.
pub fn select(name: &str) -> Option<(&'static str, Box<dyn Case>)> {
    CASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, make)| (*n, make()))
}
