//! Enrolment end to end against the real server: the bundle imports into a core Wallet and its
//! presentation verifies with a core Verifier fed the served lists; every bad request gets its
//! 4xx; no identity proof is looked at without a nonce the service issued, and a refused one uses
//! its nonce up; unknown, wrong and used codes get one indistinguishable refusal; failed attempts
//! are limited per address; the code key, not the store, is what makes a code hash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::net::IpAddr;

use chrono::{NaiveDate, Utc};
use common::{
    bundle_ids, enrol, enrol_with_proof, metric, proof, rand_bytes, request_from, verifier, wallet,
    Env, Reply, BORN,
};
use vaxpass::enrolment_code::EnrolmentCode;
use vaxpass::TrustList;
use vaxpass_issuer::identity::CodeKey;

on_both_backends!(
    full_enrolment,
    bad_requests_change_nothing,
    no_proof_is_looked_at_without_an_issued_nonce_and_a_refused_one_burns_it,
    unknown_wrong_and_used_codes_get_one_indistinguishable_refusal,
    an_address_over_its_failed_attempts_is_refused_before_any_proof_and_others_are_not,
    a_citizen_whose_code_was_taken_is_restored_and_the_thief_revoked,
    a_copy_of_the_store_without_the_code_key_checks_no_code,
);

fn full_enrolment(env: &Env) {
    let code = common::code(483920);
    env.init_with_citizens(&[&code]);
    let server = env.start(&[]);
    let root = env.root_public_key();

    let reply = server.post("/v1/enrolment/nonce", &[], &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 32);
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    let phone = wallet(env.dir.path(), "phone");
    // Codes are typed by people: case, spaces and dashes do not matter to the wallet's parser.
    let typed = format!(" {} ", code.to_ascii_lowercase().replace('-', " "));
    let reply = enrol(&server, &phone, &typed);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/cbor"));
    let now = Utc::now();
    let trust = TrustList::verify(&server.get("/v1/trust-list", &[]).body, &root).unwrap();
    let passes = phone.import(&reply.body, Some(&trust), now).unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0].holder_name, "김민준0");
    let days = (passes[0].valid_until - passes[0].valid_from).num_days();
    assert_eq!(days, 365);

    let shop = verifier(env.dir.path(), root);
    server.sync(&shop);
    let shown = phone.presentation(&passes[0].id, now).unwrap();
    let verdict = shop.verify(&shown.text, now).unwrap();
    assert!(verdict.is_valid(), "{:?}", verdict.reason());

    // The audit log has the id, its key, times and the citizen; nothing else.
    let (rt, store) = env.store();
    let entry = rt
        .block_on(store.audit_entry(passes[0].id))
        .unwrap()
        .unwrap();
    assert_eq!(entry.kid, trust.keys[0].kid);
    assert!((entry.issued_at - now).num_seconds().abs() < 60);
    assert_eq!((entry.expires - entry.issued_at).num_days(), 365);
    let counts = rt.block_on(store.counts()).unwrap();
    assert_eq!((counts.issued, counts.codes_used, counts.nonces), (1, 1, 1));

    // The same phone may enrol again with its code (an answer lost on the way); another may not.
    let again = enrol(&server, &phone, &code);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_ne!(bundle_ids(&again.body), bundle_ids(&reply.body));
    let thief = wallet(env.dir.path(), "thief");
    let refused = enrol(&server, &thief, &code);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error_code(), "identity_refused");
    assert_eq!(metric(&server, "vaxpass_enrolments_total"), 2);

    assert_eq!(server.get("/healthz", &[]).status, 200);
}

fn expect(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.error_code(), code);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    // No personal data or input echoed in errors.
    let text = reply.text();
    assert!(!text.contains("김민준") && !text.contains(BORN), "{text}");
}

