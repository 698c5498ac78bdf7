use super::*;
use crate::failover::captured::CapturedHeaders;
use wasmesh_contract::health::EndpointHealth;

const A: &str = "127.0.0.1:8081";
const B: &str = "127.0.0.1:8082";
const C: &str = "127.0.0.1:8083";
const STREAM: u32 = 7;
/// A backoff of up to a second.
const BACKOFF_1S: &str = r#""backoff":{"base_interval_ms":1000,"max_interval_ms":1000}"#;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A service over A, B and C; `retry` is the `retry` object's JSON without braces (no backoff
/// unless it names one), `extra` more top-level fields.
fn retries(retry: &str, extra: &str) -> Retries {
    let no_backoff = r#""backoff":{"base_interval_ms":0}"#;
    let retry = match retry {
        "" => no_backoff.to_string(),
        _ if retry.contains("backoff") => retry.to_string(),
        _ => format!("{no_backoff},{retry}"),
    };
    let json = format!(
        r#"{{"service":"web","cluster":"dyn","response_header":"x-served-by",
             "endpoints":[{{"address":"{A}"}},{{"address":"{B}"}},{{"address":"{C}"}}],
             "retry":{{{retry}}}{extra}}}"#
    );
    let config = FailoverConfig::from_json(json.as_bytes()).unwrap();
    Retries::new(Rc::new(config), 42)
}

/// A try the machine sent.
struct Sent {
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout_ms: u64,
}

/// What the machine did, in order where it matters.
#[derive(Default)]
struct Fake {
    endpoints: Vec<Endpoint>,
    health: Health,
    recorded: Vec<(SocketAddr, Outcome)>,
    sent: Vec<Sent>,
    refuse_sends: bool,
    replies: Vec<(u32, Answer)>,
    resumed: Vec<u32>,
    ticks: Vec<u64>,
    events: Vec<Event>,
}

impl Fake {
    fn new() -> Self {
        Self {
            endpoints: [A, B, C].map(|a| Endpoint::new(addr(a))).to_vec(),
            ..Self::default()
        }
    }

    fn eject(&mut self, address: &str, until_ms: u64) {
        self.health.endpoints.insert(
            addr(address),
            EndpointHealth {
                ejected_until_ms: until_ms,
                ejections: 1,
            },
        );
    }

    /// The endpoint the last try was sent to (its pick header).
    fn last_target(&self) -> SocketAddr {
        let sent = self.sent.last().expect("a try was sent");
        let (_, value) = sent
            .headers
            .iter()
            .find(|(k, _)| k == "x-envoy-original-dst-host")
            .expect("pick header");
        addr(value)
    }

    /// The token of the last try sent (tokens are 100, 101, …).
    fn last_token(&self) -> u32 {
        99 + u32::try_from(self.sent.len()).unwrap()
    }
}

impl Effects for Fake {
    fn endpoints(&mut self) -> Vec<Endpoint> {
        self.endpoints.clone()
    }

    fn health(&mut self) -> Health {
        self.health.clone()
    }

    fn record(&mut self, endpoint: SocketAddr, outcome: Outcome, _now_ms: u64) {
        self.recorded.push((endpoint, outcome));
    }

    fn send(&mut self, attempt: Attempt<'_>) -> Option<u32> {
        if self.refuse_sends {
            return None;
        }
        let headers = attempt.headers.iter();
        self.sent.push(Sent {
            headers: headers
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: attempt.body.map(<[u8]>::to_vec),
            timeout_ms: attempt.timeout_ms,
        });
        Some(self.last_token())
    }

    fn reply(&mut self, stream: u32, answer: &Answer) {
        self.replies.push((stream, answer.clone()));
    }

    fn resume(&mut self, stream: u32) {
        self.resumed.push(stream);
    }

    fn set_tick_period(&mut self, period_ms: u64) -> bool {
        self.ticks.push(period_ms);
        true
    }

    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
}

fn get_request() -> Replay {
    Replay::start(CapturedHeaders::from_pairs(&[(":method", "GET")]), true)
}

fn head(status: u16) -> impl FnOnce() -> (Vec<(String, String)>, Option<u16>) {
    move || (vec![(":status".into(), status.to_string())], Some(status))
}

