//! The verifier's lists at its two untrusted edges: bytes from the network (checked before they
//! are parsed) and its own store (checked on open, failing closed); and list updates racing each
//! other, and a clock behind the lists.

use std::process::Command;
use std::sync::{Arc, Barrier};

use chrono::Duration;
use vaxpass::*;
use vaxpass_tests::*;

fn verifier_path(world: &World) -> std::path::PathBuf {
    world.dir.path().join("verifier.sqlite")
}

fn reopen(world: &World) -> Verifier {
    Verifier::open(
        verifier_path(world),
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap()
}

fn store(world: &World) -> rusqlite::Connection {
    rusqlite::Connection::open(verifier_path(world)).unwrap()
}

/// Flips one bit of the stored list of `kind`, `from_end` bytes before its end.
fn flip_stored_bit(world: &World, kind: &str, from_end: usize) {
    let conn = store(world);
    let mut signed: Vec<u8> = conn
        .query_row("SELECT signed FROM lists WHERE kind = ?1", [kind], |r| {
            r.get(0)
        })
        .unwrap();
    let at = signed.len() - from_end;
    signed[at] ^= 0x10;
    conn.execute(
        "UPDATE lists SET signed = ?2 WHERE kind = ?1",
        rusqlite::params![kind, signed],
    )
    .unwrap();
}

/// A pass besides the world's, revoked and on the verifier's revocation list.
fn revoked_pass(world: &World) -> CredentialId {
    let issued_at = lunch() - Duration::days(3);
    let id = world.issue(issued_at, issued_at + Duration::days(30), issued_at);
    world.authority.revoke(&id, lunch()).unwrap();
    world.sync(lunch());
    id
}

// ---- Hostile bytes from the network ----

/// The largest input each list accepts, filled with an unsigned CBOR array of zeros: what a
/// hostile CDN would serve. Decoding it as a CBOR tree takes about 34 bytes per input byte.
fn hostile_array(len: usize) -> Vec<u8> {
    let mut bytes = vec![0x9a];
    bytes.extend_from_slice(&((len - 5) as u32).to_be_bytes());
    bytes.resize(len, 0);
    bytes
}

/// Child side: applies a hostile list in a process whose data memory is capped.
fn apply_hostile(kind: &str) {
    let world = World::new();
    let now = lunch();
    let refused = match kind {
        "trust" => world
            .verifier
            .apply_trust_list(&hostile_array(lists::MAX_TRUST_LIST_BYTES), now),
        _ => world
            .verifier
            .apply_revocation_list(&hostile_array(lists::MAX_REVOCATION_LIST_BYTES), now),
    };
    assert!(
        matches!(refused, Err(Error::Malformed { .. })),
        "{refused:?}"
    );
    assert!(world.verdict(&world.show(now), now).is_valid());
    println!("REFUSED");
}

#[test]
fn hostile_list_bytes_are_refused_before_they_are_decoded() {
    if let Ok(kind) = std::env::var("VAXPASS_HOSTILE_CHILD") {
        return apply_hostile(&kind);
    }
    // Data memory (heap and anonymous mappings) capped at twice the input plus 64 MiB, above
    // the world's own needs: decoding the unsigned bytes into a tree would take far more.
    for (kind, input) in [
        ("trust", lists::MAX_TRUST_LIST_BYTES),
        ("revocation", lists::MAX_REVOCATION_LIST_BYTES),
    ] {
        let cap_kib = (2 * input + (64 << 20)) / 1024;
        let output = Command::new("sh")
            .args(["-c", &format!("ulimit -d {cap_kib} && exec \"$0\" \"$@\"")])
            .arg(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "hostile_list_bytes_are_refused_before_they_are_decoded",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("VAXPASS_HOSTILE_CHILD", kind)
            .env("MALLOC_ARENA_MAX", "1")
            .output()
            .unwrap();
        assert!(
            output.status.success() && String::from_utf8_lossy(&output.stdout).contains("REFUSED"),
            "{kind} list of {input} bytes: {:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_list_envelope_has_exactly_one_encoding() {
    let world = World::new();
    let now = lunch();
    let good = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let mut trailing = good.clone();
    trailing.push(0);
    let mut tagged = vec![0xd2];
    tagged.extend_from_slice(&good);
    let mut indefinite = good.clone();
    indefinite[0] = 0x9f;
    indefinite.push(0xff);
    // The array head of 4 written in two bytes.
    let mut long_head = vec![0x98, 0x04];
    long_head.extend_from_slice(&good[1..]);
    for (name, bytes) in [
        ("trailing byte", trailing),
        ("tagged", tagged),
        ("indefinite array", indefinite),
        ("long head", long_head),
        ("empty", Vec::new()),
    ] {
        assert!(
            matches!(
                world.verifier.apply_trust_list(&bytes, now),
                Err(Error::Malformed { .. })
            ),
            "{name}"
        );
    }
    assert!(world.verifier.apply_trust_list(&good, now).is_ok());
}

// ---- The verifier's own store ----

#[test]
fn a_flipped_bit_in_the_stored_revocation_list_never_yields_valid_nor_lets_an_older_list_in() {
    let world = World::new();
    let revoked = revoked_pass(&world);
    let older = world
        .authority
        .revocation_list(lunch(), Duration::hours(24))
        .unwrap();
    let held = world
        .authority
        .revocation_list(lunch(), Duration::hours(24))
        .unwrap();
    world
        .verifier
        .apply_revocation_list(&held, lunch())
        .unwrap();
    // The last byte of the entries: the signature (2 + 64 bytes) follows.
    flip_stored_bit(&world, "revocation", 67);
    let verifier = reopen(&world);
    assert_eq!(verifier.freshness(lunch()).state, FreshnessState::Damaged);
    let verdict = verifier.verify(&world.show(lunch()), lunch()).unwrap();
    assert_eq!(verdict.reason(), Some(Reason::ListsDamaged));
    assert!(matches!(
        verifier.apply_revocation_list(&older, lunch()),
        Err(Error::Rollback { .. })
    ));
    // The good list again repairs it.
    assert_eq!(
        verifier.apply_revocation_list(&held, lunch()).unwrap(),
        Applied::Unchanged
    );
    assert!(verifier
        .verify(&world.show(lunch()), lunch())
        .unwrap()
        .is_valid());
    let text = world.wallet.presentation(&revoked, lunch()).unwrap().text;
    assert_eq!(
        verifier.verify(&text, lunch()).unwrap().reason(),
        Some(Reason::Revoked)
    );
    assert_eq!(
        reopen(&world).freshness(lunch()).state,
        FreshnessState::Fresh
    );
}

#[test]
fn a_flipped_bit_in_the_stored_trust_list_never_yields_valid_nor_lets_an_older_list_in() {
    let world = World::new();
    let older = world
        .authority
        .trust_list(lunch(), Duration::hours(24))
        .unwrap();
    let held = world
        .authority
        .trust_list(lunch(), Duration::hours(24))
        .unwrap();
    world.verifier.apply_trust_list(&held, lunch()).unwrap();
    flip_stored_bit(&world, "trust", 10);
    let verifier = reopen(&world);
    assert_eq!(verifier.freshness(lunch()).state, FreshnessState::Damaged);
    assert_eq!(
        verifier
            .verify(&world.show(lunch()), lunch())
            .unwrap()
            .reason(),
        Some(Reason::ListsDamaged)
    );
    assert!(matches!(
        verifier.apply_trust_list(&older, lunch()),
        Err(Error::Rollback { .. })
    ));
    assert_eq!(
        verifier.apply_trust_list(&held, lunch()).unwrap(),
        Applied::Unchanged
    );
    assert!(verifier
        .verify(&world.show(lunch()), lunch())
        .unwrap()
        .is_valid());
}

#[test]
fn revocation_entries_deleted_or_changed_in_the_store_are_caught_on_open() {
    for tamper in [
        "DELETE FROM revoked",
        "UPDATE revoked SET entry = zeroblob(16)",
        "INSERT INTO revoked (entry) VALUES (zeroblob(16))",
        "DELETE FROM lists WHERE kind = 'revocation'",
    ] {
        let world = World::new();
        let revoked = revoked_pass(&world);
        let text = world.wallet.presentation(&revoked, lunch()).unwrap().text;
        store(&world).execute(tamper, []).unwrap();
        let verifier = reopen(&world);
        assert_eq!(
            verifier.verify(&text, lunch()).unwrap().reason(),
            Some(Reason::ListsDamaged),
            "{tamper}"
        );
        assert_eq!(
            verifier
                .verify(&world.show(lunch()), lunch())
                .unwrap()
                .reason(),
            Some(Reason::ListsDamaged),
            "{tamper}"
        );
        // The next list puts it right.
        let list = world
            .authority
            .revocation_list(lunch(), Duration::hours(24))
            .unwrap();
        verifier.apply_revocation_list(&list, lunch()).unwrap();
        assert_eq!(
            verifier.verify(&text, lunch()).unwrap().reason(),
            Some(Reason::Revoked),
            "{tamper}"
        );
        assert!(verifier
            .verify(&world.show(lunch()), lunch())
            .unwrap()
            .is_valid());
    }
}

#[test]
fn a_zeroed_sequence_column_does_not_let_an_older_list_in() {
    let world = World::new();
    let now = lunch();
    let older_trust = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    let older_revocations = world
        .authority
        .revocation_list(now, Duration::hours(24))
        .unwrap();
    world.sync(now);
    store(&world)
        .execute("UPDATE lists SET sequence = 0", [])
        .unwrap();
    for verifier in [&world.verifier, &reopen(&world)] {
        assert!(matches!(
            verifier.apply_trust_list(&older_trust, now),
            Err(Error::Rollback { .. })
        ));
        assert!(matches!(
            verifier.apply_revocation_list(&older_revocations, now),
            Err(Error::Rollback { .. })
        ));
        assert!(verifier.verify(&world.show(now), now).unwrap().is_valid());
    }
}

// ---- Updates racing each other ----

#[test]
fn offering_the_stored_list_again_repairs_a_verifier_holding_an_older_one() {
    let world = World::new();
    let now = lunch();
    // Two verifiers on one store; the other one takes the newer list first.
    let other = reopen(&world);
    let newer = world
        .authority
        .trust_list(now, Duration::hours(24))
        .unwrap();
    other.apply_trust_list(&newer, now).unwrap();
    let stored = other.freshness(now).trust_list.unwrap();
    assert_eq!(
        world.verifier.apply_trust_list(&newer, now).unwrap(),
        Applied::Unchanged
    );
    assert_eq!(world.verifier.freshness(now).trust_list.unwrap(), stored);
}

#[test]
fn racing_list_updates_never_leave_memory_older_than_the_store() {
    let world = World::new();
    let now = lunch();
    let verifier = Arc::new(reopen(&world));
    for round in 0..300 {
        let lists: Vec<Vec<u8>> = (0..2)
            .map(|_| {
                world
                    .authority
                    .trust_list(now, Duration::hours(24))
                    .unwrap()
            })
            .collect();
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = lists
            .into_iter()
            .map(|list| {
                let (verifier, barrier) = (verifier.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // The older one may be refused as a rollback; nothing else may happen.
                    match verifier.apply_trust_list(&list, now) {
                        Ok(_) | Err(Error::Rollback { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let stored: i64 = store(&world)
            .query_row("SELECT sequence FROM lists WHERE kind = 'trust'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let held = verifier.freshness(now).trust_list.unwrap().sequence;
        assert_eq!(held, stored as u64, "round {round}");
    }
}

// ---- The clock ----

#[test]
fn a_verifier_whose_clock_is_behind_its_lists_says_so_and_never_valid() {
    let world = World::new();
    // A pass that expired two days ago, and a shop whose clock was set back ten days.
    let issued_at = lunch() - Duration::days(12);
    let expired = world.issue(issued_at, lunch() - Duration::days(2), issued_at);
    world.sync(lunch());
    let behind = lunch() - Duration::days(10);
    assert_eq!(
        world.verifier.freshness(behind).state,
        FreshnessState::ClockBehind
    );
    let text = world.wallet.presentation(&expired, behind).unwrap().text;
    assert_eq!(
        world.verdict(&text, behind).reason(),
        Some(Reason::ClockBehind)
    );
    // Within the leeway it is only a clock difference.
    let config = VerifierConfig::default();
    let close = lunch() - config.clock_leeway;
    assert_eq!(world.verifier.freshness(close).state, FreshnessState::Fresh);
    assert!(world.verdict(&world.show(close), close).is_valid());
    // Set right, the expired pass is expired.
    let text = world.wallet.presentation(&expired, lunch()).unwrap().text;
    assert_eq!(
        world.verdict(&text, lunch()).reason(),
        Some(Reason::Expired)
    );
}

#[test]
fn a_list_valid_past_the_end_of_the_calendar_is_refused_not_a_panic() {
    let world = World::new();
    for valid_for in [Duration::MAX, Duration::days(365 * 300_000)] {
        assert!(matches!(
            world.authority.trust_list(lunch(), valid_for),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            world.authority.revocation_list(lunch(), valid_for),
            Err(Error::InvalidArgument(_))
        ));
    }
}
