//! A leaked issuer key: what its thief can sign is bounded by the trust list (`expires_by`), in
//! the verifier and on import into a wallet, while passes genuinely signed before the leak stay
//! valid until their own expiry.

use chrono::{DateTime, Duration, Utc};
use vaxpass::*;
use vaxpass_tests::*;

/// The issuer key's secret, as a thief who copied it would hold it.
fn stolen_key(world: &World, kid: &[u8; 8]) -> Ed25519KeyPair {
    let public_key = world
        .authority
        .issuer_keys()
        .unwrap()
        .into_iter()
        .find(|key| key.kid == *kid)
        .unwrap()
        .public_key;
    let key_file = LocalAuthority::key_file_path(&world.dir.path().join("authority.sqlite"));
    let secret: Vec<u8> = rusqlite::Connection::open(key_file)
        .unwrap()
        .query_row(
            "SELECT secret FROM keys WHERE public_key = ?1",
            [&public_key[..]],
            |r| r.get(0),
        )
        .unwrap();
    Ed25519KeyPair::from_secret(&secret).unwrap()
}

/// A credential for the world's wallet signed with `key`, issued at `iat` and expiring at `exp`.
fn forge(world: &World, key: &Ed25519KeyPair, iat: DateTime<Utc>, exp: DateTime<Utc>) -> Vec<u8> {
    let claims = Claims {
        issuer: "KR".into(),
        issued_at: iat,
        not_before: iat,
        expires: exp,
        id: CredentialId([0xF0, 0x0D, 0, 0, 0, 1]),
        device_key: world.wallet.device_key().clone(),
        pass: three_doses(),
    };
    Credential::sign(&claims, key).unwrap()
}

fn import(world: &World, credential: Vec<u8>, trust: Option<&TrustList>) -> Result<CredentialId> {
    let bundle = enrolment::encode_issued(&[credential]).unwrap();
    Ok(world.wallet.import(&bundle, trust, lunch())?[0].id)
}

#[test]
fn a_forgery_with_a_leaked_key_is_refused_2_10_and_50_years_later() {
    let world = World::new();
    let kid = world.authority.issuer_keys().unwrap()[0].kid;
    let leak = lunch() - Duration::days(1);
    world.authority.mark_compromised(&kid, leak).unwrap();
    world.sync(lunch());
    // Backdated to just before the leak, so `revoked_after` does not catch it; valid until 2200.
    let forged = forge(
        &world,
        &stolen_key(&world, &kid),
        leak - Duration::seconds(1),
        at("2200-01-01T00:00:00Z"),
    );
    let id = import(&world, forged, None).unwrap();
    for years in [2, 10, 50] {
        let later = lunch() + Duration::days(365 * years);
        world.sync(later);
        let text = world.wallet.presentation(&id, later).unwrap().text;
        assert_eq!(
            world.verdict(&text, later).reason(),
            Some(Reason::ExpiryBeyondIssuerKey),
            "{years} years later"
        );
    }
}

#[test]
fn passes_genuinely_signed_before_the_leak_stay_valid_until_they_expire() {
    let world = World::new();
    let kid = world.authority.issuer_keys().unwrap()[0].kid;
    let leak = lunch() - Duration::days(1);
    let signed = leak - Duration::hours(1);
    // The longest pass the authority issues, signed just before the leak.
    let longest = world.issue(signed, signed + Authority::MAX_CREDENTIAL_LIFETIME, signed);
    world.authority.mark_compromised(&kid, leak).unwrap();
    for when in [
        lunch(),
        lunch() + Duration::days(400),
        signed + Authority::MAX_CREDENTIAL_LIFETIME - Duration::minutes(2),
    ] {
        world.sync(when);
        let text = world.wallet.presentation(&longest, when).unwrap().text;
        assert!(world.verdict(&text, when).is_valid(), "at {when}");
        let text = world.show(when);
        let verdict = world.verdict(&text, when);
        assert!(
            verdict.is_valid() || verdict.reason() == Some(Reason::Expired),
            "{verdict:?}"
        );
    }
}

#[test]
fn a_wallet_refuses_to_import_a_forgery_beyond_the_key_bound() {
    let world = World::new();
    let kid = world.authority.issuer_keys().unwrap()[0].kid;
    let trust_bytes = world
        .authority
        .trust_list(lunch(), Duration::hours(24))
        .unwrap();
    let trust = TrustList::verify(&trust_bytes, &world.authority.root_public_key()).unwrap();
    let key = stolen_key(&world, &kid);
    let forged = forge(
        &world,
        &key,
        lunch() - Duration::hours(1),
        at("2200-01-01T00:00:00Z"),
    );
    assert!(matches!(
        import(&world, forged, Some(&trust)),
        Err(Error::Rejected(Reason::ExpiryBeyondIssuerKey))
    ));
    // The same key within its bound imports.
    let within = forge(
        &world,
        &key,
        lunch() - Duration::hours(1),
        lunch() + Duration::days(30),
    );
    assert!(import(&world, within, Some(&trust)).is_ok());
}

#[test]
fn the_trust_list_bounds_each_key_and_the_authority_never_issues_beyond_it() {
    let world = World::new();
    let now = lunch();
    let too_long = world.authority.issue(
        &three_doses(),
        world.wallet.device_key(),
        now,
        now + Authority::MAX_CREDENTIAL_LIFETIME + Duration::seconds(1),
        now,
    );
    assert!(matches!(too_long, Err(Error::InvalidArgument(_))));
    let first = world.authority.issuer_keys().unwrap()[0].clone();
    assert_eq!(
        first.expires_by,
        first.not_after + Authority::MAX_CREDENTIAL_LIFETIME
    );
    // Rotating ends the key's signing, and with it the bound; a leak ends it earlier still.
    let rotated_at = now - Duration::days(3);
    world.authority.rotate_issuer_key(rotated_at).unwrap();
    let leak = now - Duration::days(5);
    world.authority.mark_compromised(&first.kid, leak).unwrap();
    let bytes = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let trust = TrustList::verify(&bytes, &world.authority.root_public_key()).unwrap();
    let key = trust.key(&first.kid).unwrap();
    assert_eq!(key.expires_by, leak + Authority::MAX_CREDENTIAL_LIFETIME);
}