fn bad_requests_change_nothing(env: &Env) {
    let (code, other_code) = (common::code(1), common::code(2));
    env.init_with_citizens(&[&code, &other_code]);
    let server = env.start(&[]);
    let dir = env.dir.path();
    let phone = wallet(dir, "phone");
    let other = wallet(dir, "other");
    let (good, other_good) = (proof(&code, BORN), proof(&other_code, BORN));

    // A first enrolment uses `code` and a nonce, to replay later.
    let used_nonce = server.nonce();
    let request = phone.enrolment_request(&used_nonce, &good).unwrap();
    assert_eq!(server.post("/v1/enrolment", &[], &request).status, 200);

    let fresh = server.nonce();
    let fresh2 = server.nonce();
    let before = env.counts();
    let enrol_raw = |body: &[u8]| server.post("/v1/enrolment", &[], body);

    expect(&enrol_raw(b"garbage"), 400, "malformed_request");
    expect(&enrol_raw(&[]), 400, "malformed_request");
    expect(&enrol_raw(&vec![0xa4; 20 * 1024]), 413, "too_large");

    // Proof of possession over another nonce: signed over `fresh`, carrying `fresh2`.
    let signed = other.enrolment_request(&fresh, &other_good).unwrap();
    expect(
        &enrol_raw(&replace(&signed, &fresh, &fresh2)),
        400,
        "bad_proof_of_possession",
    );
    // Proof of possession by one key, with another device key put in its place.
    let swapped = replace(
        &signed,
        other.device_key().as_bytes(),
        phone.device_key().as_bytes(),
    );
    expect(&enrol_raw(&swapped), 400, "bad_proof_of_possession");

    let replayed = other.enrolment_request(&used_nonce, &other_good).unwrap();
    expect(&enrol_raw(&replayed), 409, "nonce_unknown_or_used");
    let never_issued = other
        .enrolment_request(&rand_bytes::<32>(), &other_good)
        .unwrap();
    expect(&enrol_raw(&never_issued), 409, "nonce_unknown_or_used");

    expect(&server.get("/v1/enrolment", &[]), 405, "method_not_allowed");
    expect(&server.get("/v1/nothing", &[]), 404, "not_found");

    assert_eq!(env.counts(), before, "refused requests changed the store");

    // The nonces those requests carried are still good.
    let ok = other.enrolment_request(&fresh, &other_good).unwrap();
    assert_eq!(enrol_raw(&ok).status, 200);
    let after = env.counts();
    assert_eq!(after.issued, before.issued + 1);
    assert_eq!(after.nonces, before.nonces - 1);
}

fn no_proof_is_looked_at_without_an_issued_nonce_and_a_refused_one_burns_it(env: &Env) {
    let code = common::code(7);
    env.init_with_citizens(&[&code]);
    let server = env.start(&[]);
    let phone = wallet(env.dir.path(), "phone");
    let guesser = wallet(env.dir.path(), "guesser");
    let wrong = proof(&common::code(8), BORN);

    // A made-up nonce: the guess is not even looked at (before, it was answered 401 first).
    let made_up = guesser
        .enrolment_request(&rand_bytes::<32>(), &wrong)
        .unwrap();
    let reply = server.post("/v1/enrolment", &[], &made_up);
    assert_eq!(reply.status, 409, "{}", reply.text());
    assert_eq!(reply.error_code(), "nonce_unknown_or_used");

    // A refused proof uses up its nonce: the right code on that nonce is refused too.
    let nonce = server.nonce();
    let guess = guesser.enrolment_request(&nonce, &wrong).unwrap();
    assert_eq!(server.post("/v1/enrolment", &[], &guess).status, 401);
    let right_after = guesser
        .enrolment_request(&nonce, &proof(&code, BORN))
        .unwrap();
    let reply = server.post("/v1/enrolment", &[], &right_after);
    assert_eq!(reply.status, 409, "{}", reply.text());
    assert_eq!(reply.error_code(), "nonce_unknown_or_used");
    assert_eq!(env.counts().codes_used, 0);
    assert_eq!(metric(&server, "vaxpass_enrolment_proofs_checked_total"), 1);
    assert_eq!(metric(&server, "vaxpass_enrolment_nonce_refused_total"), 2);

    // The citizen enrols with a fresh nonce, and may again after a lost answer.
    assert_eq!(enrol(&server, &phone, &code).status, 200);
    assert_eq!(enrol(&server, &phone, &code).status, 200);
}

/// Status, content type and body of an answer: what a client could tell apart.
fn visible(reply: &Reply) -> (u16, Option<String>, Vec<u8>) {
    (
        reply.status,
        reply.header("content-type").map(str::to_owned),
        reply.body.clone(),
    )
}

