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
pub const MIN_NONCE_BYTES: usize = 16;
pub const MAX_NONCE_BYTES: usize = 64;
pub const MAX_IDENTITY_PROOF_BYTES: usize = 4096;
const MAX_REQUEST_BYTES: usize = 8192;
/// Most credentials one enrolment answer may carry (a family on one phone enrols one by one).
pub const MAX_ISSUED: usize = 16;
const MAX_ISSUED_BYTES: usize = MAX_ISSUED * (crate::credential::MAX_CREDENTIAL_BYTES + 4);

/// An enrolment request. [`EnrolmentRequest::verify_possession`] parses and checks it;
/// [`EnrolmentRequest::from_bytes`] only parses (for inspecting one).
#[derive(Clone)]
pub struct EnrolmentRequest {
    pub nonce: Vec<u8>,
    /// Opaque to vaxpass: whatever the identity service's proof is (a token, an assertion).
    pub identity_proof: Vec<u8>,
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
