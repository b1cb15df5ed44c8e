//! The COSE_Sign1 envelope (RFC 9052 section 4.2): tagged 18, untagged, or inside a CWT tag 61,
//! parsed with `coset` after a depth-bounded CBOR read. Also reads the `alg` and `kid` headers the
//! way the DCC specifies them: the protected header first, the unprotected one as a fallback.

use coset::{AsCborValue as _, CoseSign1, Header, RegisteredLabelWithPrivate};

use crate::error::{AlgorithmProblem, DccError};
use crate::signature::Algorithm;

/// The CBOR tag of a COSE_Sign1 message.
const TAG_COSE_SIGN1: u64 = 18;
/// The CBOR tag of a CWT (RFC 8392 section 6), which some issuers put around tag 18.
const TAG_CWT: u64 = 61;

/// Reads one CBOR data item from the whole of `bytes`, at most `max_depth` levels deep.
/// Trailing bytes are refused: a signed message has one meaning.
pub(crate) fn read_cbor(bytes: &[u8], max_depth: usize) -> Result<ciborium::Value, &'static str> {
    let mut rest = bytes;
    let value: ciborium::Value = ciborium::de::from_reader_with_recursion_limit(
        &mut rest, max_depth,
    )
    .map_err(|e| match e {
        ciborium::de::Error::RecursionLimitExceeded => "CBOR nesting is too deep",
        ciborium::de::Error::Io(_) => "truncated CBOR",
        _ => "malformed CBOR",
    })?;
    if !rest.is_empty() {
        return Err("trailing bytes after the CBOR item");
    }
    Ok(value)
}

/// Parses a COSE_Sign1 message. The payload must be attached (not nil).
pub(crate) fn parse_sign1(bytes: &[u8], max_depth: usize) -> Result<CoseSign1, DccError> {
    let value = read_cbor(bytes, max_depth).map_err(DccError::Cose)?;
    let value = match value {
        ciborium::Value::Tag(TAG_COSE_SIGN1, inner) => *inner,
        ciborium::Value::Tag(TAG_CWT, inner) => match *inner {
            ciborium::Value::Tag(TAG_COSE_SIGN1, inner) => *inner,
            _ => return Err(DccError::Cose("CWT tag without a COSE_Sign1 inside")),
        },
        ciborium::Value::Tag(..) => return Err(DccError::Cose("tag is not COSE_Sign1 (18)")),
        untagged => untagged,
    };
    let sign1 = CoseSign1::from_cbor_value(value)
        .map_err(|_| DccError::Cose("not a COSE_Sign1 structure"))?;
    if sign1.payload.is_none() {
        return Err(DccError::Cose("detached payload"));
    }
    Ok(sign1)
}

/// The algorithm named by the headers: the protected `alg`, else the unprotected one.
pub(crate) fn algorithm(sign1: &CoseSign1) -> Result<Algorithm, AlgorithmProblem> {
    let alg = sign1
        .protected
        .header
        .alg
        .as_ref()
        .or(sign1.unprotected.alg.as_ref())
        .ok_or(AlgorithmProblem::Missing)?;
    match alg {
        RegisteredLabelWithPrivate::Assigned(a) => Algorithm::from_cose_id(*a as i64),
        RegisteredLabelWithPrivate::PrivateUse(id) => Err(AlgorithmProblem::Unsupported(*id)),
        RegisteredLabelWithPrivate::Text(_) => Err(AlgorithmProblem::Text),
    }
}

/// Where the key identifier was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KidLocation {
    Protected,
    Unprotected,
}

