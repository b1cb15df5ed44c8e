//! Keys and signatures: key ids, strict Ed25519 verification, ES256 device keys, and the device
//! signer the wallet signs presentations with (software Ed25519 by default, or the platform's).

use std::fmt;
use std::sync::OnceLock;

use ciborium::value::Value;
use curve25519_dalek::constants::EIGHT_TORSION;
pub use ed25519_dalek::VerifyingKey;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use rand_core::OsRng;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cbor::{self, IntMap};
use crate::error::{Error, Result};

/// A signature did not verify. Deliberately carries no detail: which check failed inside a
/// signature scheme is of no use to the caller and of some use to an attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signature does not verify")]
pub struct InvalidSignature;

/// A key id: the first 8 bytes of SHA-256 of the raw public key.
pub type Kid = [u8; 8];

/// Computes the [`Kid`] of a raw public key.
pub fn kid_of(public_key: &[u8]) -> Kid {
    let digest = Sha256::digest(public_key);
    let mut kid = [0; 8];
    kid.copy_from_slice(&digest[..8]);
    kid
}

/// Verifies an Ed25519 signature strictly: it accepts exactly what ed25519-dalek's
/// `verify_strict` accepts (a canonical S, R the canonical encoding of the recomputed point, R
/// and the key not of small order), at the cost of `verify` (docs/architecture.md, "What a
/// signature check costs").
pub fn verify_ed25519(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8],
) -> Result<(), InvalidSignature> {
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| InvalidSignature)?;
    verify_ed25519_with(&key, message, signature)
}

/// [`verify_ed25519`] with a key already decompressed: the verifier parses each key once (issuer
/// keys when a trust list is accepted, the device key when the credential is parsed), because
/// decompressing a point costs about a tenth of a verification.
pub fn verify_ed25519_with(
    key: &VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), InvalidSignature> {
    let signature =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
    // `verify` refuses a non-canonical S and compares R byte for byte with the canonical encoding
    // of [S]B - [k]A. So once it passes, R is small-order exactly when its bytes are one of the
    // eight encodings below: the same answer as `verify_strict`, which decompresses R to ask.
    if key.is_weak() || small_order_encodings().contains(signature.r_bytes()) {
        return Err(InvalidSignature);
    }
    key.verify(message, &signature)
        .map_err(|_| InvalidSignature)
}

/// The canonical encodings of the eight Edwards points of small order (the 8-torsion subgroup).
fn small_order_encodings() -> &'static [[u8; 32]; 8] {
    static ENCODINGS: OnceLock<[[u8; 32]; 8]> = OnceLock::new();
    ENCODINGS.get_or_init(|| EIGHT_TORSION.map(|point| point.compress().to_bytes()))
}

/// Verifies an ES256 signature (IEEE P1363 `r || s`, as COSE carries it) over `message`, with a
/// compressed or uncompressed SEC1 public key.
pub fn verify_es256(
    sec1_public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), InvalidSignature> {
    P256PublicKey::from_sec1(sec1_public_key)
        .ok_or(InvalidSignature)?
        .verify(message, signature)
}

/// A P-256 public key, decoded and checked to be a point of the curve once. It keeps the
/// compressed form (what credentials carry, and what its kid is computed over) and the
/// uncompressed one, the only form ring verifies with.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct P256PublicKey {
    compressed: [u8; 33],
    uncompressed: [u8; 65],
}

impl fmt::Debug for P256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "P256PublicKey {{ kid: {} }}",
            hex(&kid_of(&self.compressed))
        )
    }
}

impl P256PublicKey {
    /// A compressed (`02`/`03`) or uncompressed (`04`) SEC1 point; not the identity, not the
    /// "compact" `05` form, and on the curve.
    pub fn from_sec1(bytes: &[u8]) -> Option<Self> {
        if !matches!(
            (bytes.len(), bytes.first()),
            (33, Some(0x02 | 0x03)) | (65, Some(0x04))
        ) {
            return None;
        }
        let key = p256::PublicKey::from_sec1_bytes(bytes).ok()?;
        Some(Self {
            compressed: key.to_encoded_point(true).as_bytes().try_into().ok()?,
            uncompressed: key.to_encoded_point(false).as_bytes().try_into().ok()?,
        })
    }

