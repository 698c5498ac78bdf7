//! `continue`, `continue-response`: pause a direction, make an HTTP call, and from its
//! callback edit the paused headers and resume with `proxy_continue_stream`.

use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Action, MapType};

use crate::case::{Case, Env};
use crate::cases::http_call;
use crate::{names, report, status};

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Which direction is paused.
pub struct Resume {
    map: MapType,
    header: &'static str,
    /// `x-abi-upstream`, read on request headers (the only phase where the spec lets us).
    upstream: Option<String>,
}

impl Resume {
    /// `continue`: the request waits for the call; the upstream sees `x-abi-continue-status`.
    pub fn request() -> Self {
        Self {
            map: MapType::HttpRequestHeaders,
            header: "x-abi-continue-status",
            upstream: None,
        }
    }

    /// `continue-response`: the response waits; the client sees
    /// `x-abi-continue-response-status`.
    pub fn response() -> Self {
        Self {
            map: MapType::HttpResponseHeaders,
            header: "x-abi-continue-response-status",
            upstream: None,
        }
    }

    fn is_request(&self) -> bool {
        self.map == MapType::HttpRequestHeaders
    }

    /// Starts the call and pauses; without an upstream (or if dispatch fails) the direction
    /// goes on at once, with the reason in the header.
    fn start(&self) -> Action {
        let dispatched = match &self.upstream {
            Some(upstream) => http_call::dispatch(upstream, "/from-continue", CALL_TIMEOUT),
            None => Err("no-upstream".to_string()),
        };
        match dispatched {
            Ok(_) => Action::Pause,
            Err(reason) => {
                report::set_header(self.map, self.header, &format!("dispatch-{reason}"));
                Action::Continue
            }
        }
    }
}

impl Case for Resume {
    fn on_request_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        self.upstream = report::request_header(names::UPSTREAM_HEADER);
        if self.is_request() {
            self.start()
        } else {
            Action::Continue
        }
    }

    fn on_response_headers(&mut self, _: &Env<'_>, _: usize, _: bool) -> Action {
        if self.is_request() {
            Action::Continue
        } else {
            self.start()
        }
    }

    fn on_http_call_response(&mut self, _: &Env<'_>, _: u32, _: usize, _: usize, _: usize) {
        let status = http_call::call_status().unwrap_or_else(|| "none".into());
        report::set_header(self.map, self.header, &status);
        let resumed = if self.is_request() {
            hostcalls::resume_http_request()
        } else {
            hostcalls::resume_http_response()
        };
        if let Err(s) = resumed {
            log::error!("abi-test: resume: {}", status::of(s));
        }
    }
}
