//! Which health events make a pass acceptable. A verifier takes its policy from the rules list in
//! force (crate::rules); the Korean rules of early 2022 remain here only as a preset for tests
//! and authoring (feature `testing`). Day counts use the calendar date in the policy's time zone,
//! as the rules were written.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, Utc};

use crate::model::{Event, TestOutcome, TestType, Vaccination};
use crate::verdict::PolicyRule;

/// Rules for vaccinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaccinationRule {
    /// Days after the dose that completes the primary series before the pass is valid.
    pub days_after_primary: i64,
    /// Days after that dose the pass stays valid without a booster; `None` for no limit.
    pub primary_valid_days: Option<i64>,
    /// Days after the latest booster the pass stays valid (a booster counts from its day, with
    /// no wait); `None` for no limit.
    pub booster_valid_days: Option<i64>,
}

/// What a verifier accepts. Each kind of event is accepted only if its rule is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// How vaccinations are judged; `None`: vaccinations are not accepted (`EventNotAccepted`).
    pub vaccination: Option<VaccinationRule>,
    /// How long after sampling a negative PCR test is accepted.
    pub pcr_valid_for: Option<Duration>,
    /// How long after sampling a negative rapid antigen test is accepted.
    pub rapid_antigen_valid_for: Option<Duration>,
    /// Days after the first positive test a recovery is accepted.
    pub recovery_valid_days: Option<i64>,
    /// The time zone whose calendar dates the day counts use.
    pub utc_offset_minutes: i32,
}

impl Policy {
    /// Korea, January 2022: primary series complete and at least 14 days old; valid 180 days after
    /// the last primary dose unless boosted (a booster is valid at once); a negative PCR test for
    /// 48 hours; recovery for 180 days. Rapid antigen tests are not accepted. Dates in KST.
    /// A preset for tests and authoring only: no verifier judges by it unless it comes signed in
    /// a rules list.
    #[cfg(any(test, feature = "testing"))]
    pub fn korea_2022() -> Self {
        Self {
            vaccination: Some(VaccinationRule {
                days_after_primary: 14,
                primary_valid_days: Some(180),
                booster_valid_days: None,
            }),
            pcr_valid_for: Some(Duration::hours(48)),
            rapid_antigen_valid_for: None,
            recovery_valid_days: Some(180),
            utc_offset_minutes: 9 * 60,
        }
    }

    /// The pass is acceptable if any one event meets its rule. Otherwise the failed rule of the
    /// most telling event is returned: vaccinations first, then tests, then recoveries.
    pub fn evaluate(&self, events: &[Event], now: DateTime<Utc>) -> Result<(), PolicyRule> {
        let today = self.local_date(now);
        let vaccinations: Vec<&Vaccination> = events
            .iter()
            .filter_map(|e| match e {
                Event::Vaccination(v) => Some(v),
                _ => None,
            })
            .collect();
        let mut failures = Vec::new();
        if !vaccinations.is_empty() {
            match self.check_vaccinations(&vaccinations, today) {
                Ok(()) => return Ok(()),
                Err(rule) => failures.push(rule),
            }
        }
        for event in events {
            let result = match event {
                Event::Vaccination(_) => continue,
                Event::Test(t) => {
                    let valid_for = match t.test_type {
                        TestType::Pcr => self.pcr_valid_for,
                        TestType::RapidAntigen => self.rapid_antigen_valid_for,
                    };
                    match valid_for {
                        None => Err(PolicyRule::TestTypeNotAccepted),
                        Some(_) if t.outcome == TestOutcome::Positive => {
                            Err(PolicyRule::TestPositive)
                        }
                        Some(_) if t.sampled_at > now => Err(PolicyRule::TestInFuture),
                        Some(window) if now - t.sampled_at > window => Err(PolicyRule::TestExpired),
                        Some(_) => Ok(()),
                    }
                }
                Event::Recovery(r) => match self.recovery_valid_days {
                    None => Err(PolicyRule::EventNotAccepted),
                    Some(_) if r.first_positive > today => Err(PolicyRule::RecoveryInFuture),
                    Some(days) if (today - r.first_positive).num_days() > days => {
                        Err(PolicyRule::RecoveryExpired)
                    }
                    Some(_) => Ok(()),
                },
            };
            match result {
                Ok(()) => return Ok(()),
                Err(rule) => failures.push(rule),
            }
        }
        Err(failures
            .first()
            .copied()
            .unwrap_or(PolicyRule::EventNotAccepted))
    }

