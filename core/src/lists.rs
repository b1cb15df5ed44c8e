//! The two lists the authority signs with its root key and verifiers sync when online: the trust
//! list (issuer keys and their validity) and the revocation list (revoked credentials).

use chrono::{DateTime, Utc};
use ciborium::value::Value;

use crate::cbor::{self, IntMap};
use crate::cose;
use crate::error::{Error, Result};
use crate::keys::{kid_of, Ed25519KeyPair, Kid, VerifyingKey};

pub const TRUST_LIST_TYPE: &str = "application/vaxpass-trust-list+cbor";
pub const REVOCATION_LIST_TYPE: &str = "application/vaxpass-revocation-list+cbor";
/// Largest trust list accepted (1,000 keys take about 70 KB).
pub const MAX_TRUST_LIST_BYTES: usize = 4 << 20;
/// Most issuer keys in a trust list.
pub const MAX_ISSUER_KEYS: usize = 10_000;
/// Largest revocation list accepted: 2 million entries of 16 bytes.
pub const MAX_REVOCATION_LIST_BYTES: usize = 33 << 20;
/// Bytes per revocation entry (truncated SHA-256, see `CredentialId::revocation_entry`).
pub const REVOCATION_ENTRY_BYTES: usize = 16;

/// One issuer key as the trust list describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    pub kid: Kid,
    pub public_key: [u8; 32],
    /// Credentials issued (`iat`) outside [not_before, not_after] are not accepted.
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// The key leaked at this time: credentials issued after it are not accepted, earlier ones are.
    pub revoked_after: Option<DateTime<Utc>>,
    /// `public_key` decompressed once, for the verifier's hot path.
    pub(crate) verifying_key: VerifyingKey,
}

impl IssuerKey {
    /// Checks the public key and builds the entry.
    pub fn new(
        public_key: [u8; 32],
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
        revoked_after: Option<DateTime<Utc>>,
    ) -> Result<Self> {
        let verifying_key = VerifyingKey::from_bytes(&public_key)
            .ok()
            .filter(|k| !k.is_weak())
            .ok_or(Error::malformed("issuer key", "not a valid Ed25519 key"))?;
        Ok(Self {
            kid: kid_of(&public_key),
            public_key,
            not_before,
            not_after,
            revoked_after,
            verifying_key,
        })
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }
}

/// The authority's signed list of issuer keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList {
    pub sequence: u64,
    /// The authority's `iss`; credentials must carry the same.
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    pub next_update: DateTime<Utc>,
    pub keys: Vec<IssuerKey>,
}

/// The authority's signed list of revoked credentials: sorted, unique entries.
#[derive(Clone, PartialEq, Eq)]
pub struct RevocationList {
    pub sequence: u64,
    pub issued_at: DateTime<Utc>,
    pub next_update: DateTime<Utc>,
    pub entries: Vec<[u8; REVOCATION_ENTRY_BYTES]>,
}

impl std::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationList")
            .field("sequence", &self.sequence)
            .field("issued_at", &self.issued_at)
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn time(value: &Value, what: &'static str) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(cbor::int(value, what)?, 0)
        .ok_or(Error::malformed(what, "time out of range"))
}

/// Verifies a signed list against the pinned root key and returns its payload.
fn open(
    bytes: &[u8],
    root_public_key: &[u8; 32],
    content_type: &str,
    limit: usize,
    what: &'static str,
) -> Result<Vec<u8>> {
    let signed = cose::parse(cbor::decode(bytes, limit, what)?, what)?;
    if signed.content_type.as_deref() != Some(content_type) {
        return Err(Error::malformed(what, "wrong content type"));
    }
    if signed.kid != kid_of(root_public_key) {
        return Err(Error::BadSignature(what));
    }
    signed
        .verify(root_public_key)
        .map_err(|_| Error::BadSignature(what))?;
    Ok(signed.payload)
}

impl TrustList {
    pub fn sign(&self, root: &Ed25519KeyPair) -> Result<Vec<u8>> {
        let keys = self
            .keys
            .iter()
            .map(|k| {
                cbor::map([
                    (1, Some(Value::Bytes(k.kid.to_vec()))),
                    (2, Some(Value::Bytes(k.public_key.to_vec()))),
                    (3, Some(k.not_before.timestamp().into())),
                    (4, Some(k.not_after.timestamp().into())),
                    (5, k.revoked_after.map(|t| t.timestamp().into())),
                ])
            })
            .collect();
        let payload = cbor::map([
            (1, Some(self.sequence.into())),
            (2, Some(Value::Text(self.issuer.clone()))),
            (3, Some(self.issued_at.timestamp().into())),
            (4, Some(self.next_update.timestamp().into())),
            (5, Some(Value::Array(keys))),
        ]);
        cbor::encode(&cose::sign(
            root,
            Some(TRUST_LIST_TYPE),
            cbor::encode(&payload)?,
        )?)
    }

