//! Who is enrolling: the `IdentityProvider` trait (a real deployment plugs in the national
//! identity service) and the example's registry-backed provider, where the identity proof is a
//! one-time enrolment code, as an identity service would confirm by SMS, stored only as a salted
//! SHA-256.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::store::{CitizenId, CodeHash, DeviceHash, Store};

/// A confirmed identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identified {
    pub citizen: CitizenId,
    /// A one-time code the enrolment must consume in the same transaction that records it.
    pub one_time_code: Option<CodeHash>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("identity proof refused")]
    Refused,
    #[error("no such citizen")]
    UnknownCitizen,
    #[error("enrolment code already used")]
    CodeAlreadyUsed,
    #[error("identity service unavailable")]
    Unavailable,
}

/// Confirms an identity proof (opaque bytes from the wallet) for the device `device`.
#[async_trait]
pub trait IdentityProvider: Send + Sync + fmt::Debug {
    async fn identify(&self, proof: &[u8], device: DeviceHash)
        -> Result<Identified, IdentityError>;
}

/// The example provider: the proof is a one-time enrolment code from the registry. A code used by
/// one device is refused to any other; the same device may enrol again with it (a retry after a
/// lost answer, or a crash between commit and reply).
#[derive(Debug, Clone)]
pub struct RegistryCodes {
    store: Arc<dyn Store>,
    salt: [u8; 32],
}

impl RegistryCodes {
    pub fn new(store: Arc<dyn Store>) -> Self {
        let salt = store.code_salt();
        Self { store, salt }
    }
}

#[async_trait]
impl IdentityProvider for RegistryCodes {
    async fn identify(
        &self,
        proof: &[u8],
        device: DeviceHash,
    ) -> Result<Identified, IdentityError> {
        let code = std::str::from_utf8(proof).map_err(|_| IdentityError::Refused)?;
        let hash = hash_code(&self.salt, code).ok_or(IdentityError::Refused)?;
        let status = self
            .store
            .code_status(&hash)
            .await
            .map_err(|_| IdentityError::Unavailable)?
            .ok_or(IdentityError::Refused)?;
        match status.used_by {
            Some(other) if other != device => Err(IdentityError::CodeAlreadyUsed),
            _ => Ok(Identified {
                citizen: status.citizen,
                one_time_code: Some(hash),
            }),
        }
    }
}

/// Normalises a code as people type it: spaces dropped, letters upper-cased. `None` unless it is 4
/// to 64 letters, digits and dashes.
pub fn normalize_code(code: &str) -> Option<String> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = (4..=64).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(code)
}

/// The stored form of a code: SHA-256 over a domain string, the deployment's salt and the
/// normalised code.
pub fn hash_code(salt: &[u8; 32], code: &str) -> Option<CodeHash> {
    let code = normalize_code(code)?;
    Some(CodeHash(
        Sha256::new()
            .chain_update(b"vaxpass enrolment code v1\0")
            .chain_update(salt)
            .chain_update(code.as_bytes())
            .finalize()
            .into(),
    ))
}

/// A fresh code like `KR-483920-1137` (33 bits of randomness: one-time and confirmed by the
/// identity service, not a long-term secret).
pub fn generate_code() -> String {
    let n = OsRng.next_u64();
    format!("KR-{:06}-{:04}", n % 1_000_000, (n / 1_000_000) % 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalise_and_hash_with_the_salt() {
        assert_eq!(
            normalize_code(" kr-483920-1137 ").as_deref(),
            Some("KR-483920-1137")
        );
        assert_eq!(normalize_code("KR"), None);
        assert_eq!(normalize_code("KR-48_3920"), None);
        let a = hash_code(&[1; 32], "KR-483920-1137");
        assert_eq!(a, hash_code(&[1; 32], "kr-483920-1137"));
        assert_ne!(a, hash_code(&[2; 32], "KR-483920-1137"));
        assert!(normalize_code(&generate_code()).is_some());
    }
}
