//! The rotating presentation: a credential, the time it was shown, and the device key's signature
//! over both. It proves the QR comes from the phone the credential was issued to, just now.

use chrono::{DateTime, Utc};
use ciborium::value::Value;
use sha2::{Digest, Sha256};

use crate::cbor;
use crate::cose;
use crate::credential::{Credential, MAX_CREDENTIAL_BYTES};
use crate::error::{Error, Result};
use crate::keys::{DeviceSigner, InvalidSignature};

/// Domain separation: a device signature over a presentation can never be mistaken for one over an
/// enrolment request or anything else the device key signs.
pub const PRESENTATION_DOMAIN: &[u8] = b"vaxpass presentation v1\0";
const WHAT: &str = "presentation";

/// A parsed presentation; the device signature is not yet checked. `Debug` redacts the holder,
/// as [`Credential`]'s does.
#[derive(Clone)]
pub struct Presentation {
    /// The credential, rebuilt from the presentation's kid, payload and issuer signature.
    pub credential: Credential,
    /// The time the wallet signed for (UTC, whole seconds).
    pub shown_at: DateTime<Utc>,
    /// The device key's 64-byte signature over the presentation message (docs/format.md).
    pub device_signature: Vec<u8>,
}

impl std::fmt::Debug for Presentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presentation")
            .field("credential", &self.credential)
            .field("shown_at", &self.shown_at)
            .finish_non_exhaustive()
    }
}

/// The bytes the device signs: domain, SHA-256 of the credential bytes, time as 8 bytes big-endian.
pub fn signed_message(credential_bytes: &[u8], shown_at: DateTime<Utc>) -> Vec<u8> {
    let mut message = Vec::with_capacity(PRESENTATION_DOMAIN.len() + 40);
    message.extend_from_slice(PRESENTATION_DOMAIN);
    message.extend_from_slice(&Sha256::digest(credential_bytes));
    message.extend_from_slice(&shown_at.timestamp().to_be_bytes());
    message
}

impl Presentation {
    /// Signs a presentation of `credential` at `shown_at` and returns its CBOR bytes:
    /// `[kid, payload, issuer signature, time, device signature]`. The credential travels as its
    /// three variable parts; its fixed protected header is rebuilt from the kid (docs/format.md).
    pub fn create(
        credential: &Credential,
        shown_at: DateTime<Utc>,
        signer: &dyn DeviceSigner,
    ) -> Result<Vec<u8>> {
        if shown_at.timestamp() < 0 {
            return Err(Error::InvalidArgument(
                "presentation time before 1970".into(),
            ));
        }
        let signature = signer.sign(&signed_message(credential.bytes(), shown_at))?;
        if signature.len() != 64 {
            return Err(Error::Signer("a device signature must be 64 bytes".into()));
        }
        cbor::encode(&Value::Array(vec![
            Value::Bytes(credential.kid.to_vec()),
            Value::Bytes(credential.payload().to_vec()),
            Value::Bytes(credential.issuer_signature().to_vec()),
            shown_at.timestamp().into(),
            Value::Bytes(signature),
        ]))
    }

    /// Parses presentation bytes (the base45-decoded `VP1:` text) without checking any
    /// signature; bad bytes are [`Error::Malformed`] or [`Error::TooLarge`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let value = cbor::decode(bytes, MAX_CREDENTIAL_BYTES + 128, WHAT)?;
        let items: [Value; 5] = cbor::array(value, WHAT, 5)?
            .try_into()
            .map_err(|_| Error::malformed(WHAT, "expected five items"))?;
        let [kid, payload, issuer_signature, time, signature] = items;
        let credential = cose::rebuild(
            &cbor::fixed(kid, WHAT)?,
            cbor::bytes(payload, WHAT)?,
            cbor::bytes(issuer_signature, WHAT)?,
        )?;
        let shown_at = i64::try_from(cbor::uint(&time, WHAT)?)
            .ok()
            .and_then(|t| DateTime::from_timestamp(t, 0))
            .ok_or(Error::malformed(WHAT, "time out of range"))?;
        let device_signature = cbor::bytes(signature, WHAT)?;
        if device_signature.len() != 64 {
            return Err(Error::malformed(WHAT, "device signature must be 64 bytes"));
        }
        Ok(Self {
            credential: Credential::from_value(credential)?,
            shown_at,
            device_signature,
        })
    }

    /// Checks the device signature against the key the credential is bound to.
    pub fn verify_device_signature(&self) -> Result<(), InvalidSignature> {
        let message = signed_message(self.credential.bytes(), self.shown_at);
        self.credential
            .claims
            .device_key
            .verify(&message, &self.device_signature)
    }
}
