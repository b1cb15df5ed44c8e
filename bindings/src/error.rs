//! The one public error. Every core error converts here, in one place; messages come from the
//! core and carry no personal data.

use crate::convert::sequence;
use crate::types::Reason;

/// Why a call failed. A pass that is *not valid* is not an error: it is a [`crate::Verdict`].
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum VaxpassError {
    /// Input not in the expected format (garbage bytes, an unknown QR text, a bad date string).
    #[error("{detail}")]
    Malformed { detail: String },
    /// Input larger than the SDK accepts; nothing was parsed.
    #[error("{detail}")]
    TooLarge { detail: String },
    /// A signature did not verify (a list not signed by the pinned root key, a bad proof).
    #[error("{detail}")]
    BadSignature { detail: String },
    /// A signed list older than the stored one.
    #[error("rollback refused: stored sequence {stored}, offered {offered}")]
    Rollback { stored: i64, offered: i64 },
    /// A signed list with the stored sequence but other content.
    #[error("equivocation refused at sequence {sequence}")]
    Equivocation { sequence: i64 },
    /// A signed list issued ahead of this device's clock: check the clock.
    #[error("{detail}")]
    FromTheFuture { detail: String },
    /// A credential refused on import, with the reason a verifier would give.
    #[error("credential refused: {reason:?}")]
    Rejected { reason: Reason },
    /// The enrolment request does not answer the nonce the issuer handed out.
    #[error("enrolment nonce does not match")]
    NonceMismatch,
    /// Something asked for does not exist (e.g. no pass with that id in the wallet).
    #[error("{detail}")]
    NotFound { detail: String },
    /// An argument outside what the SDK accepts (a key of the wrong length, a time out of range).
    #[error("{detail}")]
    InvalidArgument { detail: String },
    /// The app's key protector failed (foreign implementations return this too).
    #[error("{detail}")]
    KeyProtection { detail: String },
    /// The app's device signer failed (foreign implementations return this too).
    #[error("{detail}")]
    Signer { detail: String },
    /// The database failed (disk full, a damaged or locked file).
    #[error("{detail}")]
    Storage { detail: String },
    /// The wallet will not sign at this time: the device clock is ahead of the last trusted
    /// time, or none was seen yet. Going online (an import, `observe_trusted_time`) fixes it.
    #[error("{detail}")]
    ClockNotTrusted { detail: String },
    /// Something unexpected, e.g. a foreign callback threw an exception of another type.
    #[error("{detail}")]
    Internal { detail: String },
}

impl From<vaxpass::Error> for VaxpassError {
    fn from(error: vaxpass::Error) -> Self {
        use vaxpass::Error as E;
        let message = error.to_string();
        match error {
            E::Malformed { .. } => Self::Malformed { detail: message },
            E::TooLarge { .. } => Self::TooLarge { detail: message },
            E::BadSignature(_) => Self::BadSignature { detail: message },
            E::Rollback { stored, offered } => Self::Rollback {
                stored: sequence(stored),
                offered: sequence(offered),
            },
            E::Equivocation(s) => Self::Equivocation {
                sequence: sequence(s),
            },
            E::FromTheFuture(_) => Self::FromTheFuture { detail: message },
            E::Rejected(reason) => Self::Rejected { reason },
            E::NonceMismatch => Self::NonceMismatch,
            E::NotFound(_) => Self::NotFound { detail: message },
            E::InvalidArgument(_) => Self::InvalidArgument { detail: message },
            E::KeyProtection(_) => Self::KeyProtection { detail: message },
            E::Signer(_) => Self::Signer { detail: message },
            E::Storage(_) | E::SchemaTooNew { .. } | E::Io(_) => Self::Storage { detail: message },
            E::Qr(_) => Self::InvalidArgument { detail: message },
            E::ClockNotTrusted(_) => Self::ClockNotTrusted { detail: message },
            _ => Self::Internal { detail: message },
        }
    }
}

/// A foreign callback threw something other than a `VaxpassError`. Its text is dropped: an app's
/// exception may carry anything, and this message may end up in logs.
impl From<uniffi::UnexpectedUniFFICallbackError> for VaxpassError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Internal {
            detail: "an app callback threw an unexpected exception".into(),
        }
    }
}
