//! Turning a plugin's JSON configuration into typed values, with errors that name the field.
//!
//! Both hosts hand the filter its configuration as raw bytes; a typo must be reported as
//! `request.add.x-foo: invalid header value`, not as "configuration failed", so every error
//! carries the JSON path of the offending field.

use std::fmt;

use serde::de::DeserializeOwned;

/// The path shown for errors about the document as a whole (e.g. a missing required field).
pub const ROOT_PATH: &str = "(root)";

/// A configuration error: which field (`path`, dotted, with `[i]` for list items) and what is
/// wrong with it. Displays as `path: message`, the form filters log before refusing to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    path: String,
    message: String,
}

impl ConfigError {
    /// An error about the field at `path` (use [`ROOT_PATH`] for the whole document).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        let path = path.into();
        let path = if path.is_empty() || path == "." {
            ROOT_PATH.to_string()
        } else {
            path
        };
        Self {
            path,
            message: message.into(),
        }
    }

    /// The dotted path of the field, e.g. `request.add.x-foo`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Deserializes `bytes` as JSON into `T`; an error names the field path where it happened.
///
/// Trailing bytes after the JSON value are an error too, so a half-pasted second document is
/// not silently ignored.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ConfigError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        ConfigError::new(path, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| ConfigError::new(ROOT_PATH, e.to_string()))?;
    Ok(value)
}

/// Joins a parent path and a child segment: `join("request.add", "x-a")` is `request.add.x-a`.
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

#[cfg(test)]
mod tests;
