//! End-to-end flows of the core: issue → import → present → verify, and every way a pass must be
//! refused. Each test builds its own world in a temporary directory.

use chrono::Duration;
use vaxpass::*;
use vaxpass_tests::*;

#[test]
fn a_fresh_presentation_is_valid_and_shows_name_and_birth_date() {
    let world = World::new();
    let verdict = world.verdict(&world.show(lunch()), lunch());
    assert_eq!(verdict.reason(), None);
    let (holder, id_check_required) = admitted(&verdict);
    assert_eq!(holder.name, "김민준");
    assert_eq!(holder.date_of_birth, day("1985-03-14"));
    assert!(!id_check_required);
    assert!(verdict.warnings().is_empty(), "{:?}", verdict.warnings());
    assert!(
        !format!("{verdict:?}").contains("김민준"),
        "Debug must not show the name"
    );
}

#[test]
fn a_screenshot_replayed_later_is_too_old() {
    let world = World::new();
    let screenshot = world.show(lunch());
    let verdict = world.verdict(&screenshot, lunch() + Duration::minutes(10));
    assert_eq!(verdict.reason(), Some(Reason::PresentationTooOld));
    assert!(
        matches!(verdict, Verdict::NotValid { .. }),
        "a refused pass names nobody"
    );
}

#[test]
fn presentation_window_and_leeway_boundaries() {
    let world = World::new();
    let config = VerifierConfig::default();
    let edge = config.presentation_window + config.clock_leeway;
    let shown = world.show(lunch());
    assert!(world.verdict(&shown, lunch() + edge).is_valid());
    assert_eq!(
        world
            .verdict(&shown, lunch() + edge + Duration::seconds(1))
            .reason(),
        Some(Reason::PresentationTooOld)
    );
    // A phone whose clock runs ahead: accepted up to the leeway, refused beyond it.
    let ahead = world.show(lunch() + config.clock_leeway);
    assert!(world.verdict(&ahead, lunch()).is_valid());
    let too_far = world.show(lunch() + config.clock_leeway + Duration::seconds(1));
    assert_eq!(
        world.verdict(&too_far, lunch()).reason(),
        Some(Reason::PresentationFromFuture)
    );
}

#[test]
fn credential_validity_boundaries_at_nbf_and_exp() {
    let world = World::new();
    let leeway = VerifierConfig::default().clock_leeway;
    let issued_at = lunch() - Duration::days(1);
    let nbf = lunch();
    let exp = lunch() + Duration::days(2);
    let id = world.issue(nbf, exp, issued_at);
    let check = |now| {
        world
            .verifier
            .verify(&world.wallet.presentation(&id, now).unwrap().text, now)
            .unwrap()
            .reason()
    };
    // Synced before the earliest time checked: lists from a verifier's future mean its clock is
    // behind, and nothing is valid then.
    world.sync(nbf - leeway - Duration::seconds(1));
    assert_eq!(
        check(nbf - leeway - Duration::seconds(1)),
        Some(Reason::NotYetValid)
    );
    assert_eq!(
        check(nbf - leeway),
        None,
        "exactly nbf minus the leeway is accepted"
    );
    assert_eq!(check(nbf), None);
    world.sync(exp);
    assert_eq!(check(exp + leeway - Duration::seconds(1)), None);
    assert_eq!(
        check(exp + leeway),
        Some(Reason::Expired),
        "exp is exclusive (RFC 8392)"
    );
}

#[test]
fn flipping_any_single_byte_never_yields_valid() {
    let world = World::new();
    let text = world.show(lunch());
    let bytes = base45::decode(text.strip_prefix("VP1:").unwrap()).unwrap();
    let mut refused = 0;
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80] {
            let mut tampered = bytes.clone();
            tampered[i] ^= mask;
            let verdict = world.verdict(&qr_text::presentation_text(&tampered), lunch());
            assert!(
                !verdict.is_valid(),
                "flipping bit {mask:#04x} of byte {i} gave VALID"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, bytes.len() * 8);
    // Character-level tampering of the text itself.
    for i in 0..text.len() {
        let mut chars: Vec<char> = text.chars().collect();
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert!(
            !world.verdict(&tampered, lunch()).is_valid(),
            "changing character {i} gave VALID"
        );
    }
}

