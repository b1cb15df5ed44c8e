//! The `vaxpass` command-line tool against the real service: `wallet enrol` (nonce, signed
//! request, import checked against the served trust list) and `verifier sync` (conditional list
//! requests), then an offline verify. The CLI binary is the workspace's, built by the same
//! `cargo test --workspace`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Env;

on_both_backends!(enrol_and_sync_with_the_cli);

fn vaxpass_cli() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_vaxpass-issuer")).with_file_name("vaxpass");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p vaxpass-cli` (cargo test --workspace does)",
        path.display()
    );
    path
}

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(vaxpass_cli())
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

fn enrol_and_sync_with_the_cli(env: &Env) {
    let enrolment_code = common::code(42);
    env.init_with_citizens(&[&enrolment_code]);
    let server = env.start(&[]);
    let url = format!("http://{}", server.addr);
    let root = hex::encode(env.root_public_key());
    let phone = tempfile::tempdir().unwrap();
    let shop = tempfile::tempdir().unwrap();

    assert_eq!(run(phone.path(), &["wallet", "init"]).0, 0);
    let (code, out) = run(
        phone.path(),
        &[
            "wallet",
            "enrol",
            "--server",
            &url,
            "--code",
            &enrolment_code,
            "--birth-date",
            common::BORN,
            "--root-key",
            &root,
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("enrolled:"), "{out}");
    // The code is used up: a second phone is refused with the service's one refusal.
    let thief = tempfile::tempdir().unwrap();
    run(thief.path(), &["wallet", "init"]);
    let (code, out) = run(
        thief.path(),
        &[
            "wallet",
            "enrol",
            "--server",
            &url,
            "--code",
            &enrolment_code,
            "--birth-date",
            common::BORN,
            "--root-key",
            &root,
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("401"), "{out}");
    // A typo is caught by the check symbol before any request is sent.
    let mut typo = common::code(42).into_bytes();
    typo[0] = if typo[0] == b'1' { b'2' } else { b'1' };
    let typo = String::from_utf8(typo).unwrap();
    let before = common::counters(&server);
    let (exit, out) = run(
        thief.path(),
        &[
            "wallet",
            "enrol",
            "--server",
            &url,
            "--code",
            &typo,
            "--birth-date",
            common::BORN,
            "--root-key",
            &root,
        ],
    );
    assert_eq!(exit, 2, "{out}");
    assert!(out.contains("typo"), "{out}");
    assert_eq!(common::counters(&server), before, "no request was sent");

    assert_eq!(
        run(shop.path(), &["verifier", "init", "--root-key", &root]).0,
        0
    );
    let (code, out) = run(shop.path(), &["verifier", "sync", "--server", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("trust list: updated"), "{out}");
    let (code, out) = run(shop.path(), &["verifier", "sync", "--server", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("trust list: not modified (304)"), "{out}");

    // The service goes away; the shop verifies the phone's code offline.
    drop(server);
    let (_, text) = run(phone.path(), &["wallet", "show", "--text"]);
    let (code, out) = run(shop.path(), &["verifier", "verify", text.trim()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VALID"), "{out}");
    eprintln!("offline verify said: {}", out.lines().next().unwrap_or(""));
}
