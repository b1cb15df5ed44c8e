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

#[test]
fn wycheproof_ed25519_with_strict_verification() {
    let (run, disagree) = wycheproof(
        "wycheproof/ed25519_test.json",
        |key| unhex(text(key, "pk")),
        |key, msg, sig| {
            key.try_into()
                .is_ok_and(|k: [u8; 32]| verify_ed25519(&k, msg, sig).is_ok())
        },
    );
    assert_eq!(run, 151);
    assert_eq!(
        disagree,
        Vec::<u64>::new(),
        "tcIds where strict verification disagrees with Wycheproof"
    );
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    let (run, disagree) = wycheproof(
        "wycheproof/ecdsa_secp256r1_sha256_p1363_test.json",
        |key| unhex(text(key, "uncompressed")),
        |key, msg, sig| verify_es256(key, msg, sig).is_ok(),
    );
    assert_eq!(run, 262);
    assert_eq!(
        disagree,
        Vec::<u64>::new(),
        "tcIds where ES256 verification disagrees with Wycheproof"
    );
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
