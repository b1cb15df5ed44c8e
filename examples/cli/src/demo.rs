//! `vaxpass demo`: the whole story in a fresh temporary directory. An authority enrols a citizen's
//! phone and issues a pass; a shop syncs its lists; then the network goes down, as it did in Korea
//! at lunchtime on 13 December 2021. The phone shows a rotating QR code, the shop reads it back from
//! a PNG and says VALID with no network, and refuses the same screenshot ten minutes later.

use std::fmt::Display;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;
use vaxpass::enrolment::encode_issued;
use vaxpass::keys::hex;
use vaxpass::{
    DeviceKeySource, EnrolmentRequest, Event, PassData, Person, Product, Reason, RevocationList,
    TrustList, Vaccination, Verifier, VerifierConfig, Wallet,
};

use crate::cli::{parse_date, parse_time};
use crate::context::{
    read_file, write_file, Authority, Context, Outcome, ISSUED_FILE, REQUEST_FILE,
    REVOCATION_LIST_FILE, TRUST_LIST_FILE, VERIFIER_DB, WALLET_DB,
};
use crate::error::{Error, Result};
use crate::output::{describe_event, time, verdict_json, verdict_lines, Output};
use crate::qr_image::{decode_png, MODULE_PIXELS};

/// Lunchtime in Seoul on the day the pass apps went down. The story runs on this clock, not the
/// wall clock, so the pass dates and the booster rule of the Korean policy hold.
const STORY_TIME: &str = "2021-12-13T12:10:00+09:00";
/// How long after showing the code the screenshot is tried again.
const REPLAY_AFTER: Duration = Duration::minutes(10);
const QR_FILE: &str = "qr.png";

pub fn run(ctx: &Context) -> Result<Outcome> {
    let dir = tempfile::Builder::new()
        .prefix("vaxpass-demo-")
        .tempdir()
        .map_err(|e| Error::new(format!("cannot create a temporary directory: {e}")))?
        // Kept after exit so the PNG and the databases can be looked at.
        .keep();
    let path = |name: &str| dir.join(name);
    let story = Story { out: ctx.out };
    // Every step happens at a time relative to the moment the QR code is shown.
    let shown_at = match ctx.fixed_now {
        Some(now) => now,
        None => parse_time(STORY_TIME).map_err(Error::new)?,
    };
    let created_at = shown_at - Duration::days(30);
    let enrolled_at = shown_at - Duration::minutes(210);
    let synced_at = shown_at - Duration::minutes(180);
    let outage_at = shown_at - Duration::minutes(10);
    let replay_at = shown_at + REPLAY_AFTER;

    story.line("vaxpass demo: one pass, one network outage");
    story.line(format_args!(
        "working directory: {} (kept after exit; every file is written here)",
        dir.display()
    ));
    story.line(match ctx.fixed_now {
        None => format!(
            "clock: fixed story time {}, the lunchtime Korea's pass apps went down (not the wall clock)",
            kst(shown_at)
        ),
        Some(_) => format!("clock: --now, {}", kst(shown_at)),
    });
    story.line("");

    // The authority, set up a month before, in the store the `authority` commands and the
    // issuer service use.
    let authority = Authority::create(&dir, "KR", created_at)?;
    let root = authority.authority.root_public_key();
    story.step(
        created_at,
        "authority",
        format_args!(
            "created {:?} with root key {}",
            authority.authority.signer().issuer(),
            hex(&root)
        ),
    );

    // Enrolment, the one online step: the wallet proves its device key over the server's nonce.
    let wallet = Wallet::open(path(WALLET_DB), DeviceKeySource::default())?;
    let pass = three_doses()?;
    story.step(
        enrolled_at,
        "wallet",
        format_args!(
            "{}, born {}, enrols for a pass:",
            pass.person.name, pass.person.date_of_birth
        ),
    );
    for event in &pass.events {
        story.more(format_args!("  {}", describe_event(event)));
    }
    let nonce = vaxpass::enrolment::new_nonce();
    let request = wallet.enrolment_request(&nonce, "demo identity-service token".as_bytes())?;
    write_file(&path(REQUEST_FILE), &request)?;
    let device = wallet.device_key();
    story.more(format_args!(
        "enrolment request over a random 32-byte server nonce, signed by device key {} {}",
        device.algorithm(),
        hex(&device.kid())
    ));

    let request = EnrolmentRequest::verify_possession(&read_file(&path(REQUEST_FILE))?)?;
    request.answers(&nonce)?;
    let issued = authority.issue(
        &request,
        &pass,
        enrolled_at,
        enrolled_at + Duration::days(365),
    )?;
    let id = issued.id;
    write_file(&path(ISSUED_FILE), &encode_issued(&[issued.bytes])?)?;
    story.step(
        enrolled_at,
        "authority",
        format_args!(
            "request verified (nonce, proof of possession); issued credential {id} bound to that key"
        ),
    );
    let (trust_list, revocation_list) = authority.publish(enrolled_at, Duration::hours(24))?;
    write_file(&path(TRUST_LIST_FILE), &trust_list)?;
    write_file(&path(REVOCATION_LIST_FILE), &revocation_list)?;

    let trust = TrustList::verify(&read_file(&path(TRUST_LIST_FILE))?, &root)?;
    wallet.import(&read_file(&path(ISSUED_FILE))?, Some(&trust), enrolled_at)?;
    story.step(
        enrolled_at,
        "wallet",
        format_args!(
            "imported {id} after checking it against trust list #{}",
            trust.sequence
        ),
    );

    // The shop syncs its lists in the morning, while it is online.
    let verifier = Verifier::open(path(VERIFIER_DB), root, VerifierConfig::default())?;
    verifier.apply_trust_list(&read_file(&path(TRUST_LIST_FILE))?, synced_at)?;
    verifier.apply_revocation_list(&read_file(&path(REVOCATION_LIST_FILE))?, synced_at)?;
    // The rules the shop judges by, signed by the root key like the other lists.
    let rules = authority.authority.signer().sign_rules_list(
        1,
        vec![vaxpass::RuleSet::korea_2022_standing()],
        enrolled_at,
        Duration::hours(24),
    )?;
    verifier.apply_rules_list(&rules, synced_at)?;
    let revocations = RevocationList::verify(&read_file(&path(REVOCATION_LIST_FILE))?, &root)?;
    story.step(
        synced_at,
        "shop",
        format_args!(
            "synced trust list #{} and revocation list #{}",
            trust.sequence, revocations.sequence
        ),
    );

    // The outage: from here on nothing can reach the authority.
    drop(authority);
    story.step(
        outage_at,
        "network",
        "GONE: no call reaches the authority from here on",
    );

    let shown = wallet.presentation(&id, shown_at)?;
    let ecc = shown.qr.ec_level().to_string();
    story.step(
        shown_at,
        "wallet",
        "shows the rotating QR code (a fresh one every 30 seconds):",
    );
    story.line(shown.qr.to_terminal());
    story.line(format_args!(
        "QR: {} characters, version {} at ECC {ecc}",
        shown.text.len(),
        shown.qr.version()
    ));
    let png = path(QR_FILE);
    write_file(&png, &shown.qr.to_png(MODULE_PIXELS)?)?;
    story.more(format_args!(
        "saved the screen as {} ({MODULE_PIXELS} px per module)",
        png.display()
    ));

    let scanned = decode_png(&png)?;
    story.step(
        shown_at,
        "shop",
        format_args!(
            "read {QR_FILE} from disk and decoded it from pixels: {} characters, version {}, ECC {}",
            scanned.text.len(),
            scanned.version,
            scanned.ecc
        ),
    );
    if scanned.text != shown.text {
        story.more("the decoded text differs from the text shown!");
    }
    let verdict = verifier.verify(&scanned.text, shown_at)?;
    story.verdict(&verdict);

    let replay = verifier.verify(&scanned.text, replay_at)?;
    story.step(
        replay_at,
        "shop",
        "the same screenshot, shown again ten minutes later",
    );
    story.verdict(&replay);

    let ok = verdict.is_valid() && replay.reason() == Some(Reason::PresentationTooOld);
    story.line("");
    story.line(if ok {
        "Result: the live code was accepted offline and the replayed screenshot was refused."
    } else {
        "Result: the story did not go as expected."
    });
    ctx.out.json(json!({
        "dir": dir.display().to_string(),
        "story_time": time(shown_at),
        "clock": if ctx.fixed_now.is_some() { "--now" } else { "fixed story time" },
        "credential_id": id.to_string(),
        "root_public_key": hex(&root),
        "qr": {
            "characters": shown.text.len(),
            "version": shown.qr.version(),
            "ecc": ecc,
            "png": png.display().to_string(),
        },
        "decoded": {
            "characters": scanned.text.len(),
            "version": scanned.version,
            "ecc": scanned.ecc,
            "matches_shown": scanned.text == shown.text,
        },
        "verdict": verdict_json(&verdict),
        "replay": verdict_json(&replay),
        "ok": ok,
    }));
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::NotValid
    })
}

