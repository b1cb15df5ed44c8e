//! Exactly one encoding, end to end. Credentials are encoded here by hand (ciborium values and
//! coset, not the SDK's encoder) and correctly signed by an issuer key the verifier trusts, so
//! each refusal below is the decoder's, not a signature's. A genuine hand-made credential is
//! VALID, which shows this encoder writes what docs/format.md describes.

use chrono::{DateTime, Duration, Utc};
use ciborium::value::Value;
use coset::{iana, CborSerializable, CoseSign1Builder, HeaderBuilder};
use vaxpass::*;
use vaxpass_tests::*;

/// A shop whose verifier trusts one issuer key held by the test.
struct Shop {
    _dir: tempfile::TempDir,
    issuer: Ed25519KeyPair,
    device: SoftwareEd25519Signer,
    verifier: Verifier,
    wallet: Wallet,
    trust: TrustList,
}

fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let root = Ed25519KeyPair::from_secret(&[1; 32]).unwrap();
    let issuer = Ed25519KeyPair::from_secret(&[2; 32]).unwrap();
    let device = SoftwareEd25519Signer(Ed25519KeyPair::from_secret(&[3; 32]).unwrap());
    let made = lunch() - Duration::hours(1);
    let trust = TrustList {
        sequence: 1,
        issuer: "KR".into(),
        issued_at: made,
        next_update: made + Duration::hours(24),
        keys: vec![IssuerKey::new(
            issuer.public(),
            lunch() - Duration::days(365),
            lunch() + Duration::days(365),
            None,
            lunch() + Duration::days(365 + 730),
        )
        .unwrap()],
    };
    let verifier = Verifier::open(
        dir.path().join("verifier.sqlite"),
        root.public(),
        VerifierConfig::default(),
    )
    .unwrap();
    verifier
        .apply_trust_list(&trust.sign(&root).unwrap(), made)
        .unwrap();
    let revocations = RevocationList::new(1, made, made + Duration::hours(24), vec![]);
    verifier
        .apply_revocation_list(&revocations.sign(&root).unwrap(), made)
        .unwrap();
    let rules = RulesList {
        sequence: 1,
        issued_at: made,
        next_update: made + Duration::hours(24),
        rule_sets: vec![RuleSet::korea_2022_standing()],
    };
    verifier
        .apply_rules_list(&rules.sign(&root).unwrap(), made)
        .unwrap();
    let wallet = Wallet::open(
        dir.path().join("wallet.sqlite"),
        DeviceKeySource::Platform(std::sync::Arc::new(device.clone())),
    )
    .unwrap();
    Shop {
        _dir: dir,
        issuer,
        device,
        verifier,
        wallet,
        trust,
    }
}

type Fields = Vec<(Value, Value)>;

fn int(i: i64) -> Value {
    Value::from(i)
}

fn issued_at() -> DateTime<Utc> {
    lunch() - Duration::days(10)
}

/// The claims of a genuine credential for `device`: 김민준, three doses of Comirnaty.
fn claims(device: &SoftwareEd25519Signer) -> Fields {
    let iat = issued_at().timestamp();
    let day = |s: &str| (day(s) - chrono::NaiveDate::default()).num_days();
    let dose = |n: i64, date: &str| Value::Array(vec![int(1), int(n), int(2), int(day(date))]);
    let cose_key = Value::Map(vec![
        (int(1), int(1)),
        (int(-1), int(6)),
        (int(-2), Value::Bytes(device.0.public().to_vec())),
    ]);
    let pass = Value::Map(vec![
        (int(1), Value::Text("김민준".into())),
        (int(2), int(day("1985-03-14"))),
        (
            int(3),
            Value::Array(vec![
                dose(1, "2021-06-20"),
                dose(2, "2021-07-25"),
                dose(3, "2021-12-01"),
            ]),
        ),
    ]);
    vec![
        (int(1), Value::Text("KR".into())),
        (int(4), int(iat + 365 * 86_400)),
        (int(6), int(iat)),
        (int(7), Value::Bytes(vec![0xc7, 1, 2, 3, 4, 5])),
        (int(8), Value::Map(vec![(int(1), cose_key)])),
        (int(-65537), pass),
    ]
}

/// A credential over `claims`, signed by the issuer key, encoded by coset.
fn credential(shop: &Shop, claims: Fields) -> Vec<u8> {
    let mut payload = Vec::new();
    ciborium::ser::into_writer(&Value::Map(claims), &mut payload).unwrap();
    CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::Ed25519)
                .key_id(shop.issuer.kid().to_vec())
                .build(),
        )
        .payload(payload)
        .create_signature(&[], |tbs| shop.issuer.sign(tbs).to_vec())
        .build()
        .to_vec()
        .unwrap()
}

