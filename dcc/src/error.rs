//! The error type: one variant per pipeline stage, so a caller (or a benchmark's summary table)
//! can tell where a certificate was refused. Messages say what was wrong, never what the input
//! held: no names, birth dates, QR text or key bytes.

use crate::signature::Algorithm;

/// Why a DCC was refused. The variants follow the pipeline order, see [`Stage`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DccError {
    /// The text does not start with the `HC1:` context identifier, or is too long for a QR code.
    #[error("HC1 prefix: {0}")]
    Prefix(&'static str),
    /// The text after `HC1:` is not valid base45 (RFC 9285).
    #[error("base45: {0}")]
    Base45(&'static str),
    /// The base45 bytes are not a valid zlib stream, or inflate past the size limit.
    #[error("decompression: {0}")]
    Decompress(&'static str),
    /// The bytes are not a well-formed COSE_Sign1 message.
    #[error("COSE_Sign1: {0}")]
    Cose(&'static str),
    /// The COSE payload is not a CWT claims map holding an HCERT.
    #[error("CWT claims: {0}")]
    Claims(&'static str),
    /// The signer certificate could not be parsed or holds an unusable key.
    #[error("signer certificate: {0}")]
    Certificate(&'static str),
    /// The COSE algorithm is missing, not one the DCC allows, or does not fit the key.
    #[error("algorithm: {0}")]
    UnsupportedAlgorithm(AlgorithmProblem),
    /// The COSE key identifier is not the one of the certificate offered.
    #[error("the COSE kid does not match the signer certificate")]
    KidMismatch,
    /// The signature does not verify with the certificate's key.
    #[error("the signature does not verify")]
    BadSignature,
}

/// What is wrong with the COSE `alg` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AlgorithmProblem {
    /// Neither header holds an `alg`.
    #[error("no alg header")]
    Missing,
    /// An IANA or private-use algorithm other than ES256, ES384 and PS256.
    #[error("COSE algorithm {0} is not supported")]
    Unsupported(i64),
    /// An algorithm given as text, which no DCC uses.
    #[error("COSE algorithm given as text is not supported")]
    Text,
    /// A supported algorithm whose key type differs from the certificate's key.
    #[error("{alg} does not fit the certificate's {key} key")]
    KeyMismatch { alg: Algorithm, key: &'static str },
}

/// The pipeline stages, in order; [`DccError::stage`] maps an error to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Prefix,
    Base45,
    Decompress,
    Cose,
    Claims,
    Certificate,
    Algorithm,
    Kid,
    Signature,
}

impl Stage {
    /// A short name for tables and logs.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Prefix => "prefix",
            Stage::Base45 => "base45",
            Stage::Decompress => "decompress",
            Stage::Cose => "cose",
            Stage::Claims => "claims",
            Stage::Certificate => "certificate",
            Stage::Algorithm => "algorithm",
            Stage::Kid => "kid",
            Stage::Signature => "signature",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl DccError {
    /// The pipeline stage that refused the input.
    pub fn stage(&self) -> Stage {
        match self {
            DccError::Prefix(_) => Stage::Prefix,
            DccError::Base45(_) => Stage::Base45,
            DccError::Decompress(_) => Stage::Decompress,
            DccError::Cose(_) => Stage::Cose,
            DccError::Claims(_) => Stage::Claims,
            DccError::Certificate(_) => Stage::Certificate,
            DccError::UnsupportedAlgorithm(_) => Stage::Algorithm,
            DccError::KidMismatch => Stage::Kid,
            DccError::BadSignature => Stage::Signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_and_messages() {
        let table = [
            (
                DccError::Prefix("missing"),
                Stage::Prefix,
                "HC1 prefix: missing",
            ),
            (DccError::Base45("x"), Stage::Base45, "base45: x"),
            (
                DccError::Decompress("x"),
                Stage::Decompress,
                "decompression: x",
            ),
            (DccError::Cose("x"), Stage::Cose, "COSE_Sign1: x"),
            (DccError::Claims("x"), Stage::Claims, "CWT claims: x"),
            (
                DccError::Certificate("x"),
                Stage::Certificate,
                "signer certificate: x",
            ),
            (
                DccError::UnsupportedAlgorithm(AlgorithmProblem::Unsupported(-8)),
                Stage::Algorithm,
                "algorithm: COSE algorithm -8 is not supported",
            ),
            (
                DccError::UnsupportedAlgorithm(AlgorithmProblem::KeyMismatch {
                    alg: Algorithm::Es256,
                    key: "RSA",
                }),
                Stage::Algorithm,
                "algorithm: ES256 does not fit the certificate's RSA key",
            ),
            (
                DccError::KidMismatch,
                Stage::Kid,
                "the COSE kid does not match the signer certificate",
            ),
            (
                DccError::BadSignature,
                Stage::Signature,
                "the signature does not verify",
            ),
        ];
        for (error, stage, message) in table {
            assert_eq!(error.stage(), stage);
            assert_eq!(error.to_string(), message);
        }
        assert!(Stage::Prefix < Stage::Signature);
    }
}
