//! The authority's signer: an issuer name, the root public key verifiers pin, and the vault that
//! holds the private keys. It signs credentials with the issuer key its caller names (returning
//! that key's id with each credential) and signs the lists whose content its caller gives. It
//! keeps no state: which key is active, list sequence numbers, the audit log and revocations are
//! the store of record's (the issuer service's store, or `LocalAuthority`'s file).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand_core::{OsRng, RngCore};

use crate::credential::{Claims, Credential, CredentialId, CREDENTIAL_ID_BYTES};
use crate::error::{Error, Result};
use crate::keys::{kid_of, DevicePublicKey, Kid};
use crate::lists::{IssuerKey, RevocationList, TrustList};
use crate::model::PassData;
use crate::rules::{RuleSet, RulesList};
use crate::vault::KeyVault;

/// A credential just signed, with the id of the issuer key that signed it. `Debug` shows the
/// ids, never the bytes (they carry the holder).
#[derive(Clone)]
pub struct Issued {
    /// The credential's id (its `cti`), for the audit log and revocation.
    pub id: CredentialId,
    /// Key id of the issuer key that signed it.
    pub kid: Kid,
    /// The signed credential (an untagged COSE_Sign1), as the wallet imports it.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("id", &self.id)
            .field("kid", &crate::keys::hex(&self.kid))
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// One credential to issue in a batch.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// The holder and their events; checked by [`PassData::validate`] before signing.
    pub pass: PassData,
    /// The device key from the enrolment request, bound into the credential (`cnf`).
    pub device_key: DevicePublicKey,
    /// Valid from (UTC); may be later than the issue time.
    pub not_before: DateTime<Utc>,
    /// Not accepted at or after this time (UTC); at most [`Authority::MAX_CREDENTIAL_LIFETIME`]
    /// after the issue time.
    pub expires: DateTime<Utc>,
}

/// An issuer key as the store of record holds it: its public key and the times it may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningKey {
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
    /// The first time it may sign (UTC).
    pub not_before: DateTime<Utc>,
    /// The last time it may sign (UTC); credentials it signed later are refused.
    pub not_after: DateTime<Utc>,
}

impl SigningKey {
    /// The key id: the first 8 bytes of SHA-256 of the public key.
    pub fn kid(&self) -> Kid {
        kid_of(&self.public_key)
    }
}

/// The health authority's signer. Safe to share between threads; it holds no lock of its own.
#[derive(Debug, Clone)]
pub struct Authority {
    issuer: String,
    root_public_key: [u8; 32],
    vault: Arc<dyn KeyVault>,
}

impl Authority {
    /// How long a new issuer key may sign for.
    pub const ISSUER_KEY_LIFETIME: Duration = Duration::days(365);
    /// The longest a credential may be valid (`exp - iat`). The trust list bounds each key's
    /// credentials by it: none may expire later than this after the key's last signing time
    /// (`not_after`, or `revoked_after` once it leaked), so a thief's forgeries die with it.
    pub const MAX_CREDENTIAL_LIFETIME: Duration = Duration::days(730);

    /// The signer of `issuer` (the CWT `iss`, 1 to 64 ASCII characters) whose root key, held by
    /// `vault`, has the public key `root_public_key`.
    pub fn new(issuer: &str, root_public_key: [u8; 32], vault: Arc<dyn KeyVault>) -> Result<Self> {
        check_issuer(issuer)?;
        Ok(Self {
            issuer: issuer.to_owned(),
            root_public_key,
            vault,
        })
    }

    /// The authority's name, the CWT `iss` of every credential it signs (e.g. "KR").
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The root public key verifiers pin.
    pub fn root_public_key(&self) -> [u8; 32] {
        self.root_public_key
    }

    /// The vault holding the root and issuer keys.
    pub fn vault(&self) -> &Arc<dyn KeyVault> {
        &self.vault
    }

    /// A new issuer key valid from `now` for [`Self::ISSUER_KEY_LIFETIME`], generated in the
    /// vault. Recording it (and making it the active one) is the store of record's.
    pub fn new_issuer_key(&self, now: DateTime<Utc>) -> Result<SigningKey> {
        Ok(SigningKey {
            public_key: self.vault.generate()?,
            not_before: now,
            not_after: now + Self::ISSUER_KEY_LIFETIME,
        })
    }

