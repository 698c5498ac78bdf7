use super::*;

const REPORT: &str = "Running 10s test @ http://127.0.0.1:8080/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.70ms  410.23us  14.88ms   87.87%
    Req/Sec    23.72k     1.09k   25.92k    85.00%
  Latency Distribution
     50%    2.65ms
     75%    2.92ms
     90%    3.17ms
     99%    4.40ms
  236012 requests in 10.00s, 61.06MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  23600.37
Transfer/sec:      6.11MB
";

#[test]
fn reads_a_latency_report() {
    let result = parse(REPORT).unwrap();
    assert_eq!(result.requests_per_sec, 23600.37);
    assert_eq!(result.p50, Duration::from_micros(2650));
    assert_eq!(result.p99, Duration::from_micros(4400));
    assert_eq!(result.requests, 236_012);
    assert_eq!(result.errors, 7);
}

#[test]
fn a_clean_run_has_no_errors() {
    let clean: String = REPORT
        .lines()
        .filter(|line| !line.contains("errors") && !line.contains("Non-2xx"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(parse(&clean).unwrap().errors, 0);
}

#[test]
fn latency_units() {
    assert_eq!(
        parse_latency("226.00us").unwrap(),
        Duration::from_micros(226)
    );
    assert_eq!(parse_latency("1.50s").unwrap(), Duration::from_millis(1500));
    assert!(parse_latency("12").is_err());
    assert!(parse_latency("3.0xs").is_err());
}

#[test]
fn a_report_without_latency_is_an_error() {
    let without: String = REPORT
        .lines()
        .filter(|line| !line.contains('%') || line.contains("Stdev"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(parse(&without).is_err());
}
