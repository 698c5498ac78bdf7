//! The admin's live view in headless Chromium (`wasmesh_tests::scenarios::live_view`), and the
//! chart library the admin embeds checked against its npm release.

use wasmesh_tests::{browser, scenarios::live_view, workspace_root};

#[test]
fn live_view_shows_traffic_endpoints_plugins_and_reloads() {
    live_view::live_view_shows_traffic_endpoints_plugins_and_reloads();
}

/// `host/src/admin/ui/vendor/` holds uPlot's files exactly as its npm release (the one
/// `tests/browser/package-lock.json` pins) ships them.
#[test]
fn embedded_chart_library_is_its_npm_release() {
    let vendored = workspace_root().join("host/src/admin/ui/vendor");
    let released = browser::browser_dir().join("node_modules/uplot");
    for (ours, theirs) in [
        ("uPlot.iife.min.js", "dist/uPlot.iife.min.js"),
        ("uPlot.min.css", "dist/uPlot.min.css"),
        ("uPlot.LICENSE", "LICENSE"),
    ] {
        let read = |p: std::path::PathBuf| {
            std::fs::read(&p).unwrap_or_else(|e| {
                panic!("{}: {e} (cargo xtask test runs npm ci there)", p.display())
            })
        };
        assert!(
            read(vendored.join(ours)) == read(released.join(theirs)),
            "{ours} differs from the npm release's {theirs}"
        );
    }
}