fn no_response() -> (Vec<(String, String)>, Option<u16>) {
    (Vec::new(), None)
}

fn body(text: &'static str) -> impl FnOnce() -> Vec<u8> {
    move || text.as_bytes().to_vec()
}

fn unread() -> Vec<u8> {
    panic!("the body of this response is not read")
}

/// A GET whose first try, to A, ended with `first`; whether the response is now paused.
fn first_try(r: &mut Retries, fx: &mut Fake, first: Outcome) -> bool {
    r.on_request(fx, STREAM, get_request(), 0);
    r.on_response(fx, STREAM, addr(A), first, 10)
}

#[test]
fn a_success_goes_through_and_the_stream_is_forgotten() {
    let (mut r, mut fx) = (retries("", ""), Fake::new());
    assert!(!first_try(&mut r, &mut fx, Outcome::Status(200)));
    assert_eq!(fx.recorded, vec![(addr(A), Outcome::Status(200))]);
    assert!(fx.sent.is_empty() && fx.events.is_empty());
    assert!(!r.awaits_response(STREAM));
}

#[test]
fn a_gateway_error_is_retried_on_another_endpoint_whose_answer_the_client_gets() {
    let (mut r, mut fx) = (retries("", ""), Fake::new());
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    let target = fx.last_target();
    assert_ne!(target, addr(A));
    let sent = &fx.sent[0];
    assert_eq!(sent.headers[0], (":method".to_string(), "GET".to_string()));
    assert_eq!((&sent.body, sent.timeout_ms), (&None, 1000));
    assert_eq!(
        fx.events,
        vec![Event::Retrying {
            outcome: Outcome::Status(503),
            target
        }]
    );
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, head(200), body("ok"), 20);
    assert_eq!(fx.recorded[1], (target, Outcome::Status(200)));
    let (stream, answer) = &fx.replies[0];
    assert_eq!(
        (*stream, answer.status, &answer.body[..]),
        (STREAM, 200, &b"ok"[..])
    );
    let echo = ("x-served-by".to_string(), target.to_string());
    assert!(answer.headers.contains(&echo), "{:?}", answer.headers);
    assert!(fx.resumed.is_empty());
    // Answered: a late response header (the filter's own reply) is not judged again.
    assert!(!r.awaits_response(STREAM));
}

#[test]
fn connect_failures_and_resets_are_retried() {
    for outcome in [Outcome::ConnectFailure, Outcome::Reset] {
        let (mut r, mut fx) = (retries("", ""), Fake::new());
        assert!(first_try(&mut r, &mut fx, outcome), "{outcome}");
        assert_eq!(fx.sent.len(), 1, "{outcome}");
    }
}

