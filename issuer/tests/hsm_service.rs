//! The service with its keys in a PKCS#11 token, end to end (the README's "With a hardware
//! security module"): `init` generates the root and issuer keys inside the token and writes no
//! key file, `serve` signs enrolments and lists there, a rotation makes the next key in the
//! token, and what it signed verifies as any credential does. Its own test binary: the token's
//! settings are this process's environment, which every command it starts inherits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;
#[path = "common/token.rs"]
mod token;

use chrono::Utc;
use common::{code, enrol, verifier, wallet, Env};
use vaxpass::TrustList;

on_both_backends!(the_service_signs_in_the_token_and_its_passes_verify);

fn the_service_signs_in_the_token_and_its_passes_verify(env: &Env) {
    let Some(config) = token::config() else {
        return;
    };
    // Set once for the whole binary (one test per backend, the same values): every
    // `vaxpass-issuer` the helpers start uses the token.
    std::env::set_var("VAXPASS_HSM_MODULE", &config.module);
    std::env::set_var("VAXPASS_HSM_TOKEN", &config.token);
    std::env::set_var(
        "VAXPASS_HSM_PIN",
        std::env::var("VAXPASS_TEST_PKCS11_PIN").unwrap(),
    );
    let citizen = code(7);
    env.init_with_citizens(&[&citizen]);
    assert!(
        !env.key_file.exists(),
        "with a token there is no key file: the private keys never left it"
    );
    let root = env.root_public_key();
    let server = env.start(&[]);
    let phone = wallet(env.dir.path(), "phone");
    let reply = enrol(&server, &phone, &citizen);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let now = Utc::now();
    let trust = TrustList::verify(&server.get("/v1/trust-list", &[]).body, &root).unwrap();
    let passes = phone.import(&reply.body, Some(&trust), now).unwrap();
    let shop = verifier(env.dir.path(), root);
    server.sync(&shop);
    let verdict = shop
        .verify(&phone.presentation(&passes[0].id, now).unwrap().text, now)
        .unwrap();
    assert!(verdict.is_valid(), "{:?}", verdict.reason());

    // A rotation generates the next issuer key inside the token; the service signs with it.
    let first = trust.keys.last().unwrap().kid;
    let rotated = server.admin("/v1/admin/rotate-key", &[]);
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    assert_eq!(server.admin("/v1/admin/publish", &[]).status, 200);
    let again = wallet(env.dir.path(), "second-phone");
    let other = code(8);
    env.cli_ok(&[
        "registry",
        "add",
        "--name",
        "이서연",
        "--birth-date",
        common::BORN,
        "--dose",
        &common::dose(1, 60),
        "--code",
        &other,
    ]);
    let reply = enrol(&server, &again, &other);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let trust = TrustList::verify(&server.get("/v1/trust-list", &[]).body, &root).unwrap();
    let passes = again.import(&reply.body, Some(&trust), Utc::now()).unwrap();
    let (rt, store) = env.store();
    let entry = rt
        .block_on(store.audit_entry(passes[0].id))
        .unwrap()
        .unwrap();
    assert_ne!(entry.kid, first, "signed with the rotated key");
    assert_eq!(trust.keys.len(), 2);
}
