//! The signer (DSC) certificate: an X.509 certificate in DER, reduced to its COSE key identifier
//! (the first 8 bytes of SHA-256 over the DER) and its public key (P-256, P-384 or RSA).
//!
//! The certificate's validity period, extended key usages and chain to a CSCA are not checked
//! here: a caller that trusts a certificate has done that already.

use sha2::{Digest, Sha256};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::Decode;

use crate::error::DccError;

/// The largest certificate DER accepted. DSCs are around 1 KiB; 16 KiB leaves room for long
/// extensions without letting a caller pass arbitrary blobs.
pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;

/// The smallest RSA modulus accepted, in bits (the DCC allows PS256 with 2048 bits and more).
pub const MIN_RSA_BITS: usize = 2048;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// A signer certificate's public key, ready to verify.
#[derive(Debug, Clone)]
pub(crate) enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Rsa(rsa::pss::VerifyingKey<Sha256>),
}

impl PublicKey {
    /// A short name of the key type, for messages and tables.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
            PublicKey::Rsa(_) => "RSA",
        }
    }
}

/// A parsed signer certificate: what verification needs from it, parsed once.
///
/// Parse a trust list's certificates once with [`SignerCertificate::from_der`] and verify each
/// scan with [`Hcert::verify_with`](crate::Hcert::verify_with).
#[derive(Debug, Clone)]
pub struct SignerCertificate {
    kid: [u8; 8],
    key: PublicKey,
}

impl SignerCertificate {
    /// Parses a DER X.509 certificate and extracts its SubjectPublicKeyInfo.
    pub fn from_der(der: &[u8]) -> Result<Self, DccError> {
        if der.len() > MAX_CERTIFICATE_LEN {
            return Err(DccError::Certificate(
                "certificate is larger than the limit",
            ));
        }
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|_| DccError::Certificate("not a DER X.509 certificate"))?;
        let key = public_key(&cert.tbs_certificate.subject_public_key_info)?;
        Ok(Self {
            kid: kid_of(der),
            key,
        })
    }

    /// The COSE key identifier: the first 8 bytes of SHA-256 over the certificate's DER.
    pub fn kid(&self) -> [u8; 8] {
        self.kid
    }

    /// The key type: `"P-256"`, `"P-384"` or `"RSA"`.
    pub fn key_type(&self) -> &'static str {
        self.key.kind()
    }

    pub(crate) fn key(&self) -> &PublicKey {
        &self.key
    }
}

/// The DCC key identifier of a certificate: SHA-256 over its DER, first 8 bytes.
pub fn kid_of(der: &[u8]) -> [u8; 8] {
    let digest = Sha256::digest(der);
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&digest[..8]);
    kid
}

fn public_key(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<PublicKey, DccError> {
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(DccError::Certificate(
            "public key is not a whole number of bytes",
        ))?;
    let oid = spki.algorithm.oid;
    if oid == ID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or(DccError::Certificate("EC key without a named curve"))?;
        if curve == SECP256R1 {
            p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                .map(PublicKey::P256)
                .map_err(|_| DccError::Certificate("invalid P-256 point"))
        } else if curve == SECP384R1 {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                .map(PublicKey::P384)
                .map_err(|_| DccError::Certificate("invalid P-384 point"))
        } else {
            Err(DccError::Certificate("EC curve is neither P-256 nor P-384"))
        }
    } else if oid == RSA_ENCRYPTION || oid == ID_RSASSA_PSS {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        use rsa::traits::PublicKeyParts as _;
        let key = rsa::RsaPublicKey::from_pkcs1_der(bits)
            .map_err(|_| DccError::Certificate("invalid RSA public key"))?;
        if key.n().bits() < MIN_RSA_BITS {
            return Err(DccError::Certificate("RSA key is shorter than 2048 bits"));
        }
        Ok(PublicKey::Rsa(rsa::pss::VerifyingKey::new(key)))
    } else {
        Err(DccError::Certificate(
            "public key type is neither EC nor RSA",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_sha256_prefix() {
        // SHA-256("abc") = ba7816bf8f01cfea 414140de5dae2223 ...
        assert_eq!(
            kid_of(b"abc"),
            [0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea]
        );
    }

    #[test]
    fn refuses_non_certificates() {
        let big = vec![0x30; MAX_CERTIFICATE_LEN + 1];
        let table: &[(&[u8], &str)] = &[
            (b"", "signer certificate: not a DER X.509 certificate"),
            (
                b"\x30\x03\x02\x01\x01",
                "signer certificate: not a DER X.509 certificate",
            ),
            (
                b"-----BEGIN CERTIFICATE-----",
                "signer certificate: not a DER X.509 certificate",
            ),
            (
                &big,
                "signer certificate: certificate is larger than the limit",
            ),
        ];
        for (der, message) in table {
            assert_eq!(
                SignerCertificate::from_der(der).unwrap_err().to_string(),
                *message
            );
        }
    }
}