    /// Parses a signed trust list after checking its signature against the pinned root key.
    pub fn verify(bytes: &[u8], root_public_key: &[u8; 32]) -> Result<Self> {
        const WHAT: &str = "trust list";
        let payload = open(
            bytes,
            root_public_key,
            TRUST_LIST_TYPE,
            MAX_TRUST_LIST_BYTES,
            WHAT,
        )?;
        let mut map = IntMap::new(cbor::decode(&payload, MAX_TRUST_LIST_BYTES, WHAT)?, WHAT)?;
        let sequence = cbor::uint(&map.required(1)?, WHAT)?;
        let issuer = cbor::text(map.required(2)?, WHAT)?;
        let issued_at = time(&map.required(3)?, WHAT)?;
        let next_update = time(&map.required(4)?, WHAT)?;
        let mut keys: Vec<IssuerKey> = Vec::new();
        for entry in cbor::array(map.required(5)?, WHAT, MAX_ISSUER_KEYS)? {
            let mut e = IntMap::new(entry, WHAT)?;
            let kid: Kid = cbor::fixed(e.required(1)?, WHAT)?;
            let key = IssuerKey::new(
                cbor::fixed(e.required(2)?, WHAT)?,
                time(&e.required(3)?, WHAT)?,
                time(&e.required(4)?, WHAT)?,
                e.optional(5).map(|v| time(&v, WHAT)).transpose()?,
            )?;
            if key.kid != kid {
                return Err(Error::malformed(WHAT, "kid does not match its key"));
            }
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(Error::malformed(WHAT, "duplicate issuer key"));
            }
            keys.push(key);
        }
        Ok(Self {
            sequence,
            issuer,
            issued_at,
            next_update,
            keys,
        })
    }

    pub fn key(&self, kid: &Kid) -> Option<&IssuerKey> {
        self.keys.iter().find(|k| &k.kid == kid)
    }
}

impl RevocationList {
    pub fn sign(&self, root: &Ed25519KeyPair) -> Result<Vec<u8>> {
        let mut entries = self.entries.clone();
        entries.sort_unstable();
        entries.dedup();
        let payload = cbor::map([
            (1, Some(self.sequence.into())),
            (2, Some(self.issued_at.timestamp().into())),
            (3, Some(self.next_update.timestamp().into())),
            (4, Some(Value::Bytes(entries.concat()))),
        ]);
        cbor::encode(&cose::sign(
            root,
            Some(REVOCATION_LIST_TYPE),
            cbor::encode(&payload)?,
        )?)
    }

    /// Parses a signed revocation list after checking its signature against the pinned root key.
    pub fn verify(bytes: &[u8], root_public_key: &[u8; 32]) -> Result<Self> {
        const WHAT: &str = "revocation list";
        let payload = open(
            bytes,
            root_public_key,
            REVOCATION_LIST_TYPE,
            MAX_REVOCATION_LIST_BYTES,
            WHAT,
        )?;
        let mut map = IntMap::new(
            cbor::decode(&payload, MAX_REVOCATION_LIST_BYTES, WHAT)?,
            WHAT,
        )?;
        let sequence = cbor::uint(&map.required(1)?, WHAT)?;
        let issued_at = time(&map.required(2)?, WHAT)?;
        let next_update = time(&map.required(3)?, WHAT)?;
        let packed = cbor::bytes(map.required(4)?, WHAT)?;
        if packed.len() % REVOCATION_ENTRY_BYTES != 0 {
            return Err(Error::malformed(WHAT, "entries are not 16 bytes each"));
        }
        let entries: Vec<[u8; REVOCATION_ENTRY_BYTES]> = packed
            .chunks_exact(REVOCATION_ENTRY_BYTES)
            .map(|c| {
                c.try_into()
                    .map_err(|_| Error::malformed(WHAT, "bad entry"))
            })
            .collect::<Result<_>>()?;
        if entries.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::malformed(WHAT, "entries are not sorted and unique"));
        }
        Ok(Self {
            sequence,
            issued_at,
            next_update,
            entries,
        })
    }
}
