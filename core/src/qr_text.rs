//! QR text: a short versioned prefix, then base45 of the CBOR. Every character is in the QR
//! alphanumeric set. `VP1:` carries a rotating presentation, `VC1:` a bare (paper) credential.

use crate::base45;
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::presentation::Presentation;

pub const PRESENTATION_PREFIX: &str = "VP1:";
pub const PAPER_PREFIX: &str = "VC1:";
/// The most characters a QR code can hold in alphanumeric mode (version 40, ECC L).
pub const MAX_TEXT_CHARS: usize = 4296;

/// What a scanned QR text holds. `Debug` redacts the holder (see [`Credential`]).
#[derive(Debug, Clone)]
pub enum Scanned {
    Presentation(Presentation),
    Paper(Credential),
}

pub fn presentation_text(presentation_bytes: &[u8]) -> String {
    format!(
        "{PRESENTATION_PREFIX}{}",
        base45::encode(presentation_bytes)
    )
}

pub fn paper_text(credential_bytes: &[u8]) -> String {
    format!("{PAPER_PREFIX}{}", base45::encode(credential_bytes))
}

/// Parses QR text. Scanners often append a line break; that alone is tolerated.
pub fn parse(text: &str) -> Result<Scanned> {
    if text.len() > MAX_TEXT_CHARS {
        return Err(Error::TooLarge {
            what: "QR text",
            size: text.len(),
            limit: MAX_TEXT_CHARS,
        });
    }
    let text = text.trim_end_matches(['\r', '\n']);
    if let Some(body) = text.strip_prefix(PRESENTATION_PREFIX) {
        Ok(Scanned::Presentation(Presentation::from_bytes(
            &base45::decode(body)?,
        )?))
    } else if let Some(body) = text.strip_prefix(PAPER_PREFIX) {
        Ok(Scanned::Paper(Credential::from_bytes(&base45::decode(
            body,
        )?)?))
    } else {
        Err(Error::malformed(
            "QR text",
            "not a vaxpass code (unknown prefix)",
        ))
    }
}
