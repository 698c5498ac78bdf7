//! The retry flow of one stream, run from whichever context the host is calling.
//!
//! A stream context has no timer, so a retry that must wait out its backoff is sent by the
//! root context's tick, and its `http_call` response then comes to the root (the Rust SDK
//! registers a call for the context that dispatched it). Every step therefore works on the
//! stream's [`Flight`] in the worker's [`Service`], found by context id, and acts on the
//! stream itself through `proxy_set_effective_context` (read the call's response *before*
//! switching: it belongs to the calling context).

use proxy_wasm::hostcalls;
use wasmesh_common::failover::classify::{classify, retryable};
use wasmesh_common::failover::replay::Replay;
use wasmesh_common::failover::schedule::Due;
use wasmesh_common::failover::Outcome;

use crate::flight::{Answer, Call};
use crate::reply;
use crate::service::Service;

/// Names the timeout that fired on a filter's 504 (`request` or `per-try`).
pub const TIMEOUT_HEADER: &str = "x-wasmesh-timeout";

/// A failed call that took this close to `per_try_timeout_ms` (clocks and timers differ by
/// a millisecond or two) is taken as the per-try timeout firing.
const TIMER_SLACK_MS: u64 = 5;

/// Runs `act` with stream `ctx` as the effective context, from the callback of `home`; false
/// if the stream is gone.
fn on_stream(ctx: u32, home: u32, act: impl FnOnce()) -> bool {
    if ctx != home && hostcalls::set_effective_context(ctx).is_err() {
        return false;
    }
    act();
    if ctx != home {
        let _ = hostcalls::set_effective_context(home);
    }
    true
}

/// After stream `ctx`'s try failed with `outcome`: retries (at once, or once its backoff
/// ends) if `retry_on`, the replay, `max_retries`, the budget and a healthy untried endpoint
/// allow. Whether a retry is now pending (the response stays paused).
pub fn after_failure(svc: &mut Service, ctx: u32, outcome: Outcome, now: u64) -> bool {
    if !retryable(&svc.config.retry.retry_on, outcome) {
        return false;
    }
    let Some(flight) = svc.flights.get(&ctx) else {
        return false;
    };
    if let Some(reason) = flight.replay.not_ready_reason() {
        svc.metrics.not_retried(reason);
        log::debug!("failover: {}: not retried: {reason}", svc.config.service);
        return false;
    }
    let retry = flight.retries() + 1;
    if !matches!(flight.replay, Replay::Ready { .. }) || retry > svc.config.retry.max_retries {
        return false;
    }
    let tried = flight.tried.clone();
    // The endpoint first: a retry with nowhere to go must not spend the budget.
    let Some(target) = svc.retry_target(&tried, now) else {
        log::debug!("failover: {}: no other endpoint", svc.config.service);
        return false;
    };
    if !svc.budget.try_withdraw(now) {
        svc.metrics.budget_exhausted();
        log::debug!("failover: {}: retry budget exhausted", svc.config.service);
        return false;
    }
    let delay = svc.backoff_ms(retry);
    if let Some(flight) = svc.flights.get_mut(&ctx) {
        flight.next = Some((target, outcome));
    }
    if delay == 0 {
        return dispatch(svc, ctx, now);
    }
    svc.schedule.set_retry(ctx, now + delay);
    svc.retune_tick(now);
    true
}

/// Sends stream `ctx`'s chosen retry; whether it is in flight.
fn dispatch(svc: &mut Service, ctx: u32, now: u64) -> bool {
    let Some(flight) = svc.flights.get_mut(&ctx) else {
        return false;
    };
    let (Some((target, outcome)), Replay::Ready { headers, body }) =
        (flight.next.take(), &flight.replay)
    else {
        return false;
    };
    let value = target.to_string();
    let mut pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.push((svc.config.header.as_str(), value.as_str()));
    let body = (!body.is_empty()).then_some(body.as_slice());
    let timeout = std::time::Duration::from_millis(svc.config.retry.per_try_timeout_ms);
    match hostcalls::dispatch_http_call(&svc.config.cluster, pairs, body, vec![], timeout) {
        Ok(token) => {
            flight.call = Some(Call {
                target,
                sent_ms: now,
            });
            svc.calls.insert(token, ctx);
            svc.metrics.retry(outcome.reason().unwrap_or("other"));
            log::debug!(
                "failover: {}: {outcome}, retrying on {target}",
                svc.config.service
            );
            true
        }
        Err(status) => {
            log::warn!(
                "failover: http_call to cluster {}: {status:?}",
                svc.config.cluster
            );
            false
        }
    }
}

