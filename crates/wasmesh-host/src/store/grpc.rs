//! A VM's gRPC calls and streams: their tokens, what the driver is asked to do with them, and
//! what a `proxy_on_grpc_*` callback may read while it runs.
//!
//! Tokens follow Envoy's scheme, so a filter sees the same answers for a wrong token: the low
//! two bits say what a token names (0 an HTTP call, 1 a gRPC call, 2 a gRPC stream) and each
//! kind counts up by 4. A token of the wrong kind for a hostcall is `BadArgument`; one of the
//! right kind that is not open is `NotFound`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::headers::HeaderMap;

/// What a callout token names, by its low two bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A unary gRPC call (`proxy_grpc_call`).
    Call,
    /// A gRPC stream (`proxy_grpc_stream`).
    Stream,
    /// Anything else (an HTTP call's kind, or none).
    Other,
}

impl TokenKind {
    /// The kind `token` names.
    pub fn of(token: u32) -> TokenKind {
        match token & 3 {
            1 => TokenKind::Call,
            2 => TokenKind::Stream,
            _ => TokenKind::Other,
        }
    }
}

/// Which ends of an open stream have closed. Envoy forgets a stream once both have: the guest's
/// `proxy_grpc_close` (or a send with `end_stream`) and the server's close.
#[derive(Debug, Default, Clone, Copy)]
struct Ends {
    local_closed: bool,
    remote_closed: bool,
}

/// The gRPC calls and streams one VM has open.
#[derive(Debug, Default)]
pub struct GrpcCallouts {
    last_call: u32,
    last_stream: u32,
    calls: HashSet<u32>,
    streams: HashMap<u32, Ends>,
}

/// Why a stream operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalloutRefusal {
    /// The token is not a stream's (or not a call's, for operations on calls).
    WrongKind,
    /// The token is of the right kind but not open.
    NotOpen,
}

impl GrpcCallouts {
    /// A fresh token of `kind` (never one still open), recorded as open.
    fn open(&mut self, kind: TokenKind) -> u32 {
        let (last, low) = match kind {
            TokenKind::Call => (&mut self.last_call, 1),
            TokenKind::Stream => (&mut self.last_stream, 2),
            TokenKind::Other => unreachable!("only gRPC tokens are handed out here"),
        };
        loop {
            *last = last.wrapping_add(4);
            let token = (*last & !3) | low;
            let taken = self.calls.contains(&token) || self.streams.contains_key(&token);
            if !taken {
                match kind {
                    TokenKind::Call => self.calls.insert(token),
                    _ => self.streams.insert(token, Ends::default()).is_none(),
                };
                return token;
            }
        }
    }

    /// Opens a unary call.
    pub fn open_call(&mut self) -> u32 {
        self.open(TokenKind::Call)
    }

    /// Opens a stream.
    pub fn open_stream(&mut self) -> u32 {
        self.open(TokenKind::Stream)
    }

    /// Whether `token` is an open call or stream.
    pub fn is_open(&self, token: u32) -> bool {
        self.calls.contains(&token) || self.streams.contains_key(&token)
    }

    /// Whether messages may still be sent on stream `token`.
    pub fn check_send(&self, token: u32) -> Result<(), CalloutRefusal> {
        if TokenKind::of(token) != TokenKind::Stream {
            return Err(CalloutRefusal::WrongKind);
        }
        match self.streams.get(&token) {
            Some(ends) if !ends.local_closed => Ok(()),
            _ => Err(CalloutRefusal::NotOpen),
        }
    }

    /// The guest closed its end of stream `token` (`proxy_grpc_close`, or a send with
    /// `end_stream`); for a call, `proxy_grpc_close` cancels it. True when this changed
    /// anything (closing a closed end again is accepted, as in Envoy, and does nothing).
    pub fn close_local(&mut self, token: u32) -> Result<bool, CalloutRefusal> {
        match TokenKind::of(token) {
            TokenKind::Call => self.cancel(token).map(|()| true),
            TokenKind::Stream => {
                let ends = self
                    .streams
                    .get_mut(&token)
                    .ok_or(CalloutRefusal::NotOpen)?;
                let changed = !ends.local_closed;
                ends.local_closed = true;
                if ends.remote_closed {
                    self.streams.remove(&token);
                }
                Ok(changed)
            }
            TokenKind::Other => Err(CalloutRefusal::WrongKind),
        }
    }

    /// The guest cancelled call or stream `token`: it is forgotten, no callback follows.
    pub fn cancel(&mut self, token: u32) -> Result<(), CalloutRefusal> {
        let removed = match TokenKind::of(token) {
            TokenKind::Call => self.calls.remove(&token),
            TokenKind::Stream => self.streams.remove(&token).is_some(),
            TokenKind::Other => return Err(CalloutRefusal::WrongKind),
        };
        removed.then_some(()).ok_or(CalloutRefusal::NotOpen)
    }

