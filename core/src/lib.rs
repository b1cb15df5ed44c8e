//! # vaxpass
//!
//! An offline-first vaccination pass. After one online enrolment a phone shows a fresh, signed QR
//! code with no network, and a shop's phone verifies it with no network.
//!
//! The roles, each a type over its own SQLite file:
//! - [`Authority`] signs credentials with issuer keys, and the trust, revocation and rules lists
//!   with its root key, through a [`KeyVault`] ([`KeyFile`] by default); `LocalAuthority` (feature
//!   `testing`, for demos and tests) keeps its state in one file.
//! - [`Wallet`] holds the citizen's device key and credentials and shows rotating QR codes.
//! - [`Verifier`] keeps the lists a shop last synced and returns a [`Verdict`] for each scan,
//!   judged by the rules list in force under the shop's venue mode.
//!
//! The wire format is described byte by byte in `docs/format.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod base45;
mod cbor;
pub mod check_log;
mod cose;
pub mod credential;
pub mod enrolment;
pub mod enrolment_code;
mod error;
pub mod inspect;
pub mod issuer;
mod key_file;
pub mod keys;
mod korean_ime;
pub mod lists;
#[cfg(any(test, feature = "testing"))]
mod local_authority;
pub mod model;
pub mod pass_status;
pub mod policy;
pub mod presentation;
pub mod qr;
pub mod qr_text;
pub mod report;
pub mod rules;
mod seen;
mod store;
pub mod sync;
pub mod trusted_time;
pub mod vault;
pub mod verdict;
pub mod verifier;
pub mod wallet;
pub mod words;

pub use check_log::{ChainHead, Counters, LogEntry, LogStatus, Tally};
pub use credential::{Claims, Credential, CredentialId};
pub use enrolment::EnrolmentRequest;
pub use error::{Error, Result};
pub use issuer::{Authority, IssueRequest, Issued, SigningKey};
pub use key_file::KeyFile;
pub use keys::{
    DevicePublicKey, DeviceSigner, Ed25519KeyPair, SoftwareEd25519Signer, SoftwareP256Signer,
};
pub use lists::{IssuerKey, ListInfo, ListKind, RevocationList, TrustList};
#[cfg(any(test, feature = "testing"))]
pub use local_authority::LocalAuthority;
pub use model::{
    Event, PassData, PassKind, Person, Product, Recovery, TestOutcome, TestResult, TestType,
    Vaccination,
};
pub use pass_status::PassStatus;
pub use policy::{Policy, VaccinationRule};
pub use presentation::Presentation;
pub use qr::{Bitmap, EcLevel, Qr};
pub use qr_text::Scanned;
pub use report::{verify_report, Anchor, AnchorCheck, HourCount, ReportProof, ReportRefused};
pub use rules::{EventKind, ModeRule, Requirement, RuleSet, RulesList, VenueMode};
pub use sync::{Applied, Backoff, Fetched, HttpResponse};
pub use trusted_time::MonotonicClock;
pub use vault::KeyVault;
pub use verdict::{Holder, PolicyRule, Reason, RulesUsed, Verdict, Warning};
pub use verifier::{Freshness, FreshnessState, Verifier, VerifierConfig};
pub use wallet::{DeviceKeySource, KeyProtector, PassSummary, Shown, Unprotected, Wallet};
pub use words::{Cue, Language, Outcome};
