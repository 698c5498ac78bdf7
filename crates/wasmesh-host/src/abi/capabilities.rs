//! What this host offers a filter, for a filter author to read before writing one (Envoy's
//! issue #10395 has asked hosts for this since 2020): every hostcall and WASI function it links,
//! every callback it calls, each with how far it goes, and the host features of the proposed
//! feature flags (proxy-wasm/spec PR #91). The wasmesh proxy serves it as `GET /abi` and prints
//! it with `wasmesh abi`. A test holds the lists to the linker and the VM's exports, so they
//! cannot drift from what a module really gets.

/// How far a hostcall or callback goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Does what the spec and Envoy do.
    Implemented,
    /// Does it for some arguments; the note says which answer `NotFound` or `Unimplemented`.
    Partial,
    /// Linked so modules load; answers as Envoy's stub answers, doing nothing.
    Stub,
    /// Not offered: the callback is never called.
    NotOffered,
}

impl Support {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Support::Implemented => "implemented",
            Support::Partial => "partial",
            Support::Stub => "stub",
            Support::NotOffered => "not offered",
        }
    }
}

/// One hostcall, WASI function or callback.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Its import or export name.
    pub name: &'static str,
    /// The ABI family it belongs to (as the README's ABI table groups them).
    pub family: &'static str,
    /// How far it goes.
    pub support: Support,
    /// What a filter author should know (empty when nothing).
    pub note: &'static str,
}

const fn entry(
    name: &'static str,
    family: &'static str,
    support: Support,
    note: &'static str,
) -> Entry {
    Entry {
        name,
        family,
        support,
        note,
    }
}

use Support::{Implemented as Done, NotOffered, Partial, Stub};

/// The ABI versions a module may declare (`proxy_abi_version_*`).
pub const ABI_VERSIONS: &[&str] = &["0.2.1", "0.2.0"];

/// Every hostcall linked under `env`.
pub const HOSTCALLS: &[Entry] = &[
    entry("proxy_log", "logging", Done, ""),
    entry("proxy_get_log_level", "logging", Done, "the host's RUST_LOG level"),
    entry("proxy_get_current_time_nanoseconds", "clocks and timers", Done, ""),
    entry("proxy_set_tick_period_milliseconds", "clocks and timers", Done, ""),
    entry(
        "proxy_get_property",
        "properties",
        Partial,
        "request.*, response.*, source.*, destination.*, upstream.*, plugin_*, route_name, connection.mtls and, on TLS listeners, connection.tls_version, requested_server_name and the peer and local certificates' subject, URI and DNS SANs and digest; node, xds.*, connection.id and metadata answer NotFound",
    ),
    entry("proxy_set_property", "properties", Done, ""),
    entry("proxy_get_header_map_pairs", "header maps", Done, ""),
    entry("proxy_set_header_map_pairs", "header maps", Done, ""),
    entry("proxy_get_header_map_value", "header maps", Done, ""),
    entry("proxy_add_header_map_value", "header maps", Done, ""),
    entry("proxy_replace_header_map_value", "header maps", Done, ""),
    entry("proxy_remove_header_map_value", "header maps", Done, ""),
    entry(
        "proxy_get_header_map_size",
        "header maps",
        Done,
        "the sum of name and value lengths, as Envoy answers",
    ),
    entry("proxy_get_buffer_bytes", "buffers", Done, ""),
    entry("proxy_set_buffer_bytes", "buffers", Done, ""),
    entry("proxy_get_buffer_status", "buffers", Done, ""),
    entry(
        "proxy_continue_stream",
        "stream control",
        Done,
        "HTTP request and response; DOWNSTREAM on a connection resumes reading; UPSTREAM answers Unimplemented, as in Envoy",
    ),
    entry("proxy_continue_request", "stream control", Done, "ABI 0.1 form"),
    entry("proxy_continue_response", "stream control", Done, "ABI 0.1 form"),
    entry(
        "proxy_clear_route_cache",
        "stream control",
        Stub,
        "ABI 0.1 form; Ok: routes are picked after every request-header callback",
    ),
    entry(
        "proxy_close_stream",
        "stream control",
        Done,
        "resets an HTTP stream; DOWNSTREAM or UPSTREAM closes a TCP connection",
    ),
    entry("proxy_send_local_response", "stream control", Done, ""),
    entry("proxy_done", "lifecycle", Done, ""),
    entry("proxy_set_effective_context", "lifecycle", Done, ""),
    entry("proxy_get_shared_data", "shared data", Done, ""),
    entry("proxy_set_shared_data", "shared data", Done, "values up to 16 MiB"),
    entry("proxy_register_shared_queue", "shared queues", Done, ""),
    entry("proxy_resolve_shared_queue", "shared queues", Done, ""),
    entry("proxy_enqueue_shared_queue", "shared queues", Done, "at most 10 000 items"),
    entry("proxy_dequeue_shared_queue", "shared queues", Done, ""),
    entry("proxy_define_metric", "metrics", Done, ""),
    entry("proxy_increment_metric", "metrics", Done, ""),
    entry("proxy_record_metric", "metrics", Done, ""),
    entry("proxy_get_metric", "metrics", Done, ""),
    entry("proxy_http_call", "HTTP calls", Done, ""),
    entry("proxy_get_status", "HTTP calls", Done, "also a gRPC close's status"),
    entry(
        "proxy_grpc_call",
        "gRPC",
        Partial,
        "h2c to a cluster (by name or GrpcService envoy_grpc); google_grpc answers BadArgument",
    ),
    entry("proxy_grpc_stream", "gRPC", Partial, "as proxy_grpc_call"),
    entry("proxy_grpc_send", "gRPC", Done, ""),
    entry("proxy_grpc_cancel", "gRPC", Done, ""),
    entry("proxy_grpc_close", "gRPC", Done, ""),
    entry(
        "proxy_call_foreign_function",
        "foreign functions",
        Partial,
        "compress, uncompress, clear_route_cache, declare_property, set_envoy_filter_state (envoy.tcp_proxy.cluster), verify_signature and sign (RSA PKCS#1 v1.5 and ECDSA, the digest and curve combinations AWS-LC has), expr_create, expr_evaluate and expr_delete (CEL over the context's attributes); any other name answers NotFound",
    ),
];

