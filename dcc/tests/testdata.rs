//! Runs the 581 cases of the upstream dgc-testdata suite (testdata/dcc/dgc-testdata.jsonl) and
//! compares each outcome with the upstream expectations it states:
//!
//! - `EXPECTEDVERIFY` true ⇒ `verify_qr` succeeds; false ⇒ it fails;
//! - `EXPECTEDUNPREFIX`, `EXPECTEDB45DECODE`, `EXPECTEDCOMPRESSION` false ⇒ decoding fails at
//!   that stage; true ⇒ it gets past that stage;
//! - `EXPECTEDDECODE` false ⇒ decoding fails at the COSE or CWT stage; true ⇒ it succeeds and
//!   the decoded DGC equals the case's JSON (timestamps compared up to `Z` = `+00:00`).
//!
//! Expiry (`EXPECTEDEXPIRATIONCHECK`, the validation clock), key usage, schema and picture
//! expectations are out of scope and ignored.

// clippy.toml allows unwrap in #[test] functions only, not in the fixture helpers below; a
// broken fixture file should fail loudly there too.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64ct::{Base64, Encoding as _};
use serde_json::Value as Json;
use vaxpass_dcc::{Algorithm, DccError, Ecdsa, Hcert, KidLocation, SignerCertificate, Stage};

struct Case {
    path: String,
    prefix: String,
    certificate: Vec<u8>,
    expected: serde_json::Map<String, Json>,
    json: Json,
}

fn load() -> Vec<Case> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/dcc/dgc-testdata.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    text.lines()
        .map(|line| {
            let v: Json = serde_json::from_str(line).unwrap();
            Case {
                path: v["path"].as_str().unwrap().to_owned(),
                prefix: v["prefix"].as_str().unwrap().to_owned(),
                certificate: Base64::decode_vec(v["certificate"].as_str().unwrap()).unwrap(),
                expected: v["expected"].as_object().unwrap().clone(),
                json: v["json"].clone(),
            }
        })
        .collect()
}

struct Outcome {
    decoded: Result<Hcert, DccError>,
    verified: Result<(), DccError>,
    key_type: &'static str,
}

impl Outcome {
    fn of(case: &Case) -> Self {
        let key_type = SignerCertificate::from_der(&case.certificate)
            .map(|c| c.key_type())
            .unwrap_or("unparsable");
        let decoded = vaxpass_dcc::decode(&case.prefix);
        let verified = match &decoded {
            Ok(hcert) => hcert.verify(&case.certificate),
            Err(e) => Err(e.clone()),
        };
        // verify_qr is decode + verify: it must agree, with either ECDSA implementation.
        for ecdsa in [Ecdsa::Ring, Ecdsa::RustCrypto] {
            assert_eq!(
                vaxpass_dcc::verify_qr_using(&case.prefix, &case.certificate, ecdsa).err(),
                verified.clone().err(),
                "{} with {ecdsa:?}",
                case.path
            );
        }
        Self {
            decoded,
            verified,
            key_type,
        }
    }

    fn failed_stage(&self) -> Option<Stage> {
        self.verified.as_ref().err().map(DccError::stage)
    }

    fn algorithm(&self) -> Option<Algorithm> {
        self.decoded.as_ref().ok().and_then(|h| h.algorithm().ok())
    }
}

/// Where we disagree with an upstream expectation: (case path, expectation, why). Each one is a
/// defect of the upstream data, not of this crate.
///
/// Not listed because we agree with the stated expectation: `ES/2DCode/raw/401`-`403` sign ES256
/// with a P-384 key (ECDSA P-384 over SHA-256, which RFC 9053 section 2.1 permits). Upstream says
/// EXPECTEDVERIFY true, and we verify them, although upstream's own Python check builds every EC
/// key as P-256 and cannot (rust-italia/dgc issue 34 tracks the same three cases).
const KNOWN_DISAGREEMENTS: &[(&str, &str, &str)] = &[
    (
        "FR/2DCode/raw/test_pcr_ok.json",
        "EXPECTEDDECODE",
        "the QR's test times (sc, dr) are two hours later than the JSON's: upstream lists this \
         case in tests/known_issues.csv (its issue 141)",
    ),
    (
        "PL/1.3.0/2DCode/raw/1.json",
        "EXPECTEDDECODE",
        "the QR decodes and verifies, but the case's JSON describes another holder (name and \
         date of birth differ): the JSON was copied from a different certificate",
    ),
    (
        "PL/1.3.0/2DCode/raw/5.json",
        "EXPECTEDDECODE",
        "the QR decodes and verifies, but the case's JSON describes another holder (names \
         differ): the JSON was copied from a different certificate",
    ),
];

