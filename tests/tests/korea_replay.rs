//! The Korean replay (`vaxpass_tests::korea_replay`): every verdict of every shop on every day
//! from 1 December 2021 to 10 March 2022 matches the rules in force in Korea that day, written
//! out by hand below from docs/rules-korea.md, with every rule change reaching the shops through
//! signed lists alone. And a shop that synced on Friday 31 December, offline since, switches to
//! the 180-day limit at midnight in Seoul on 3 January.

use chrono::{Duration, NaiveDate};
use vaxpass_tests::korea_replay::{citizens, kst, table, Replay, FIRST_DAY, LAST_DAY, MODES};

const KOREA: &str = include_str!("../../issuer/rules/korea-2021-2022.toml");

fn rule_sets() -> Vec<vaxpass::RuleSet> {
    vaxpass_issuer::rules_file::parse(KOREA).unwrap()
}

/// The days a venue of `mode` needed a pass: `[from, until)`. Before 13 December and from
/// 1 March nobody needed one; large stores needed one only from 10 to 17 January.
fn pass_needed(mode: &str) -> (&'static str, &'static str) {
    match mode {
        "restaurant_cafe" => ("2021-12-13", "2022-03-01"),
        _ => ("2022-01-10", "2022-01-18"),
    }
}

/// What a venue that needs a pass must show citizen `label`, as `(from day, verdict)` in order:
/// each holds until the next. Written from the rules, not from a run.
fn expected(label: &str) -> Vec<(&'static str, &'static str)> {
    let start = "2021-12-13";
    match label {
        // Never a complete primary series.
        "one dose (20 Nov)" => vec![(start, "primary_series_incomplete")],
        // 14 days after 5 December is 19 December.
        "two doses (2nd 5 Dec)" => vec![
            (start, "too_soon_after_vaccination"),
            ("2021-12-19", "VALID"),
        ],
        // From 3 January, 180 days: 10 July + 180 days is 6 January, the last valid day.
        "two doses (2nd 10 Jul)" => vec![(start, "VALID"), ("2022-01-07", "vaccination_expired")],
        // 25 June + 180 days is 22 December: expired once the limit applies on 3 January, until
        // the booster of 5 January counts from its day.
        "two doses (2nd 25 Jun), booster 5 Jan" => vec![
            (start, "VALID"),
            ("2022-01-03", "vaccination_expired"),
            ("2022-01-05", "VALID"),
        ],
        "three doses (3rd 10 Dec)" => vec![(start, "VALID")],
        // PCR: 48 hours from sampling at 09:00; shown at noon, valid that day and the next.
        "PCR tests (20 Dec, 11 Jan)" => vec![
            (start, "no pass"),
            ("2021-12-20", "VALID"),
            ("2021-12-22", "test_expired"),
            ("2022-01-11", "VALID"),
            ("2022-01-13", "test_expired"),
        ],
        // Rapid antigen tests: not accepted before 26 January, then 24 hours from sampling.
        "rapid tests (21 Jan, 27 Jan, 15 Feb)" => vec![
            (start, "no pass"),
            ("2022-01-21", "test_type_not_accepted"),
            ("2022-01-26", "test_expired"),
            ("2022-01-27", "VALID"),
            ("2022-01-28", "test_expired"),
            ("2022-02-15", "VALID"),
            ("2022-02-16", "test_expired"),
        ],
        // 180 days from the first positive test of 20 June: the last valid day is 17 December.
        "recovered (positive 20 Jun)" => vec![(start, "VALID"), ("2021-12-18", "recovery_expired")],
        other => panic!("no expectation for {other}"),
    }
}

/// The verdict a venue of `mode` must show citizen `label` on `day`.
fn on(day: NaiveDate, mode: &str, label: &str) -> &'static str {
    let (from, until) = pass_needed(mode);
    let date = |s: &str| s.parse::<NaiveDate>().unwrap();
    if day < date(from) || day >= date(until) {
        return "exempt";
    }
    expected(label)
        .into_iter()
        .rev()
        .find(|(from, _)| date(from) <= day)
        .map(|(_, verdict)| verdict)
        .unwrap()
}

#[test]
fn every_verdict_of_every_shop_on_every_day_matches_the_rules_in_force_in_korea() {
    let mut replay = Replay::new(rule_sets());
    let verdicts = replay.run(12);
    println!("{}", table(&verdicts, &replay.citizens));
    let first: NaiveDate = FIRST_DAY.parse().unwrap();
    let last: NaiveDate = LAST_DAY.parse().unwrap();
    let mut checked = 0;
    let mut day = first;
    while day <= last {
        for mode in MODES {
            for citizen in citizens() {
                let expected = on(day, mode, citizen.label);
                let said = &verdicts[&(day, mode, citizen.label)];
                assert_eq!(said.len(), 3, "three shops of each mode");
                for (shop, verdict) in said.iter().enumerate() {
                    assert_eq!(
                        verdict, expected,
                        "{day}, {mode} shop {shop}, {}",
                        citizen.label
                    );
                    checked += 1;
                }
            }
        }
        day += Duration::days(1);
    }
    // 100 days, 2 modes, 8 citizens, 3 shops each.
    assert_eq!(checked, 100 * 2 * 8 * 3);
}

#[test]
fn a_shop_offline_since_31_december_switches_to_the_180_day_limit_at_midnight_in_seoul() {
    let mut replay = Replay::new(rule_sets());
    let friday = replay
        .shops
        .iter()
        .position(|s| s.mode == "restaurant_cafe" && s.sync_day == 2)
        .unwrap();
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    // Its last sync: Friday 31 December, when the 3 January set was already published.
    replay.sync_shop(friday, day("2021-12-31"));
    let label = "two doses (2nd 25 Jun), booster 5 Jan";
    let before = kst(day("2022-01-02"), 23) + Duration::minutes(59);
    let after = kst(day("2022-01-03"), 0) + Duration::minutes(1);
    assert_eq!(replay.judge(friday, label, before), "VALID");
    assert_eq!(replay.judge(friday, label, after), "vaccination_expired");
    // The citizen boosted on 5 January is valid again that day, still without a sync.
    let boosted = kst(day("2022-01-05"), 12);
    assert_eq!(replay.judge(friday, label, boosted), "VALID");
}