/// The WASI preview1 functions that do something; every other one linked is a stub answering
/// Envoy's errno.
const WASI_WORKING: &[(&str, &str)] = &[
    (
        "fd_write",
        "descriptors 1 and 2, to the log at info and error",
    ),
    ("fd_pwrite", "as fd_write"),
    ("fd_fdstat_get", "descriptors 1 and 2"),
    ("clock_time_get", "realtime and monotonic"),
    ("clock_res_get", "realtime and monotonic"),
    ("random_get", ""),
    ("environ_get", "empty"),
    ("environ_sizes_get", "empty"),
    ("args_get", "empty"),
    ("args_sizes_get", "empty"),
    (
        "poll_oneoff",
        "success with zero events, as Envoy (Go's runtime needs it)",
    ),
    ("sched_yield", ""),
    ("proc_exit", "ends that VM, not the host"),
];

/// The WASI module names every function is linked under.
pub const WASI_MODULES: &[&str] = &["wasi_snapshot_preview1", "wasi_unstable"];

/// Every WASI preview1 function linked (under each of [`WASI_MODULES`]).
pub const WASI_FUNCTIONS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "environ_get",
    "environ_sizes_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_dir_name",
    "fd_prestat_get",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "random_get",
    "sched_yield",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// A WASI function's entry: what it does, or a stub.
pub fn wasi(name: &'static str) -> Entry {
    match WASI_WORKING.iter().find(|(n, _)| *n == name) {
        Some((_, note)) => entry(name, "WASI preview1", Done, note),
        None => entry(
            name,
            "WASI preview1",
            Stub,
            "answers Envoy's errno; no host files, sockets or processes",
        ),
    }
}