/// A retry's `http_call` answered (`headers` 0: it failed with no response), in the
/// callback of context `home`: record it, retry again, or give the client the best answer.
pub fn on_call_response(
    svc: &mut Service,
    token: u32,
    headers: usize,
    body_size: usize,
    home: u32,
) {
    let Some(ctx) = svc.calls.remove(&token) else {
        return;
    };
    let Some(call) = svc.flights.get_mut(&ctx).and_then(|f| f.call.take()) else {
        return; // the stream is gone or already answered (its deadline passed)
    };
    let (pairs, status) = wasmesh_filter_glue::call_response_head(headers);
    let now = wasmesh_filter_glue::clock::now_ms();
    let per_try = svc.config.retry.per_try_timeout_ms;
    let took = now.saturating_sub(call.sent_ms);
    let timed_out = (pairs.is_empty() || status == Some(504)) && took + TIMER_SLACK_MS >= per_try;
    let outcome = match status {
        _ if timed_out => Outcome::Status(504),
        Some(status) => classify(Some(status), None),
        None => Outcome::Reset,
    };
    let answer = if timed_out {
        svc.metrics.timeout("per-try");
        Some(timeout_answer("per-try", per_try))
    } else {
        status.map(|status| {
            let mut headers = pairs;
            if let Some(echo) = &svc.config.response_header {
                headers.push((echo.clone(), call.target.to_string()));
            }
            Answer {
                status: u32::from(status),
                headers,
                body: wasmesh_filter_glue::call_response_body(body_size),
            }
        })
    };
    svc.record(call.target, outcome, now);
    if let Some(flight) = svc.flights.get_mut(&ctx) {
        flight.tried.push(call.target);
        // No response at all: the answer to give stays the one before (or the paused one).
        if answer.is_some() {
            flight.last = answer;
        }
    }
    if after_failure(svc, ctx, outcome, now) {
        return;
    }
    finish(svc, ctx, home);
}

/// The root's tick: answers streams whose deadline passed, sends retries whose backoff
/// ended, and sets the next tick period.
pub fn on_tick(svc: &mut Service, now: u64) {
    let home = svc.root_id;
    for due in svc.schedule.take_due(now) {
        match due {
            Due::Timeout(ctx) => request_timeout(svc, ctx, home),
            Due::Retry(ctx) => {
                if !dispatch(svc, ctx, now) {
                    finish(svc, ctx, home);
                }
            }
        }
    }
    svc.retune_tick(now);
}

/// No retry pending any more: gives stream `ctx` the last retry's answer, or lets its paused
/// response through.
pub fn finish(svc: &mut Service, ctx: u32, home: u32) {
    svc.schedule.forget(ctx);
    let Some(flight) = svc.flights.get_mut(&ctx) else {
        return;
    };
    flight.answered = true;
    flight.replay = Replay::No; // nothing more to replay: free the kept body
    match flight.last.take() {
        Some(answer) => {
            on_stream(ctx, home, || {
                reply::send(answer.status, &answer.headers, &[], &answer.body);
            });
        }
        None => {
            on_stream(ctx, home, || {
                if let Err(status) = hostcalls::resume_http_response() {
                    log::warn!("failover: resuming the response: {status:?}");
                }
            });
        }
    }
}

/// Stream `ctx`'s overall deadline passed: 504, naming the request timeout.
fn request_timeout(svc: &mut Service, ctx: u32, home: u32) {
    let Some(flight) = svc.flights.get_mut(&ctx) else {
        return;
    };
    if flight.answered {
        return;
    }
    flight.answered = true;
    flight.replay = Replay::No;
    flight.call = None; // a retry still in flight is ignored when it answers
    let answer = timeout_answer("request", svc.config.timeout_ms);
    svc.metrics.timeout("request");
    log::debug!(
        "failover: {}: request timeout ({} ms) exceeded",
        svc.config.service,
        svc.config.timeout_ms
    );
    on_stream(ctx, home, || {
        reply::send(answer.status, &answer.headers, &[], &answer.body);
    });
}

/// The 504 a timeout gives: `x-wasmesh-timeout: <which>` and a body naming it.
fn timeout_answer(which: &str, ms: u64) -> Answer {
    Answer {
        status: 504,
        headers: vec![
            ("content-type".to_string(), "text/plain".to_string()),
            (TIMEOUT_HEADER.to_string(), which.to_string()),
        ],
        body: format!("failover: {which} timeout ({ms} ms) exceeded\n").into_bytes(),
    }
}