#[test]
fn a_credential_presented_from_another_device_is_refused() {
    let world = World::new();
    // The thief has the credential bytes (e.g. from a paper pass) but not the device key.
    let paper = world.wallet.paper(&world.pass).unwrap().text;
    let Scanned::Paper(credential) = qr_text::parse(&paper).unwrap() else {
        panic!("paper text")
    };
    let thief = SoftwareEd25519Signer(Ed25519KeyPair::generate());
    let forged = Presentation::create(&credential, lunch(), &thief).unwrap();
    let verdict = world.verdict(&qr_text::presentation_text(&forged), lunch());
    assert_eq!(verdict.reason(), Some(Reason::WrongDevice));
}

#[test]
fn a_paper_pass_is_valid_with_an_id_check_unless_paper_is_refused() {
    let world = World::new();
    let paper = world.wallet.paper(&world.pass).unwrap();
    assert!(paper.id_check_required && paper.refresh_at.is_none());
    let verdict = world.verdict(&paper.text, lunch() + Duration::days(3));
    assert!(admitted(&verdict).1, "a paper pass needs an ID check");

    let strict = World::with(
        VerifierConfig {
            accept_paper: false,
            ..VerifierConfig::default()
        },
        three_doses(),
    );
    let paper = strict.wallet.paper(&strict.pass).unwrap().text;
    assert_eq!(
        strict.verdict(&paper, lunch()).reason(),
        Some(Reason::PaperNotAccepted)
    );
}

#[test]
fn a_revoked_credential_is_refused_after_the_next_sync() {
    let world = World::new();
    world.authority.revoke(&world.pass, lunch()).unwrap();
    assert!(
        world.verdict(&world.show(lunch()), lunch()).is_valid(),
        "not yet synced"
    );
    world.sync(lunch());
    assert_eq!(
        world.verdict(&world.show(lunch()), lunch()).reason(),
        Some(Reason::Revoked)
    );
    let paper = world.wallet.paper(&world.pass).unwrap().text;
    assert_eq!(
        world.verdict(&paper, lunch()).reason(),
        Some(Reason::Revoked)
    );
}

#[test]
fn a_compromised_key_invalidates_only_what_it_signed_after_the_leak() {
    let world = World::new();
    let (before, leak, after) = (
        lunch() - Duration::days(2),
        lunch() - Duration::days(1),
        lunch() - Duration::hours(2),
    );
    let kid = world.authority.issuer_keys().unwrap()[0].kid;
    let mut ids = Vec::new();
    for issued_at in [before, after] {
        ids.push(world.issue(issued_at, issued_at + Duration::days(365), issued_at));
    }
    world.authority.mark_compromised(&kid, leak).unwrap();
    world.sync(lunch());
    let verdict = |id| {
        world
            .verifier
            .verify(
                &world.wallet.presentation(id, lunch()).unwrap().text,
                lunch(),
            )
            .unwrap()
            .reason()
    };
    assert_eq!(verdict(&ids[0]), None, "signed before the leak");
    assert_eq!(
        verdict(&ids[1]),
        Some(Reason::IssuerKeyRevoked),
        "signed after the leak"
    );
    // Issuing goes on with a new key, which verifiers learn from the next trust list.
    assert!(world
        .authority
        .issue(
            &three_doses(),
            world.wallet.device_key(),
            lunch(),
            lunch() + Duration::days(1),
            lunch()
        )
        .is_err());
    world
        .authority
        .rotate_issuer_key(lunch() - Duration::minutes(5))
        .unwrap();
    let fresh = world.issue(lunch(), lunch() + Duration::days(1), lunch());
    assert_eq!(
        verdict(&fresh),
        Some(Reason::UnknownIssuer),
        "the shop has not seen the new key yet"
    );
    world.sync(lunch());
    assert_eq!(verdict(&fresh), None);
}

