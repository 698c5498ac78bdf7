//! What one VM (one worker) keeps across streams: the configuration, the label caps and the
//! metric ids. Shared as `Rc<RefCell<State>>` by the root context and every stream.

use wasmesh_common::metric_name;
use wasmesh_common::metrics::{LabelCap, MetricsConfig};

use crate::series::Series;

/// Per-VM state.
pub struct State {
    /// The validated configuration.
    pub config: MetricsConfig,
    /// Distinct `authority` values seen.
    pub authorities: LabelCap,
    /// Distinct `endpoint` values seen.
    pub endpoints: LabelCap,
    /// Metric ids.
    pub series: Series,
}

impl State {
    /// Fresh state for `config`.
    pub fn new(config: MetricsConfig) -> Self {
        Self {
            authorities: LabelCap::new(config.max_label_values),
            endpoints: LabelCap::new(config.max_label_values),
            series: Series::default(),
            config,
        }
    }

    /// The label value for `raw` authority: made safe for a name, then capped.
    pub fn authority_label(&mut self, raw: &str) -> String {
        self.authorities.admit(&metric_name::value(raw)).to_string()
    }

    /// The label value for `raw` endpoint: made safe for a name, then capped.
    pub fn endpoint_label(&mut self, raw: &str) -> String {
        self.endpoints.admit(&metric_name::value(raw)).to_string()
    }
}
