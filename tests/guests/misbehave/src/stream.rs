//! The HTTP context: `x-misbehave` on the request picks what goes wrong.

use std::hint::black_box;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::{flood, fuzz, raw};

/// The request header naming the misbehaviour.
pub const HEADER: &str = "x-misbehave";
/// `burn`: milliseconds to spin in each of the request and response header callbacks.
pub const BURN_MS_HEADER: &str = "x-misbehave-ms";

/// One stream; it only remembers its id (the fuzz restores it as the effective context).
pub struct MisbehaveStream {
    /// This stream's context id.
    pub context_id: u32,
    /// `burn`: how long to spin in each header callback.
    pub burn_ms: Option<u64>,
}

impl Context for MisbehaveStream {}

impl HttpContext for MisbehaveStream {
    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        // Request headers are not readable here (Envoy answers BadArgument): remembered.
        if let Some(ms) = self.burn_ms {
            burn(ms);
        }
        Action::Continue
    }

    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Some(case) = self.get_http_request_header(HEADER) else {
            return Action::Continue;
        };
        match case.as_str() {
            "trap" => panic!("misbehave: trap asked for"),
            "loop" => spin(),
            "burn" => {
                let ms = self
                    .get_http_request_header(BURN_MS_HEADER)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(30);
                self.burn_ms = Some(ms);
                burn(ms);
                Action::Continue
            }
            "memory" => exhaust_memory(),
            "stack" => {
                let depth = recurse(black_box(0));
                log::info!("misbehave: recursion ended at {depth}?");
                Action::Continue
            }
            "oob" => self.reply(200, &statuses(&raw::out_of_bounds())),
            "huge-map" => self.reply(200, &statuses(&raw::huge_map())),
            "wasi" => self.reply(200, &statuses(&crate::wasi::reach_for_the_host())),
            "exit" => crate::wasi::exit(),
            "fuzz" => {
                let number = |name: &str| self.get_http_request_header(name)?.parse::<u64>().ok();
                let seed = number(fuzz::SEED_HEADER).unwrap_or(0);
                let calls = number(fuzz::CALLS_HEADER).map_or(fuzz::DEFAULT_CALLS, |n| {
                    u32::try_from(n).unwrap_or(u32::MAX)
                });
                fuzz::run(self.context_id, seed, calls)
            }
            "flood-shared-data" | "flood-metrics" => {
                let number = |name: &str, default: u64| {
                    self.get_http_request_header(name)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(default)
                };
                let start = number(flood::START_HEADER, 0);
                let count = number(flood::COUNT_HEADER, flood::DEFAULT_COUNT);
                let body = if case == "flood-metrics" {
                    flood::metrics(start, count)
                } else {
                    let bytes = number(flood::BYTES_HEADER, flood::DEFAULT_VALUE_BYTES as u64);
                    flood::shared_data(start, count, usize::try_from(bytes).unwrap_or(usize::MAX))
                };
                self.reply(200, &body)
            }
            _ => self.reply(400, "{\"error\":\"unknown x-misbehave\"}\n"),
        }
    }
}

impl MisbehaveStream {
    /// Answers with a JSON `body` instead of going upstream.
    fn reply(&self, status: u32, body: &str) -> Action {
        self.send_http_response(
            status,
            vec![("content-type", "application/json")],
            Some(body.as_bytes()),
        );
        Action::Pause
    }
}

/// `{"name":status,...}` followed by a newline.
fn statuses(statuses: &[(&str, u32)]) -> String {
    let fields: Vec<String> = statuses
        .iter()
        .map(|(name, status)| format!("\"{name}\":{status}"))
        .collect();
    format!("{{{}}}\n", fields.join(","))
}

/// Spins for `ms` milliseconds of the host's clock: well under a callback's time cap, so only
/// a budget over the whole request can stop it.
fn burn(ms: u64) {
    let now = || proxy_wasm::hostcalls::get_current_time().unwrap_or(std::time::UNIX_EPOCH);
    let until = now() + std::time::Duration::from_millis(ms);
    while now() < until {
        black_box(0u64);
    }
}

/// Never returns: only the host's time cap ends this callback.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Allocates and touches 1 MiB after 1 MiB until the host's memory cap traps the VM.
fn exhaust_memory() -> ! {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        let chunk = vec![black_box(0xA5u8); 1 << 20];
        kept.push(black_box(chunk));
        black_box(&kept);
    }
}

/// Recurses without end (not a tail call: the frame's array is used after the call returns).
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 32]);
    if black_box(depth) == u64::MAX {
        return frame[0];
    }
    recurse(depth + 1).wrapping_add(frame[7])
}