/// The demo's citizen: three doses of Comirnaty, the third a booster.
fn three_doses() -> Result<PassData> {
    let date = |text: &str| -> Result<NaiveDate> { parse_date(text).map_err(Error::new) };
    let dose = |dose: u8, on: &str| -> Result<Event> {
        Ok(Event::Vaccination(Vaccination {
            product: Product::Comirnaty,
            dose,
            of: 2,
            date: date(on)?,
        }))
    };
    Ok(PassData {
        person: Person {
            name: "김민준".to_owned(),
            date_of_birth: date("1985-03-14")?,
        },
        events: vec![
            dose(1, "2021-06-20")?,
            dose(2, "2021-07-25")?,
            dose(3, "2021-12-01")?,
        ],
    })
}

/// A UTC time as Korean Standard Time (UTC+9, no daylight saving).
fn kst(t: DateTime<Utc>) -> String {
    (t + Duration::hours(9))
        .format("%Y-%m-%d %H:%M KST")
        .to_string()
}

/// The demo's text output: one line per step, `TIME  ROLE  what happened`.
struct Story {
    out: Output,
}

/// Width of `2021-12-13 12:10 KST  authority  `, where a step's text starts.
const INDENT: usize = 33;

impl Story {
    fn line(&self, text: impl Display) {
        self.out.line(text);
    }

    fn step(&self, at: DateTime<Utc>, role: &str, text: impl Display) {
        self.out
            .line(format_args!("{}  {role:<9}  {text}", kst(at)));
    }

    fn more(&self, text: impl Display) {
        self.out.line(format_args!("{:INDENT$}{text}", ""));
    }

    fn verdict(&self, verdict: &vaxpass::Verdict) {
        for line in verdict_lines(verdict) {
            self.more(line);
        }
    }
}
