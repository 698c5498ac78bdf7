//! `wasmesh stat --discovery`: the admin's `GET /endpoints` (what the `discovery` filter
//! published, with `failover`'s ejections) as a table. Envoy's admin has no such endpoint: the
//! sets live in the wasm plugins' shared data, which Envoy does not expose (its `/clusters`
//! lists the members of its own clusters, which the discovery filter does not change).

use anyhow::{bail, Result};

use super::fetch::Admin;
use super::table;
use crate::endpoints_view::View;

/// The admin path of the view.
pub const PATH: &str = "/endpoints";

/// The table of every service's set, or an error saying why there is none.
pub fn fetch(admin: &Admin) -> Result<String> {
    let (status, body) = admin.get(PATH, "application/json").map_err(|e| {
        e.context(format!(
            "cannot read {PATH} from the admin at {}; is wasmesh running there? (--admin ADDR)",
            admin.name
        ))
    })?;
    if status == 404 {
        let envoy = admin
            .get("/server_info", "application/json")
            .is_ok_and(|(s, b)| s == 200 && b.contains("\"command_line_options\""));
        if envoy {
            bail!(
                "the admin at {} is Envoy's, which has no {PATH}: the discovery filter's sets live \
                 in wasm shared data, which Envoy's admin does not show (its /clusters lists its \
                 own clusters' members, a different thing). Use --endpoints for the lb filter's \
                 per-endpoint metrics, which Envoy does expose.",
                admin.name
            );
        }
        bail!("the admin at {} has no {PATH} (not wasmesh?)", admin.name);
    }
    if status != 200 {
        bail!(
            "GET {PATH} at {} answered {status}: {}",
            admin.name,
            body.trim()
        );
    }
    let view: View = serde_json::from_str(&body)
        .map_err(|e| anyhow::anyhow!("GET {PATH} at {}: not an endpoints view: {e}", admin.name))?;
    Ok(render(&view))
}

/// The table, or a line saying that nothing is published.
pub fn render(view: &View) -> String {
    if view.services.is_empty() {
        return "no endpoint sets in shared data: is the discovery filter loaded?\n".to_string();
    }
    table::discovery(view)
}
