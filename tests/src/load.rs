//! Steady load for the tests that change things under traffic (hot swaps, listener drains):
//! `connections` keep-alive HTTP/1.1 connections, each sending `GET` after `GET` until stopped,
//! recording every outcome, so a test can assert "0 failed requests" and see *when* each
//! response's behaviour changed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

/// A response's time and the value of the watched header (`None` if absent).
#[derive(Debug, Clone)]
pub struct Sample {
    /// When the response headers arrived.
    pub at: Instant,
    /// The watched response header's value.
    pub marker: Option<String>,
}

/// What the load saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// 200 responses, in arrival order per connection (merged unordered across connections).
    pub ok: Vec<Sample>,
    /// Every failure: a non-200 status, a connection error, a timeout.
    pub failures: Vec<String>,
}

/// Running load; [`Load::stop`] ends it and returns the report.
pub struct Load {
    stop: Arc<AtomicBool>,
    report: Arc<Mutex<LoadReport>>,
    thread: Option<JoinHandle<()>>,
}

/// No response within this is a failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

impl Load {
    /// Starts `connections` connections to `target`, requesting `path` and recording response
    /// header `marker`.
    pub fn start(target: SocketAddr, path: &str, marker: &str, connections: usize) -> Load {
        Load::start_with(target, path, marker, connections, &[])
    }

    /// The same, each request carrying `headers` too.
    pub fn start_with(
        target: SocketAddr,
        path: &str,
        marker: &str,
        connections: usize,
        headers: &[(&str, &str)],
    ) -> Load {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let report = Arc::new(Mutex::new(LoadReport::default()));
        let (path, marker) = (path.to_string(), marker.to_string());
        let thread = {
            let (stop, report) = (stop.clone(), report.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("a runtime for the load");
                runtime.block_on(async move {
                    let tasks: Vec<_> = (0..connections)
                        .map(|_| {
                            let worker = Worker {
                                target,
                                path: path.clone(),
                                marker: marker.clone(),
                                headers: headers.clone(),
                                stop: stop.clone(),
                                report: report.clone(),
                            };
                            tokio::spawn(worker.run())
                        })
                        .collect();
                    for task in tasks {
                        let _ = task.await;
                    }
                });
            })
        };
        Load {
            stop,
            report,
            thread: Some(thread),
        }
    }

    /// Stops the load and returns what it saw.
    pub fn stop(mut self) -> LoadReport {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        std::mem::take(&mut *self.report.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

struct Worker {
    target: SocketAddr,
    path: String,
    marker: String,
    headers: Vec<(String, String)>,
    stop: Arc<AtomicBool>,
    report: Arc<Mutex<LoadReport>>,
}

impl Worker {
    /// One connection at a time: requests on it until it closes (a draining proxy closes it
    /// after a response, which is not a failure), then a new one.
    async fn run(self) {
        while !self.stop.load(Ordering::SeqCst) {
            let sender = match self.connect().await {
                Ok(sender) => sender,
                Err(e) => {
                    self.fail(format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            self.requests(sender).await;
        }
    }

    async fn connect(&self) -> Result<http1::SendRequest<Empty<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(self.target)
            .await
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(sender)
    }

    async fn requests(&self, mut sender: http1::SendRequest<Empty<Bytes>>) {
        while !self.stop.load(Ordering::SeqCst) {
            if sender.ready().await.is_err() {
                return; // closed between requests: reconnect
            }
            let mut request =
                http::Request::get(self.path.as_str()).header("host", self.target.to_string());
            for (name, value) in &self.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let request = request.body(Empty::new()).expect("a valid request");
            let exchange = async {
                let response = sender
                    .send_request(request)
                    .await
                    .map_err(|e| e.to_string())?;
                let at = Instant::now();
                let status = response.status();
                let marker = response
                    .headers()
                    .get(self.marker.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let closing = response
                    .headers()
                    .get("connection")
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
                response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>((status, Sample { at, marker }, closing))
            };
            match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
                Ok(Ok((status, sample, closing))) if status == 200 => {
                    self.lock().ok.push(sample);
                    if closing {
                        return;
                    }
                }
                Ok(Ok((status, _, _))) => self.fail(format!("status {status}")),
                Ok(Err(e)) => {
                    self.fail(e);
                    return;
                }
                Err(_) => {
                    self.fail(format!("no response within {REQUEST_TIMEOUT:?}"));
                    return;
                }
            }
        }
    }

    fn fail(&self, what: String) {
        if !self.stop.load(Ordering::SeqCst) {
            self.lock().failures.push(what);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LoadReport> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }
}
