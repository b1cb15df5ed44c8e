//! QR text: a short versioned prefix, then base45 of the CBOR. Every character is in the QR
//! alphanumeric set. `VP1:` carries a rotating presentation, `VC1:` a bare (paper) credential.
//! Scanned text is first made back into that text ([`from_scanner`]): scanners add whitespace,
//! and a keyboard-wedge scanner typing into a Korean input method delivers Hangul.

use crate::base45;
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::korean_ime;
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

/// The most whitespace characters (space, TAB, CR, LF) removed from each end of scanned text:
/// what scanners and camera decoders add, and no more.
pub const MAX_SURROUNDING_WHITESPACE: usize = 4;
/// The most bytes of scanned text that are read at all: a QR text as a Korean input method types
/// it (at most three bytes of UTF-8 per character) and the whitespace around it.
pub const MAX_SCANNED_BYTES: usize = 3 * MAX_TEXT_CHARS + 2 * MAX_SURROUNDING_WHITESPACE;

/// Text as a scanner delivered it, made back into the text the wallet encoded: see
/// [`from_scanner`]. `Debug` names the case only: the text is the pass.
pub enum FromScanner<'a> {
    /// The text as delivered, without the whitespace around it.
    Plain(&'a str),
    /// The text recovered from the Hangul a Korean input method made of a keyboard-wedge
    /// scanner's key presses.
    Recovered(String),
    /// Hangul that the 2-set layout does not type from a QR text: the text cannot be recovered,
    /// and the input method must be switched to English.
    KoreanInputMethod,
}

impl std::fmt::Debug for FromScanner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FromScanner::Plain(_) => "Plain(<redacted>)",
            FromScanner::Recovered(_) => "Recovered(<redacted>)",
            FromScanner::KoreanInputMethod => "KoreanInputMethod",
        })
    }
}

impl FromScanner<'_> {
    /// The text to parse, or a malformed error for Hangul that cannot be recovered.
    pub fn text(&self) -> Result<&str> {
        match self {
            FromScanner::Plain(text) => Ok(text),
            FromScanner::Recovered(text) => Ok(text),
            FromScanner::KoreanInputMethod => Err(Error::malformed(
                "QR text",
                "typed through a Korean input method and not recoverable: switch it to English",
            )),
        }
    }
}

/// The one place where scanned text is adjusted before it is parsed (docs/format.md, "QR text"):
/// up to [`MAX_SURROUNDING_WHITESPACE`] spaces, TABs, CRs and LFs are removed from each end, and
/// text holding Hangul is read as the keys a 2-set Korean input method turned into it. Nothing
/// else is changed. Text over [`MAX_SCANNED_BYTES`] is handed on as it is, for
/// [`parse_exact`] to refuse before any other work.
pub fn from_scanner(text: &str) -> FromScanner<'_> {
    if text.len() > MAX_SCANNED_BYTES {
        return FromScanner::Plain(text);
    }
    let text = without_surrounding_whitespace(text);
    if text.is_ascii() || !text.chars().any(korean_ime::is_hangul) {
        return FromScanner::Plain(text);
    }
    match korean_ime::recover(text) {
        Some(recovered) => FromScanner::Recovered(recovered),
        None => FromScanner::KoreanInputMethod,
    }
}

/// `text` without the whitespace at each end when there are at most
/// [`MAX_SURROUNDING_WHITESPACE`] characters of it there; more is left for the parser to refuse.
fn without_surrounding_whitespace(text: &str) -> &str {
    let count = |bytes: &mut dyn Iterator<Item = u8>| {
        let n = bytes
            .take(MAX_SURROUNDING_WHITESPACE + 1)
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        if n > MAX_SURROUNDING_WHITESPACE {
            0
        } else {
            n
        }
    };
    let start = count(&mut text.bytes());
    let end = text.len() - count(&mut text.bytes().rev());
    // Whitespace is ASCII, so both ends are character boundaries; all-whitespace text is empty.
    text.get(start..end.max(start)).unwrap_or(text)
}

/// Parses text as a scanner hands it over: [`from_scanner`], then [`parse_exact`].
pub fn parse(text: &str) -> Result<Scanned> {
    parse_exact(from_scanner(text).text()?)
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