    fn check_vaccinations(
        &self,
        doses: &[&Vaccination],
        today: NaiveDate,
    ) -> Result<(), PolicyRule> {
        let rule = self
            .vaccination
            .as_ref()
            .ok_or(PolicyRule::EventNotAccepted)?;
        // The dose that completed the primary series: the earliest with dose number >= series size.
        let completed = doses
            .iter()
            .filter(|v| v.dose >= v.of)
            .map(|v| v.date)
            .min()
            .ok_or(PolicyRule::PrimarySeriesIncomplete)?;
        let latest_booster = doses
            .iter()
            .filter(|v| v.dose > v.of && v.date <= today)
            .map(|v| v.date)
            .max();
        if let Some(boosted) = latest_booster {
            return match rule.booster_valid_days {
                Some(limit) if (today - boosted).num_days() > limit => {
                    Err(PolicyRule::VaccinationExpired)
                }
                _ => Ok(()),
            };
        }
        let days = (today - completed).num_days();
        if days < rule.days_after_primary {
            return Err(PolicyRule::TooSoonAfterVaccination);
        }
        match rule.primary_valid_days {
            Some(limit) if days > limit => Err(PolicyRule::VaccinationExpired),
            _ => Ok(()),
        }
    }

    pub(crate) fn local_date(&self, now: DateTime<Utc>) -> NaiveDate {
        // An out-of-range offset (beyond ±24 h) falls back to UTC rather than failing a scan.
        let offset =
            FixedOffset::east_opt(self.utc_offset_minutes.saturating_mul(60)).unwrap_or(Utc.fix());
        now.with_timezone(&offset).date_naive()
    }
}

