//! Runs the built `vaxpass` binary: the demo, and a scripted flow through every role with a fixed
//! clock and JSON output, checking exit codes (0 valid, 1 not valid, 2 bad usage or input).

// clippy.toml allows unwrap in #[test] functions; the helpers here are test code too.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const NOW: &str = "2021-12-13T12:10:00+09:00";
const NONCE: &str = "5f1d0c2ab38e4e7190a4c6d2e8f01b3c5f1d0c2ab38e4e7190a4c6d2e8f01b3c";

fn vaxpass(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaxpass"))
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW, "--json"])
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Runs a command that must succeed and returns its JSON.
fn json(dir: &Path, args: &[&str]) -> Value {
    let output = vaxpass(dir, args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn demo_accepts_the_live_code_and_refuses_the_replay() {
    // Run from an empty directory with a private TMPDIR, to see every file the demo writes.
    let cwd = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vaxpass"))
        .arg("demo")
        .current_dir(cwd.path())
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("VALID: 김민준"), "{text}");
    assert!(text.contains("presentation_too_old"), "{text}");
    assert!(
        text.contains("QR: 396 characters, version 12 at ECC M"),
        "{text}"
    );

    let reported = text
        .lines()
        .find_map(|line| line.strip_prefix("working directory: "))
        .and_then(|rest| rest.split(" (").next())
        .map(std::path::PathBuf::from)
        .unwrap();
    assert_eq!(
        reported.parent(),
        Some(tmp.path()),
        "the demo works in the temporary directory"
    );
    let entries = |dir: &Path| std::fs::read_dir(dir).unwrap().count();
    assert_eq!(
        entries(cwd.path()),
        0,
        "nothing is written to the current directory"
    );
    assert_eq!(entries(tmp.path()), 1, "nothing else is written to TMPDIR");
    assert!(reported.join("qr.png").is_file());
}

#[test]
fn every_role_through_files_with_a_fixed_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = |name: &str| dir.join(name).display().to_string();

    let authority = json(dir, &["authority", "init", "--issuer", "KR"]);
    let root = authority["root_public_key"].as_str().unwrap().to_owned();
    let kid = authority["issuer_keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    json(dir, &["wallet", "init"]);
    json(
        dir,
        &[
            "wallet",
            "enrol-request",
            "--nonce",
            NONCE,
            "--identity-proof",
            "token",
        ],
    );
    let request = file("enrolment-request.cbor");
    let issued = json(
        dir,
        &[
            "authority",
            "issue",
            "--name",
            "김민준",
            "--birth",
            "1985-03-14",
            "--dose",
            "Comirnaty:1/2:2021-06-20",
            "--dose",
            "comirnaty:2/2:2021-07-25",
            "--dose",
            "COMIRNATY:3/2:2021-12-01",
            "--request",
            &request,
            "--nonce",
            NONCE,
        ],
    );
    let id = issued["id"].as_str().unwrap().to_owned();
    json(dir, &["authority", "trust-list"]);
    json(dir, &["authority", "revocation-list"]);
    json(
        dir,
        &[
            "authority",
            "rules-list",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../issuer/rules/korea-2021-2022.toml"
            ),
        ],
    );
    assert_eq!(
        json(dir, &["authority", "root-key"])["root_public_key"],
        root.as_str()
    );

    let trust = file("trust-list.cbor");
    let imported = json(
        dir,
        &[
            "wallet",
            "import",
            &file("issued.cbor"),
            "--trust-list",
            &trust,
            "--root-key",
            &root,
        ],
    );
    assert_eq!(imported["imported"][0]["id"], id.as_str());
    assert_eq!(
        json(dir, &["wallet", "list"])["passes"][0]["name"],
        "김민준"
    );

    json(dir, &["verifier", "init", "--root-key", &root]);
    json(
        dir,
        &[
            "verifier",
            "update",
            "--trust-list",
            &trust,
            "--revocation-list",
            &file("revocation-list.cbor"),
            "--rules-list",
            &file("rules-list.cbor"),
        ],
    );
    assert_eq!(json(dir, &["verifier", "status"])["state"], "fresh");

    // The QR text, as a script gets it.
    let shown = vaxpass(dir, &["wallet", "show", "--text"]);
    let shown: Value = serde_json::from_str(&stdout(&shown)).unwrap();
    let text = shown["text"].as_str().unwrap();
    assert!(text.starts_with("VP1:"));
    let verdict = json(dir, &["verifier", "verify", text]);
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["reason"], Value::Null);
    assert_eq!(verdict["holder"]["name"], "김민준");
    assert_eq!(verdict["holder"]["date_of_birth"], "1985-03-14");
    assert_eq!(verdict["id_check_required"], false);
    assert_eq!(verdict["warnings"], serde_json::json!([]));
    assert_eq!(verdict["cue"], "valid");
    assert_eq!(verdict["say"]["ko"], "유효해요.");
    assert_eq!(verdict["say"]["en"], "Valid.");

    // Without --json, --text prints the QR text alone.
    let plain = Command::new(env!("CARGO_BIN_EXE_vaxpass"))
        .arg("--dir")
        .arg(dir)
        .args(["--now", NOW, "wallet", "show", "--text"])
        .output()
        .unwrap();
    let plain = stdout(&plain);
    assert!(plain.starts_with("VP1:") && plain.ends_with('\n') && plain.lines().count() == 1);

    // Read back from pixels.
    let png = file("qr.png");
    json(dir, &["wallet", "show", &id, "--png", &png]);
    let verdict = json(dir, &["verifier", "verify", "--image", &png]);
    assert_eq!(verdict["valid"], true);

    // Not a vaxpass code: a verdict (exit 1), not an error.
    let garbage = vaxpass(dir, &["verifier", "verify", "HELLO WORLD"]);
    assert_eq!(garbage.status.code(), Some(1));
    let verdict: Value = serde_json::from_str(&stdout(&garbage)).unwrap();
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["reason"], "malformed");
    assert_eq!(verdict["holder"], Value::Null);

    // The inspection names the issuer key without judging.
    let inspection = json(dir, &["inspect", text]);
    assert_eq!(inspection["issuer_kid"], kid.as_str());
    assert_eq!(inspection["claims"]["cti"], id.as_str());
    assert_eq!(inspection["pass"]["events"][2]["dose"], 3);
    let plain = Command::new(env!("CARGO_BIN_EXE_vaxpass"))
        .args(["inspect", text])
        .output()
        .unwrap();
    assert!(stdout(&plain).contains(&kid));

    // Revoked, then the list synced: not valid.
    json(dir, &["authority", "revoke", &id]);
    json(dir, &["authority", "revocation-list"]);
    json(
        dir,
        &[
            "verifier",
            "update",
            "--trust-list",
            &trust,
            "--revocation-list",
            &file("revocation-list.cbor"),
        ],
    );
    let revoked = vaxpass(dir, &["verifier", "verify", text]);
    assert_eq!(revoked.status.code(), Some(1));
    assert!(stdout(&revoked).contains("\"revoked\""));
}

