use super::*;

/// An exposition with `ok` successes and `failed` failures on route `users` of `a.example`,
/// every response in the 10 ms bucket.
fn scrape(ok: u64, failed: u64) -> Vec<Sample> {
    let labels = "direction=\"inbound\",authority=\"a.example\",route=\"users\"";
    let all = ok + failed;
    exposition::samples(&format!(
        "response_total{{{labels},classification=\"success\"}} {ok}\n\
         response_total{{{labels},classification=\"failure\"}} {failed}\n\
         response_latency_ms_bucket{{{labels},le=\"10\"}} {all}\n\
         response_latency_ms_bucket{{{labels},le=\"+Inf\"}} {all}\n\
         lb_requests_total{{service=\"web\",endpoint=\"10.0.0.1:80\"}} {all}\n"
    ))
}

#[test]
fn windows_hold_rates_success_and_latency_by_route_and_authority() {
    let live = Live::default();
    let start = Instant::now();
    live.add(&scrape(0, 0), start, 1_000);
    assert!(live.windows().times.is_empty(), "one scrape is no window");
    live.add(&scrape(30, 10), start + Duration::from_secs(2), 3_000);
    live.add(&scrape(30, 10), start + Duration::from_secs(4), 5_000);
    let windows = live.windows();
    assert_eq!(windows.times, [3_000, 5_000]);
    let users = &windows.routes["users"];
    assert_eq!(users.rps, [Some(20.0), None]);
    assert_eq!(users.success, [Some(0.75), None]);
    assert_eq!(users.p99.len(), 2);
    assert!(users.p99[0].is_some_and(|ms| ms > 0.0 && ms <= 10.0));
    assert_eq!(windows.authorities["a.example"].rps, [Some(20.0), None]);
    let summary = &windows.routes_summary["users"];
    assert_eq!(
        (summary.responses, summary.rps, summary.success),
        (40.0, Some(10.0), Some(0.75)),
        "both windows as one"
    );
    assert!(summary.latency[2].is_some_and(|ms| ms > 0.0 && ms <= 10.0));
    assert_eq!(windows.authorities_summary["a.example"].responses, 40.0);
    let key = EndpointKey {
        service: "web".into(),
        endpoint: "10.0.0.1:80".into(),
    };
    assert_eq!(live.endpoint(&key).map(|r| r.requests), Some(40.0));
}

#[test]
fn a_new_key_gets_empty_earlier_windows_and_old_windows_go() {
    let live = Live::default();
    let start = Instant::now();
    let other = |n: u64| {
        exposition::samples(&format!(
            "response_total{{authority=\"b\",route=\"other\",classification=\"success\"}} {n}\n"
        ))
    };
    live.add(&other(0), start, 0);
    for i in 1..=(KEPT as u64 + 2) {
        let mut samples = other(i);
        if i == 2 {
            samples.extend(scrape(5, 0));
        }
        live.add(&samples, start + Duration::from_secs(2 * i), 2_000 * i);
        if i == 2 {
            let users = &live.windows().routes["users"];
            assert_eq!(users.rps.len(), 2, "padded to the earlier window");
            assert_eq!(users.rps[0], None);
        }
    }
    let windows = live.windows();
    assert_eq!(windows.times.len(), KEPT);
    assert_eq!(windows.routes["other"].rps.len(), KEPT);
    assert!(
        !windows.routes.contains_key("users"),
        "a route with no response in any kept window is dropped"
    );
}

#[test]
fn the_summary_covers_the_last_minute_only() {
    let live = Live::default();
    let start = Instant::now();
    live.add(&scrape(0, 0), start, 0);
    live.add(&scrape(10, 0), start + Duration::from_secs(2), 2_000);
    for i in 2..=(SUMMARY_WINDOWS as u64 + 1) {
        live.add(
            &scrape(10, 0),
            start + Duration::from_secs(2 * i),
            2_000 * i,
        );
    }
    assert!(
        live.windows().routes_summary.is_empty(),
        "the ten responses were more than a minute ago"
    );
}
