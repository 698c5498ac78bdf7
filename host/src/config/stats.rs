//! `stats`: how the metric registry shapes what filters define. Today only histogram buckets,
//! mirroring Envoy's `stats_config.histogram_bucket_settings` so one filter's histogram is
//! bucketed the same in both hosts (e.g. Linkerd's latency buckets for `response_latency_ms`).

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use wasmesh_host::state::metrics::BucketRule;

/// The `stats` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsConfig {
    /// First matching rule wins; histograms no rule matches get Envoy's default buckets.
    #[serde(default)]
    pub histogram_buckets: Vec<HistogramBuckets>,
}

/// Buckets for the histograms whose name (as the filter defines it) starts with `prefix`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistogramBuckets {
    /// Name prefix, e.g. `response_latency_ms`.
    pub prefix: String,
    /// Upper bounds, strictly increasing and finite.
    pub buckets: Vec<f64>,
}

impl StatsConfig {
    /// Rejects empty prefixes and bucket lists that are empty, unordered or not finite.
    pub fn validate(&self) -> Result<()> {
        for (i, rule) in self.histogram_buckets.iter().enumerate() {
            let at = format!("stats.histogram_buckets[{i}]");
            if rule.prefix.is_empty() {
                bail!("config error at `{at}.prefix`: must not be empty");
            }
            if rule.buckets.is_empty() {
                bail!("config error at `{at}.buckets`: needs at least one bound");
            }
            if rule.buckets.iter().any(|b| !b.is_finite()) {
                bail!("config error at `{at}.buckets`: bounds must be finite numbers");
            }
            if rule.buckets.windows(2).any(|w| w[0] >= w[1]) {
                bail!("config error at `{at}.buckets`: bounds must be strictly increasing");
            }
        }
        Ok(())
    }

    /// The registry's form of the rules.
    pub fn bucket_rules(&self) -> Vec<BucketRule> {
        self.histogram_buckets
            .iter()
            .map(|rule| BucketRule {
                prefix: rule.prefix.clone(),
                bounds: rule.buckets.clone(),
            })
            .collect()
    }
}
