//! Decodes a QR text into its parts — headers, claims, signatures, key ids — without judging it.
//! For support staff and developers; the verifier is what decides.

use chrono::{DateTime, Utc};

use crate::base45;
use crate::credential::{Claims, Credential};
use crate::error::Result;
use crate::keys::Kid;
use crate::qr_text::{self, Scanned};

/// The parts of a QR text. Its `Debug` redacts the holder, like [`Claims`]'s.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The text's prefix, e.g. `VP1:`.
    pub prefix: String,
    /// Length of the text in characters, as the wallet encoded it (after
    /// [`qr_text::from_scanner`]).
    pub text_chars: usize,
    /// Size of the CBOR behind the base45.
    pub cbor_bytes: usize,
    /// Size of the credential inside (for a presentation, as the verifier rebuilds it).
    pub credential_bytes: usize,
    /// Protected header: always Ed25519 (COSE alg -19) for credentials.
    pub algorithm: &'static str,
    /// Key id of the issuer key named in the protected header.
    pub issuer_kid: Kid,
    /// The credential's claims, decoded but not judged.
    pub claims: Claims,
    /// The issuer's 64-byte Ed25519 signature, unchecked.
    pub issuer_signature: Vec<u8>,
    /// For rotating presentations: when it was shown and the device signature.
    pub presentation: Option<(DateTime<Utc>, Vec<u8>)>,
}

/// Parses `text` (structure only; no signature is checked).
pub fn inspect(text: &str) -> Result<Inspection> {
    let read = qr_text::from_scanner(text);
    let text = read.text()?;
    let scanned = qr_text::parse_exact(text)?;
    let (prefix, body) = text.split_at(text.find(':').map_or(0, |i| i + 1));
    let (credential, presentation): (Credential, _) = match scanned {
        Scanned::Paper(c) => (c, None),
        Scanned::Presentation(p) => (p.credential, Some((p.shown_at, p.device_signature))),
    };
    Ok(Inspection {
        prefix: prefix.to_owned(),
        text_chars: text.len(),
        cbor_bytes: base45::decode(body)?.len(),
        credential_bytes: credential.bytes().len(),
        algorithm: "Ed25519 (COSE -19)",
        issuer_kid: credential.kid,
        issuer_signature: credential.issuer_signature().to_vec(),
        claims: credential.claims,
        presentation,
    })
}
