//! # vaxpass-dcc
//!
//! Decoding and signature verification of EU Digital COVID Certificates: the `HC1:` QR texts
//! of the EU DCC (HCERT) specification. It is the baseline the vaxpass SDK is measured against.
//!
//! The pipeline, one module per layer, each bounded by [`Limits`]:
//! 1. [`hc1`]: the `HC1:` prefix, base45 (RFC 9285) and zlib;
//! 2. `cose`: a COSE_Sign1 message (tag 18 or untagged);
//! 3. [`cwt`]: the CWT claims `iss`, `iat`, `exp` and the health certificate (`-260` → `1`);
//! 4. [`cert`] and [`signature`]: the signer certificate's key and the ES256, ES384 or PS256
//!    signature, after matching the COSE `kid` against the certificate.
//!
//! ```no_run
//! # fn main() -> Result<(), vaxpass_dcc::DccError> {
//! # let (qr_text, signer_cert_der) = ("HC1:...", &[][..]);
//! let hcert = vaxpass_dcc::verify_qr(qr_text, signer_cert_der)?;
//! println!("issued by {:?}", hcert.issuer());
//! # Ok(()) }
//! ```
//!
//! Not in scope: validity periods (`iat`/`exp` against a clock, the certificate's dates),
//! certificate chains and trust lists, the extended key usages that restrict a signer to
//! vaccination, test or recovery certificates, and the DGC JSON schema. Errors never echo input.
#![forbid(unsafe_code)]

pub mod cert;
mod cose;
pub mod cwt;
mod error;
pub mod hc1;
pub mod signature;

use coset::CoseSign1;

pub use cert::{kid_of, SignerCertificate};
pub use cose::KidLocation;
pub use cwt::{CertificateKind, Claims, Person};
pub use error::{AlgorithmProblem, DccError, Stage};
pub use signature::{Algorithm, Ecdsa};

/// Size limits applied while decoding. The defaults fit every real DCC with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest QR text accepted, prefix included. Default 4296: what a version 40 QR code
    /// holds in alphanumeric mode at the lowest error correction level.
    pub max_qr_text_len: usize,
    /// The largest inflated (COSE) size in bytes. Default 64 KiB; DCCs are under 2 KiB.
    pub max_inflated_len: usize,
    /// The deepest CBOR nesting accepted. Default 32; a DGC nests about 6 levels.
    pub max_cbor_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_qr_text_len: 4296,
            max_inflated_len: 64 * 1024,
            max_cbor_depth: 32,
        }
    }
}

/// How [`decode_with`] reads a QR text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeOptions {
    /// Size limits.
    pub limits: Limits,
    /// Accept data that does not start with a zlib header as uncompressed COSE, as some national
    /// verifier apps do. Off by default, as in the upstream test suite (dgc-testdata `Z2`).
    pub allow_uncompressed: bool,
}

/// A decoded HC1 certificate: the COSE_Sign1 message, kept for verification, and its claims.
/// Decoding checks structure only; call [`Hcert::verify`] before trusting anything in it.
#[derive(Clone)]
pub struct Hcert {
    sign1: CoseSign1,
    algorithm: Result<Algorithm, AlgorithmProblem>,
    claims: Claims,
}

impl std::fmt::Debug for Hcert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hcert")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid())
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// Decodes an `HC1:` QR text with the default options: structure only, no signature check.
pub fn decode(qr_text: &str) -> Result<Hcert, DccError> {
    decode_with(qr_text, &DecodeOptions::default())
}

/// Decodes an `HC1:` QR text: prefix, base45, zlib, COSE_Sign1 and CWT claims.
pub fn decode_with(qr_text: &str, options: &DecodeOptions) -> Result<Hcert, DccError> {
    let limits = &options.limits;
    let body = hc1::strip_prefix(qr_text, limits)?;
    let compressed = hc1::base45(body)?;
    let cose_bytes = hc1::inflate(&compressed, limits, options.allow_uncompressed)?;
    let sign1 = cose::parse_sign1(&cose_bytes, limits.max_cbor_depth)?;
    let payload = sign1.payload.as_deref().unwrap_or_default();
    let claims = cwt::parse(payload, limits.max_cbor_depth)?;
    let algorithm = cose::algorithm(&sign1);
    Ok(Hcert {
        sign1,
        algorithm,
        claims,
    })
}

/// Decodes an `HC1:` QR text and verifies it with the signer certificate (DER): what a verifier
/// does for each scan.
pub fn verify_qr(qr_text: &str, cert_der: &[u8]) -> Result<Hcert, DccError> {
    verify_qr_using(qr_text, cert_der, Ecdsa::default())
}

/// [`verify_qr`] with a chosen ECDSA implementation.
pub fn verify_qr_using(qr_text: &str, cert_der: &[u8], ecdsa: Ecdsa) -> Result<Hcert, DccError> {
    let hcert = decode(qr_text)?;
    hcert.verify_using(&SignerCertificate::from_der(cert_der)?, ecdsa)?;
    Ok(hcert)
}

impl Hcert {
    /// Verifies the signature with the signer certificate given as DER.
    pub fn verify(&self, cert_der: &[u8]) -> Result<(), DccError> {
        self.verify_with(&SignerCertificate::from_der(cert_der)?)
    }

    /// Verifies the signature with an already parsed signer certificate, in this order:
    /// the COSE `kid`, when present, must be the certificate's ([`DccError::KidMismatch`]); the
    /// algorithm must be supported and fit the key ([`DccError::UnsupportedAlgorithm`]); the
    /// signature over the COSE `Sig_structure` must verify ([`DccError::BadSignature`]).
    pub fn verify_with(&self, cert: &SignerCertificate) -> Result<(), DccError> {
        self.verify_using(cert, Ecdsa::default())
    }

    /// [`Hcert::verify_with`] with a chosen ECDSA implementation.
    pub fn verify_using(&self, cert: &SignerCertificate, ecdsa: Ecdsa) -> Result<(), DccError> {
        if let Some((kid, _)) = cose::kid(&self.sign1) {
            if kid != cert.kid() {
                return Err(DccError::KidMismatch);
            }
        }
        let alg = self.algorithm.map_err(DccError::UnsupportedAlgorithm)?;
        let tbs = self.sign1.tbs_data(b"");
        signature::verify(alg, cert.key(), &tbs, &self.sign1.signature, ecdsa)
    }

    /// The signature algorithm, or why it is not usable.
    pub fn algorithm(&self) -> Result<Algorithm, AlgorithmProblem> {
        self.algorithm
    }

    /// The COSE key identifier (protected header first), to find the signer certificate.
    pub fn kid(&self) -> Option<&[u8]> {
        cose::kid(&self.sign1).map(|(kid, _)| kid)
    }

    /// Which header the key identifier came from.
    pub fn kid_location(&self) -> Option<KidLocation> {
        cose::kid(&self.sign1).map(|(_, location)| location)
    }

    /// The `iss` claim: the issuing country.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.issuer.as_deref()
    }

    /// The `iat` claim, in seconds since the Unix epoch.
    pub fn issued_at(&self) -> Option<i64> {
        self.claims.issued_at
    }

    /// The `exp` claim, in seconds since the Unix epoch.
    pub fn expires(&self) -> Option<i64> {
        self.claims.expires
    }

    /// The EU DGC as CBOR (the map under `-260` → `1`).
    pub fn dgc(&self) -> &ciborium::Value {
        &self.claims.dgc
    }

    /// The claims, with typed views of the DGC.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The holder's names and date of birth.
    pub fn person(&self) -> Person {
        self.claims.person()
    }
}
