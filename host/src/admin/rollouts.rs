//! Rollouts at the admin: their state in `/config` and `/metrics`, and `POST /rollout?plugin=
//! NAME&action=rollback|promote|resume` to roll a canary back, give it every stream, or give it
//! its configured share again by hand. What the admin changes lasts until the canary changes
//! in the configuration (a reload that keeps it keeps its state).

use std::fmt::Write;

use serde_json::{json, Value};
use wasmesh_host::rollout::{Phase, RolloutStatus};

use crate::host::{Generation, Host};

/// Every rollout of `generation`, sorted by plugin.
pub fn statuses(generation: &Generation) -> Vec<Value> {
    let mut names: Vec<&String> = generation.canaries.keys().collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let canary = &generation.canaries[name];
            let mut status = serde_json::to_value(canary.rollout.status()).unwrap_or(Value::Null);
            status["canary_sha256"] = json!(canary.factory.module_sha256());
            status
        })
        .collect()
}

/// `POST /rollout` with `query`: the HTTP status and the rollout's state (or the error).
pub fn act(host: &Host, query: &str) -> (u16, Value) {
    let mut plugin = None;
    let mut action = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "plugin" => plugin = Some(value.into_owned()),
            "action" => action = Some(value.into_owned()),
            _ => return (400, json!({"error": format!("unknown parameter {key:?}")})),
        }
    }
    let (Some(plugin), Some(action)) = (plugin, action) else {
        return (
            400,
            json!({"error": "use POST /rollout?plugin=NAME&action=rollback|promote|resume"}),
        );
    };
    let generation = host.current();
    let Some(canary) = generation.canaries.get(&plugin) else {
        return (
            404,
            json!({"error": format!("plugin {plugin:?} has no canary in generation {}", generation.id)}),
        );
    };
    let rollout = &canary.rollout;
    match action.as_str() {
        "rollback" => {
            rollout.roll_back("rolled back at the admin (POST /rollout)".into());
        }
        "promote" => rollout.promote("promoted at the admin (POST /rollout)".into()),
        "resume" => rollout.resume(),
        _ => {
            return (
                400,
                json!({"error": format!("action {action:?}: use rollback, promote or resume")}),
            )
        }
    }
    (
        200,
        serde_json::to_value(rollout.status()).unwrap_or(Value::Null),
    )
}

/// The rollout families for `/metrics` (HELP and TYPE even with no rollout).
pub fn render(generation: &Generation, out: &mut String) {
    let mut statuses: Vec<_> = generation
        .canaries
        .values()
        .map(|c| c.rollout.status())
        .collect();
    statuses.sort_by(|a, b| a.plugin.cmp(&b.plugin));
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    let label = |plugin: &str| plugin.replace('\\', "\\\\").replace('"', "\\\"");
    family(
        out,
        "wasmesh_canary_share_percent",
        "gauge",
        "Share of new streams the plugin's canary gets now (0 once rolled back).",
    );
    for s in &statuses {
        let _ = writeln!(
            out,
            "wasmesh_canary_share_percent{{plugin=\"{}\"}} {}",
            label(&s.plugin),
            s.share_now
        );
    }
    family(
        out,
        "wasmesh_canary_rolled_back",
        "gauge",
        "1 while the plugin's canary is rolled back.",
    );
    for s in &statuses {
        let rolled_back = u8::from(s.phase == Phase::RolledBack);
        let _ = writeln!(
            out,
            "wasmesh_canary_rolled_back{{plugin=\"{}\"}} {rolled_back}",
            label(&s.plugin)
        );
    }
    family(
        out,
        "wasmesh_canary_streams_total",
        "counter",
        "Streams each version of a plugin in a rollout got.",
    );
    for s in &statuses {
        for (version, n) in [("stable", s.streams[0]), ("canary", s.streams[1])] {
            let _ = writeln!(
                out,
                "wasmesh_canary_streams_total{{plugin=\"{}\",version=\"{version}\"}} {n}",
                label(&s.plugin)
            );
        }
    }
    let per_plugin =
        |out: &mut String, name: &str, help: &str, value: fn(&RolloutStatus) -> u64| {
            family(out, name, "counter", help);
            for s in &statuses {
                let _ = writeln!(
                    out,
                    "{name}{{plugin=\"{}\"}} {}",
                    label(&s.plugin),
                    value(s)
                );
            }
        };
    per_plugin(
        out,
        "wasmesh_canary_failures_total",
        "Canary streams lost to its VM (failed, or down after a failure).",
        |s| s.canary_failures,
    );
    per_plugin(
        out,
        "wasmesh_canary_fallbacks_total",
        "Streams the stable version took over because the canary failed before passing them on.",
        |s| s.fallbacks,
    );
    per_plugin(
        out,
        "wasmesh_canary_rollbacks_total",
        "Times the canary was rolled back, by a threshold or by hand.",
        |s| s.rollbacks,
    );
}