fn unknown_wrong_and_used_codes_get_one_indistinguishable_refusal(env: &Env) {
    let (code, used) = (common::code(11), common::code(12));
    env.init_with_citizens(&[&code, &used]);
    let server = env.start(&[]);
    let owner = wallet(env.dir.path(), "owner");
    assert_eq!(enrol(&server, &owner, &used).status, 200);
    let guesser = wallet(env.dir.path(), "guesser");

    let attempts: [(&str, Vec<u8>); 4] = [
        ("unknown code", proof(&common::code(13), BORN)),
        ("right code, wrong birth date", proof(&code, "1985-03-15")),
        ("code used by another device", proof(&used, BORN)),
        ("not a proof at all", vec![0xff, 0xfe]),
    ];
    let answers: Vec<_> = attempts
        .iter()
        .map(|(what, p)| (*what, enrol_with_proof(&server, &guesser, p)))
        .collect();
    let first = visible(&answers[0].1);
    assert_eq!(first.0, 401);
    for (what, reply) in &answers {
        assert_eq!(visible(reply), first, "{what} is told apart");
        let names: Vec<String> = reply
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let first_names: Vec<String> = answers[0]
            .1
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        assert_eq!(names, first_names, "{what}: other headers");
    }
    let text = answers[0].1.text();
    assert!(!text.contains(&code) && !text.contains(BORN), "{text}");
    // The precise causes are counted for the operator.
    let cause = |c: &str| {
        metric(
            &server,
            &format!("vaxpass_enrolment_proofs_refused_total{{cause=\"{c}\"}}"),
        )
    };
    assert_eq!(cause("no_match"), 2);
    assert_eq!(cause("used_by_other_device"), 1);
    assert_eq!(cause("malformed"), 1);
    // Nothing of it changed the registry; the right proof still works.
    assert_eq!(env.counts().codes_used, 1);
    assert_eq!(enrol(&server, &guesser, &code).status, 200);
}

fn an_address_over_its_failed_attempts_is_refused_before_any_proof_and_others_are_not(env: &Env) {
    let code = common::code(21);
    env.init_with_citizens(&[&code]);
    // 10 failures at once (the default), one back every second so the test stays fast. Once they
    // are used up, the guesser's next request (nonce or enrolment) is refused before any work.
    let server = env.start(&["--address-failures-per-minute", "60"]);
    let guesser_address: IpAddr = "127.0.0.2".parse().unwrap();
    let citizen_address: IpAddr = "127.0.0.3".parse().unwrap();
    let guesser = wallet(env.dir.path(), "guesser");
    let nonce_from = |source| {
        let reply = request_from(source, server.addr, "POST", "/v1/enrolment/nonce", &[]);
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.body
    };
    let enrol_from =
        |source, body: &[u8]| request_from(source, server.addr, "POST", "/v1/enrolment", body);

    let mut refused = 0;
    let mut limited = None;
    let started = std::time::Instant::now();
    for n in 0..40 {
        let reply = request_from(
            guesser_address,
            server.addr,
            "POST",
            "/v1/enrolment/nonce",
            &[],
        );
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
        let nonce = reply.body;
        let guess = guesser
            .enrolment_request(&nonce, &proof(&common::code(1000 + n), BORN))
            .unwrap();
        let reply = enrol_from(guesser_address, &guess);
        match reply.status {
            401 => refused += 1,
            429 => {
                limited = Some(reply);
                break;
            }
            other => panic!("unexpected {other}: {}", reply.text()),
        }
    }
    let limited = limited.expect("the guesser was never limited");
    assert_eq!(limited.error_code(), "too_many_failed_attempts");
    assert!(limited.header("retry-after").is_some());
    // Ten at once, and those that refilled meanwhile (one a second).
    let refilled = started.elapsed().as_secs() + 1;
    assert!(
        (10..=10 + refilled).contains(&refused),
        "{refused} guesses checked"
    );
    assert!(
        metric(
            &server,
            "vaxpass_enrolment_limit_trips_total{limit=\"address\"}"
        ) >= 1
    );
    assert!(
        metric(
            &server,
            "vaxpass_http_errors_total{status=\"429\",error=\"too_many_failed_attempts\"}"
        ) >= 1
    );
    assert_eq!(
        metric(&server, "vaxpass_enrolment_proofs_checked_total"),
        refused
    );

    // A citizen at another address is not slowed down.
    let phone = wallet(env.dir.path(), "phone");
    let nonce = nonce_from(citizen_address);
    let request = phone
        .enrolment_request(&nonce, &proof(&code, BORN))
        .unwrap();
    let reply = enrol_from(citizen_address, &request);
    assert_eq!(
        reply.status,
        200,
        "{} {}",
        reply.text(),
        server.get("/metrics", &[]).text()
    );
}

