//! What the browser test drives (`tests/browser/`): Debian's Chromium, Node.js and npm, and the
//! npm packages `tests/browser/package-lock.json` pins (playwright-core, which drives the
//! system Chromium instead of downloading its own, and uplot, which the test compares with the
//! copy the admin embeds).

use std::process::Command;

use anyhow::Context;

use crate::cmd::{root, run};

/// (command, Debian package).
const TOOLS: &[(&str, &str)] = &[("chromium", "chromium"), ("node", "nodejs"), ("npm", "npm")];

/// Installs what is missing, then the npm packages exactly as locked (`npm ci`, about a second
/// when the npm cache has them).
pub fn install() -> anyhow::Result<()> {
    crate::tools::install(TOOLS)?;
    let dir = root().join("tests").join("browser");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir))
    .with_context(|| format!("npm ci in {} (needs the npm registry)", dir.display()))
}
