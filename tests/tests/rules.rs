//! The verifier judges by the signed rules list it holds, never by rules compiled in: a rule change
//! reaches it as a list (applied with the trust list's guarantees), a dated rule set switches on
//! its day offline, the shop's venue mode is a stored setting, and every verdict says which rules
//! decided.

use chrono::{DateTime, Duration, Utc};
use vaxpass::*;
use vaxpass_tests::*;

/// 김민준 with two doses, the second on 2021-06-22: day 174 at lunch on 2021-12-13.
fn two_doses() -> PassData {
    let dose = |n, date| {
        Event::Vaccination(Vaccination {
            product: Product::Comirnaty,
            dose: n,
            of: 2,
            date: day(date),
        })
    };
    PassData {
        events: vec![dose(1, "2021-06-01"), dose(2, "2021-06-22")],
        ..three_doses()
    }
}

/// The Korean set taking effect on `date`, with `primary_valid_days` and these modes (`true`:
/// exempt, else a pass with any kind of event).
fn set(date: &str, primary_valid_days: i64, modes: &[(&str, bool)]) -> RuleSet {
    let mut set = RuleSet::korea_2022_standing();
    set.takes_effect = day(date);
    if let Some(v) = set.policy.vaccination.as_mut() {
        v.primary_valid_days = Some(primary_valid_days);
    }
    set.modes = modes
        .iter()
        .map(|&(name, exempt)| VenueMode {
            name: name.into(),
            rule: if exempt {
                ModeRule::Exempt
            } else {
                ModeRule::Pass(vec![
                    EventKind::Vaccination,
                    EventKind::Test,
                    EventKind::Recovery,
                ])
            },
        })
        .collect();
    set
}

const CAFE: &[(&str, bool)] = &[("restaurant_cafe", false), ("exempt", true)];

fn signed(world: &World, sets: Vec<RuleSet>, now: DateTime<Utc>) -> Vec<u8> {
    world
        .authority
        .rules_list_of(sets, now, Duration::hours(24))
        .unwrap()
}

fn stored_rules(world: &World) -> Option<Vec<u8>> {
    let conn = rusqlite::Connection::open(world.dir.path().join("verifier.sqlite")).unwrap();
    conn.query_row("SELECT signed FROM lists WHERE kind = 'rules'", [], |r| {
        r.get(0)
    })
    .ok()
}

fn reopen(world: &World, config: VerifierConfig) -> Result<Verifier> {
    Verifier::open(
        world.dir.path().join("verifier.sqlite"),
        world.authority.root_public_key(),
        config,
    )
}

/// The shop takes fresh trust and revocation lists at `now`, and no rules list.
fn sync_trust_and_revocations(world: &World, now: DateTime<Utc>) {
    let day = Duration::hours(24);
    let trust = world.authority.trust_list(now, day).unwrap();
    world.verifier.apply_trust_list(&trust, now).unwrap();
    let revocations = world.authority.revocation_list(now, day).unwrap();
    world
        .verifier
        .apply_revocation_list(&revocations, now)
        .unwrap();
}

