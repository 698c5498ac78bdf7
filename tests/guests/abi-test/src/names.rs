//! Every name the module shares with the hosts and the tests: queue, shared-data keys, metrics.
//! Kept in one place so `README.md` and the code cannot drift apart silently.

/// The shared queue the root context registers and the `queue` case enqueues to.
pub const QUEUE: &str = "abi_queue";
/// A queue name nobody registers (for `NotFound`).
pub const MISSING_QUEUE: &str = "abi_no_such_queue";
/// Shared-data key: last item the root dequeued in `on_queue_ready`.
pub const QUEUE_LAST_KEY: &str = "abi.queue.last";
/// Shared-data key: how many items the roots dequeued (decimal text).
pub const QUEUE_COUNT_KEY: &str = "abi.queue.count";
/// Shared-data key: how many ticks the roots saw (decimal text).
pub const TICKS_KEY: &str = "abi.ticks";
/// Default shared-data key of the `shared-data` case (override with `x-abi-key`).
pub const SHARED_KEY: &str = "abi.shared";

/// Counter defined once per root context.
pub const COUNTER: &str = "abi_counter";
/// Gauge defined once per root context.
pub const GAUGE: &str = "abi_gauge";
/// Histogram defined once per root context.
pub const HISTOGRAM: &str = "abi_histogram";

/// A cluster name no test configures (for `BadArgument`/`ParseFailure`).
pub const MISSING_CLUSTER: &str = "abi_no_such_cluster";

/// Request header naming the case.
pub const CASE_HEADER: &str = "x-abi-case";
/// Request header naming the cluster for HTTP and gRPC calls.
pub const UPSTREAM_HEADER: &str = "x-abi-upstream";
/// Response header added to every response the filter's `on_http_response_headers` sees.
pub const RESPONSE_SEEN_HEADER: &str = "x-abi-response-seen";

/// Root id that makes a root context the singleton's (see `singleton.rs`).
pub const SINGLETON_ROOT_ID: &str = "abi-singleton";
/// Shared-data key: how many ticks the singleton saw (decimal text).
pub const SINGLETON_TICKS_KEY: &str = "abi.singleton.ticks";
/// Shared-data key: how many of the singleton's http calls were answered 200 (decimal text).
pub const SINGLETON_CALLS_KEY: &str = "abi.singleton.calls";
/// The shared queue the singleton registers and the `singleton` case enqueues to.
pub const SINGLETON_QUEUE: &str = "abi_singleton_queue";
/// Shared-data key: how many items the singleton dequeued (decimal text).
pub const SINGLETON_QUEUED_KEY: &str = "abi.singleton.queued";
