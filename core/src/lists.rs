//! The lists the authority signs with its root key and verifiers sync when online: the trust
//! list (issuer keys and their validity) and the revocation list (revoked credentials) are here;
//! the rules list (what a pass must show) is in [`crate::rules`].

use chrono::{DateTime, Utc};
use ciborium::value::Value;
use ciborium_ll::{Decoder, Encoder, Header};

use crate::cbor::{self, IntMap};
use crate::cose;
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::keys::{kid_of, Ed25519KeyPair, Kid, VerifyingKey};
use crate::verdict::Reason;

/// COSE content type (header 3) of a trust list.
pub const TRUST_LIST_TYPE: &str = "application/vaxpass-trust-list+cbor";
/// COSE content type (header 3) of a revocation list.
pub const REVOCATION_LIST_TYPE: &str = "application/vaxpass-revocation-list+cbor";
/// Largest trust list accepted (1,000 keys take about 70 KB).
pub const MAX_TRUST_LIST_BYTES: usize = 4 << 20;
/// Most issuer keys in a trust list.
pub const MAX_ISSUER_KEYS: usize = 10_000;
/// Largest revocation list accepted: 2 million entries of 16 bytes.
pub const MAX_REVOCATION_LIST_BYTES: usize = 33 << 20;
/// Bytes per revocation entry (truncated SHA-256, see `CredentialId::revocation_entry`).
pub const REVOCATION_ENTRY_BYTES: usize = 16;

/// Which signed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// The trust list: the issuer keys.
    Trust,
    /// The revocation list: the revoked credentials.
    Revocation,
    /// The rules list: the rule sets and venue modes passes are judged by.
    Rules,
}

impl ListKind {
    /// The path the issuer service serves this list at.
    pub fn path(self) -> &'static str {
        match self {
            ListKind::Trust => "/v1/trust-list",
            ListKind::Revocation => "/v1/revocation-list",
            ListKind::Rules => "/v1/rules-list",
        }
    }

    /// The list's key in a verifier's store.
    pub(crate) fn key(self) -> &'static str {
        match self {
            ListKind::Trust => "trust",
            ListKind::Revocation => "revocation",
            ListKind::Rules => "rules",
        }
    }
}

/// What a signed list says of itself: its sequence number and its times. Every list carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListInfo {
    /// Higher for every list the authority signs; a verifier refuses a lower one (rollback).
    pub sequence: u64,
    /// When the authority signed the list.
    pub issued_at: DateTime<Utc>,
    /// When the authority will have signed the next one: fetch again before then.
    pub next_update: DateTime<Utc>,
}

/// One issuer key as the trust list describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    /// The key id: the first 8 bytes of SHA-256 of `public_key`.
    pub kid: Kid,
    /// The Ed25519 public key, checked to be a valid point not of small order.
    pub public_key: [u8; 32],
    /// Credentials issued (`iat`) outside [not_before, not_after] are not accepted.
    pub not_before: DateTime<Utc>,
    /// The last issue time (`iat`) this key vouches for (UTC).
    pub not_after: DateTime<Utc>,
    /// The key leaked at this time: credentials issued after it are not accepted, earlier ones are.
    pub revoked_after: Option<DateTime<Utc>>,
    /// The latest `exp` a credential signed by this key may carry: what a thief with the key can
    /// sign stops being accepted at this time, whatever it claims.
    pub expires_by: DateTime<Utc>,
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
        expires_by: DateTime<Utc>,
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
            expires_by,
            verifying_key,
        })
    }

    /// The public key, decoded once when the entry was built.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }
}

/// The authority's signed list of issuer keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList {
    /// Orders the authority's trust lists: a verifier refuses one not above the one it holds.
    pub sequence: u64,
    /// The authority's `iss`; credentials must carry the same.
    pub issuer: String,
    /// When the authority signed it (UTC).
    pub issued_at: DateTime<Utc>,
    /// When the authority will publish the next one (UTC); past it, verifiers warn.
    pub next_update: DateTime<Utc>,
    /// The issuer keys, each with the times it may vouch for.
    pub keys: Vec<IssuerKey>,
}

/// The authority's signed list of revoked credentials: sorted, unique entries of
/// [`REVOCATION_ENTRY_BYTES`], kept packed (1,000,000 of them take 16 MB).
#[derive(Clone, PartialEq, Eq)]
pub struct RevocationList {
    /// Orders the authority's revocation lists: a verifier refuses one not above the one it holds.
    pub sequence: u64,
    /// When the authority signed it (UTC).
    pub issued_at: DateTime<Utc>,
    /// When the authority will publish the next one (UTC); past it, verifiers warn.
    pub next_update: DateTime<Utc>,
    entries: Vec<u8>,
}

