//! The authority's keys in a real PKCS#11 token (SoftHSM2 from `scripts/softhsm.sh`): generated
//! inside it, never readable, signing credentials and lists that the core verifier accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/token.rs"]
mod token;

use std::sync::{Arc, OnceLock};

use chrono::Duration;
use coset::{iana, CborSerializable, CoseSign1, HeaderBuilder};
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use ed25519_dalek::{Signature, VerifyingKey};
use vaxpass::keys::kid_of;
use vaxpass::{
    Claims, Credential, CredentialId, DeviceKeySource, Ed25519KeyPair, IssuerKey, KeyVault,
    TrustList, Verifier, VerifierConfig, Wallet,
};
use vaxpass_issuer::hsm::{HsmError, Pkcs11Vault};
use vaxpass_tests::{lunch, three_doses};

/// One vault for the whole test binary: PKCS#11 login is per process and token anyway.
fn vault() -> Option<&'static Pkcs11Vault> {
    static VAULT: OnceLock<Option<Pkcs11Vault>> = OnceLock::new();
    let vault = VAULT
        .get_or_init(|| token::config().map(|config| Pkcs11Vault::open(config).unwrap()))
        .as_ref();
    if vault.is_none() {
        token::config(); // says SKIPPED for this test too
    }
    vault
}

/// Replaces the signature (and the kid) of a COSE_Sign1 the core made with a throwaway key by one
/// the token makes: until the core's authority signs through a vault itself, this is how the
/// tests put token signatures on the core's own encodings.
fn sign_in_token(vault: &Pkcs11Vault, public_key: &[u8; 32], bytes: &[u8]) -> Vec<u8> {
    let mut sign1 = CoseSign1::from_slice(bytes).unwrap();
    let mut header = HeaderBuilder::new()
        .algorithm(iana::Algorithm::Ed25519)
        .key_id(kid_of(public_key).to_vec());
    if let Some(coset::ContentType::Text(ct)) = &sign1.protected.header.content_type {
        header = header.content_type(ct.clone());
    }
    sign1.protected = coset::ProtectedHeader {
        original_data: None,
        header: header.build(),
    };
    sign1.signature = vault
        .sign(public_key, &sign1.tbs_data(&[]))
        .unwrap()
        .to_vec();
    sign1.to_vec().unwrap()
}

