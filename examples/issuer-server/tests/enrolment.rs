//! Enrolment end to end against the real server: the bundle imports into a core Wallet and its
//! presentation verifies with a core Verifier fed the served lists; and every bad request gets its
//! 4xx and changes nothing in the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use chrono::Utc;
use common::{bundle_ids, enrol, rand_bytes, verifier, wallet, Env, Reply};
use vaxpass::TrustList;

const CODE: &str = "KR-483920-1137";
const OTHER: &str = "KR-100000-0002";

on_both_backends!(full_enrolment, bad_requests_change_nothing);

fn full_enrolment(env: &Env) {
    env.init_with_citizens(&[CODE]);
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
    // Codes are typed by people: case and spaces do not matter.
    let reply = enrol(&server, &phone, " kr-483920-1137 ");
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
    assert!(verdict.is_valid(), "{:?}", verdict.reason);

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
    let again = enrol(&server, &phone, CODE);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_ne!(bundle_ids(&again.body), bundle_ids(&reply.body));
    let thief = wallet(env.dir.path(), "thief");
    let refused = enrol(&server, &thief, CODE);
    assert_eq!(refused.status, 409);
    assert_eq!(refused.error_code(), "code_already_used");

    assert_eq!(server.get("/healthz", &[]).status, 200);
}

fn expect(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.error_code(), code);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    // No personal data or input echoed in errors.
    let text = reply.text();
    assert!(!text.contains("KR-") && !text.contains("김민준"), "{text}");
}

fn bad_requests_change_nothing(env: &Env) {
    env.init_with_citizens(&[CODE, OTHER]);
    let server = env.start(&[]);
    let dir = env.dir.path();
    let phone = wallet(dir, "phone");
    let other = wallet(dir, "other");

    // A first enrolment uses CODE and a nonce, to replay later.
    let used_nonce = server.nonce();
    let request = phone
        .enrolment_request(&used_nonce, CODE.as_bytes())
        .unwrap();
    assert_eq!(server.post("/v1/enrolment", &[], &request).status, 200);

    let fresh = server.nonce();
    let fresh2 = server.nonce();
    let before = env.counts();
    let enrol_raw = |body: &[u8]| server.post("/v1/enrolment", &[], body);

    expect(&enrol_raw(b"garbage"), 400, "malformed_request");
    expect(&enrol_raw(&[]), 400, "malformed_request");
    expect(&enrol_raw(&vec![0xa4; 20 * 1024]), 413, "too_large");

    // Proof of possession over another nonce: signed over `fresh`, carrying `fresh2`.
    let signed = other.enrolment_request(&fresh, OTHER.as_bytes()).unwrap();
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

    let unknown = other.enrolment_request(&fresh, b"KR-999999-9999").unwrap();
    expect(&enrol_raw(&unknown), 401, "identity_refused");
    let not_a_code = other.enrolment_request(&fresh, &[0xff, 0xfe]).unwrap();
    expect(&enrol_raw(&not_a_code), 401, "identity_refused");

    let replayed = other
        .enrolment_request(&used_nonce, OTHER.as_bytes())
        .unwrap();
    expect(&enrol_raw(&replayed), 409, "nonce_unknown_or_used");
    let never_issued = other
        .enrolment_request(&rand_bytes::<32>(), OTHER.as_bytes())
        .unwrap();
    expect(&enrol_raw(&never_issued), 409, "nonce_unknown_or_used");

    let used_code = other.enrolment_request(&fresh, CODE.as_bytes()).unwrap();
    expect(&enrol_raw(&used_code), 409, "code_already_used");

    expect(&server.get("/v1/enrolment", &[]), 405, "method_not_allowed");
    expect(&server.get("/v1/nothing", &[]), 404, "not_found");

    assert_eq!(env.counts(), before, "refused requests changed the store");

    // The nonces those requests carried are still good.
    let ok = other.enrolment_request(&fresh, OTHER.as_bytes()).unwrap();
    assert_eq!(enrol_raw(&ok).status, 200);
    let after = env.counts();
    assert_eq!(after.issued, before.issued + 1);
    assert_eq!(after.nonces, before.nonces - 1);
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
