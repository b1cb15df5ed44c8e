//! The core's error type. Messages name what went wrong and never echo input, so an error can be
//! logged or shown without leaking a name, a birth date or QR text.

use crate::verdict::Reason;

/// Everything that can go wrong in the core, except a pass being judged not valid: that is a
/// [`Verdict`](crate::Verdict), returned as data.
///
/// Deliberately not `#[non_exhaustive]`: the bindings map each variant to what an app should do
/// (docs/bindings.md), and that match must stop compiling when a variant is added, so that a new
/// error is mapped on purpose rather than falling into a catch-all. Adding a variant is therefore
/// a breaking change of the core's Rust API, released as one (CHANGELOG.md).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not in the expected format. The text says which part and why, never what.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// Which structure (static text, never the input).
        what: &'static str,
        /// What is wrong with it (static text).
        why: &'static str,
    },
    /// The input is larger than the parser accepts.
    #[error("{what} is too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// Which input.
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The largest size accepted, in bytes.
        limit: usize,
    },
    /// A signature did not verify.
    #[error("bad signature on {0}")]
    BadSignature(&'static str),
    /// A signed list offered an older sequence number than the one already stored.
    #[error("rollback refused: stored sequence {stored}, offered {offered}")]
    Rollback {
        /// The sequence number of the list held.
        stored: u64,
        /// The sequence number of the list offered.
        offered: u64,
    },
    /// A signed list offered the stored sequence number with different content.
    #[error("equivocation refused: sequence {0} is already stored with different content")]
    Equivocation(u64),
    /// A signed list claims an issue time ahead of this device's clock.
    #[error("{0} is issued in the future")]
    FromTheFuture(&'static str),
    /// A credential was refused on import, with the same reason a verifier would give.
    #[error("credential refused: {0}")]
    Rejected(Reason),
    /// The enrolment request does not answer the nonce the issuer handed out.
    #[error("enrolment nonce does not match")]
    NonceMismatch,
    /// The caller asked for something that does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The caller passed a value outside what the SDK accepts.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The call is not possible in the current state (a wallet opened with the wrong kind of
    /// device key, an authority that already exists, no issuer key valid now): the arguments
    /// are fine, the order of calls or the setup is not.
    #[error("wrong state: {0}")]
    WrongState(&'static str),
    /// The app's key protector failed to wrap or unwrap the device key.
    #[error("key protection failed: {0}")]
    KeyProtection(String),
    /// The app's device signer failed.
    #[error("device signer failed: {0}")]
    Signer(String),
    /// The database failed. SQLite messages name tables and constraints, not stored values.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The database was written by a newer version of the SDK.
    #[error("database schema version {found} is newer than this SDK supports ({supported})")]
    SchemaTooNew {
        /// The schema version of the file (`PRAGMA user_version`).
        found: i64,
        /// The newest schema version this SDK knows.
        supported: i64,
    },
    /// A rules list is written in a version of the rules format newer than this SDK understands:
    /// nothing of it was read, and the app must be updated to follow it.
    #[error("rules list version {found} is newer than this SDK understands ({supported}): update the app")]
    RulesTooNew {
        /// The version the list is written in.
        found: u64,
        /// The newest version this SDK understands.
        supported: u64,
    },
    /// A file could not be read or written.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A server answered a list request with a status the SDK does not handle.
    #[error("unexpected HTTP status {0}")]
    UnexpectedStatus(u16),
    /// The wallet will not sign for this time: the device clock is ahead of the last time it can
    /// trust by more than the tolerance, or it has seen no trusted time yet (docs/architecture.md).
    #[error("the device clock is not trusted: {0}")]
    ClockNotTrusted(&'static str),
    /// Something that should not happen: a bug in the SDK, or an app callback (key protector,
    /// device signer, clock) that failed in a way it does not declare.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A QR code could not be produced (the text is too long for any version).
    #[error("QR encoding failed: {0}")]
    Qr(&'static str),
}

impl Error {
    pub(crate) fn malformed(what: &'static str, why: &'static str) -> Self {
        Self::Malformed { what, why }
    }
}

/// Shorthand used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
