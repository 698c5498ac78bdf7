//! What one VM (one worker) keeps across streams: the configuration, the label caps and the
//! metric ids. Shared as `Rc<RefCell<State>>` by the root context and every stream.

use wasmesh_common::metrics::names::RequestLabels;
use wasmesh_common::metrics::{Classification, LabelCap, LabelId, MetricsConfig};
use wasmesh_contract::metric_name;
use wasmesh_filter_glue::metric;

use crate::ids::{Ids, Outcome, RequestIds, ResponseSeries, RouteIndex};

/// Per-VM state.
pub struct State {
    /// The validated configuration.
    pub config: MetricsConfig,
    /// Distinct `authority` values seen.
    authorities: LabelCap,
    /// The last raw authority and its label: most streams of a worker carry the same one,
    /// which then costs one comparison instead of a check, a hash and a lookup.
    last_authority: Option<(String, LabelId)>,
    /// Distinct `endpoint` values seen.
    endpoints: LabelCap,
    /// Metric ids.
    ids: Ids,
}

/// Where a stream's request series are: its (capped) authority and its route.
#[derive(Debug, Clone, Copy)]
pub struct StreamKey {
    /// The `authority` label.
    pub authority: LabelId,
    /// The `route` label.
    pub route: RouteIndex,
}

impl State {
    /// Fresh state for `config`.
    pub fn new(config: MetricsConfig) -> Self {
        Self {
            authorities: LabelCap::new(config.max_label_values),
            endpoints: LabelCap::new(config.max_label_values),
            last_authority: None,
            ids: Ids::default(),
            config,
        }
    }

    /// The stream key of a request to `authority` (raw `:authority`) on `path`: the authority
    /// made safe for a name, then capped; the route from the configured table.
    pub fn key(&mut self, authority: &str, path: &str) -> StreamKey {
        let label = match &mut self.last_authority {
            Some((last, label)) if last == authority => *label,
            // A new one: remembered in the same buffer, so traffic that alternates between
            // authorities does not allocate for them on every request.
            Some((last, label)) => {
                *label = self.authorities.admit(&metric_name::value_cow(authority));
                last.clear();
                last.push_str(authority);
                *label
            }
            None => {
                let label = self.authorities.admit(&metric_name::value_cow(authority));
                self.last_authority = Some((authority.to_string(), label));
                label
            }
        };
        StreamKey {
            authority: label,
            route: self.config.routes.index_of(path),
        }
    }

    /// The route name of `key`, as labelled.
    pub fn route_name(&self, key: StreamKey) -> &str {
        self.config.routes.name(key.route)
    }

    /// Counts a request starting: `request_total` + 1, `request_in_flight` + 1. Returns the
    /// ids, so the end of the stream decrements the same gauge without looking it up.
    pub fn count_request(&mut self, key: StreamKey) -> RequestIds {
        let labels = labels(&self.config, &self.authorities, key);
        let ids = self.ids.request((key.authority, key.route), labels);
        metric::add("metrics", ids.total, 1);
        metric::add("metrics", ids.in_flight, 1);
        ids
    }

    /// Counts a finished stream: `response_total` + 1, and its time to first byte (`ttfb_ms`)
    /// in `response_latency_ms` when it had a response.
    pub fn count_response(&mut self, key: StreamKey, outcome: Outcome, ttfb_ms: Option<u64>) {
        let labels = labels(&self.config, &self.authorities, key);
        let at = (key.authority, key.route);
        let total = self
            .ids
            .response(ResponseSeries::Total, at, outcome, labels);
        metric::add("metrics", total, 1);
        if let Some(ttfb_ms) = ttfb_ms {
            let latency = self
                .ids
                .response(ResponseSeries::Latency, at, outcome, labels);
            metric::record("metrics", latency, ttfb_ms);
        }
    }

    /// Counts a finished stream that reached `endpoint` (`ip:port`, raw).
    pub fn count_endpoint(&mut self, endpoint: &str, classification: Classification) {
        let id = self.endpoints.admit(&metric_name::value_cow(endpoint));
        let label = self.endpoints.value(id);
        let direction = self.config.direction.as_str();
        metric::add(
            "metrics",
            self.ids.endpoint((id, classification), direction, label),
            1,
        );
    }
}

/// The labels of `key`'s request series.
fn labels<'a>(
    config: &'a MetricsConfig,
    authorities: &'a LabelCap,
    key: StreamKey,
) -> RequestLabels<'a> {
    RequestLabels {
        direction: config.direction.as_str(),
        authority: authorities.value(key.authority),
        route: config.routes.name(key.route),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_authority_keeps_its_label_and_the_cap_still_holds() {
        let config = MetricsConfig {
            max_label_values: 1,
            ..MetricsConfig::default()
        };
        let mut state = State::new(config);
        let label = |state: &mut State, authority| state.key(authority, "/").authority;
        let first = label(&mut state, "a.example");
        assert_ne!(first, LabelId::OVERFLOW);
        assert_eq!(label(&mut state, "a.example"), first);
        assert_eq!(
            label(&mut state, "b.example"),
            LabelId::OVERFLOW,
            "over the cap of 1"
        );
        assert_eq!(label(&mut state, "b.example"), LabelId::OVERFLOW);
        assert_eq!(label(&mut state, "a.example"), first, "back to the first");
        assert_eq!(
            label(&mut state, ""),
            LabelId::OVERFLOW,
            "`unknown` is a new value"
        );
    }
}