#[test]
fn trust_list_rollback_and_equivocation_are_refused_and_change_nothing() {
    let world = World::new();
    let now = lunch();
    let older = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let newer = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    assert!(matches!(
        world.verifier.apply_trust_list(&newer, now),
        Ok(Applied::Updated { .. })
    ));
    assert_eq!(
        world.verifier.apply_trust_list(&newer, now).unwrap(),
        Applied::Unchanged
    );
    let stored = world.verifier.freshness(now).trust_list.unwrap();

    assert!(matches!(
        world.verifier.apply_trust_list(&older, now),
        Err(Error::Rollback { .. })
    ));
    assert_eq!(world.verifier.freshness(now).trust_list.unwrap(), stored);

    // A split-brain authority (a copy of its database) signs the same sequence with other content.
    let copy = world.dir.path().join("authority-copy.sqlite");
    for (from, to) in [
        (world.dir.path().join("authority.sqlite"), copy.clone()),
        (
            world.dir.path().join("authority.sqlite.keys"),
            LocalAuthority::key_file_path(&copy),
        ),
    ] {
        let _ = rusqlite::Connection::open(from)
            .unwrap()
            .execute("VACUUM INTO ?1", [to.to_str().unwrap()])
            .unwrap();
    }
    let twin = LocalAuthority::open(&copy).unwrap();
    let a = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let b = twin.trust_list(now, Duration::hours(12)).unwrap();
    world.verifier.apply_trust_list(&a, now).unwrap();
    let stored = world.verifier.freshness(now).trust_list.unwrap();
    assert!(matches!(
        world.verifier.apply_trust_list(&b, now),
        Err(Error::Equivocation(_))
    ));
    assert_eq!(world.verifier.freshness(now).trust_list.unwrap(), stored);

    // After a restart the verifier still holds the accepted list and still refuses the old one.
    let path = world.dir.path().join("verifier.sqlite");
    let reopened = Verifier::open(
        &path,
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap();
    assert_eq!(reopened.freshness(now).trust_list.unwrap(), stored);
    assert!(matches!(
        reopened.apply_trust_list(&older, now),
        Err(Error::Rollback { .. })
    ));
    assert!(reopened.verify(&world.show(now), now).unwrap().is_valid());
}

#[test]
fn revocation_list_rollback_is_refused_and_keeps_the_entries() {
    let world = World::new();
    let now = lunch();
    let before = world
        .authority
        .revocation_list(now, Duration::hours(24))
        .unwrap();
    world.authority.revoke(&world.pass, now).unwrap();
    let after = world
        .authority
        .revocation_list(now, Duration::hours(24))
        .unwrap();
    world.verifier.apply_revocation_list(&after, now).unwrap();
    assert!(matches!(
        world.verifier.apply_revocation_list(&before, now),
        Err(Error::Rollback { .. })
    ));
    assert_eq!(
        world.verdict(&world.show(now), now).reason(),
        Some(Reason::Revoked)
    );
}

#[test]
fn lists_from_another_authority_or_tampered_are_refused() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let other = LocalAuthority::create(
        dir.path().join("a.sqlite"),
        "KR",
        lunch() - Duration::days(30),
    )
    .unwrap();
    let foreign = other.trust_list(lunch(), Duration::hours(24)).unwrap();
    assert!(matches!(
        world.verifier.apply_trust_list(&foreign, lunch()),
        Err(Error::BadSignature(_))
    ));
    let mut tampered = world
        .authority
        .trust_list(lunch(), Duration::hours(24))
        .unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(world.verifier.apply_trust_list(&tampered, lunch()).is_err());
    // A revocation list is not a trust list, though the same root key signs both.
    let revocations = world
        .authority
        .revocation_list(lunch(), Duration::hours(24))
        .unwrap();
    assert!(world
        .verifier
        .apply_trust_list(&revocations, lunch())
        .is_err());
    // Nor is a list dated in the future accepted.
    let future = world
        .authority
        .trust_list(lunch() + Duration::hours(2), Duration::hours(24))
        .unwrap();
    assert!(matches!(
        world.verifier.apply_trust_list(&future, lunch()),
        Err(Error::FromTheFuture(_))
    ));
}

#[test]
fn a_credential_from_an_unknown_authority_is_refused() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let rogue = LocalAuthority::create(
        dir.path().join("rogue.sqlite"),
        "KR",
        lunch() - Duration::days(30),
    )
    .unwrap();
    let id = issue_into(
        &rogue,
        &world.wallet,
        &three_doses(),
        lunch() - Duration::days(1),
        lunch() + Duration::days(30),
        lunch() - Duration::days(1),
    );
    let text = world.wallet.presentation(&id, lunch()).unwrap().text;
    assert_eq!(
        world.verdict(&text, lunch()).reason(),
        Some(Reason::UnknownIssuer)
    );
}

#[test]
fn staged_freshness_and_a_stale_list_never_yields_valid() {
    let world = World::new();
    let config = VerifierConfig::default();
    let synced = lunch() - Duration::hours(1);
    let at = |offset| synced + offset;
    assert_eq!(
        world.verifier.freshness(at(Duration::hours(1))).state,
        FreshnessState::Fresh
    );
    // Past next_update (24 h) but before warn_after (36 h): a warning.
    let v = world.verdict(
        &world.show(at(Duration::hours(25))),
        at(Duration::hours(25)),
    );
    assert!(v.is_valid() && v.warnings().contains(&Warning::ListsAging));
    // Exactly at fail_after: still verifying, with a warning.
    let edge = at(config.fail_after);
    let v = world.verdict(&world.show(edge), edge);
    assert!(v.is_valid() && v.warnings().contains(&Warning::ListsAging));
    // One second later nothing is valid until the shop syncs.
    let stale = edge + Duration::seconds(1);
    assert_eq!(
        world.verifier.freshness(stale).state,
        FreshnessState::CannotVerify
    );
    let v = world.verdict(&world.show(stale), stale);
    assert_eq!(v.reason(), Some(Reason::TrustListTooStale));
    world.sync(stale);
    assert!(world.verdict(&world.show(stale), stale).is_valid());
}

