//! `/ws`: a WebSocket endpoint. It answers the upgrade with `101`, sends the JSON echo of the
//! upgrade request as its first message (so a test sees what a proxy forwarded), then echoes
//! every text message as `<backend>: <text>` and every binary message as it is, until the
//! client closes.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use http::{Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::service::{empty, Body};

/// Whether the request asks for a WebSocket (`Upgrade: websocket` and a key).
pub fn wanted(parts: &http::request::Parts) -> bool {
    let upgrade = parts.headers.get(http::header::UPGRADE);
    upgrade.is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
        && parts.headers.contains_key("sec-websocket-key")
}

/// Accepts the upgrade and serves the session on its own task; `greeting` is the first
/// message. `None` when the request cannot be upgraded (no key, or no connection to take).
pub fn accept(
    parts: &mut http::request::Parts,
    name: Arc<str>,
    greeting: String,
) -> Option<Response<Body>> {
    let key = parts.headers.get("sec-websocket-key")?;
    let accept = derive_accept_key(key.as_bytes());
    let upgrade = parts.extensions.remove::<OnUpgrade>()?;
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let io = TokioIo::new(upgraded);
        let mut socket = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        if socket.send(Message::text(greeting)).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = socket.next().await {
            let reply = match message {
                Message::Text(text) => Message::text(format!("{name}: {}", text.as_str())),
                Message::Binary(bytes) => Message::Binary(bytes),
                Message::Close(_) => break,
                _ => continue,
            };
            if socket.send(reply).await.is_err() {
                break;
            }
        }
    });
    let mut response = empty(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(http::header::UPGRADE, "websocket".parse().ok()?);
    headers.insert(http::header::CONNECTION, "upgrade".parse().ok()?);
    headers.insert("sec-websocket-accept", accept.parse().ok()?);
    Some(response)
}
