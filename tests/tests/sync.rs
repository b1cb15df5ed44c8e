//! List sync as the app's HTTP layer sees it: ETags, 304s, Retry-After and backoff; and a
//! verifier store from schema version 1 upgraded in place.

use chrono::Duration;
use vaxpass::*;
use vaxpass_tests::*;

fn ok<'a>(body: &'a [u8], etag: &'a str) -> HttpResponse<'a> {
    HttpResponse {
        status: 200,
        etag: Some(etag),
        retry_after: None,
        body,
    }
}

#[test]
fn a_fetched_list_keeps_its_etag_and_a_304_keeps_the_list() {
    let world = World::new();
    let now = lunch();
    let mut backoff = Backoff::default();
    let trust = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let applied = world
        .verifier
        .apply_fetched(ListKind::Trust, ok(&trust, "\"t1\""), &mut backoff, now)
        .unwrap();
    assert!(matches!(applied, Fetched::Applied(Applied::Updated { .. })));
    assert_eq!(
        world
            .verifier
            .list_etag(ListKind::Trust)
            .unwrap()
            .as_deref(),
        Some("\"t1\"")
    );
    // The same bytes again under a new ETag (another CDN node): unchanged, the new ETag is kept.
    let again = world
        .verifier
        .apply_fetched(ListKind::Trust, ok(&trust, "\"t1b\""), &mut backoff, now)
        .unwrap();
    assert_eq!(again, Fetched::Applied(Applied::Unchanged));
    assert_eq!(
        world
            .verifier
            .list_etag(ListKind::Trust)
            .unwrap()
            .as_deref(),
        Some("\"t1b\"")
    );
    let not_modified = HttpResponse {
        status: 304,
        etag: None,
        retry_after: None,
        body: &[],
    };
    assert_eq!(
        world
            .verifier
            .apply_fetched(ListKind::Trust, not_modified, &mut backoff, now)
            .unwrap(),
        Fetched::NotModified
    );
    assert!(world.verdict(&world.show(now), now).is_valid());
}

#[test]
fn busy_servers_are_retried_later_never_at_once() {
    let world = World::new();
    let now = lunch();
    let mut backoff = Backoff::default();
    let busy = HttpResponse {
        status: 429,
        etag: None,
        retry_after: Some("7"),
        body: b"",
    };
    let Fetched::RetryAfter(wait) = world
        .verifier
        .apply_fetched(ListKind::Revocation, busy, &mut backoff, now)
        .unwrap()
    else {
        panic!("429 must ask for a retry")
    };
    assert!(wait >= Duration::seconds(7), "{wait}");
    let down = HttpResponse {
        status: 503,
        etag: None,
        retry_after: None,
        body: b"",
    };
    for _ in 0..20 {
        let Fetched::RetryAfter(wait) = world
            .verifier
            .apply_fetched(ListKind::Revocation, down, &mut backoff, now)
            .unwrap()
        else {
            panic!("503 must ask for a retry")
        };
        assert!(wait <= Backoff::CAP);
    }
    assert_eq!(backoff.failures(), 21);
    let gone = HttpResponse {
        status: 404,
        etag: None,
        retry_after: None,
        body: b"",
    };
    assert!(matches!(
        world
            .verifier
            .apply_fetched(ListKind::Revocation, gone, &mut backoff, now),
        Err(Error::UnexpectedStatus(404))
    ));
}

#[test]
fn a_refused_list_keeps_the_etag_of_the_list_held() {
    let world = World::new();
    let now = lunch();
    let mut backoff = Backoff::default();
    let older = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let newer = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    world
        .verifier
        .apply_fetched(ListKind::Trust, ok(&newer, "\"new\""), &mut backoff, now)
        .unwrap();
    assert!(matches!(
        world
            .verifier
            .apply_fetched(ListKind::Trust, ok(&older, "\"old\""), &mut backoff, now),
        Err(Error::Rollback { .. })
    ));
    assert_eq!(
        world
            .verifier
            .list_etag(ListKind::Trust)
            .unwrap()
            .as_deref(),
        Some("\"new\"")
    );
}

#[test]
fn a_version_1_verifier_store_upgrades_in_place() {
    let world = World::new();
    let now = lunch();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    let trust = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let list = TrustList::verify(&trust, &world.authority.root_public_key()).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(include_str!("../../core/migrations/verifier/0001_init.sql"))
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO lists (kind, sequence, issued_at, next_update, signed) VALUES ('trust', ?1, ?2, ?3, ?4)",
            rusqlite::params![list.sequence as i64, list.issued_at.timestamp(), list.next_update.timestamp(), trust],
        )
        .unwrap();
    }
    let verifier = Verifier::open(
        &path,
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap();
    assert_eq!(
        verifier.freshness(now).trust_list.unwrap().sequence,
        list.sequence,
        "the v1 list survives"
    );
    assert_eq!(verifier.list_etag(ListKind::Trust).unwrap(), None);
    let version = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    let fresh = dir.path().join("fresh.sqlite");
    Verifier::open(&fresh, [9; 32], VerifierConfig::default()).unwrap();
    assert_eq!(
        version(&path),
        version(&fresh),
        "upgraded to the newest schema"
    );
}

#[test]
fn the_wallet_renews_off_peak_in_the_month_before_expiry() {
    let world = World::new();
    let expires = world.wallet.passes().unwrap()[0].valid_until;
    let at = world.wallet.next_renewal(lunch(), 540).unwrap().unwrap();
    assert!(
        at > expires - Duration::days(31) && at < expires - Duration::days(6),
        "{at}"
    );
    let hour = chrono::Timelike::hour(&(at + Duration::hours(9)));
    assert!((1..5).contains(&hour), "off-peak in Seoul, got {hour}h");
    let empty = Wallet::open(
        world.dir.path().join("empty.sqlite"),
        DeviceKeySource::default(),
    )
    .unwrap();
    assert_eq!(empty.next_renewal(lunch(), 540).unwrap(), None);
}
