//! The authority's audit log: batched issuance (group commit) and durability under a crash.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use chrono::Duration;
use vaxpass::*;
use vaxpass_tests::*;

fn requests(device_key: &DevicePublicKey, count: usize) -> Vec<IssueRequest> {
    let from = lunch() - Duration::days(1);
    (0..count)
        .map(|_| IssueRequest {
            pass: three_doses(),
            device_key: device_key.clone(),
            not_before: from,
            expires: from + Duration::days(365),
        })
        .collect()
}

fn logged_ids(path: &std::path::Path) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut query = conn.prepare("SELECT id FROM issued").unwrap();
    query
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_batch_is_recorded_once_per_credential_and_a_bad_request_fails_alone() {
    let world = World::new();
    let mut batch = requests(world.wallet.device_key(), 50);
    batch[17].pass.person.name = String::new();
    let issued = world.authority.issue_batch(&batch, lunch()).unwrap();
    assert_eq!(issued.len(), 50);
    assert!(issued[17].is_err());
    let ok: Vec<&Issued> = issued.iter().filter_map(|i| i.as_ref().ok()).collect();
    assert_eq!(ok.len(), 49);
    let mut ids: Vec<CredentialId> = ok.iter().map(|i| i.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 49, "ids are unique");
    // The World's own credential plus this batch.
    assert_eq!(
        logged_ids(&world.dir.path().join("authority.sqlite")).len(),
        50
    );
    let bundle = enrolment::encode_issued(&[ok[3].bytes.clone()]).unwrap();
    world.wallet.import(&bundle, None, lunch()).unwrap();
    assert!(world
        .verdict(
            &world.wallet.presentation(&ok[3].id, lunch()).unwrap().text,
            lunch()
        )
        .is_valid());
}

#[test]
fn an_enrolment_with_an_invalid_pass_records_nothing() {
    let world = World::new();
    let before = logged_ids(&world.dir.path().join("authority.sqlite")).len();
    let nonce = enrolment::new_nonce();
    let request = world.wallet.enrolment_request(&nonce, b"proof").unwrap();
    let mut bad = three_doses();
    bad.events.clear();
    let from = lunch() - Duration::days(1);
    assert!(world
        .authority
        .answer_enrolment(
            &request,
            &nonce,
            &[three_doses(), bad],
            from,
            from + Duration::days(30),
            lunch()
        )
        .is_err());
    assert!(world
        .authority
        .answer_enrolment(
            &request,
            &[9; 32],
            &[three_doses()],
            from,
            from + Duration::days(30),
            lunch()
        )
        .is_err());
    assert_eq!(
        logged_ids(&world.dir.path().join("authority.sqlite")).len(),
        before
    );
}

/// Child side of the crash test: issue batches forever, printing each id once its batch committed.
fn issue_until_killed(path: &str) {
    let authority = LocalAuthority::open(path).unwrap();
    let device = SoftwareEd25519Signer(Ed25519KeyPair::generate())
        .public_key()
        .unwrap();
    let mut out = std::io::stdout().lock();
    loop {
        for issued in authority
            .issue_batch(&requests(&device, 8), lunch())
            .unwrap()
        {
            writeln!(out, "ACK {}", issued.unwrap().id).unwrap();
        }
        out.flush().unwrap();
    }
}

#[test]
fn a_killed_issuer_loses_no_acknowledged_issuance() {
    if let Ok(path) = std::env::var("VAXPASS_CRASH_CHILD") {
        return issue_until_killed(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authority.sqlite");
    drop(LocalAuthority::create(&path, "KR", lunch() - Duration::days(30)).unwrap());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_killed_issuer_loses_no_acknowledged_issuance",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("VAXPASS_CRASH_CHILD", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(id) = line.unwrap().strip_prefix("ACK ") {
            acknowledged.push(CredentialId::parse(id).unwrap());
        }
        if acknowledged.len() >= 400 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, mid-batch
    child.wait().unwrap();
    let logged: std::collections::HashSet<Vec<u8>> = logged_ids(&path).into_iter().collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !logged.contains(id.0.as_slice()))
        .collect();
    assert_eq!(acknowledged.len(), 400);
    assert!(
        lost.is_empty(),
        "{} acknowledged issuances lost",
        lost.len()
    );
    assert!(
        LocalAuthority::open(&path).is_ok(),
        "the database opens after the crash"
    );
}
