//! HTTP calls a filter dispatched (`proxy_http_call`), and their answers, given by the test as
//! the upstream would give them.

use std::time::Duration;

use wasmesh_host::headers::HeaderMap;
use wasmesh_host::store::{CallResponse, PendingHttpCall};

use crate::error::HarnessError;
use crate::maps::{first, to_pairs};
use crate::plugin::Plugin;

/// One call the filter dispatched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// The token the guest got back; its answer carries it.
    pub token: u32,
    /// The context its answer goes to: the root's, which makes every call, as in Envoy,
    /// whichever context asked.
    pub context: u32,
    /// The cluster it names.
    pub cluster: String,
    /// Its headers, `:method`, `:path` and `:authority` included.
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Vec<u8>,
    /// Its trailers.
    pub trailers: Vec<(String, String)>,
    /// How long the proxy would wait for the answer.
    pub timeout: Duration,
}

impl HttpCall {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        first(&self.headers, name)
    }
}

impl From<PendingHttpCall> for HttpCall {
    fn from(call: PendingHttpCall) -> HttpCall {
        HttpCall {
            token: call.token,
            context: call.context_id,
            cluster: call.cluster,
            headers: to_pairs(&call.headers),
            body: call.body,
            trailers: to_pairs(&call.trailers),
            timeout: call.timeout,
        }
    }
}

impl Plugin {
    /// Takes the calls the filter dispatched since the last time (in order).
    pub fn http_calls(&self) -> Vec<HttpCall> {
        self.take_calls()
    }

    /// Answers `call` as its upstream would: `proxy_on_http_call_response` runs in the root
    /// context, with these headers (`:status` added first) and body readable, also after the
    /// stream that asked has ended (Envoy does not cancel the root's calls).
    pub fn answer_call(
        &self,
        call: &HttpCall,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HarnessError> {
        let mut map = HeaderMap::new();
        map.add(b":status", status.to_string().as_bytes());
        for (name, value) in headers {
            map.add(name.as_bytes(), value.as_bytes());
        }
        let response = CallResponse {
            headers: map,
            body: body.to_vec(),
            trailers: HeaderMap::new(),
        };
        self.with_vm(|vm| vm.deliver_call_response(call.token, call.context, response))
    }

    /// Answers `call` with no response at all: zero headers, as Envoy calls back when its
    /// async client fails the call (a reset). A call that times out gets a 504 in both
    /// proxies instead: answer it with [`Plugin::answer_call`].
    pub fn fail_call(&self, call: &HttpCall) -> Result<(), HarnessError> {
        self.with_vm(|vm| {
            vm.deliver_call_response(call.token, call.context, CallResponse::default())
        })
    }
}
