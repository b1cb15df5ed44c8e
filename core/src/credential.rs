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

    /// Parses an id written as 12 hex digits (as `Display` writes it); anything else is
    /// [`Error::InvalidArgument`].
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
    /// When the credential was issued (CWT `iat`), UTC, whole seconds. The issuer key must have
    /// been valid at this time.
    pub issued_at: DateTime<Utc>,
    /// Valid from; on the wire only when it differs from `issued_at` (docs/format.md).
    pub not_before: DateTime<Utc>,
    /// The credential must not be accepted at or after this time (RFC 8392 `exp`).
    pub expires: DateTime<Utc>,
    /// The credential's id (CWT `cti`), the key of the audit log and of revocation.
    pub id: CredentialId,
    /// The holder's device key (CWT `cnf`): only it can sign presentations of this credential.
    pub device_key: DevicePublicKey,
    /// The holder and their events, as shown at the door.
    pub pass: PassData,
}

/// A parsed credential. Parsing checks structure only; signatures are the verifier's job.
/// `Debug` shows the claims (which redact the holder) and never the bytes, which carry the name.
#[derive(Clone)]
pub struct Credential {
    /// Key id of the issuer key that signed it.
    pub kid: Kid,
    /// The claims, decoded and validated (structure and pass data rules, not the signature).
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
        let unsigned = Self::unsigned(claims, &issuer_key.kid())?;
        let signature = issuer_key.sign(unsigned.to_be_signed());
        unsigned.finish(signature)
    }

    /// The credential for `claims` under issuer key `kid`, waiting for its signature (a vault
    /// signs it, see [`crate::Authority`]).
    pub(crate) fn unsigned(claims: &Claims, kid: &Kid) -> Result<cose::Unsigned> {
        claims.validate()?;
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
        Ok(cose::Unsigned::new(kid, None, cbor::encode(&payload)?))
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

// CWT claim keys (RFC 8392 section 3.1.1 and RFC 8747); docs/format.md lists each.
const ISS: i64 = 1;
const EXP: i64 = 4;
const NBF: i64 = 5;
const IAT: i64 = 6;
const CTI: i64 = 7;
const CNF: i64 = 8;
/// The `cnf` member holding a COSE_Key (RFC 8747 section 3.2).
const CNF_COSE_KEY: i64 = 1;
/// Longest `iss` accepted, in bytes.
pub const MAX_ISSUER_BYTES: usize = 64;
const CLAIMS: &str = "CWT claims";

impl Claims {
    /// What an issuer must not sign and a verifier must not accept, checked in both places: the
    /// validity window, the issuer name and the pass data ([`PassData::validate`]). Nothing on a
    /// pass may be dated after the credential was issued; dates are calendar days in the issuing
    /// country, so they may run one day ahead of the UTC date of `iat`.
    pub fn validate(&self) -> Result<()> {
        self.check()
            .map_err(|why| Error::InvalidArgument(why.into()))
    }

    fn check(&self) -> Result<(), &'static str> {
        if self.expires <= self.not_before {
            return Err("a credential must expire after it becomes valid");
        }
        if self.issuer.is_empty() || self.issuer.len() > MAX_ISSUER_BYTES {
            return Err("iss must be 1 to 64 bytes");
        }
        self.pass.check()?;
        let latest_day = self.issued_at.date_naive() + chrono::Duration::days(1);
        if self.pass.person.date_of_birth > latest_day
            || self.pass.events.iter().any(|e| e.day() > latest_day)
        {
            return Err("pass data is dated after the credential was issued");
        }
        Ok(())
    }
}

