//! The registry's one-time enrolment codes, for people registered in person. The identity proof
//! is the citizen's code together with their date of birth ([`vaxpass::enrolment_code`]); the
//! registry keeps only an HMAC-SHA256 of both under the code key, a secret kept beside the
//! authority's key file and never in the store, so a copy of the store alone gives back no code.
//! The same key hashes the OpenID Connect subjects the registry maps to citizens.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use vaxpass::enrolment_code::{parse_identity_proof, EnrolmentCode};

use super::{Enrolling, Identified, IdentityError, IdentityProvider, RefusalCause};
use crate::store::{CodeHash, Store, SubjectHash};

/// The key of the registry's code hashes. `Debug` does not show it.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

impl CodeKey {
    /// Where the code key of a key file lives: beside it, `NAME.code-key`.
    pub fn path_beside(key_file: &Path) -> PathBuf {
        key_file.with_extension("code-key")
    }

    /// Loads the code key beside `key_file`, creating it (owner-only) if `create` and missing.
    pub fn open_beside(key_file: &Path, create: bool) -> Result<Self, String> {
        let path = Self::path_beside(key_file);
        match std::fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .map(Self)
                .ok_or_else(|| format!("{} is not a code key (64 hex digits)", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(&path)
                    .map_err(|e| format!("creating {}: {e}", path.display()))?;
                file.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
                Ok(Self(key))
            }
            Err(e) => Err(format!(
                "reading the code key {}: {e} (run `vaxpass-issuer init` first)",
                path.display()
            )),
        }
    }

    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// The stored form of a code: HMAC-SHA256 under this key over a domain string, the code's
    /// canonical symbols and the date of birth. A wrong date of birth is simply another hash.
    pub fn hash(&self, code: &EnrolmentCode, date_of_birth: NaiveDate) -> CodeHash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"vaxpass enrolment code v2\0");
        mac.update(code.canonical().as_bytes());
        mac.update(date_of_birth.format("%Y-%m-%d").to_string().as_bytes());
        CodeHash(mac.finalize().into_bytes().into())
    }

    /// The stored form of an OpenID Connect subject (the configured claim's value): HMAC-SHA256
    /// under this key over a domain string and the value, so the store holds no identifier.
    pub fn hash_subject(&self, subject: &str) -> SubjectHash {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"vaxpass oidc subject v1\0");
        mac.update(subject.as_bytes());
        SubjectHash(mac.finalize().into_bytes().into())
    }
}

/// The example provider: the proof is a one-time enrolment code with the date of birth. A code
/// used by one device is refused to any other; the same device may enrol again with it (a retry
/// after a lost answer, or a crash between commit and reply).
#[derive(Debug, Clone)]
pub struct RegistryCodes {
    store: Arc<dyn Store>,
    key: CodeKey,
}

impl RegistryCodes {
    pub fn new(store: Arc<dyn Store>, key: CodeKey) -> Self {
        Self { store, key }
    }
}

#[async_trait]
impl IdentityProvider for RegistryCodes {
    async fn identify(
        &self,
        proof: &[u8],
        enrolling: &Enrolling<'_>,
    ) -> Result<Identified, IdentityError> {
        let device = enrolling.device;
        // Every proof costs the same: one HMAC and one indexed lookup, whatever is wrong with it.
        let parsed = parse_identity_proof(proof);
        let (code, born) = parsed.clone().unwrap_or_else(placeholder);
        let hash = self.key.hash(&code, born);
        let status = self
            .store
            .code_status(&hash)
            .await
            .map_err(|_| IdentityError::Unavailable)?;
        let refused = |cause| Err(IdentityError::Refused(cause));
        match (parsed, status) {
            (None, _) => refused(RefusalCause::Malformed),
            (Some(_), None) => refused(RefusalCause::NoMatch),
            (Some(_), Some(status)) if status.used_by.is_some_and(|d| d != device) => {
                refused(RefusalCause::UsedByOtherDevice)
            }
            (Some(_), Some(status)) => Ok(Identified {
                citizen: status.citizen,
                one_time_code: Some(hash),
            }),
        }
    }
}

/// What a malformed proof is hashed as, so that it takes as long as a well-formed one.
fn placeholder() -> (EnrolmentCode, NaiveDate) {
    (
        EnrolmentCode::generate(),
        NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_hashes_depend_on_the_key_the_code_and_the_birth_date() {
        let code = EnrolmentCode::generate();
        let born = NaiveDate::from_ymd_opt(1985, 3, 14).unwrap();
        let key = CodeKey::from_bytes([1; 32]);
        let a = key.hash(&code, born);
        assert_eq!(a, key.hash(&code, born));
        assert_ne!(a, CodeKey::from_bytes([2; 32]).hash(&code, born));
        assert_ne!(a, key.hash(&code, born.succ_opt().unwrap()));
        assert_ne!(a, key.hash(&EnrolmentCode::generate(), born));
        assert_eq!(format!("{key:?}"), "CodeKey(..)");
        assert_ne!(key.hash_subject("alice").0, key.hash_subject("alice ").0);
        assert_ne!(
            key.hash_subject("alice").0,
            CodeKey::from_bytes([2; 32]).hash_subject("alice").0
        );
    }

    #[test]
    fn the_code_key_is_created_once_beside_the_key_file_and_only_by_init() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("authority.sqlite");
        assert!(CodeKey::open_beside(&key_file, false).is_err());
        let created = CodeKey::open_beside(&key_file, true).unwrap();
        let loaded = CodeKey::open_beside(&key_file, false).unwrap();
        assert_eq!(created.0, loaded.0);
        assert!(CodeKey::path_beside(&key_file).ends_with("authority.code-key"));
    }
}
