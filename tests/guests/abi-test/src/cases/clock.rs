//! `timer`, `time`, `wasi`: the tick count the roots kept, the host clock against the WASI
//! clocks, and the other WASI imports Rust's std uses (environment, arguments, randomness).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use proxy_wasm::hostcalls;
use proxy_wasm::types::Action;
use serde_json::json;

use crate::case::{Case, Env};
use crate::{counter, names, report, status};

fn unix_nanos(t: SystemTime) -> Option<u64> {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_nanos()).ok())
}

/// `timer`: `{"ticks": n}` and header `x-abi-ticks`.
pub struct Ticks;

impl Case for Ticks {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        match counter::read(names::TICKS_KEY) {
            Ok(ticks) => {
                let ticks = ticks.unwrap_or(0);
                let header = [("x-abi-ticks", ticks.to_string())];
                report::reply_json(env, 200, &header, &json!({"ticks": ticks}));
            }
            Err(s) => report::reply_json(env, 500, &[], &json!({"error": status::of(s)})),
        }
        Action::Pause
    }
}

/// `time`: `proxy_get_current_time_nanoseconds` and WASI `clock_time_get` (realtime and
/// monotonic), header `x-abi-time-ns`.
pub struct Time;

impl Case for Time {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let proxy = hostcalls::get_current_time().ok().and_then(unix_nanos);
        let wasi = unix_nanos(SystemTime::now());
        let first = Instant::now();
        let monotonic_ok = Instant::now() >= first;
        let header = proxy.map(|ns| ("x-abi-time-ns", ns.to_string()));
        report::reply_json(
            env,
            200,
            header.as_slice(),
            &json!({
                "proxy_time_ns": proxy,
                "wasi_realtime_ns": wasi,
                "wasi_monotonic_ok": monotonic_ok,
            }),
        );
        Action::Pause
    }
}

/// `wasi`: environment and argument counts (`environ_*`, `args_*`) and a value drawn from
/// `random_get` (through std's hash seed).
pub struct Wasi;

impl Case for Wasi {
    fn on_request_headers(&mut self, env: &Env<'_>, _: usize, _: bool) -> Action {
        let environ_count = std::env::vars_os().count();
        let args_count = std::env::args_os().count();
        let random = RandomState::new().hash_one(0u8);
        report::reply_json(
            env,
            200,
            &[],
            &json!({
                "environ_count": environ_count,
                "args_count": args_count,
                "random": random,
            }),
        );
        Action::Pause
    }
}
