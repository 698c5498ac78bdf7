use std::net::SocketAddr;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::body::empty;

fn request(method: &str, uri: &str) -> http::Request<ProxyBody> {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .body(empty())
        .unwrap()
}

#[test]
fn a_request_goes_in_origin_form_with_its_host() {
    let mut r = request("GET", "http://10.0.0.1:8080/a?b=c");
    to_http1_form(&mut r);
    assert_eq!(r.uri().to_string(), "/a?b=c");
    assert_eq!(r.headers()[http::header::HOST], "10.0.0.1:8080");
}

#[test]
fn the_default_port_is_left_out_of_host_and_a_given_host_is_kept() {
    let mut r = request("GET", "http://10.0.0.1:80/");
    to_http1_form(&mut r);
    assert_eq!(r.headers()[http::header::HOST], "10.0.0.1");
    let mut r = request("GET", "https://10.0.0.1:8443/");
    r.headers_mut()
        .insert(http::header::HOST, "example.com".parse().unwrap());
    to_http1_form(&mut r);
    assert_eq!(r.headers()[http::header::HOST], "example.com");
    assert_eq!(r.uri().to_string(), "/");
}

#[test]
fn connect_goes_in_authority_form() {
    let mut r = request("CONNECT", "http://10.0.0.1:443/");
    to_http1_form(&mut r);
    assert_eq!(r.uri().to_string(), "10.0.0.1:443");
}

fn shared() -> Shared {
    Shared {
        by_endpoint: RefCell::default(),
        waiting: Cell::new(0),
        polled: Notify::new(),
        tick: Cell::new(0),
        reaping: Cell::new(false),
    }
}

/// A connection over an in-memory pipe, its task spawned, ready for a request; the far end
/// is the "server".
async fn connection() -> (Pooled, DuplexStream) {
    let (near, far) = tokio::io::duplex(4096);
    let (mut sender, conn) = Builder::new()
        .handshake::<_, ProxyBody>(TokioIo::new(near))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender.ready().await.unwrap();
    let pooled = Pooled {
        sender,
        tls: None,
        used: 0,
    };
    (pooled, far)
}

fn run(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

const ENDPOINT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 80);

#[test]
fn a_ready_connection_is_taken_a_busy_one_left_and_a_closed_one_dropped() {
    run(async {
        let pool = shared();
        let (mut busy, mut busy_far) = connection().await;
        let sent = busy.sender.try_send_request(request("GET", "/"));
        let (ready, _ready_far) = connection().await;
        let (closed, closed_far) = connection().await;
        // The busy one's request is on the wire and unanswered.
        let mut head = [0u8; 16];
        busy_far.read_exact(&mut head).await.unwrap();
        drop(closed_far);
        while !closed.sender.is_closed() {
            tokio::task::yield_now().await;
        }
        pool.keep(ENDPOINT, ready);
        pool.keep(ENDPOINT, busy);
        pool.keep(ENDPOINT, closed);
        assert!(pool.take_ready(ENDPOINT).is_some(), "the ready one");
        assert!(
            pool.take_ready(ENDPOINT).is_none(),
            "only a busy one is left"
        );
        assert_eq!(
            pool.by_endpoint.borrow()[&ENDPOINT].len(),
            1,
            "the closed one dropped"
        );
        drop(sent);
        busy_far.shutdown().await.unwrap();
    });
}

#[test]
fn an_idle_connection_is_closed_after_its_ticks_a_busy_one_is_kept() {
    run(async {
        let pool = shared();
        let (idle, mut idle_far) = connection().await;
        let (mut busy, _busy_far) = connection().await;
        let _sent = busy.sender.try_send_request(request("GET", "/"));
        pool.keep(ENDPOINT, idle);
        pool.keep(ENDPOINT, busy);
        for _ in 1..IDLE_TICKS {
            pool.reap_idle();
        }
        assert_eq!(pool.by_endpoint.borrow()[&ENDPOINT].len(), 2);
        pool.reap_idle();
        assert_eq!(
            pool.by_endpoint.borrow()[&ENDPOINT].len(),
            1,
            "the idle one went"
        );
        // Dropping its sender closed the idle connection: its far end reads the end.
        let mut rest = Vec::new();
        idle_far.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}