/// Every callback a module may export, whether this host calls it.
pub const CALLBACKS: &[Entry] = &[
    entry(
        "_initialize",
        "lifecycle",
        Done,
        "then main(0, 0) if exported",
    ),
    entry("_start", "lifecycle", Done, "when there is no _initialize"),
    entry("proxy_on_memory_allocate", "lifecycle", Done, "or malloc"),
    entry("proxy_on_context_create", "lifecycle", Done, ""),
    entry("proxy_on_vm_start", "lifecycle", Done, ""),
    entry("proxy_on_configure", "lifecycle", Done, ""),
    entry("proxy_on_done", "lifecycle", Done, ""),
    entry("proxy_on_log", "lifecycle", Done, ""),
    entry("proxy_on_delete", "lifecycle", Done, ""),
    entry("proxy_on_request_headers", "HTTP stream", Done, ""),
    entry("proxy_on_request_body", "HTTP stream", Done, ""),
    entry("proxy_on_request_trailers", "HTTP stream", Done, ""),
    entry("proxy_on_response_headers", "HTTP stream", Done, ""),
    entry("proxy_on_response_body", "HTTP stream", Done, ""),
    entry("proxy_on_response_trailers", "HTTP stream", Done, ""),
    entry("proxy_on_tick", "clocks and timers", Done, ""),
    entry("proxy_on_queue_ready", "shared queues", Done, ""),
    entry(
        "proxy_on_http_call_response",
        "HTTP calls",
        Done,
        "in the root context",
    ),
    entry(
        "proxy_on_grpc_receive_initial_metadata",
        "gRPC",
        Done,
        "in the root context",
    ),
    entry("proxy_on_grpc_receive", "gRPC", Done, "in the root context"),
    entry(
        "proxy_on_grpc_receive_trailing_metadata",
        "gRPC",
        Done,
        "in the root context",
    ),
    entry("proxy_on_grpc_close", "gRPC", Done, "in the root context"),
    entry(
        "proxy_on_new_connection",
        "L4",
        Done,
        "network filters of a `tcp_proxy` listener",
    ),
    entry(
        "proxy_on_downstream_data",
        "L4",
        Done,
        "buffer 2; StopIteration holds the bytes, later ones are appended",
    ),
    entry(
        "proxy_on_upstream_data",
        "L4",
        Done,
        "buffer 3, write filters in reverse order",
    ),
    entry("proxy_on_downstream_connection_close", "L4", Done, ""),
    entry(
        "proxy_on_upstream_connection_close",
        "L4",
        Done,
        "after the upstream's end of stream, peer UNKNOWN, as Envoy reports it",
    ),
    entry(
        "proxy_on_request_metadata",
        "HTTP stream",
        NotOffered,
        "Envoy does not call it either",
    ),
    entry(
        "proxy_on_response_metadata",
        "HTTP stream",
        NotOffered,
        "Envoy does not call it either",
    ),
    entry(
        "proxy_on_foreign_function",
        "foreign functions",
        NotOffered,
        "",
    ),
];

/// One host feature of the proposed feature flags.
#[derive(Debug, Clone, Copy)]
pub struct Feature {
    /// Its identifier in the proposal.
    pub id: u16,
    /// Its name.
    pub name: &'static str,
    /// Whether this host has the ABI v0.2.1 functions of the feature's family (see
    /// [`FEATURES_MEANING`]).
    pub supported: bool,
}

/// Where [`FEATURES`]' names and identifiers come from: a draft, whose numbering may change.
pub const FEATURES_SOURCE: &str =
    "proxy-wasm/spec PR #91 (draft), HOST_FEATURES.md at PiotrSikora/spec 9260bb8";

/// What [`Feature::supported`] says: the flags describe the vNEXT ABI, whose functions (and
/// `proxy_get_host_features` itself) this v0.2.1 host does not offer.
pub const FEATURES_MEANING: &str = "the draft flags describe the vNEXT ABI; `supported` says whether this host has the ABI v0.2.1 functions of that family (the vNEXT functions and proxy_get_host_features are not offered)";

const fn feature(id: u16, name: &'static str, supported: bool) -> Feature {
    Feature {
        id,
        name,
        supported,
    }
}

