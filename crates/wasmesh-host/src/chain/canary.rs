//! Rollouts in the chain: which version of a plugin a new stream runs, the stable version a
//! canary hands the stream to when it fails before passing the request headers on (so a canary
//! that traps on every request costs no request; see [`ChainStream`](super::ChainStream)), and
//! a shadow canary's run beside the stable version.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use crate::headers::HeaderMap;
use crate::rollout::{Rollout, Sticky};
use crate::runtime::PluginSlot;

/// One filter of a listener's chain on a worker: the plugin's VM, and its canary's when the
/// plugin is in a rollout.
pub struct ChainEntry {
    /// The plugin's (stable) version.
    pub stable: Rc<PluginSlot>,
    /// Its canary and the rollout that shares streams between them.
    pub canary: Option<(Rc<PluginSlot>, Arc<Rollout>)>,
}

impl ChainEntry {
    /// A plugin with one version.
    pub fn plain(slot: Rc<PluginSlot>) -> ChainEntry {
        ChainEntry {
            stable: slot,
            canary: None,
        }
    }

    /// The version a new stream runs and what it falls back to when that is the canary, or the
    /// canary that watches it in shadow mode.
    pub(super) fn pick(&self, keys: &StickyKeys<'_>) -> Picked {
        let stable = Picked {
            slot: self.stable.clone(),
            canary: None,
            shadow: None,
        };
        let Some((canary, rollout)) = &self.canary else {
            return stable;
        };
        if !rollout.picks_canary(keys.key(&rollout.policy().sticky)) {
            return stable;
        }
        let pick = CanaryPick {
            stable: self.stable.clone(),
            rollout: rollout.clone(),
        };
        if rollout.policy().shadow {
            let shadow = ShadowPick {
                slot: canary.clone(),
                rollout: rollout.clone(),
            };
            return Picked {
                shadow: Some(shadow),
                ..stable
            };
        }
        Picked {
            slot: canary.clone(),
            canary: Some(pick),
            shadow: None,
        }
    }
}

/// What a stream's filter runs.
pub(super) struct Picked {
    pub slot: Rc<PluginSlot>,
    pub canary: Option<CanaryPick>,
    pub shadow: Option<ShadowPick>,
}

/// The canary watching a stream in shadow mode.
pub(super) struct ShadowPick {
    pub slot: Rc<PluginSlot>,
    pub rollout: Arc<Rollout>,
}

/// A shadow canary's context on one stream: created on a copy of the request headers, ended
/// with the stream's real outcome. Nothing it does reaches the stream: its header changes are on
/// the copy, its replies, pauses and resets are dropped, its waker wakes no one.
pub(super) struct ShadowRun {
    slot: Rc<PluginSlot>,
    rollout: Arc<Rollout>,
    context: (u32, u64),
}

impl ShadowPick {
    /// Runs the canary's `on_request_headers` on a copy of `headers`; `None` if its VM failed
    /// (counted against the rollout) or is down.
    pub(super) fn start(
        &self,
        info: &Rc<crate::stream_info::StreamInfo>,
        headers: &HeaderMap,
        end_of_stream: bool,
    ) -> Option<ShadowRun> {
        let waker = Rc::new(tokio::sync::Notify::new());
        let count = headers.len() as u32;
        let ran = self.slot.with_vm(|vm| {
            let ctx = vm.create_stream(info.clone(), waker)?;
            super::stream_of(vm, ctx).request_headers = Some(headers.clone());
            vm.on_request_headers(ctx, count, end_of_stream)?;
            let reply = super::stream_of(vm, ctx).signals.local_reply.take();
            Ok((ctx, reply.map(|r| r.status)))
        });
        match ran {
            Some(Ok((ctx, reply))) => {
                if let Some(status) = reply {
                    self.rollout.record_local_reply(status);
                }
                Some(ShadowRun {
                    slot: self.slot.clone(),
                    rollout: self.rollout.clone(),
                    context: (ctx, self.slot.generation()),
                })
            }
            Some(Err(failure)) => {
                self.rollout.record_failure(failure.kind);
                None
            }
            None => {
                self.rollout.record_failure("vm_down");
                None
            }
        }
    }
}

impl ShadowRun {
    /// Ends the canary's context with the stream's real headers (`on_log` sees the outcome).
    pub(super) fn finish(&self, mut request: Option<HeaderMap>, mut response: Option<HeaderMap>) {
        let (ctx, generation) = self.context;
        let ended = self.slot.with_vm_of(generation, |vm| {
            vm.end_stream(ctx, &mut request, &mut response)
        });
        if let Some(Err(failure)) = ended {
            self.rollout.record_failure(failure.kind);
        }
    }
}

/// A stream runs the canary: its rollout, and the stable version it falls back to.
pub(super) struct CanaryPick {
    pub stable: Rc<PluginSlot>,
    pub rollout: Arc<Rollout>,
}

/// What a sticky rollout keys a stream by (hashed only when a plugin in the chain has a canary).
pub struct StickyKeys<'a> {
    /// The stream's connection, by its client's and its own address.
    pub connection: (SocketAddr, SocketAddr),
    /// The request headers as the client sent them.
    pub headers: &'a HeaderMap,
}

impl StickyKeys<'_> {
    /// The key `sticky` asks for, spread over `u64` (the rollout takes it modulo 100).
    fn key(&self, sticky: &Sticky) -> u64 {
        let mut hasher = DefaultHasher::new();
        match sticky {
            Sticky::Header(name) => match self.headers.get(name.as_bytes()) {
                Some(value) => value.hash(&mut hasher),
                None => self.connection.hash(&mut hasher),
            },
            Sticky::Connection => self.connection.hash(&mut hasher),
        }
        hasher.finish()
    }
}