    /// The compressed SEC1 point.
    pub fn compressed(&self) -> &[u8; 33] {
        &self.compressed
    }

    /// Checks an ES256 signature: `r || s`, each in [1, n-1] (high S accepted, as ECDSA does),
    /// over SHA-256 of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.uncompressed[..])
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }
}

/// An Ed25519 key pair held in memory (issuer and root keys, software device keys).
/// `Debug` shows only the key id; the secret is wiped on drop.
#[derive(Clone)]
pub struct Ed25519KeyPair(SigningKey);

impl Ed25519KeyPair {
    /// A new key pair from the operating system's random source.
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut OsRng))
    }

    /// The key pair of a 32-byte Ed25519 secret (RFC 8032); another length is
    /// [`Error::Malformed`].
    pub fn from_secret(secret: &[u8]) -> Result<Self> {
        let secret: [u8; 32] = secret
            .try_into()
            .map_err(|_| Error::malformed("Ed25519 secret key", "must be 32 bytes"))?;
        Ok(Self(SigningKey::from_bytes(&secret)))
    }

    /// The 32-byte secret, wiped when the returned value is dropped.
    pub fn secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The 32-byte public key.
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// The key id: the first 8 bytes of SHA-256 of the public key.
    pub fn kid(&self) -> Kid {
        kid_of(&self.public())
    }

    /// The 64-byte Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for Ed25519KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519KeyPair {{ kid: {} }}", hex(&self.kid()))
    }
}

/// The holder's device key as bound into a credential (the CWT `cnf` claim).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum DevicePublicKey {
    /// Software key, COSE alg EdDSA/Ed25519 (decompressed and checked once, when parsed).
    Ed25519(VerifyingKey),
    /// Platform key (Secure Enclave, StrongBox), COSE alg ES256 (decoded and checked once).
    P256(P256PublicKey),
}

impl fmt::Debug for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DevicePublicKey::{} {{ kid: {} }}",
            self.algorithm(),
            hex(&self.kid())
        )
    }
}

