//! What the data plane needs from the worker it runs on: the listener as the newest generation
//! this worker built has it, the process-wide admission counts, and the request counter. A
//! trait the worker implements, so the proxy does not depend on the worker (which starts the
//! proxy's accept loops) and a test can serve a listener without one.

use std::rc::Rc;
use std::sync::Arc;

use wasmesh_host::chain::ChainEntry;

use super::upstream::Upstreams;
use crate::access_log::AccessLog;
use crate::overload::Overload;
use crate::spec::ListenerConfig;
use crate::tls::ServerTls;

/// A listener as one worker runs it.
pub struct ListenerLocal {
    /// Its configuration.
    pub config: ListenerConfig,
    /// Plugins in chain order, each with its canary when it is in a rollout.
    pub chain: Vec<ChainEntry>,
    /// Clusters of this generation.
    pub upstreams: Rc<Upstreams>,
    /// Its TLS, loaded once per generation and shared by every worker; `None` for plain text.
    pub tls: Option<Arc<ServerTls>>,
    /// Its access log, opened once per generation and shared by every worker.
    pub access_log: Option<Arc<AccessLog>>,
    /// Each route's name as `route_name` gives it (`<listener>.<index>`), made once per
    /// generation rather than formatted for every request ([`route_names`]).
    pub route_names: Vec<Arc<str>>,
}

/// The names of `config`'s routes, in order.
pub fn route_names(config: &ListenerConfig) -> Vec<Arc<str>> {
    (0..config.routes.len())
        .map(|index| format!("{}.{index}", config.name).into())
        .collect()
}

/// One worker, as its connections and requests see it.
pub trait WorkerView {
    /// Counts a downstream request.
    fn count_request(&self);

    /// Listener connection limits and cluster circuit breakers, shared with every worker.
    fn overload(&self) -> &Arc<Overload>;

    /// The listener as the newest generation this worker could build has it.
    fn listener(&self, name: &str) -> Option<Rc<ListenerLocal>>;
}
