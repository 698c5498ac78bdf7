//! The retry flow of every stream of one worker, as a state machine over [`Effects`].
//!
//! A proxy-wasm stream context has no timer, so a retry that must wait out its backoff is sent
//! by the root context's tick, and its `http_call` response then comes to the root (the Rust
//! SDK registers a call for the context that dispatched it). Every step therefore works on the
//! stream's [`Flight`], found by context id, whichever context the host is calling; what it
//! does to the world (send a try, answer a client, retune the tick, count) goes through
//! [`Effects`], which the `failover` filter implements over proxy-wasm and the unit tests fake.

use std::net::SocketAddr;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::failover::budget::Budget;
use crate::failover::classify::{classify, retryable};
use crate::failover::flight::{Answer, Call, Flight};
use crate::failover::pick::pick_other;
use crate::failover::replay::Replay;
use crate::failover::schedule::{Due, Schedule};
use crate::failover::{FailoverConfig, Outcome};
use crate::lb::random::SplitMix64;
use wasmesh_contract::endpoint::Endpoint;
use wasmesh_contract::health::Health;

/// Names the timeout that fired on a filter's 504 (`request` or `per-try`).
pub const TIMEOUT_HEADER: &str = "x-wasmesh-timeout";

/// Tick period while nothing is close: ended ejections are noticed for the gauge, far
/// deadlines are looked at.
pub const SLOW_TICK_MS: u64 = 250;
/// Tick period while a retry backs off or a deadline is less than a slow tick away: the
/// precision of backoffs and timeouts.
pub const FAST_TICK_MS: u64 = 5;

/// A failed call that took this close to `per_try_timeout_ms` (clocks and timers differ by
/// a millisecond or two) is taken as the per-try timeout firing.
const TIMER_SLACK_MS: u64 = 5;

/// What the state machine needs from the world. Streams are named by their context id.
pub trait Effects {
    /// The service's endpoints now, to choose a retry's among.
    fn endpoints(&mut self) -> Vec<Endpoint>;
    /// The shared health document now: a retry avoids ejected endpoints.
    fn health(&mut self) -> Health;
    /// How a try to `endpoint` went, for outlier detection.
    fn record(&mut self, endpoint: SocketAddr, outcome: Outcome, now_ms: u64);
    /// Sends a retry; the call's token, or `None` if it could not be sent.
    fn send(&mut self, attempt: Attempt<'_>) -> Option<u32>;
    /// Answers `stream`'s client with `answer` in place of its paused response.
    fn reply(&mut self, stream: u32, answer: &Answer);
    /// Lets `stream`'s paused response through.
    fn resume(&mut self, stream: u32);
    /// Sets the root's tick period; whether the host took it.
    fn set_tick_period(&mut self, period_ms: u64) -> bool;
    /// Something worth a metric or a log line happened.
    fn event(&mut self, event: Event);
}

/// A retry to send: the request replayed to one endpoint.
#[derive(Debug)]
pub struct Attempt<'a> {
    /// The request's replayable headers, then the pick header naming the endpoint.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The request's body (`None` for none).
    pub body: Option<&'a [u8]>,
    /// The per-try timeout.
    pub timeout_ms: u64,
}

