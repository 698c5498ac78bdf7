//! The filter's HTTP stream: it passes everything through untouched. (Envoy only runs a wasm
//! plugin's root context when a filter chain names the plugin, so the chain carries it.)

use proxy_wasm::traits::{Context, HttpContext};

/// A stream the filter does nothing with.
pub struct PassThrough;

impl Context for PassThrough {}

impl HttpContext for PassThrough {}
