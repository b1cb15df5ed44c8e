//! Known-answer and interoperability vectors: Wycheproof Ed25519 and ECDSA P-256 (the two device
//! key algorithms and the issuer's), and the cose-wg COSE_Sign1 examples.

use coset::{
    iana, CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable,
};
use serde_json::Value;
use vaxpass::keys::{verify_ed25519, verify_es256, Ed25519KeyPair};
use vaxpass_tests::*;

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("missing {field}"))
}

/// A signature check under test: key, message, signature → accepted.
type Check = fn(&[u8], &[u8], &[u8]) -> bool;

/// Runs every test of a Wycheproof file through `verify` and returns the ids that disagree.
fn wycheproof(
    path: &str,
    key_of: impl Fn(&Value) -> Vec<u8>,
    verify: impl Fn(&[u8], &[u8], &[u8]) -> bool,
) -> (usize, Vec<u64>) {
    let file = json(path);
    let mut run = 0;
    let mut disagree = Vec::new();
    for group in file["testGroups"].as_array().unwrap() {
        let key = key_of(&group["publicKey"]);
        for test in group["tests"].as_array().unwrap() {
            let accepted = verify(&key, &unhex(text(test, "msg")), &unhex(text(test, "sig")));
            if accepted != (text(test, "result") == "valid") {
                disagree.push(test["tcId"].as_u64().unwrap());
            }
            run += 1;
        }
    }
    (run, disagree)
}

/// ed25519-dalek's `verify_strict`, the reference the SDK's check must match.
fn dalek_verify_strict(key: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(key), Ok(sig)) = (
        <[u8; 32]>::try_from(key),
        ed25519_dalek::Signature::from_slice(sig),
    ) else {
        return false;
    };
    ed25519_dalek::VerifyingKey::from_bytes(&key).is_ok_and(|k| k.verify_strict(msg, &sig).is_ok())
}

#[test]
fn wycheproof_ed25519_with_strict_verification() {
    for (name, verify) in [
        (
            "the SDK's verify_ed25519",
            (|key: &[u8], msg: &[u8], sig: &[u8]| {
                key.try_into()
                    .is_ok_and(|k: [u8; 32]| verify_ed25519(&k, msg, sig).is_ok())
            }) as Check,
        ),
        ("ed25519-dalek verify_strict", dalek_verify_strict),
    ] {
        let (run, disagree) = wycheproof(
            "wycheproof/ed25519_test.json",
            |key| unhex(text(key, "pk")),
            verify,
        );
        assert_eq!(run, 151);
        assert_eq!(disagree, Vec::<u64>::new(), "tcIds where {name} disagrees");
    }
}

/// Signs `message` with `R` chosen to be the identity point, which only the holder of the
/// secret can do (`s = k·a`): cofactorless `verify` accepts it, `verify_strict` does not.
fn signature_with_identity_r(pair: &Ed25519KeyPair, message: &[u8]) -> [u8; 64] {
    use curve25519_dalek::Scalar;
    use sha2::{Digest, Sha512};
    let a = ed25519_dalek::hazmat::ExpandedSecretKey::from(&*pair.secret()).scalar;
    let mut r = [0u8; 32];
    r[0] = 1; // the identity: y = 1, x = 0
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r)
            .chain_update(pair.public())
            .chain_update(message),
    );
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r);
    signature[32..].copy_from_slice((k * a).as_bytes());
    signature
}

/// The SDK's Ed25519 check does `verify`'s work plus two byte comparisons; these are the cases
/// where `verify` alone would accept what `verify_strict` refuses, and it must refuse them too.
#[test]
fn ed25519_refuses_small_order_r_and_keys_as_verify_strict_does() {
    use ed25519_dalek::Verifier as _;
    let pair = Ed25519KeyPair::from_secret(&[7; 32]).unwrap();
    let message = b"vaxpass presentation v1";
    let signature = signature_with_identity_r(&pair, message);
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&pair.public()).unwrap();
    let dalek_signature = ed25519_dalek::Signature::from_bytes(&signature);
    assert!(dalek.verify(message, &dalek_signature).is_ok());
    assert!(!dalek_verify_strict(&pair.public(), message, &signature));
    assert!(verify_ed25519(&pair.public(), message, &signature).is_err());

    // A small-order key: R = [s]B with any s verifies every message under `verify`.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let s = curve25519_dalek::Scalar::from(5u8);
    let r = curve25519_dalek::EdwardsPoint::mul_base(&s).compress();
    let mut forged = [0u8; 64];
    forged[..32].copy_from_slice(r.as_bytes());
    forged[32..].copy_from_slice(s.as_bytes());
    let weak = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    for message in [&b"one"[..], b"another"] {
        let forged = ed25519_dalek::Signature::from_bytes(&forged);
        assert!(weak.verify(message, &forged).is_ok());
        assert!(!dalek_verify_strict(&identity, message, &forged.to_bytes()));
        assert!(verify_ed25519(&identity, message, &forged.to_bytes()).is_err());
    }
}

