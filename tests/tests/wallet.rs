//! The wallet's storage and key handling: persistence, key protection, all-or-nothing imports.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::Duration;
use vaxpass::*;
use vaxpass_tests::*;

/// A stand-in for a platform keystore: XORs the key and counts calls.
#[derive(Default)]
struct XorProtector {
    wraps: AtomicUsize,
    unwraps: AtomicUsize,
}

impl KeyProtector for XorProtector {
    fn wrap(&self, secret: Vec<u8>) -> Result<Vec<u8>> {
        self.wraps.fetch_add(1, Ordering::SeqCst);
        Ok(secret.iter().map(|b| b ^ 0x5a).collect())
    }
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>> {
        self.unwraps.fetch_add(1, Ordering::SeqCst);
        Ok(wrapped.iter().map(|b| b ^ 0x5a).collect())
    }
}

struct FailingProtector;

impl KeyProtector for FailingProtector {
    fn wrap(&self, _: Vec<u8>) -> Result<Vec<u8>> {
        Err(Error::KeyProtection("keystore locked".into()))
    }
    fn unwrap(&self, _: Vec<u8>) -> Result<Vec<u8>> {
        Err(Error::KeyProtection("keystore locked".into()))
    }
}

#[test]
fn the_key_protector_wraps_the_stored_key_and_is_needed_to_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.sqlite");
    let protector = Arc::new(XorProtector::default());
    let key = Wallet::open(&path, DeviceKeySource::Software(protector.clone()))
        .unwrap()
        .device_key()
        .clone();
    assert_eq!(protector.wraps.load(Ordering::SeqCst), 1);
    let reopened = Wallet::open(&path, DeviceKeySource::Software(protector.clone())).unwrap();
    assert_eq!(reopened.device_key(), &key);
    assert_eq!(protector.unwraps.load(Ordering::SeqCst), 1);
    drop(reopened);
    // Without the protector the stored bytes are not the key.
    assert!(matches!(
        Wallet::open(&path, DeviceKeySource::default()),
        Err(Error::KeyProtection(_))
    ));
    assert!(matches!(
        Wallet::open(&path, DeviceKeySource::Software(Arc::new(FailingProtector))),
        Err(Error::KeyProtection(_))
    ));
    let fresh = dir.path().join("fresh.sqlite");
    assert!(Wallet::open(
        &fresh,
        DeviceKeySource::Software(Arc::new(FailingProtector))
    )
    .is_err());
}

#[test]
fn passes_survive_a_restart_and_can_be_removed() {
    let world = World::new();
    let path = world.dir.path().join("wallet.sqlite");
    let key = world.wallet.device_key().clone();
    let World {
        wallet,
        authority,
        verifier,
        pass,
        dir,
    } = world;
    drop(wallet);
    let wallet = Wallet::open(&path, DeviceKeySource::default()).unwrap();
    assert_eq!(wallet.device_key(), &key);
    let passes = wallet.passes().unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0].id, pass);
    assert_eq!(passes[0].holder_name, "김민준");
    assert_eq!(passes[0].kind, PassKind::Vaccination);
    assert!(!format!("{passes:?}").contains("김민준"));
    assert!(verifier
        .verify(&wallet.presentation(&pass, lunch()).unwrap().text, lunch())
        .unwrap()
        .is_valid());
    assert!(wallet.remove(&pass).unwrap());
    assert!(!wallet.remove(&pass).unwrap());
    assert!(matches!(
        wallet.presentation(&pass, lunch()),
        Err(Error::NotFound(_))
    ));
    drop((authority, dir));
}

#[test]
fn a_family_shares_one_phone() {
    let world = World::new();
    let mut child = three_doses();
    child.person = Person {
        name: "김서연".into(),
        date_of_birth: day("2010-09-01"),
    };
    child.events.truncate(2);
    let mut grandmother = three_doses();
    grandmother.person = Person {
        name: "Park Soon-ja".into(),
        date_of_birth: day("1941-01-30"),
    };
    // After the grandmother's booster on 2021-12-01: nothing on a pass may postdate its issue.
    let issued_at = lunch() - Duration::days(10);
    let bundle: Vec<Vec<u8>> = [child, grandmother]
        .iter()
        .map(|p| {
            world
                .authority
                .issue(
                    p,
                    world.wallet.device_key(),
                    issued_at,
                    issued_at + Duration::days(365),
                    issued_at,
                )
                .unwrap()
                .bytes
        })
        .collect();
    let trust = TrustList::verify(
        &world
            .authority
            .trust_list(lunch(), Duration::hours(24))
            .unwrap(),
        &world.authority.root_public_key(),
    )
    .unwrap();
    let imported = world
        .wallet
        .import(
            &enrolment::encode_issued(&bundle).unwrap(),
            Some(&trust),
            lunch(),
        )
        .unwrap();
    assert_eq!(imported.len(), 2);
    let passes = world.wallet.passes().unwrap();
    assert_eq!(passes.len(), 3);
    for pass in passes {
        let verdict = world.verdict(
            &world.wallet.presentation(&pass.id, lunch()).unwrap().text,
            lunch(),
        );
        assert!(verdict.is_valid(), "{:?}", verdict.reason);
        assert_eq!(verdict.holder.unwrap().name, pass.holder_name);
    }
}

