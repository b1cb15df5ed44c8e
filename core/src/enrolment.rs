//! Enrolment, the one online step: the wallet proves possession of its device key over a fresh
//! server nonce, and the issuer answers with credentials bound to that key.

use std::fmt;

use ciborium::value::Value;
use sha2::{Digest, Sha256};

use crate::cbor::{self, IntMap};
use crate::error::{Error, Result};
use crate::keys::{DevicePublicKey, DeviceSigner};

/// Domain separation for the proof of possession.
pub const ENROLMENT_DOMAIN: &[u8] = b"vaxpass enrolment v1\0";
/// Shortest server nonce accepted, in bytes.
pub const MIN_NONCE_BYTES: usize = 16;
/// Longest server nonce accepted, in bytes.
pub const MAX_NONCE_BYTES: usize = 64;
/// Longest identity proof accepted, in bytes.
pub const MAX_IDENTITY_PROOF_BYTES: usize = 4096;
const MAX_REQUEST_BYTES: usize = 8192;
/// Most credentials one enrolment answer may carry (a family on one phone enrols one by one).
pub const MAX_ISSUED: usize = 16;
const MAX_ISSUED_BYTES: usize = MAX_ISSUED * (crate::credential::MAX_CREDENTIAL_BYTES + 4);

/// An enrolment request. [`EnrolmentRequest::verify_possession`] parses and checks it;
/// [`EnrolmentRequest::from_bytes`] only parses (for inspecting one).
#[derive(Clone)]
pub struct EnrolmentRequest {
    /// The single-use nonce the issuer service handed out for this enrolment.
    pub nonce: Vec<u8>,
    /// Opaque to vaxpass: whatever the identity service's proof is (a token, an assertion).
    pub identity_proof: Vec<u8>,
    /// The device key the credentials are to be bound to; the request is signed with it.
    pub device_key: DevicePublicKey,
    proof_of_possession: Vec<u8>,
}

impl fmt::Debug for EnrolmentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrolmentRequest")
            .field("device_key", &self.device_key)
            .finish_non_exhaustive()
    }
}

fn signed_message(nonce: &[u8], identity_proof: &[u8], device_key: &DevicePublicKey) -> Vec<u8> {
    let mut message = ENROLMENT_DOMAIN.to_vec();
    message.extend_from_slice(&Sha256::digest(nonce));
    message.extend_from_slice(&Sha256::digest(identity_proof));
    message.extend_from_slice(&Sha256::digest(device_key.as_bytes()));
    message
}

impl EnrolmentRequest {
    /// Builds and signs a request: `{1: nonce, 2: identity proof, 3: COSE_Key, 4: signature}`.
    pub fn create(
        nonce: &[u8],
        identity_proof: &[u8],
        signer: &dyn DeviceSigner,
    ) -> Result<Vec<u8>> {
        check_sizes(nonce, identity_proof).map_err(|why| Error::InvalidArgument(why.into()))?;
        let device_key = signer.public_key()?;
        let signature = signer.sign(&signed_message(nonce, identity_proof, &device_key))?;
        cbor::encode(&cbor::map([
            (1, Some(Value::Bytes(nonce.to_vec()))),
            (2, Some(Value::Bytes(identity_proof.to_vec()))),
            (3, Some(device_key.to_cose_key())),
            (4, Some(Value::Bytes(signature))),
        ]))
    }