/// The key identifier: the protected `kid` when present, else the unprotected one (the DCC
/// allows either; a protected one wins because only it is covered by the signature).
pub(crate) fn kid(sign1: &CoseSign1) -> Option<(&[u8], KidLocation)> {
    fn of(header: &Header) -> Option<&[u8]> {
        (!header.key_id.is_empty()).then_some(header.key_id.as_slice())
    }
    of(&sign1.protected.header)
        .map(|k| (k, KidLocation::Protected))
        .or_else(|| of(&sign1.unprotected).map(|k| (k, KidLocation::Unprotected)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use coset::{
        iana, CborSerializable as _, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable as _,
    };

    const DEPTH: usize = 16;

    fn sign1(protected: Header, unprotected: Header) -> CoseSign1 {
        CoseSign1Builder::new()
            .protected(protected)
            .unprotected(unprotected)
            .payload(b"payload".to_vec())
            .signature(vec![1; 64])
            .build()
    }

    #[test]
    fn envelopes() {
        let msg = sign1(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .key_id(b"kid".to_vec())
                .build(),
            Header::default(),
        );
        let untagged = msg.clone().to_vec().unwrap();
        let tagged = msg.clone().to_tagged_vec().unwrap();
        let mut cwt = vec![0xd8, 0x3d];
        cwt.extend_from_slice(&tagged);
        let mut wrong_tag = tagged.clone();
        wrong_tag[0] = 0xd1; // tag 17, COSE_Mac0
        let mut trailing = tagged.clone();
        trailing.push(0);
        let detached = {
            let mut m = msg.clone();
            m.payload = None;
            m.to_tagged_vec().unwrap()
        };
        let mut deep = vec![0x81; 100];
        deep.push(0);

        for ok in [&untagged, &tagged, &cwt] {
            let parsed = parse_sign1(ok, DEPTH).unwrap();
            assert_eq!(parsed.payload.as_deref(), Some(&b"payload"[..]));
            assert_eq!(algorithm(&parsed), Ok(Algorithm::Es256));
            assert_eq!(kid(&parsed), Some((&b"kid"[..], KidLocation::Protected)));
        }
        let table: &[(&[u8], &str)] = &[
            (&wrong_tag, "COSE_Sign1: tag is not COSE_Sign1 (18)"),
            (&trailing, "COSE_Sign1: trailing bytes after the CBOR item"),
            (&detached, "COSE_Sign1: detached payload"),
            (&tagged[..tagged.len() - 1], "COSE_Sign1: truncated CBOR"),
            (&deep, "COSE_Sign1: CBOR nesting is too deep"),
            (
                &[0xd2, 0x83, 0x40, 0xa0, 0x40],
                "COSE_Sign1: not a COSE_Sign1 structure",
            ),
            (&[0x00], "COSE_Sign1: not a COSE_Sign1 structure"),
            (
                &[0xd8, 0x3d, 0x00],
                "COSE_Sign1: CWT tag without a COSE_Sign1 inside",
            ),
            (&[0xff], "COSE_Sign1: malformed CBOR"),
            (&[], "COSE_Sign1: truncated CBOR"),
        ];
        for (bytes, message) in table {
            let err = parse_sign1(bytes, DEPTH).unwrap_err();
            assert_eq!(err.to_string(), *message, "{bytes:02x?}");
        }
    }

    #[test]
    fn header_precedence() {
        let with = |alg: Option<iana::Algorithm>, kid: &[u8]| {
            let mut b = HeaderBuilder::new().key_id(kid.to_vec());
            if let Some(alg) = alg {
                b = b.algorithm(alg);
            }
            b.build()
        };
        type Case<'a> = (
            Header,
            Header,
            Result<Algorithm, AlgorithmProblem>,
            Option<(&'a [u8], KidLocation)>,
        );
        let table: Vec<Case<'_>> = vec![
            (
                with(Some(iana::Algorithm::ES256), b"p"),
                with(Some(iana::Algorithm::PS256), b"u"),
                Ok(Algorithm::Es256),
                Some((b"p", KidLocation::Protected)),
            ),
            (
                with(None, b""),
                with(Some(iana::Algorithm::PS256), b"u"),
                Ok(Algorithm::Ps256),
                Some((b"u", KidLocation::Unprotected)),
            ),
            (
                with(None, b""),
                with(None, b""),
                Err(AlgorithmProblem::Missing),
                None,
            ),
            (
                with(Some(iana::Algorithm::EdDSA), b""),
                with(None, b""),
                Err(AlgorithmProblem::Unsupported(-8)),
                None,
            ),
            (
                with(Some(iana::Algorithm::ES384), b""),
                with(None, b"u"),
                Ok(Algorithm::Es384),
                Some((b"u", KidLocation::Unprotected)),
            ),
        ];
        for (protected, unprotected, alg, key_id) in table {
            let msg = sign1(protected, unprotected);
            // Round-trip through bytes so the protected header is read as a verifier reads it.
            let msg = parse_sign1(&msg.to_tagged_vec().unwrap(), DEPTH).unwrap();
            assert_eq!(algorithm(&msg), alg);
            assert_eq!(kid(&msg), key_id);
        }
    }
}
