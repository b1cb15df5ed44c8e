//! The citizen's answer to "when does my pass work?": the wallet keeps the rules list it last saw
//! (with the verifier's guarantees) and says valid now (until when), valid from a date, or not
//! valid and why, counting the rule sets the list already carries for later dates.

use chrono::{DateTime, Duration, Utc};
use vaxpass::*;
use vaxpass_tests::*;

fn dose(n: u8, date: &str) -> Event {
    Event::Vaccination(Vaccination {
        product: Product::Comirnaty,
        dose: n,
        of: 2,
        date: day(date),
    })
}

fn pass(events: Vec<Event>) -> PassData {
    PassData {
        events,
        ..three_doses()
    }
}

/// 00:00 KST of `date`.
fn midnight_kst(date: &str) -> DateTime<Utc> {
    at(&format!("{date}T00:00:00+09:00"))
}

/// The world's wallet holding a rules list of `sets`.
fn wallet_with(events: Vec<Event>, sets: Vec<RuleSet>) -> World {
    let world = World::with(VerifierConfig::default(), pass(events));
    let list = world
        .authority
        .rules_list_of(sets, lunch() - Duration::hours(1), Duration::hours(24))
        .unwrap();
    world
        .wallet
        .apply_rules_list(&list, &world.authority.root_public_key())
        .unwrap();
    world
}

fn limited(date: &str, primary_valid_days: Option<i64>) -> RuleSet {
    let mut set = RuleSet::korea_2022_standing();
    set.takes_effect = day(date);
    if let Some(v) = set.policy.vaccination.as_mut() {
        v.primary_valid_days = primary_valid_days;
    }
    set
}

#[test]
fn a_pass_in_its_fourteen_day_wait_is_valid_from_day_fourteen_until_day_one_hundred_eighty() {
    // Second dose on 1 December: day 12 at lunch on 13 December.
    let world = wallet_with(
        vec![dose(1, "2021-11-10"), dose(2, "2021-12-01")],
        vec![RuleSet::korea_2022_standing()],
    );
    let status = world
        .wallet
        .pass_status(&world.pass, None, lunch())
        .unwrap();
    assert_eq!(
        status,
        PassStatus::ValidFrom {
            from: midnight_kst("2021-12-15"),
            until: Some(midnight_kst("2022-05-31")),
        }
    );
}

#[test]
fn a_pass_valid_today_whose_rules_change_on_3_january_is_valid_until_3_january() {
    // Second dose on 22 June: day 174 at lunch; no limit until 3 January, then 180 days.
    let world = wallet_with(
        vec![dose(1, "2021-06-01"), dose(2, "2021-06-22")],
        vec![
            limited("2021-12-01", None),
            limited("2022-01-03", Some(180)),
        ],
    );
    let status = world
        .wallet
        .pass_status(&world.pass, Some("restaurant_cafe"), lunch())
        .unwrap();
    assert_eq!(
        status,
        PassStatus::ValidNow {
            until: Some(midnight_kst("2022-01-03"))
        }
    );
    // With one rule set of 180 days the limit is the pass's own day 181.
    let world = wallet_with(
        vec![dose(1, "2021-06-01"), dose(2, "2021-06-22")],
        vec![limited("2021-12-01", Some(180))],
    );
    assert_eq!(
        world
            .wallet
            .pass_status(&world.pass, None, lunch())
            .unwrap(),
        PassStatus::ValidNow {
            until: Some(midnight_kst("2021-12-20"))
        }
    );
}

#[test]
fn a_pass_that_never_meets_the_rules_says_why_in_numbers() {
    let world = wallet_with(
        vec![dose(1, "2021-01-01"), dose(2, "2021-01-22")],
        vec![limited("2021-12-01", Some(180))],
    );
    let status = world
        .wallet
        .pass_status(&world.pass, None, lunch())
        .unwrap();
    assert_eq!(
        status,
        PassStatus::NotValid {
            reason: Reason::PolicyNotMet(PolicyRule::VaccinationExpired),
            rule_text: Some("primary series older than 180 days, no booster".into()),
        }
    );
    // An exempt venue needs nothing: valid until the credential itself ends.
    let exempt = world
        .wallet
        .pass_status(&world.pass, Some("exempt"), lunch())
        .unwrap();
    let expires = world.wallet.passes().unwrap()[0].valid_until;
    assert_eq!(
        exempt,
        PassStatus::ValidNow {
            until: Some(expires)
        }
    );
}

