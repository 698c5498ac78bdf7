//! A blocking HTTP client for tests (hyper-util's client on a shared runtime).
//!
//! Tests are plain `#[test]` functions; this keeps them free of async while still using a real
//! HTTP/1.1 and h2c (prior knowledge) client with connection pooling like a real caller.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Deserialize;

/// Default limit for one whole request (connect, send, receive the full body).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The runtime every client's I/O runs on; `block_on` from any test thread.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-client")
            .enable_all()
            .build()
            .expect("building the test client runtime")
    })
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code; compares with integers (`response.status == 200`).
    pub status: StatusCode,
    /// HTTP version the response came with.
    pub version: Version,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Response {
    /// The first value of header `name`, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {}", self.text()))
    }

    /// The body parsed as the echo of a `wasmesh-backend`: what the upstream received.
    pub fn echo(&self) -> Echo {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response is not a backend echo ({e}); status {}, body: {}",
                self.status,
                self.text()
            )
        })
    }
}

/// What a `wasmesh-backend` saw of a request (its JSON echo).
#[derive(Debug, Clone, Deserialize)]
pub struct Echo {
    /// The backend's name.
    pub backend: String,
    /// Request method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lowercase header name → values joined with `", "`.
    pub headers: BTreeMap<String, String>,
    /// Request body (lossy UTF-8).
    pub body: String,
}

impl Echo {
    /// The value of request header `name` as the backend received it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// An HTTP client. Cheap to clone; clones share the connection pool, so requests from one
/// `Client` reuse kept-alive connections like a real caller's.
#[derive(Clone)]
pub struct Client {
    inner: LegacyClient<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Client {
    /// HTTP/1.1 client.
    pub fn http1() -> Self {
        Self::build(false)
    }

    /// HTTP/2 over cleartext with prior knowledge (h2c), as gRPC-style callers speak it.
    pub fn http2() -> Self {
        Self::build(true)
    }

    /// HTTP/1.1 client opening a new connection for every request: what [`get`] and [`post`]
    /// use, so a test's request never lands on an idle connection left from another test (whose
    /// proxy may be gone, its port reused).
    pub fn http1_unpooled() -> Self {
        Self::build_with(false, 0)
    }

    fn build(http2_only: bool) -> Self {
        Self::build_with(http2_only, usize::MAX)
    }

    fn build_with(http2_only: bool, max_idle_per_host: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let inner = LegacyClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_max_idle_per_host(max_idle_per_host)
            .http2_only(http2_only)
            .build(connector);
        Self {
            inner,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same client with another per-request time limit.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends a request and reads the whole response; `Err` says what went wrong (connection
    /// refused or reset, timeout...), for tests that expect a failure.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Response, String> {
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(Full::new(body.into()))
            .map_err(|e| format!("bad request to {url}: {e}"))?;
        let inner = self.inner.clone();
        let timeout = self.timeout;
        runtime().block_on(async move {
            let exchange = async {
                let response = inner.request(request).await.map_err(|e| error_chain(&e))?;
                let (parts, body) = response.into_parts();
                let body = body.collect().await.map_err(|e| error_chain(&e))?;
                Ok(Response {
                    status: parts.status,
                    version: parts.version,
                    headers: parts.headers,
                    body: body.to_bytes(),
                })
            };
            tokio::time::timeout(timeout, exchange)
                .await
                .map_err(|_| format!("no complete response within {timeout:?}"))?
        })
    }

    /// `GET url`, panicking if there is no response.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Response {
        self.send(Method::GET, url, headers, Bytes::new())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// `GET url` without headers, `Err` if there is no response (for polling).
    pub fn get_checked(&self, url: &str) -> Result<Response, String> {
        self.send(Method::GET, url, &[], Bytes::new())
    }

    /// `POST url` with `body`, panicking if there is no response.
    pub fn post(&self, url: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Response {
        self.send(Method::POST, url, headers, body)
            .unwrap_or_else(|e| panic!("POST {url}: {e}"))
    }
}

/// The process-wide HTTP/1.1 client behind [`get`] and [`post`] (a connection per request).
pub fn shared() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(Client::http1_unpooled)
}

/// `GET url` over HTTP/1.1, panicking if there is no response.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    shared().get(url, headers)
}

/// `POST url` over HTTP/1.1, panicking if there is no response.
pub fn post(url: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Response {
    shared().post(url, headers, body)
}

/// An error with its sources, since hyper's top-level messages alone ("client error (Connect)")
/// rarely say what happened.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A request body given up front as frames: data chunks, then trailers if any.
struct Frames(std::collections::VecDeque<hyper::body::Frame<Bytes>>);

impl hyper::body::Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
}

/// One request over h2c (prior knowledge, a fresh connection) whose body is `body` followed by
/// the request trailers `trailers` (none if empty); returns the response and the response
/// trailers the client received, if any. `Err` says what went wrong (e.g. a reset stream).
pub fn h2_with_trailers(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    trailers: &[(&str, &str)],
) -> Result<(Response, Option<HeaderMap>), String> {
    let mut frames = std::collections::VecDeque::new();
    if !body.is_empty() {
        frames.push_back(hyper::body::Frame::data(Bytes::copy_from_slice(
            body.as_bytes(),
        )));
    }
    if !trailers.is_empty() {
        let mut map = HeaderMap::new();
        for (name, value) in trailers {
            let name = http::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("bad trailer name {name:?}: {e}"))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|e| format!("bad trailer value {value:?}: {e}"))?;
            map.append(name, value);
        }
        frames.push_back(hyper::body::Frame::trailers(map));
    }
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Frames(frames))
        .map_err(|e| format!("bad request to {url}: {e}"))?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: LegacyClient<HttpConnector, Frames> = LegacyClient::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .pool_max_idle_per_host(0)
        .http2_only(true)
        .build(connector);
    runtime().block_on(async move {
        let exchange = async {
            let response = client.request(request).await.map_err(|e| error_chain(&e))?;
            let (parts, body) = response.into_parts();
            let collected = body.collect().await.map_err(|e| error_chain(&e))?;
            let trailers = collected.trailers().cloned();
            Ok((
                Response {
                    status: parts.status,
                    version: parts.version,
                    headers: parts.headers,
                    body: collected.to_bytes(),
                },
                trailers,
            ))
        };
        tokio::time::timeout(DEFAULT_TIMEOUT, exchange)
            .await
            .map_err(|_| format!("no complete response within {DEFAULT_TIMEOUT:?}"))?
    })
}
