//! The shop's check log and the inspector's report: every verdict logged with no personal data,
//! durable before it is returned (under repeated SIGKILL), counters, retention behind a signed
//! checkpoint, damage reported and never repaired, and every way a report is refused.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ciborium::value::Value;
use sha2::{Digest, Sha256};
use vaxpass::report::{MAX_REPORT_BYTES, REPORT_DOMAIN};
use vaxpass::*;
use vaxpass_tests::*;

/// A world whose verifier signs with a shop key the test holds, so a test can re-sign a report
/// it tampered with (what a dishonest shop could do) and see the chain refuse it.
fn shop_world() -> (World, Ed25519KeyPair) {
    let world = World::new();
    let shop = Ed25519KeyPair::generate();
    let signer = SoftwareEd25519Signer(Ed25519KeyPair::from_secret(&shop.secret()[..]).unwrap());
    let verifier = Verifier::open(
        world.dir.path().join("verifier.sqlite"),
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap()
    .with_shop_key(DeviceKeySource::Platform(Arc::new(signer)));
    (World { verifier, ..world }, shop)
}

/// Ten verdicts over the lunch hour: seven valid, three refused (a screenshot, garbage, a
/// Korean input method).
fn lunch_hour(world: &World) {
    for minute in 0..7 {
        let now = lunch() + Duration::minutes(minute * 5);
        assert!(world.verdict(&world.show(now), now).is_valid());
    }
    let late = lunch() + Duration::minutes(40);
    let screenshot = world.show(lunch());
    assert!(!world.verdict(&screenshot, late).is_valid());
    assert!(!world.verdict("hello", late).is_valid());
    assert!(!world.verdict("ㅍㅔ1:", late).is_valid());
}

fn hour() -> (DateTime<Utc>, DateTime<Utc>) {
    (
        lunch() - Duration::minutes(10),
        lunch() + Duration::minutes(50),
    )
}

/// `[key, payload, signature]` of a report.
fn parts(report: &[u8]) -> (Value, Vec<(Value, Value)>) {
    let Value::Array(items) = ciborium::de::from_reader::<Value, _>(report).unwrap() else {
        panic!("a report is an array")
    };
    let Value::Bytes(payload) = &items[1] else {
        panic!("payload")
    };
    let Value::Map(map) = ciborium::de::from_reader(&payload[..]).unwrap() else {
        panic!("payload map")
    };
    (items[0].clone(), map)
}

fn field(map: &mut [(Value, Value)], key: i64) -> &mut Value {
    &mut map
        .iter_mut()
        .find(|(k, _)| *k == Value::Integer(key.into()))
        .unwrap()
        .1
}

/// Signs `map` as a report payload with `key`.
fn resign(map: Vec<(Value, Value)>, key: &Ed25519KeyPair) -> Vec<u8> {
    let mut payload = Vec::new();
    ciborium::ser::into_writer(&Value::Map(map), &mut payload).unwrap();
    let mut message = REPORT_DOMAIN.to_vec();
    message.extend_from_slice(&Sha256::digest(&payload));
    let mut out = Vec::new();
    ciborium::ser::into_writer(
        &Value::Array(vec![
            Value::Bytes(key.public().to_vec()),
            Value::Bytes(payload),
            Value::Bytes(key.sign(&message).to_vec()),
        ]),
        &mut out,
    )
    .unwrap();
    out
}

fn entries(map: &mut [(Value, Value)]) -> &mut Vec<Value> {
    match field(map, 6) {
        Value::Array(items) => items,
        _ => panic!("entries"),
    }
}

#[test]
fn every_verdict_is_logged_and_the_report_proves_it_without_personal_data() {
    let world = World::new();
    lunch_hour(&world);
    let status = world.verifier.check_log_status().unwrap();
    let LogStatus::Intact { head } = status else {
        panic!("{status:?}")
    };
    assert_eq!(head.count, 10);
    assert_eq!(world.verifier.check_log_head().unwrap(), head);

    let (from, to) = hour();
    let report = world.verifier.export_report(from, to, to).unwrap();
    let key = world.verifier.shop_public_key().unwrap();
    let proof = verify_report(&report, Some(&key), None).unwrap();
    assert_eq!((proof.checks, proof.valid, proof.refused), (10, 7, 3));
    assert_eq!(
        proof.by_reason,
        vec![
            ("korean_input_method".to_owned(), 1),
            ("malformed".to_owned(), 1),
            ("presentation_too_old".to_owned(), 1)
        ]
    );
    assert!(proof.lists_fresh());
    assert_eq!(proof.head, head);
    // Each entry names the rules it was judged by: the rules list's sequence and the mode.
    let used = world
        .verdict(&world.show(lunch()), lunch())
        .rules()
        .cloned()
        .unwrap();
    assert!(proof
        .entries
        .iter()
        .all(|e| e.rules_sequence == Some(used.sequence)
            && e.mode.as_deref() == Some(used.mode.as_str())
            && e.policy != [0; 8]));
    assert_eq!(proof.anchor, AnchorCheck::NotGiven);
    let sentence = proof.sentence();
    assert!(
        sentence.contains(
            "checked 10 passes between 2021-12-13 12:00 and 13:00 KST, 3 refused, lists fresh"
        ),
        "{sentence}"
    );
    // Nothing of the holder: not the name, not the birth date, not the QR text or the
    // credential id.
    let qr = world.show(lunch());
    for needle in [
        "김민준".as_bytes(),
        b"1985",
        &qr.as_bytes()[4..24],
        &world.pass.0[..],
    ] {
        assert!(
            !report.windows(needle.len()).any(|w| w == needle),
            "the report carries personal data"
        );
    }
}

#[test]
fn credential_tags_link_scans_of_one_day_but_not_across_days() {
    let world = World::new();
    let tomorrow = lunch() + Duration::days(1);
    for now in [lunch(), lunch() + Duration::minutes(1), tomorrow] {
        if now == tomorrow {
            world.sync(tomorrow - Duration::hours(1));
        }
        assert!(world.verdict(&world.show(now), now).is_valid());
    }
    let report = world
        .verifier
        .export_report(lunch(), tomorrow, tomorrow)
        .unwrap();
    let proof = verify_report(&report, None, None).unwrap();
    let tags: Vec<_> = proof.entries.iter().map(|e| e.credential_tag).collect();
    assert!(tags.iter().all(Option::is_some));
    assert_eq!(tags[0], tags[1], "the same pass on the same day");
    assert_ne!(tags[1], tags[2], "the same pass on the next day");
    assert!(
        !report.windows(16).any(|w| w == world.pass.0),
        "no credential id"
    );
}

#[test]
fn counters_give_this_hour_and_today_by_reason() {
    let world = World::new();
    // Two hours earlier the lists held were not yet issued: a refusal (clock behind), today.
    let earlier = lunch() - Duration::hours(2);
    assert!(!world.verdict(&world.show(earlier), earlier).is_valid());
    lunch_hour(&world);
    let counters = world
        .verifier
        .check_counters(lunch() + Duration::minutes(45))
        .unwrap();
    assert_eq!(
        (
            counters.today.scans,
            counters.today.valid,
            counters.today.refused
        ),
        (11, 7, 4)
    );
    // 12:10 to 12:50 KST: the verdict at 10:10 is today but not this hour.
    assert_eq!(
        (
            counters.this_hour.scans,
            counters.this_hour.valid,
            counters.this_hour.refused
        ),
        (10, 7, 3)
    );
    assert_eq!(counters.this_hour.by_reason.len(), 3);
    // The next day (in KST) starts from nothing.
    let tomorrow = world
        .verifier
        .check_counters(lunch() + Duration::hours(12))
        .unwrap();
    assert_eq!(tomorrow.today.scans, 0);
}

#[test]
fn a_corrupted_log_is_reported_never_repaired_and_the_shop_goes_on_verifying() {
    let world = World::new();
    lunch_hour(&world);
    let path = world.dir.path().join("verifier.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    // Someone edits entry 8 (a refusal) in the file: one bit of its credential tag, so that it
    // still reads as an entry and only the chain shows it.
    let entry: Vec<u8> = db
        .query_row("SELECT entry FROM check_log WHERE seq = 8", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mut edited = entry.clone();
    let at = edited.len() - 1;
    edited[at] ^= 1;
    db.execute("UPDATE check_log SET entry = ?1 WHERE seq = 8", [&edited])
        .unwrap();
    drop(db);

    let verifier = Verifier::open(
        &path,
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap();
    assert_eq!(
        verifier.check_log_status().unwrap(),
        LogStatus::Damaged { at: 11 },
        "the entries no longer hash to the head committed after entry 10"
    );
    let now = lunch() + Duration::minutes(45);
    assert!(verifier.verify(&world.show(now), now).unwrap().is_valid());
    assert!(
        matches!(
            verifier.check_log_status().unwrap(),
            LogStatus::Damaged { .. }
        ),
        "still reported after more verdicts"
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    let stored: Vec<u8> = db
        .query_row("SELECT entry FROM check_log WHERE seq = 8", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, edited, "not repaired");
    let count: i64 = db
        .query_row("SELECT COUNT(*) FROM check_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 11, "the verdict after the damage is logged");
    let (from, _) = hour();
    let report = verifier.export_report(from, now, now).unwrap();
    assert_eq!(
        verify_report(&report, None, None).unwrap_err(),
        ReportRefused::BrokenChain
    );
}

#[test]
fn pruning_leaves_a_signed_checkpoint_and_the_rest_still_verifies() {
    let world = World::new();
    lunch_hour(&world);
    let month = lunch() + Duration::days(29);
    world.sync(month - Duration::hours(1));
    assert!(world.verdict(&world.show(month), month).is_valid());
    assert_eq!(world.verifier.prune_check_log(month).unwrap(), 10);
    assert_eq!(world.verifier.prune_check_log(month).unwrap(), 0);
    let status = world.verifier.check_log_status().unwrap();
    assert!(
        matches!(status, LogStatus::Intact { head } if head.count == 11),
        "{status:?}"
    );
    let next = month + Duration::minutes(1);
    assert!(world.verdict(&world.show(next), next).is_valid());
    let report = world.verifier.export_report(lunch(), next, next).unwrap();
    let proof = verify_report(&report, None, None).unwrap();
    assert_eq!((proof.checks, proof.head.count), (2, 12));
    assert_eq!(proof.entries[0].seq, 11);

    // The checkpoint is signed: one changed in the file is damage.
    let db = rusqlite::Connection::open(world.dir.path().join("verifier.sqlite")).unwrap();
    db.execute("UPDATE check_log_checkpoint SET seq = 9", [])
        .unwrap();
    assert_eq!(
        world.verifier.check_log_status().unwrap(),
        LogStatus::Damaged { at: 0 }
    );
}

#[test]
fn bad_reports_are_refused_with_their_reason() {
    let (world, shop) = shop_world();
    lunch_hour(&world);
    let (from, to) = hour();
    let report = world.verifier.export_report(from, to, to).unwrap();
    let key = shop.public().to_vec();
    assert!(verify_report(&report, Some(&key), None).is_ok());
    let (_, map) = parts(&report);
    let other = Ed25519KeyPair::generate();

    let swapped = {
        let mut map = map.clone();
        entries(&mut map).swap(3, 4);
        resign(map, &shop)
    };
    let deleted = {
        let mut map = map.clone();
        entries(&mut map).remove(5);
        resign(map, &shop)
    };
    let edited = {
        // A refusal rewritten as valid, the summary adjusted to match: the chain still tells.
        let mut map = map.clone();
        let Value::Bytes(entry) = &entries(&mut map)[8] else {
            panic!("entry")
        };
        let mut entry = LogEntry::from_bytes(entry).unwrap();
        entry.verdict = "valid".into();
        entries(&mut map)[8] = Value::Bytes(entry.to_bytes().unwrap());
        resign(map, &shop)
    };
    let miscounted = {
        let mut map = map.clone();
        *field(&mut map, 10) = Value::Array(vec![Value::Array(vec![
            Value::Text("fresh".into()),
            Value::Integer(9.into()),
        ])]);
        resign(map, &shop)
    };
    let mut flipped = report.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    type Row<'a> = (&'a str, Vec<u8>, Option<&'a [u8]>, ReportRefused);
    let rows: Vec<Row> = vec![
        (
            "truncated",
            report[..report.len() - 10].to_vec(),
            None,
            ReportRefused::Malformed("not valid CBOR or nested too deeply"),
        ),
        (
            "re-signed by another key",
            resign(map.clone(), &other),
            Some(&key),
            ReportRefused::WrongKey,
        ),
        (
            "one bit changed",
            flipped,
            None,
            ReportRefused::BadSignature,
        ),
        (
            "a pair swapped",
            swapped,
            None,
            ReportRefused::OutOfOrder { expected: 4 },
        ),
        (
            "an entry deleted",
            deleted,
            None,
            ReportRefused::Gap { after: 5 },
        ),
        ("an entry edited", edited, None, ReportRefused::BrokenChain),
        (
            "a summary changed",
            miscounted,
            None,
            ReportRefused::SummaryMismatch,
        ),
        (
            "oversized",
            vec![0; MAX_REPORT_BYTES + 1],
            None,
            ReportRefused::TooLarge {
                size: MAX_REPORT_BYTES + 1,
                limit: MAX_REPORT_BYTES,
            },
        ),
    ];
    for (name, bytes, key, expected) in rows {
        assert_eq!(
            verify_report(&bytes, key, None).unwrap_err(),
            expected,
            "{name}"
        );
    }
    // An edit whose re-hashed chain is re-signed with a consistent head is only caught by an
    // anchor: covered in anchors_detect_a_truncated_tail_and_a_rewritten_log.
}

#[test]
fn anchors_detect_a_truncated_tail_and_a_rewritten_log() {
    let world = World::new();
    lunch_hour(&world);
    let (from, to) = hour();
    let anchor = world.verifier.anchor(to).unwrap();
    let anchored = Anchor::verify(&anchor).unwrap();
    assert_eq!(anchored.head.count, 10);
    let report = world.verifier.export_report(from, to, to).unwrap();
    let proof = verify_report(&report, None, Some(&anchor)).unwrap();
    assert_eq!(proof.anchor, AnchorCheck::Matches { count: 10 });

    // The shop cuts its last three entries and rewrites its head consistently: without an
    // anchor the report verifies, with it the cut is seen.
    let path = world.dir.path().join("verifier.sqlite");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute("DELETE FROM check_log WHERE seq > 7", [])
        .unwrap();
    let mut head = check_log::GENESIS;
    let mut rows = db
        .prepare("SELECT entry FROM check_log ORDER BY seq")
        .unwrap();
    let entries: Vec<Vec<u8>> = rows
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for entry in &entries {
        head = check_log::chain_hash(&head, &check_log::entry_digest(entry));
    }
    db.execute("UPDATE check_log_head SET seq = 7, hash = ?1", [&head[..]])
        .unwrap();
    let cut = world.verifier.export_report(from, to, to).unwrap();
    assert_eq!(verify_report(&cut, None, None).unwrap().checks, 7);
    assert_eq!(
        verify_report(&cut, None, Some(&anchor)).unwrap_err(),
        ReportRefused::TruncatedTail {
            anchored: 10,
            head: 7
        }
    );

    // The shop then logs three more verdicts in place of the cut ones: the count passes the
    // anchor again, the hash there does not.
    let later = lunch() + Duration::minutes(45);
    for _ in 0..3 {
        assert!(world.verdict(&world.show(later), later).is_valid());
    }
    let rewritten = world.verifier.export_report(from, later, later).unwrap();
    assert_eq!(
        verify_report(&rewritten, None, Some(&anchor)).unwrap_err(),
        ReportRefused::AnchorMismatch { count: 10 }
    );

    // Another shop's anchor proves nothing of this one.
    let stranger = World::new();
    let foreign = stranger.verifier.anchor(to).unwrap();
    assert_eq!(
        verify_report(&report, None, Some(&foreign)).unwrap_err(),
        ReportRefused::BadAnchor
    );
}

const CHILD: &str = "VAXPASS_CHECK_LOG_CHILD";

/// The child of `a_verdict_returned_before_sigkill_is_always_in_the_log`: verifies the texts in
/// the directory it is given, one a second of fake time from its start time, printing each
/// time after its verdict returns, until it is killed.
#[test]
fn check_log_child_process() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    let root: [u8; 32] = std::fs::read(dir.join("root")).unwrap().try_into().unwrap();
    let text = std::fs::read_to_string(dir.join("text")).unwrap();
    let start: i64 = std::fs::read_to_string(dir.join("start"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let verifier =
        Verifier::open(dir.join("verifier.sqlite"), root, VerifierConfig::default()).unwrap();
    println!("ready");
    for i in 0.. {
        let now = DateTime::from_timestamp(start + i, 0).unwrap();
        verifier.verify(&text, now).unwrap();
        println!("{}", now.timestamp());
    }
}

#[test]
fn a_verdict_returned_before_sigkill_is_always_in_the_log() {
    let world = World::new();
    let dir = world.dir.path();
    std::fs::write(dir.join("root"), world.authority.root_public_key()).unwrap();
    // A refusal is logged like any verdict and needs no fresh presentation per second.
    std::fs::write(dir.join("text"), world.show(lunch())).unwrap();
    let mut printed = Vec::new();
    for run in 0..5i64 {
        let start = lunch().timestamp() + run * 100_000;
        std::fs::write(dir.join("start"), start.to_string()).unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "check_log_child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Ok(t) = line.trim().parse::<i64>() {
                printed.push(t);
                seen += 1;
                // Kill at a different point of the loop each run.
                if seen >= 20 + run * 7 {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
                               // Whatever the child printed before dying counts too.
        for line in lines.map_while(Result::ok) {
            if let Ok(t) = line.trim().parse::<i64>() {
                printed.push(t);
            }
        }
        child.wait().unwrap();
    }
    let db = rusqlite::Connection::open(dir.join("verifier.sqlite")).unwrap();
    let logged: std::collections::HashSet<i64> = db
        .prepare("SELECT at FROM check_log")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(printed.len() >= 100);
    let lost: Vec<_> = printed.iter().filter(|t| !logged.contains(t)).collect();
    assert!(
        lost.is_empty(),
        "verdicts returned but not logged: {lost:?}"
    );
    let verifier = Verifier::open(
        dir.join("verifier.sqlite"),
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap();
    assert!(matches!(
        verifier.check_log_status().unwrap(),
        LogStatus::Intact { head } if head.count as usize >= printed.len()
    ));
}

#[test]
fn a_log_cut_in_the_middle_is_reported_where_the_gap_is() {
    let world = World::new();
    lunch_hour(&world);
    let db = rusqlite::Connection::open(world.dir.path().join("verifier.sqlite")).unwrap();
    db.execute("DELETE FROM check_log WHERE seq = 4", [])
        .unwrap();
    assert_eq!(
        world.verifier.check_log_status().unwrap(),
        LogStatus::Damaged { at: 4 }
    );
    // Garbage where an entry was: reported at that entry.
    db.execute(
        "INSERT INTO check_log (seq, at, entry) VALUES (4, 0, x'00')",
        [],
    )
    .unwrap();
    assert_eq!(
        world.verifier.check_log_status().unwrap(),
        LogStatus::Damaged { at: 4 }
    );
    let (from, to) = hour();
    let report = world.verifier.export_report(from, to, to).unwrap();
    assert!(matches!(
        verify_report(&report, None, None),
        Err(ReportRefused::Malformed(_))
    ));
    let now = lunch() + Duration::minutes(45);
    assert!(world.verdict(&world.show(now), now).is_valid());
}

#[test]
fn a_clock_set_before_1970_still_leaves_a_log_that_verifies() {
    let world = World::new();
    let dead_battery = DateTime::from_timestamp(-86_400, 0).unwrap();
    assert!(!world.verdict("hello", dead_battery).is_valid());
    assert!(world.verdict(&world.show(lunch()), lunch()).is_valid());
    assert!(matches!(
        world.verifier.check_log_status().unwrap(),
        LogStatus::Intact { head } if head.count == 2
    ));
    let report = world
        .verifier
        .export_report(DateTime::from_timestamp(0, 0).unwrap(), lunch(), lunch())
        .unwrap();
    assert_eq!(verify_report(&report, None, None).unwrap().checks, 2);
}