#[test]
fn a_pcr_test_is_valid_from_its_credential_until_its_window_ends() {
    // Sampled twelve hours before the credential was issued (the world issues at lunch - 10 days).
    let issued = lunch() - Duration::days(10);
    let sampled = issued - Duration::hours(12);
    let test = Event::Test(TestResult {
        test_type: TestType::Pcr,
        outcome: TestOutcome::Negative,
        sampled_at: sampled,
    });
    let world = wallet_with(vec![test], vec![RuleSet::korea_2022_standing()]);
    let end = sampled + Duration::hours(48) + Duration::seconds(1);
    assert_eq!(
        world
            .wallet
            .pass_status(&world.pass, None, sampled + Duration::hours(6))
            .unwrap(),
        PassStatus::ValidFrom {
            from: issued,
            until: Some(end)
        }
    );
    assert_eq!(
        world
            .wallet
            .pass_status(&world.pass, None, issued + Duration::hours(1))
            .unwrap(),
        PassStatus::ValidNow { until: Some(end) }
    );
}

#[test]
fn without_a_rules_list_the_wallet_does_not_say_valid() {
    let world = World::new();
    assert_eq!(
        world
            .wallet
            .pass_status(&world.pass, None, lunch())
            .unwrap(),
        PassStatus::NotValid {
            reason: Reason::NoRulesList,
            rule_text: None
        }
    );
}

#[test]
fn the_wallet_refuses_older_equivocating_and_forged_rules_lists_and_keeps_its_own() {
    let world = wallet_with(
        vec![dose(1, "2021-06-01"), dose(2, "2021-06-22")],
        vec![limited("2021-12-01", None)],
    );
    let root = world.authority.root_public_key();
    let held = world.wallet.rules_list().unwrap().unwrap();
    let before = world
        .wallet
        .pass_status(&world.pass, None, lunch())
        .unwrap();
    let now = lunch() - Duration::minutes(30);
    let signer = world.authority.signer();
    let sign = |sequence| {
        signer
            .sign_rules_list(
                sequence,
                vec![limited("2021-12-01", Some(30))],
                now,
                Duration::hours(24),
            )
            .unwrap()
    };
    let other = LocalAuthority::create(world.dir.path().join("other.sqlite"), "KR", now).unwrap();
    let forged = other
        .rules_list_of(
            vec![limited("2021-12-01", Some(30))],
            now,
            Duration::hours(24),
        )
        .unwrap();
    assert!(matches!(
        world
            .wallet
            .apply_rules_list(&sign(held.sequence - 1), &root),
        Err(Error::Rollback { .. })
    ));
    assert!(matches!(
        world.wallet.apply_rules_list(&sign(held.sequence), &root),
        Err(Error::Equivocation(_))
    ));
    assert!(matches!(
        world.wallet.apply_rules_list(&forged, &root),
        Err(Error::BadSignature(_))
    ));
    assert_eq!(world.wallet.rules_list().unwrap().unwrap(), held);
    assert_eq!(
        world
            .wallet
            .pass_status(&world.pass, None, lunch())
            .unwrap(),
        before
    );

    // A newer one, fetched with its ETag, changes the answer and survives a reopen.
    let mut backoff = Backoff::default();
    let fetched = world
        .wallet
        .apply_fetched(
            ListKind::Rules,
            HttpResponse {
                status: 200,
                etag: Some("\"w1\""),
                retry_after: None,
                body: &sign(held.sequence + 1),
            },
            &root,
            &mut backoff,
            now,
        )
        .unwrap();
    assert!(matches!(fetched, Fetched::Applied(Applied::Updated { .. })));
    assert_eq!(
        world.wallet.list_etag(ListKind::Rules).unwrap().as_deref(),
        Some("\"w1\"")
    );
    let reopened = Wallet::open(
        world.dir.path().join("wallet.sqlite"),
        DeviceKeySource::default(),
    )
    .unwrap();
    assert!(matches!(
        reopened.pass_status(&world.pass, None, lunch()).unwrap(),
        PassStatus::NotValid {
            reason: Reason::PolicyNotMet(PolicyRule::VaccinationExpired),
            ..
        }
    ));
}