#[test]
fn what_retry_on_does_not_name_goes_through() {
    let (mut r, mut fx) = (retries("", ""), Fake::new());
    // `5xx` is not in the default `retry_on`; a plain 500 is not a gateway error.
    assert!(!first_try(&mut r, &mut fx, Outcome::Status(500)));
    assert!(fx.sent.is_empty() && fx.events.is_empty());
    let (mut r, mut fx) = (retries(r#""retry_on":["5xx"]"#, ""), Fake::new());
    assert!(first_try(&mut r, &mut fx, Outcome::Status(500)));
}

#[test]
fn a_method_that_is_not_retried_goes_through() {
    let (mut r, mut fx) = (retries("", ""), Fake::new());
    r.on_request(&mut fx, STREAM, Replay::No, 0);
    assert!(!r.on_response(&mut fx, STREAM, addr(A), Outcome::Status(503), 10));
    assert!(fx.sent.is_empty() && fx.events.is_empty());
}

#[test]
fn the_body_is_replayed_unless_incomplete_or_too_large() {
    let (mut r, mut fx) = (retries(r#""max_body_bytes":4"#, ""), Fake::new());
    r.on_request(
        &mut fx,
        STREAM,
        Replay::start(CapturedHeaders::default(), false),
        0,
    );
    assert!(r.wants_body(STREAM));
    r.on_request_body(STREAM, b"ab", false);
    r.on_request_body(STREAM, b"cd", true);
    assert!(!r.wants_body(STREAM));
    assert!(r.on_response(&mut fx, STREAM, addr(A), Outcome::Status(502), 10));
    assert_eq!(fx.sent[0].body.as_deref(), Some(&b"abcd"[..]));

    let (mut r, mut fx) = (retries("", ""), Fake::new());
    r.on_request(
        &mut fx,
        STREAM,
        Replay::start(CapturedHeaders::default(), false),
        0,
    );
    assert!(!r.on_response(&mut fx, STREAM, addr(A), Outcome::Status(502), 10));
    assert_eq!(fx.events, vec![Event::NotRetried("body_incomplete")]);

    let (mut r, mut fx) = (retries(r#""max_body_bytes":4"#, ""), Fake::new());
    r.on_request(
        &mut fx,
        STREAM,
        Replay::start(CapturedHeaders::default(), false),
        0,
    );
    r.on_request_body(STREAM, b"abcde", true);
    assert!(!r.on_response(&mut fx, STREAM, addr(A), Outcome::Status(502), 10));
    assert_eq!(fx.events, vec![Event::NotRetried("body_too_large")]);
    assert!(fx.sent.is_empty());
}

#[test]
fn after_max_retries_the_client_gets_the_last_failed_answer() {
    let (mut r, mut fx) = (retries(r#""max_retries":2"#, ""), Fake::new());
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    let first = fx.last_target();
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, head(502), body("first"), 20);
    assert_eq!(fx.sent.len(), 2);
    let second = fx.last_target();
    assert!(
        ![addr(A), first].contains(&second),
        "each try goes elsewhere"
    );
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, head(503), body("second"), 30);
    assert_eq!(fx.sent.len(), 2, "no third retry");
    let (_, answer) = &fx.replies[0];
    assert_eq!((answer.status, &answer.body[..]), (503, &b"second"[..]));
}

#[test]
fn no_untried_endpoint_left_lets_the_failure_through_without_spending_the_budget() {
    // Two endpoints: after A and B, nothing is left for a second retry.
    let (mut r, mut fx) = (retries(r#""max_retries":5"#, ""), Fake::new());
    fx.endpoints.truncate(2);
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    assert_eq!(fx.last_target(), addr(B));
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, no_response, unread, 20);
    assert_eq!(fx.recorded[1], (addr(B), Outcome::Reset));
    assert_eq!(fx.events.last(), Some(&Event::NoOtherEndpoint));
    // The retry got no response at all: the paused original response goes through.
    assert_eq!(fx.resumed, vec![STREAM]);
    assert!(fx.replies.is_empty());
}

#[test]
fn a_healthy_endpoint_is_preferred_but_an_ejected_one_beats_none() {
    let (mut r, mut fx) = (retries("", ""), Fake::new());
    fx.eject(B, 1_000);
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    assert_eq!(fx.last_target(), addr(C));

    let (mut r, mut fx) = (retries("", ""), Fake::new());
    fx.eject(B, 1_000);
    fx.eject(C, 1_000);
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    assert_ne!(fx.last_target(), addr(A));
}

#[test]
fn an_exhausted_budget_lets_the_failure_through() {
    let budget = r#""budget":{"ratio":0,"min_per_second":0}"#;
    let (mut r, mut fx) = (retries(budget, ""), Fake::new());
    assert!(!first_try(&mut r, &mut fx, Outcome::Status(503)));
    assert_eq!(fx.events, vec![Event::BudgetExhausted]);
    assert!(fx.sent.is_empty());
}

#[test]
fn a_retry_waits_out_its_backoff_on_the_tick() {
    let (mut r, mut fx) = (retries(BACKOFF_1S, r#","timeout_ms":0"#), Fake::new());
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    assert!(fx.sent.is_empty(), "not sent before its backoff");
    assert_eq!(fx.ticks, vec![FAST_TICK_MS]);
    // The backoff is at most 1000 ms after the failure at 10.
    r.on_tick(&mut fx, 1_010);
    assert_eq!(fx.sent.len(), 1);
    assert_eq!(fx.ticks, vec![FAST_TICK_MS, SLOW_TICK_MS]);
    r.on_tick(&mut fx, 1_300);
    assert_eq!(fx.sent.len(), 1, "sent once");
}

#[test]
fn a_retry_that_cannot_be_sent_after_its_backoff_lets_the_response_through() {
    let (mut r, mut fx) = (retries(BACKOFF_1S, r#","timeout_ms":0"#), Fake::new());
    fx.refuse_sends = true;
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    r.on_tick(&mut fx, 1_010);
    assert_eq!(fx.resumed, vec![STREAM]);
}

#[test]
fn a_retry_that_cannot_be_sent_at_once_lets_the_failure_through() {
    let (mut r, mut fx) = (retries("", ""), Fake::new());
    fx.refuse_sends = true;
    assert!(!first_try(&mut r, &mut fx, Outcome::Status(503)));
    assert!(fx.events.is_empty());
}

#[test]
fn a_per_try_timeout_answers_504_per_try_unless_a_retry_does_better() {
    let (mut r, mut fx) = (retries(r#""per_try_timeout_ms":100"#, ""), Fake::new());
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    let target = fx.last_target();
    // No response after (nearly) the per-try timeout: that timeout fired.
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, no_response, unread, 10 + 96);
    assert_eq!(fx.events[1], Event::Timeout("per-try"));
    assert_eq!(fx.recorded[1], (target, Outcome::Status(504)));
    // Retried again; that one is reset early, so the per-try 504 is what the client gets.
    assert_eq!(fx.sent.len(), 2);
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, no_response, unread, 120);
    assert_eq!(fx.recorded[2].1, Outcome::Reset);
    let (_, answer) = &fx.replies[0];
    assert_eq!(answer.status, 504);
    let named = (TIMEOUT_HEADER.to_string(), "per-try".to_string());
    assert!(answer.headers.contains(&named));
    assert_eq!(
        answer.body,
        b"failover: per-try timeout (100 ms) exceeded\n"
    );
}

#[test]
fn the_request_deadline_answers_504_and_a_late_retry_is_ignored() {
    let (mut r, mut fx) = (retries("", r#","timeout_ms":200"#), Fake::new());
    r.on_request(&mut fx, STREAM, get_request(), 0);
    assert_eq!(
        fx.ticks,
        vec![FAST_TICK_MS],
        "a deadline within a slow tick"
    );
    assert!(r.on_response(&mut fx, STREAM, addr(A), Outcome::Status(503), 10));
    r.on_tick(&mut fx, 150);
    assert!(fx.replies.is_empty());
    r.on_tick(&mut fx, 200);
    assert_eq!(fx.events.last(), Some(&Event::Timeout("request")));
    let (stream, answer) = &fx.replies[0];
    assert_eq!((*stream, answer.status), (STREAM, 504));
    assert_eq!(
        answer.body,
        b"failover: request timeout (200 ms) exceeded\n"
    );
    assert_eq!(fx.ticks.last(), Some(&SLOW_TICK_MS));
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, head(200), unread, 250);
    assert_eq!(fx.replies.len(), 1);
    assert_eq!(fx.recorded.len(), 1, "the late answer is not recorded");
    assert!(!r.awaits_response(STREAM));
}

#[test]
fn a_forgotten_stream_ignores_its_retry_and_its_deadline() {
    let (mut r, mut fx) = (retries("", r#","timeout_ms":200"#), Fake::new());
    assert!(first_try(&mut r, &mut fx, Outcome::Status(503)));
    r.forget(STREAM);
    let token = fx.last_token();
    r.on_call_response(&mut fx, token, head(200), unread, 20);
    r.on_tick(&mut fx, 500);
    assert!(fx.replies.is_empty() && fx.resumed.is_empty());
}

#[test]
fn an_unattributed_response_drops_the_deadline() {
    let (mut r, mut fx) = (retries("", r#","timeout_ms":200"#), Fake::new());
    r.on_request(&mut fx, STREAM, get_request(), 0);
    r.on_unattributed_response(STREAM);
    r.on_tick(&mut fx, 500);
    assert!(fx.replies.is_empty());
}

#[test]
fn the_tick_period_is_set_only_when_it_changes() {
    let (mut r, mut fx) = (retries("", ""), Fake::new());
    r.retune_tick(&mut fx, 0);
    r.retune_tick(&mut fx, 100);
    assert_eq!(fx.ticks, vec![SLOW_TICK_MS]);
}