/// The proposal's host features, and which this host has.
pub const FEATURES: &[Feature] = &[
    feature(0x0001, "HAS_CORE", true),
    feature(0x0002, "HAS_LOGGING", true),
    feature(0x0003, "HAS_HTTP_HEADERS", true),
    feature(0x0004, "HAS_HTTP_WITH_BODY", true),
    feature(0x0005, "HAS_HTTP_CALLOUTS_BUFFERED", true),
    feature(0x0006, "HAS_HTTP_CALLOUTS_STREAMING", false),
    feature(0x0007, "HAS_GRPC", true),
    feature(0x0008, "HAS_GRPC_CALLOUTS_BUFFERED", true),
    feature(0x0009, "HAS_GRPC_CALLOUTS_STREAMING", true),
    feature(0x000A, "HAS_TCP_FILTER", true),
    feature(0x000B, "HAS_TCP_WITH_PAYLOAD", true),
    feature(0x000C, "HAS_KEY_VALUE_STORES", true),
    feature(0x000D, "HAS_SHARED_QUEUES", true),
    feature(0x000E, "HAS_TIMERS", true),
    feature(0x000F, "HAS_METRICS", true),
    feature(0x0010, "HAS_PROPERTIES", true),
    feature(0x0011, "HAS_CUSTOM_FUNCTIONS", true),
    feature(0x0F01, "HAS_WASI_PREVIEW1_CORE", true),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::plugin_info::PluginInfo;
    use crate::runtime::vm::Callback;
    use crate::runtime::{PluginFactory, Runtime};
    use crate::state::SharedState;

    /// Every import the linker defines, as `module name`.
    fn linked() -> BTreeSet<String> {
        let runtime = Runtime::new().expect("the engine starts");
        let wasm = wat::parse_str(include_str!("../chain/tagger.wat")).expect("assembles");
        let module = runtime.compile(&wasm, "tagger.wat").expect("compiles");
        let info = PluginInfo {
            name: "capabilities".into(),
            root_id: String::new(),
            vm_id: String::new(),
            vm_config: Vec::new(),
            configuration: Vec::new(),
            fail_open: false,
            memory_bytes: 16 << 20,
            callback_time: Duration::from_secs(1),
            request_cpu: None,
            clusters: Arc::new(Vec::new()),
            version: None,
        };
        let factory =
            PluginFactory::from_module(&runtime, SharedState::new(), &module, info).expect("links");
        let mut vm = factory.instantiate(Arc::new(|_, _| {})).expect("starts");
        let mut linker = wasmtime::Linker::new(vm.store.engine());
        crate::abi::add_to_linker(&mut linker).expect("links");
        linker
            .iter(&mut vm.store)
            .map(|(module, name, _)| format!("{module} {name}"))
            .collect()
    }

    #[test]
    fn the_report_lists_exactly_what_the_linker_links() {
        let mut listed: BTreeSet<String> = HOSTCALLS
            .iter()
            .map(|e| format!("env {}", e.name))
            .collect();
        for module in WASI_MODULES {
            listed.extend(WASI_FUNCTIONS.iter().map(|f| format!("{module} {f}")));
        }
        assert_eq!(linked(), listed);
        for (name, _) in WASI_WORKING {
            assert!(WASI_FUNCTIONS.contains(name), "{name} is not linked");
        }
    }

    #[test]
    fn every_callback_the_vm_looks_up_is_reported_as_called() {
        let vm = include_str!("../runtime/vm.rs");
        // `export!(RequestHeaders)`: the callback's variant, named as its `Debug` prints it.
        let exported: BTreeSet<&str> = vm
            .split("export!(")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
            .map(|variant| {
                Callback::ALL
                    .iter()
                    .find(|c| format!("{c:?}") == variant)
                    .unwrap_or_else(|| panic!("export!({variant}) names no callback"))
                    .name()
            })
            .collect();
        let called: BTreeSet<&str> = CALLBACKS
            .iter()
            .filter(|e| e.support == Support::Implemented && e.name.starts_with("proxy_on_"))
            .map(|e| e.name)
            .filter(|name| *name != "proxy_on_memory_allocate")
            .collect();
        assert_eq!(exported, called);
    }
}
