//! The one public error. Every core error converts here, in one place; messages come from the
//! core and carry no personal data.

use crate::types::Reason;

/// Why a call failed. A pass that is *not valid* is not an error: it is a [`crate::Verdict`].
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum VaxpassError {
    /// Input not in the expected format (garbage bytes, an unknown QR text, a bad date string).
    #[error("{message}")]
    Malformed { message: String },
    #[error("{message}")]
    TooLarge { message: String },
    #[error("{message}")]
    BadSignature { message: String },
    /// A signed list older than the stored one.
    #[error("rollback refused: stored sequence {stored}, offered {offered}")]
    Rollback { stored: u64, offered: u64 },
    /// A signed list with the stored sequence but other content.
    #[error("equivocation refused at sequence {sequence}")]
    Equivocation { sequence: u64 },
    #[error("{message}")]
    FromTheFuture { message: String },
    /// A credential refused on import, with the reason a verifier would give.
    #[error("credential refused: {reason:?}")]
    Rejected { reason: Reason },
    #[error("enrolment nonce does not match")]
    NonceMismatch,
    #[error("{message}")]
    NotFound { message: String },
    #[error("{message}")]
    InvalidArgument { message: String },
    /// The app's key protector failed (foreign implementations return this too).
    #[error("{message}")]
    KeyProtection { message: String },
    /// The app's device signer failed (foreign implementations return this too).
    #[error("{message}")]
    Signer { message: String },
    #[error("{message}")]
    Storage { message: String },
    /// Something unexpected, e.g. a foreign callback threw an exception of another type.
    #[error("{message}")]
    Internal { message: String },
}

impl From<vaxpass::Error> for VaxpassError {
    fn from(error: vaxpass::Error) -> Self {
        use vaxpass::Error as E;
        let message = error.to_string();
        match error {
            E::Malformed { .. } => Self::Malformed { message },
            E::TooLarge { .. } => Self::TooLarge { message },
            E::BadSignature(_) => Self::BadSignature { message },
            E::Rollback { stored, offered } => Self::Rollback { stored, offered },
            E::Equivocation(sequence) => Self::Equivocation { sequence },
            E::FromTheFuture(_) => Self::FromTheFuture { message },
            E::Rejected(reason) => Self::Rejected { reason },
            E::NonceMismatch => Self::NonceMismatch,
            E::NotFound(_) => Self::NotFound { message },
            E::InvalidArgument(_) => Self::InvalidArgument { message },
            E::KeyProtection(_) => Self::KeyProtection { message },
            E::Signer(_) => Self::Signer { message },
            E::Storage(_) | E::SchemaTooNew { .. } | E::Io(_) => Self::Storage { message },
            E::Qr(_) => Self::InvalidArgument { message },
            _ => Self::Internal { message },
        }
    }
}

/// A foreign callback threw something other than a `VaxpassError`. Its text is dropped: an app's
/// exception may carry anything, and this message may end up in logs.
impl From<uniffi::UnexpectedUniFFICallbackError> for VaxpassError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Internal {
            message: "an app callback threw an unexpected exception".into(),
        }
    }
}