    /// Signs one credential per request with `key`, each with a fresh random id, in one call to
    /// the vault. Nothing is recorded: the caller records each id (unique) in its audit log
    /// before handing the credential out, and signs again on a collision. A request that cannot
    /// be signed (an invalid pass, too long a validity) fails alone, in its own slot; the outer
    /// error means nothing was signed (no key valid at `now`, the vault failed).
    pub fn sign_credentials(
        &self,
        key: &SigningKey,
        requests: &[IssueRequest],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Issued>>> {
        if !(key.not_before <= now && now <= key.not_after) {
            return Err(Error::WrongState(
                "no issuer key is valid now: rotate the issuer key",
            ));
        }
        let kid = key.kid();
        let mut unsigned: Vec<Result<(CredentialId, crate::cose::Unsigned)>> = requests
            .iter()
            .map(|request| self.unsigned_credential(&kid, request, now))
            .collect();
        let messages: Vec<Vec<u8>> = unsigned
            .iter()
            .filter_map(|u| u.as_ref().ok())
            .map(|(_, u)| u.to_be_signed().to_vec())
            .collect();
        let signatures = if messages.is_empty() {
            Vec::new()
        } else {
            self.vault.sign_all(&key.public_key, &messages)?
        };
        if signatures.len() != messages.len() {
            return Err(Error::Internal(
                "the vault returned a wrong number of signatures",
            ));
        }
        let mut signatures = signatures.into_iter();
        Ok(unsigned
            .drain(..)
            .map(|slot| {
                let (id, unsigned) = slot?;
                let signature = signatures
                    .next()
                    .ok_or(Error::NotFound("signature from the vault"))?;
                Ok(Issued {
                    id,
                    kid,
                    bytes: unsigned.finish(signature)?,
                })
            })
            .collect())
    }

    fn unsigned_credential(
        &self,
        kid: &Kid,
        request: &IssueRequest,
        now: DateTime<Utc>,
    ) -> Result<(CredentialId, crate::cose::Unsigned)> {
        if request.expires - now > Self::MAX_CREDENTIAL_LIFETIME {
            return Err(Error::InvalidArgument(format!(
                "a credential may be valid for at most {} days",
                Self::MAX_CREDENTIAL_LIFETIME.num_days()
            )));
        }
        let mut id = [0u8; CREDENTIAL_ID_BYTES];
        OsRng.fill_bytes(&mut id);
        let claims = Claims {
            issuer: self.issuer.clone(),
            issued_at: now,
            not_before: request.not_before,
            expires: request.expires,
            id: CredentialId(id),
            device_key: request.device_key.clone(),
            pass: request.pass.clone(),
        };
        Ok((CredentialId(id), Credential::unsigned(&claims, kid)?))
    }

    /// The trust list entry of an issuer key: its `expires_by` is the last time it may sign
    /// (`not_after`, or `revoked_after` once it leaked) plus [`Self::MAX_CREDENTIAL_LIFETIME`].
    pub fn listed_key(
        public_key: [u8; 32],
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
        revoked_after: Option<DateTime<Utc>>,
    ) -> Result<IssuerKey> {
        let last_signing = revoked_after.map_or(not_after, |leak| leak.min(not_after));
        let expires_by = last_signing
            .checked_add_signed(Self::MAX_CREDENTIAL_LIFETIME)
            .ok_or(Error::malformed("issuer key", "time out of range"))?;
        IssuerKey::new(public_key, not_before, not_after, revoked_after, expires_by)
    }

    /// Signs a trust list of `keys` with the root key: sequence number `sequence` (allocated by
    /// the store of record), issued at `now`, valid for `valid_for`.
    pub fn sign_trust_list(
        &self,
        sequence: u64,
        keys: Vec<IssuerKey>,
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<Vec<u8>> {
        let list = TrustList {
            sequence,
            issuer: self.issuer.clone(),
            issued_at: now,
            next_update: next_update(now, valid_for)?,
            keys,
        };
        self.sign_with_root(list.unsigned(&kid_of(&self.root_public_key))?)
    }

    /// Signs a revocation list of `revoked` with the root key, like [`Self::sign_trust_list`].
    pub fn sign_revocation_list(
        &self,
        sequence: u64,
        revoked: &[CredentialId],
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<Vec<u8>> {
        let entries = revoked.iter().map(CredentialId::revocation_entry).collect();
        let list = RevocationList::new(sequence, now, next_update(now, valid_for)?, entries);
        self.sign_with_root(list.unsigned(&kid_of(&self.root_public_key))?)
    }

    /// Signs a rules list of `rule_sets` (in the order they take effect) with the root key, like
    /// [`Self::sign_trust_list`]. A list verifiers would refuse (a number out of range, sets out
    /// of order) is not signed: [`Error::InvalidArgument`].
    pub fn sign_rules_list(
        &self,
        sequence: u64,
        rule_sets: Vec<RuleSet>,
        now: DateTime<Utc>,
        valid_for: Duration,
    ) -> Result<Vec<u8>> {
        let list = RulesList {
            sequence,
            issued_at: now,
            next_update: next_update(now, valid_for)?,
            rule_sets,
        };
        self.sign_with_root(list.unsigned(&kid_of(&self.root_public_key))?)
    }

    fn sign_with_root(&self, unsigned: crate::cose::Unsigned) -> Result<Vec<u8>> {
        let signature = self
            .vault
            .sign(&self.root_public_key, unsigned.to_be_signed())?;
        unsigned.finish(signature)
    }
}

/// When a list issued at `now` and valid for `valid_for` is next updated; a time past the end of
/// the calendar is an error, not a panic.
fn next_update(now: DateTime<Utc>, valid_for: Duration) -> Result<DateTime<Utc>> {
    now.checked_add_signed(valid_for)
        .ok_or_else(|| Error::InvalidArgument("list validity out of range".into()))
}

pub(crate) fn check_issuer(issuer: &str) -> Result<()> {
    if issuer.is_empty() || issuer.len() > 64 || !issuer.is_ascii() {
        return Err(Error::InvalidArgument(
            "issuer must be 1 to 64 ASCII characters".into(),
        ));
    }
    Ok(())
}