/// What [`Effects::event`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A retryable failure was not retried because of its request body (the reason).
    NotRetried(&'static str),
    /// A retry found no other endpoint to go to.
    NoOtherEndpoint,
    /// The retry budget refused a retry.
    BudgetExhausted,
    /// A retry was sent to `target` after `outcome`.
    Retrying {
        /// How the try before ended.
        outcome: Outcome,
        /// Where the retry went.
        target: SocketAddr,
    },
    /// A timeout fired (`request` or `per-try`).
    Timeout(&'static str),
}

/// One worker's retry state for one service: every live stream's [`Flight`], the calls in
/// flight, the deadlines and backoffs, the retry budget and the randomness of picks and
/// backoffs.
#[derive(Debug)]
pub struct Retries {
    config: Rc<FailoverConfig>,
    budget: Budget,
    /// By context id (Fx-hashed: ids the host assigns, looked up on every callback).
    flights: FxHashMap<u32, Flight>,
    /// Retry calls in flight: token → the stream's context id.
    calls: FxHashMap<u32, u32>,
    schedule: Schedule,
    rng: SplitMix64,
    /// The tick period last set (0 before the first), so an unchanged one is not set again:
    /// setting it restarts the host's timer.
    tick_ms: u64,
}

impl Retries {
    /// No stream yet, for `config`, the randomness seeded with `seed`.
    pub fn new(config: Rc<FailoverConfig>, seed: u64) -> Self {
        Self {
            budget: Budget::new(config.retry.budget),
            flights: FxHashMap::default(),
            calls: FxHashMap::default(),
            schedule: Schedule::default(),
            rng: SplitMix64::new(seed),
            tick_ms: 0,
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FailoverConfig {
        &self.config
    }

    /// `stream`'s request headers: counts the request in the budget, keeps what a retry would
    /// replay, and starts its deadline.
    pub fn on_request(&mut self, fx: &mut impl Effects, stream: u32, replay: Replay, now: u64) {
        self.budget.deposit(now);
        let flight = Flight {
            replay,
            ..Flight::default()
        };
        self.flights.insert(stream, flight);
        if self.config.timeout_ms > 0 {
            let deadline = now + self.config.timeout_ms;
            self.schedule.set_deadline(stream, deadline);
            self.retune_tick(fx, now);
        }
    }

    /// Whether `stream`'s request body is still being kept for a replay (so worth reading).
    pub fn wants_body(&self, stream: u32) -> bool {
        self.flights
            .get(&stream)
            .is_some_and(|f| matches!(f.replay, Replay::Buffering { .. }))
    }

    /// A chunk of `stream`'s request body (`end`: the last one).
    pub fn on_request_body(&mut self, stream: u32, chunk: &[u8], end: bool) {
        let limit = self.config.retry.max_body_bytes;
        if let Some(flight) = self.flights.get_mut(&stream) {
            flight.replay.buffer(chunk, end, limit);
        }
    }

    /// Whether `stream`'s response headers are for this machine to judge: not for an unknown
    /// stream, nor once this filter answered it (e.g. its own timeout reply).
    pub fn awaits_response(&self, stream: u32) -> bool {
        self.flights.get(&stream).is_some_and(|f| !f.answered)
    }

    /// `stream`'s response came from an endpoint nobody named: it goes through, and nothing
    /// is scheduled for the stream any more.
    pub fn on_unattributed_response(&mut self, stream: u32) {
        self.schedule.forget(stream);
    }

    /// `stream`'s response from `endpoint` ended its first try with `outcome`. Whether a retry
    /// is now pending (the response stays paused); if not, the stream is forgotten.
    pub fn on_response(
        &mut self,
        fx: &mut impl Effects,
        stream: u32,
        endpoint: SocketAddr,
        outcome: Outcome,
        now: u64,
    ) -> bool {
        fx.record(endpoint, outcome, now);
        if let Some(flight) = self.flights.get_mut(&stream) {
            flight.tried.push(endpoint);
        }
        if self.after_failure(fx, stream, outcome, now) {
            return true;
        }
        // The response goes through: nothing more to do for this stream (its kept body freed).
        self.forget(stream);
        false
    }

    /// The host deleted `stream`: forget it (a retry still in flight is ignored when it
    /// answers).
    pub fn forget(&mut self, stream: u32) {
        self.flights.remove(&stream);
        self.schedule.forget(stream);
    }

    /// After `stream`'s try failed with `outcome`: retries (at once, or once its backoff
    /// ends) if `retry_on`, the replay, `max_retries`, the budget and a healthy untried
    /// endpoint allow. Whether a retry is now pending.
    fn after_failure(
        &mut self,
        fx: &mut impl Effects,
        stream: u32,
        outcome: Outcome,
        now: u64,
    ) -> bool {
        if !retryable(&self.config.retry.retry_on, outcome) {
            return false;
        }
        let Some(flight) = self.flights.get(&stream) else {
            return false;
        };
        if let Some(reason) = flight.replay.not_ready_reason() {
            fx.event(Event::NotRetried(reason));
            return false;
        }
        let retry = flight.retries() + 1;
        if !matches!(flight.replay, Replay::Ready { .. }) || retry > self.config.retry.max_retries {
            return false;
        }
        let tried = flight.tried.clone();
        // The endpoint first: a retry with nowhere to go must not spend the budget.
        let Some(target) = self.retry_target(fx, &tried, now) else {
            fx.event(Event::NoOtherEndpoint);
            return false;
        };
        if !self.budget.try_withdraw(now) {
            fx.event(Event::BudgetExhausted);
            return false;
        }
        let delay = self.config.retry.backoff.delay_ms(retry, &mut self.rng);
        if let Some(flight) = self.flights.get_mut(&stream) {
            flight.next = Some((target, outcome));
        }
        if delay == 0 {
            return self.dispatch(fx, stream, now);
        }
        self.schedule.set_retry(stream, now + delay);
        self.retune_tick(fx, now);
        true
    }

    /// A different, healthy endpoint for a retry: not in `tried`, not ejected at `now`, of
    /// the best level (`local_zone` first, as `lb`).
    fn retry_target(
        &mut self,
        fx: &mut impl Effects,
        tried: &[SocketAddr],
        now: u64,
    ) -> Option<SocketAddr> {
        let health = fx.health();
        let endpoints = fx.endpoints();
        let zone = self.config.local_zone.as_deref();
        let avoid = |a: SocketAddr| tried.contains(&a) || health.is_ejected(a, now);
        // Everything else ejected: any untried endpoint beats answering with the failure.
        pick_other(&endpoints, zone, avoid, &mut self.rng)
            .or_else(|| pick_other(&endpoints, zone, |a| tried.contains(&a), &mut self.rng))
    }

    /// Sends `stream`'s chosen retry; whether it is in flight.
    fn dispatch(&mut self, fx: &mut impl Effects, stream: u32, now: u64) -> bool {
        let Some(flight) = self.flights.get_mut(&stream) else {
            return false;
        };
        let (Some((target, outcome)), Replay::Ready { headers, body }) =
            (flight.next.take(), &flight.replay)
        else {
            return false;
        };
        let value = target.to_string();
        let decoded = headers.pairs();
        let mut pairs: Vec<(&str, &str)> = decoded.iter().map(|(k, v)| (&**k, &**v)).collect();
        pairs.push((self.config.header.as_str(), value.as_str()));
        let body = (!body.is_empty()).then_some(body.as_slice());
        let attempt = Attempt {
            headers: pairs,
            body,
            timeout_ms: self.config.retry.per_try_timeout_ms,
        };
        let Some(token) = fx.send(attempt) else {
            return false;
        };
        flight.call = Some(Call {
            target,
            sent_ms: now,
        });
        self.calls.insert(token, stream);
        fx.event(Event::Retrying { outcome, target });
        true
    }

    /// The retry call `token` answered, at `now`: `head` reads its response headers and
    /// `:status` (no headers: it failed with no response), `body` its body. Records it,
    /// retries again, or gives the client the best answer.
    pub fn on_call_response(
        &mut self,
        fx: &mut impl Effects,
        token: u32,
        head: impl FnOnce() -> (Vec<(String, String)>, Option<u16>),
        body: impl FnOnce() -> Vec<u8>,
        now: u64,
    ) {
        let Some(stream) = self.calls.remove(&token) else {
            return;
        };
        let Some(call) = self.flights.get_mut(&stream).and_then(|f| f.call.take()) else {
            return; // the stream is gone or already answered (its deadline passed)
        };
        let (pairs, status) = head();
        let per_try = self.config.retry.per_try_timeout_ms;
        let took = now.saturating_sub(call.sent_ms);
        let timed_out =
            (pairs.is_empty() || status == Some(504)) && took + TIMER_SLACK_MS >= per_try;
        let outcome = match status {
            _ if timed_out => Outcome::Status(504),
            Some(status) => classify(Some(status), None),
            None => Outcome::Reset,
        };
        let answer = if timed_out {
            fx.event(Event::Timeout("per-try"));
            Some(timeout_answer("per-try", per_try))
        } else {
            status.map(|status| {
                let mut headers = pairs;
                if let Some(echo) = &self.config.response_header {
                    headers.push((echo.clone(), call.target.to_string()));
                }
                Answer {
                    status: u32::from(status),
                    headers,
                    body: body(),
                }
            })
        };
        fx.record(call.target, outcome, now);
        if let Some(flight) = self.flights.get_mut(&stream) {
            flight.tried.push(call.target);
            // No response at all: the answer to give stays the one before (or the paused one).
            if answer.is_some() {
                flight.last = answer;
            }
        }
        if self.after_failure(fx, stream, outcome, now) {
            return;
        }
        self.finish(fx, stream);
    }

    /// The root's tick: answers streams whose deadline passed, sends retries whose backoff
    /// ended, and sets the next tick period.
    pub fn on_tick(&mut self, fx: &mut impl Effects, now: u64) {
        for due in self.schedule.take_due(now) {
            match due {
                Due::Timeout(stream) => self.request_timeout(fx, stream),
                Due::Retry(stream) => {
                    if !self.dispatch(fx, stream, now) {
                        self.finish(fx, stream);
                    }
                }
            }
        }
        self.retune_tick(fx, now);
    }

    /// Sets the tick period the schedule needs now, if it changed.
    pub fn retune_tick(&mut self, fx: &mut impl Effects, now: u64) {
        let period = self
            .schedule
            .tick_period_ms(now, SLOW_TICK_MS, FAST_TICK_MS);
        if period != self.tick_ms && fx.set_tick_period(period) {
            self.tick_ms = period;
        }
    }

    /// No retry pending any more: gives `stream` the last retry's answer, or lets its paused
    /// response through.
    fn finish(&mut self, fx: &mut impl Effects, stream: u32) {
        self.schedule.forget(stream);
        let Some(flight) = self.flights.get_mut(&stream) else {
            return;
        };
        flight.answered = true;
        flight.replay = Replay::No; // nothing more to replay: free the kept body
        match flight.last.take() {
            Some(answer) => fx.reply(stream, &answer),
            None => fx.resume(stream),
        }
    }

    /// `stream`'s overall deadline passed: 504, naming the request timeout.
    fn request_timeout(&mut self, fx: &mut impl Effects, stream: u32) {
        let Some(flight) = self.flights.get_mut(&stream) else {
            return;
        };
        if flight.answered {
            return;
        }
        flight.answered = true;
        flight.replay = Replay::No;
        flight.call = None; // a retry still in flight is ignored when it answers
        let answer = timeout_answer("request", self.config.timeout_ms);
        fx.event(Event::Timeout("request"));
        fx.reply(stream, &answer);
    }
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

#[cfg(test)]
mod tests;
