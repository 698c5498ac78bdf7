//! An HTTP request to a registry, described rather than sent: the filter turns it into a
//! `dispatch_http_call` (pseudo-headers included), tests compare it as a value.

/// One registry request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The host cluster the call goes to (Envoy and wasmesh both name the upstream by cluster).
    pub cluster: String,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query, e.g. `/v1/health/service/web?passing`.
    pub path: String,
    /// `:authority`; both hosts require one on an `http_call`.
    pub authority: String,
    /// Extra headers (`authorization`, `content-type`).
    pub headers: Vec<(String, String)>,
    /// The body, empty for a `GET`.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A `GET path` to `cluster` with `authority`.
    pub fn get(cluster: &str, authority: &str, path: String) -> Self {
        Self {
            cluster: cluster.to_string(),
            method: "GET",
            path,
            authority: authority.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Every header of the call, pseudo-headers first, as `dispatch_http_call` takes them.
    pub fn all_headers(&self) -> Vec<(&str, &str)> {
        let mut all = vec![
            (":method", self.method),
            (":path", self.path.as_str()),
            (":authority", self.authority.as_str()),
        ];
        all.extend(self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        all
    }
}