impl DevicePublicKey {
    /// Accepts a raw Ed25519 key (32 bytes) or a SEC1 P-256 point (33 or 65 bytes), and checks that
    /// it is a usable key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = || Error::malformed("device public key", "not a valid Ed25519 or P-256 key");
        match bytes.len() {
            32 => {
                let raw: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
                let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad())?;
                if key.is_weak() {
                    return Err(bad());
                }
                Ok(Self::Ed25519(key))
            }
            33 | 65 => P256PublicKey::from_sec1(bytes)
                .map(Self::P256)
                .ok_or_else(bad),
            _ => Err(bad()),
        }
    }

    /// Raw bytes: 32 for Ed25519, 33 (compressed SEC1) for P-256.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Ed25519(k) => k.as_bytes(),
            Self::P256(k) => k.compressed(),
        }
    }

    /// The signature algorithm: `"Ed25519"` or `"ES256"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => "Ed25519",
            Self::P256(_) => "ES256",
        }
    }

    /// The key id: the first 8 bytes of SHA-256 of [`DevicePublicKey::as_bytes`].
    pub fn kid(&self) -> Kid {
        kid_of(self.as_bytes())
    }

    /// Checks a 64-byte signature of `message`: strict Ed25519, or ES256 (`r || s` over SHA-256
    /// of `message`).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        match self {
            Self::Ed25519(k) => verify_ed25519_with(k, message, signature),
            Self::P256(k) => k.verify(message, signature),
        }
    }

    /// The COSE_Key (RFC 9052 section 7): OKP/Ed25519 with `x`, or EC2/P-256 with `x` and the sign
    /// bit of `y` (the compressed form RFC 9053 section 7.1.1 allows).
    pub(crate) fn to_cose_key(&self) -> Value {
        match self {
            Self::Ed25519(k) => cbor::map([
                (1, Some(1.into())),
                (-1, Some(6.into())),
                (-2, Some(Value::Bytes(k.as_bytes().to_vec()))),
            ]),
            Self::P256(k) => cbor::map([
                (1, Some(2.into())),
                (-1, Some(1.into())),
                (-2, Some(Value::Bytes(k.compressed()[1..].to_vec()))),
                (-3, Some(Value::Bool(k.compressed()[0] == 0x03))),
            ]),
        }
    }

    pub(crate) fn from_cose_key(value: Value) -> Result<Self> {
        const WHAT: &str = "COSE_Key";
        // The only parameters either form has: kty, crv, x and (EC2 only) the sign of y.
        let mut map = IntMap::new(value, WHAT, &[1, -1, -2, -3])?;
        let kty = cbor::int(&map.required(1)?, WHAT)?;
        let crv = cbor::int(&map.required(-1)?, WHAT)?;
        let x = cbor::bytes(map.required(-2)?, WHAT)?;
        match (kty, crv) {
            (1, 6) if map.optional(-3).is_some() => {
                Err(Error::malformed(WHAT, "an OKP key has no y parameter"))
            }
            (1, 6) => Self::from_bytes(&x).and_then(|k| match k {
                Self::Ed25519(_) => Ok(k),
                Self::P256(_) => Err(Error::malformed(WHAT, "Ed25519 x must be 32 bytes")),
            }),
            (2, 1) => {
                let Value::Bool(odd) = map.required(-3)? else {
                    return Err(Error::malformed(
                        WHAT,
                        "only the compressed EC2 form is used",
                    ));
                };
                if x.len() != 32 {
                    return Err(Error::malformed(WHAT, "P-256 x must be 32 bytes"));
                }
                let mut sec1 = vec![if odd { 0x03 } else { 0x02 }];
                sec1.extend_from_slice(&x);
                Self::from_bytes(&sec1)
            }
            _ => Err(Error::malformed(WHAT, "unsupported key type or curve")),
        }
    }
}

/// Signs presentations with the holder's device key. Apps implement it to use a platform key
/// (ES256 from the Secure Enclave or StrongBox); the SDK's default is [`SoftwareEd25519Signer`].
pub trait DeviceSigner: Send + Sync {
    /// The public key credentials are bound to.
    fn public_key(&self) -> Result<DevicePublicKey>;
    /// Signs `message`: 64 bytes, Ed25519, or ES256 in IEEE P1363 form (SHA-256 over `message`).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}

/// The default device signer: an Ed25519 key held in software.
#[derive(Debug, Clone)]
pub struct SoftwareEd25519Signer(pub Ed25519KeyPair);

impl DeviceSigner for SoftwareEd25519Signer {
    fn public_key(&self) -> Result<DevicePublicKey> {
        Ok(DevicePublicKey::Ed25519(self.0 .0.verifying_key()))
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        Ok(self.0.sign(message).to_vec())
    }
}

/// An ES256 signer with the key in software. It stands in for a platform key where there is none
/// (tests, Linux hosts); on phones the app's own signer keeps the key in hardware.
#[derive(Clone)]
pub struct SoftwareP256Signer(p256::ecdsa::SigningKey);

impl SoftwareP256Signer {
    /// A new P-256 key from the operating system's random source.
    pub fn generate() -> Self {
        Self(p256::ecdsa::SigningKey::random(&mut OsRng))
    }
}

impl fmt::Debug for SoftwareP256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SoftwareP256Signer { .. }")
    }
}

impl DeviceSigner for SoftwareP256Signer {
    fn public_key(&self) -> Result<DevicePublicKey> {
        DevicePublicKey::from_bytes(self.0.verifying_key().to_encoded_point(true).as_bytes())
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature: p256::ecdsa::Signature = self.0.sign(message);
        Ok(signature.to_bytes().to_vec())
    }
}

