//! No personal data in `Debug`: every public type that can hold a name, a birth date, an identity
//! proof or QR text is built with distinctive values, and its `Debug` must show none of them, in
//! any form they could take (text, or the bytes of a payload printed as numbers or hex).

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{Duration, NaiveDate};
use vaxpass::*;
use vaxpass_tests::*;

const NAME: &str = "Zebulon Quixote";
const BIRTH: &str = "1901-02-03";
const PROOF: &[u8] = b"ID-7Q3X-9KWP-LEAK";

fn person() -> Person {
    Person {
        name: NAME.into(),
        date_of_birth: BIRTH.parse::<NaiveDate>().unwrap(),
    }
}

fn pass_data() -> PassData {
    PassData {
        person: person(),
        ..three_doses()
    }
}

/// The forms a secret could take in a `Debug` string.
fn forms(secret: &[u8]) -> Vec<String> {
    let numbers = format!("{secret:?}");
    vec![
        String::from_utf8_lossy(secret).into_owned(),
        numbers[1..numbers.len() - 1].to_owned(), // "90, 101, 98, ..."
        hex::encode(secret),
        hex::encode_upper(secret),
    ]
}

struct Never(std::sync::atomic::AtomicU64);

impl vaxpass_ffi::MonotonicClock for Never {
    fn elapsed_since_boot(&self) -> Result<vaxpass_ffi::TimeSpan, vaxpass_ffi::VaxpassError> {
        Ok(std::time::Duration::from_secs(self.0.load(std::sync::atomic::Ordering::SeqCst)).into())
    }
}

fn system_time(t: chrono::DateTime<chrono::Utc>) -> SystemTime {
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(t.timestamp().unsigned_abs())
}

#[test]
fn debug_of_every_type_holding_personal_data_shows_none_of_it() {
    let world = World::with(VerifierConfig::default(), pass_data());
    let now = lunch();
    let credential_bytes = world
        .authority
        .issue(
            &pass_data(),
            world.wallet.device_key(),
            now - Duration::days(1),
            now + Duration::days(300),
            now - Duration::days(1),
        )
        .unwrap();
    let presentation_text = world.show(now);
    let paper_text = world.wallet.paper(&world.pass).unwrap().text;
    let presentation_bytes =
        base45::decode(presentation_text.strip_prefix("VP1:").unwrap()).unwrap();
    let request_bytes = world.wallet.enrolment_request(&[7; 32], PROOF).unwrap();
    let verdict = world.verdict(&presentation_text, now);
    assert!(verdict.is_valid());

    // The bindings, as an app reaches them.
    let ffi_wallet = vaxpass_ffi::Wallet::open(
        world.dir.path().join("ffi.sqlite").display().to_string(),
        None,
        Arc::new(Never(0.into())),
    )
    .unwrap();
    let ffi_issued = world
        .authority
        .issue(
            &pass_data(),
            &DevicePublicKey::from_bytes(&ffi_wallet.device_public_key()).unwrap(),
            now - Duration::days(1),
            now + Duration::days(300),
            now,
        )
        .unwrap();
    let trust = vaxpass_ffi::TrustList::verify(
        world
            .authority
            .trust_list(now - Duration::hours(1), Duration::hours(24))
            .unwrap(),
        world.authority.root_public_key().to_vec(),
    )
    .unwrap();
    let ffi_pass = ffi_wallet
        .import_passes(
            enrolment::encode_issued(&[ffi_issued.bytes]).unwrap(),
            Some(trust),
            system_time(now),
        )
        .unwrap()
        .remove(0);
    let ffi_shown = ffi_wallet
        .presentation(ffi_pass.id.clone(), system_time(now))
        .unwrap();
    let ffi_paper = ffi_wallet.paper(ffi_pass.id.clone()).unwrap();
    assert_eq!(ffi_pass.holder.name(), NAME);

    let cases: Vec<(&str, String)> = vec![
        ("Person", format!("{:?}", person())),
        ("PassData", format!("{:?}", pass_data())),
        (
            "Credential",
            format!(
                "{:?}",
                Credential::from_bytes(&credential_bytes.bytes).unwrap()
            ),
        ),
        (
            "Claims",
            format!(
                "{:?}",
                Credential::from_bytes(&credential_bytes.bytes)
                    .unwrap()
                    .claims
            ),
        ),
        ("Issued", format!("{credential_bytes:?}")),
        (
            "IssueRequest",
            format!(
                "{:?}",
                IssueRequest {
                    pass: pass_data(),
                    device_key: world.wallet.device_key().clone(),
                    not_before: now,
                    expires: now + Duration::days(1),
                }
            ),
        ),
        (
            "Presentation",
            format!(
                "{:?}",
                Presentation::from_bytes(&presentation_bytes).unwrap()
            ),
        ),
        (
            "Scanned::Presentation",
            format!("{:?}", qr_text::parse(&presentation_text).unwrap()),
        ),
        (
            "Scanned::Paper",
            format!("{:?}", qr_text::parse(&paper_text).unwrap()),
        ),
        (
            "Inspection",
            format!("{:?}", inspect::inspect(&presentation_text).unwrap()),
        ),
        (
            "EnrolmentRequest",
            format!(
                "{:?}",
                EnrolmentRequest::from_bytes(&request_bytes).unwrap()
            ),
        ),
        ("Verdict", format!("{verdict:?}")),
        ("Holder", format!("{:?}", admitted(&verdict).0)),
        (
            "PassSummary",
            format!("{:?}", world.wallet.passes().unwrap()),
        ),
        (
            "Shown (presentation)",
            format!("{:?}", world.wallet.presentation(&world.pass, now).unwrap()),
        ),
        (
            "Shown (paper)",
            format!("{:?}", world.wallet.paper(&world.pass).unwrap()),
        ),
        ("Wallet", format!("{:?}", world.wallet)),
        ("ffi Wallet", format!("{ffi_wallet:?}")),
        ("ffi Shown (presentation)", format!("{ffi_shown:?}")),
        ("ffi Shown (paper)", format!("{ffi_paper:?}")),
        ("ffi Holder", format!("{:?}", ffi_pass.holder)),
    ];

    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("name", NAME.as_bytes().to_vec()),
        ("date of birth", BIRTH.as_bytes().to_vec()),
        ("identity proof", PROOF.to_vec()),
        (
            "presentation text",
            presentation_text.as_bytes()[4..40].to_vec(),
        ),
        ("paper text", paper_text.as_bytes()[4..40].to_vec()),
        (
            "ffi presentation text",
            ffi_shown.text().as_bytes()[4..40].to_vec(),
        ),
    ];
    let mut leaks = Vec::new();
    for (what, debug) in &cases {
        for (secret, bytes) in &secrets {
            if forms(bytes)
                .iter()
                .any(|form| debug.contains(form.as_str()))
            {
                leaks.push(format!("{what} shows the {secret}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}
