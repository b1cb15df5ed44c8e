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
        assert_eq!(admitted(&verdict).0.name, pass.holder_name);
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
    let rogue = LocalAuthority::create(dir.path().join("r.sqlite"), "KR", issued_at).unwrap();
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
    let parsed = EnrolmentRequest::verify_possession(&request).unwrap();
    parsed.answers(&nonce).unwrap();
    assert_eq!(&parsed.device_key, world.wallet.device_key());
    assert!(matches!(
        parsed.answers(&[0u8; 32]),
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

/// A monotonic clock the test moves: time since boot, which a reboot sets back to zero.
#[derive(Default)]
struct TestClock(std::sync::atomic::AtomicU64);

impl TestClock {
    fn pass(&self, by: Duration) {
        let ms = u64::try_from(by.num_milliseconds()).unwrap();
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    fn reboot(&self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

impl MonotonicClock for TestClock {
    fn elapsed_since_boot(&self) -> Result<std::time::Duration> {
        Ok(std::time::Duration::from_millis(
            self.0.load(Ordering::SeqCst),
        ))
    }
}

/// A wallet with a monotonic clock, enrolled at `lunch()` with a pass checked against the trust
/// list (so the credential's issuance time is the wallet's first trusted time).
fn clocked_wallet(world: &World, name: &str, clock: &Arc<TestClock>) -> (Wallet, CredentialId) {
    let wallet = Wallet::open(world.dir.path().join(name), DeviceKeySource::default())
        .unwrap()
        .with_clock(clock.clone());
    let issued = world
        .authority
        .issue(
            &three_doses(),
            wallet.device_key(),
            lunch(),
            lunch() + Duration::days(365),
            lunch(),
        )
        .unwrap();
    let trust = TrustList::verify(
        &world
            .authority
            .trust_list(lunch() - Duration::hours(1), Duration::hours(24))
            .unwrap(),
        &world.authority.root_public_key(),
    )
    .unwrap();
    let bundle = enrolment::encode_issued(&[issued.bytes]).unwrap();
    wallet.import(&bundle, Some(&trust), lunch()).unwrap();
    (wallet, issued.id)
}

fn refused_for_the_clock(result: Result<Shown>) -> bool {
    matches!(result, Err(Error::ClockNotTrusted(_)))
}

#[test]
fn a_clock_set_three_hours_ahead_gives_no_code_that_verifies_in_the_future() {
    let world = World::new();
    let clock = Arc::new(TestClock::default());
    clock.pass(Duration::hours(30)); // the phone has been up for a while
    let (wallet, pass) = clocked_wallet(&world, "clocked.sqlite", &clock);

    // Ten minutes later, on a correct clock: a code, and it verifies.
    clock.pass(Duration::minutes(10));
    let real = lunch() + Duration::minutes(10);
    let shown = wallet.presentation(&pass, real).unwrap();
    assert!(world.verdict(&shown.text, real).is_valid());

    // The holder sets the clock ahead and screenshots a code every two minutes for eight hours,
    // as fast as the clock can be changed (the monotonic clock barely moves).
    let mut screenshots = Vec::new();
    for minutes in (2..=8 * 60).step_by(2) {
        let ahead = real + Duration::minutes(minutes);
        match wallet.presentation(&pass, ahead) {
            Ok(shown) => screenshots.push(shown.text),
            Err(Error::ClockNotTrusted(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        screenshots.len() <= 3,
        "only the tolerance is signed: {}",
        screenshots.len()
    );
    // The lent screenshots, tried at 200 moments over the next eight hours: none verifies once
    // the tolerance and the verifier's window have passed.
    let mut accepted = 0;
    for k in 0..200 {
        let door = real + Duration::minutes(8) + Duration::seconds(k * 8 * 3600 / 200);
        accepted += screenshots
            .iter()
            .filter(|text| world.verdict(text, door).is_valid())
            .count();
    }
    assert_eq!(accepted, 0);
    assert!(refused_for_the_clock(
        wallet.presentation(&pass, real + Duration::hours(3))
    ));
    // Setting the clock back does not help either, and the correct clock still works.
    assert!(wallet.presentation(&pass, real).is_ok());
}

#[test]
fn the_trusted_time_survives_restarts_and_a_reboot_never_signs_past_the_stored_one() {
    let world = World::new();
    let clock = Arc::new(TestClock::default());
    clock.pass(Duration::hours(2));
    let (wallet, pass) = clocked_wallet(&world, "clocked.sqlite", &clock);
    let path = world.dir.path().join("clocked.sqlite");
    clock.pass(Duration::hours(1));
    let used = lunch() + Duration::hours(1);
    wallet.presentation(&pass, used).unwrap();
    drop(wallet);

    // The app restarts in the same boot: the stored anchor and the monotonic clock carry on.
    let reopen = || {
        Wallet::open(&path, DeviceKeySource::default())
            .unwrap()
            .with_clock(clock.clone())
    };
    clock.pass(Duration::hours(4));
    let wallet = reopen();
    assert!(wallet
        .presentation(&pass, used + Duration::hours(4))
        .is_ok());
    assert!(refused_for_the_clock(
        wallet.presentation(&pass, used + Duration::hours(7))
    ));
    let last_use = used + Duration::hours(4);
    drop(wallet);

    // A reboot: the monotonic clock restarts, so only the stored time is known. Within the
    // tolerance of it the wallet signs; a clock set ahead after a reboot gets nothing.
    clock.reboot();
    clock.pass(Duration::minutes(1));
    let wallet = reopen();
    assert!(refused_for_the_clock(
        wallet.presentation(&pass, last_use + Duration::hours(3))
    ));
    assert!(wallet
        .presentation(&pass, last_use + Duration::minutes(2))
        .is_ok());
    // Signing did not move the trusted time: a second reboot gets no further than the first.
    clock.reboot();
    assert!(refused_for_the_clock(wallet.presentation(
        &pass,
        last_use + Wallet::CLOCK_TOLERANCE + Duration::minutes(1)
    )));
    // From the reboot on, the monotonic clock carries the stored time forward again.
    clock.pass(Duration::minutes(30));
    assert!(wallet
        .presentation(&pass, last_use + Duration::minutes(30))
        .is_ok());
    // A day later, offline: refused until the wallet sees an authority time again.
    let next_day = last_use + Duration::days(1);
    assert!(refused_for_the_clock(wallet.presentation(&pass, next_day)));
    wallet.observe_trusted_time(next_day).unwrap();
    let shown = wallet.presentation(&pass, next_day).unwrap();
    world.sync(next_day - Duration::hours(1));
    assert!(world.verdict(&shown.text, next_day).is_valid());
    // An older observation never moves the trusted time back.
    wallet.observe_trusted_time(lunch()).unwrap();
    assert!(wallet.presentation(&pass, next_day).is_ok());
}

#[test]
fn a_clocked_wallet_refuses_to_sign_without_a_trusted_time_or_with_a_damaged_one() {
    let world = World::new();
    let clock = Arc::new(TestClock::default());
    // Imported without a trust list: the issuance time is unchecked, so it is not trusted.
    let wallet = Wallet::open(
        world.dir.path().join("wallet.sqlite"),
        DeviceKeySource::default(),
    )
    .unwrap()
    .with_clock(clock.clone());
    assert!(refused_for_the_clock(
        wallet.presentation(&world.pass, lunch())
    ));

    let (wallet, pass) = clocked_wallet(&world, "clocked.sqlite", &clock);
    assert!(wallet.presentation(&pass, lunch()).is_ok());
    let db = rusqlite::Connection::open(world.dir.path().join("clocked.sqlite")).unwrap();
    for damage in [
        "UPDATE trusted_time SET at_ms = 9223372036854775807",
        "UPDATE trusted_time SET at_ms = 0, boot_elapsed_ms = -5",
    ] {
        db.execute(damage, []).unwrap();
        assert!(matches!(
            wallet.presentation(&pass, lunch()),
            Err(Error::Malformed { .. })
        ));
    }
}

#[test]
fn next_renewal_has_an_answer_for_any_expiry() {
    let min = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let max = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    let whole = |t: chrono::DateTime<chrono::Utc>| {
        chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap()
    };
    for (not_before, expires) in [
        (lunch(), whole(max)),
        (lunch(), whole(max) - Duration::days(3)),
        (
            whole(min) + Duration::days(1),
            whole(min) + Duration::days(2),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let wallet = Wallet::open(dir.path().join("w.sqlite"), DeviceKeySource::default()).unwrap();
        // Signed directly: the authority refuses such lifetimes, but a wallet must not panic on
        // whatever an import without a trust list brings.
        let claims = Claims {
            issuer: "KR".into(),
            issued_at: lunch(),
            not_before,
            expires,
            id: CredentialId::parse("001122334455").unwrap(),
            device_key: wallet.device_key().clone(),
            pass: three_doses(),
        };
        let issuer = Ed25519KeyPair::from_secret(&[7; 32]).unwrap();
        let bytes = Credential::sign(&claims, &issuer).unwrap();
        let bundle = enrolment::encode_issued(&[bytes]).unwrap();
        wallet.import(&bundle, None, lunch()).unwrap();
        for now in [whole(min), lunch(), whole(max)] {
            for offset in [i32::MIN, -720, 0, 540, i32::MAX] {
                let at = wallet.next_renewal(now, offset).unwrap().unwrap();
                assert!(at >= now, "{expires} {now} {offset}: {at}");
            }
        }
    }
}

#[test]
fn presentations_at_the_edges_of_the_calendar_are_errors_not_panics() {
    let world = World::new();
    for now in [
        chrono::DateTime::<chrono::Utc>::MIN_UTC,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH - Duration::seconds(1),
        chrono::DateTime::<chrono::Utc>::MAX_UTC - Duration::seconds(10),
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
    ] {
        assert!(matches!(
            world.wallet.presentation(&world.pass, now),
            Err(Error::InvalidArgument(_))
        ));
    }
}

/// The issuer's clock may run ahead of the phone's, and a pass may start after a waiting period:
/// the pass is the holder's all the same. An expired one is not worth storing.
#[test]
fn imports_keep_a_pass_that_starts_later_and_refuse_an_expired_one() {
    let world = World::new();
    let trust = TrustList::verify(
        &world
            .authority
            .trust_list(lunch(), Duration::hours(24))
            .unwrap(),
        &world.authority.root_public_key(),
    )
    .unwrap();
    let issue = |not_before, expires| {
        let credential = world
            .authority
            .issue(
                &three_doses(),
                world.wallet.device_key(),
                not_before,
                expires,
                lunch() - Duration::hours(1),
            )
            .unwrap();
        enrolment::encode_issued(&[credential.bytes]).unwrap()
    };
    let before = world.wallet.passes().unwrap().len();
    // One second ahead, as an issuer that truncates to whole seconds can be; and a day ahead.
    for ahead in [Duration::seconds(1), Duration::days(1)] {
        let later = issue(lunch() + ahead, lunch() + Duration::days(30));
        let imported = world.wallet.import(&later, Some(&trust), lunch()).unwrap();
        assert_eq!(imported.len(), 1);
    }
    assert_eq!(world.wallet.passes().unwrap().len(), before + 2);
    let expired = issue(lunch() - Duration::days(30), lunch());
    assert!(matches!(
        world.wallet.import(&expired, Some(&trust), lunch()),
        Err(Error::Rejected(Reason::Expired))
    ));
    assert_eq!(world.wallet.passes().unwrap().len(), before + 2);
}