    /// Parses a request without checking its proof of possession (for inspecting one); bad bytes
    /// are [`Error::Malformed`] or [`Error::TooLarge`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        const WHAT: &str = "enrolment request";
        let mut map = IntMap::new(
            cbor::decode(bytes, MAX_REQUEST_BYTES, WHAT)?,
            WHAT,
            &[1, 2, 3, 4],
        )?;
        let nonce = cbor::bytes(map.required(1)?, WHAT)?;
        let identity_proof = cbor::bytes(map.required(2)?, WHAT)?;
        check_sizes(&nonce, &identity_proof).map_err(|why| Error::malformed(WHAT, why))?;
        let device_key = DevicePublicKey::from_cose_key(map.required(3)?)?;
        let proof_of_possession = cbor::bytes(map.required(4)?, WHAT)?;
        // Both device key algorithms sign in 64 bytes (Ed25519, or ES256 as r || s).
        if proof_of_possession.len() != 64 {
            return Err(Error::malformed(WHAT, "the signature must be 64 bytes"));
        }
        Ok(Self {
            nonce,
            identity_proof,
            device_key,
            proof_of_possession,
        })
    }

    /// The one enrolment check: parses `bytes` and checks the proof of possession, that the
    /// request is signed by the device key it carries over the nonce it carries. `Malformed` if
    /// the bytes are not a request, `BadSignature` if the proof fails. Whether that nonce was
    /// handed out and is still unused is not this check's but the nonce keeper's (the issuer
    /// service's store, or [`Self::answers`] for a caller that holds the one nonce it issued).
    pub fn verify_possession(bytes: &[u8]) -> Result<Self> {
        let request = Self::from_bytes(bytes)?;
        request.check_possession()?;
        Ok(request)
    }

    fn check_possession(&self) -> Result<()> {
        let message = signed_message(&self.nonce, &self.identity_proof, &self.device_key);
        self.device_key
            .verify(&message, &self.proof_of_possession)
            .map_err(|_| Error::BadSignature("enrolment request"))
    }

    /// Whether this (verified) request answers `nonce`, the one the caller handed out.
    pub fn answers(&self, nonce: &[u8]) -> Result<()> {
        if self.nonce != nonce {
            return Err(Error::NonceMismatch);
        }
        Ok(())
    }
}

fn check_sizes(nonce: &[u8], identity_proof: &[u8]) -> Result<(), &'static str> {
    if !(MIN_NONCE_BYTES..=MAX_NONCE_BYTES).contains(&nonce.len()) {
        return Err("nonce must be 16 to 64 bytes");
    }
    if identity_proof.len() > MAX_IDENTITY_PROOF_BYTES {
        return Err("identity proof is larger than 4096 bytes");
    }
    Ok(())
}

