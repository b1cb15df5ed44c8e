//! Fixtures for the benchmarks: a small world (authority, wallet, verifier) on a fixed clock, the
//! large lists (1,000 issuer keys, 1,000,000 revocations) and a typical EU DCC case, built once so
//! that only the operation under test is timed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use tempfile::TempDir;
use vaxpass::*;

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2021-12-13T12:10:00+09:00")
        .unwrap()
        .with_timezone(&Utc)
}

/// 김민준, three doses: the pass every benchmark shows and verifies.
pub fn pass() -> PassData {
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    let dose = |n, d| {
        Event::Vaccination(Vaccination {
            product: Product::Comirnaty,
            dose: n,
            of: 2,
            date: day(d),
        })
    };
    PassData {
        person: Person {
            name: "김민준".into(),
            date_of_birth: day("1985-03-14"),
        },
        events: vec![
            dose(1, "2021-06-20"),
            dose(2, "2021-07-25"),
            dose(3, "2021-12-01"),
        ],
    }
}

pub struct World {
    pub dir: TempDir,
    pub authority: Authority,
    pub wallet: Wallet,
    pub verifier: Verifier,
    pub pass_id: CredentialId,
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let authority = Authority::create(
            dir.path().join("authority.sqlite"),
            "KR",
            now() - Duration::days(30),
        )
        .unwrap();
        let wallet =
            Wallet::open(dir.path().join("wallet.sqlite"), DeviceKeySource::default()).unwrap();
        let issued_at = now() - Duration::days(1);
        let issued = authority
            .issue(
                &pass(),
                wallet.device_key(),
                issued_at,
                issued_at + Duration::days(365),
                issued_at,
            )
            .unwrap();
        wallet
            .import(
                &enrolment::encode_issued(&[issued.bytes]).unwrap(),
                None,
                now(),
            )
            .unwrap();
        let verifier = Verifier::open(
            dir.path().join("verifier.sqlite"),
            authority.root_public_key(),
            VerifierConfig::default(),
        )
        .unwrap();
        verifier
            .apply_trust_list(
                &authority.trust_list(now(), Duration::hours(24)).unwrap(),
                now(),
            )
            .unwrap();
        verifier
            .apply_revocation_list(
                &authority
                    .revocation_list(now(), Duration::hours(24))
                    .unwrap(),
                now(),
            )
            .unwrap();
        Self {
            dir,
            authority,
            wallet,
            verifier,
            pass_id: issued.id,
        }
    }

    pub fn wallet_path(&self) -> PathBuf {
        self.dir.path().join("wallet.sqlite")
    }

    /// A rotating presentation shown now.
    pub fn presentation(&self) -> String {
        self.wallet.presentation(&self.pass_id, now()).unwrap().text
    }

    /// Loads a revocation list of `count` random credential ids (plus nothing of ours).
    pub fn revoke_many(&self, count: usize) {
        let ids: Vec<CredentialId> = (0..count as u64)
            .map(|i| {
                let b = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_be_bytes();
                CredentialId([b[0], b[1], b[2], b[3], b[4], b[5]])
            })
            .collect();
        let list = self
            .authority
            .revocation_list_of(&ids, now(), Duration::hours(24))
            .unwrap();
        self.verifier.apply_revocation_list(&list, now()).unwrap();
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// An authority with `keys` issuer keys (rotated into existence) and its signed trust list.
pub fn trust_list_with_keys(dir: &Path, keys: usize) -> ([u8; 32], Vec<u8>) {
    let authority = Authority::create(
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

/// One EU DCC test case: its QR text and signer certificate.
pub struct DccCase {
    pub path: String,
    pub text: String,
    pub certificate: Vec<u8>,
}

/// All EU DCC test cases with an HC1 prefix and a certificate.
pub fn dcc_cases() -> Vec<DccCase> {
    let data = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/dcc/dgc-testdata.jsonl"),
    )
    .unwrap();
    data.lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter_map(|case| {
            let certificate = Base64::decode_vec(case["certificate"].as_str()?).ok()?;
            Some(DccCase {
                path: case["path"].as_str()?.to_owned(),
                text: case["prefix"].as_str()?.to_owned(),
                certificate,
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
