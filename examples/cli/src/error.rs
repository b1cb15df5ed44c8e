//! The tool's error: one line of text for stderr. Every error exits with code 2.

use std::fmt;
use std::path::Path;

/// An error to report as `vaxpass: error: ...`.
#[derive(Debug)]
pub struct Error(String);

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// An error about a file, naming it.
    pub fn file(path: &Path, what: impl fmt::Display) -> Self {
        Self(format!("{}: {what}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keep it to one line whatever the source said.
        f.write_str(&self.0.replace(['\r', '\n'], " "))
    }
}

impl From<vaxpass::Error> for Error {
    fn from(error: vaxpass::Error) -> Self {
        Self(error.to_string())
    }
}

impl From<vaxpass_issuer::ops::OpsError> for Error {
    fn from(error: vaxpass_issuer::ops::OpsError) -> Self {
        Self(error.to_string())
    }
}

impl From<vaxpass_issuer::store::StoreError> for Error {
    fn from(error: vaxpass_issuer::store::StoreError) -> Self {
        Self(error.to_string())
    }
}
