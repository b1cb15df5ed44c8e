//! COSE_Sign1 (RFC 9052) as vaxpass uses it: Ed25519 (alg -19), the signer's kid and an optional
//! content type in the protected header, nothing unprotected. Credentials and both signed lists
//! go through here, so the header rules are checked in one place.

use ciborium::value::Value;
use ciborium_ll::{Encoder, Header};
use coset::{iana, AsCborValue, CoseSign1, CoseSign1Builder, HeaderBuilder};

use crate::error::{Error, Result};
use crate::keys::{
    verify_ed25519, verify_ed25519_with, Ed25519KeyPair, InvalidSignature, Kid, VerifyingKey,
};

/// A parsed COSE_Sign1 whose headers passed the rules above; its signature is not yet checked.
/// `Debug` shows the headers only: the payload may carry personal data.
#[derive(Clone)]
pub(crate) struct Signed {
    pub kid: Kid,
    pub content_type: Option<String>,
    sign1: CoseSign1,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("kid", &self.kid)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
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
    if sign1.payload.is_none() {
        return Err(Error::malformed(what, "payload is missing"));
    }
    if sign1.signature.len() != 64 {
        return Err(Error::malformed(what, "signature must be 64 bytes"));
    }
    Ok(Signed {
        kid,
        content_type,
        sign1,
    })
}

impl Signed {
    pub(crate) fn payload(&self) -> &[u8] {
        self.sign1.payload.as_deref().unwrap_or_default()
    }

    /// The payload, moved out rather than copied (a revocation list's is 16 MB).
    pub(crate) fn into_payload(self) -> Vec<u8> {
        self.sign1.payload.unwrap_or_default()
    }

    /// Checks the Ed25519 signature strictly against `public_key`.
    pub(crate) fn verify(&self, public_key: &[u8; 32]) -> Result<(), InvalidSignature> {
        verify_ed25519(public_key, &self.to_be_signed()?, &self.sign1.signature)
    }

    /// [`Signed::verify`] with the key already decompressed.
    pub(crate) fn verify_with(&self, key: &VerifyingKey) -> Result<(), InvalidSignature> {
        verify_ed25519_with(key, &self.to_be_signed()?, &self.sign1.signature)
    }

    /// The Sig_structure (RFC 9052, section 4.4: context "Signature1", the protected header as
    /// received, no external data, the payload), written into one buffer of its exact size.
    /// coset's `tbs_data` builds it through a CBOR value, which holds two more copies of the
    /// payload: 32 MB more while a 16 MB revocation list is checked.
    fn to_be_signed(&self) -> Result<Vec<u8>, InvalidSignature> {
        let Ok(Value::Bytes(protected)) = self.sign1.protected.clone().cbor_bstr() else {
            return Err(InvalidSignature);
        };
        let payload = self.payload();
        let mut tbs = Vec::with_capacity(protected.len() + payload.len() + 32);
        let mut encoder = Encoder::from(&mut tbs);
        encoder
            .push(Header::Array(Some(4)))
            .and_then(|()| encoder.text("Signature1", None))
            .and_then(|()| encoder.bytes(&protected, None))
            .and_then(|()| encoder.bytes(&[], None))
            .and_then(|()| encoder.push(Header::Bytes(Some(payload.len()))))
            .map_err(|_| InvalidSignature)?;
        tbs.extend_from_slice(payload);
        Ok(tbs)
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.sign1.signature
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our Sig_structure is byte for byte coset's, for small and large payloads, with and without
    /// a content type.
    #[test]
    fn to_be_signed_matches_coset() {
        let key = Ed25519KeyPair::from_secret(&[9; 32]).unwrap();
        for (content_type, payload_len) in
            [(None, 0), (None, 23), (Some("x/y"), 300), (None, 70_000)]
        {
            let value = sign(&key, content_type, vec![0xA5; payload_len]).unwrap();
            let signed = parse(value, "test").unwrap();
            assert_eq!(signed.to_be_signed().unwrap(), signed.sign1.tbs_data(&[]));
            assert!(signed.verify(&key.public()).is_ok());
        }
    }
}
