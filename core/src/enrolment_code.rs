//! The enrolment code and the identity proof built from it, shared by the issuer and the clients so
//! that both read them the same way.
//!
//! A code is 15 random Crockford base32 symbols (75 bits) and one check symbol (Luhn mod 32),
//! shown in four groups of four: `7K3M-Q9X2-ABCD-EFG0`. Reading is forgiving as people type
//! (any case, dashes and spaces ignored, `I`/`L` read as `1` and `O` as `0`); the check symbol
//! catches every single mistyped symbol and every swap of two neighbours (but `0Z` ↔ `Z0`, as
//! Luhn's `09` ↔ `90`) before any request is sent. The identity proof a wallet sends is the code
//! together with the citizen's date of birth, in one canonical text (docs/format.md, "Enrolment").

use std::fmt;

use chrono::NaiveDate;
use rand_core::{OsRng, RngCore};

use crate::error::{Error, Result};

/// Crockford's base32 alphabet: no I, L, O or U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random symbols in a code (5 bits each).
pub const RANDOM_SYMBOLS: usize = 15;
/// Symbols in a code, the check symbol included.
pub const CODE_SYMBOLS: usize = RANDOM_SYMBOLS + 1;
/// Bytes of an identity proof: the code, `:`, and the date of birth as `YYYY-MM-DD`.
pub const IDENTITY_PROOF_BYTES: usize = CODE_SYMBOLS + 1 + 10;

/// A well-formed enrolment code (its check symbol matches). `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentCode([u8; CODE_SYMBOLS]);

impl fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnrolmentCode(..)")
    }
}