/// The disagreements of one case with its stated expectations.
fn disagreements(case: &Case, outcome: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let stage = outcome.failed_stage();
    let decode_stage = outcome.decoded.as_ref().err().map(DccError::stage);
    let mut check = |key: &str, ok: bool| {
        if !ok {
            let got = match (key, &outcome.decoded) {
                ("EXPECTEDDECODE", Ok(_)) => "a DGC that differs from the case's JSON".to_owned(),
                _ => describe(outcome),
            };
            out.push(format!("{key}={} but we got {got}", case.expected[key]));
        }
    };
    for (key, value) in &case.expected {
        let Some(expected) = value.as_bool() else {
            continue;
        };
        match key.as_str() {
            "EXPECTEDVERIFY" => check(key, outcome.verified.is_ok() == expected),
            "EXPECTEDUNPREFIX" => check(key, (stage == Some(Stage::Prefix)) != expected),
            "EXPECTEDB45DECODE" => check(
                key,
                if expected {
                    !matches!(stage, Some(s) if s <= Stage::Base45)
                } else {
                    stage == Some(Stage::Base45)
                },
            ),
            "EXPECTEDCOMPRESSION" => check(
                key,
                if expected {
                    !matches!(stage, Some(s) if s <= Stage::Decompress)
                } else {
                    stage == Some(Stage::Decompress)
                },
            ),
            "EXPECTEDDECODE" => check(
                key,
                if expected {
                    outcome
                        .decoded
                        .as_ref()
                        .is_ok_and(|h| same(h.dgc(), &case.json))
                } else {
                    matches!(decode_stage, Some(Stage::Cose | Stage::Claims))
                },
            ),
            _ => {}
        }
    }
    out
}

/// The decoded DGC equals the case's JSON. CBOR tags (tag 0 date strings) compare by their
/// content, numbers by value, and an RFC 3339 `+00:00` offset equals `Z`.
fn same(cbor: &ciborium::Value, json: &Json) -> bool {
    use ciborium::Value as Cbor;
    match (cbor, json) {
        (Cbor::Tag(_, inner), _) => same(inner, json),
        (Cbor::Text(a), Json::String(b)) => a == b || utc(a) == utc(b),
        (Cbor::Integer(a), Json::Number(b)) => {
            b.as_i64().is_some_and(|b| i128::from(*a) == i128::from(b))
                || b.as_f64().is_some_and(|b| i128::from(*a) as f64 == b)
        }
        (Cbor::Float(a), Json::Number(b)) => b.as_f64() == Some(*a),
        (Cbor::Bool(a), Json::Bool(b)) => a == b,
        (Cbor::Null, Json::Null) => true,
        (Cbor::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Cbor::Map(a), Json::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(k, v)| {
                    k.as_text()
                        .and_then(|k| b.get(k))
                        .is_some_and(|j| same(v, j))
                })
        }
        _ => false,
    }
}

fn utc(timestamp: &str) -> String {
    timestamp
        .strip_suffix("+00:00")
        .map_or_else(|| timestamp.to_owned(), |t| format!("{t}Z"))
}

fn describe(outcome: &Outcome) -> String {
    match &outcome.verified {
        Ok(()) => "verified".into(),
        Err(e) => format!("refused at {} ({e})", e.stage()),
    }
}

