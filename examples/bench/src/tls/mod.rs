//! The `tls` mode: each host terminating TLS (the same certificate, minted by `wasmesh-certs`,
//! ALPN `http/1.1`, one worker each) in front of the echo backend. Two loads: keep-alive
//! connections, where TLS costs its record layer, and a new connection per request
//! (`Connection: close`), where every request is a full handshake, so requests/s is
//! handshakes/s.

pub mod handshaker;
pub mod measure;
pub mod report;
