//! Logging in to the token: a wrong PIN or an unknown token label is a clear error at start-up.
//! A process of its own, because PKCS#11 login is per process: once any session logged in, the
//! token does not check a second login's PIN.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/token.rs"]
mod token;

use vaxpass_issuer::hsm::{HsmError, Pin, Pkcs11Vault};

#[test]
fn a_wrong_pin_or_an_unknown_token_is_refused_clearly() {
    let Some(config) = token::config() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, "not-the-pin\n").unwrap();
    let wrong = Pkcs11Vault::open(vaxpass_issuer::hsm::HsmConfig {
        pin: Pin::from_file(&pin_file).unwrap(),
        ..config.clone()
    })
    .unwrap_err();
    assert!(matches!(wrong, HsmError::WrongPin), "{wrong:?}");
    assert_eq!(wrong.to_string(), "the token refused the PIN (incorrect)");
    assert!(!wrong.to_string().contains("not-the-pin"));

    let missing = Pkcs11Vault::open(vaxpass_issuer::hsm::HsmConfig {
        token: "no-such-token".into(),
        ..config.clone()
    })
    .unwrap_err();
    assert!(matches!(missing, HsmError::NoToken(_)), "{missing:?}");

    let no_module = Pkcs11Vault::open(vaxpass_issuer::hsm::HsmConfig {
        module: dir.path().join("libnothing.so"),
        ..config.clone()
    })
    .unwrap_err();
    assert!(
        matches!(no_module, HsmError::Module { .. }),
        "{no_module:?}"
    );

    // The right PIN, from a file, still opens it afterwards.
    std::fs::write(
        &pin_file,
        format!("{}\n", std::env::var("VAXPASS_TEST_PKCS11_PIN").unwrap()),
    )
    .unwrap();
    Pkcs11Vault::open(vaxpass_issuer::hsm::HsmConfig {
        pin: Pin::from_file(&pin_file).unwrap(),
        ..config
    })
    .unwrap();
}