fn a_citizen_whose_code_was_taken_is_restored_and_the_thief_revoked(env: &Env) {
    let code = common::code(31);
    env.init_with_citizens(&[&code]);
    let server = env.start(&[]);
    let root = env.root_public_key();
    let thief = wallet(env.dir.path(), "thief");
    let taken = enrol(&server, &thief, &code);
    assert_eq!(taken.status, 200);
    let stolen = bundle_ids(&taken.body);
    let citizen = wallet(env.dir.path(), "citizen");
    assert_eq!(enrol(&server, &citizen, &code).status, 401, "locked out");

    // The authority restores the citizen (id 1, the only one) after checking their ID.
    let reply = server.admin("/v1/admin/restore/1", &[]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    let revoked: Vec<String> = answer["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let stolen_ids: Vec<String> = stolen.iter().map(ToString::to_string).collect();
    assert_eq!(revoked, stolen_ids);
    let new_code = answer["code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, code);
    assert_eq!(server.admin("/v1/admin/restore/999", &[]).status, 400);

    // The served revocation list has the thief's pass; the citizen enrols with the new code,
    // the old one is dead for everyone.
    let list = server.revocation_list(&root);
    assert_eq!(list.len(), stolen.len());
    let reply = enrol(&server, &citizen, &new_code);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(enrol(&server, &thief, &code).status, 401);
    assert_eq!(enrol(&server, &thief, &new_code).status, 401);

    // A shop that synced refuses the thief's pass and accepts the citizen's.
    let now = Utc::now();
    let shop = verifier(env.dir.path(), root);
    server.sync(&shop);
    let trust = server.trust_list(&root);
    let stolen_pass = thief.import(&taken.body, Some(&trust), now).unwrap();
    let shown = thief.presentation(&stolen_pass[0].id, now).unwrap();
    assert!(!shop.verify(&shown.text, now).unwrap().is_valid());
    let passes = citizen.import(&reply.body, Some(&trust), now).unwrap();
    let shown = citizen.presentation(&passes[0].id, now).unwrap();
    assert!(shop.verify(&shown.text, now).unwrap().is_valid());
}

fn a_copy_of_the_store_without_the_code_key_checks_no_code(env: &Env) {
    let code = common::code(41);
    env.init_with_citizens(&[&code]);
    let key_path = CodeKey::path_beside(&env.key_file);
    let key = CodeKey::open_beside(&env.key_file, false).unwrap();
    let born = NaiveDate::parse_from_str(BORN, "%Y-%m-%d").unwrap();
    let parsed = EnrolmentCode::parse(&code).unwrap();
    let (rt, store) = env.store();
    assert!(rt
        .block_on(store.code_status(&key.hash(&parsed, born)))
        .unwrap()
        .is_some());
    // Under any other key (all a copy of the store leaves a guesser) the code hashes to nothing
    // stored; the store keeps no salt or key of its own.
    let other = CodeKey::from_bytes(rand_bytes::<32>());
    assert!(rt
        .block_on(store.code_status(&other.hash(&parsed, born)))
        .unwrap()
        .is_none());
    if env.backend == common::Backend::Sqlite {
        let path = env.store_url.strip_prefix("sqlite:").unwrap();
        let db = rusqlite::Connection::open(path).unwrap();
        let settings: i64 = db
            .query_row("SELECT count(*) FROM settings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(settings, 0, "no salt or key in the store");
        let bytes = std::fs::read(path).unwrap();
        let canonical = parsed.canonical().as_bytes();
        assert!(!bytes.windows(canonical.len()).any(|w| w == canonical));
    }
    drop(store);

    // The service with another code key refuses the right code: the key is what checks it.
    std::fs::write(&key_path, format!("{}\n", hex::encode(rand_bytes::<32>()))).unwrap();
    let server = env.start(&[]);
    let phone = wallet(env.dir.path(), "phone");
    assert_eq!(enrol(&server, &phone, &code).status, 401);
    drop(server);
    std::fs::remove_file(&key_path).unwrap();
    let refused = env.cli(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(!refused.status.success(), "no code key, no service");
}

/// Replaces the one occurrence of `from` in `bytes` by `to` (same length).
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = bytes.to_vec();
    out[at..at + from.len()].copy_from_slice(to);
    out
}