#[test]
fn bad_usage_and_bad_input_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bad_flag = vaxpass(dir, &["verifier", "verify", "--no-such-flag"]);
    assert_eq!(bad_flag.status.code(), Some(2));

    let bad_time = vaxpass(dir, &["--now", "yesterday", "wallet", "list"]);
    assert_eq!(bad_time.status.code(), Some(2));

    let bad_dose = vaxpass(
        dir,
        &[
            "authority",
            "issue",
            "--name",
            "x",
            "--birth",
            "1985-03-14",
            "--dose",
            "Sputnik:1/2:2021-01-01",
            "--request",
            "r",
            "--nonce",
            NONCE,
        ],
    );
    assert_eq!(bad_dose.status.code(), Some(2));

    // No wallet here: an error, not a panic, and no empty wallet left behind.
    let missing = vaxpass(dir, &["wallet", "list"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8(missing.stderr).unwrap();
    assert!(stderr.starts_with("vaxpass: error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!dir.join("wallet.sqlite").exists());

    let not_a_code = vaxpass(dir, &["inspect", "VP1:!!"]);
    assert_eq!(not_a_code.status.code(), Some(2));
}

#[test]
fn authority_rules_list_publishes_the_korean_rules_file_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let korea = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../issuer/rules/korea-2021-2022.toml"
    );
    json(dir.path(), &["authority", "init"]);

    // --check signs nothing and shows the sets.
    let checked = json(dir.path(), &["authority", "rules-list", korea, "--check"]);
    let sets = checked["rule_sets"].as_array().unwrap();
    assert_eq!(sets.len(), 7);
    assert_eq!(sets[2]["takes_effect"], "2022-01-03");
    assert_eq!(sets[2]["vaccination"]["primary_valid_days"], 180);
    assert_eq!(sets[3]["modes"]["large_store"][0], "vaccination");
    assert_eq!(sets[4]["modes"]["large_store"], "exempt");
    assert_eq!(sets[5]["rapid_antigen_hours"], 24);
    assert!(!dir.path().join("rules-list.cbor").exists());

    let published = json(dir.path(), &["authority", "rules-list", korea]);
    assert_eq!(published["sequence"], 1);
    assert_eq!(published["rule_sets"], checked["rule_sets"]);
    let signed = std::fs::read(dir.path().join("rules-list.cbor")).unwrap();
    let root = json(dir.path(), &["authority", "root-key"]);
    let root: [u8; 32] = hex::decode(root["root_public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let list = vaxpass::RulesList::verify(&signed, &root).unwrap();
    assert_eq!(list.sequence, 1);
    assert_eq!(list.rule_sets.len(), 7);
    // The lists published afterwards carry the rules again, under the next sequence.
    json(dir.path(), &["authority", "trust-list"]);
    let again = json(dir.path(), &["authority", "rules-list", korea]);
    assert_eq!(again["sequence"], 3);

    // A bad file: exit 2, one line naming the problem, nothing published.
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(korea).unwrap();
    std::fs::write(&bad, text.replace("pcr_hours = 48", "pcr_hours = 0")).unwrap();
    for args in [
        vec!["authority", "rules-list", bad.to_str().unwrap()],
        vec!["authority", "rules-list", bad.to_str().unwrap(), "--check"],
    ] {
        let output = vaxpass(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("test window"), "{stderr}");
    }
    let unchanged = std::fs::read(dir.path().join("rules-list.cbor")).unwrap();
    assert_eq!(
        vaxpass::RulesList::verify(&unchanged, &root)
            .unwrap()
            .sequence,
        3
    );
}