/// The rotating presentation of `credential_bytes` at lunch, encoded and device-signed by hand.
fn presentation(shop: &Shop, credential_bytes: &[u8]) -> String {
    let Value::Array(parts) = ciborium::de::from_reader(credential_bytes).unwrap() else {
        panic!("a COSE_Sign1 is an array");
    };
    let message = presentation::signed_message(credential_bytes, lunch());
    let presentation = Value::Array(vec![
        Value::Bytes(shop.issuer.kid().to_vec()),
        parts[2].clone(),
        parts[3].clone(),
        int(lunch().timestamp()),
        Value::Bytes(shop.device.sign(&message).unwrap()),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&presentation, &mut bytes).unwrap();
    qr_text::presentation_text(&bytes)
}

fn name(shop: &Shop, name: &str) -> Fields {
    let mut claims = claims(&shop.device);
    if let Value::Map(pass) = &mut claims[5].1 {
        pass[0].1 = Value::Text(name.into());
    }
    claims
}

#[test]
fn a_hand_encoded_genuine_credential_is_valid() {
    let shop = shop();
    let bytes = credential(&shop, claims(&shop.device));
    let paper = shop
        .verifier
        .verify(&qr_text::paper_text(&bytes), lunch())
        .unwrap();
    assert!(paper.is_valid(), "{:?}", paper.reason());
    let shown = shop
        .verifier
        .verify(&presentation(&shop, &bytes), lunch())
        .unwrap();
    assert_eq!(admitted(&shown).0.name, "김민준");
}

/// An issuer-signed credential whose pass data breaks the rules is malformed at the door, as a
/// paper pass and as a presentation, and a wallet will not import it.
#[test]
fn issuer_signed_names_that_are_unsafe_to_show_are_malformed() {
    let shop = shop();
    let rows = [
        ("empty", ""),
        ("right-to-left override", "김민준\u{202e}"),
        ("first strong isolate", "\u{2068}김민준"),
        ("escape", "김민준\u{1b}[2J"),
        ("zero width space", "김\u{200b}민준"),
        ("line separator", "김\u{2028}민준"),
        ("leading space", " 김민준"),
    ];
    let mut accepted = Vec::new();
    for (why, bad) in rows {
        let bytes = credential(&shop, name(&shop, bad));
        for (how, text) in [
            ("paper", qr_text::paper_text(&bytes)),
            ("presentation", presentation(&shop, &bytes)),
        ] {
            let verdict = shop.verifier.verify(&text, lunch()).unwrap();
            if verdict.reason() != Some(Reason::Malformed) {
                accepted.push(format!("{why} as {how}: {:?}", verdict.reason()));
            }
        }
        let bundle = enrolment::encode_issued(&[bytes]).unwrap();
        let imported = shop.wallet.import(&bundle, Some(&shop.trust), lunch());
        if !matches!(imported, Err(Error::Malformed { .. })) {
            accepted.push(format!("{why} imported"));
        }
    }
    assert!(accepted.is_empty(), "{accepted:#?}");
}

/// Each row says the same as the genuine credential in an encoding docs/format.md does not allow.
#[test]
fn issuer_signed_claims_in_a_second_encoding_are_malformed() {
    let shop = shop();
    let iat = int(issued_at().timestamp());
    let edited = |edit: &dyn Fn(&mut Fields)| {
        let mut claims = claims(&shop.device);
        edit(&mut claims);
        claims
    };
    let rows: [(&str, Fields); 4] = [
        ("iss after exp", edited(&|c| c.swap(0, 1))),
        (
            "nbf written out although equal to iat",
            edited(&|c| c.insert(2, (int(5), iat.clone()))),
        ),
        (
            "a COSE_Key with a kid",
            edited(&|c| {
                if let Value::Map(cnf) = &mut c[4].1 {
                    if let Value::Map(key) = &mut cnf[0].1 {
                        key.insert(1, (int(2), Value::Bytes(vec![1; 8])));
                    }
                }
            }),
        ),
        (
            "an empty list of tests",
            edited(&|c| {
                if let Value::Map(pass) = &mut c[5].1 {
                    pass.push((int(4), Value::Array(vec![])));
                }
            }),
        ),
    ];
    let mut accepted = Vec::new();
    for (why, claims) in rows {
        let bytes = credential(&shop, claims);
        for (how, text) in [
            ("paper", qr_text::paper_text(&bytes)),
            ("presentation", presentation(&shop, &bytes)),
        ] {
            let verdict = shop.verifier.verify(&text, lunch()).unwrap();
            if verdict.reason() != Some(Reason::Malformed) {
                accepted.push(format!("{why} as {how}: {:?}", verdict.reason()));
            }
        }
    }
    assert!(accepted.is_empty(), "{accepted:#?}");
}
