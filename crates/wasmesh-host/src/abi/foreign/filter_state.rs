//! `set_envoy_filter_state`: a filter sets one of Envoy's filter-state objects by name (a
//! serialized `envoy.source.extensions.common.wasm.SetEnvoyFilterStateArguments`). Envoy
//! builds the object with the factory registered under that name and answers `NotFound` for a
//! name without one; wasmesh has the objects that mean something here:
//!
//! - `envoy.tcp_proxy.cluster`: the cluster a TCP listener connects the connection to (read
//!   when it connects: from `proxy_on_new_connection`, or from the first data when a filter
//!   held the connection there).
//!
//! Any other name is `NotFound`, as for a name Envoy has no factory for; a call from the root
//! context, which has no stream, is `NotFound` too (Envoy's answer); arguments that are not the
//! message are `BadArgument`.

use prost::Message;

use crate::abi::Status;
use crate::store::HostState;

/// `SetEnvoyFilterStateArguments`.
#[derive(Clone, PartialEq, prost::Message)]
struct SetEnvoyFilterStateArguments {
    #[prost(string, tag = "1")]
    path: String,
    #[prost(string, tag = "2")]
    value: String,
    #[prost(int32, tag = "3")]
    span: i32,
}

/// The filter-state name of the TCP proxy's cluster.
pub const TCP_PROXY_CLUSTER: &str = "envoy.tcp_proxy.cluster";

/// Sets the object on the running stream's or connection's facts.
pub fn set(arguments: &[u8], state: &mut HostState) -> Result<Vec<u8>, Status> {
    let args = SetEnvoyFilterStateArguments::decode(arguments).map_err(|_| Status::BadArgument)?;
    let stream = state.active_stream().ok_or(Status::NotFound)?;
    match args.path.as_str() {
        TCP_PROXY_CLUSTER => stream.info.tcp_proxy_cluster_chosen(args.value),
        _ => return Err(Status::NotFound),
    }
    Ok(Vec::new())
}
