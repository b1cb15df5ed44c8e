//! The PKCS#11 token of the HSM tests: SoftHSM2 (or any module) named by the environment that
//! `scripts/softhsm.sh env` prints. Without it the tests print SKIPPED and pass.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;

use vaxpass_issuer::hsm::{HsmConfig, Pin};

/// The token configuration from `VAXPASS_TEST_PKCS11_MODULE`, `VAXPASS_TEST_PKCS11_TOKEN` and
/// `VAXPASS_TEST_PKCS11_PIN`, or `None` (with SKIPPED on stderr) when no module is set.
pub fn config() -> Option<HsmConfig> {
    let Ok(module) = std::env::var("VAXPASS_TEST_PKCS11_MODULE") else {
        // Straight to stderr: libtest captures eprintln!, and a skip must show.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED (PKCS#11) {}: VAXPASS_TEST_PKCS11_MODULE is not set; \
             eval \"$(scripts/softhsm.sh env)\"",
            std::thread::current().name().unwrap_or("test")
        );
        return None;
    };
    Some(HsmConfig {
        module: PathBuf::from(module),
        token: std::env::var("VAXPASS_TEST_PKCS11_TOKEN").expect("VAXPASS_TEST_PKCS11_TOKEN"),
        pin: Pin::from_env("VAXPASS_TEST_PKCS11_PIN").expect("VAXPASS_TEST_PKCS11_PIN"),
        sessions: 4,
    })
}