#[test]
fn dgc_testdata_suite() {
    let cases = load();
    assert_eq!(cases.len(), 581);

    let mut verified = 0;
    let mut by_algorithm: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut by_stage: BTreeMap<Stage, usize> = BTreeMap::new();
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_kid: BTreeMap<&str, usize> = BTreeMap::new();
    let mut found = Vec::new();
    for case in &cases {
        let outcome = Outcome::of(case);
        if let Ok(hcert) = &outcome.decoded {
            let location = match hcert.kid_location() {
                Some(KidLocation::Protected) => "protected",
                Some(KidLocation::Unprotected) => "unprotected only",
                None => "absent",
            };
            *by_kid.entry(location).or_default() += 1;
        }
        let alg = outcome
            .algorithm()
            .map_or("-".to_owned(), |a| a.to_string());
        let row = by_algorithm
            .entry(format!("{alg} / {}", outcome.key_type))
            .or_default();
        match &outcome.verified {
            Ok(()) => {
                verified += 1;
                row.0 += 1;
            }
            Err(e) => {
                row.1 += 1;
                *by_stage.entry(e.stage()).or_default() += 1;
                *by_reason.entry(e.to_string()).or_default() += 1;
            }
        }
        for d in disagreements(case, &outcome) {
            found.push((case.path.clone(), d));
        }
    }

    println!(
        "\ndgc-testdata: {} cases, {verified} verified, {} refused",
        cases.len(),
        cases.len() - verified
    );
    println!("\n| algorithm / key | verified | refused |\n|---|---:|---:|");
    for (name, (ok, refused)) in &by_algorithm {
        println!("| {name} | {ok} | {refused} |");
    }
    println!("\n| failure stage | cases |\n|---|---:|");
    for (stage, n) in &by_stage {
        println!("| {stage} | {n} |");
    }
    println!("\n| kid header (decoded cases) | cases |\n|---|---:|");
    for (location, n) in &by_kid {
        println!("| {location} | {n} |");
    }
    println!("\n| refusal | cases |\n|---|---:|");
    for (reason, n) in &by_reason {
        println!("| {reason} | {n} |");
    }
    println!("\ndisagreements with upstream: {}", found.len());
    for (path, d) in &found {
        let known = KNOWN_DISAGREEMENTS.iter().find(|(p, _, _)| p == path);
        println!(
            "- {path}: {d}{}",
            known.map_or(String::new(), |(_, _, why)| format!(" [known: {why}]"))
        );
    }

    // The measured outcome, pinned: a change here is a behaviour change to explain.
    assert_eq!(verified, 567);
    let table = |m: &BTreeMap<String, (usize, usize)>| {
        m.iter().map(|(k, v)| (k.clone(), *v)).collect::<Vec<_>>()
    };
    assert_eq!(
        table(&by_algorithm),
        [
            ("- / P-256".to_owned(), (0, 8)),
            ("ES256 / P-256".to_owned(), (549, 6)),
            ("ES256 / P-384".to_owned(), (3, 0)),
            ("PS256 / RSA".to_owned(), (15, 0)),
        ]
    );
    assert_eq!(
        by_stage.into_iter().collect::<Vec<_>>(),
        [
            (Stage::Prefix, 3),     // H1, H2, H3
            (Stage::Base45, 1),     // B1
            (Stage::Decompress, 2), // Z1 (broken), Z2 (not compressed)
            (Stage::Cose, 1),       // CBO2
            (Stage::Claims, 1),     // CBO1
            (Stage::Kid, 5),        // CO22, CO23, PL/*/6 (three schema versions)
            (Stage::Signature, 1),  // CO5
        ]
    );
    assert_eq!(
        by_kid.into_iter().collect::<Vec<_>>(),
        [("protected", 542), ("unprotected only", 31)]
    );

    let unexplained: Vec<_> = found
        .iter()
        .filter(|(path, d)| {
            !KNOWN_DISAGREEMENTS
                .iter()
                .any(|(p, key, _)| p == path && d.starts_with(key))
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained disagreements: {unexplained:#?}"
    );
    assert_eq!(
        found.len(),
        KNOWN_DISAGREEMENTS.len(),
        "a known disagreement no longer occurs"
    );
}

fn case(path: &str) -> Case {
    load().into_iter().find(|c| c.path == path).unwrap()
}

/// One case per algorithm and key type, all expected to verify.
const SAMPLES: &[&str] = &[
    "AE/2DCode/raw/vaccine.json",  // ES256, P-256
    "ES/2DCode/raw/401.json",      // ES256, P-384
    "common/2DCode/raw/CO1.json",  // PS256, RSA-2048
    "common/2DCode/raw/CO2.json",  // PS256, RSA-3072
    "common/2DCode/raw/CO19.json", // kid in the unprotected header only
];

#[test]
fn certificates_are_not_interchangeable() {
    let cases: Vec<Case> = SAMPLES.iter().map(|p| case(p)).collect();
    for (i, a) in cases.iter().enumerate() {
        let hcert = vaxpass_dcc::decode(&a.prefix).unwrap();
        let cert = SignerCertificate::from_der(&a.certificate).unwrap();
        assert_eq!(hcert.kid(), Some(&cert.kid()[..]), "{}", a.path);
        assert_eq!(hcert.verify_with(&cert), Ok(()), "{}", a.path);
        for (j, b) in cases.iter().enumerate() {
            if i != j && a.certificate != b.certificate {
                assert_eq!(
                    hcert.verify(&b.certificate),
                    Err(DccError::KidMismatch),
                    "{} with {}",
                    a.path,
                    b.path
                );
            }
        }
    }
}

#[test]
fn every_single_character_change_is_refused_without_panic() {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    for path in SAMPLES {
        let c = case(path);
        let bytes = c.prefix.as_bytes();
        for i in 0..bytes.len() {
            let mut changed = bytes.to_vec();
            let at = ALPHABET.iter().position(|&x| x == bytes[i]).unwrap_or(0);
            changed[i] = ALPHABET[(at + 1 + i % 44) % 45];
            let text = String::from_utf8(changed).unwrap();
            assert!(
                vaxpass_dcc::verify_qr(&text, &c.certificate).is_err(),
                "{path} position {i}"
            );
        }
        for len in 0..bytes.len() {
            assert!(
                vaxpass_dcc::verify_qr(&c.prefix[..len], &c.certificate).is_err(),
                "{path} cut at {len}"
            );
        }
    }
}

#[test]
fn limits_apply_at_their_stage() {
    use vaxpass_dcc::{decode_with, DecodeOptions, Limits};
    let c = case("AE/2DCode/raw/vaccine.json");
    let with = |limits: Limits| {
        decode_with(
            &c.prefix,
            &DecodeOptions {
                limits,
                ..DecodeOptions::default()
            },
        )
    };
    let d = Limits::default();
    assert!(with(d).is_ok());
    let table = [
        (
            Limits {
                max_qr_text_len: c.prefix.len() - 1,
                ..d
            },
            Stage::Prefix,
        ),
        (
            Limits {
                max_inflated_len: 100,
                ..d
            },
            Stage::Decompress,
        ),
        (
            Limits {
                max_cbor_depth: 1,
                ..d
            },
            Stage::Cose,
        ),
        (
            Limits {
                max_cbor_depth: 3,
                ..d
            },
            Stage::Claims,
        ),
    ];
    for (limits, stage) in table {
        assert_eq!(with(limits).unwrap_err().stage(), stage, "{limits:?}");
    }
    assert!(with(Limits {
        max_qr_text_len: c.prefix.len(),
        ..d
    })
    .is_ok());
}

#[test]
fn uncompressed_is_an_option() {
    use vaxpass_dcc::{decode_with, DecodeOptions};
    let z2 = case("common/2DCode/raw/Z2.json");
    assert_eq!(
        vaxpass_dcc::decode(&z2.prefix).unwrap_err().stage(),
        Stage::Decompress
    );
    let lenient = DecodeOptions {
        allow_uncompressed: true,
        ..DecodeOptions::default()
    };
    let hcert = decode_with(&z2.prefix, &lenient).unwrap();
    assert_eq!(hcert.verify(&z2.certificate), Ok(()));
    // Broken compression stays refused: Z1 is not zlib and not COSE either.
    let z1 = case("common/2DCode/raw/Z1.json");
    assert!(decode_with(&z1.prefix, &lenient).is_err());
}

#[test]
fn accessors_and_redacted_debug() {
    let c = case("AE/2DCode/raw/vaccine.json");
    let hcert = vaxpass_dcc::verify_qr(&c.prefix, &c.certificate).unwrap();
    assert_eq!(hcert.issuer(), Some("AE"));
    assert_eq!(hcert.algorithm(), Ok(Algorithm::Es256));
    assert!(hcert.issued_at().unwrap() < hcert.expires().unwrap());
    assert_eq!(hcert.claims().version(), c.json["ver"].as_str());
    assert_eq!(
        hcert.claims().kind(),
        Some(vaxpass_dcc::CertificateKind::Vaccination)
    );
    let person = hcert.person();
    assert_eq!(
        person.family_name_std.as_deref(),
        c.json["nam"]["fnt"].as_str()
    );
    assert_eq!(person.date_of_birth.as_deref(), c.json["dob"].as_str());
    let debug = format!("{hcert:?} {person:?}");
    let dob = c.json["dob"].as_str().unwrap();
    let fnt = c.json["nam"]["fnt"].as_str().unwrap();
    assert!(!debug.contains(dob) && !debug.contains(fnt), "{debug}");
}
