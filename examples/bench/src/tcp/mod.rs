//! The `tcp` mode: each host as a TCP proxy (wasmesh's `tcp_proxy` listener, Envoy's
//! `tcp_proxy` network filter; one worker each) in front of the echo backend, without and with
//! a network filter (`tests/guests/tcp-test` in its quiet mode: it reads each chunk's size in
//! both directions and counts the bytes in two counters), under wrk's keep-alive HTTP/1.1,
//! which passes through as bytes. The bench's own TCP relay is the floor.

pub mod measure;
pub mod report;
