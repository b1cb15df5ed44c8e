//! Check log anchors against the real server, on both stores: a shop's verifier posts its signed
//! chain head, the inspector gets the latest one back, and with it a report whose newest entries
//! were cut is refused; a second head at the same count is a conflict and the first one stays;
//! bad, oversized and unsigned bodies are refused and count as failed attempts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use chrono::{Duration, Utc};
use common::{verifier, Env};
use vaxpass::report::MAX_ANCHOR_BYTES;
use vaxpass::{verify_report, Anchor, AnchorCheck, ReportRefused};

on_both_backends!(
    an_anchored_head_is_kept_and_catches_a_cut_tail,
    a_second_head_at_the_same_count_is_refused_and_the_first_stays,
    bad_anchors_are_refused,
);

/// A shop's verifier that logged `n` verdicts (refusals: no lists, and no pass either).
fn shop(env: &Env, name: &str, n: usize) -> vaxpass::Verifier {
    let dir = env.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let shop = verifier(&dir, env.root_public_key());
    for _ in 0..n {
        shop.verify("not a pass", Utc::now()).unwrap();
    }
    shop
}

fn an_anchored_head_is_kept_and_catches_a_cut_tail(env: &Env) {
    env.init_with_citizens(&[]);
    let shop = shop(env, "shop", 5);
    let server = env.start(&[]);
    let key = hex::encode(shop.shop_public_key().unwrap());
    assert_eq!(server.get(&format!("/v1/anchors/{key}"), &[]).status, 404);

    let anchor = shop.anchor(Utc::now()).unwrap();
    let reply = server.post("/v1/anchors", &[], &anchor);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        server.post("/v1/anchors", &[], &anchor).status,
        200,
        "idempotent"
    );

    let reply = server.get(&format!("/v1/anchors/{key}"), &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, anchor);
    assert!(reply.header("x-anchor-received-at").is_some());
    assert_eq!(Anchor::verify(&reply.body).unwrap().head.count, 5);

    let (from, to) = (Utc::now() - Duration::hours(1), Utc::now());
    let report = shop.export_report(from, to, to).unwrap();
    let proof = verify_report(&report, None, Some(&reply.body)).unwrap();
    assert_eq!(proof.anchor, AnchorCheck::Matches { count: 5 });

    // A later anchor becomes the latest; the earlier one is kept.
    shop.verify("not a pass", Utc::now()).unwrap();
    let later = shop.anchor(Utc::now()).unwrap();
    assert_eq!(server.post("/v1/anchors", &[], &later).status, 200);
    let latest = server.get(&format!("/v1/anchors/{key}"), &[]).body;
    assert_eq!(Anchor::verify(&latest).unwrap().head.count, 6);

    // A report exported before the last verdict ends before the anchor: entries were cut.
    assert_eq!(
        verify_report(&report, None, Some(&latest)).unwrap_err(),
        ReportRefused::TruncatedTail {
            anchored: 6,
            head: 5
        }
    );
}

fn a_second_head_at_the_same_count_is_refused_and_the_first_stays(env: &Env) {
    env.init_with_citizens(&[]);
    let shop_a = shop(env, "a", 3);
    let server = env.start(&[]);
    let first = shop_a.anchor(Utc::now()).unwrap();
    assert_eq!(server.post("/v1/anchors", &[], &first).status, 200);
    // The same shop key over a rewritten log: the count is the same, the hash is not.
    let db = rusqlite::Connection::open(env.dir.path().join("a/verifier.sqlite")).unwrap();
    db.execute("UPDATE check_log_head SET hash = zeroblob(32)", [])
        .unwrap();
    let rewritten = shop_a.anchor(Utc::now()).unwrap();
    let reply = server.post("/v1/anchors", &[], &rewritten);
    assert_eq!(reply.status, 409);
    assert_eq!(reply.error_code(), "anchor_conflict");
    let key = hex::encode(shop_a.shop_public_key().unwrap());
    assert_eq!(server.get(&format!("/v1/anchors/{key}"), &[]).body, first);
}

fn bad_anchors_are_refused(env: &Env) {
    env.init_with_citizens(&[]);
    let shop = shop(env, "shop", 1);
    let server = env.start(&[]);
    let anchor = shop.anchor(Utc::now()).unwrap();
    let mut flipped = anchor.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    for (name, body, status) in [
        ("signature changed", flipped, 400),
        ("truncated", anchor[..anchor.len() - 1].to_vec(), 400),
        ("empty", Vec::new(), 400),
        ("oversized", vec![0; MAX_ANCHOR_BYTES + 1], 413),
    ] {
        assert_eq!(
            server.post("/v1/anchors", &[], &body).status,
            status,
            "{name}"
        );
    }
    assert_eq!(server.get("/v1/anchors/zz", &[]).status, 400);
    assert_eq!(
        server
            .get(&format!("/v1/anchors/{}", "ab".repeat(40)), &[])
            .status,
        400
    );
    assert_eq!(server.get("/v1/anchors", &[]).status, 405);
}
