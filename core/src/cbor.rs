//! Bounded, canonical CBOR decoding and small readers for maps with integer keys. Every parser in
//! the core goes through [`decode`], which enforces a size limit, a nesting limit and the one
//! encoding docs/format.md allows; [`IntMap`] reads a map whose set of keys is closed.

use ciborium::value::Value;

use crate::error::{Error, Result};

/// Nesting depth no vaxpass structure comes near; deeper input is refused before it is walked.
const MAX_DEPTH: usize = 16;

/// Decodes one CBOR item that must fill `bytes` exactly and be in the one encoding vaxpass uses:
/// RFC 8949 section 4.2.1 core deterministic encoding (shortest integer and length forms,
/// definite lengths, map keys in ascending bytewise order of their encodings, no duplicates), and
/// only the data types the format has (integers, byte and text strings, arrays, maps, booleans;
/// no tags, floats, null, undefined or other simple values). With one encoding per structure, a
/// hash or signature over bytes speaks for exactly one value.
pub(crate) fn decode(bytes: &[u8], limit: usize, what: &'static str) -> Result<Value> {
    if bytes.len() > limit {
        return Err(Error::TooLarge {
            what,
            size: bytes.len(),
            limit,
        });
    }
    let mut reader = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH)
        .map_err(|_| Error::malformed(what, "not valid CBOR or nested too deeply"))?;
    if !reader.is_empty() {
        return Err(Error::malformed(what, "trailing bytes after the CBOR item"));
    }
    // ciborium writes the shortest forms and keeps map entries in the order read, so writing the
    // value back gives the input only if its integers and lengths were in shortest form.
    let mut rest = Unmatched(bytes);
    if ciborium::ser::into_writer(&value, &mut rest).is_err() || !rest.0.is_empty() {
        return Err(Error::malformed(what, "not canonically encoded"));
    }
    check_deterministic(&value, what)?;
    Ok(value)
}

/// The rest of the deterministic encoding, which writing back cannot see: the data types, and
/// map keys sorted and unique. The depth was bounded when the value was read.
fn check_deterministic(value: &Value, what: &'static str) -> Result<()> {
    match value {
        Value::Integer(_) | Value::Bytes(_) | Value::Text(_) | Value::Bool(_) => Ok(()),
        Value::Array(items) => items.iter().try_for_each(|v| check_deterministic(v, what)),
        Value::Map(pairs) => {
            let (mut previous, mut current) = (Vec::new(), Vec::new());
            for (i, (key, value)) in pairs.iter().enumerate() {
                check_deterministic(key, what)?;
                check_deterministic(value, what)?;
                current.clear();
                ciborium::ser::into_writer(key, &mut current)
                    .map_err(|_| Error::malformed(what, "not canonically encoded"))?;
                if i > 0 && current <= previous {
                    return Err(Error::malformed(
                        what,
                        "map keys are not in ascending canonical order (or repeat)",
                    ));
                }
                std::mem::swap(&mut previous, &mut current);
            }
            Ok(())
        }
        _ => Err(Error::malformed(
            what,
            "a CBOR tag, float or simple value, which the format does not use",
        )),
    }
}

/// A writer that compares what is written with the bytes it holds and keeps what is left: the
/// canonical check re-encodes without a second copy of the input (lists reach 16 MB).
struct Unmatched<'a>(&'a [u8]);

impl std::io::Write for Unmatched<'_> {
    fn write(&mut self, written: &[u8]) -> std::io::Result<usize> {
        match self.0.strip_prefix(written) {
            Some(rest) => {
                self.0 = rest;
                Ok(written.len())
            }
            None => Err(std::io::ErrorKind::InvalidData.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encodes a CBOR value.
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out)
        .map_err(|_| Error::malformed("CBOR value", "cannot be encoded"))?;
    Ok(out)
}

/// A decoded map with integer keys, read field by field. Every vaxpass map is closed: the caller
/// names the keys it may have, and any other key is refused (an unknown field would be signed but
/// ignored, a second encoding of the same meaning). Order and uniqueness were checked by
/// [`decode`]; duplicates are refused here too, for maps built in memory.
pub(crate) struct IntMap {
    what: &'static str,
    entries: Vec<(i64, Value)>,
}

impl IntMap {
    pub(crate) fn new(value: Value, what: &'static str, fields: &[i64]) -> Result<Self> {
        let Value::Map(pairs) = value else {
            return Err(Error::malformed(what, "expected a map"));
        };
        let mut entries = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            let key = int(&key, what)?;
            if !fields.contains(&key) {
                return Err(Error::malformed(what, "unknown map key"));
            }
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(Error::malformed(what, "duplicate map key"));
            }
            entries.push((key, value));
        }
        Ok(Self { what, entries })
    }

    pub(crate) fn optional(&mut self, key: i64) -> Option<Value> {
        let index = self.entries.iter().position(|(k, _)| *k == key)?;
        Some(self.entries.swap_remove(index).1)
    }

    pub(crate) fn required(&mut self, key: i64) -> Result<Value> {
        self.optional(key)
            .ok_or(Error::malformed(self.what, "a required field is missing"))
    }
}

pub(crate) fn int(value: &Value, what: &'static str) -> Result<i64> {
    match value {
        Value::Integer(i) => {
            i64::try_from(*i).map_err(|_| Error::malformed(what, "integer out of range"))
        }
        _ => Err(Error::malformed(what, "expected an integer")),
    }
}

