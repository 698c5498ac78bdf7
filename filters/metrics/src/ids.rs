//! Metric ids per label tuple, so a warm request finds its series with a lookup on a few small
//! integers instead of formatting and hashing full metric names (what a request cost most in
//! this filter). Keys: (authority, route) for the request series, plus status and
//! classification for the response series, (endpoint, classification) for the endpoint
//! counter. Bounded like the names they stand for: authority and endpoint are capped
//! [`LabelId`]s, routes come from the configuration, statuses are `u16`.

use proxy_wasm::types::MetricType;
use rustc_hash::FxHashMap;
use wasmesh_common::metrics::names::{self, RequestLabels};
use wasmesh_common::metrics::{Classification, LabelId};

use wasmesh_filter_glue::metric::Series;

/// A route as `RouteTable::index_of` gives it.
pub type RouteIndex = usize;

/// The series counted when a request starts.
#[derive(Debug, Clone, Copy)]
pub struct RequestIds {
    /// `request_total`.
    pub total: Option<u32>,
    /// `request_in_flight` (also decremented at the end of the stream).
    pub in_flight: Option<u32>,
}

/// A stream's outcome as its response series are labelled: status (0 without a response) and
/// classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Outcome {
    /// `status_code`.
    pub status: u16,
    /// `classification`.
    pub classification: Classification,
}

/// The series of a finished stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseSeries {
    /// `response_total`.
    Total,
    /// `response_latency_ms`.
    Latency,
}

/// The per-VM caches, over the name-keyed [`Series`] that defines each series once.
pub struct Ids {
    /// Full names to ids. A warm request does not come here: the maps below ask for a name
    /// only the first time a tuple is seen. Two tuples that name the same series (an authority
    /// literally called `overflow`) share its id through it. Bounded because every label
    /// value is (routes from the configuration, authority and endpoint capped, status codes
    /// three digits).
    series: Series,
    // Fx-hashed: every key is small integers this filter assigned, looked up on every stream.
    requests: FxHashMap<(LabelId, RouteIndex), RequestIds>,
    responses: FxHashMap<(ResponseSeries, LabelId, RouteIndex, Outcome), Option<u32>>,
    endpoints: FxHashMap<(LabelId, Classification), Option<u32>>,
}

impl Default for Ids {
    fn default() -> Self {
        Self {
            series: Series::new("metrics"),
            requests: FxHashMap::default(),
            responses: FxHashMap::default(),
            endpoints: FxHashMap::default(),
        }
    }
}

impl Ids {
    /// The request series of (authority, route); `labels` names them on first use.
    pub fn request(&mut self, key: (LabelId, RouteIndex), labels: RequestLabels<'_>) -> RequestIds {
        let series = &mut self.series;
        *self.requests.entry(key).or_insert_with(|| RequestIds {
            total: series.id(MetricType::Counter, labels.request_total()),
            in_flight: series.id(MetricType::Gauge, labels.in_flight()),
        })
    }

    /// Series `which` of (authority, route, outcome); `labels` names it on first use. The
    /// latency histogram is asked for only when a stream has a latency to record, so no empty
    /// histogram shows for streams without a response.
    pub fn response(
        &mut self,
        which: ResponseSeries,
        key: (LabelId, RouteIndex),
        outcome: Outcome,
        labels: RequestLabels<'_>,
    ) -> Option<u32> {
        let series = &mut self.series;
        *self
            .responses
            .entry((which, key.0, key.1, outcome))
            .or_insert_with(|| {
                let status = outcome.status.to_string();
                let class = outcome.classification.as_str();
                match which {
                    ResponseSeries::Total => {
                        series.id(MetricType::Counter, labels.response_total(&status, class))
                    }
                    ResponseSeries::Latency => {
                        series.id(MetricType::Histogram, labels.latency(&status, class))
                    }
                }
            })
    }

    /// The `endpoint_response_total` series of (endpoint, classification); `direction` and
    /// `endpoint` (the label value) name it on first use.
    pub fn endpoint(
        &mut self,
        key: (LabelId, Classification),
        direction: &str,
        endpoint: &str,
    ) -> Option<u32> {
        let series = &mut self.series;
        *self.endpoints.entry(key).or_insert_with(|| {
            let name = names::endpoint_response_total(direction, endpoint, key.1.as_str());
            series.id(MetricType::Counter, name)
        })
    }
}
