//! The root context: owns the parsed policy and the per-worker counters, shared with every
//! stream.

use std::cell::RefCell;
use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, MetricType};
use wasmesh_common::authz::{Action, AuthzConfig};
use wasmesh_common::metrics::LabelCap;
use wasmesh_contract::metric_name;
use wasmesh_filter_glue::metric::Series;

use crate::filter::AuthzFilter;

/// The label of a client without an identity.
const UNAUTHENTICATED: &str = "unauthenticated";
/// The `rule` label when no rule matched and the default decided.
const DEFAULT_RULE: &str = "default";

/// What every stream of this worker shares: the policy and the counters.
pub struct Shared {
    /// The policy.
    pub config: AuthzConfig,
    identities: LabelCap,
    series: Series,
}

/// How a decision is counted.
#[derive(Clone, Copy)]
pub enum Counted {
    /// Let through.
    Allowed,
    /// Answered with `deny_status`.
    Denied,
    /// Would have been denied; let through (audit mode).
    AuditDenied,
}

impl Shared {
    /// Counts one decision by rule and (capped) identity.
    pub fn count(&mut self, counted: Counted, rule: Option<&str>, identity: Option<&str>) {
        let base = match counted {
            Counted::Allowed => "authz_allowed_total",
            Counted::Denied => "authz_denied_total",
            Counted::AuditDenied => "authz_audit_denied_total",
        };
        let id = self.identities.admit(identity.unwrap_or(UNAUTHENTICATED));
        let identity = self.identities.value(id).to_string();
        let name = metric_name::labelled(
            base,
            &[
                ("rule", rule.unwrap_or(DEFAULT_RULE)),
                ("identity", &identity),
            ],
        );
        let id = self.series.id(MetricType::Counter, name);
        wasmesh_filter_glue::metric::add("authz", id, 1);
    }
}

/// One per plugin per worker.
#[derive(Default)]
pub struct AuthzRoot {
    shared: Option<Rc<RefCell<Shared>>>,
}

impl Context for AuthzRoot {}

impl RootContext for AuthzRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let Some(config) = wasmesh_filter_glue::read_configuration("authz", AuthzConfig::from_json)
        else {
            return false;
        };
        log::info!(
            "authz: {} rules, default {}{}",
            config.rules.len(),
            match config.default {
                Action::Allow => "allow",
                Action::Deny => "deny",
            },
            if config.audit {
                ", audit mode (nothing is denied)"
            } else {
                ""
            }
        );
        let identities = LabelCap::new(config.max_identities);
        self.shared = Some(Rc::new(RefCell::new(Shared {
            config,
            identities,
            series: Series::new("authz"),
        })));
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(AuthzFilter::new(self.shared.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
