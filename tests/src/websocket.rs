//! A WebSocket session through a proxy, with a real client (tokio-tungstenite): the handshake's
//! answer, then one reply per message sent.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// What one session saw.
#[derive(Debug)]
pub struct Session {
    /// The status of the handshake's answer (101 when it upgraded).
    pub status: u16,
    /// The first message the server sent (the backend's JSON echo of the upgrade request).
    pub greeting: String,
    /// The reply to each message sent, in order.
    pub replies: Vec<String>,
}

/// Opens `ws://addr/path`, reads the greeting, sends each of `messages` and reads its reply,
/// then closes. `Err` with the handshake's status (or the failure) when it does not upgrade.
pub fn session(addr: SocketAddr, path: &str, messages: &[&str]) -> Result<Session, String> {
    let url = format!("ws://{addr}{path}");
    crate::client::runtime().block_on(async {
        let exchange = async {
            let tcp = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connecting: {e}"))?;
            let (mut socket, answer) = tokio_tungstenite::client_async(url.as_str(), tcp)
                .await
                .map_err(|e| match e {
                    tokio_tungstenite::tungstenite::Error::Http(response) => {
                        format!("status {}", response.status().as_u16())
                    }
                    other => format!("handshake: {other}"),
                })?;
            let greeting = next_text(&mut socket).await?;
            let mut replies = Vec::new();
            for message in messages {
                socket
                    .send(Message::text(*message))
                    .await
                    .map_err(|e| format!("sending: {e}"))?;
                replies.push(next_text(&mut socket).await?);
            }
            let _ = socket.close(None).await;
            Ok(Session {
                status: answer.status().as_u16(),
                greeting,
                replies,
            })
        };
        tokio::time::timeout(Duration::from_secs(10), exchange)
            .await
            .map_err(|_| "no session within 10 s".to_string())?
    })
}

async fn next_text<S>(socket: &mut S) -> Result<String, String>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_string()),
            Some(Ok(Message::Close(_))) | None => return Err("closed".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("reading: {e}")),
        }
    }
}
