//! COSE_Sign1 (RFC 9052) as vaxpass uses it: Ed25519 (alg -19), the signer's kid and an optional
//! content type in the protected header, nothing unprotected. Credentials and both signed lists
//! go through here, so the header rules are checked in one place.

use ciborium::value::Value;
use ciborium_ll::{Decoder, Encoder, Header};
use coset::{iana, AsCborValue, CoseSign1Builder, HeaderBuilder};

use crate::error::{Error, Result};
use crate::keys::{verify_ed25519, verify_ed25519_with, InvalidSignature, Kid, VerifyingKey};

/// A parsed COSE_Sign1 whose headers passed the rules above; its signature is not yet checked.
/// `Debug` shows the headers only: the payload may carry personal data.
#[derive(Clone)]
pub(crate) struct Signed {
    pub kid: Kid,
    pub content_type: Option<String>,
    /// The protected header as received: the signature covers these bytes.
    protected: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("kid", &self.kid)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Largest protected header accepted: alg, a 40-character content type and a kid take 55 bytes.
const MAX_PROTECTED_BYTES: usize = 128;
const ALG: i64 = 1;
const CONTENT_TYPE: i64 = 3;
const KID: i64 = 4;

/// A COSE_Sign1 waiting for its signature: the signer (a key in memory or a vault) signs
/// [`Unsigned::to_be_signed`] and [`Unsigned::finish`] puts the signature in.
pub(crate) struct Unsigned {
    sign1: coset::CoseSign1,
    to_be_signed: Vec<u8>,
}

impl Unsigned {
    /// The COSE_Sign1 of `payload` under `kid`, not yet signed.
    pub(crate) fn new(kid: &Kid, content_type: Option<&str>, payload: Vec<u8>) -> Self {
        let mut protected = HeaderBuilder::new()
            .algorithm(iana::Algorithm::Ed25519)
            .key_id(kid.to_vec());
        if let Some(ct) = content_type {
            protected = protected.content_type(ct.to_owned());
        }
        let sign1 = CoseSign1Builder::new()
            .protected(protected.build())
            .payload(payload)
            .build();
        let to_be_signed = sign1.tbs_data(&[]);
        Self {
            sign1,
            to_be_signed,
        }
    }

    /// The Sig_structure bytes the Ed25519 signature covers.
    pub(crate) fn to_be_signed(&self) -> &[u8] {
        &self.to_be_signed
    }

    /// The signed, untagged COSE_Sign1, encoded.
    pub(crate) fn finish(mut self, signature: [u8; 64]) -> Result<Vec<u8>> {
        self.sign1.signature = signature.to_vec();
        let value = self
            .sign1
            .to_cbor_value()
            .map_err(|_| Error::malformed("COSE_Sign1", "cannot be encoded"))?;
        crate::cbor::encode(&value)
    }
}

/// Signs `payload` with a key in memory and returns the encoded, untagged COSE_Sign1.
#[cfg(test)]
pub(crate) fn sign(
    key: &crate::keys::Ed25519KeyPair,
    content_type: Option<&str>,
    payload: Vec<u8>,
) -> Result<Vec<u8>> {
    let unsigned = Unsigned::new(&key.kid(), content_type, payload);
    let signature = key.sign(unsigned.to_be_signed());
    unsigned.finish(signature)
}

/// Rebuilds the COSE_Sign1 of a credential from the parts a presentation carries: the protected
/// header is fixed by the format (alg Ed25519, the kid), the unprotected header is empty.
pub(crate) fn rebuild(kid: &Kid, payload: Vec<u8>, signature: Vec<u8>) -> Result<Value> {
    let protected = crate::cbor::map([
        (1, Some(Value::from(iana::Algorithm::Ed25519 as i64))),
        (4, Some(Value::Bytes(kid.to_vec()))),
    ]);
    Ok(Value::Array(vec![
        Value::Bytes(crate::cbor::encode(&protected)?),
        Value::Map(Vec::new()),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ]))
}

/// Reads an untagged COSE_Sign1 `[protected, unprotected, payload, signature]` and checks its
/// headers: exactly one encoding is accepted, so the protected header must be the canonical map
/// `{1: -19, ? 3: text, 4: bstr(8)}` and the unprotected header the empty map.
pub(crate) fn parse(value: Value, what: &'static str) -> Result<Signed> {
    let Value::Array(items) = value else {
        return Err(Error::malformed(
            what,
            "not a COSE_Sign1 (expected an array)",
        ));
    };
    let [protected, unprotected, payload, signature]: [Value; 4] = items
        .try_into()
        .map_err(|_| Error::malformed(what, "a COSE_Sign1 has four items"))?;
    let protected = crate::cbor::bytes(protected, what)?;
    let (kid, content_type) = protected_header(&protected, what)?;
    if !matches!(&unprotected, Value::Map(m) if m.is_empty()) {
        return Err(Error::malformed(what, "unprotected header must be empty"));
    }
    let payload = match payload {
        Value::Bytes(payload) => payload,
        _ => return Err(Error::malformed(what, "payload must be a byte string")),
    };
    let signature = crate::cbor::bytes(signature, what)?;
    if signature.len() != 64 {
        return Err(Error::malformed(what, "signature must be 64 bytes"));
    }
    Ok(Signed {
        kid,
        content_type,
        protected,
        payload,
        signature,
    })
}

/// Reads the protected header bytes: alg Ed25519, an optional text content type and an 8-byte
/// kid, nothing else, canonically encoded.
pub(crate) fn protected_header(bytes: &[u8], what: &'static str) -> Result<(Kid, Option<String>)> {
    let value = crate::cbor::decode(bytes, MAX_PROTECTED_BYTES, what)?;
    let mut header = crate::cbor::IntMap::new(value, what, &[ALG, CONTENT_TYPE, KID])
        .map_err(|_| Error::malformed(what, "unexpected protected header parameter"))?;
    if crate::cbor::int(&header.required(ALG)?, what)? != iana::Algorithm::Ed25519 as i64 {
        return Err(Error::malformed(what, "algorithm is not Ed25519"));
    }
    let content_type = header
        .optional(CONTENT_TYPE)
        .map(|ct| crate::cbor::text(ct, what))
        .transpose()
        .map_err(|_| Error::malformed(what, "content type must be a text string"))?;
    let kid = crate::cbor::fixed(header.required(KID)?, what)
        .map_err(|_| Error::malformed(what, "kid must be 8 bytes"))?;
    Ok((kid, content_type))
}

impl Signed {
    pub(crate) fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Checks the Ed25519 signature strictly against an already decompressed key.
    pub(crate) fn verify_with(&self, key: &VerifyingKey) -> Result<(), InvalidSignature> {
        verify_ed25519_with(key, &self.to_be_signed()?, &self.signature)
    }