/// Lower-case hex, for key ids and credential ids in output and `Debug`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_keys_round_trip_through_cose_key() {
        let ed = SoftwareEd25519Signer(Ed25519KeyPair::generate())
            .public_key()
            .unwrap();
        let p = SoftwareP256Signer::generate().public_key().unwrap();
        for key in [ed, p] {
            assert_eq!(
                DevicePublicKey::from_cose_key(key.to_cose_key()).unwrap(),
                key
            );
        }
    }

    /// A COSE_Key has exactly the parameters docs/format.md lists; each row adds one more, and
    /// the old decoder accepted every row.
    #[test]
    fn cose_keys_with_other_parameters_are_refused() {
        let ed = SoftwareEd25519Signer(Ed25519KeyPair::generate())
            .public_key()
            .unwrap()
            .to_cose_key();
        let p256 = SoftwareP256Signer::generate()
            .public_key()
            .unwrap()
            .to_cose_key();
        let with = |key: &Value, at: usize, label: i64, value: Value| {
            let Value::Map(mut fields) = key.clone() else {
                panic!("a COSE_Key is a map");
            };
            fields.insert(at, (label.into(), value));
            Value::Map(fields)
        };
        let rows = [
            (
                "OKP with a kid (2)",
                with(&ed, 1, 2, Value::Bytes(vec![1; 8])),
            ),
            (
                "OKP with a y sign (-3)",
                with(&ed, 3, -3, Value::Bool(true)),
            ),
            (
                "OKP with its private key (-4)",
                with(&ed, 3, -4, Value::Bytes(vec![7; 32])),
            ),
            ("EC2 with an alg (3)", with(&p256, 1, 3, (-7).into())),
            (
                "EC2 with its private key (-4)",
                with(&p256, 4, -4, Value::Bytes(vec![7; 32])),
            ),
        ];
        let accepted: Vec<&str> = rows
            .into_iter()
            .filter(|(_, key)| DevicePublicKey::from_cose_key(key.clone()).is_ok())
            .map(|(name, _)| name)
            .collect();
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
    }

    #[test]
    fn both_signers_verify_and_reject_other_messages() {
        let signers: [Box<dyn DeviceSigner>; 2] = [
            Box::new(SoftwareEd25519Signer(Ed25519KeyPair::generate())),
            Box::new(SoftwareP256Signer::generate()),
        ];
        for signer in signers {
            let key = signer.public_key().unwrap();
            let sig = signer.sign(b"hello").unwrap();
            assert_eq!(sig.len(), 64);
            assert!(key.verify(b"hello", &sig).is_ok());
            assert!(key.verify(b"hellO", &sig).is_err());
        }
    }

    #[test]
    fn refuses_small_order_and_malformed_keys() {
        // The identity point is a valid encoding of a small-order point.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(DevicePublicKey::from_bytes(&identity).is_err());
        assert!(DevicePublicKey::from_bytes(&[5u8; 33]).is_err());
        assert!(DevicePublicKey::from_bytes(&[0u8; 31]).is_err());
        assert!(DevicePublicKey::from_bytes(&[4u8; 65]).is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let pair = Ed25519KeyPair::generate();
        let debug = format!("{pair:?}");
        assert!(!debug.contains(&hex(&pair.secret()[..])));
        assert!(debug.contains(&hex(&pair.kid())));
    }

    /// RFC 8032 section 7.1, test 1 and test 2.
    #[test]
    fn rfc_8032_known_answers() {
        let table = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
                "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            ),
        ];
        let unhex = |s: &str| {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        for (secret, public, message, signature) in table {
            let pair = Ed25519KeyPair::from_secret(&unhex(secret)).unwrap();
            assert_eq!(hex(&pair.public()), public);
            assert_eq!(hex(&pair.sign(&unhex(message))), signature);
            assert!(verify_ed25519(&pair.public(), &unhex(message), &unhex(signature)).is_ok());
        }
    }
}