pub(crate) fn uint(value: &Value, what: &'static str) -> Result<u64> {
    match value {
        Value::Integer(i) => {
            u64::try_from(*i).map_err(|_| Error::malformed(what, "expected an unsigned integer"))
        }
        _ => Err(Error::malformed(what, "expected an integer")),
    }
}

pub(crate) fn small(value: &Value, what: &'static str) -> Result<u8> {
    u8::try_from(uint(value, what)?).map_err(|_| Error::malformed(what, "number out of range"))
}

pub(crate) fn bytes(value: Value, what: &'static str) -> Result<Vec<u8>> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(Error::malformed(what, "expected a byte string")),
    }
}

pub(crate) fn fixed<const N: usize>(value: Value, what: &'static str) -> Result<[u8; N]> {
    bytes(value, what)?
        .try_into()
        .map_err(|_| Error::malformed(what, "byte string has the wrong length"))
}

pub(crate) fn text(value: Value, what: &'static str) -> Result<String> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(Error::malformed(what, "expected a text string")),
    }
}

pub(crate) fn array(value: Value, what: &'static str, max: usize) -> Result<Vec<Value>> {
    match value {
        Value::Array(items) if items.len() <= max => Ok(items),
        Value::Array(_) => Err(Error::malformed(what, "too many items")),
        _ => Err(Error::malformed(what, "expected an array")),
    }
}

/// Builds a map with integer keys, skipping absent optional fields.
pub(crate) fn map(fields: impl IntoIterator<Item = (i64, Option<Value>)>) -> Value {
    Value::Map(
        fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (Value::Integer(k.into()), v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_canonical_form() {
        // [1, 2]
        assert!(decode(&[0x82, 0x01, 0x02], 16, "t").is_ok());
        // too large
        assert!(matches!(
            decode(&[0x82, 0x01, 0x02], 2, "t"),
            Err(Error::TooLarge { .. })
        ));
        // trailing byte
        assert!(decode(&[0x01, 0x01], 16, "t").is_err());
        // 1 encoded in two bytes is not canonical
        assert!(decode(&[0x18, 0x01], 16, "t").is_err());
        // indefinite-length array is not canonical
        assert!(decode(&[0x9f, 0x01, 0xff], 16, "t").is_err());
        // undefined and other simple values are not in the format
        assert!(decode(&[0xf7], 16, "t").is_err());
        assert!(decode(&[0xe0], 16, "t").is_err());
        // deep nesting is refused, not walked
        let deep: Vec<u8> = std::iter::repeat_n(0x81u8, 1000).chain([0x00]).collect();
        assert!(decode(&deep, 4096, "t").is_err());
        // a huge declared length does not allocate or hang
        assert!(decode(
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            64,
            "t"
        )
        .is_err());
    }

    /// Each row is valid CBOR that the old decoder accepted but is not the one encoding the format
    /// allows; the last rows are the canonical forms, accepted.
    #[test]
    fn decode_refuses_every_non_deterministic_variant() {
        let refused: [(&str, &[u8]); 7] = [
            (
                "map keys out of order {2: 0, 1: 0}",
                &[0xa2, 0x02, 0x00, 0x01, 0x00],
            ),
            (
                "negative key before positive {-1: 0, 1: 0}",
                &[0xa2, 0x20, 0x00, 0x01, 0x00],
            ),
            ("repeated key {1: 0, 1: 0}", &[0xa2, 0x01, 0x00, 0x01, 0x00]),
            (
                "unsorted map nested in an array",
                &[0x81, 0xa2, 0x04, 0x00, 0x03, 0x00],
            ),
            ("a tag (1, epoch time)", &[0xc1, 0x00]),
            ("a half float", &[0xf9, 0x3c, 0x00]),
            ("null", &[0xf6]),
        ];
        let accepted: Vec<&str> = refused
            .into_iter()
            .filter(|(_, bytes)| !matches!(decode(bytes, 64, "t"), Err(Error::Malformed { .. })))
            .map(|(name, _)| name)
            .collect();
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
        let accepted: [&[u8]; 4] = [
            &[0xa3, 0x01, 0x00, 0x20, 0x00, 0x21, 0x00], // {1: 0, -1: 0, -2: 0}
            &[0xa2, 0x17, 0x00, 0x18, 0x18, 0x00],       // {23: 0, 24: 0}
            &[0xa2, 0x08, 0x00, 0x3a, 0x00, 0x01, 0x00, 0x00, 0x00], // {8: 0, -65537: 0}
            &[0x82, 0xf5, 0xf4],                         // [true, false]
        ];
        for bytes in accepted {
            assert!(decode(bytes, 64, "t").is_ok(), "{bytes:02x?} was refused");
        }
    }

    #[test]
    fn int_map_refuses_unknown_keys() {
        let v = Value::Map(vec![(1.into(), 1.into()), (2.into(), 2.into())]);
        assert!(IntMap::new(v.clone(), "t", &[1]).is_err());
        assert!(IntMap::new(v, "t", &[1, 2]).is_ok());
    }

    #[test]
    fn int_map_refuses_duplicates() {
        let v = Value::Map(vec![(1.into(), 1.into()), (1.into(), 2.into())]);
        assert!(IntMap::new(v, "t", &[1]).is_err());
    }
}
