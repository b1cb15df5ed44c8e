//! The credential: a COSE_Sign1 by an issuer key over CWT claims (RFC 8392) that bind the pass
//! data to the holder's device key (`cnf`, RFC 8747).

use std::fmt;

use chrono::{DateTime, Utc};
use ciborium::value::Value;
use coset::cwt::{ClaimName, ClaimsSet, Timestamp};
use coset::{iana, AsCborValue};
use sha2::{Digest, Sha256};

use crate::cbor::{self, IntMap};
use crate::cose::{self, Signed};
use crate::error::{Error, Result};
use crate::keys::{hex, DevicePublicKey, Ed25519KeyPair, InvalidSignature, Kid, VerifyingKey};
use crate::model::PassData;

/// Largest credential accepted, in bytes.
pub const MAX_CREDENTIAL_BYTES: usize = 2048;
/// The private-use CWT claim (RFC 8392 section 9.1: below -65536) holding the pass data.
pub const PASS_CLAIM: i64 = -65537;
const WHAT: &str = "credential";

/// Bytes in a credential id.
pub const CREDENTIAL_ID_BYTES: usize = 6;

/// A credential id (the CWT `cti`): 6 random bytes, made unique by the authority's audit log.
/// Six bytes, not more, because every byte costs 1.5 QR characters (docs/format.md).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialId(pub [u8; CREDENTIAL_ID_BYTES]);

impl CredentialId {
    /// The entry a revocation list carries for this id: SHA-256 over a domain string and the id,
    /// truncated to 16 bytes, so the list does not enumerate the ids themselves.
    pub fn revocation_entry(&self) -> [u8; 16] {
        let digest = Sha256::new()
            .chain_update(b"vaxpass revocation v1")
            .chain_update(self.0)
            .finalize();
        let mut entry = [0; 16];
        entry.copy_from_slice(&digest[..16]);
        entry
    }

    pub fn parse(hex_text: &str) -> Result<Self> {
        let bad = || Error::InvalidArgument("a credential id is 12 hex digits".into());
        if hex_text.len() != 2 * CREDENTIAL_ID_BYTES || !hex_text.is_ascii() {
            return Err(bad());
        }
        let mut id = [0; CREDENTIAL_ID_BYTES];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex_text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(id))
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({self})")
    }
}

/// What an issuer asserts in a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The authority (CWT `iss`), e.g. "KR".
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    /// Valid from; on the wire only when it differs from `issued_at` (docs/format.md).
    pub not_before: DateTime<Utc>,
    /// The credential must not be accepted at or after this time (RFC 8392 `exp`).
    pub expires: DateTime<Utc>,
    pub id: CredentialId,
    pub device_key: DevicePublicKey,
    pub pass: PassData,
}

/// A parsed credential. Parsing checks structure only; signatures are the verifier's job.
/// `Debug` shows the claims (which redact the holder) and never the bytes, which carry the name.
#[derive(Clone)]
pub struct Credential {
    /// Key id of the issuer key that signed it.
    pub kid: Kid,
    pub claims: Claims,
    signed: Signed,
    bytes: Vec<u8>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("kid", &self.kid)
            .field("claims", &self.claims)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Signs `claims` with an issuer key and returns the credential bytes (untagged COSE_Sign1).
    pub fn sign(claims: &Claims, issuer_key: &Ed25519KeyPair) -> Result<Vec<u8>> {
        if claims.expires <= claims.not_before {
            return Err(Error::InvalidArgument(
                "a credential must expire after it becomes valid".into(),
            ));
        }
        claims.pass.validate()?;
        let at = |t: DateTime<Utc>| Timestamp::WholeSeconds(t.timestamp());
        let set = ClaimsSet {
            issuer: Some(claims.issuer.clone()),
            expiration_time: Some(at(claims.expires)),
            not_before: (claims.not_before != claims.issued_at).then(|| at(claims.not_before)),
            issued_at: Some(at(claims.issued_at)),
            cwt_id: Some(claims.id.0.to_vec()),
            rest: vec![
                (
                    ClaimName::Assigned(iana::CwtClaimName::Cnf),
                    cbor::map([(1, Some(claims.device_key.to_cose_key()))]),
                ),
                (ClaimName::PrivateUse(PASS_CLAIM), claims.pass.to_cbor()),
            ],
            ..ClaimsSet::default()
        };
        let payload = set
            .to_cbor_value()
            .map_err(|_| Error::malformed(WHAT, "cannot be encoded"))?;
        cbor::encode(&cose::sign(issuer_key, None, cbor::encode(&payload)?)?)
    }