/// The grouped form to show or print: `7K3M-Q9X2-ABCD-EFG0`.
impl fmt::Display for EnrolmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            // The symbols are ASCII from ALPHABET.
            f.write_str(std::str::from_utf8(group).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

fn value(symbol: u8) -> Option<u32> {
    ALPHABET.iter().position(|&s| s == symbol).map(|v| v as u32)
}

/// Luhn mod 32 over the symbol values: the check symbol that makes the whole code sum to 0.
fn check_symbol(random: &[u8]) -> u8 {
    let mut sum = 0;
    for (i, &symbol) in random.iter().rev().enumerate() {
        let factor = if i % 2 == 0 { 2 } else { 1 };
        let addend = factor * value(symbol).unwrap_or(0);
        sum += addend / 32 + addend % 32;
    }
    ALPHABET[((32 - sum % 32) % 32) as usize]
}

impl EnrolmentCode {
    /// A fresh code from the operating system's random generator.
    pub fn generate() -> Self {
        let mut symbols = [0u8; CODE_SYMBOLS];
        let mut random = [0u8; RANDOM_SYMBOLS];
        OsRng.fill_bytes(&mut random);
        for (symbol, byte) in symbols.iter_mut().zip(random) {
            *symbol = ALPHABET[usize::from(byte % 32)];
        }
        symbols[RANDOM_SYMBOLS] = check_symbol(&symbols[..RANDOM_SYMBOLS]);
        Self(symbols)
    }

    /// Reads a code as a person typed it. The error says what is wrong, never what was typed.
    pub fn parse(text: &str) -> Result<Self> {
        let mut symbols = [0u8; CODE_SYMBOLS];
        let mut count = 0;
        for c in text.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let symbol = match c.to_ascii_uppercase() {
                'I' | 'L' => b'1',
                'O' => b'0',
                c if c.is_ascii() && value(c as u8).is_some() => c as u8,
                _ => {
                    return Err(Error::InvalidArgument(
                        "an enrolment code has only the letters and digits 0-9 A-Z without U"
                            .into(),
                    ))
                }
            };
            if count == CODE_SYMBOLS {
                return Err(too_long_or_short());
            }
            symbols[count] = symbol;
            count += 1;
        }
        if count != CODE_SYMBOLS {
            return Err(too_long_or_short());
        }
        if check_symbol(&symbols[..RANDOM_SYMBOLS]) != symbols[RANDOM_SYMBOLS] {
            return Err(Error::InvalidArgument(
                "the enrolment code has a typo: its last symbol does not match the others".into(),
            ));
        }
        Ok(Self(symbols))
    }

    /// The 16 symbols without separators, as the identity proof carries them.
    pub fn canonical(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

fn too_long_or_short() -> Error {
    Error::InvalidArgument(format!(
        "an enrolment code has {CODE_SYMBOLS} letters and digits, e.g. 7K3M-Q9X2-ABCD-EFG0"
    ))
}

/// The identity proof of the enrolment request: `CODE:YYYY-MM-DD`, the code's 16 canonical
/// symbols, a colon and the date of birth, 27 ASCII bytes.
pub fn identity_proof(code: &EnrolmentCode, date_of_birth: NaiveDate) -> Vec<u8> {
    format!("{}:{}", code.canonical(), date_of_birth.format("%Y-%m-%d")).into_bytes()
}

/// Reads what [`identity_proof`] wrote, and only that: exactly one encoding is accepted.
pub fn parse_identity_proof(proof: &[u8]) -> Option<(EnrolmentCode, NaiveDate)> {
    if proof.len() != IDENTITY_PROOF_BYTES || proof.get(CODE_SYMBOLS) != Some(&b':') {
        return None;
    }
    let text = std::str::from_utf8(proof).ok()?;
    let (code, date) = text.split_at(CODE_SYMBOLS);
    if !code.bytes().all(|b| value(b).is_some()) {
        return None; // lower case, separators and look-alikes are for people, not the wire
    }
    let code = EnrolmentCode::parse(code).ok()?;
    let date = NaiveDate::parse_from_str(&date[1..], "%Y-%m-%d").ok()?;
    (identity_proof(&code, date) == proof).then_some((code, date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_have_75_random_bits_and_a_valid_check_symbol() {
        let a = EnrolmentCode::generate();
        let b = EnrolmentCode::generate();
        assert_ne!(a, b);
        let shown = a.to_string();
        assert_eq!(shown.len(), 19);
        assert_eq!(shown.matches('-').count(), 3);
        assert_eq!(EnrolmentCode::parse(&shown).unwrap(), a);
        assert_eq!(EnrolmentCode::parse(a.canonical()).unwrap(), a);
        assert_eq!(format!("{a:?}"), "EnrolmentCode(..)");
        assert!(
            EnrolmentCode::parse("7K3M-Q9X2-ABCD-EFG0").is_ok(),
            "the documented example"
        );
    }

    #[test]
    fn codes_read_as_people_type_them() {
        let code = EnrolmentCode::generate();
        let typed = format!(
            " {} ",
            code.to_string().to_ascii_lowercase().replace('-', " ")
        );
        assert_eq!(EnrolmentCode::parse(&typed).unwrap(), code);
        let zero_one = EnrolmentCode::parse("0000-0000-0000-0000").unwrap();
        assert_eq!(
            EnrolmentCode::parse("oOoO-0000-0000-0000").unwrap(),
            zero_one
        );
    }

    #[test]
    fn the_check_symbol_catches_every_single_typo_and_every_neighbour_swap_but_0_z() {
        for _ in 0..50 {
            let code = EnrolmentCode::generate();
            let symbols = code.0;
            for i in 0..CODE_SYMBOLS {
                for &other in ALPHABET {
                    if other == symbols[i] {
                        continue;
                    }
                    let mut typo = symbols;
                    typo[i] = other;
                    let typo = std::str::from_utf8(&typo).unwrap();
                    assert!(EnrolmentCode::parse(typo).is_err(), "single typo at {i}");
                }
                let pair = [symbols[i], *symbols.get(i + 1).unwrap_or(&b'0')];
                if i + 1 < CODE_SYMBOLS && pair[0] != pair[1] && pair != *b"0Z" && pair != *b"Z0" {
                    let mut swapped = symbols;
                    swapped.swap(i, i + 1);
                    let swapped = std::str::from_utf8(&swapped).unwrap();
                    assert!(EnrolmentCode::parse(swapped).is_err(), "swap at {i}");
                }
            }
        }
        for bad in [
            "",
            "7K3M-Q9X2-ABCD",
            "7K3M-Q9X2-ABCD-EFG0-J",
            "UUUU-UUUU-UUUU-UUUU",
        ] {
            assert!(EnrolmentCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_identity_proof_has_exactly_one_encoding() {
        let code = EnrolmentCode::generate();
        let born = NaiveDate::from_ymd_opt(1985, 3, 14).unwrap();
        let proof = identity_proof(&code, born);
        assert_eq!(proof.len(), IDENTITY_PROOF_BYTES);
        assert_eq!(parse_identity_proof(&proof), Some((code.clone(), born)));
        let text = String::from_utf8(proof).unwrap();
        let grouped = format!("{code}:1985-03-14");
        let lower = text.to_ascii_lowercase();
        let unpadded = format!("{}:1985-3-14", code.canonical());
        let spaced = format!("{text} ");
        for bad in [
            &grouped,
            &lower,
            &unpadded,
            &spaced,
            &text.replace(':', "/"),
        ] {
            assert_eq!(parse_identity_proof(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse_identity_proof(b""), None);
    }
}
