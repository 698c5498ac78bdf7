//! Rollouts in the chain: which version of a plugin a new stream runs, and the stable version a
//! canary hands the stream to when it fails before passing the request headers on (so a canary
//! that traps on every request costs no request; see [`ChainStream`](super::ChainStream)).

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

    /// The version a new stream runs, and what it falls back to when that is the canary.
    pub(super) fn pick(&self, keys: &StickyKeys<'_>) -> (Rc<PluginSlot>, Option<CanaryPick>) {
        match &self.canary {
            Some((canary, rollout)) if rollout.picks_canary(keys.key(&rollout.policy().sticky)) => {
                let pick = CanaryPick {
                    stable: self.stable.clone(),
                    rollout: rollout.clone(),
                };
                (canary.clone(), Some(pick))
            }
            _ => (self.stable.clone(), None),
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