/// A fresh 32-byte server nonce from the operating system's random generator.
pub fn new_nonce() -> [u8; 32] {
    let mut nonce = [0; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    nonce
}

/// Domain separation for the OpenID Connect `nonce` claim.
pub const OIDC_NONCE_DOMAIN: &[u8] = b"vaxpass oidc nonce v1\0";
/// What starts an identity proof that carries an OpenID Connect ID token.
pub const OIDC_PROOF_PREFIX: &[u8] = b"OIDC:";

/// The `nonce` the wallet puts in its OpenID Connect authorization request and the issuer expects
/// in the ID token: base64url (no padding) of SHA-256 over the domain, the enrolment nonce's
/// length (8 bytes, big-endian) and bytes, and the device key's raw bytes. A token is then
/// good for this one enrolment nonce and this one device key only.
pub fn oidc_nonce(enrolment_nonce: &[u8], device_key: &DevicePublicKey) -> String {
    let mut hash = Sha256::new();
    hash.update(OIDC_NONCE_DOMAIN);
    hash.update((enrolment_nonce.len() as u64).to_be_bytes());
    hash.update(enrolment_nonce);
    hash.update(device_key.as_bytes());
    base64url(&hash.finalize())
}

/// Unpadded base64url (RFC 4648 §5). Written out rather than taken from a crate: the mobile
/// library's size budget (scripts/check-library-size.sh) has no room for a general encoder, and
/// this encodes one public hash, so it needs no constant-time care.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The identity proof carrying an ID token: `OIDC:` and the token's compact serialisation.
pub fn oidc_identity_proof(id_token: &str) -> Vec<u8> {
    [OIDC_PROOF_PREFIX, id_token.trim().as_bytes()].concat()
}

/// The ID token of an identity proof made by [`oidc_identity_proof`], if it is one; its size is
/// bounded by the request's ([`MAX_IDENTITY_PROOF_BYTES`]). The token itself is not checked.
pub fn parse_oidc_identity_proof(proof: &[u8]) -> Option<&str> {
    let token = proof.strip_prefix(OIDC_PROOF_PREFIX)?;
    if proof.len() > MAX_IDENTITY_PROOF_BYTES || token.is_empty() {
        return None;
    }
    std::str::from_utf8(token).ok()
}

/// Packs issued credentials for the wallet: a CBOR array of byte strings.
pub fn encode_issued(credentials: &[Vec<u8>]) -> Result<Vec<u8>> {
    if credentials.is_empty() || credentials.len() > MAX_ISSUED {
        return Err(Error::InvalidArgument(format!(
            "an answer carries 1 to {MAX_ISSUED} credentials"
        )));
    }
    cbor::encode(&Value::Array(
        credentials
            .iter()
            .map(|c| Value::Bytes(c.clone()))
            .collect(),
    ))
}

/// Unpacks what [`encode_issued`] packed.
pub fn decode_issued(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    const WHAT: &str = "issued credentials";
    let items = cbor::array(
        cbor::decode(bytes, MAX_ISSUED_BYTES, WHAT)?,
        WHAT,
        MAX_ISSUED,
    )?;
    if items.is_empty() {
        return Err(Error::malformed(WHAT, "no credentials"));
    }
    items
        .into_iter()
        .map(|v| {
            let credential = cbor::bytes(v, WHAT)?;
            if credential.is_empty() || credential.len() > crate::credential::MAX_CREDENTIAL_BYTES {
                return Err(Error::malformed(WHAT, "a credential is 1 to 2048 bytes"));
            }
            Ok(credential)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Ed25519KeyPair, SoftwareEd25519Signer, SoftwareP256Signer};

    #[test]
    fn request_round_trip_and_refusals() {
        let nonce = [7u8; 32];
        for signer in [
            Box::new(SoftwareEd25519Signer(Ed25519KeyPair::generate())) as Box<dyn DeviceSigner>,
            Box::new(SoftwareP256Signer::generate()),
        ] {
            let bytes = EnrolmentRequest::create(&nonce, b"proof", signer.as_ref()).unwrap();
            let request = EnrolmentRequest::verify_possession(&bytes).unwrap();
            assert!(request.answers(&nonce).is_ok());
            assert!(matches!(
                request.answers(&[8u8; 32]),
                Err(Error::NonceMismatch)
            ));
            // Another key cannot claim this proof of possession.
            let mut stolen = request.clone();
            stolen.device_key = SoftwareEd25519Signer(Ed25519KeyPair::generate())
                .public_key()
                .unwrap();
            assert!(matches!(
                stolen.check_possession(),
                Err(Error::BadSignature(_))
            ));
            // A different identity proof breaks the signature.
            let mut swapped = request;
            swapped.identity_proof = b"other".to_vec();
            assert!(swapped.check_possession().is_err());
        }
        let signer = SoftwareEd25519Signer(Ed25519KeyPair::generate());
        assert!(EnrolmentRequest::create(&[0u8; 8], b"p", &signer).is_err());
        assert!(EnrolmentRequest::from_bytes(b"garbage").is_err());
    }

    #[test]
    fn the_oidc_nonce_binds_the_enrolment_nonce_and_the_device_key() {
        let device = SoftwareEd25519Signer(Ed25519KeyPair::generate())
            .public_key()
            .unwrap();
        let other_device = SoftwareP256Signer::generate().public_key().unwrap();
        let nonce = oidc_nonce(&[7u8; 32], &device);
        assert_eq!(nonce, oidc_nonce(&[7u8; 32], &device));
        assert_eq!(nonce.len(), 43, "base64url of 32 bytes, unpadded");
        assert!(nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(nonce, oidc_nonce(&[8u8; 32], &device));
        assert_ne!(nonce, oidc_nonce(&[7u8; 32], &other_device));
        assert_ne!(nonce, oidc_nonce(&[7u8; 31], &device));
        // Pinned, so that wallets in other languages can check their copy against it.
        let fixed = Ed25519KeyPair::from_secret(&[9u8; 32]).unwrap().public();
        let fixed = DevicePublicKey::from_bytes(&fixed).unwrap();
        assert_eq!(oidc_nonce(&[1u8; 16], &fixed), PINNED_OIDC_NONCE);
    }

    // Computed apart from this code (Python: hashlib and cryptography's Ed25519).
    #[test]
    fn base64url_matches_rfc_4648() {
        // RFC 4648 §10, in the URL alphabet without padding.
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), encoded);
        }
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    const PINNED_OIDC_NONCE: &str = "AMUmhQmsTKKisQ5J9SvnWFlt3WEKkUB0-5kVDztpDQY";

    #[test]
    fn an_oidc_identity_proof_carries_the_token_and_nothing_else() {
        let proof = oidc_identity_proof("aaa.bbb.ccc\n");
        assert_eq!(proof, b"OIDC:aaa.bbb.ccc");
        assert_eq!(parse_oidc_identity_proof(&proof), Some("aaa.bbb.ccc"));
        assert_eq!(parse_oidc_identity_proof(b"OIDC:"), None);
        assert_eq!(
            parse_oidc_identity_proof(b"0123456789ABCDEF:1985-03-14"),
            None
        );
        assert_eq!(parse_oidc_identity_proof(b"OIDC:\xff"), None);
        let huge = oidc_identity_proof(&"a".repeat(MAX_IDENTITY_PROOF_BYTES));
        assert_eq!(parse_oidc_identity_proof(&huge), None);
    }

    /// Each row is a request the old decoder accepted in an encoding docs/format.md does not
    /// allow; each is refused as malformed, and the request as created is accepted.
    #[test]
    fn request_has_exactly_one_encoding() {
        let signer = SoftwareEd25519Signer(Ed25519KeyPair::generate());
        let genuine = EnrolmentRequest::create(&[7u8; 32], b"proof", &signer).unwrap();
        let Value::Map(fields) = cbor::decode(&genuine, MAX_REQUEST_BYTES, "t").unwrap() else {
            panic!("a request is a map");
        };
        type Fields = Vec<(Value, Value)>;
        let edited = |edit: &dyn Fn(&mut Fields)| {
            let mut fields = fields.clone();
            edit(&mut fields);
            cbor::encode(&Value::Map(fields)).unwrap()
        };
        let rows: [(&str, Vec<u8>); 4] = [
            ("keys out of order", edited(&|f| f.swap(0, 1))),
            (
                "an unknown key 5",
                edited(&|f| f.push((5.into(), Value::Bytes(vec![0])))),
            ),
            (
                "a 63-byte signature",
                edited(&|f| f[3].1 = Value::Bytes(vec![0; 63])),
            ),
            (
                "a COSE_Key with an unknown parameter",
                edited(&|f| {
                    if let Value::Map(key) = &mut f[2].1 {
                        key.insert(1, (2.into(), Value::Bytes(vec![1; 8])));
                    }
                }),
            ),
        ];
        let accepted: Vec<&str> = rows
            .into_iter()
            .filter(|(_, bytes)| {
                !matches!(
                    EnrolmentRequest::from_bytes(bytes),
                    Err(Error::Malformed { .. })
                )
            })
            .map(|(name, _)| name)
            .collect();
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
        assert!(EnrolmentRequest::from_bytes(&edited(&|_| ())).is_ok());
    }

    #[test]
    fn issued_bundle_refuses_entries_that_cannot_be_credentials() {
        let rows: [(&str, Value); 2] = [
            ("an empty entry", Value::Array(vec![Value::Bytes(vec![])])),
            (
                "an entry over 2048 bytes",
                Value::Array(vec![Value::Bytes(vec![0x84; 2049])]),
            ),
        ];
        let accepted: Vec<&str> = rows
            .into_iter()
            .filter(|(_, value)| {
                let bytes = cbor::encode(value).unwrap();
                !matches!(decode_issued(&bytes), Err(Error::Malformed { .. }))
            })
            .map(|(name, _)| name)
            .collect();
        assert!(accepted.is_empty(), "accepted: {accepted:?}");
    }

    #[test]
    fn issued_bundle_limits() {
        assert!(encode_issued(&[]).is_err());
        let bundle = encode_issued(&[vec![1, 2], vec![3]]).unwrap();
        assert_eq!(decode_issued(&bundle).unwrap(), vec![vec![1, 2], vec![3]]);
        assert!(decode_issued(&[0x80]).is_err());
    }
}
