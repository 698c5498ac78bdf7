//! The cap on distinct label values: an `authority` (or `endpoint`) label takes whatever the
//! traffic brings, so a scan with 10 000 `Host` headers would make 10 000 series. The first
//! `max` distinct values seen by a VM keep their own value; later new ones become
//! [`OVERFLOW`]. Per VM (per worker) so there is no lock: the host-wide series count is at most
//! workers × (`max` + 1), and in practice the same popular values are seen first everywhere.

use std::collections::HashMap;

/// The label value standing for every value beyond the cap.
pub const OVERFLOW: &str = "overflow";

/// A value's id in its [`LabelCap`]: small and `Copy`, so the filter's per-request caches key
/// on it instead of on the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LabelId(u32);

impl LabelId {
    /// Every value beyond the cap.
    pub const OVERFLOW: LabelId = LabelId(u32::MAX);
}

/// The distinct values one label has been given.
#[derive(Debug, Clone)]
pub struct LabelCap {
    max: usize,
    ids: HashMap<String, LabelId>,
    values: Vec<String>,
}

impl LabelCap {
    /// A cap of `max` distinct values.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            ids: HashMap::new(),
            values: Vec::new(),
        }
    }

    /// The label for `value`: its own if already seen or while under the cap (remembered
    /// then), else [`LabelId::OVERFLOW`]. Only a newly admitted value is copied.
    pub fn admit(&mut self, value: &str) -> LabelId {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        if self.values.len() >= self.max {
            return LabelId::OVERFLOW;
        }
        let Ok(index) = u32::try_from(self.values.len()) else {
            return LabelId::OVERFLOW;
        };
        let id = LabelId(index);
        self.ids.insert(value.to_string(), id);
        self.values.push(value.to_string());
        id
    }

    /// The label value `id` stands for ([`OVERFLOW`] for [`LabelId::OVERFLOW`]).
    pub fn value(&self, id: LabelId) -> &str {
        usize::try_from(id.0)
            .ok()
            .and_then(|i| self.values.get(i))
            .map_or(OVERFLOW, String::as_str)
    }

    /// How many distinct values have their own series.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value has been admitted yet.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests;