impl PolicyRule {
    /// The rule in the shop's terms, with the numbers `policy` judged by, e.g. "primary series
    /// older than 180 days, no booster". English; apps map [`PolicyRule::code`] to their own
    /// language and may fill in the same numbers.
    pub fn describe(&self, policy: &Policy) -> String {
        let vaccination = policy.vaccination.as_ref();
        let hours = |d: Duration| d.num_hours();
        match self {
            PolicyRule::PrimarySeriesIncomplete => "primary vaccination series not complete".into(),
            PolicyRule::TooSoonAfterVaccination => match vaccination {
                Some(v) => format!(
                    "primary series completed less than {} days ago",
                    v.days_after_primary
                ),
                None => "primary series completed too recently".into(),
            },
            PolicyRule::VaccinationExpired => {
                let primary = vaccination.and_then(|v| v.primary_valid_days);
                let booster = vaccination.and_then(|v| v.booster_valid_days);
                match (primary, booster) {
                    (Some(p), None) => format!("primary series older than {p} days, no booster"),
                    (Some(p), Some(b)) => format!(
                        "primary series older than {p} days with no booster, or booster older than {b} days"
                    ),
                    (None, Some(b)) => format!("booster older than {b} days"),
                    (None, None) => "vaccination too old".into(),
                }
            }
            PolicyRule::TestTypeNotAccepted => {
                match (policy.pcr_valid_for, policy.rapid_antigen_valid_for) {
                    (Some(_), None) => "only PCR tests are accepted".into(),
                    (None, Some(_)) => "only rapid antigen tests are accepted".into(),
                    _ => "tests are not accepted".into(),
                }
            }
            PolicyRule::TestPositive => "positive test result".into(),
            PolicyRule::TestExpired => match (policy.pcr_valid_for, policy.rapid_antigen_valid_for)
            {
                (Some(p), None) => format!("PCR test older than {} hours", hours(p)),
                (None, Some(r)) => format!("rapid antigen test older than {} hours", hours(r)),
                (Some(p), Some(r)) => format!(
                    "PCR test older than {} hours or rapid antigen test older than {} hours",
                    hours(p),
                    hours(r)
                ),
                (None, None) => "test too old".into(),
            },
            PolicyRule::TestInFuture => "test sampled in the future".into(),
            PolicyRule::EventNotAccepted => "this kind of event is not accepted here".into(),
            PolicyRule::RecoveryExpired => match policy.recovery_valid_days {
                Some(days) => format!("recovery more than {days} days ago"),
                None => "recovery too long ago".into(),
            },
            PolicyRule::RecoveryInFuture => "recovery dated in the future".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Product, Recovery, TestResult};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    /// Noon in Seoul on the given date.
    fn noon(s: &str) -> DateTime<Utc> {
        day(s).and_hms_opt(3, 0, 0).unwrap().and_utc()
    }
    fn dose(dose: u8, of: u8, date: &str) -> Event {
        Event::Vaccination(Vaccination {
            product: Product::Comirnaty,
            dose,
            of,
            date: day(date),
        })
    }
    fn pcr(outcome: TestOutcome, at: DateTime<Utc>) -> Event {
        Event::Test(TestResult {
            test_type: TestType::Pcr,
            outcome,
            sampled_at: at,
        })
    }

    #[test]
    fn korea_2022_table() {
        let p = Policy::korea_2022();
        let two = vec![dose(1, 2, "2021-07-01"), dose(2, 2, "2021-07-22")];
        let boosted = vec![
            dose(1, 2, "2021-07-01"),
            dose(2, 2, "2021-07-22"),
            dose(3, 2, "2021-12-01"),
        ];
        type Case = (
            &'static str,
            Vec<Event>,
            DateTime<Utc>,
            Result<(), PolicyRule>,
        );
        let cases: Vec<Case> = vec![
            (
                "one of two doses",
                vec![dose(1, 2, "2021-07-01")],
                noon("2021-09-01"),
                Err(PolicyRule::PrimarySeriesIncomplete),
            ),
            (
                "day 13 after dose 2",
                two.clone(),
                noon("2021-08-04"),
                Err(PolicyRule::TooSoonAfterVaccination),
            ),
            (
                "day 14 after dose 2",
                two.clone(),
                noon("2021-08-05"),
                Ok(()),
            ),
            (
                "day 180 after dose 2",
                two.clone(),
                noon("2022-01-18"),
                Ok(()),
            ),
            (
                "day 181 after dose 2",
                two.clone(),
                noon("2022-01-19"),
                Err(PolicyRule::VaccinationExpired),
            ),
            (
                "boosted, day 300",
                boosted.clone(),
                noon("2022-05-18"),
                Ok(()),
            ),
            (
                "booster dated in the future",
                boosted,
                noon("2021-11-30"),
                Ok(()),
            ),
            (
                "janssen one dose, day 14",
                vec![Event::Vaccination(Vaccination {
                    product: Product::Jcovden,
                    dose: 1,
                    of: 1,
                    date: day("2021-07-01"),
                })],
                noon("2021-07-15"),
                Ok(()),
            ),
            (
                "pcr 47h",
                vec![pcr(TestOutcome::Negative, noon("2022-01-10"))],
                noon("2022-01-12") - Duration::hours(1),
                Ok(()),
            ),
            (
                "pcr exactly 48h",
                vec![pcr(TestOutcome::Negative, noon("2022-01-10"))],
                noon("2022-01-12"),
                Ok(()),
            ),
            (
                "pcr 48h+1s",
                vec![pcr(TestOutcome::Negative, noon("2022-01-10"))],
                noon("2022-01-12") + Duration::seconds(1),
                Err(PolicyRule::TestExpired),
            ),
            (
                "pcr positive",
                vec![pcr(TestOutcome::Positive, noon("2022-01-10"))],
                noon("2022-01-10"),
                Err(PolicyRule::TestPositive),
            ),
            (
                "pcr in future",
                vec![pcr(TestOutcome::Negative, noon("2022-01-11"))],
                noon("2022-01-10"),
                Err(PolicyRule::TestInFuture),
            ),
            (
                "rapid antigen",
                vec![Event::Test(TestResult {
                    test_type: TestType::RapidAntigen,
                    outcome: TestOutcome::Negative,
                    sampled_at: noon("2022-01-10"),
                })],
                noon("2022-01-10"),
                Err(PolicyRule::TestTypeNotAccepted),
            ),
            (
                "recovery day 180",
                vec![Event::Recovery(Recovery {
                    first_positive: day("2022-01-01"),
                })],
                noon("2022-06-30"),
                Ok(()),
            ),
            (
                "recovery day 181",
                vec![Event::Recovery(Recovery {
                    first_positive: day("2022-01-01"),
                })],
                noon("2022-07-01"),
                Err(PolicyRule::RecoveryExpired),
            ),
            (
                "expired vaccination, fresh pcr",
                vec![
                    dose(1, 2, "2021-01-01"),
                    dose(2, 2, "2021-01-22"),
                    pcr(TestOutcome::Negative, noon("2022-01-10")),
                ],
                noon("2022-01-10"),
                Ok(()),
            ),
            (
                "incomplete and old pcr",
                vec![
                    dose(1, 2, "2021-07-01"),
                    pcr(TestOutcome::Negative, noon("2021-08-01")),
                ],
                noon("2021-09-01"),
                Err(PolicyRule::PrimarySeriesIncomplete),
            ),
        ];
        for (name, events, now, expected) in cases {
            assert_eq!(p.evaluate(&events, now), expected, "{name}");
        }
    }

    #[test]
    fn a_booster_limit_counts_from_the_latest_booster() {
        let boosted = vec![
            dose(1, 2, "2021-07-01"),
            dose(2, 2, "2021-07-22"),
            dose(3, 2, "2021-12-01"),
        ];
        let limited = Policy {
            vaccination: Some(VaccinationRule {
                booster_valid_days: Some(90),
                ..Policy::korea_2022().vaccination.unwrap()
            }),
            ..Policy::korea_2022()
        };
        // 2022-03-01 is day 90 after the booster, 2022-03-02 day 91.
        assert_eq!(limited.evaluate(&boosted, noon("2022-03-01")), Ok(()));
        assert_eq!(
            limited.evaluate(&boosted, noon("2022-03-02")),
            Err(PolicyRule::VaccinationExpired)
        );
        let again = [boosted.clone(), vec![dose(4, 2, "2022-03-01")]].concat();
        assert_eq!(limited.evaluate(&again, noon("2022-03-02")), Ok(()));
        // Without a limit (the Korean preset) a booster does not expire.
        assert_eq!(
            Policy::korea_2022().evaluate(&boosted, noon("2023-03-02")),
            Ok(())
        );
    }

    #[test]
    fn a_failed_rule_is_named_with_the_numbers_of_the_policy() {
        let p = Policy::korea_2022();
        assert_eq!(
            PolicyRule::VaccinationExpired.describe(&p),
            "primary series older than 180 days, no booster"
        );
        assert_eq!(
            PolicyRule::TooSoonAfterVaccination.describe(&p),
            "primary series completed less than 14 days ago"
        );
        assert_eq!(
            PolicyRule::TestExpired.describe(&p),
            "PCR test older than 48 hours"
        );
        assert_eq!(
            PolicyRule::TestTypeNotAccepted.describe(&p),
            "only PCR tests are accepted"
        );
        let seven = Policy {
            vaccination: Some(VaccinationRule {
                days_after_primary: 7,
                ..p.vaccination.clone().unwrap()
            }),
            ..p
        };
        assert_eq!(
            PolicyRule::TooSoonAfterVaccination.describe(&seven),
            "primary series completed less than 7 days ago"
        );
    }

    #[test]
    fn days_count_in_korean_time() {
        // 2021-08-04 16:00 UTC is already 2021-08-05 in Seoul: day 14 after 2021-07-22.
        let events = vec![dose(2, 2, "2021-07-22")];
        let late_utc = day("2021-08-04").and_hms_opt(16, 0, 0).unwrap().and_utc();
        assert_eq!(Policy::korea_2022().evaluate(&events, late_utc), Ok(()));
        let utc_policy = Policy {
            utc_offset_minutes: 0,
            ..Policy::korea_2022()
        };
        assert_eq!(
            utc_policy.evaluate(&events, late_utc),
            Err(PolicyRule::TooSoonAfterVaccination)
        );
    }
}