fn parse_claims(payload: &[u8]) -> Result<Claims> {
    let value = cbor::decode(payload, MAX_CREDENTIAL_BYTES, CLAIMS)?;
    let mut map = IntMap::new(value, CLAIMS, &[ISS, EXP, NBF, IAT, CTI, CNF, PASS_CLAIM])?;
    let time = |value: Value| -> Result<DateTime<Utc>> {
        DateTime::from_timestamp(cbor::int(&value, CLAIMS)?, 0)
            .ok_or(Error::malformed(CLAIMS, "time out of range"))
    };
    let issuer = cbor::text(map.required(ISS)?, CLAIMS)?;
    let expires = time(map.required(EXP)?)?;
    let not_before = map.optional(NBF).map(time).transpose()?;
    let issued_at = time(map.required(IAT)?)?;
    if not_before == Some(issued_at) {
        return Err(Error::malformed(CLAIMS, "nbf equal to iat must be omitted"));
    }
    let id = cbor::fixed(map.required(CTI)?, CLAIMS)
        .map_err(|_| Error::malformed(CLAIMS, "cti must be 6 bytes"))?;
    let mut cnf = IntMap::new(map.required(CNF)?, "cnf claim", &[CNF_COSE_KEY])?;
    let device_key = DevicePublicKey::from_cose_key(cnf.required(CNF_COSE_KEY)?)?;
    let pass = PassData::from_cbor(map.required(PASS_CLAIM)?)?;
    let claims = Claims {
        issuer,
        issued_at,
        not_before: not_before.unwrap_or(issued_at),
        expires,
        id: CredentialId(id),
        device_key,
        pass,
    };
    claims
        .check()
        .map_err(|why| Error::malformed(CLAIMS, why))?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DeviceSigner, SoftwareEd25519Signer};
    use crate::model::{Event, Person, Product, Vaccination};
    use chrono::NaiveDate;

    type Fields = Vec<(Value, Value)>;

    fn issuer() -> Ed25519KeyPair {
        Ed25519KeyPair::from_secret(&[3; 32]).unwrap()
    }

    fn claims() -> Claims {
        let at = |s| DateTime::from_timestamp(s, 0).unwrap();
        Claims {
            issuer: "KR".into(),
            issued_at: at(1_638_501_000),
            not_before: at(1_638_501_000),
            expires: at(1_670_037_000),
            id: CredentialId([1, 2, 3, 4, 5, 6]),
            device_key: SoftwareEd25519Signer(Ed25519KeyPair::from_secret(&[4; 32]).unwrap())
                .public_key()
                .unwrap(),
            pass: PassData {
                person: Person {
                    name: "김민준".into(),
                    date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                },
                events: vec![Event::Vaccination(Vaccination {
                    product: Product::Comirnaty,
                    dose: 1,
                    of: 2,
                    date: NaiveDate::from_ymd_opt(2021, 6, 20).unwrap(),
                })],
            },
        }
    }

    /// The claims of a genuine credential, as a CBOR value to edit.
    fn genuine_claims() -> Value {
        let credential = Credential::from_bytes(&Credential::sign(&claims(), &issuer()).unwrap());
        cbor::decode(credential.unwrap().payload(), 4096, "t").unwrap()
    }

    /// A credential over exactly these claims, correctly signed by the issuer key.
    fn signed(claims: &Value) -> Vec<u8> {
        let payload = cbor::encode(claims).unwrap();
        cose::sign(&issuer(), None, payload).unwrap()
    }

    fn map(value: &mut Value) -> &mut Fields {
        match value {
            Value::Map(fields) => fields,
            _ => panic!("not a map"),
        }
    }

    fn field(fields: &mut Fields, key: i64) -> &mut Value {
        let key = Value::from(key);
        &mut fields.iter_mut().find(|(k, _)| *k == key).unwrap().1
    }

    fn edited(edit: impl FnOnce(&mut Fields)) -> Value {
        let mut claims = genuine_claims();
        edit(map(&mut claims));
        claims
    }

    fn cose_key(fields: &mut Fields) -> &mut Fields {
        map(field(map(field(fields, CNF)), CNF_COSE_KEY))
    }

    fn pass(fields: &mut Fields) -> &mut Fields {
        map(field(fields, PASS_CLAIM))
    }

    /// Each row is a credential the old decoder accepted although docs/format.md allows it in no
    /// encoding or forbids what it says; every one is correctly signed, and every one is refused.
    #[test]
    fn claims_have_exactly_one_encoding_and_valid_content() {
        let iat = Value::from(1_638_501_000);
        let rows: Vec<(&str, Value)> = vec![
            ("claims keys out of order", edited(|f| f.swap(0, 1))),
            (
                "nbf present and equal to iat",
                edited(|f| f.insert(2, (NBF.into(), iat.clone()))),
            ),
            (
                "cnf with an unknown member (3: kid)",
                edited(|f| map(field(f, CNF)).push((3.into(), Value::Bytes(vec![1; 8])))),
            ),
            (
                "COSE_Key with an unknown parameter (2: kid)",
                edited(|f| cose_key(f).insert(1, (2.into(), Value::Bytes(vec![1; 8])))),
            ),
            (
                "OKP COSE_Key with a y sign",
                edited(|f| cose_key(f).push(((-3).into(), Value::Bool(false)))),
            ),
            (
                "pass data with an unknown key 6",
                edited(|f| pass(f).push((6.into(), Value::Array(vec![])))),
            ),
            (
                "pass data with an empty test list",
                edited(|f| pass(f).push((4.into(), Value::Array(vec![])))),
            ),
            (
                "pass data with no events",
                edited(|f| pass(f).retain(|(k, _)| *k != Value::from(3))),
            ),
            (
                "empty name",
                edited(|f| *field(pass(f), 1) = Value::Text(String::new())),
            ),
            (
                "name with a right-to-left override",
                edited(|f| *field(pass(f), 1) = Value::Text("\u{202e}김민준".into())),
            ),
            (
                "name with a line feed",
                edited(|f| *field(pass(f), 1) = Value::Text("김\n민준".into())),
            ),
            (
                "born after the credential was issued",
                edited(|f| *field(pass(f), 2) = Value::from(50_000)),
            ),
            (
                "empty iss",
                edited(|f| *field(f, ISS) = Value::Text(String::new())),
            ),
        ];
        let accepted: Vec<&str> = rows
            .into_iter()
            .filter(|(_, claims)| {
                !matches!(
                    Credential::from_bytes(&signed(claims)),
                    Err(Error::Malformed { .. })
                )
            })
            .map(|(name, _)| name)
            .collect();
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
        // The unedited claims, signed the same way, are accepted.
        let genuine = Credential::from_bytes(&signed(&genuine_claims())).unwrap();
        let key = VerifyingKey::from_bytes(&issuer().public()).unwrap();
        assert!(genuine.verify_signature(&key).is_ok());
        assert_eq!(genuine.claims, claims());
    }

    /// The rules that decoding enforces are the ones signing enforces: an issuer cannot sign what
    /// a verifier would refuse.
    #[test]
    fn signing_refuses_what_decoding_refuses() {
        let mut future = claims();
        future.pass.person.date_of_birth = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        let mut bidi = claims();
        bidi.pass.person.name = "\u{2067}김민준\u{2069}".into();
        let mut no_issuer = claims();
        no_issuer.issuer.clear();
        for bad in [future, bidi, no_issuer] {
            assert!(matches!(
                Credential::sign(&bad, &issuer()),
                Err(Error::InvalidArgument(_))
            ));
        }
    }
}