#[test]
fn imports_are_all_or_nothing_and_checked() {
    let world = World::new();
    let other_wallet = Wallet::open(
        world.dir.path().join("other.sqlite"),
        DeviceKeySource::default(),
    )
    .unwrap();
    let issued_at = lunch() - Duration::days(1);
    let mine = world
        .authority
        .issue(
            &three_doses(),
            world.wallet.device_key(),
            issued_at,
            issued_at + Duration::days(30),
            issued_at,
        )
        .unwrap();
    let theirs = world
        .authority
        .issue(
            &three_doses(),
            other_wallet.device_key(),
            issued_at,
            issued_at + Duration::days(30),
            issued_at,
        )
        .unwrap();
    let mixed = enrolment::encode_issued(&[mine.bytes.clone(), theirs.bytes]).unwrap();
    assert!(matches!(
        world.wallet.import(&mixed, None, lunch()),
        Err(Error::Rejected(Reason::WrongDevice))
    ));
    assert_eq!(
        world.wallet.passes().unwrap().len(),
        1,
        "nothing of a refused bundle is stored"
    );

    // With a trust list, a credential from another authority is refused on import.
    let dir = tempfile::tempdir().unwrap();
    let rogue = Authority::create(dir.path().join("r.sqlite"), "KR", issued_at).unwrap();
    let forged = rogue
        .issue(
            &three_doses(),
            world.wallet.device_key(),
            issued_at,
            issued_at + Duration::days(30),
            issued_at,
        )
        .unwrap();
    let trust = TrustList::verify(
        &world
            .authority
            .trust_list(lunch(), Duration::hours(24))
            .unwrap(),
        &world.authority.root_public_key(),
    )
    .unwrap();
    let bundle = enrolment::encode_issued(&[forged.bytes]).unwrap();
    assert!(matches!(
        world.wallet.import(&bundle, Some(&trust), lunch()),
        Err(Error::Rejected(Reason::UnknownIssuer))
    ));
    for garbage in [&b""[..], b"\x80", b"\xa0", b"not cbor at all"] {
        assert!(world.wallet.import(garbage, None, lunch()).is_err());
    }
    assert_eq!(world.wallet.passes().unwrap().len(), 1);
}

#[test]
fn enrolment_binds_credentials_to_the_key_that_proved_possession() {
    let world = World::new();
    let nonce = [42u8; 32];
    let request = world
        .wallet
        .enrolment_request(&nonce, b"identity-token")
        .unwrap();
    let parsed = EnrolmentRequest::from_bytes(&request).unwrap();
    parsed.verify(&nonce).unwrap();
    assert_eq!(&parsed.device_key, world.wallet.device_key());
    assert!(matches!(
        parsed.verify(&[0u8; 32]),
        Err(Error::NonceMismatch)
    ));
    assert!(!format!("{parsed:?}").contains("identity-token"));
}

#[test]
fn rotation_is_configurable_within_bounds() {
    let world = World::new();
    let path = world.dir.path().join("wallet.sqlite");
    let open = || Wallet::open(&path, DeviceKeySource::default()).unwrap();
    assert!(open().with_rotation(Duration::seconds(1)).is_err());
    assert!(open().with_rotation(Duration::hours(1)).is_err());
    let wallet = open().with_rotation(Duration::seconds(15)).unwrap();
    let shown = wallet.presentation(&world.pass, lunch()).unwrap();
    assert_eq!(shown.refresh_at, Some(lunch() + Duration::seconds(15)));
    assert_eq!(
        world
            .wallet
            .presentation(&world.pass, lunch())
            .unwrap()
            .refresh_at,
        Some(lunch() + Wallet::DEFAULT_ROTATION)
    );
    assert!(!format!("{shown:?}").contains(&shown.text));
}
