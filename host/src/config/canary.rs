//! `plugins[].canary`: a second version of a plugin (another module, configuration or VM
//! configuration) that gets a share of streams, and when it is rolled back by itself. What it
//! turns into at run time is a [`wasmesh_host::rollout::Rollout`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use wasmesh_host::rollout::{RollbackPolicy, RolloutPolicy, Sticky};

/// A plugin's canary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryConfig {
    /// The canary's module (default: the plugin's): a file, `http(s)://` or `oci://`.
    #[serde(default)]
    pub wasm: Option<PathBuf>,
    /// The canary's module's sha256, as `plugins[].sha256` for the plugin's.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Its `proxy_on_configure` bytes (default: the plugin's).
    #[serde(default)]
    pub configuration: Option<serde_json::Value>,
    /// Its `proxy_on_vm_start` bytes (default: the plugin's).
    #[serde(default)]
    pub vm_config: Option<serde_json::Value>,
    /// What its failure after the request headers passed it does (default: the plugin's).
    #[serde(default)]
    pub fail_open: Option<bool>,
    /// Share of streams the canary gets, 0..=100 percent.
    pub share_percent: u8,
    /// What keeps a client on one version: `"connection"` (default) or `{"header": "x-user"}`.
    #[serde(default)]
    pub sticky: StickyConfig,
    /// Only watch: the canary runs on a copy of the request headers of its share of streams and
    /// sees their outcome in `on_log`, but the stable version serves every stream.
    #[serde(default)]
    pub shadow: bool,
    /// When it is rolled back by itself.
    #[serde(default)]
    pub rollback: RollbackConfig,
}

/// `canary.sticky`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StickyConfig {
    /// Every stream of a connection gets the same version.
    #[default]
    Connection,
    /// Streams with the same value of this request header get the same version.
    Header(String),
}

/// `canary.rollback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackConfig {
    /// Canary VM failures within the window that roll it back.
    #[serde(default = "RollbackConfig::default_vm_failures")]
    pub vm_failures: u64,
    /// Share of canary streams the canary itself answers with a 5xx, in percent, that rolls it
    /// back (off when absent).
    #[serde(default)]
    pub local_5xx_percent: Option<u8>,
    /// Canary streams the window must hold before `local_5xx_percent` counts.
    #[serde(default = "RollbackConfig::default_min_streams")]
    pub min_streams: u64,
    /// The window.
    #[serde(default = "RollbackConfig::default_window_ms")]
    pub window_ms: u64,
}

impl RollbackConfig {
    fn default_vm_failures() -> u64 {
        3
    }
    fn default_min_streams() -> u64 {
        20
    }
    fn default_window_ms() -> u64 {
        30_000
    }
}

impl Default for RollbackConfig {
    fn default() -> Self {
        RollbackConfig {
            vm_failures: Self::default_vm_failures(),
            local_5xx_percent: None,
            min_streams: Self::default_min_streams(),
            window_ms: Self::default_window_ms(),
        }
    }
}

impl CanaryConfig {
    /// Checks the values serde cannot; `at` is the canary's field path.
    pub fn validate(&self, at: &str) -> Result<()> {
        if self.wasm.is_none() && self.configuration.is_none() && self.vm_config.is_none() {
            bail!("config error at `{at}`: a canary changes `wasm`, `configuration` or `vm_config`; it has none of them");
        }
        if self.share_percent > 100 {
            bail!("config error at `{at}.share_percent`: must be 0..=100");
        }
        if let StickyConfig::Header(name) = &self.sticky {
            if name.is_empty() {
                bail!("config error at `{at}.sticky.header`: must not be empty");
            }
        }
        let rollback = &self.rollback;
        if rollback.vm_failures == 0 {
            bail!("config error at `{at}.rollback.vm_failures`: must be > 0");
        }
        if rollback.window_ms == 0 {
            bail!("config error at `{at}.rollback.window_ms`: must be > 0");
        }
        if matches!(rollback.local_5xx_percent, Some(0) | Some(101..)) {
            bail!("config error at `{at}.rollback.local_5xx_percent`: must be 1..=100");
        }
        Ok(())
    }

    /// The rollout this canary runs under.
    pub fn policy(&self) -> RolloutPolicy {
        RolloutPolicy {
            share_percent: self.share_percent,
            sticky: match &self.sticky {
                StickyConfig::Connection => Sticky::Connection,
                StickyConfig::Header(name) => Sticky::Header(name.to_ascii_lowercase()),
            },
            shadow: self.shadow,
            rollback: RollbackPolicy {
                vm_failures: self.rollback.vm_failures,
                local_5xx_percent: self.rollback.local_5xx_percent,
                min_streams: self.rollback.min_streams,
                window: Duration::from_millis(self.rollback.window_ms),
            },
        }
    }
}
