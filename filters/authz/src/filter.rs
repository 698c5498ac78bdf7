//! The per-stream context: decides on the request headers, answers a denial locally.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MapType};
use wasmesh_common::authz::{self, Request};

use crate::root::{Counted, Shared};

/// One per HTTP stream.
pub struct AuthzFilter {
    shared: Option<Rc<RefCell<Shared>>>,
}

impl AuthzFilter {
    /// A stream context over the worker's policy (`None` only if never configured: then every
    /// request is denied, since an authorization filter that cannot decide must not let through).
    pub fn new(shared: Option<Rc<RefCell<Shared>>>) -> Self {
        Self { shared }
    }
}

impl Context for AuthzFilter {}

/// A string property, `None` when absent or empty.
fn property(path: &[&str]) -> Option<String> {
    let bytes = hostcalls::get_property(path.to_vec()).ok()??;
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}

fn request_header(name: &str) -> Option<String> {
    hostcalls::get_map_value(MapType::HttpRequestHeaders, name)
        .ok()
        .flatten()
}

fn deny(status: u16, body: &str) {
    let headers = vec![("content-type", "text/plain")];
    if let Err(e) = hostcalls::send_http_response(u32::from(status), headers, Some(body.as_bytes()))
    {
        log::warn!("authz: sending the denial: {e:?}");
    }
}

impl HttpContext for AuthzFilter {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            deny(403, "access denied: authz is not configured\n");
            return Action::Pause;
        };
        let mut shared = shared.borrow_mut();
        let identity = property(&["connection", "uri_san_peer_certificate"]);
        let source = property(&["source", "address"])
            .and_then(|address| address.parse::<SocketAddr>().ok())
            .map(|address| address.ip());
        let method = request_header(":method").unwrap_or_default();
        let path = request_header(":path").unwrap_or_default();
        let request = Request {
            identity: identity.as_deref(),
            source,
            method: &method,
            path: &path,
        };
        let decision = shared.config.decide(&request, request_header);
        let rule = decision.rule.map(str::to_string);
        let (audit, status) = (shared.config.audit, shared.config.deny_status);
        let who = identity.as_deref().unwrap_or("an unauthenticated client");
        let why = match &rule {
            Some(rule) => format!("rule {rule}"),
            None => "no rule allows this request".to_string(),
        };
        match decision.action {
            authz::Action::Allow => {
                shared.count(Counted::Allowed, rule.as_deref(), identity.as_deref());
                Action::Continue
            }
            authz::Action::Deny if audit => {
                log::info!("authz: audit: would deny {method} {path} from {who}: {why}");
                shared.count(Counted::AuditDenied, rule.as_deref(), identity.as_deref());
                Action::Continue
            }
            authz::Action::Deny => {
                log::debug!("authz: denied {method} {path} from {who}: {why}");
                shared.count(Counted::Denied, rule.as_deref(), identity.as_deref());
                drop(shared);
                deny(status, &format!("access denied: {why}\n"));
                Action::Pause
            }
        }
    }
}
