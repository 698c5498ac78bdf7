//! The cap on distinct label values: an `authority` (or `endpoint`) label takes whatever the
//! traffic brings, so a scan with 10 000 `Host` headers would make 10 000 series. The first
//! `max` distinct values seen by a VM keep their own value; later new ones become
//! [`OVERFLOW`]. Per VM (per worker) so there is no lock: the host-wide series count is at most
//! workers × (`max` + 1), and in practice the same popular values are seen first everywhere.

use std::collections::HashSet;

/// The label value standing for every value beyond the cap.
pub const OVERFLOW: &str = "overflow";

/// The distinct values one label has been given.
#[derive(Debug, Clone)]
pub struct LabelCap {
    max: usize,
    seen: HashSet<String>,
}

impl LabelCap {
    /// A cap of `max` distinct values.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            seen: HashSet::new(),
        }
    }

    /// The value to use as the label for `value`: itself if already seen or while under the
    /// cap (remembered then), else [`OVERFLOW`].
    pub fn admit<'a>(&mut self, value: &'a str) -> &'a str {
        if self.seen.contains(value) {
            return value;
        }
        if self.seen.len() < self.max {
            self.seen.insert(value.to_string());
            return value;
        }
        OVERFLOW
    }

    /// How many distinct values have their own series.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no value has been admitted yet.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests;
