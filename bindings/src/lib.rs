//! # vaxpass-ffi
//!
//! The uniffi face of the vaxpass core, for Kotlin (Android, JVM backends), Swift (iOS) and
//! Python. It holds no logic: each exported object wraps a core type and delegates to it; each
//! function converts arguments (times, dates, bytes) and results, and core errors become the one
//! public [`VaxpassError`] in [`error`].
#![forbid(unsafe_code)]
// Records exist to cross the FFI; Rust callers use the core types, which have (redacted) Debug.
#![allow(missing_debug_implementations)]

uniffi::setup_scaffolding!("vaxpass");

#[cfg(feature = "test-helpers")]
mod authority;
mod check_log;
mod convert;
mod error;
mod keys;
mod qr;
mod sync;
mod time_span;
mod types;
mod verifier;
mod wallet;
mod words;

#[cfg(feature = "test-helpers")]
pub use authority::{Authority, TestMode, TestRuleSet};
pub use check_log::{
    verify_report, AnchorCheck, ChainHead, CodeCount, Counters, HourCount, LogStatus, ReportCheck,
    ReportProof, ReportRefused, Tally,
};
pub use error::VaxpassError;
pub use keys::{software_p256_signer, DeviceSigner, KeyProtector, MonotonicClock};
pub use qr::{Qr, QrBitmap, Shown};
pub use sync::{anchor_path, list_path, next_refresh, Backoff, Fetched, HttpResponse, ListKind};
pub use time_span::TimeSpan;
pub use types::*;
pub use verifier::{TrustList, Verifier};
pub use wallet::Wallet;
pub use words::{cue_code, reason_text, verdict_cue, verdict_text, warning_text, Cue, Language};

/// A fresh 32-byte server nonce for an enrolment.
#[uniffi::export]
pub fn new_nonce() -> Vec<u8> {
    vaxpass::enrolment::new_nonce().to_vec()
}

/// The identity proof carrying an OpenID Connect ID token, for `Wallet::enrolment_request`.
#[uniffi::export]
pub fn oidc_identity_proof(id_token: String) -> Vec<u8> {
    vaxpass::enrolment::oidc_identity_proof(&id_token)
}

/// Panics inside Rust on purpose, so the tests can check that a Rust panic reaches the app as an
/// ordinary exception (`InternalException` in Kotlin, a thrown error in Swift and Python) rather
/// than aborting the process. Test helper: not in the shipped library.
#[cfg(feature = "test-helpers")]
#[uniffi::export]
#[allow(clippy::panic)] // the whole point
pub fn panic_for_crash_reporting_test() -> Result<(), VaxpassError> {
    panic!("vaxpass: deliberate panic for a crash-reporting test")
}

/// The stable machine-readable code of a reason, e.g. `presentation_too_old`.
#[uniffi::export]
pub fn reason_code(reason: Reason) -> String {
    reason.code().to_owned()
}

/// The stable machine-readable code of a warning, e.g. `lists_aging`.
#[uniffi::export]
pub fn warning_code(warning: Warning) -> String {
    warning.code().to_owned()
}
