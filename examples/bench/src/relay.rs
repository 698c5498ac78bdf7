//! The floor of any proxy hop on this machine: a TCP relay that does nothing but copy bytes
//! between the client's connection and its own connection to the backend (tokio's
//! `copy_bidirectional`, one thread, `TCP_NODELAY` both ways). A proxy in front of the backend
//! costs at least what this costs, the extra wake-ups and loopback writes of one more hop;
//! what wasmesh adds beyond it is the proxy's own work.

use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;

use anyhow::Context;
use tokio::sync::oneshot;

/// A running relay (stopped when dropped).
pub struct Relay {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// The id of the relay's one thread (it does all the relaying), for its CPU time
    /// ([`crate::cpu`]); `None` if `/proc` could not tell.
    pub thread_id: Option<u32>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Listens on an ephemeral port of 127.0.0.1 and relays each connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").context("relay: binding")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (id_tx, id_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("relay".into())
            .spawn(move || {
                let _ = id_tx.send(crate::cpu::this_thread_id());
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("registering the relay's listener with tokio");
                    tokio::select! {
                        _ = accept_loop(listener, upstream) => {}
                        _ = stopped => {}
                    }
                })
            })?;
        Ok(Relay {
            addr,
            thread_id: id_rx.recv().ok().flatten(),
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, upstream: SocketAddr) {
    while let Ok((mut client, _)) = listener.accept().await {
        tokio::spawn(async move {
            let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