    /// The server closed call or stream `token`: a call is over; a stream is forgotten once
    /// the guest has closed its end too.
    pub fn close_remote(&mut self, token: u32) {
        self.calls.remove(&token);
        if let Some(ends) = self.streams.get_mut(&token) {
            ends.remote_closed = true;
            if ends.local_closed {
                self.streams.remove(&token);
            }
        }
    }

    /// The call delivered its response (a unary call ends with it).
    pub fn answered(&mut self, token: u32) {
        self.calls.remove(&token);
    }
}

/// Where a call or stream goes and what it starts with.
#[derive(Debug, Clone)]
pub struct GrpcTarget {
    /// The cluster.
    pub cluster: String,
    /// `:authority` (Envoy's `envoy_grpc.authority`, else the cluster's name).
    pub authority: String,
    /// Fully qualified service name, e.g. `envoy.service.ratelimit.v3.RateLimitService`.
    pub service: String,
    /// Method name.
    pub method: String,
    /// Initial metadata the guest (and the service definition) asked for.
    pub metadata: HeaderMap,
}

/// What a VM asked the driver to do with its gRPC calls and streams, in the order it asked.
#[derive(Debug)]
pub enum GrpcCommand {
    /// Send a unary call.
    Call {
        /// Its token.
        token: u32,
        /// Where to.
        target: GrpcTarget,
        /// The request message (not yet framed).
        message: Vec<u8>,
        /// Deadline (also sent as `grpc-timeout`); `None` for none.
        timeout: Option<Duration>,
    },
    /// Open a stream.
    Open {
        /// Its token.
        token: u32,
        /// Where to.
        target: GrpcTarget,
    },
    /// Send one message on a stream, closing its sending side after it when `end_stream`.
    Send {
        /// The stream.
        token: u32,
        /// The message (not yet framed).
        message: Vec<u8>,
        /// Whether the guest's side ends with it.
        end_stream: bool,
    },
    /// Close the sending side of a stream.
    Close {
        /// The stream.
        token: u32,
    },
    /// Abandon a call or stream (reset it).
    Cancel {
        /// The call or stream.
        token: u32,
    },
}

impl GrpcCommand {
    /// Bytes of guest data this command holds.
    pub fn size(&self) -> usize {
        match self {
            GrpcCommand::Call { message, .. } | GrpcCommand::Send { message, .. } => message.len(),
            _ => 0,
        }
    }
}

/// What a `proxy_on_grpc_*` callback may read while it runs.
#[derive(Debug)]
pub enum GrpcReceived {
    /// The server's initial metadata (`proxy_on_grpc_receive_initial_metadata`): map type 4.
    InitialMetadata(HeaderMap),
    /// A message (`proxy_on_grpc_receive`): buffer type 5.
    Message(Vec<u8>),
    /// The server's trailing metadata (`proxy_on_grpc_receive_trailing_metadata`): map type 5.
    TrailingMetadata(HeaderMap),
    /// The status a call or stream closed with (`proxy_on_grpc_close`): `proxy_get_status`.
    Close {
        /// gRPC status code.
        code: u32,
        /// gRPC status message.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_kind_and_are_not_reused_while_open() {
        let mut callouts = GrpcCallouts::default();
        let call = callouts.open_call();
        let stream = callouts.open_stream();
        assert_eq!(TokenKind::of(call), TokenKind::Call);
        assert_eq!(TokenKind::of(stream), TokenKind::Stream);
        assert_ne!(callouts.open_call(), call);
        assert_eq!(callouts.check_send(call), Err(CalloutRefusal::WrongKind));
        assert_eq!(callouts.check_send(stream), Ok(()));
        assert_eq!(callouts.cancel(0x7fff_fff0), Err(CalloutRefusal::WrongKind));
        assert_eq!(callouts.cancel(call + 400), Err(CalloutRefusal::NotOpen));
    }

    #[test]
    fn a_stream_is_forgotten_once_both_ends_closed() {
        let mut callouts = GrpcCallouts::default();
        let stream = callouts.open_stream();
        callouts.close_local(stream).unwrap();
        assert_eq!(callouts.check_send(stream), Err(CalloutRefusal::NotOpen));
        assert!(callouts.is_open(stream), "the server may still answer");
        callouts.close_remote(stream);
        assert!(!callouts.is_open(stream));
        let other = callouts.open_stream();
        callouts.close_remote(other);
        assert!(callouts.is_open(other), "the guest has not closed its end");
        assert_eq!(callouts.cancel(other), Ok(()));
        assert!(!callouts.is_open(other));
    }
}