    /// The Sig_structure over the protected header as received and the payload.
    fn to_be_signed(&self) -> Result<Vec<u8>, InvalidSignature> {
        to_be_signed(&self.protected, &self.payload)
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// The Sig_structure (RFC 9052, section 4.4: context "Signature1", the protected header as
/// received, no external data, the payload), written into one buffer of its exact size.
/// coset's `tbs_data` builds it through a CBOR value, which holds two more copies of the
/// payload: 32 MB more while a 16 MB revocation list is checked.
fn to_be_signed(protected: &[u8], payload: &[u8]) -> Result<Vec<u8>, InvalidSignature> {
    let mut tbs = Vec::with_capacity(protected.len() + payload.len() + 32);
    let mut encoder = Encoder::from(&mut tbs);
    encoder
        .push(Header::Array(Some(4)))
        .and_then(|()| encoder.text("Signature1", None))
        .and_then(|()| encoder.bytes(protected, None))
        .and_then(|()| encoder.bytes(&[], None))
        .and_then(|()| encoder.push(Header::Bytes(Some(payload.len()))))
        .map_err(|_| InvalidSignature)?;
    tbs.extend_from_slice(payload);
    Ok(tbs)
}

/// A COSE_Sign1 read in place, for signed lists: its parts are slices of the bytes received, so
/// nothing is built from the payload until its signature has been checked.
#[derive(Debug)]
pub(crate) struct Envelope<'a> {
    pub kid: Kid,
    pub content_type: Option<String>,
    protected: &'a [u8],
    payload: &'a [u8],
    signature: &'a [u8],
}

/// Reads the envelope of an untagged COSE_Sign1 (definite lengths, shortest heads) after checking
/// its size, without decoding the payload, and checks its headers with the same rules as
/// [`parse`].
pub(crate) fn envelope<'a>(
    bytes: &'a [u8],
    limit: usize,
    what: &'static str,
) -> Result<Envelope<'a>> {
    if bytes.len() > limit {
        return Err(Error::TooLarge {
            what,
            size: bytes.len(),
            limit,
        });
    }
    let bad = || Error::malformed(what, "not a COSE_Sign1");
    let at = match head(bytes, 0) {
        Some((Header::Array(Some(4)), at)) => at,
        _ => return Err(bad()),
    };
    let (protected, at) = byte_string(bytes, at).ok_or_else(bad)?;
    let at = match head(bytes, at) {
        Some((Header::Map(Some(0)), at)) => at,
        Some((Header::Map(_), _)) => {
            return Err(Error::malformed(what, "unprotected header must be empty"))
        }
        _ => return Err(bad()),
    };
    let (payload, at) = byte_string(bytes, at).ok_or_else(bad)?;
    let (signature, at) = byte_string(bytes, at).ok_or_else(bad)?;
    if at != bytes.len() {
        return Err(Error::malformed(what, "trailing bytes after the CBOR item"));
    }
    let (kid, content_type) = protected_header(protected, what)?;
    if signature.len() != 64 {
        return Err(Error::malformed(what, "signature must be 64 bytes"));
    }
    Ok(Envelope {
        kid,
        content_type,
        protected,
        payload,
        signature,
    })
}

