//! Carries out a VM's gRPC calls and streams (`proxy_grpc_*`) over h2 to its clusters, and
//! delivers what comes back as the `proxy_on_grpc_*` callbacks, as Envoy's gRPC client does.
//! One driver per plugin slot, in its effects pump; each call or stream is a task on the
//! worker, and dropping the driver (the slot is gone) resets them all, as Envoy cancels a
//! context's calls when it is destroyed.
//!
//! A unary call gets one callback, as in Envoy: its message once the server closed with status
//! 0, else the close with the status (`INTERNAL` for an OK close without a message).

mod exchange;
mod wire;

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::body;
use crate::upstream::Upstreams;
use wasmesh_host::headers::HeaderMap;
use wasmesh_host::runtime::PluginSlot;
use wasmesh_host::store::grpc::{GrpcCommand, GrpcReceived, GrpcTarget};

/// Largest message handed to a filter (a larger one closes the exchange with
/// `RESOURCE_EXHAUSTED`, as Envoy's decoder does past its limit).
const MAX_MESSAGE: usize = 16 << 20;

/// Bytes a stream may hold that the guest sent and the server has not taken yet; past it the
/// stream is reset and closed with `RESOURCE_EXHAUSTED`, so a guest sending faster than the
/// server reads cannot grow the proxy's memory without end.
const MAX_QUEUED: usize = 16 << 20;

/// One open call or stream.
struct Open {
    /// Where a stream's messages go (`None` once the guest closed its end, and for calls).
    outgoing: Option<mpsc::UnboundedSender<Bytes>>,
    /// Bytes in `outgoing` not yet handed to the connection.
    queued: Rc<Cell<usize>>,
    task: JoinHandle<()>,
}

/// A slot's calls and streams in flight.
#[derive(Default)]
pub struct GrpcDriver {
    open: HashMap<u32, Open>,
}

impl Drop for GrpcDriver {
    fn drop(&mut self) {
        for open in self.open.values() {
            open.task.abort();
        }
    }
}

/// Hands what an exchange produced to the VM that asked, while it lives.
#[derive(Clone)]
struct Deliver {
    slot: Weak<PluginSlot>,
    generation: u64,
    token: u32,
}

impl Deliver {
    /// False once the VM is gone (the slot dropped, or the VM replaced after a failure).
    fn deliver(&self, received: GrpcReceived) -> bool {
        let Some(slot) = self.slot.upgrade() else {
            return false;
        };
        slot.with_vm_of(self.generation, |vm| vm.deliver_grpc(self.token, received))
            .is_some()
    }
}

impl GrpcDriver {
    /// Carries out one command of the VM of `slot` at `generation`.
    pub fn apply(
        &mut self,
        command: GrpcCommand,
        slot: &Weak<PluginSlot>,
        generation: u64,
        upstreams: &Rc<Upstreams>,
    ) {
        self.open.retain(|_, open| !open.task.is_finished());
        let deliver = |token| Deliver {
            slot: slot.clone(),
            generation,
            token,
        };
        match command {
            GrpcCommand::Call {
                token,
                target,
                message,
                timeout,
            } => {
                let task = tokio::task::spawn_local(unary(
                    deliver(token),
                    upstreams.clone(),
                    target,
                    message,
                    timeout,
                ));
                self.open.insert(
                    token,
                    Open {
                        outgoing: None,
                        queued: Rc::default(),
                        task,
                    },
                );
            }
            GrpcCommand::Open { token, target } => {
                let (outgoing, messages) = mpsc::unbounded_channel();
                let queued = Rc::new(Cell::new(0));
                let task = tokio::task::spawn_local(stream(
                    deliver(token),
                    upstreams.clone(),
                    target,
                    messages,
                    queued.clone(),
                ));
                self.open.insert(
                    token,
                    Open {
                        outgoing: Some(outgoing),
                        queued,
                        task,
                    },
                );
            }
            GrpcCommand::Send {
                token,
                message,
                end_stream,
            } => self.send(token, message, end_stream, deliver(token)),
            GrpcCommand::Close { token } => {
                if let Some(open) = self.open.get_mut(&token) {
                    open.outgoing = None;
                }
            }
            GrpcCommand::Cancel { token } => {
                if let Some(open) = self.open.remove(&token) {
                    open.task.abort();
                }
            }
        }
    }

    fn send(&mut self, token: u32, message: Vec<u8>, end_stream: bool, deliver: Deliver) {
        let Some(open) = self.open.get_mut(&token) else {
            return;
        };
        if let Some(outgoing) = &open.outgoing {
            let queued = open.queued.get() + message.len() + 5;
            if queued > MAX_QUEUED {
                open.task.abort();
                self.open.remove(&token);
                log::warn!(
                    "gRPC stream {token}: more than {MAX_QUEUED} bytes waiting to be sent; reset"
                );
                if deliver.deliver(GrpcReceived::TrailingMetadata(HeaderMap::new())) {
                    deliver.deliver(GrpcReceived::Close {
                        code: wire::code::RESOURCE_EXHAUSTED,
                        message: format!(
                            "wasmesh: more than {MAX_QUEUED} bytes waiting to be sent on this stream"
                        ),
                    });
                }
                return;
            }
            open.queued.set(queued);
            let _ = outgoing.send(wire::frame(&message));
        }
        if end_stream {
            open.outgoing = None;
        }
    }
}

async fn unary(
    deliver: Deliver,
    upstreams: Rc<Upstreams>,
    target: GrpcTarget,
    message: Vec<u8>,
    timeout: Option<Duration>,
) {
    let mut response = None;
    let mut close = None;
    exchange::run(
        &upstreams,
        &target,
        body::full(wire::frame(&message)),
        timeout,
        MAX_MESSAGE,
        &mut |received| {
            match received {
                GrpcReceived::Message(message) => response = Some(message),
                GrpcReceived::Close { code, message } => close = Some((code, message)),
                _ => {}
            }
            true
        },
    )
    .await;
    let received = match (close, response) {
        (Some((0, _)), Some(message)) => GrpcReceived::Message(message),
        (Some((0, _)), None) | (None, _) => GrpcReceived::Close {
            code: wire::code::INTERNAL,
            message: String::new(),
        },
        (Some((code, message)), _) => GrpcReceived::Close { code, message },
    };
    deliver.deliver(received);
}

async fn stream(
    deliver: Deliver,
    upstreams: Rc<Upstreams>,
    target: GrpcTarget,
    mut messages: mpsc::UnboundedReceiver<Bytes>,
    queued: Rc<Cell<usize>>,
) {
    let (sender, request_body) = body::channel();
    // Feeds the guest's messages to the request body at the connection's pace; when the guest
    // closes its end (the channel's sender is dropped), the body ends and h2 sends END_STREAM.
    let feeder = tokio::task::spawn_local(async move {
        while let Some(frame) = messages.recv().await {
            queued.set(queued.get().saturating_sub(frame.len()));
            if sender.send(Ok(Frame::data(frame))).await.is_err() {
                break;
            }
        }
    });
    exchange::run(
        &upstreams,
        &target,
        request_body.boxed(),
        None,
        MAX_MESSAGE,
        &mut |received| deliver.deliver(received),
    )
    .await;
    feeder.abort();
}
