//! `vaxpass-issuer` with its keys in a PKCS#11 token (the README's "With a hardware security
//! module"): the flags open the token and check the PIN before anything is written, `init`
//! generates the keys there, and the PIN never shows in an answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/token.rs"]
mod token;

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_vaxpass-issuer");

fn issuer(dir: &std::path::Path, pin: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command
        .arg("--key-file")
        .arg(dir.join("authority.sqlite"))
        .arg("--store")
        .arg(format!("sqlite:{}", dir.join("issuer.sqlite").display()))
        .args(args)
        .env_remove("VAXPASS_HSM_PIN");
    if let Some(pin) = pin {
        command.env("VAXPASS_HSM_PIN", pin);
    }
    command.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn hsm_flags_open_the_token_and_refuse_a_wrong_or_missing_pin_before_writing_anything() {
    let Some(config) = token::config() else {
        return;
    };
    let pin = std::env::var("VAXPASS_TEST_PKCS11_PIN").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let module = config.module.to_str().unwrap();
    let flags = ["--hsm-module", module, "--hsm-token", &config.token, "init"];

    let wrong = issuer(dir.path(), Some("not-the-pin"), &flags);
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("the token refused the PIN"),
        "{}",
        stderr(&wrong)
    );
    assert!(!stderr(&wrong).contains("not-the-pin"));

    let missing = issuer(dir.path(), None, &flags);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("VAXPASS_HSM_PIN"),
        "{}",
        stderr(&missing)
    );

    let unknown = issuer(
        dir.path(),
        Some(&pin),
        &[
            "--hsm-module",
            module,
            "--hsm-token",
            "no-such-token",
            "init",
        ],
    );
    assert!(
        stderr(&unknown).contains("no token labelled"),
        "{}",
        stderr(&unknown)
    );

    // None of the refusals wrote anything.
    assert!(!dir.path().join("authority.sqlite").exists());
    assert!(!dir.path().join("issuer.sqlite").exists());

    // The right PIN: the keys are generated in the token, no key file is written, and the PIN is
    // nowhere in the answer.
    let right = issuer(dir.path(), Some(&pin), &flags);
    assert!(right.status.success(), "{}", stderr(&right));
    let out = String::from_utf8_lossy(&right.stdout);
    assert!(
        out.contains(&format!("in the token {}", config.token)),
        "{out}"
    );
    assert!(!stderr(&right).contains(&pin));
    assert!(!out.contains(&pin));
    assert!(!dir.path().join("authority.sqlite").exists());
    assert!(dir.path().join("issuer.sqlite").exists());
}

#[test]
fn an_hsm_token_without_a_module_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = issuer(dir.path(), None, &["--hsm-token", "vaxpass", "init"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--hsm-module"), "{}", stderr(&out));
    assert!(!dir.path().join("authority.sqlite").exists());
}

#[test]
fn softhsm_script_start_is_idempotent_and_names_what_the_tests_need() {
    let Some(config) = token::config() else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/softhsm.sh");
    for _ in 0..2 {
        let out = Command::new("bash")
            .arg(script)
            .arg("start")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let last = stdout.lines().last().unwrap();
        assert!(last.starts_with("module="), "{last}");
        assert!(last.contains(&format!("token={}", config.token)), "{last}");
        assert!(last.contains("conf="), "{last}");
    }
    let out = Command::new("bash")
        .arg(script)
        .arg("env")
        .output()
        .unwrap();
    let exports = String::from_utf8(out.stdout).unwrap();
    for name in [
        "VAXPASS_TEST_PKCS11_MODULE",
        "SOFTHSM2_CONF",
        "VAXPASS_TEST_PKCS11_TOKEN",
        "VAXPASS_TEST_PKCS11_PIN",
    ] {
        assert!(exports.contains(name), "{exports}");
    }
}