/// The compressed SEC1 form of an uncompressed one: the sign of y, then x.
fn compressed(uncompressed: &[u8]) -> Vec<u8> {
    let mut key = vec![0x02 | (uncompressed[64] & 1)];
    key.extend_from_slice(&uncompressed[1..33]);
    key
}

/// Every P-256 implementation in the project, on every Wycheproof P1363 vector: the SDK's
/// `verify_es256` (p256 decodes the key, ring verifies) with both key forms, ring alone, and
/// the p256 crate alone (the EU DCC baseline's other ES256).
#[test]
fn wycheproof_ecdsa_p256_p1363() {
    use p256::ecdsa::signature::Verifier as _;
    let implementations: [(&str, Check); 4] = [
        (
            "the SDK's verify_es256, uncompressed key",
            |key, msg, sig| verify_es256(key, msg, sig).is_ok(),
        ),
        ("the SDK's verify_es256, compressed key", |key, msg, sig| {
            verify_es256(&compressed(key), msg, sig).is_ok()
        }),
        ("ring", |key, msg, sig| {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
                .verify(msg, sig)
                .is_ok()
        }),
        ("the p256 crate", |key, msg, sig| {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key).unwrap();
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|sig| key.verify(msg, &sig).is_ok())
        }),
    ];
    for (name, verify) in implementations {
        let (run, disagree) = wycheproof(
            "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
            |key| unhex(text(key, "uncompressed")),
            verify,
        );
        assert_eq!(run, 262);
        assert_eq!(disagree, Vec::<u64>::new(), "tcIds where {name} disagrees");
    }
}

/// cose-wg eddsa-sig-01: our Ed25519 signing through coset reproduces the message byte for byte.
#[test]
fn cose_wg_eddsa_sign1_example_matches_byte_for_byte() {
    let example = json("cose-examples/eddsa-examples/eddsa-sig-01.json");
    let key = &example["input"]["sign0"]["key"];
    let pair = Ed25519KeyPair::from_secret(&unhex(text(key, "d_hex"))).unwrap();
    assert_eq!(hex::encode(pair.public()), text(key, "x_hex"));
    let sign1 = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::EdDSA)
                .content_format(iana::CoapContentFormat::TextPlainUtf8)
                .build(),
        )
        .unprotected(HeaderBuilder::new().key_id(b"11".to_vec()).build())
        .payload(text(&example["input"], "plaintext").as_bytes().to_vec())
        .create_signature(&[], |tbs| pair.sign(tbs).to_vec())
        .build();
    assert_eq!(
        hex::encode_upper(sign1.tbs_data(&[])),
        text(&example["intermediates"], "ToBeSign_hex")
    );
    assert_eq!(
        hex::encode_upper(sign1.clone().to_tagged_vec().unwrap()),
        text(&example["output"], "cbor")
    );
    sign1
        .verify_signature(&[], |sig, tbs| verify_ed25519(&pair.public(), tbs, sig))
        .unwrap();
}

fn base64url(input: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url"),
    };
    let bits: Vec<u8> = input.bytes().map(value).collect();
    bits.chunks(4)
        .flat_map(|c| {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, v)| n | u32::from(*v) << (18 - 6 * i));
            n.to_be_bytes()[1..c.len()].to_vec()
        })
        .collect()
}

/// cose-wg sign1-tests: ES256 COSE_Sign1 messages. A careful verifier accepts the three that
/// must pass and refuses the six that must fail (wrong tag, changed signature or alg, added or
/// removed protected attributes).
#[test]
fn cose_wg_es256_sign1_pass_and_fail() {
    let dir = testdata("cose-examples/sign1-tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 9);
    for name in names {
        let example = json(&format!("cose-examples/sign1-tests/{name}"));
        let sign0 = &example["input"]["sign0"];
        let key = &sign0["key"];
        let mut sec1 = vec![4];
        sec1.extend(base64url(text(key, "x")));
        sec1.extend(base64url(text(key, "y")));
        let aad = sign0["external"].as_str().map(unhex).unwrap_or_default();
        let bytes = unhex(text(&example["output"], "cbor"));
        let mut parsed = match bytes[0] {
            0xd2 => CoseSign1::from_tagged_slice(&bytes).ok(),
            0x84 => CoseSign1::from_slice(&bytes).ok(),
            _ => None,
        };
        // RFC 9052 section 4.4: with no protected attributes the Sig_structure carries a
        // zero-length bstr, even when the message sent an empty map (h'A0', as sign-pass-01 does).
        if let Some(m) = parsed.as_mut().filter(|m| m.protected.header.is_empty()) {
            m.protected.original_data = None;
        }
        let es256 = Some(coset::Algorithm::Assigned(iana::Algorithm::ES256));
        let verified = parsed.is_some_and(|m| {
            (m.protected.header.alg == es256
                || (m.protected.header.alg.is_none() && m.unprotected.alg == es256))
                && m.verify_signature(&aad, |sig, tbs| verify_es256(&sec1, tbs, sig))
                    .is_ok()
        });
        assert_eq!(verified, name.starts_with("sign-pass"), "{name}");
    }
}
