//! The ABI capability report (`wasmesh_host::abi::capabilities`) as the admin's `GET /abi`
//! (JSON; `?format=text` for the table) and `wasmesh abi` print it: what a filter author can
//! count on in this host.

use serde_json::{json, Value};
use wasmesh_host::abi::capabilities::{
    self, Entry, ABI_VERSIONS, CALLBACKS, FEATURES, FEATURES_MEANING, FEATURES_SOURCE, HOSTCALLS,
    WASI_FUNCTIONS, WASI_MODULES,
};

fn entries(list: impl IntoIterator<Item = Entry>) -> Vec<Value> {
    list.into_iter()
        .map(|e| {
            json!({
                "name": e.name,
                "family": e.family,
                "support": e.support.as_str(),
                "note": e.note,
            })
        })
        .collect()
}

fn wasi() -> impl Iterator<Item = Entry> {
    WASI_FUNCTIONS.iter().map(|name| capabilities::wasi(name))
}

/// The report as JSON.
pub fn json() -> Value {
    let features: Vec<Value> = FEATURES
        .iter()
        .map(|f| json!({"id": format!("0x{:04X}", f.id), "name": f.name, "supported": f.supported}))
        .collect();
    json!({
        "abi_versions": ABI_VERSIONS,
        "hostcalls": entries(HOSTCALLS.iter().copied()),
        "callbacks": entries(CALLBACKS.iter().copied()),
        "wasi": {"modules": WASI_MODULES, "functions": entries(wasi())},
        "features": {"source": FEATURES_SOURCE, "meaning": FEATURES_MEANING, "flags": features},
    })
}

/// The report as a table: one line per function, grouped as the JSON is.
pub fn text() -> String {
    let mut out = format!(
        "proxy-wasm ABI {} (modules declaring {} load)\n",
        ABI_VERSIONS[0],
        ABI_VERSIONS.join(" or ")
    );
    let mut section = |title: &str, list: &mut dyn Iterator<Item = Entry>| {
        out.push_str(&format!("\n{title}\n"));
        for e in list {
            let line = format!(
                "  {:<44} {:<18} {:<12} {}",
                e.name,
                e.family,
                e.support.as_str(),
                e.note
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
    };
    section("hostcalls (env)", &mut HOSTCALLS.iter().copied());
    section("callbacks", &mut CALLBACKS.iter().copied());
    section(
        &format!("WASI preview1 (as {})", WASI_MODULES.join(" and ")),
        &mut wasi(),
    );
    out.push_str(&format!(
        "\nhost features ({FEATURES_SOURCE}; {FEATURES_MEANING})\n"
    ));
    for f in FEATURES {
        let mark = if f.supported { "yes" } else { "no" };
        out.push_str(&format!("  0x{:04X}  {:<30} {mark}\n", f.id, f.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_and_the_table_list_every_function() {
        let report = json();
        let hostcalls = report["hostcalls"].as_array().expect("hostcalls");
        assert_eq!(hostcalls.len(), HOSTCALLS.len());
        let text = text();
        for e in HOSTCALLS.iter().chain(CALLBACKS) {
            assert!(text.contains(e.name), "{} missing from the table", e.name);
        }
        let grpc = hostcalls
            .iter()
            .find(|h| h["name"] == "proxy_grpc_send")
            .expect("proxy_grpc_send");
        assert_eq!(grpc["support"], "implemented");
        let wasi = report["wasi"]["functions"].as_array().expect("wasi");
        assert_eq!(wasi.len(), 46);
        assert!(text.contains("0x0F01  HAS_WASI_PREVIEW1_CORE"), "{text}");
    }
}
