//! Support for the cross-crate tests in `tests/`: a small world with an authority, a citizen's
//! wallet and a shop's verifier in a temporary directory, on a fixed clock, and the test data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

pub mod korean_ime;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tempfile::TempDir;
use vaxpass::LocalAuthority;
use vaxpass::*;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 김민준, born 1985, three doses of Comirnaty (the last a booster).
pub fn three_doses() -> PassData {
    let dose = |n, date| {
        Event::Vaccination(Vaccination {
            product: Product::Comirnaty,
            dose: n,
            of: 2,
            date: day(date),
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

/// Lunch time in Seoul, 13 December 2021.
pub fn lunch() -> DateTime<Utc> {
    at("2021-12-13T12:10:00+09:00")
}

pub struct World {
    pub dir: TempDir,
    pub authority: LocalAuthority,
    pub wallet: Wallet,
    pub verifier: Verifier,
    pub pass: CredentialId,
}

impl Default for World {
    fn default() -> Self {
        Self::with(VerifierConfig::default(), three_doses())
    }
}

impl World {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(config: VerifierConfig, pass: PassData) -> Self {
        Self::with_device_key(config, pass, DeviceKeySource::default())
    }

    /// A world whose wallet holds its device key in `device_key` (a platform ES256 signer, say).
    pub fn with_device_key(
        config: VerifierConfig,
        pass: PassData,
        device_key: DeviceKeySource,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let created = lunch() - Duration::days(30);
        let authority =
            LocalAuthority::create(dir.path().join("authority.sqlite"), "KR", created).unwrap();
        let wallet = Wallet::open(dir.path().join("wallet.sqlite"), device_key).unwrap();
        let verifier = Verifier::open(
            dir.path().join("verifier.sqlite"),
            authority.root_public_key(),
            config,
        )
        .unwrap();
        let issued_at = lunch() - Duration::days(10);
        let pass = issue_into(
            &authority,
            &wallet,
            &pass,
            issued_at,
            issued_at + Duration::days(365),
            issued_at,
        );
        let world = Self {
            dir,
            authority,
            wallet,
            verifier,
            pass,
        };
        world.sync(lunch() - Duration::hours(1));
        world
    }

    /// Issues another three-dose pass to this world's wallet and imports it.
    pub fn issue(
        &self,
        not_before: DateTime<Utc>,
        expires: DateTime<Utc>,
        issued_at: DateTime<Utc>,
    ) -> CredentialId {
        issue_into(
            &self.authority,
            &self.wallet,
            &three_doses(),
            not_before,
            expires,
            issued_at,
        )
    }

    /// The shop goes online at `now` and takes fresh lists.
    pub fn sync(&self, now: DateTime<Utc>) {
        let trust = self.authority.trust_list(now, Duration::hours(24)).unwrap();
        let revocations = self
            .authority
            .revocation_list(now, Duration::hours(24))
            .unwrap();
        self.verifier.apply_trust_list(&trust, now).unwrap();
        self.verifier
            .apply_revocation_list(&revocations, now)
            .unwrap();
        let rules = self.authority.rules_list(now, Duration::hours(24)).unwrap();
        self.verifier.apply_rules_list(&rules, now).unwrap();
    }

    pub fn show(&self, now: DateTime<Utc>) -> String {
        self.wallet.presentation(&self.pass, now).unwrap().text
    }

    pub fn verdict(&self, text: &str, now: DateTime<Utc>) -> Verdict {
        self.verifier.verify(text, now).unwrap()
    }
}

/// The holder of a verdict expected to be valid, and whether the shop must check an ID; panics
/// with the reason otherwise.
pub fn admitted(verdict: &Verdict) -> (&Holder, bool) {
    match verdict {
        Verdict::Valid {
            holder,
            id_check_required,
            ..
        } => (holder, *id_check_required),
        Verdict::NotValid { reason, .. } => panic!("expected a valid verdict, got {reason:?}"),
        Verdict::Exempt { .. } => panic!("expected a valid verdict, got exempt"),
    }
}

/// Issues `pass` from `authority` to `wallet` and imports it unchecked; returns its id.
pub fn issue_into(
    authority: &LocalAuthority,
    wallet: &Wallet,
    pass: &PassData,
    not_before: DateTime<Utc>,
    expires: DateTime<Utc>,
    issued_at: DateTime<Utc>,
) -> CredentialId {
    let issued = authority
        .issue(pass, wallet.device_key(), not_before, expires, issued_at)
        .unwrap();
    let bundle = vaxpass::enrolment::encode_issued(&[issued.bytes]).unwrap();
    wallet.import(&bundle, None, issued_at).unwrap();
    issued.id
}

/// A file from the repository's `testdata/` folder.
pub fn testdata(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(path)
}

/// Reads a JSON test vector file.
pub fn json(path: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(testdata(path)).unwrap()).unwrap()
}

/// Decodes hex (test vectors are hex).
pub fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}
