//! The COSE signature algorithms a DCC may use and their check against a certificate's key:
//! ES256 and ES384 (ECDSA, raw `r || s` signatures, RFC 9053 section 2.1) and PS256
//! (RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, RFC 8230 section 2).

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::ecdsa::signature::Verifier as _;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED};
use sha2::{Digest as _, Sha256, Sha384};

use crate::cert::PublicKey;
use crate::error::{AlgorithmProblem, DccError};

/// A COSE algorithm accepted for DCC signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// ECDSA with SHA-256 (COSE -7), the DCC's primary algorithm, normally on P-256.
    Es256,
    /// ECDSA with SHA-384 (COSE -35), normally on P-384.
    Es384,
    /// RSASSA-PSS with SHA-256 (COSE -37), the DCC's secondary algorithm.
    Ps256,
}

impl Algorithm {
    /// The COSE algorithm identifier.
    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::Es256 => -7,
            Algorithm::Es384 => -35,
            Algorithm::Ps256 => -37,
        }
    }

    /// Maps a COSE algorithm identifier to a supported algorithm.
    pub fn from_cose_id(id: i64) -> Result<Self, AlgorithmProblem> {
        match id {
            -7 => Ok(Algorithm::Es256),
            -35 => Ok(Algorithm::Es384),
            -37 => Ok(Algorithm::Ps256),
            other => Err(AlgorithmProblem::Unsupported(other)),
        }
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Ps256 => "PS256",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which implementation checks ECDSA (ES256, ES384) signatures. Both give the same answer on
/// every upstream test case and Wycheproof vector; they differ in speed (docs/performance.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Ecdsa {
    /// ring, whose P-256 and P-384 are BoringSSL's: the speed of the platform verifier a phone
    /// app uses. It has no fixed-size form for a hash that does not match the curve (ES256 with
    /// a P-384 key), which goes to RustCrypto.
    #[default]
    Ring,
    /// The p256 and p384 crates (RustCrypto, pure Rust).
    RustCrypto,
}

/// Checks `signature` over `message` (the COSE `Sig_structure`) with `key` under `alg`.
///
/// For ECDSA the algorithm fixes the hash and the certificate fixes the curve: RFC 9053
/// section 2.1 defines ES256 as "ECDSA w/ SHA-256" and only suggests pairing it with P-256, and
/// issuers do sign ES256 with P-384 keys (dgc-testdata `ES/401`-`403`). An algorithm of another
/// family than the key (PS256 with an EC key, ES256 with an RSA key) is refused before any
/// arithmetic.
pub(crate) fn verify(
    alg: Algorithm,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
    ecdsa: Ecdsa,
) -> Result<(), DccError> {
    let ring = |algorithm, point: &[u8]| {
        UnparsedPublicKey::new(algorithm, point)
            .verify(message, signature)
            .map_err(|_| DccError::BadSignature)
    };
    match (alg, key, ecdsa) {
        (Algorithm::Es256, PublicKey::P256(key), Ecdsa::Ring) => ring(
            &ECDSA_P256_SHA256_FIXED,
            key.to_encoded_point(false).as_bytes(),
        ),
        (Algorithm::Es384, PublicKey::P384(key), Ecdsa::Ring) => ring(
            &ECDSA_P384_SHA384_FIXED,
            key.to_encoded_point(false).as_bytes(),
        ),
        (Algorithm::Es256 | Algorithm::Es384, PublicKey::P256(key), _) => {
            let sig = p256::ecdsa::Signature::from_slice(signature)
                .map_err(|_| DccError::BadSignature)?;
            key.verify_prehash(&ecdsa_digest(alg, message), &sig)
                .map_err(|_| DccError::BadSignature)
        }
        (Algorithm::Es256 | Algorithm::Es384, PublicKey::P384(key), _) => {
            let sig = p384::ecdsa::Signature::from_slice(signature)
                .map_err(|_| DccError::BadSignature)?;
            key.verify_prehash(&ecdsa_digest(alg, message), &sig)
                .map_err(|_| DccError::BadSignature)
        }
        (Algorithm::Ps256, PublicKey::Rsa(key), _) => {
            let sig =
                rsa::pss::Signature::try_from(signature).map_err(|_| DccError::BadSignature)?;
            key.verify(message, &sig)
                .map_err(|_| DccError::BadSignature)
        }
        (alg, key, _) => Err(DccError::UnsupportedAlgorithm(
            AlgorithmProblem::KeyMismatch {
                alg,
                key: key.kind(),
            },
        )),
    }
}

