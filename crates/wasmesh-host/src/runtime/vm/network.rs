//! The network filter callbacks (`proxy_on_new_connection`, the data and close callbacks of a
//! TCP connection), kept apart from the HTTP ones in `vm.rs`.

use super::{Action, Callback, Exports, PluginVm, VmFailure, F};

impl PluginVm {
    /// `proxy_on_new_connection`.
    pub fn on_new_connection(&mut self, ctx: u32) -> Result<Action, VmFailure> {
        let r = self.call(Callback::NewConnection, ctx, |e| &e.on_new_connection, ctx)?;
        Action::from_abi(Callback::NewConnection.name(), r, MAX_NETWORK_STATUS)
    }

    /// `proxy_on_downstream_data` (`size` bytes in buffer 2) or `proxy_on_upstream_data`
    /// (buffer 3).
    pub fn on_connection_data(
        &mut self,
        direction: Flow,
        ctx: u32,
        size: u32,
        eos: bool,
    ) -> Result<Action, VmFailure> {
        let (callback, pick): (Callback, PickData) = match direction {
            Flow::Downstream => (Callback::DownstreamData, |e| &e.on_downstream_data),
            Flow::Upstream => (Callback::UpstreamData, |e| &e.on_upstream_data),
        };
        let r = self.call(callback, ctx, pick, (ctx, size, eos as u32))?;
        Action::from_abi(callback.name(), r, MAX_NETWORK_STATUS)
    }

    /// `proxy_on_downstream_connection_close` or `proxy_on_upstream_connection_close`, with
    /// the spec's `PeerType` (0 unknown, 1 local, 2 remote).
    pub fn on_connection_close(
        &mut self,
        side: Flow,
        ctx: u32,
        peer: PeerType,
    ) -> Result<(), VmFailure> {
        let (callback, pick): (Callback, PickClose) = match side {
            Flow::Downstream => (Callback::DownstreamClose, |e| {
                &e.on_downstream_connection_close
            }),
            Flow::Upstream => (Callback::UpstreamClose, |e| &e.on_upstream_connection_close),
        };
        self.call(callback, ctx, pick, (ctx, peer as u32))
            .map(|_| ())
    }
}

/// The highest network filter status (`StopIteration`, 1).
const MAX_NETWORK_STATUS: u32 = 1;

/// Picks a connection-data callback's export.
type PickData = fn(&Exports) -> &F<(u32, u32, u32), u32>;
/// Picks a connection-close callback's export.
type PickClose = fn(&Exports) -> &F<(u32, u32), ()>;

/// A TCP connection's two directions (and sides), as the network filter callbacks name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// From the client (read filters), or the client's side of the connection.
    Downstream,
    /// From the upstream (write filters), or the upstream side.
    Upstream,
}

/// Who closed a side of a connection (the spec's `PeerType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerType {
    /// Not known (Envoy reports the upstream side's close this way).
    Unknown = 0,
    /// The proxy closed it.
    Local = 1,
    /// The peer closed it.
    Remote = 2,
}
