//! Who is enrolling: the `IdentityProvider` trait and the service's two kinds of identity proof,
//! told apart by their first bytes (docs/format.md, "Identity proofs"): an OpenID Connect ID
//! token (`OIDC:<jwt>`, [`oidc`]) from the authority's identity provider, and a one-time
//! enrolment code with the date of birth ([`code`]) for people registered in person.

pub mod code;
pub mod oidc;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use vaxpass::enrolment::OIDC_PROOF_PREFIX;
use vaxpass::DevicePublicKey;

pub use code::{CodeKey, RegistryCodes};
pub use oidc::{OidcConfig, OidcProvider};

use crate::store::{CitizenId, CodeHash, DeviceHash};

/// A confirmed identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identified {
    pub citizen: CitizenId,
    /// A one-time code the enrolment must consume in the same transaction that records it.
    pub one_time_code: Option<CodeHash>,
}

/// The enrolment an identity proof is checked for: its proof of possession is verified and its
/// nonce is one this service issued.
#[derive(Debug, Clone, Copy)]
pub struct Enrolling<'a> {
    pub nonce: &'a [u8],
    pub device_key: &'a DevicePublicKey,
    pub device: DeviceHash,
}

/// Why a proof was refused. Only metrics and the log see it: the client gets one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCause {
    /// Not a well-formed proof (or a kind of proof this service does not take).
    Malformed,
    /// No citizen has this code and date of birth (unknown code, or a wrong date of birth), or
    /// this OpenID Connect subject.
    NoMatch,
    /// The code was already used by another device.
    UsedByOtherDevice,
    /// The citizen has no passes to issue.
    NoPasses,
    /// The ID token's signature does not verify with the provider's published keys (or names a
    /// key or algorithm the provider does not publish).
    BadSignature,
    /// The ID token comes from another issuer.
    WrongIssuer,
    /// The ID token was issued to another client.
    WrongAudience,
    /// The ID token has expired.
    Expired,
    /// The ID token was issued in the future, or too long ago.
    NotFresh,
    /// The ID token's nonce belongs to another enrolment nonce or another device key.
    NonceMismatch,
    /// The ID token was already presented.
    Replayed,
}

impl RefusalCause {
    pub const ALL: [RefusalCause; 11] = [
        RefusalCause::Malformed,
        RefusalCause::NoMatch,
        RefusalCause::UsedByOtherDevice,
        RefusalCause::NoPasses,
        RefusalCause::BadSignature,
        RefusalCause::WrongIssuer,
        RefusalCause::WrongAudience,
        RefusalCause::Expired,
        RefusalCause::NotFresh,
        RefusalCause::NonceMismatch,
        RefusalCause::Replayed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCause::Malformed => "malformed",
            RefusalCause::NoMatch => "no_match",
            RefusalCause::UsedByOtherDevice => "used_by_other_device",
            RefusalCause::NoPasses => "no_passes",
            RefusalCause::BadSignature => "bad_signature",
            RefusalCause::WrongIssuer => "wrong_issuer",
            RefusalCause::WrongAudience => "wrong_audience",
            RefusalCause::Expired => "expired",
            RefusalCause::NotFresh => "not_fresh",
            RefusalCause::NonceMismatch => "nonce_mismatch",
            RefusalCause::Replayed => "replayed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("identity proof refused")]
    Refused(RefusalCause),
    /// The identity service could not be asked (down, slow, or answering nonsense): retrying
    /// later may help, so the client gets a 503, not the refusal's 401.
    #[error("identity service unavailable")]
    Unavailable,
}

impl From<RefusalCause> for IdentityError {
    fn from(cause: RefusalCause) -> Self {
        Self::Refused(cause)
    }
}

/// Confirms an identity proof (opaque bytes from the wallet) for one enrolment.
#[async_trait]
pub trait IdentityProvider: Send + Sync + fmt::Debug {
    async fn identify(
        &self,
        proof: &[u8],
        enrolling: &Enrolling<'_>,
    ) -> Result<Identified, IdentityError>;
}

/// The service's provider: ID tokens to OpenID Connect (when configured), the rest to the codes.
#[derive(Debug, Clone)]
pub struct Identities {
    pub codes: RegistryCodes,
    pub oidc: Option<Arc<OidcProvider>>,
}

#[async_trait]
impl IdentityProvider for Identities {
    async fn identify(
        &self,
        proof: &[u8],
        enrolling: &Enrolling<'_>,
    ) -> Result<Identified, IdentityError> {
        if proof.starts_with(OIDC_PROOF_PREFIX) {
            match &self.oidc {
                Some(oidc) => oidc.identify(proof, enrolling).await,
                None => Err(IdentityError::Refused(RefusalCause::Malformed)),
            }
        } else {
            self.codes.identify(proof, enrolling).await
        }
    }
}
