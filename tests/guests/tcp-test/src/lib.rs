//! wasmesh-guest-tcp-test: a network filter the TCP proxy tests run in wasmesh and in Envoy
//! (see `README.md` next to this crate for what it does with each connection's bytes).

use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, RootContext, StreamContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType, PeerType};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Trace);
    proxy_wasm::set_root_context(|_| {
        Box::new(TcpTestRoot {
            call_cluster: String::new(),
            route_to: String::new(),
            counters: None,
        })
    });
}}

/// Reads the configuration and makes a [`Connection`] per TCP connection.
struct TcpTestRoot {
    /// Where a `CALL` line sends its HTTP call.
    call_cluster: String,
    /// The cluster every connection is sent to through Envoy's filter state
    /// `envoy.tcp_proxy.cluster` (configuration `route_to`); none when empty.
    route_to: String,
    /// `quiet` in the configuration: the ids of the byte counters (client's, upstream's), and
    /// nothing but counting happens.
    counters: Option<(u32, u32)>,
}

impl Context for TcpTestRoot {}

impl RootContext for TcpTestRoot {
    fn on_configure(&mut self, _: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        let config = String::from_utf8_lossy(&config);
        self.call_cluster = string_field(&config, "call_cluster");
        self.route_to = string_field(&config, "route_to");
        if config.contains("\"quiet\": true") || config.contains("\"quiet\":true") {
            let define = |name| hostcalls::define_metric(MetricType::Counter, name).ok();
            self.counters =
                define("tcp_test_downstream_bytes").zip(define("tcp_test_upstream_bytes"));
        }
        true
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::StreamContext)
    }

    fn create_stream_context(&self, _: u32) -> Option<Box<dyn StreamContext>> {
        if let Some((downstream, upstream)) = self.counters {
            return Some(Box::new(Counting {
                downstream,
                upstream,
            }));
        }
        Some(Box::new(Connection {
            tag: String::new(),
            call_cluster: self.call_cluster.clone(),
            saw_upstream: false,
            route_to: self.route_to.clone(),
        }))
    }
}

/// One TCP connection.
struct Connection {
    /// `conn=<client port>`, on every line this connection logs.
    tag: String,
    call_cluster: String,
    saw_upstream: bool,
    route_to: String,
}

/// A string field of a flat JSON object (`{"key": "value", ...}`): the filter needs no JSON
/// crate for two keys.
fn string_field(config: &str, key: &str) -> String {
    config
        .split(&format!("\"{key}\""))
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or_default()
        .to_string()
}

impl Connection {
    /// Sets Envoy's filter state `envoy.tcp_proxy.cluster` (a serialized
    /// `SetEnvoyFilterStateArguments`: field 1 the name, field 2 the value) and logs the status.
    fn choose_cluster(&self, cluster: &str) {
        let name = b"envoy.tcp_proxy.cluster";
        let mut arguments = vec![0x0a, name.len() as u8];
        arguments.extend_from_slice(name);
        arguments.extend_from_slice(&[0x12, cluster.len() as u8]);
        arguments.extend_from_slice(cluster.as_bytes());
        let status =
            match hostcalls::call_foreign_function("set_envoy_filter_state", Some(&arguments)) {
                Ok(_) => "Ok".to_string(),
                Err(status) => format!("{status:?}"),
            };
        self.say(&format!(
            "set_envoy_filter_state cluster={cluster} status={status}"
        ));
    }

    fn say(&self, what: &str) {
        log::info!("tcp-test {}: {what}", self.tag);
    }

    /// A property as text: addresses are strings, ports 8-byte little-endian integers.
    fn text(&self, path: &[&str]) -> String {
        match self.get_property(path.to_vec()) {
            Some(bytes) if bytes.len() == 8 && path.last() == Some(&"port") => {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&bytes);
                u64::from_le_bytes(raw).to_string()
            }
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => "-".to_string(),
        }
    }
}

impl Context for Connection {
    fn on_http_call_response(&mut self, _: u32, _: usize, _: usize, _: usize) {
        let status = self
            .get_http_call_response_header(":status")
            .unwrap_or_default();
        self.say(&format!("call_response status={status}"));
        self.resume_downstream();
    }

    fn on_done(&mut self) -> bool {
        self.say("done");
        true
    }
}

/// A connection in the quiet mode: each chunk's size counted, nothing else (the benchmark's
/// network filter: what any filter pays to be called for every chunk both ways).
struct Counting {
    downstream: u32,
    upstream: u32,
}

impl Context for Counting {}

impl StreamContext for Counting {
    fn on_downstream_data(&mut self, size: usize, _: bool) -> Action {
        let _ = hostcalls::increment_metric(self.downstream, size as i64);
        Action::Continue
    }

    fn on_upstream_data(&mut self, size: usize, _: bool) -> Action {
        let _ = hostcalls::increment_metric(self.upstream, size as i64);
        Action::Continue
    }
}

impl StreamContext for Connection {
    fn on_new_connection(&mut self) -> Action {
        self.tag = format!("conn={}", self.text(&["source", "port"]));
        let (source, destination) = (
            self.text(&["source", "address"]),
            self.text(&["destination", "address"]),
        );
        self.say(&format!(
            "new_connection source={source} destination={destination}"
        ));
        if !self.route_to.is_empty() {
            self.choose_cluster(&self.route_to.clone());
        }
        Action::Continue
    }

    fn on_downstream_data(&mut self, size: usize, end_of_stream: bool) -> Action {
        self.say(&format!("downstream_data size={size} eos={end_of_stream}"));
        let data = self.get_downstream_data(0, size).unwrap_or_default();
        if !data.contains(&b'\n') && !end_of_stream {
            return Action::Pause;
        }
        if data.starts_with(b"TRAP") {
            panic!("tcp-test: asked to trap");
        }
        if data.starts_with(b"QUIT") || data.starts_with(b"quit") {
            self.close_downstream();
            return Action::Pause;
        }
        self.set_downstream_data(0, size, &data.to_ascii_uppercase());
        if data.starts_with(b"CALL") || data.starts_with(b"call") {
            let headers = vec![
                (":method", "GET"),
                (":path", "/"),
                (":authority", "tcp-test"),
            ];
            let cluster = self.call_cluster.clone();
            match self.dispatch_http_call(&cluster, headers, None, vec![], Duration::from_secs(5)) {
                Ok(_) => return Action::Pause,
                Err(status) => self.say(&format!("call failed: {status:?}")),
            }
        }
        Action::Continue
    }

    fn on_downstream_close(&mut self, peer: PeerType) {
        self.say(&format!("downstream_close peer={}", peer as u32));
    }

    fn on_upstream_data(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !self.saw_upstream {
            self.saw_upstream = true;
            let upstream = self.text(&["upstream", "address"]);
            self.say(&format!("upstream_address {upstream}"));
        }
        self.say(&format!("upstream_data size={size} eos={end_of_stream}"));
        let data = self.get_upstream_data(0, size).unwrap_or_default();
        let changed: Vec<u8> = data
            .iter()
            .map(|&b| if b == b'O' { b'0' } else { b })
            .collect();
        self.set_upstream_data(0, size, &changed);
        Action::Continue
    }

    fn on_upstream_close(&mut self, peer: PeerType) {
        self.say(&format!("upstream_close peer={}", peer as u32));
    }

    fn on_log(&mut self) {
        self.say("log");
    }
}