/// The message digest of an ECDSA algorithm.
fn ecdsa_digest(alg: Algorithm, message: &[u8]) -> Vec<u8> {
    match alg {
        Algorithm::Es384 => Sha384::digest(message).to_vec(),
        _ => Sha256::digest(message).to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check with both ECDSA implementations, which must agree.
    fn verify(
        alg: Algorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), DccError> {
        let ring = super::verify(alg, key, message, signature, Ecdsa::Ring);
        let rust_crypto = super::verify(alg, key, message, signature, Ecdsa::RustCrypto);
        assert_eq!(ring, rust_crypto, "{alg} with a {} key", key.kind());
        ring
    }

    #[test]
    fn cose_ids_round_trip() {
        for alg in [Algorithm::Es256, Algorithm::Es384, Algorithm::Ps256] {
            assert_eq!(Algorithm::from_cose_id(alg.cose_id()), Ok(alg));
        }
        let table = [
            (-7, Ok(Algorithm::Es256)),
            (-35, Ok(Algorithm::Es384)),
            (-37, Ok(Algorithm::Ps256)),
            (-8, Err(AlgorithmProblem::Unsupported(-8))), // EdDSA
            (-36, Err(AlgorithmProblem::Unsupported(-36))), // ES512
            (-257, Err(AlgorithmProblem::Unsupported(-257))), // RS256
            (0, Err(AlgorithmProblem::Unsupported(0))),
        ];
        for (id, expected) in table {
            assert_eq!(Algorithm::from_cose_id(id), expected, "{id}");
        }
    }

    fn p256_key() -> p256::ecdsa::SigningKey {
        p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn p384_key() -> p384::ecdsa::SigningKey {
        p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap()
    }

    /// Signs `message` as `alg` would on the key's curve, raw `r || s`.
    fn ecdsa_sign(alg: Algorithm, curve: &str, message: &[u8]) -> (PublicKey, Vec<u8>) {
        use p256::ecdsa::signature::hazmat::PrehashSigner as _;
        let digest = ecdsa_digest(alg, message);
        match curve {
            "P-256" => {
                let sk = p256_key();
                let sig: p256::ecdsa::Signature = sk.sign_prehash(&digest).unwrap();
                (PublicKey::P256(*sk.verifying_key()), sig.to_vec())
            }
            _ => {
                let sk = p384_key();
                let sig: p384::ecdsa::Signature = sk.sign_prehash(&digest).unwrap();
                (PublicKey::P384(*sk.verifying_key()), sig.to_vec())
            }
        }
    }

    #[test]
    fn ecdsa_hash_from_alg_curve_from_key() {
        for alg in [Algorithm::Es256, Algorithm::Es384] {
            for curve in ["P-256", "P-384"] {
                let (key, sig) = ecdsa_sign(alg, curve, b"message");
                assert_eq!(key.kind(), curve);
                assert_eq!(verify(alg, &key, b"message", &sig), Ok(()), "{alg} {curve}");
                let other = if alg == Algorithm::Es256 {
                    Algorithm::Es384
                } else {
                    Algorithm::Es256
                };
                let mut flipped = sig.clone();
                flipped[5] ^= 1;
                let mut der_like = vec![0x30, sig.len() as u8];
                der_like.extend_from_slice(&sig);
                let table: &[(Algorithm, &[u8], &[u8])] = &[
                    (other, b"message", &sig),
                    (alg, b"messagf", &sig),
                    (alg, b"message", &flipped),
                    (alg, b"message", &sig[..sig.len() - 1]),
                    (alg, b"message", &der_like),
                    (alg, b"message", &vec![0u8; sig.len()]),
                    (alg, b"message", b""),
                ];
                for (a, message, signature) in table {
                    assert_eq!(
                        verify(*a, &key, message, signature),
                        Err(DccError::BadSignature)
                    );
                }
                assert_eq!(
                    verify(Algorithm::Ps256, &key, b"message", &sig),
                    Err(DccError::UnsupportedAlgorithm(
                        AlgorithmProblem::KeyMismatch {
                            alg: Algorithm::Ps256,
                            key: key.kind(),
                        }
                    ))
                );
            }
        }
    }

    #[test]
    fn ps256_salt_32_and_tamper() {
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};

        let sk = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pk = rsa::RsaPublicKey::from(&sk);
        let key = PublicKey::Rsa(rsa::pss::VerifyingKey::new(pk));
        let sign = |salt: usize| {
            rsa::pss::SigningKey::<Sha256>::new_with_salt_len(sk.clone(), salt)
                .sign_with_rng(&mut rand_core::OsRng, b"message")
                .to_vec()
        };
        let sig = sign(32);
        assert_eq!(verify(Algorithm::Ps256, &key, b"message", &sig), Ok(()));
        let mut flipped = sig.clone();
        flipped[100] ^= 1;
        let table: &[(&[u8], &[u8])] = &[
            (b"messagf", &sig),
            (b"message", &flipped),
            (b"message", &sig[1..]),
            (b"message", &sign(20)), // RFC 8230: the salt is as long as the hash
            (b"message", b""),
        ];
        for (message, signature) in table {
            assert_eq!(
                verify(Algorithm::Ps256, &key, message, signature),
                Err(DccError::BadSignature)
            );
        }
        for alg in [Algorithm::Es256, Algorithm::Es384] {
            assert_eq!(
                verify(alg, &key, b"message", &sig),
                Err(DccError::UnsupportedAlgorithm(
                    AlgorithmProblem::KeyMismatch { alg, key: "RSA" }
                ))
            );
        }
    }
}
