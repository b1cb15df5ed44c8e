//! The transport layers of an HC1 QR text: the `HC1:` context identifier, base45 (RFC 9285) and
//! zlib (RFC 1950), each bounded so a hostile QR text costs little memory.

use std::borrow::Cow;

use crate::error::DccError;
use crate::Limits;

/// The context identifier of an EU DCC (HCERT version 1).
pub const PREFIX: &str = "HC1:";

/// Strips the `HC1:` prefix after checking the text length. Other identifiers (`HC2:`, `HL0:`)
/// and a missing one are refused: the DCC spec defines only `HC1:`.
pub(crate) fn strip_prefix<'a>(text: &'a str, limits: &Limits) -> Result<&'a str, DccError> {
    if text.len() > limits.max_qr_text_len {
        return Err(DccError::Prefix("text is longer than a QR code holds"));
    }
    text.strip_prefix(PREFIX)
        .ok_or(DccError::Prefix("text does not start with HC1:"))
}

/// Decodes the base45 body with the core's RFC 9285 decoder.
pub(crate) fn base45(body: &str) -> Result<Vec<u8>, DccError> {
    vaxpass::base45::decode(body).map_err(|e| match e {
        vaxpass::Error::Malformed { why, .. } => DccError::Base45(why),
        _ => DccError::Base45("not valid base45"),
    })
}

/// Whether `data` starts with a valid zlib header (RFC 1950 section 2.2): deflate with a window
/// of at most 32 KiB, a header checksum that is a multiple of 31 and no preset dictionary.
pub(crate) fn has_zlib_header(data: &[u8]) -> bool {
    match *data {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
                && flg & 0x20 == 0
        }
        _ => false,
    }
}

/// Inflates the zlib stream, refusing output larger than `limits.max_inflated_len`.
///
/// Data without a zlib header is refused unless `allow_uncompressed` is set: the upstream test
/// suite (dgc-testdata `Z2`) expects uncompressed COSE to fail, while some national verifier apps
/// pass it through. Either way a stream that has a zlib header must inflate cleanly, checksum
/// included.
pub(crate) fn inflate<'a>(
    data: &'a [u8],
    limits: &Limits,
    allow_uncompressed: bool,
) -> Result<Cow<'a, [u8]>, DccError> {
    if !has_zlib_header(data) {
        return if allow_uncompressed {
            if data.len() > limits.max_inflated_len {
                return Err(DccError::Decompress("data exceeds the size limit"));
            }
            Ok(Cow::Borrowed(data))
        } else {
            Err(DccError::Decompress("data is not zlib-compressed"))
        };
    }
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, limits.max_inflated_len)
        .map(Cow::Owned)
        .map_err(|e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                DccError::Decompress("inflated data exceeds the size limit")
            }
            miniz_oxide::inflate::TINFLStatus::Adler32Mismatch => {
                DccError::Decompress("zlib checksum mismatch")
            }
            miniz_oxide::inflate::TINFLStatus::FailedCannotMakeProgress => {
                DccError::Decompress("truncated zlib stream")
            }
            _ => DccError::Decompress("invalid zlib stream"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(data, 9)
    }

    #[test]
    fn prefix_table() {
        let limits = Limits::default();
        let long = format!("HC1:{}", "0".repeat(limits.max_qr_text_len));
        let table: &[(&str, Result<&str, DccError>)] = &[
            ("HC1:ABC", Ok("ABC")),
            ("HC1:", Ok("")),
            (
                "HL0:ABC",
                Err(DccError::Prefix("text does not start with HC1:")),
            ),
            (
                "HC2:ABC",
                Err(DccError::Prefix("text does not start with HC1:")),
            ),
            (
                "hc1:ABC",
                Err(DccError::Prefix("text does not start with HC1:")),
            ),
            (
                "ABC",
                Err(DccError::Prefix("text does not start with HC1:")),
            ),
            (
                " HC1:ABC",
                Err(DccError::Prefix("text does not start with HC1:")),
            ),
            (
                &long,
                Err(DccError::Prefix("text is longer than a QR code holds")),
            ),
        ];
        for (text, expected) in table {
            assert_eq!(&strip_prefix(text, &limits), expected, "{text:.12}");
        }
    }

    #[test]
    fn base45_table() {
        assert_eq!(base45("BB8").unwrap(), b"AB");
        assert_eq!(base45("").unwrap(), b"");
        for bad in ["GGW", "A", "ab", "BB8\n"] {
            assert_eq!(
                base45(bad).unwrap_err().stage(),
                crate::Stage::Base45,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn zlib_header_table() {
        let table: &[(&[u8], bool)] = &[
            (&[0x78, 0x9c], true),
            (&[0x78, 0xda], true),
            (&[0x78, 0x01], true),
            (&[0x78, 0x5e], true),
            (&[0x78, 0x9d], false), // checksum
            (&[0x78, 0xbb], false), // preset dictionary (0x78bb % 31 == 0)
            (&[0x79, 0x9c], false), // not deflate
            (&[0xd2, 0x84], false), // COSE_Sign1 tag 18
            (&[0x84, 0x43], false), // untagged COSE_Sign1
            (&[0x78], false),
            (&[], false),
        ];
        for (data, expected) in table {
            assert_eq!(has_zlib_header(data), *expected, "{data:02x?}");
        }
    }

    #[test]
    fn inflate_table() {
        let limits = Limits {
            max_inflated_len: 100,
            ..Limits::default()
        };
        let ok = zlib(b"hello");
        let mut bad_sum = ok.clone();
        let last = bad_sum.len() - 1;
        bad_sum[last] ^= 1;
        let truncated = &ok[..ok.len() - 6];
        let bomb = zlib(&[0u8; 101]);
        let exact = zlib(&[0u8; 100]);
        let raw = b"\xd2\x84raw";

        assert_eq!(inflate(&ok, &limits, false).unwrap().as_ref(), b"hello");
        assert_eq!(inflate(&exact, &limits, false).unwrap().len(), 100);
        let table: &[(&[u8], bool, &str)] = &[
            (&bad_sum, false, "decompression: zlib checksum mismatch"),
            (truncated, false, "decompression: truncated zlib stream"),
            (
                &bomb,
                false,
                "decompression: inflated data exceeds the size limit",
            ),
            (raw, false, "decompression: data is not zlib-compressed"),
            (
                &[0x78, 0x9c, 0xff, 0xff],
                false,
                "decompression: invalid zlib stream",
            ),
            (
                &[0u8; 101],
                true,
                "decompression: data exceeds the size limit",
            ),
        ];
        for (data, lenient, message) in table {
            let err = inflate(data, &limits, *lenient).unwrap_err();
            assert_eq!(err.to_string(), *message);
        }
        assert_eq!(inflate(raw, &limits, true).unwrap().as_ref(), raw);
        // A zlib stream stays a zlib stream in lenient mode: it must still inflate.
        assert!(inflate(&bad_sum, &limits, true).is_err());
    }
}
