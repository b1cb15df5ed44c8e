//! Fixtures for the benchmarks: the tests' small world (authority, wallet, verifier) on a fixed
//! clock, the large lists (1,000 issuer keys, 1,000,000 revocations) and a typical EU DCC case,
//! built once so that only the operation under test is timed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

use std::path::Path;

use base64ct::{Base64, Encoding};
use chrono::Duration;
use vaxpass::*;

pub use vaxpass_tests::{lunch as now, three_doses as pass, World};

/// A memory figure of this process from `/proc/self/status` (`VmRSS:`, `VmHWM:`), in KiB; 0
/// where it cannot be read.
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs this program again with `args`, in a process of its own (so its memory figures are its
/// own), and reads the JSON it prints.
pub fn run_self(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "child failed: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A rotating presentation of the world's pass, shown now.
pub fn presentation(world: &World) -> String {
    world.show(now())
}

/// A signed revocation list of `count` credential ids (all-zero among them, the world's pass not).
pub fn revocation_list(world: &World, count: usize) -> Vec<u8> {
    let ids: Vec<CredentialId> = (0..count as u64)
        .map(|i| {
            let b = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_be_bytes();
            CredentialId([b[0], b[1], b[2], b[3], b[4], b[5]])
        })
        .collect();
    world
        .authority
        .revocation_list_of(&ids, now(), Duration::hours(24))
        .unwrap()
}

/// Loads a revocation list of `count` credential ids into the world's verifier.
pub fn revoke_many(world: &World, count: usize) {
    let list = revocation_list(world, count);
    world.verifier.apply_revocation_list(&list, now()).unwrap();
}

/// An authority with `keys` issuer keys (rotated into existence) and its signed trust list.
pub fn trust_list_with_keys(dir: &Path, keys: usize) -> ([u8; 32], Vec<u8>) {
    let authority = LocalAuthority::create(
        dir.join("many-keys.sqlite"),
        "KR",
        now() - Duration::days(300),
    )
    .unwrap();
    for i in 1..keys {
        authority
            .rotate_issuer_key(now() - Duration::days(300) + Duration::minutes(i as i64))
            .unwrap();
    }
    (
        authority.root_public_key(),
        authority.trust_list(now(), Duration::hours(24)).unwrap(),
    )
}

/// Bare signature checks for the floors: an issuer's Ed25519 signature over a message the size
/// of a credential's Sig_structure, and a device signature over one the size of a presentation's
/// signed message, by an Ed25519 key and by a P-256 key.
pub struct Signatures {
    pub ed25519: ed25519_dalek::VerifyingKey,
    pub issuer_message: [u8; 200],
    pub issuer_signature: ed25519_dalek::Signature,
    pub device_message: [u8; 77],
    pub ed25519_device_signature: ed25519_dalek::Signature,
    pub p256: p256::ecdsa::VerifyingKey,
    pub p256_uncompressed: Vec<u8>,
    /// `r || s`.
    pub p256_device_signature: Vec<u8>,
}

impl Signatures {
    pub fn new() -> Self {
        use ed25519_dalek::Signer as _;
        let ed25519 = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let p256 = p256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap();
        let (issuer_message, device_message) = ([1u8; 200], [2u8; 77]);
        let p256_signature: p256::ecdsa::Signature = p256.sign(&device_message);
        Self {
            ed25519: ed25519.verifying_key(),
            issuer_message,
            issuer_signature: ed25519.sign(&issuer_message),
            device_message,
            ed25519_device_signature: ed25519.sign(&device_message),
            p256: *p256.verifying_key(),
            p256_uncompressed: p256
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec(),
            p256_device_signature: p256_signature.to_vec(),
        }
    }

    /// The P-256 key as ring takes it (uncompressed SEC1).
    pub fn ring_p256(&self) -> ring::signature::UnparsedPublicKey<&[u8]> {
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            &self.p256_uncompressed,
        )
    }
}

impl Default for Signatures {
    fn default() -> Self {
        Self::new()
    }
}

/// One EU DCC test case: its QR text and signer certificate.
pub struct DccCase {
    pub path: String,
    pub text: String,
    pub certificate: Vec<u8>,
    /// The upstream `EXPECTEDVERIFY`, where the case states it.
    pub expected_verify: Option<bool>,
}

fn dcc_testdata() -> Vec<serde_json::Value> {
    let data = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/dcc/dgc-testdata.jsonl"),
    )
    .unwrap();
    data.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Every HC1 text of the EU DCC test data, certificate or not.
pub fn dcc_texts() -> Vec<String> {
    dcc_testdata()
        .iter()
        .filter_map(|case| case["prefix"].as_str())
        .filter(|text| text.starts_with("HC1:"))
        .map(str::to_owned)
        .collect()
}

/// All EU DCC test cases that give a QR text and a signer certificate.
pub fn dcc_cases() -> Vec<DccCase> {
    dcc_testdata()
        .into_iter()
        .filter_map(|case| {
            let certificate = Base64::decode_vec(case["certificate"].as_str()?).ok()?;
            Some(DccCase {
                path: case["path"].as_str()?.to_owned(),
                text: case["prefix"].as_str()?.to_owned(),
                certificate,
                expected_verify: case["expected"]["EXPECTEDVERIFY"].as_bool(),
            })
        })
        .collect()
}

/// The ES256 (P-256) case of median QR length that verifies: the typical pass.
pub fn typical_dcc_case() -> DccCase {
    let mut verifying: Vec<DccCase> = dcc_cases()
        .into_iter()
        .filter(|c| {
            vaxpass_dcc::verify_qr(&c.text, &c.certificate).is_ok_and(|h| {
                h.algorithm() == Ok(vaxpass_dcc::Algorithm::Es256)
                    && vaxpass_dcc::SignerCertificate::from_der(&c.certificate)
                        .is_ok_and(|k| k.key_type() == "P-256")
            })
        })
        .collect();
    verifying.sort_by_key(|c| c.text.len());
    verifying.swap_remove(verifying.len() / 2)
}

/// The largest rules list in sets and modes, signed by the world's authority: 64 rule sets a day
/// apart, each with every rule and 16 modes of 32-byte names accepting every kind of event.
pub fn worst_case_rules_list(world: &World) -> Vec<u8> {
    use vaxpass::rules::{MAX_MODES, MAX_MODE_NAME_BYTES, MAX_RULE_SETS};
    use vaxpass::{EventKind, ModeRule, RuleSet, VenueMode};
    let sets = (0..MAX_RULE_SETS)
        .map(|i| {
            let mut set = RuleSet::korea_2022_standing();
            set.takes_effect += Duration::days(i as i64);
            set.policy.rapid_antigen_valid_for = Some(Duration::hours(24));
            if let Some(v) = set.policy.vaccination.as_mut() {
                v.booster_valid_days = Some(365);
            }
            set.modes = (0..MAX_MODES)
                .map(|m| VenueMode {
                    name: format!("m{m:02}{}", "x".repeat(MAX_MODE_NAME_BYTES - 3)),
                    rule: ModeRule::Pass(vec![
                        EventKind::Vaccination,
                        EventKind::Test,
                        EventKind::Recovery,
                    ]),
                })
                .collect();
            set
        })
        .collect();
    world
        .authority
        .rules_list_of(sets, now() - Duration::hours(1), Duration::hours(24))
        .unwrap()
}
