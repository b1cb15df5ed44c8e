//! COSE_Sign1 (RFC 9052) as vaxpass uses it: Ed25519 (alg -19), the signer's kid and an optional
//! content type in the protected header, nothing unprotected. Credentials and both signed lists
//! go through here, so the header rules are checked in one place.

use ciborium::value::Value;
use coset::{iana, AsCborValue, CoseSign1, CoseSign1Builder, HeaderBuilder};

use crate::error::{Error, Result};
use crate::keys::{
    verify_ed25519, verify_ed25519_with, Ed25519KeyPair, InvalidSignature, Kid, VerifyingKey,
};

/// A parsed COSE_Sign1 whose headers passed the rules above; its signature is not yet checked.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub kid: Kid,
    pub content_type: Option<String>,
    pub payload: Vec<u8>,
    sign1: CoseSign1,
}

/// Signs `payload` and returns the untagged COSE_Sign1 as a CBOR value.
pub(crate) fn sign(
    key: &Ed25519KeyPair,
    content_type: Option<&str>,
    payload: Vec<u8>,
) -> Result<Value> {
    let mut protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::Ed25519)
        .key_id(key.kid().to_vec());
    if let Some(ct) = content_type {
        protected = protected.content_type(ct.to_owned());
    }
    CoseSign1Builder::new()
        .protected(protected.build())
        .payload(payload)
        .create_signature(&[], |tbs| key.sign(tbs).to_vec())
        .build()
        .to_cbor_value()
        .map_err(|_| Error::malformed("COSE_Sign1", "cannot be encoded"))
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

/// Reads a COSE_Sign1 and checks its headers.
pub(crate) fn parse(value: Value, what: &'static str) -> Result<Signed> {
    let sign1 = CoseSign1::from_cbor_value(value)
        .map_err(|_| Error::malformed(what, "not a COSE_Sign1"))?;
    let header = &sign1.protected.header;
    if header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::Ed25519)) {
        return Err(Error::malformed(what, "algorithm is not Ed25519"));
    }
    if !header.crit.is_empty()
        || !header.iv.is_empty()
        || !header.partial_iv.is_empty()
        || !header.counter_signatures.is_empty()
        || !header.rest.is_empty()
    {
        return Err(Error::malformed(
            what,
            "unexpected protected header parameter",
        ));
    }
    if !sign1.unprotected.is_empty() {
        return Err(Error::malformed(what, "unprotected header must be empty"));
    }
    let kid: Kid = header
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| Error::malformed(what, "kid must be 8 bytes"))?;
    let content_type = match &header.content_type {
        None => None,
        Some(coset::ContentType::Text(t)) => Some(t.clone()),
        Some(_) => return Err(Error::malformed(what, "unexpected content type")),
    };
    let payload = sign1
        .payload
        .clone()
        .ok_or(Error::malformed(what, "payload is missing"))?;
    if sign1.signature.len() != 64 {
        return Err(Error::malformed(what, "signature must be 64 bytes"));
    }
    Ok(Signed {
        kid,
        content_type,
        payload,
        sign1,
    })
}

impl Signed {
    /// Checks the Ed25519 signature strictly against `public_key`.
    pub(crate) fn verify(&self, public_key: &[u8; 32]) -> Result<(), InvalidSignature> {
        self.sign1.verify_signature(&[], |signature, tbs| {
            verify_ed25519(public_key, tbs, signature)
        })
    }

    /// [`Signed::verify`] with the key already decompressed.
    pub(crate) fn verify_with(&self, key: &VerifyingKey) -> Result<(), InvalidSignature> {
        self.sign1.verify_signature(&[], |signature, tbs| {
            verify_ed25519_with(key, tbs, signature)
        })
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.sign1.signature
    }
}