impl<'a> Envelope<'a> {
    /// The payload bytes; trust them only after [`Envelope::verify`].
    pub(crate) fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Checks the Ed25519 signature strictly against `public_key`.
    pub(crate) fn verify(&self, public_key: &[u8; 32]) -> Result<(), InvalidSignature> {
        verify_ed25519(
            public_key,
            &to_be_signed(self.protected, self.payload)?,
            self.signature,
        )
    }
}

/// One CBOR head at `at`, which must be in its shortest form; returns it and where its content
/// starts.
fn head(bytes: &[u8], at: usize) -> Option<(Header, usize)> {
    let rest = bytes.get(at..)?;
    let mut decoder = Decoder::from(rest);
    let header = decoder.pull().ok()?;
    let len = decoder.offset();
    let mut encoded = Vec::with_capacity(9);
    Encoder::from(&mut encoded).push(header).ok()?;
    (encoded[..] == rest[..len]).then_some((header, at + len))
}

/// A definite-length byte string at `at`, as a slice of `bytes`, and where the next item starts.
fn byte_string(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let (Header::Bytes(Some(len)), start) = head(bytes, at)? else {
        return None;
    };
    let end = start.checked_add(len)?;
    Some((bytes.get(start..end)?, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Ed25519KeyPair;

    /// Our Sig_structure is byte for byte coset's, for small and large payloads, with and without
    /// a content type.
    #[test]
    fn to_be_signed_matches_coset() {
        let key = Ed25519KeyPair::from_secret(&[9; 32]).unwrap();
        for (content_type, payload_len) in
            [(None, 0), (None, 23), (Some("x/y"), 300), (None, 70_000)]
        {
            let bytes = sign(&key, content_type, vec![0xA5; payload_len]).unwrap();
            let value = crate::cbor::decode(&bytes, usize::MAX, "test").unwrap();
            let coset = coset::CoseSign1::from_cbor_value(value.clone()).unwrap();
            let signed = parse(value, "test").unwrap();
            assert_eq!(signed.to_be_signed().unwrap(), coset.tbs_data(&[]));
            let public = VerifyingKey::from_bytes(&key.public()).unwrap();
            assert!(signed.verify_with(&public).is_ok());
        }
    }

    /// A COSE_Sign1 with exactly these protected header bytes, correctly signed over them.
    fn signed_with_protected(key: &Ed25519KeyPair, protected: &[u8]) -> Value {
        let payload = b"payload".to_vec();
        let tbs = crate::cbor::encode(&Value::Array(vec![
            "Signature1".into(),
            Value::Bytes(protected.to_vec()),
            Value::Bytes(Vec::new()),
            Value::Bytes(payload.clone()),
        ]))
        .unwrap();
        Value::Array(vec![
            Value::Bytes(protected.to_vec()),
            Value::Map(Vec::new()),
            Value::Bytes(payload),
            Value::Bytes(key.sign(&tbs).to_vec()),
        ])
    }

    /// One protected header encoding is accepted: each row is a header that means the same (or
    /// claims to) in another encoding, correctly signed, and is refused.
    #[test]
    fn protected_header_has_exactly_one_encoding() {
        let key = Ed25519KeyPair::from_secret(&[9; 32]).unwrap();
        let kid = key.kid();
        let with_kid = |prefix: &[u8], suffix: &[u8]| [prefix, &[0x48], &kid, suffix].concat();
        // a2 01 32 04 48 <kid>: {1: -19, 4: kid}, what sign() writes.
        let canonical = with_kid(&[0xa2, 0x01, 0x32, 0x04], &[]);
        assert_eq!(
            sign(&key, None, b"payload".to_vec()).unwrap(),
            crate::cbor::encode(&signed_with_protected(&key, &canonical)).unwrap()
        );
        let signed = parse(signed_with_protected(&key, &canonical), "t").unwrap();
        let public = VerifyingKey::from_bytes(&key.public()).unwrap();
        assert!(signed.verify_with(&public).is_ok());
        let rows: [(&str, Vec<u8>); 5] = [
            (
                "keys out of order",
                [&[0xa2, 0x04, 0x48][..], &kid, &[0x01, 0x32]].concat(),
            ),
            (
                "alg in a two-byte form",
                with_kid(&[0xa2, 0x01, 0x38, 0x12, 0x04], &[]),
            ),
            (
                "indefinite-length map",
                with_kid(&[0xbf, 0x01, 0x32, 0x04], &[0xff]),
            ),
            (
                "kid length in a two-byte form",
                [&[0xa2, 0x01, 0x32, 0x04, 0x58, 0x08][..], &kid].concat(),
            ),
            (
                "alg wrapped in a tag",
                with_kid(&[0xa2, 0x01, 0xc1, 0x32, 0x04], &[]),
            ),
        ];
        let accepted: Vec<&str> = rows
            .into_iter()
            .filter(|(_, protected)| {
                !matches!(
                    parse(signed_with_protected(&key, protected), "t"),
                    Err(Error::Malformed { .. })
                )
            })
            .map(|(name, _)| name)
            .collect();
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
    }
}
