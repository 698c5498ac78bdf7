//! `phases`: probes every hostcall of `crate::probe` in each phase of a stream and logs one
//! line per phase (`abi-test: phase <phase> <call>=<status>;...`): request headers (then an
//! HTTP call to `x-abi-upstream`, the request paused until its answer), the call's answer, the
//! request body, response headers, the response body, `on_log` and `on_done`. Send a POST with
//! a body so every phase happens; the root probes `on_configure` and its first tick when the
//! plugin configuration says `probe-phases`.

use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::types::Action;

use crate::case::{Case, Env};
use crate::cases::http_call::dispatch;
use crate::names;
use crate::probe;
use crate::report;

/// Which body phases were probed (a body may come in several chunks; one probe each).
#[derive(Default)]
pub struct Phases {
    request_body: bool,
    response_body: bool,
}

/// Probes and logs `phase`, made from context `context_id`.
pub fn log_phase(phase: &str, context_id: u32) {
    log::info!("{}", probe::line(phase, &probe::probe(context_id)));
}

impl Case for Phases {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        log_phase("request_headers", env.context_id);
        let upstream = report::request_header(names::UPSTREAM_HEADER).unwrap_or_default();
        match dispatch(&upstream, "/", Duration::from_secs(5)) {
            Ok(_) => Action::Pause,
            Err(status) => {
                log::error!("abi-test: phases: the call was refused: {status}");
                Action::Continue
            }
        }
    }

    fn on_http_call_response(&mut self, env: &Env<'_>, _: u32, _: usize, _: usize, _: usize) {
        log_phase("call_response", env.context_id);
        if let Err(s) = hostcalls::resume_http_request() {
            log::error!("abi-test: phases: resuming: {s:?}");
        }
    }

    fn on_request_body(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        if !std::mem::replace(&mut self.request_body, true) {
            log_phase("request_body", env.context_id);
        }
        Action::Continue
    }

    fn on_response_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        log_phase("response_headers", env.context_id);
        Action::Continue
    }

    fn on_response_body(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        if !std::mem::replace(&mut self.response_body, true) {
            log_phase("response_body", env.context_id);
        }
        Action::Continue
    }

    fn on_log(&mut self, env: &Env<'_>) {
        log_phase("log", env.context_id);
    }

    fn on_done(&mut self, env: &Env<'_>) {
        log_phase("done", env.context_id);
    }
}