#[test]
fn a_verifier_that_never_synced_cannot_verify() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let blank = Verifier::open(
        dir.path().join("v.sqlite"),
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap();
    let v = blank.verify(&world.show(lunch()), lunch()).unwrap();
    assert_eq!(v.reason(), Some(Reason::NoTrustList));
    assert_eq!(blank.freshness(lunch()).state, FreshnessState::CannotVerify);
    // Opening the same store with another pinned root: lists it cannot verify leave it unable to
    // say valid (not silently forgotten) until a list signed by that root is applied.
    let other_root = Ed25519KeyPair::generate().public();
    let repinned = Verifier::open(
        world.dir.path().join("verifier.sqlite"),
        other_root,
        VerifierConfig::default(),
    )
    .unwrap();
    assert_eq!(
        repinned
            .verify(&world.show(lunch()), lunch())
            .unwrap()
            .reason(),
        Some(Reason::ListsDamaged)
    );
}

#[test]
fn policy_failures_carry_the_rule() {
    let mut one_dose = three_doses();
    one_dose.events.truncate(1);
    let world = World::with(VerifierConfig::default(), one_dose);
    assert_eq!(
        world.verdict(&world.show(lunch()), lunch()).reason(),
        Some(Reason::PolicyNotMet(PolicyRule::PrimarySeriesIncomplete))
    );
}

#[test]
fn garbage_is_malformed_never_a_panic() {
    let world = World::new();
    let inputs = [
        String::new(),
        "VP1:".into(),
        "VC1:".into(),
        "HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B".into(),
        "VP1:%%%".into(),
        "VP1:".to_string() + &"0".repeat(4000),
        "x".repeat(100_000),
        "VP1:".to_string() + &base45::encode(&[0x85, 0x41, 0x00, 0x40, 0x40, 0x00, 0x40]),
        "VP1:".to_string() + &base45::encode(&[0x9f; 300]),
    ];
    for input in inputs {
        assert_eq!(
            world.verdict(&input, lunch()).reason(),
            Some(Reason::Malformed)
        );
    }
}

#[test]
fn an_es256_platform_signer_works_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let world = World::new();
    let signer = std::sync::Arc::new(SoftwareP256Signer::generate());
    let path = dir.path().join("platform-wallet.sqlite");
    let wallet = Wallet::open(&path, DeviceKeySource::Platform(signer.clone())).unwrap();
    assert_eq!(wallet.device_key().algorithm(), "ES256");
    let issued_at = lunch() - Duration::days(1);
    let id = issue_into(
        &world.authority,
        &wallet,
        &three_doses(),
        issued_at,
        issued_at + Duration::days(365),
        issued_at,
    );
    let shown = wallet.presentation(&id, lunch()).unwrap();
    assert!(world.verdict(&shown.text, lunch()).is_valid());
    assert!(
        shown.text.len() <= 400,
        "{} characters with an ES256 key",
        shown.text.len()
    );
    drop(wallet);
    assert!(
        Wallet::open(&path, DeviceKeySource::default()).is_err(),
        "a platform wallet needs its signer"
    );
    assert!(Wallet::open(
        &path,
        DeviceKeySource::Platform(std::sync::Arc::new(SoftwareP256Signer::generate()))
    )
    .is_err());
    assert!(Wallet::open(&path, DeviceKeySource::Platform(signer)).is_ok());
}

#[test]
fn eight_threads_verify_concurrently_with_correct_results() {
    let world = World::new();
    let good = world.show(lunch());
    let old = world.show(lunch() - Duration::minutes(5));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (world, good, old) = (&world, &good, &old);
                scope.spawn(move || {
                    for i in 0..50 {
                        let (text, valid) = if (t + i) % 3 == 0 {
                            (old, false)
                        } else {
                            (good, true)
                        };
                        assert_eq!(world.verdict(text, lunch()).is_valid(), valid);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
}
