//! The served lists (ETag, 304, caching headers) and the admin API: authentication, revoke +
//! publish reaching a core Verifier, key rotation and compromise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use chrono::Utc;
use common::{enrol, verifier, wallet, Env, ADMIN_TOKEN};
use sha2::{Digest, Sha256};
use vaxpass::{Reason, TrustList};

on_both_backends!(
    lists_etag_and_304,
    admin_needs_the_token,
    revoke_publish_rotate_compromise
);

fn lists_etag_and_304(env: &Env) {
    env.init_with_citizens(&[]);
    let server = env.start(&[]);
    for path in ["/v1/trust-list", "/v1/revocation-list"] {
        let reply = server.get(path, &[]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/cbor"));
        assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
        let etag = format!("\"{}\"", hex::encode(Sha256::digest(&reply.body)));
        assert_eq!(reply.header("etag"), Some(etag.as_str()));

        let cached = server.get(path, &[("If-None-Match", &etag)]);
        assert_eq!(cached.status, 304);
        assert!(cached.body.is_empty());
        assert_eq!(cached.header("etag"), Some(etag.as_str()));
        let listed = server.get(path, &[("If-None-Match", &format!("\"x\", W/{etag}"))]);
        assert_eq!(listed.status, 304);
        assert_eq!(server.get(path, &[("If-None-Match", "\"x\"")]).status, 200);

        // HEAD: the headers without the body.
        let head = common::request(server.addr, "HEAD", path, &[], &[]);
        assert_eq!(head.status, 200);
        assert_eq!(head.header("etag"), Some(etag.as_str()));
    }
    let before = server.get("/v1/trust-list", &[]);
    let etag = before.header("etag").unwrap().to_owned();
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    // Served at once by the replica that published.
    let after = server.get("/v1/trust-list", &[("If-None-Match", &etag)]);
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(etag.as_str()));

    // A publish from elsewhere (the CLI, another replica) shows after the periodic reload.
    let replica = env.start(&["--lists-reload-secs", "1"]);
    let etag = replica
        .get("/v1/revocation-list", &[])
        .header("etag")
        .unwrap()
        .to_owned();
    env.cli_ok(&["publish"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reply = replica.get("/v1/revocation-list", &[("If-None-Match", &etag)]);
        if reply.status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "replica never reloaded"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        server.post("/v1/trust-list", &[], &[]).status,
        405,
        "lists are read-only"
    );
}

fn lists_unpublished_are_503(env: &Env) {
    // A store nobody published to: the authority exists, the lists do not.
    let (rt, store) = env.store();
    let vault = vaxpass_issuer::authority::open_vault(&env.key_file, None, true).unwrap();
    rt.block_on(vaxpass_issuer::authority::ServiceAuthority::init(
        store,
        vault,
        "KR",
        Utc::now(),
    ))
    .unwrap();
    vaxpass_issuer::identity::CodeKey::open_beside(&env.key_file, true).unwrap();
    let server = env.start(&[]);
    let reply = server.get("/v1/trust-list", &[]);
    assert_eq!(reply.status, 503);
    assert_eq!(reply.error_code(), "not_published");
    assert!(reply.header("retry-after").is_some());
}

#[test]
fn lists_unpublished_are_503_sqlite() {
    lists_unpublished_are_503(&Env::new(common::Backend::Sqlite).unwrap());
}

fn admin_needs_the_token(env: &Env) {
    env.init_with_citizens(&[]);
    let server = env.start(&[]);
    let operations = [
        "/v1/admin/publish",
        "/v1/admin/rotate-key",
        "/v1/admin/compromise",
        "/v1/admin/revoke/000000000000",
    ];
    let wrong = format!("Bearer {ADMIN_TOKEN}x");
    let basic = format!("Basic {ADMIN_TOKEN}");
    let before = env.counts();
    for path in operations {
        for headers in [
            vec![],
            vec![("Authorization", wrong.as_str())],
            vec![("Authorization", basic.as_str())],
            vec![("Authorization", "Bearer ")],
        ] {
            let reply = server.post(path, &headers, b"{}");
            assert_eq!(reply.status, 401, "{path} {headers:?}");
            assert_eq!(reply.error_code(), "unauthorized");
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        }
    }
    assert_eq!(env.counts(), before);
    let trust = server.get("/v1/trust-list", &[]).body;
    // With the token.
    let ok = server.admin("/v1/admin/publish", &[]);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_ne!(server.get("/v1/trust-list", &[]).body, trust);
    assert_eq!(server.admin("/v1/admin/nothing", &[]).status, 404);
    let lower = format!("bearer {ADMIN_TOKEN}");
    assert_eq!(
        server
            .post("/v1/admin/publish", &[("Authorization", &lower)], &[])
            .status,
        200
    );

    // A server started without a token refuses every admin request.
    let mut tokenless = std::process::Command::new(common::BIN);
    tokenless
        .arg("--key-file")
        .arg(&env.key_file)
        .arg("--store")
        .arg(&env.store_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("VAXPASS_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped());
    let mut child = tokenless.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().parse().unwrap();
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let reply = common::request(
        addr,
        "POST",
        "/v1/admin/publish",
        &[("Authorization", &auth)],
        &[],
    );
    assert_eq!(reply.status, 401);
    let _ = child.kill();
    let _ = child.wait();
}

fn revoke_publish_rotate_compromise(env: &Env) {
    let (code1, code2, code3) = (common::code(1), common::code(2), common::code(3));
    env.init_with_citizens(&[&code1, &code2, &code3]);
    let server = env.start(&[]);
    let root = env.root_public_key();
    let dir = env.dir.path();
    let phone = wallet(dir, "phone");
    let reply = enrol(&server, &phone, &code1);
    assert_eq!(reply.status, 200);
    let now = Utc::now();
    let passes = phone.import(&reply.body, None, now).unwrap();
    let id = passes[0].id;
    let shop = verifier(dir, root);
    server.sync(&shop);
    let text = phone.presentation(&id, now).unwrap().text;
    assert!(shop.verify(&text, now).unwrap().is_valid());

    assert_eq!(server.admin("/v1/admin/revoke/zz", &[]).status, 400);
    let unknown = server.admin("/v1/admin/revoke/000000000000", &[]);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_code(), "credential_unknown");
    let revoked = server.admin(&format!("/v1/admin/revoke/{id}"), &[]);
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let again = server.admin(&format!("/v1/admin/revoke/{id}"), &[]);
    assert_eq!(again.status, 200);
    assert!(again.text().contains("\"already_revoked\":true"));
    // Not on the served list until published.
    server.sync(&shop);
    assert!(shop.verify(&text, now).unwrap().is_valid());
    let published = server.admin("/v1/admin/publish", &[]);
    assert_eq!(published.status, 200, "{}", published.text());
    server.sync(&shop);
    let verdict = shop.verify(&text, Utc::now()).unwrap();
    assert_eq!(verdict.reason(), Some(Reason::Revoked));
    assert_eq!(server.revocation_list(&root).len(), 1);

    // Rotation: new enrolments are signed by the new key, which the next trust list carries.
    let old_kid = server.trust_list(&root).keys[0].kid;
    let rotated = server.admin("/v1/admin/rotate-key", &[]);
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let body: serde_json::Value = serde_json::from_slice(&rotated.body).unwrap();
    let new_kid = body["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, hex::encode(old_kid));
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    let trust: TrustList = server.trust_list(&root);
    assert_eq!(trust.keys.len(), 2);
    let second = wallet(dir, "second");
    let reply = enrol(&server, &second, &code2);
    assert_eq!(reply.status, 200);
    let credential = vaxpass::Credential::from_bytes(
        &vaxpass::enrolment::decode_issued(&reply.body).unwrap()[0],
    )
    .unwrap();
    assert_eq!(hex::encode(credential.kid), new_kid);
    let entry = {
        let (rt, store) = env.store();
        rt.block_on(store.audit_entry(credential.claims.id))
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        hex::encode(entry.kid),
        new_kid,
        "the audit log names the signing key"
    );

    // Compromise of the active key: issuing stops (503) until the next rotation.
    let bad = server.admin("/v1/admin/compromise", b"{\"kid\": 1}");
    assert_eq!(bad.status, 400);
    let unknown = server.admin(
        "/v1/admin/compromise",
        b"{\"kid\": \"0000000000000000\", \"revoked_after\": \"2021-12-13T12:00:00+09:00\"}",
    );
    assert_eq!(unknown.status, 404);
    let leak = format!(
        "{{\"kid\": \"{new_kid}\", \"revoked_after\": \"{}\"}}",
        Utc::now().to_rfc3339()
    );
    let compromised = server.admin("/v1/admin/compromise", leak.as_bytes());
    assert_eq!(compromised.status, 200, "{}", compromised.text());
    let third = wallet(dir, "third");
    let before = env.counts();
    let refused = enrol(&server, &third, &code3);
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.error_code(), "issuer_unavailable");
    let after = env.counts();
    assert_eq!(
        (after.issued, after.codes_used),
        (before.issued, before.codes_used)
    );
    assert_eq!(server.admin("/v1/admin/rotate-key", &[]).status, 200);
    assert_eq!(enrol(&server, &third, &code3).status, 200);
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    let trust = server.trust_list(&root);
    assert!(trust
        .keys
        .iter()
        .any(|k| hex::encode(k.kid) == new_kid && k.revoked_after.is_some()));
}
