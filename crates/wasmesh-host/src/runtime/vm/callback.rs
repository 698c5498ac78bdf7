//! The guest callbacks the host calls, as a closed set: each has its export's name (for errors
//! and the `callback` label of `wasmesh_plugin_callback_seconds`) and a small index, so a VM
//! finds the cost cell of the callback it just ran in an array instead of hashing its name
//! (the name's SipHash was about 1 % of a worker's cycles with three filters).

/// One callback export of the proxy-wasm ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    /// `proxy_on_context_create`.
    ContextCreate,
    /// `proxy_on_vm_start`.
    VmStart,
    /// `proxy_on_configure`.
    Configure,
    /// `proxy_on_request_headers`.
    RequestHeaders,
    /// `proxy_on_request_body`.
    RequestBody,
    /// `proxy_on_request_trailers`.
    RequestTrailers,
    /// `proxy_on_response_headers`.
    ResponseHeaders,
    /// `proxy_on_response_body`.
    ResponseBody,
    /// `proxy_on_response_trailers`.
    ResponseTrailers,
    /// `proxy_on_done`.
    Done,
    /// `proxy_on_log`.
    Log,
    /// `proxy_on_delete`.
    Delete,
    /// `proxy_on_tick`.
    Tick,
    /// `proxy_on_queue_ready`.
    QueueReady,
    /// `proxy_on_http_call_response`.
    HttpCallResponse,
    /// `proxy_on_grpc_receive_initial_metadata`.
    GrpcInitialMetadata,
    /// `proxy_on_grpc_receive`.
    GrpcMessage,
    /// `proxy_on_grpc_receive_trailing_metadata`.
    GrpcTrailingMetadata,
    /// `proxy_on_grpc_close`.
    GrpcClose,
    /// `proxy_on_new_connection`.
    NewConnection,
    /// `proxy_on_downstream_data`.
    DownstreamData,
    /// `proxy_on_upstream_data`.
    UpstreamData,
    /// `proxy_on_downstream_connection_close`.
    DownstreamClose,
    /// `proxy_on_upstream_connection_close`.
    UpstreamClose,
}

impl Callback {
    /// How many callbacks there are: the length of an array indexed by [`Callback::index`].
    pub const COUNT: usize = Callback::UpstreamClose as usize + 1;

    /// Every callback, in index order.
    pub const ALL: [Callback; Callback::COUNT] = [
        Callback::ContextCreate,
        Callback::VmStart,
        Callback::Configure,
        Callback::RequestHeaders,
        Callback::RequestBody,
        Callback::RequestTrailers,
        Callback::ResponseHeaders,
        Callback::ResponseBody,
        Callback::ResponseTrailers,
        Callback::Done,
        Callback::Log,
        Callback::Delete,
        Callback::Tick,
        Callback::QueueReady,
        Callback::HttpCallResponse,
        Callback::GrpcInitialMetadata,
        Callback::GrpcMessage,
        Callback::GrpcTrailingMetadata,
        Callback::GrpcClose,
        Callback::NewConnection,
        Callback::DownstreamData,
        Callback::UpstreamData,
        Callback::DownstreamClose,
        Callback::UpstreamClose,
    ];

    /// Its place in `0..COUNT`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The export's name.
    pub fn name(self) -> &'static str {
        match self {
            Callback::ContextCreate => "proxy_on_context_create",
            Callback::VmStart => "proxy_on_vm_start",
            Callback::Configure => "proxy_on_configure",
            Callback::RequestHeaders => "proxy_on_request_headers",
            Callback::RequestBody => "proxy_on_request_body",
            Callback::RequestTrailers => "proxy_on_request_trailers",
            Callback::ResponseHeaders => "proxy_on_response_headers",
            Callback::ResponseBody => "proxy_on_response_body",
            Callback::ResponseTrailers => "proxy_on_response_trailers",
            Callback::Done => "proxy_on_done",
            Callback::Log => "proxy_on_log",
            Callback::Delete => "proxy_on_delete",
            Callback::Tick => "proxy_on_tick",
            Callback::QueueReady => "proxy_on_queue_ready",
            Callback::HttpCallResponse => "proxy_on_http_call_response",
            Callback::GrpcInitialMetadata => "proxy_on_grpc_receive_initial_metadata",
            Callback::GrpcMessage => "proxy_on_grpc_receive",
            Callback::GrpcTrailingMetadata => "proxy_on_grpc_receive_trailing_metadata",
            Callback::GrpcClose => "proxy_on_grpc_close",
            Callback::NewConnection => "proxy_on_new_connection",
            Callback::DownstreamData => "proxy_on_downstream_data",
            Callback::UpstreamData => "proxy_on_upstream_data",
            Callback::DownstreamClose => "proxy_on_downstream_connection_close",
            Callback::UpstreamClose => "proxy_on_upstream_connection_close",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_callback_has_its_own_index_and_name() {
        for (i, callback) in Callback::ALL.iter().enumerate() {
            assert_eq!(callback.index(), i, "{callback:?}");
        }
        let names: std::collections::BTreeSet<&str> =
            Callback::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Callback::COUNT);
    }
}