#[test]
fn a_key_generated_in_the_token_signs_what_ed25519_dalek_verifies() {
    let Some(vault) = vault() else { return };
    let public_key = vault.generate().unwrap();
    let message = b"trust list #7";
    let signature = vault.sign(&public_key, message).unwrap();
    let key = VerifyingKey::from_bytes(&public_key).unwrap();
    key.verify_strict(message, &Signature::from_bytes(&signature))
        .unwrap();
    assert!(key
        .verify_strict(b"trust list #8", &Signature::from_bytes(&signature))
        .is_err());

    // 200 messages: split over the pool's sessions, the signatures must come back in order.
    let messages: Vec<Vec<u8>> = (0..200u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let signatures = vault.sign_all(&public_key, &messages).unwrap();
    assert_eq!(signatures.len(), messages.len());
    for (message, signature) in messages.iter().zip(&signatures) {
        key.verify_strict(message, &Signature::from_bytes(signature))
            .unwrap();
    }
    // Two keys from the token are two keys.
    assert_ne!(vault.generate().unwrap(), public_key);
}

#[test]
fn a_credential_and_a_trust_list_signed_in_the_token_pass_the_core_verifier() {
    let Some(vault) = vault() else { return };
    let root = vault.generate().unwrap();
    let issuer = vault.generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let now = lunch();
    let throwaway = Ed25519KeyPair::generate();

    let key = IssuerKey::new(
        issuer,
        now - Duration::days(30),
        now + Duration::days(335),
        None,
        now + Duration::days(335 + 730),
    )
    .unwrap();
    let list = TrustList {
        sequence: 1,
        issuer: "KR".into(),
        issued_at: now - Duration::hours(1),
        next_update: now + Duration::hours(23),
        keys: vec![key],
    }
    .sign(&throwaway)
    .unwrap();
    let list = sign_in_token(vault, &root, &list);

    let wallet =
        Wallet::open(dir.path().join("wallet.sqlite"), DeviceKeySource::default()).unwrap();
    let issued_at = now - Duration::days(1);
    let claims = Claims {
        issuer: "KR".into(),
        issued_at,
        not_before: issued_at,
        expires: issued_at + Duration::days(365),
        id: CredentialId([1, 2, 3, 4, 5, 6]),
        device_key: wallet.device_key().clone(),
        pass: three_doses(),
    };
    let credential = Credential::sign(&claims, &throwaway).unwrap();
    let credential = sign_in_token(vault, &issuer, &credential);
    let bundle = vaxpass::enrolment::encode_issued(&[credential]).unwrap();
    let trust = TrustList::verify(&list, &root).unwrap();
    wallet.import(&bundle, Some(&trust), now).unwrap();

    let verifier = Verifier::open(
        dir.path().join("verifier.sqlite"),
        root,
        VerifierConfig::default(),
    )
    .unwrap();
    verifier.apply_trust_list(&list, now).unwrap();
    let rules = vaxpass::RulesList {
        sequence: 1,
        issued_at: now - Duration::hours(1),
        next_update: now + Duration::hours(23),
        rule_sets: vec![vaxpass::RuleSet::korea_2022_standing()],
    }
    .sign(&throwaway)
    .unwrap();
    verifier
        .apply_rules_list(&sign_in_token(vault, &root, &rules), now)
        .unwrap();
    let shown = wallet.presentation(&claims.id, now).unwrap();
    let verdict = verifier.verify(&shown.text, now).unwrap();
    assert_eq!(verdict.reason(), None);

    // The same list signed by another token key is refused: the root really is the token's.
    let other = vault.generate().unwrap();
    let forged = sign_in_token(vault, &other, &list);
    assert!(TrustList::verify(&forged, &root).is_err());
}

#[test]
fn the_private_key_cannot_be_read_out_of_the_token() {
    let Some(vault) = vault() else { return };
    let public_key = vault.generate().unwrap();
    // Look at the key as any program holding the PIN could.
    let config = token::config().unwrap();
    let pkcs11 = cryptoki::context::Pkcs11::new(&config.module).unwrap();
    let slot = pkcs11
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter()
        .find(|slot| pkcs11.get_token_info(*slot).unwrap().label() == config.token)
        .unwrap();
    let session = pkcs11.open_ro_session(slot).unwrap();
    let pin = std::env::var("VAXPASS_TEST_PKCS11_PIN").unwrap();
    match session.login(UserType::User, Some(&pin.as_str().into())) {
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {
        }
        Err(e) => panic!("login: {e}"),
    }
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(public_key.to_vec()),
        ])
        .unwrap();
    assert_eq!(found.len(), 1);
    let info = session
        .get_attribute_info(found[0], &[AttributeType::Value])
        .unwrap();
    assert!(
        matches!(info[..], [AttributeInfo::Sensitive]),
        "CKA_VALUE must be refused as sensitive, got {info:?}"
    );
    let flags = session
        .get_attributes(
            found[0],
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::Token,
            ],
        )
        .unwrap();
    for flag in &flags {
        match flag {
            Attribute::Sensitive(v)
            | Attribute::AlwaysSensitive(v)
            | Attribute::NeverExtractable(v)
            | Attribute::Token(v) => assert!(*v, "{flag:?}"),
            Attribute::Extractable(v) => assert!(!*v, "{flag:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(flags.len(), 5);
}

#[test]
fn an_unknown_public_key_is_not_found() {
    let Some(vault) = vault() else { return };
    let unknown = Ed25519KeyPair::generate().public();
    assert!(matches!(
        vault.sign_messages(&unknown, &[b"x".to_vec()]),
        Err(HsmError::NotFound)
    ));
    assert!(matches!(
        vault.sign(&unknown, b"x"),
        Err(vaxpass::Error::NotFound(_))
    ));
    // The session survives a lookup that found nothing.
    let known = vault.generate().unwrap();
    vault.sign(&known, b"x").unwrap();
}

#[test]
fn many_threads_sign_at_once_through_the_session_pool() {
    let Some(vault) = vault() else { return };
    let public_key = vault.generate().unwrap();
    let key = Arc::new(VerifyingKey::from_bytes(&public_key).unwrap());
    std::thread::scope(|scope| {
        for thread in 0..16u8 {
            let key = key.clone();
            scope.spawn(move || {
                for round in 0..20u8 {
                    let messages: Vec<Vec<u8>> = (0..5u8).map(|i| vec![thread, round, i]).collect();
                    let signatures = vault.sign_all(&public_key, &messages).unwrap();
                    for (message, signature) in messages.iter().zip(&signatures) {
                        key.verify_strict(message, &Signature::from_bytes(signature))
                            .unwrap();
                    }
                }
            });
        }
    });
}

#[test]
fn debug_shows_neither_the_pin_nor_key_material() {
    let Some(vault) = vault() else { return };
    let pin = std::env::var("VAXPASS_TEST_PKCS11_PIN").unwrap();
    let config = token::config().unwrap();
    for shown in [format!("{vault:?}"), format!("{config:?}")] {
        assert!(!shown.contains(&pin), "{shown}");
        assert!(shown.contains(&config.token), "{shown}");
    }
}
