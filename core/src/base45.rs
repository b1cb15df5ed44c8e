//! Base45 (RFC 9285): bytes to the QR alphanumeric set, so a QR code packs 5.5 bits per character.

use crate::error::{Error, Result};

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Character to digit, 255 for characters outside the alphabet: decoding is on the verify path.
const DIGITS: [u8; 256] = {
    let mut table = [255u8; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Whether `c` is one of the 45 characters of base45 text.
pub fn in_alphabet(c: char) -> bool {
    u8::try_from(c).is_ok_and(|b| DIGITS[usize::from(b)] != 255)
}

/// Encodes bytes as base45 text.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(2) * 3);
    for chunk in input.chunks(2) {
        let (mut n, digits) = match *chunk {
            [a, b] => (usize::from(a) * 256 + usize::from(b), 3),
            [a] => (usize::from(a), 2),
            _ => unreachable!("chunks(2) yields one or two bytes"),
        };
        for _ in 0..digits {
            out.push(char::from(ALPHABET[n % 45]));
            n /= 45;
        }
    }
    out
}

/// Decodes base45 text. Rejects characters outside the alphabet, a dangling single character and
/// groups whose value overflows (e.g. `GGW`).
pub fn decode(input: &str) -> Result<Vec<u8>> {
    let digits: Vec<u32> = input
        .bytes()
        .map(|c| {
            Some(DIGITS[usize::from(c)])
                .filter(|&d| d != 255)
                .map(u32::from)
        })
        .collect::<Option<_>>()
        .ok_or(Error::malformed(
            "base45",
            "character outside the base45 alphabet",
        ))?;
    let mut out = Vec::with_capacity(digits.len() / 3 * 2 + 1);
    for group in digits.chunks(3) {
        match *group {
            [c, d, e] => {
                let n = c + d * 45 + e * 45 * 45;
                let n = u16::try_from(n)
                    .map_err(|_| Error::malformed("base45", "group value out of range"))?;
                out.extend_from_slice(&n.to_be_bytes());
            }
            [c, d] => {
                let n = u8::try_from(c + d * 45)
                    .map_err(|_| Error::malformed("base45", "group value out of range"))?;
                out.push(n);
            }
            _ => return Err(Error::malformed("base45", "dangling character")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9285 section 4 examples.
    #[test]
    fn rfc_9285_known_answers() {
        let table: &[(&[u8], &str)] = &[
            (b"AB", "BB8"),
            (b"Hello!!", "%69 VD92EX0"),
            (b"base-45", "UJCLQE7W581"),
            (b"ietf!", "QED8WEX0"),
            (b"", ""),
        ];
        for (bytes, text) in table {
            assert_eq!(encode(bytes), *text);
            assert_eq!(decode(text).unwrap(), *bytes);
        }
    }

    #[test]
    fn rejects_bad_input() {
        for bad in ["GGW", "a", "ZZZZ", "A", "BB8x", "é"] {
            assert!(decode(bad).is_err(), "{bad:?} should not decode");
        }
    }

    #[test]
    fn round_trips_every_byte_pair() {
        let bytes: Vec<u8> = (0..=255u8).flat_map(|a| [a, 255 - a, a]).collect();
        assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
    }
}
