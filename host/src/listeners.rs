//! The listening sockets. The host owns them, so a reload can add a listener, move one to a
//! new address or remove one: sockets for the new configuration are bound *before* it is
//! swapped in (a port in use rejects the reload and changes nothing), and a removed listener's
//! workers stop accepting and drain its connections.
//!
//! Each worker accepts on a socket of its own, all bound to the listener's address with
//! `SO_REUSEPORT` (as Envoy's listeners are by default on Linux): the kernel spreads new
//! connections over the workers' sockets, where clones of one socket would wake every worker
//! for every connection and leave the balance to whichever wins the race.

use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, Result};
use socket2::{Domain, Protocol, Socket, Type};

use crate::config::ListenerConfig;

/// Connections the kernel queues per socket before `accept` (Linux caps it at `somaxconn`).
const BACKLOG: i32 = 1024;

/// One bound listener.
#[derive(Debug)]
pub struct BoundListener {
    /// The listener's name.
    pub name: String,
    /// The address the configuration asked for (port 0 = any).
    pub configured: SocketAddr,
    /// The address it got.
    pub local: SocketAddr,
    /// One socket per worker, the same address and port.
    sockets: Vec<TcpListener>,
}

impl BoundListener {
    /// Binds `config`'s address with a socket for each of `workers` workers.
    pub fn bind(config: &ListenerConfig, workers: usize) -> Result<BoundListener> {
        let at = || format!("binding listener {:?} on {}", config.name, config.address);
        let first = reuseport_socket(config.address).with_context(at)?;
        let local = first.local_addr()?;
        let mut sockets = vec![first];
        // The others on the port the first got (the configured one may be 0).
        for _ in 1..workers.max(1) {
            sockets.push(reuseport_socket(local).with_context(at)?);
        }
        log::info!("listener {:?} on {local}", config.name);
        Ok(BoundListener {
            name: config.name.clone(),
            configured: config.address,
            local,
            sockets,
        })
    }

    /// Worker `index`'s socket (a handle on it: the host keeps its own).
    pub fn socket_for(&self, index: usize) -> Result<TcpListener> {
        self.sockets[index % self.sockets.len()]
            .try_clone()
            .with_context(|| format!("listener {:?}: worker {index}'s socket", self.name))
    }

    /// The same sockets, another handle on each (the host's list after a reload).
    fn duplicate(&self) -> Result<BoundListener> {
        let sockets = (0..self.sockets.len())
            .map(|i| self.socket_for(i))
            .collect::<Result<_>>()?;
        Ok(BoundListener {
            name: self.name.clone(),
            configured: self.configured,
            local: self.local,
            sockets,
        })
    }
}

/// A listening socket on `address` that others with `SO_REUSEPORT` (ours) may share.
fn reuseport_socket(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    // As std's `TcpListener::bind`: a restart may bind while old connections are in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
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
    /// Each new listener gets a socket for each of `workers` workers.
    pub fn make(
        current: &[BoundListener],
        wanted: &[ListenerConfig],
        workers: usize,
    ) -> Result<ListenerPlan> {
        let unchanged = |name: &str, address: SocketAddr| {
            current
                .iter()
                .any(|b| b.name == name && b.configured == address)
        };
        let mut plan = ListenerPlan::default();
        for config in wanted {
            if !unchanged(&config.name, config.address) {
                plan.start.push(BoundListener::bind(config, workers)?);
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
            if let Ok(kept) = bound.duplicate() {
                current.push(kept);
            }
        }
        self.start
    }
}

#[cfg(test)]
mod tests;
