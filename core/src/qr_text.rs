//! QR text: a short versioned prefix, then base45 of the CBOR. Every character is in the QR
//! alphanumeric set. `VP1:` carries a rotating presentation, `VC1:` a bare (paper) credential.

use crate::base45;
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::presentation::Presentation;

/// Prefix of a rotating presentation's text: format version 1 (docs/format.md).
pub const PRESENTATION_PREFIX: &str = "VP1:";
/// Prefix of a paper pass's text (a bare credential): format version 1 (docs/format.md).
pub const PAPER_PREFIX: &str = "VC1:";
/// The most characters a QR code can hold in alphanumeric mode (version 40, ECC L).
pub const MAX_TEXT_CHARS: usize = 4296;

/// What a scanned QR text holds. `Debug` redacts the holder (see [`Credential`]).
#[derive(Debug, Clone)]
pub enum Scanned {
    /// A rotating presentation (`VP1:`): the device signature proves a phone holding the key.
    Presentation(Presentation),
    /// A paper pass (`VC1:`): a bare credential, to be checked against an ID document.
    Paper(Credential),
}

/// The `VP1:` text of presentation bytes.
pub fn presentation_text(presentation_bytes: &[u8]) -> String {
    format!(
        "{PRESENTATION_PREFIX}{}",
        base45::encode(presentation_bytes)
    )
}

/// The `VC1:` text of credential bytes.
pub fn paper_text(credential_bytes: &[u8]) -> String {
    format!("{PAPER_PREFIX}{}", base45::encode(credential_bytes))
}

/// Parses text as a scanner hands it over: [`without_scanner_suffix`], then [`parse_exact`].
pub fn parse(text: &str) -> Result<Scanned> {
    parse_exact(without_scanner_suffix(text))
}

/// The one place where scanned text is adjusted before it is parsed. Scanners often end what
/// they read with a line break, so one line break at the end (LF, CR LF or CR) is removed; nothing
/// else is (docs/format.md, "QR text").
pub fn without_scanner_suffix(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix(['\n', '\r']))
        .unwrap_or(text)
}

/// Parses QR text exactly as the wallet encodes it: a prefix and base45, nothing around them.
pub fn parse_exact(text: &str) -> Result<Scanned> {
    if text.len() > MAX_TEXT_CHARS {
        return Err(Error::TooLarge {
            what: "QR text",
            size: text.len(),
            limit: MAX_TEXT_CHARS,
        });
    }
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