    /// Parses credential bytes (a paper QR's payload, or an import).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let value = cbor::decode(bytes, MAX_CREDENTIAL_BYTES, WHAT)?;
        Self::from_parts(value, bytes.to_vec())
    }

    /// Parses a credential embedded in a larger, already canonical-checked CBOR item.
    pub(crate) fn from_value(value: Value) -> Result<Self> {
        let bytes = cbor::encode(&value)?;
        if bytes.len() > MAX_CREDENTIAL_BYTES {
            return Err(Error::TooLarge {
                what: WHAT,
                size: bytes.len(),
                limit: MAX_CREDENTIAL_BYTES,
            });
        }
        Self::from_parts(value, bytes)
    }

    fn from_parts(value: Value, bytes: Vec<u8>) -> Result<Self> {
        let signed = cose::parse(value, WHAT)?;
        if signed.content_type.is_some() {
            return Err(Error::malformed(WHAT, "a credential has no content type"));
        }
        let claims = parse_claims(signed.payload())?;
        Ok(Self {
            kid: signed.kid,
            claims,
            signed,
            bytes,
        })
    }

    /// The exact bytes of this credential, as signed over in presentations.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks the issuer's signature against an issuer public key.
    pub fn verify_signature(&self, issuer_key: &VerifyingKey) -> Result<(), InvalidSignature> {
        self.signed.verify_with(issuer_key)
    }

    pub(crate) fn payload(&self) -> &[u8] {
        self.signed.payload()
    }

    pub(crate) fn issuer_signature(&self) -> &[u8] {
        self.signed.signature()
    }
}

fn parse_claims(payload: &[u8]) -> Result<Claims> {
    let value = cbor::decode(payload, MAX_CREDENTIAL_BYTES, "CWT claims")?;
    let set = ClaimsSet::from_cbor_value(value)
        .map_err(|_| Error::malformed("CWT claims", "not a CWT claims set"))?;
    let time = |t: Option<Timestamp>| -> Result<DateTime<Utc>> {
        match t {
            Some(Timestamp::WholeSeconds(s)) => DateTime::from_timestamp(s, 0)
                .ok_or(Error::malformed("CWT claims", "time out of range")),
            _ => Err(Error::malformed(
                "CWT claims",
                "a time claim is missing or fractional",
            )),
        }
    };
    if set.subject.is_some() || set.audience.is_some() {
        return Err(Error::malformed("CWT claims", "unexpected claim"));
    }
    let mut device_key = None;
    let mut pass = None;
    for (name, value) in set.rest {
        match name {
            ClaimName::Assigned(iana::CwtClaimName::Cnf) if device_key.is_none() => {
                let mut cnf = IntMap::new(value, "cnf claim")?;
                device_key = Some(DevicePublicKey::from_cose_key(cnf.required(1)?)?);
            }
            ClaimName::PrivateUse(PASS_CLAIM) if pass.is_none() => {
                pass = Some(PassData::from_cbor(value)?)
            }
            _ => {
                return Err(Error::malformed(
                    "CWT claims",
                    "unexpected or repeated claim",
                ))
            }
        }
    }
    let id = set
        .cwt_id
        .ok_or(Error::malformed("CWT claims", "cti is missing"))?
        .try_into()
        .map_err(|_| Error::malformed("CWT claims", "cti must be 6 bytes"))?;
    let issued_at = time(set.issued_at)?;
    let claims = Claims {
        issuer: set
            .issuer
            .ok_or(Error::malformed("CWT claims", "iss is missing"))?,
        issued_at,
        not_before: match set.not_before {
            None => issued_at,
            nbf => time(nbf)?,
        },
        expires: time(set.expiration_time)?,
        id: CredentialId(id),
        device_key: device_key.ok_or(Error::malformed("CWT claims", "cnf is missing"))?,
        pass: pass.ok_or(Error::malformed("CWT claims", "pass data is missing"))?,
    };
    if claims.issuer.len() > 64 {
        return Err(Error::malformed("CWT claims", "iss is too long"));
    }
    if claims.expires <= claims.not_before {
        return Err(Error::malformed("CWT claims", "exp is not after nbf"));
    }
    Ok(claims)
}
