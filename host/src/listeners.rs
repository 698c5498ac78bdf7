//! The listening sockets. The host owns them (workers accept on clones), so a reload can add a
//! listener, move one to a new address or remove one: sockets for the new configuration are
//! bound *before* it is swapped in (a port in use rejects the reload and changes nothing), and
//! a removed listener's workers stop accepting and drain its connections.

use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, Result};

use crate::config::ListenerConfig;

/// One bound listener.
#[derive(Debug)]
pub struct BoundListener {
    /// The listener's name.
    pub name: String,
    /// The address the configuration asked for (port 0 = any).
    pub configured: SocketAddr,
    /// The address it got.
    pub local: SocketAddr,
    /// The socket; workers accept on clones of it.
    pub socket: TcpListener,
}

impl BoundListener {
    /// Binds `config`'s address.
    pub fn bind(config: &ListenerConfig) -> Result<BoundListener> {
        let socket = TcpListener::bind(config.address)
            .with_context(|| format!("binding listener {:?} on {}", config.name, config.address))?;
        let local = socket.local_addr()?;
        log::info!("listener {:?} on {local}", config.name);
        Ok(BoundListener {
            name: config.name.clone(),
            configured: config.address,
            local,
            socket,
        })
    }

    /// A clone of the socket for one worker.
    pub fn clone_socket(&self) -> Result<TcpListener> {
        self.socket
            .try_clone()
            .with_context(|| format!("cloning listener {:?}", self.name))
    }
}

/// How a reload changes the set of listeners; the ones not named are kept as they are.
#[derive(Debug, Default)]
pub struct ListenerPlan {
    /// Newly bound listeners (new names, or names whose address changed).
    pub start: Vec<BoundListener>,
    /// Names whose current sockets stop accepting and drain (removed or moved).
    pub stop: Vec<String>,
}

impl ListenerPlan {
    /// Compares `current` with `wanted` and binds what is new; fails if any new address cannot
    /// be bound (the sockets bound so far are dropped: nothing changes).
    pub fn make(current: &[BoundListener], wanted: &[ListenerConfig]) -> Result<ListenerPlan> {
        let unchanged = |name: &str, address: SocketAddr| {
            current
                .iter()
                .any(|b| b.name == name && b.configured == address)
        };
        let mut plan = ListenerPlan::default();
        for config in wanted {
            if !unchanged(&config.name, config.address) {
                plan.start.push(BoundListener::bind(config)?);
            }
        }
        for bound in current {
            let kept = wanted
                .iter()
                .any(|c| c.name == bound.name && c.address == bound.configured);
            if !kept {
                plan.stop.push(bound.name.clone());
            }
        }
        Ok(plan)
    }

    /// Applies the plan to `current`: stopped ones leave, started ones join.
    pub fn apply(self, current: &mut Vec<BoundListener>) -> Vec<BoundListener> {
        current.retain(|b| !self.stop.contains(&b.name));
        for bound in &self.start {
            if let Ok(socket) = bound.clone_socket() {
                current.push(BoundListener {
                    name: bound.name.clone(),
                    configured: bound.configured,
                    local: bound.local,
                    socket,
                });
            }
        }
        self.start
    }
}

#[cfg(test)]
mod tests;
