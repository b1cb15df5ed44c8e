//! What the signed-payload targets share: fixed test keys, a verifier and a wallet that trust
//! them, and a COSE_Sign1 built around the fuzzer's bytes exactly as docs/format.md describes.
//! The fuzzer's bytes become the *payload* and the harness signs them, so every signature check
//! passes and the input reaches the parser behind it (random bytes never get past a signature).
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use ciborium::value::Value;
use vaxpass::lists::{REVOCATION_LIST_TYPE, TRUST_LIST_TYPE};
use vaxpass::rules::RULES_LIST_TYPE;
use vaxpass::{
    DeviceKeySource, DeviceSigner, Ed25519KeyPair, RevocationList, SoftwareEd25519Signer,
    TrustList, Verifier, VerifierConfig, Wallet,
};

pub fn root() -> &'static Ed25519KeyPair {
    static KEY: OnceLock<Ed25519KeyPair> = OnceLock::new();
    KEY.get_or_init(|| Ed25519KeyPair::from_secret(&[1; 32]).expect("a 32-byte secret"))
}

pub fn issuer() -> &'static Ed25519KeyPair {
    static KEY: OnceLock<Ed25519KeyPair> = OnceLock::new();
    KEY.get_or_init(|| Ed25519KeyPair::from_secret(&[2; 32]).expect("a 32-byte secret"))
}

pub fn device() -> &'static SoftwareEd25519Signer {
    static KEY: OnceLock<SoftwareEd25519Signer> = OnceLock::new();
    KEY.get_or_init(|| {
        SoftwareEd25519Signer(Ed25519KeyPair::from_secret(&[3; 32]).expect("a 32-byte secret"))
    })
}

/// The fixed clock of the targets: 2021-12-13 03:10 UTC, as in the worked example.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_639_365_000, 0).expect("a valid time")
}

pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("CBOR values encode");
    out
}

/// An untagged COSE_Sign1 over `payload`: protected `{1: -19, ? 3: content type, 4: kid}`, empty
/// unprotected header, Ed25519 over `["Signature1", protected, h'', payload]`.
pub fn sign1(key: &Ed25519KeyPair, content_type: Option<&str>, payload: &[u8]) -> Vec<u8> {
    let mut header = vec![(Value::from(1), Value::from(-19))];
    if let Some(content_type) = content_type {
        header.push((Value::from(3), Value::Text(content_type.into())));
    }
    header.push((Value::from(4), Value::Bytes(key.kid().to_vec())));
    let protected = encode(&Value::Map(header));
    let to_be_signed = encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.clone()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]));
    encode(&Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(Vec::new()),
        Value::Bytes(payload.to_vec()),
        Value::Bytes(key.sign(&to_be_signed).to_vec()),
    ]))
}

pub fn signed_trust_list(payload: &[u8]) -> Vec<u8> {
    sign1(root(), Some(TRUST_LIST_TYPE), payload)
}

pub fn signed_revocation_list(payload: &[u8]) -> Vec<u8> {
    sign1(root(), Some(REVOCATION_LIST_TYPE), payload)
}

pub fn signed_rules_list(payload: &[u8]) -> Vec<u8> {
    sign1(root(), Some(RULES_LIST_TYPE), payload)
}

/// A credential over `claims`, signed by the issuer key.
pub fn signed_credential(claims: &[u8]) -> Vec<u8> {
    sign1(issuer(), None, claims)
}

/// The presentation of `credential` (as [`signed_credential`] made it) at [`now`], signed by the
/// device key: `[kid, payload, issuer signature, time, device signature]`.
pub fn presentation(claims: &[u8], credential: &[u8]) -> Vec<u8> {
    let Ok(Value::Array(parts)) = ciborium::de::from_reader::<Value, _>(credential) else {
        return Vec::new();
    };
    let message = vaxpass::presentation::signed_message(credential, now());
    encode(&Value::Array(vec![
        Value::Bytes(issuer().kid().to_vec()),
        Value::Bytes(claims.to_vec()),
        parts[3].clone(),
        Value::from(now().timestamp()),
        Value::Bytes(device().sign(&message).expect("software signing")),
    ]))
}

/// The trust list every verifier and wallet here holds: the issuer key, valid for ten years
/// either side of [`now`].
pub fn trust_list() -> &'static TrustList {
    static LIST: OnceLock<TrustList> = OnceLock::new();
    LIST.get_or_init(|| TrustList {
        sequence: 1,
        issuer: "KR".into(),
        issued_at: now() - Duration::hours(1),
        next_update: now() + Duration::hours(23),
        keys: vec![vaxpass::Authority::listed_key(
            issuer().public(),
            now() - Duration::days(3650),
            now() + Duration::days(3650),
            None,
        )
        .expect("a valid issuer key")],
    })
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vaxpass-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// A rules list signed by [`root`] of one rule set in force since 2000: the Korean rules of early
/// 2022 (14 days after the primary series, 180 days without a booster, PCR for 48 hours,
/// recovery for 180 days, in KST), every kind of event accepted in its one mode.
pub fn rules_list(made: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    use vaxpass::{EventKind, ModeRule, Policy, RuleSet, RulesList, VaccinationRule, VenueMode};
    let set = RuleSet {
        takes_effect: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date"),
        policy: Policy {
            vaccination: Some(VaccinationRule {
                days_after_primary: 14,
                primary_valid_days: Some(180),
                booster_valid_days: None,
            }),
            pcr_valid_for: Some(Duration::hours(48)),
            rapid_antigen_valid_for: None,
            recovery_valid_days: Some(180),
            utc_offset_minutes: 540,
        },
        modes: vec![VenueMode {
            name: "restaurant_cafe".into(),
            rule: ModeRule::Pass(vec![
                EventKind::Vaccination,
                EventKind::Test,
                EventKind::Recovery,
            ]),
        }],
    };
    RulesList {
        sequence: 1,
        issued_at: made,
        next_update: made + Duration::hours(24),
        rule_sets: vec![set],
    }
    .sign(root())
    .expect("the rules list signs")
}

/// A verifier that has applied [`trust_list`], an empty revocation list and [`rules_list`].
pub fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let verifier = Verifier::open(
            scratch("verifier.sqlite"),
            root().public(),
            VerifierConfig::default(),
        )
        .expect("a verifier");
        let made = now() - Duration::hours(1);
        let trust = trust_list().sign(root()).expect("the trust list signs");
        verifier
            .apply_trust_list(&trust, made)
            .expect("the trust list applies");
        let revocations = RevocationList::new(1, made, made + Duration::hours(24), vec![])
            .sign(root())
            .expect("the revocation list signs");
        verifier
            .apply_revocation_list(&revocations, made)
            .expect("the revocation list applies");
        verifier
            .apply_rules_list(&rules_list(made), made)
            .expect("the rules list applies");
        verifier
    })
}

/// A wallet whose device key is [`device`].
pub fn wallet() -> &'static Wallet {
    static WALLET: OnceLock<Wallet> = OnceLock::new();
    WALLET.get_or_init(|| {
        Wallet::open(
            scratch("wallet.sqlite"),
            DeviceKeySource::Platform(Arc::new(device().clone())),
        )
        .expect("a wallet")
    })
}
