//! The `vaxpass` command-line tool against the real service: `wallet enrol` (nonce, signed
//! request, import checked against the served trust list) and `verifier sync` (conditional list
//! requests), then an offline verify. The CLI binary is the workspace's, built by the same
//! `cargo test --workspace`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::Env;

on_both_backends!(
    enrol_and_sync_with_the_cli,
    a_shop_anchors_and_reports_and_an_inspector_checks_it_with_the_cli
);

fn enrol_and_sync_with_the_cli(env: &Env) {
    let enrolment_code = common::code(42);
    env.init_with_citizens(&[&enrolment_code]);
    let server = env.start(&[]);
    let url = format!("http://{}", server.addr);
    let root = hex::encode(env.root_public_key());
    let phone = tempfile::tempdir().unwrap();
    let shop = tempfile::tempdir().unwrap();

    assert_eq!(common::vaxpass_cli(phone.path(), &["wallet", "init"]).0, 0);
    let (code, out) = common::cli_enrol(
        phone.path(),
        &url,
        &root,
        &["--code", &enrolment_code, "--birth-date", common::BORN],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("enrolled:"), "{out}");
    // The code is used up: a second phone is refused with the service's one refusal.
    let thief = tempfile::tempdir().unwrap();
    common::vaxpass_cli(thief.path(), &["wallet", "init"]);
    let (code, out) = common::cli_enrol(
        thief.path(),
        &url,
        &root,
        &["--code", &enrolment_code, "--birth-date", common::BORN],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("401"), "{out}");
    // A typo is caught by the check symbol before any request is sent.
    let mut typo = common::code(42).into_bytes();
    typo[0] = if typo[0] == b'1' { b'2' } else { b'1' };
    let typo = String::from_utf8(typo).unwrap();
    let before = common::counters(&server);
    let (exit, out) = common::cli_enrol(
        thief.path(),
        &url,
        &root,
        &["--code", &typo, "--birth-date", common::BORN],
    );
    assert_eq!(exit, 2, "{out}");
    assert!(out.contains("typo"), "{out}");
    assert_eq!(common::counters(&server), before, "no request was sent");

    assert_eq!(
        common::vaxpass_cli(shop.path(), &["verifier", "init", "--root-key", &root]).0,
        0
    );
    let (code, out) = common::vaxpass_cli(shop.path(), &["verifier", "sync", "--server", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("trust list: updated"), "{out}");
    assert!(out.contains("rules list: updated"), "{out}");
    let (code, out) = common::vaxpass_cli(shop.path(), &["verifier", "sync", "--server", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("trust list: not modified (304)"), "{out}");
    // The rules the shop judges by come from the service with the other lists.
    assert!(out.contains("rules list: not modified (304)"), "{out}");

    // The service goes away; the shop verifies the phone's code offline.
    drop(server);
    let (_, text) = common::vaxpass_cli(phone.path(), &["wallet", "show", "--text"]);
    let (code, out) = common::vaxpass_cli(shop.path(), &["verifier", "verify", text.trim()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VALID"), "{out}");
    eprintln!("offline verify said: {}", out.lines().next().unwrap_or(""));
}

/// `verifier anchor` posts the check log's head, `verifier report` exports the log, and
/// `inspect report` verifies it against the anchor the service hands back; a changed report is
/// refused with exit code 1.
fn a_shop_anchors_and_reports_and_an_inspector_checks_it_with_the_cli(env: &Env) {
    env.init_with_citizens(&[]);
    let server = env.start(&[]);
    let url = format!("http://{}", server.addr);
    let root = hex::encode(env.root_public_key());
    let shop = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| common::vaxpass_cli(shop.path(), args);
    assert_eq!(cli(&["verifier", "init", "--root-key", &root]).0, 0);
    assert_eq!(cli(&["verifier", "sync", "--server", &url]).0, 0);
    for _ in 0..3 {
        assert_eq!(cli(&["verifier", "verify", "not a pass"]).0, 1);
    }
    let (code, out) = cli(&["verifier", "anchor", "--server", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("anchored 3 entries"), "{out}");
    let (code, status) = cli(&["--json", "verifier", "status"]);
    assert_eq!(code, 0, "{status}");
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["check_log"]["state"], "intact");
    assert_eq!(status["today"]["refused"], 3);
    let key = status["check_log"]["shop_key"].as_str().unwrap().to_owned();
    let anchor = server.get(&format!("/v1/anchors/{key}"), &[]);
    assert_eq!(anchor.status, 200);
    let anchor_file = shop.path().join("anchor.cbor");
    std::fs::write(&anchor_file, &anchor.body).unwrap();

    let now = chrono::Utc::now();
    let (from, to) = (
        (now - chrono::Duration::hours(1)).to_rfc3339(),
        (now + chrono::Duration::minutes(1)).to_rfc3339(),
    );
    let report = shop.path().join("report.cbor");
    let report_arg = report.to_str().unwrap();
    let (code, out) = cli(&[
        "verifier", "report", "--from", &from, "--to", &to, "--out", report_arg,
    ]);
    assert_eq!(code, 0, "{out}");
    let anchor_arg = anchor_file.to_str().unwrap();
    let inspect = [
        "inspect",
        "report",
        report_arg,
        "--shop-key",
        &key,
        "--anchor",
        anchor_arg,
    ];
    let (code, out) = cli(&inspect);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED: this device"), "{out}");
    assert!(out.contains("checked 3 passes"), "{out}");
    assert!(out.contains("3 refused"), "{out}");
    assert!(
        out.contains("anchored: none of the first 3 entries"),
        "{out}"
    );

    let mut bytes = std::fs::read(&report).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&report, bytes).unwrap();
    let (code, out) = cli(&inspect);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED"), "{out}");
}

/// The `vaxpass authority` commands and the service share one store of record: a credential the
/// service issued and revoked through the CLI, and one the CLI issued and revoked through the
/// service's admin API, are both on the next list whichever of them publishes it.
#[test]
fn a_revocation_from_the_cli_or_the_service_reaches_the_next_list() {
    let mut env = Env::new(common::Backend::Sqlite).unwrap();
    let dir = env.dir.path().to_owned();
    let cli = |args: &[&str]| {
        let (code, out) = common::vaxpass_cli(&dir, args);
        assert_eq!(code, 0, "{args:?}: {out}");
        out
    };
    cli(&["authority", "init", "--issuer", "KR"]);
    // The service runs on the CLI's files.
    env.key_file = dir.join("authority.keys");
    env.store_url = format!("sqlite:{}", dir.join("issuer.sqlite").display());
    vaxpass_issuer::identity::CodeKey::open_beside(&env.key_file, true).unwrap();
    let enrolment_code = common::code(7);
    env.cli_ok(&[
        "registry",
        "add",
        "--name",
        "김민준",
        "--birth-date",
        common::BORN,
        "--dose",
        &common::dose(1, 60),
        "--dose",
        &common::dose(2, 30),
        "--code",
        &enrolment_code,
    ]);
    let server = env.start(&[]);
    let root = env.root_public_key();

    // Issued by the service, revoked through the CLI.
    let phone = common::wallet(&dir, "phone");
    let reply = common::enrol(&server, &phone, &enrolment_code);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let by_service = common::bundle_ids(&reply.body)[0];
    cli(&["authority", "revoke", &by_service.to_string()]);

    // Issued by the CLI, revoked through the service.
    let nonce = "00112233445566778899aabbccddeeff";
    cli(&["wallet", "init"]);
    cli(&[
        "wallet",
        "enrol-request",
        "--nonce",
        nonce,
        "--identity-proof",
        "desk",
    ]);
    let request = dir.join("enrolment-request.cbor").display().to_string();
    let out = cli(&[
        "--json",
        "authority",
        "issue",
        "--name",
        "김민준",
        "--birth",
        common::BORN,
        "--dose",
        "comirnaty:1/2:2021-06-20",
        "--request",
        &request,
        "--nonce",
        nonce,
    ]);
    let issued: serde_json::Value = serde_json::from_str(&out).unwrap();
    let by_cli = issued["id"].as_str().unwrap().to_owned();
    let revoked = server.admin(&format!("/v1/admin/revoke/{by_cli}"), &[]);
    assert_eq!(revoked.status, 200, "{}", revoked.text());

    // Published by the CLI: both are on it, and the service serves it.
    cli(&["authority", "revocation-list"]);
    let written = std::fs::read(dir.join("revocation-list.cbor")).unwrap();
    let list = vaxpass::RevocationList::verify(&written, &root).unwrap();
    assert_eq!(list.len(), 2);
    for id in [by_service, vaxpass::CredentialId::parse(&by_cli).unwrap()] {
        assert!(list
            .entries()
            .any(|entry| entry == id.revocation_entry().as_slice()));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let served = server.get("/v1/revocation-list", &[]);
        if served.status == 200 && served.body == written {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service serves an old list"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