impl std::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationList")
            .field("sequence", &self.sequence)
            .field("issued_at", &self.issued_at)
            .field("entries", &self.len())
            .finish()
    }
}

pub(crate) fn time(value: &Value, what: &'static str) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(cbor::int(value, what)?, 0)
        .ok_or(Error::malformed(what, "time out of range"))
}

/// Verifies a signed list against the pinned root key and returns its payload. The size is
/// checked first and only the COSE envelope is read (as slices of `bytes`) before the signature:
/// nothing is built from bytes that the root key did not sign.
pub(crate) fn open<'a>(
    bytes: &'a [u8],
    root_public_key: &[u8; 32],
    content_type: &str,
    limit: usize,
    what: &'static str,
) -> Result<&'a [u8]> {
    let signed = cose::envelope(bytes, limit, what)?;
    if signed.content_type.as_deref() != Some(content_type) {
        return Err(Error::malformed(what, "wrong content type"));
    }
    if signed.kid != kid_of(root_public_key) {
        return Err(Error::BadSignature(what));
    }
    signed
        .verify(root_public_key)
        .map_err(|_| Error::BadSignature(what))?;
    Ok(signed.payload())
}

impl TrustList {
    /// Signs the list with a root key in memory.
    pub fn sign(&self, root: &Ed25519KeyPair) -> Result<Vec<u8>> {
        let unsigned = self.unsigned(&root.kid())?;
        let signature = root.sign(unsigned.to_be_signed());
        unsigned.finish(signature)
    }