/// A world whose verifier has the trust and revocation lists but has never had a rules list.
fn world_without_rules() -> (World, Verifier) {
    let world = World::with(VerifierConfig::default(), two_doses());
    let now = lunch() - Duration::hours(1);
    let shop = Verifier::open(
        world.dir.path().join("shop.sqlite"),
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap();
    shop.apply_trust_list(
        &world
            .authority
            .trust_list(now, Duration::hours(24))
            .unwrap(),
        now,
    )
    .unwrap();
    shop.apply_revocation_list(
        &world
            .authority
            .revocation_list(now, Duration::hours(24))
            .unwrap(),
        now,
    )
    .unwrap();
    (world, shop)
}

#[test]
fn without_a_rules_list_no_pass_is_valid() {
    let (world, shop) = world_without_rules();
    let verdict = shop.verify(&world.show(lunch()), lunch()).unwrap();
    assert_eq!(verdict.reason(), Some(Reason::NoRulesList));
    assert_eq!(verdict.rules(), None);
    assert_eq!(shop.freshness(lunch()).state, FreshnessState::CannotVerify);
    assert_eq!(shop.freshness(lunch()).rules_list, None);
}

#[test]
fn an_offline_default_the_app_ships_is_judged_by_until_a_list_is_applied() {
    let (world, _) = world_without_rules();
    let bundled = signed(
        &world,
        vec![set("2021-12-01", 180, CAFE)],
        lunch() - Duration::days(5),
    );
    let config = VerifierConfig {
        offline_rules: Some(bundled),
        ..VerifierConfig::default()
    };
    let shop = Verifier::open(
        world.dir.path().join("fresh-install.sqlite"),
        world.authority.root_public_key(),
        config,
    )
    .unwrap();
    let now = lunch() - Duration::hours(1);
    shop.apply_trust_list(
        &world
            .authority
            .trust_list(now, Duration::hours(24))
            .unwrap(),
        now,
    )
    .unwrap();
    let verdict = shop.verify(&world.show(lunch()), lunch()).unwrap();
    let (_, _) = admitted(&verdict);
    let rules = verdict.rules().unwrap();
    assert!(rules.offline_default);
    assert_eq!(shop.freshness(lunch()).rules_list, None);
    // A list applied takes over from the default.
    let list = signed(&world, vec![set("2021-12-01", 90, CAFE)], now);
    shop.apply_rules_list(&list, now).unwrap();
    let verdict = shop.verify(&world.show(lunch()), lunch()).unwrap();
    assert!(!verdict.rules().unwrap().offline_default);
    assert!(!verdict.is_valid());

    // A default not signed by the root is refused when the verifier opens.
    let other =
        LocalAuthority::create(world.dir.path().join("other.sqlite"), "KR", lunch()).unwrap();
    let forged = VerifierConfig {
        offline_rules: Some(other.rules_list(lunch(), Duration::hours(24)).unwrap()),
        ..VerifierConfig::default()
    };
    assert!(matches!(
        reopen(&world, forged),
        Err(Error::BadSignature(_))
    ));
}

#[test]
fn a_rules_update_changes_the_verdict_and_the_verdict_names_the_rule_with_its_numbers() {
    let world = World::with(VerifierConfig::default(), two_doses());
    let now = lunch() - Duration::minutes(30);
    let before = world.verdict(&world.show(lunch()), lunch());
    admitted(&before);
    let first = before.rules().unwrap().clone();
    assert_eq!(first.mode, "restaurant_cafe");
    // Day 174 after the second dose: a 90-day limit ends the pass, and the verdict says so.
    let applied = world
        .verifier
        .apply_rules_list(&signed(&world, vec![set("2021-12-01", 90, CAFE)], now), now)
        .unwrap();
    let Applied::Updated { sequence } = applied else {
        panic!("{applied:?}");
    };
    let after = world.verdict(&world.show(lunch()), lunch());
    assert_eq!(
        after.reason(),
        Some(Reason::PolicyNotMet(PolicyRule::VaccinationExpired))
    );
    let rules = after.rules().unwrap();
    assert_eq!(rules.sequence, sequence);
    assert!(rules.sequence > first.sequence);
    assert_eq!(rules.takes_effect, day("2021-12-01"));
    assert_eq!(rules.mode, "restaurant_cafe");
    assert_eq!(
        after.policy_rule_text().as_deref(),
        Some("primary series older than 90 days, no booster")
    );
}

#[test]
fn a_dated_rule_set_in_the_list_switches_at_midnight_kst_with_no_network() {
    let world = World::with(VerifierConfig::default(), two_doses());
    // Signed on 31 December: the 3 January set (a 180-day limit, where day 195 of the second
    // dose is past it) is carried ahead of time, with no limit before it.
    let signed_at: DateTime<Utc> = at("2021-12-31T10:00:00+09:00");
    let list = signed(
        &world,
        vec![set("2021-12-13", 3650, CAFE), set("2022-01-03", 180, CAFE)],
        signed_at,
    );
    sync_trust_and_revocations(&world, signed_at);
    world.verifier.apply_rules_list(&list, signed_at).unwrap();
    let just_before = at("2022-01-02T23:59:30+09:00");
    let just_after = at("2022-01-03T00:00:30+09:00");
    let shown = world.wallet.presentation(&world.pass, just_before).unwrap();
    let before = world.verdict(&shown.text, just_before);
    assert!(before.is_valid(), "{:?}", before.reason());
    assert_eq!(before.rules().unwrap().takes_effect, day("2021-12-13"));
    let shown = world.wallet.presentation(&world.pass, just_after).unwrap();
    let after = world.verdict(&shown.text, just_after);
    assert_eq!(
        after.reason(),
        Some(Reason::PolicyNotMet(PolicyRule::VaccinationExpired))
    );
    assert_eq!(after.rules().unwrap().takes_effect, day("2022-01-03"));
}

#[test]
fn before_the_first_rule_set_takes_effect_nothing_is_valid() {
    let world = World::new();
    let now = lunch() - Duration::minutes(30);
    let list = signed(&world, vec![set("2021-12-14", 180, CAFE)], now);
    world.verifier.apply_rules_list(&list, now).unwrap();
    let verdict = world.verdict(&world.show(lunch()), lunch());
    assert_eq!(verdict.reason(), Some(Reason::NoRulesInForce));
}

#[test]
fn the_venue_mode_is_a_stored_setting_and_an_unknown_one_is_refused() {
    let world = World::new();
    let now = lunch() - Duration::minutes(30);
    // Large stores join the list on 10 January; they are a mode the held rules know.
    let list_sets = || {
        vec![
            set("2021-12-01", 180, CAFE),
            set(
                "2022-01-10",
                180,
                &[
                    ("restaurant_cafe", false),
                    ("large_store", false),
                    ("exempt", true),
                ],
            ),
        ]
    };
    let list = signed(&world, list_sets(), now);
    world.verifier.apply_rules_list(&list, now).unwrap();
    assert_eq!(world.verifier.venue_mode(), None);
    assert_eq!(
        world.verifier.venue_modes(lunch()),
        ["restaurant_cafe", "exempt"]
    );
    assert!(matches!(
        world.verifier.set_venue_mode("sauna"),
        Err(Error::NotFound(_))
    ));
    assert_eq!(world.verifier.venue_mode(), None);

    world.verifier.set_venue_mode("large_store").unwrap();
    let verdict = world.verdict(&world.show(lunch()), lunch());
    assert_eq!(verdict.reason(), Some(Reason::VenueModeNotInRules));
    assert_eq!(verdict.rules().unwrap().mode, "large_store");
    // On 10 January, with the lists (the rules list among them) synced that morning.
    let on_the_tenth = at("2022-01-10T12:00:00+09:00");
    let morning = on_the_tenth - Duration::hours(3);
    sync_trust_and_revocations(&world, morning);
    let resigned = signed(&world, list_sets(), morning);
    world.verifier.apply_rules_list(&resigned, morning).unwrap();
    let shown = world
        .wallet
        .presentation(&world.pass, on_the_tenth)
        .unwrap();
    let verdict = world.verdict(&shown.text, on_the_tenth);
    assert!(verdict.is_valid(), "{:?}", verdict.reason());
    assert_eq!(verdict.rules().unwrap().mode, "large_store");

    // The mode survives a restart.
    let reopened = reopen(&world, VerifierConfig::default()).unwrap();
    assert_eq!(reopened.venue_mode().as_deref(), Some("large_store"));
}

#[test]
fn an_exempt_mode_says_no_pass_is_needed_and_reads_nothing() {
    let world = World::new();
    world.verifier.set_venue_mode("exempt").unwrap();
    let verdict = world.verdict("not a pass at all", lunch());
    let Verdict::Exempt { rules, .. } = &verdict else {
        panic!("{verdict:?}");
    };
    assert_eq!(rules.mode, "exempt");
    assert!(!verdict.is_valid());
    assert_eq!(verdict.reason(), None);
}

#[test]
fn a_bad_rules_list_changes_nothing_stored_nor_the_verdict() {
    // The same pass is verified again after each bad list to compare whole verdicts: no
    // "seen recently" warning between them.
    let no_seen_window = VerifierConfig {
        seen_window: Duration::zero(),
        ..VerifierConfig::default()
    };
    let world = World::with(no_seen_window, two_doses());
    let now = lunch() - Duration::minutes(30);
    let good = signed(&world, vec![set("2021-12-01", 180, CAFE)], now);
    world.verifier.apply_rules_list(&good, now).unwrap();
    let held = stored_rules(&world).unwrap();
    let verdict = world.verdict(&world.show(lunch()), lunch());
    admitted(&verdict);

    let limited = || vec![set("2021-12-01", 90, CAFE)];
    let other = LocalAuthority::create(world.dir.path().join("other.sqlite"), "KR", now).unwrap();
    let by_other = other
        .rules_list_of(limited(), now, Duration::hours(24))
        .unwrap();
    let mut flipped = signed(&world, limited(), now);
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    // The same sequence as the held list, other content.
    let sequence = RulesList::verify(&good, &world.authority.root_public_key())
        .unwrap()
        .sequence;
    let list_of = |sequence, sets| {
        world
            .authority
            .signer()
            .sign_rules_list(sequence, sets, now, Duration::hours(24))
            .unwrap()
    };
    let equivocating = list_of(sequence, limited());
    let older = list_of(sequence - 1, limited());
    let from_the_future = world
        .authority
        .signer()
        .sign_rules_list(
            sequence + 1,
            limited(),
            lunch() + Duration::days(1),
            Duration::hours(24),
        )
        .unwrap();
    type Case = (&'static str, Vec<u8>, fn(&Error) -> bool);
    let cases: Vec<Case> = vec![
        ("signed by another root", by_other, |e| {
            matches!(e, Error::BadSignature(_))
        }),
        ("a flipped bit", flipped, |e| {
            matches!(e, Error::BadSignature(_))
        }),
        ("equivocating", equivocating, |e| {
            matches!(e, Error::Equivocation(_))
        }),
        ("older", older, |e| matches!(e, Error::Rollback { .. })),
        ("from the future", from_the_future, |e| {
            matches!(e, Error::FromTheFuture(_))
        }),
        ("not a list", b"VP1:not a list".to_vec(), |e| {
            matches!(e, Error::Malformed { .. })
        }),
        ("empty", vec![], |e| matches!(e, Error::Malformed { .. })),
    ];
    for (name, bytes, expected) in cases {
        let error = world
            .verifier
            .apply_rules_list(&bytes, lunch())
            .unwrap_err();
        assert!(expected(&error), "{name}: {error}");
        assert_eq!(stored_rules(&world).unwrap(), held, "{name}");
        assert_eq!(
            world.verdict(&world.show(lunch()), lunch()),
            verdict,
            "{name}"
        );
    }
    // Through the fetch path too, with its ETag unchanged.
    let mut backoff = Backoff::default();
    let etag_before = world.verifier.list_etag(ListKind::Rules).unwrap();
    let refused = world.verifier.apply_fetched(
        ListKind::Rules,
        HttpResponse {
            status: 200,
            etag: Some("\"forged\""),
            retry_after: None,
            body: &list_of(sequence, limited()),
        },
        &mut backoff,
        lunch(),
    );
    assert!(matches!(refused, Err(Error::Equivocation(_))));
    assert_eq!(
        world.verifier.list_etag(ListKind::Rules).unwrap(),
        etag_before
    );
    assert_eq!(stored_rules(&world).unwrap(), held);
}

#[test]
fn a_rules_list_in_a_newer_format_changes_nothing_and_asks_for_an_update() {
    let world = World::new();
    let held = stored_rules(&world).unwrap();
    // Version 2 in the payload, signed by the genuine root through the vault.
    let newer = RulesList {
        sequence: 99,
        issued_at: lunch() - Duration::minutes(5),
        next_update: lunch() + Duration::hours(24),
        rule_sets: vec![RuleSet::korea_2022_standing()],
    };
    let bytes = newer_version_of(&world, &newer);
    let error = world
        .verifier
        .apply_rules_list(&bytes, lunch())
        .unwrap_err();
    assert!(
        matches!(error, Error::RulesTooNew { found: 2, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("update the app"));
    assert_eq!(stored_rules(&world).unwrap(), held);
    admitted(&world.verdict(&world.show(lunch()), lunch()));
}

/// `list` re-encoded with format version 2, signed by the world's root key.
fn newer_version_of(world: &World, list: &RulesList) -> Vec<u8> {
    use coset::CborSerializable;
    let genuine = world
        .authority
        .signer()
        .sign_rules_list(
            list.sequence,
            list.rule_sets.clone(),
            list.issued_at,
            list.next_update - list.issued_at,
        )
        .unwrap();
    let mut sign1 = coset::CoseSign1::from_slice(&genuine).unwrap();
    let mut payload: ciborium::value::Value =
        ciborium::from_reader(sign1.payload.as_deref().unwrap()).unwrap();
    if let ciborium::value::Value::Map(pairs) = &mut payload {
        for (k, v) in pairs.iter_mut() {
            if k.as_integer() == Some(2.into()) {
                *v = 2.into();
            }
        }
    }
    let mut bytes = Vec::new();
    ciborium::into_writer(&payload, &mut bytes).unwrap();
    sign1.payload = Some(bytes);
    let tbs = sign1.tbs_data(&[]);
    let root = world.authority.root_public_key();
    let signature = vaxpass::vault::KeyVault::sign(
        &KeyFile::open(LocalAuthority::key_file_path(
            &world.dir.path().join("authority.sqlite"),
        ))
        .unwrap(),
        &root,
        &tbs,
    )
    .unwrap();
    sign1.signature = signature.to_vec();
    sign1.to_vec().unwrap()
}

#[test]
fn a_damaged_stored_rules_list_fails_closed_until_a_good_one_is_applied() {
    let world = World::new();
    let conn = rusqlite::Connection::open(world.dir.path().join("verifier.sqlite")).unwrap();
    let mut signed_bytes = stored_rules(&world).unwrap();
    let at_end = signed_bytes.len() - 3;
    signed_bytes[at_end] ^= 0x10;
    conn.execute(
        "UPDATE lists SET signed = ?1 WHERE kind = 'rules'",
        [signed_bytes],
    )
    .unwrap();
    let reopened = reopen(&world, VerifierConfig::default()).unwrap();
    assert_eq!(reopened.freshness(lunch()).state, FreshnessState::Damaged);
    let verdict = reopened.verify(&world.show(lunch()), lunch()).unwrap();
    assert_eq!(verdict.reason(), Some(Reason::ListsDamaged));
    let now = lunch() - Duration::minutes(10);
    reopened
        .apply_rules_list(
            &world
                .authority
                .rules_list(now, Duration::hours(24))
                .unwrap(),
            now,
        )
        .unwrap();
    admitted(&reopened.verify(&world.show(lunch()), lunch()).unwrap());
}

#[test]
fn the_rules_list_is_fetched_with_its_etag_and_ages_like_the_others() {
    let world = World::new();
    let now = lunch() - Duration::minutes(10);
    let list = world
        .authority
        .rules_list(now, Duration::hours(24))
        .unwrap();
    let mut backoff = Backoff::default();
    let fetched = world
        .verifier
        .apply_fetched(
            ListKind::Rules,
            HttpResponse {
                status: 200,
                etag: Some("\"r2\""),
                retry_after: None,
                body: &list,
            },
            &mut backoff,
            now,
        )
        .unwrap();
    assert!(matches!(fetched, Fetched::Applied(Applied::Updated { .. })));
    assert_eq!(
        world
            .verifier
            .list_etag(ListKind::Rules)
            .unwrap()
            .as_deref(),
        Some("\"r2\"")
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
            .apply_fetched(ListKind::Rules, not_modified, &mut backoff, now)
            .unwrap(),
        Fetched::NotModified
    );
    assert_eq!(ListKind::Rules.path(), "/v1/rules-list");
    let info = world.verifier.freshness(now).rules_list.unwrap();
    assert_eq!(info.issued_at, now);
    // The other lists synced again a week later; the rules list, not, is too old to rely on.
    let later = now + Duration::days(8);
    let trust = world
        .authority
        .trust_list(later, Duration::hours(24))
        .unwrap();
    world.verifier.apply_trust_list(&trust, later).unwrap();
    let revocations = world
        .authority
        .revocation_list(later, Duration::hours(24))
        .unwrap();
    world
        .verifier
        .apply_revocation_list(&revocations, later)
        .unwrap();
    assert_eq!(
        world.verifier.freshness(later).state,
        FreshnessState::CannotVerify
    );
}
