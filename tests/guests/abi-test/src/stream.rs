//! The HTTP stream context: picks the case from `x-abi-case` and forwards every callback to
//! it. It also marks every response it sees (`x-abi-response-seen`) and logs `on_log` and
//! `on_done`, so the lifecycle is visible in both hosts' logs.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};

use crate::case::{self, Case, Env};
use crate::cases::unknown::Unknown;
use crate::names;
use crate::report;
use crate::root::RootInfo;

/// One per HTTP stream.
pub struct AbiStream {
    context_id: u32,
    root: Rc<RootInfo>,
    /// The selected case and its name; `None` until request headers, or without `x-abi-case`.
    case: Option<(&'static str, Box<dyn Case>)>,
}

impl AbiStream {
    /// A stream context; the case is chosen on request headers.
    pub fn new(context_id: u32, root: Rc<RootInfo>) -> Self {
        Self {
            context_id,
            root,
            case: None,
        }
    }

    fn case_name(&self) -> &'static str {
        self.case.as_ref().map_or("none", |(name, _)| name)
    }

    /// Runs `f` on the case (if any) with its environment; `Continue` without a case.
    fn with_case(&mut self, f: impl FnOnce(&mut dyn Case, &Env<'_>) -> Action) -> Action {
        match self.case.as_mut() {
            Some((name, case)) => {
                let env = Env {
                    case: name,
                    root: &self.root,
                    context_id: self.context_id,
                };
                f(case.as_mut(), &env)
            }
            None => Action::Continue,
        }
    }
}

impl Context for AbiStream {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        log::info!(
            "abi-test: on_http_call_response context={} token={token_id} headers={num_headers} body={body_size} trailers={num_trailers}",
            self.context_id
        );
        self.with_case(|case, env| {
            case.on_http_call_response(env, token_id, num_headers, body_size, num_trailers);
            Action::Continue
        });
    }

    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        self.with_case(|case, env| {
            case.on_grpc_call_response(env, token_id, status_code, response_size);
            Action::Continue
        });
    }

    fn on_grpc_stream_initial_metadata(&mut self, token_id: u32, num_elements: u32) {
        self.with_case(|case, env| {
            case.on_grpc_stream_initial_metadata(env, token_id, num_elements);
            Action::Continue
        });
    }

    fn on_grpc_stream_message(&mut self, token_id: u32, message_size: usize) {
        self.with_case(|case, env| {
            case.on_grpc_stream_message(env, token_id, message_size);
            Action::Continue
        });
    }

    fn on_grpc_stream_trailing_metadata(&mut self, token_id: u32, num_elements: u32) {
        self.with_case(|case, env| {
            case.on_grpc_stream_trailing_metadata(env, token_id, num_elements);
            Action::Continue
        });
    }

    fn on_grpc_stream_close(&mut self, token_id: u32, status_code: u32) {
        self.with_case(|case, env| {
            case.on_grpc_stream_close(env, token_id, status_code);
            Action::Continue
        });
    }

    fn on_done(&mut self) -> bool {
        self.with_case(|case, env| {
            case.on_done(env);
            Action::Continue
        });
        log::info!(
            "abi-test: on_done context={} case={}",
            self.context_id,
            self.case_name()
        );
        true
    }
}

impl HttpContext for AbiStream {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        self.case = match report::request_header(names::CASE_HEADER) {
            None => None,
            Some(name) => {
                case::select(&name).or_else(|| Some(("unknown", Box::new(Unknown::new(name)))))
            }
        };
        log::debug!(
            "abi-test: on_request_headers context={} case={} headers={num_headers} eos={end_of_stream}",
            self.context_id,
            self.case_name()
        );
        self.with_case(|case, env| case.on_request_headers(env, num_headers, end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.with_case(|case, env| case.on_request_body(env, body_size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, num_trailers: usize) -> Action {
        self.with_case(|case, env| case.on_request_trailers(env, num_trailers))
    }

    fn on_http_response_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        report::set_header(
            MapType::HttpResponseHeaders,
            names::RESPONSE_SEEN_HEADER,
            self.case_name(),
        );
        self.with_case(|case, env| case.on_response_headers(env, num_headers, end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.with_case(|case, env| case.on_response_body(env, body_size, end_of_stream))
    }

    fn on_http_response_trailers(&mut self, num_trailers: usize) -> Action {
        self.with_case(|case, env| case.on_response_trailers(env, num_trailers))
    }

    fn on_log(&mut self) {
        self.with_case(|case, env| {
            case.on_log(env);
            Action::Continue
        });
        let status = report::pairs(MapType::HttpResponseHeaders)
            .into_iter()
            .find(|(name, _)| name == ":status")
            .map_or_else(|| report::ABSENT.to_string(), |(_, v)| v);
        log::info!(
            "abi-test: on_log context={} case={} status={status}",
            self.context_id,
            self.case_name()
        );
    }
}