    /// The list under root key `kid`, waiting for its signature.
    pub(crate) fn unsigned(&self, kid: &Kid) -> Result<cose::Unsigned> {
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
                    (6, Some(k.expires_by.timestamp().into())),
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
        Ok(cose::Unsigned::new(
            kid,
            Some(TRUST_LIST_TYPE),
            cbor::encode(&payload)?,
        ))
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
        let mut map = IntMap::new(
            cbor::decode(payload, MAX_TRUST_LIST_BYTES, WHAT)?,
            WHAT,
            &[1, 2, 3, 4, 5],
        )?;
        let sequence = cbor::uint(&map.required(1)?, WHAT)?;
        let issuer = cbor::text(map.required(2)?, WHAT)?;
        let issued_at = time(&map.required(3)?, WHAT)?;
        let next_update = time(&map.required(4)?, WHAT)?;
        let mut keys: Vec<IssuerKey> = Vec::new();
        for entry in cbor::array(map.required(5)?, WHAT, MAX_ISSUER_KEYS)? {
            let mut e = IntMap::new(entry, WHAT, &[1, 2, 3, 4, 5, 6])?;
            let kid: Kid = cbor::fixed(e.required(1)?, WHAT)?;
            let key = IssuerKey::new(
                cbor::fixed(e.required(2)?, WHAT)?,
                time(&e.required(3)?, WHAT)?,
                time(&e.required(4)?, WHAT)?,
                e.optional(5).map(|v| time(&v, WHAT)).transpose()?,
                time(&e.required(6)?, WHAT)?,
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

    /// The entry for `kid`, if the list has one.
    pub fn key(&self, kid: &Kid) -> Option<&IssuerKey> {
        self.keys.iter().find(|k| &k.kid == kid)
    }

    /// The list's sequence number and times.
    pub fn info(&self) -> ListInfo {
        ListInfo {
            sequence: self.sequence,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    /// The checks a credential must pass against this list at `now`, in order: the issuance
    /// checks of [`TrustList::check_issuance`], then the validity window.
    pub(crate) fn check_credential(
        &self,
        credential: &Credential,
        now: DateTime<Utc>,
        leeway: chrono::Duration,
    ) -> Result<(), Reason> {
        self.check_issuance(credential)?;
        let claims = &credential.claims;
        if now + leeway < claims.not_before {
            return Err(Reason::NotYetValid);
        }
        if now - leeway >= claims.expires {
            return Err(Reason::Expired);
        }
        Ok(())
    }

    /// What makes a credential this authority's, whatever the time: known issuer key, key valid
    /// when the credential was issued and not compromised by then, expiry within what the key may
    /// vouch for, issuer signature. The wallet runs these on import; a pass whose validity starts
    /// later (the issuer's clock ahead of the phone's, a waiting period after a dose) is still the
    /// holder's.
    pub(crate) fn check_issuance(&self, credential: &Credential) -> Result<(), Reason> {
        let key = self.key(&credential.kid).ok_or(Reason::UnknownIssuer)?;
        let claims = &credential.claims;
        if claims.issuer != self.issuer {
            return Err(Reason::UnknownIssuer);
        }
        if claims.issued_at < key.not_before || claims.issued_at > key.not_after {
            return Err(Reason::IssuerKeyNotValidAtIssuance);
        }
        if key
            .revoked_after
            .is_some_and(|leak| claims.issued_at >= leak)
        {
            return Err(Reason::IssuerKeyRevoked);
        }
        if claims.expires > key.expires_by {
            return Err(Reason::ExpiryBeyondIssuerKey);
        }
        credential
            .verify_signature(key.verifying_key())
            .map_err(|_| Reason::BadSignature)
    }
}

impl RevocationList {
    /// A list of the given entries, sorted and without duplicates.
    pub fn new(
        sequence: u64,
        issued_at: DateTime<Utc>,
        next_update: DateTime<Utc>,
        mut entries: Vec<[u8; REVOCATION_ENTRY_BYTES]>,
    ) -> Self {
        entries.sort_unstable();
        entries.dedup();
        Self {
            sequence,
            issued_at,
            next_update,
            entries: entries.into_flattened(),
        }
    }

    /// The revoked entries in ascending order, [`REVOCATION_ENTRY_BYTES`] each.
    pub fn entries(&self) -> std::slice::ChunksExact<'_, u8> {
        self.entries.chunks_exact(REVOCATION_ENTRY_BYTES)
    }

    /// The list's sequence number and times.
    pub fn info(&self) -> ListInfo {
        ListInfo {
            sequence: self.sequence,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    /// How many credentials are revoked.
    pub fn len(&self) -> usize {
        self.entries.len() / REVOCATION_ENTRY_BYTES
    }

    /// Whether no credential is revoked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Signs the list with a root key in memory.
    pub fn sign(&self, root: &Ed25519KeyPair) -> Result<Vec<u8>> {
        let unsigned = self.unsigned(&root.kid())?;
        let signature = root.sign(unsigned.to_be_signed());
        unsigned.finish(signature)
    }

    /// The list under root key `kid`, waiting for its signature.
    pub(crate) fn unsigned(&self, kid: &Kid) -> Result<cose::Unsigned> {
        let payload = cbor::map([
            (1, Some(self.sequence.into())),
            (2, Some(self.issued_at.timestamp().into())),
            (3, Some(self.next_update.timestamp().into())),
            (4, Some(Value::Bytes(self.entries.clone()))),
        ]);
        Ok(cose::Unsigned::new(
            kid,
            Some(REVOCATION_LIST_TYPE),
            cbor::encode(&payload)?,
        ))
    }

    /// Parses a signed revocation list after checking its signature against the pinned root key.
    pub fn verify(bytes: &[u8], root_public_key: &[u8; 32]) -> Result<Self> {
        let view = RevocationView::verify(bytes, root_public_key)?;
        Ok(Self {
            sequence: view.sequence,
            issued_at: view.issued_at,
            next_update: view.next_update,
            entries: view.entries.to_vec(),
        })
    }
}

/// A verified revocation list whose entries are still the bytes it arrived in: the verifier
/// writes them to its store (or compares them with it) without a 16 MB copy.
#[derive(Debug)]
pub(crate) struct RevocationView<'a> {
    pub sequence: u64,
    pub issued_at: DateTime<Utc>,
    pub next_update: DateTime<Utc>,
    entries: &'a [u8],
}

impl<'a> RevocationView<'a> {
    pub(crate) fn verify(bytes: &'a [u8], root_public_key: &[u8; 32]) -> Result<Self> {
        let payload = open(
            bytes,
            root_public_key,
            REVOCATION_LIST_TYPE,
            MAX_REVOCATION_LIST_BYTES,
            REVOCATION_LIST,
        )?;
        let (fields, entries) = revocation_payload(payload)?;
        let [sequence, issued_at, next_update] = fields;
        let at = |seconds: u64| {
            i64::try_from(seconds)
                .ok()
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .ok_or(Error::malformed(REVOCATION_LIST, "time out of range"))
        };
        let list = Self {
            sequence,
            issued_at: at(issued_at)?,
            next_update: at(next_update)?,
            entries,
        };
        if list.entries.len() % REVOCATION_ENTRY_BYTES != 0 {
            return Err(Error::malformed(
                REVOCATION_LIST,
                "entries are not 16 bytes each",
            ));
        }
        if list
            .entries()
            .zip(list.entries().skip(1))
            .any(|(a, b)| a >= b)
        {
            return Err(Error::malformed(
                REVOCATION_LIST,
                "entries are not sorted and unique",
            ));
        }
        Ok(list)
    }

    /// The revoked entries in ascending order, [`REVOCATION_ENTRY_BYTES`] each.
    pub(crate) fn entries(&self) -> std::slice::ChunksExact<'a, u8> {
        self.entries.chunks_exact(REVOCATION_ENTRY_BYTES)
    }

    /// The list's sequence number and times.
    pub(crate) fn info(&self) -> ListInfo {
        ListInfo {
            sequence: self.sequence,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }
}

const REVOCATION_LIST: &str = "revocation list";

/// The rollback and equivocation rule, for the verifier's lists and the wallet's rules list
/// alike: an offered list older than the one held is refused; one with the held sequence is the
/// held list again (`Ok(false)`: nothing to store) if its signed bytes are the held ones, and
/// refused as equivocation if they differ; a newer one is `Ok(true)`. `held_bytes` is `None`
/// when there is nothing to compare with (no row, or a damaged one: no evidence of equivocation).
pub(crate) fn is_newer(
    held: u64,
    held_bytes: Option<&[u8]>,
    offered: u64,
    offered_bytes: &[u8],
) -> Result<bool> {
    if offered < held {
        return Err(Error::Rollback {
            stored: held,
            offered,
        });
    }
    if offered == held && held_bytes.is_some_and(|b| b != offered_bytes) {
        return Err(Error::Equivocation(offered));
    }
    Ok(offered > held)
}

/// The sequence a stored list claims, read without trusting it (its signature may not verify):
/// the envelope, then the payload's first field, `{1: sequence, ...}` in both lists. Nothing is
/// built from the bytes. A verifier whose stored list is damaged keeps refusing lists older than
/// the one it held.
pub(crate) fn claimed_sequence(bytes: &[u8]) -> Option<u64> {
    let envelope = cose::envelope(bytes, MAX_REVOCATION_LIST_BYTES, "stored list").ok()?;
    let mut decoder = Decoder::from(envelope.payload());
    match (decoder.pull(), decoder.pull(), decoder.pull()) {
        (Ok(Header::Map(Some(_))), Ok(Header::Positive(1)), Ok(Header::Positive(sequence))) => {
            Some(sequence)
        }
        _ => None,
    }
}

/// Reads a revocation list's payload, the canonical map {1: sequence, 2: issued at, 3: next
/// update, 4: entries}, without copying its entries: the three numbers go through ciborium's
/// low-level decoder, and the entries, which the canonical encoding puts last, are the payload's
/// tail, left in place. Decoding it as a whole would hold a second 16 MB copy.
fn revocation_payload(payload: &[u8]) -> Result<([u64; 3], &[u8])> {
    let malformed = || {
        Error::malformed(
            REVOCATION_LIST,
            "payload is not the canonical map of its four fields",
        )
    };
    let mut decoder = Decoder::from(payload);
    let mut pull = || decoder.pull().map_err(|_| malformed());
    let mut expected = vec![Header::Map(Some(4))];
    let mut fields = [0u64; 3];
    if pull()? != expected[0] {
        return Err(malformed());
    }
    for (key, field) in (1..).zip(&mut fields) {
        let (Header::Positive(k), Header::Positive(value)) = (pull()?, pull()?) else {
            return Err(malformed());
        };
        if k != key {
            return Err(malformed());
        }
        *field = value;
        expected.extend([Header::Positive(key), Header::Positive(value)]);
    }
    let (Header::Positive(4), Header::Bytes(Some(len))) = (pull()?, pull()?) else {
        return Err(malformed());
    };
    expected.extend([Header::Positive(4), Header::Bytes(Some(len))]);
    let start = decoder.offset();
    if start.checked_add(len) != Some(payload.len()) {
        return Err(malformed());
    }
    // Canonical: the headers read must be written back as the same bytes (shortest forms).
    let mut encoded = Vec::with_capacity(start);
    let mut encoder = Encoder::from(&mut encoded);
    for header in expected {
        encoder.push(header).map_err(|_| malformed())?;
    }
    if encoded != payload[..start] {
        return Err(malformed());
    }
    Ok((fields, &payload[start..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Ed25519KeyPair {
        Ed25519KeyPair::from_secret(&[5; 32]).unwrap()
    }

    /// Signs `payload` as a revocation list would be signed.
    fn signed(payload: &Value) -> Vec<u8> {
        let root = root();
        let cose = cose::sign(
            &root,
            Some(REVOCATION_LIST_TYPE),
            cbor::encode(payload).unwrap(),
        );
        cose.unwrap()
    }

    fn payload(fields: Vec<(Value, Value)>) -> Value {
        Value::Map(fields)
    }

    fn int(i: i64) -> Value {
        Value::from(i)
    }

    #[test]
    fn an_offered_list_is_newer_the_same_again_or_refused() {
        let (held, other) = (b"held".as_slice(), b"other".as_slice());
        assert!(is_newer(5, None, 6, other).unwrap());
        assert!(!is_newer(5, Some(held), 5, held).unwrap());
        assert!(
            !is_newer(5, None, 5, other).unwrap(),
            "nothing to compare with"
        );
        assert!(matches!(
            is_newer(5, Some(held), 5, other),
            Err(Error::Equivocation(5))
        ));
        assert!(matches!(
            is_newer(5, Some(held), 4, held),
            Err(Error::Rollback {
                stored: 5,
                offered: 4
            })
        ));
    }

    #[test]
    fn round_trip_keeps_entries_sorted_and_unique() {
        let list = RevocationList::new(7, Utc::now(), Utc::now(), vec![[3; 16], [1; 16], [3; 16]]);
        let bytes = list.sign(&root()).unwrap();
        let back = RevocationList::verify(&bytes, &root().public()).unwrap();
        assert_eq!(back.sequence, 7);
        assert_eq!(back.len(), 2);
        assert_eq!(
            back.entries().collect::<Vec<_>>(),
            [&[1; 16][..], &[3; 16][..]]
        );
    }

    #[test]
    fn malformed_payloads_are_refused() {
        let sorted = Value::Bytes([[1u8; 16], [2; 16]].concat());
        let unsorted = Value::Bytes([[2u8; 16], [1; 16]].concat());
        let valid = || {
            vec![
                (int(1), int(1)),
                (int(2), int(10)),
                (int(3), int(20)),
                (int(4), sorted.clone()),
            ]
        };
        // The valid payload with field `key` (1 to 4) set to `value`.
        let with = |key: usize, value: Value| {
            let mut fields = valid();
            fields[key - 1].1 = value;
            payload(fields)
        };
        let mut swapped = valid();
        swapped.swap(0, 1);
        let cases: Vec<(&str, Value, &str)> = vec![
            ("not a map", Value::Array(vec![]), "canonical map"),
            (
                "three fields",
                payload(valid()[..3].to_vec()),
                "canonical map",
            ),
            ("keys out of order", payload(swapped), "canonical map"),
            (
                "text sequence",
                with(1, Value::Text("1".into())),
                "canonical map",
            ),
            ("negative time", with(2, int(-1)), "canonical map"),
            ("entries not bytes", with(4, int(0)), "canonical map"),
            (
                "entries of 15 bytes",
                with(4, Value::Bytes(vec![7; 15])),
                "16 bytes each",
            ),
            ("entries unsorted", with(4, unsorted), "sorted and unique"),
            (
                "time out of range",
                with(2, Value::from(u64::MAX)),
                "out of range",
            ),
        ];
        for (name, value, expected) in cases {
            let error = RevocationList::verify(&signed(&value), &root().public()).unwrap_err();
            assert!(error.to_string().contains(expected), "{name}: {error}");
        }
        assert!(RevocationList::verify(&signed(&payload(valid())), &root().public()).is_ok());
    }

    #[test]
    fn non_canonical_headers_are_refused() {
        let list = RevocationList::new(1, Utc::now(), Utc::now(), vec![[1; 16]]);
        let payload = cbor::encode(&payload(vec![
            (int(1), int(1)),
            (int(2), int(list.issued_at.timestamp())),
            (int(3), int(list.next_update.timestamp())),
            (int(4), Value::Bytes(vec![1; 16])),
        ]))
        .unwrap();
        // The sequence 1 written in two bytes (0x18 0x01) instead of one.
        let mut long = payload.clone();
        assert_eq!(long[1..3], [0x01, 0x01]);
        long.splice(2..3, [0x18, 0x01]);
        assert!(revocation_payload(&long).is_err());
        assert!(revocation_payload(&payload).is_ok());
    }
}
