//! The human-authored rules file (TOML) a health authority edits instead of code: dated rule
//! sets and the venue modes each has, read into the core's [`RuleSet`]s and checked against
//! every bound a verifier applies ([`RulesList::check_rule_sets`]) before anything is signed.
//! The file format is in docs/rules-korea.md; `issuer/rules/korea-2021-2022.toml` is one.

use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use vaxpass::{EventKind, ModeRule, Policy, RuleSet, RulesList, VaccinationRule, VenueMode};

/// Largest rules file read, in bytes: far above any list the core accepts (64 sets of 16 modes).
pub const MAX_RULES_FILE_BYTES: usize = 256 << 10;

/// Why a rules file was refused. The message names the field, never more than the file says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules file: {0}")]
pub struct RulesFileError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// The time zone of every set's day counts and effective date, e.g. "+09:00".
    utc_offset: String,
    rule_set: Vec<SetEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetEntry {
    takes_effect: toml::value::Datetime,
    /// Free text for the people who edit the file (what changed, where it was announced).
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    vaccination: Option<VaccinationEntry>,
    pcr_hours: Option<i64>,
    rapid_antigen_hours: Option<i64>,
    recovery_days: Option<i64>,
    /// In the order a shop's mode picker offers them; the first is the default.
    modes: Vec<ModeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VaccinationEntry {
    wait_days: i64,
    primary_valid_days: Option<i64>,
    booster_valid_days: Option<i64>,
}

/// A venue mode: `exempt = true`, or the kinds of event it `accepts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeEntry {
    name: String,
    #[serde(default)]
    exempt: bool,
    accepts: Option<Vec<String>>,
}

/// Reads a rules file into rule sets in the order they take effect, checked as a verifier would
/// check them once signed.
pub fn parse(text: &str) -> Result<Vec<RuleSet>, RulesFileError> {
    if text.len() > MAX_RULES_FILE_BYTES {
        return Err(RulesFileError(format!(
            "larger than {MAX_RULES_FILE_BYTES} bytes"
        )));
    }
    let file: File = toml::from_str(text).map_err(|e| RulesFileError(e.message().to_owned()))?;
    let utc_offset_minutes = utc_offset(&file.utc_offset)?;
    let rule_sets = file
        .rule_set
        .into_iter()
        .map(|entry| rule_set(entry, utc_offset_minutes))
        .collect::<Result<Vec<_>, _>>()?;
    RulesList::check_rule_sets(&rule_sets).map_err(|e| match e {
        vaxpass::Error::InvalidArgument(why) => RulesFileError(why),
        other => RulesFileError(other.to_string()),
    })?;
    Ok(rule_sets)
}

/// `+HH:MM` or `-HH:MM` in minutes east of UTC (the core bounds the range).
fn utc_offset(text: &str) -> Result<i32, RulesFileError> {
    let bad = || RulesFileError("utc_offset is +HH:MM or -HH:MM, e.g. \"+09:00\"".into());
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').ok_or_else(bad)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: i32 = hours.parse().map_err(|_| bad())?;
    let minutes: i32 = minutes.parse().map_err(|_| bad())?;
    if minutes >= 60 {
        return Err(bad());
    }
    Ok(sign * (hours * 60 + minutes))
}

fn rule_set(entry: SetEntry, utc_offset_minutes: i32) -> Result<RuleSet, RulesFileError> {
    let day = entry.takes_effect;
    let takes_effect = match (day.date, day.time, day.offset) {
        (Some(date), None, None) => NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        ),
        _ => None,
    }
    .ok_or_else(|| RulesFileError(format!("takes_effect {day} is not a date like 2022-01-03")))?;
    let hours = |h: Option<i64>| {
        h.map(|h| {
            Duration::try_hours(h)
                .ok_or_else(|| RulesFileError(format!("{takes_effect}: {h} hours is out of range")))
        })
        .transpose()
    };
    let policy = Policy {
        vaccination: entry.vaccination.map(|v| VaccinationRule {
            days_after_primary: v.wait_days,
            primary_valid_days: v.primary_valid_days,
            booster_valid_days: v.booster_valid_days,
        }),
        pcr_valid_for: hours(entry.pcr_hours)?,
        rapid_antigen_valid_for: hours(entry.rapid_antigen_hours)?,
        recovery_valid_days: entry.recovery_days,
        utc_offset_minutes,
    };
    let modes = entry
        .modes
        .into_iter()
        .map(|mode| {
            let name = mode.name;
            let rule = match (mode.exempt, mode.accepts) {
                (true, None) => ModeRule::Exempt,
                (false, Some(kinds)) => {
                    let mut kinds = kinds
                        .iter()
                        .map(|kind| event_kind(kind, takes_effect, &name))
                        .collect::<Result<Vec<_>, _>>()?;
                    kinds.sort_unstable();
                    kinds.dedup();
                    ModeRule::Pass(kinds)
                }
                _ => {
                    return Err(RulesFileError(format!(
                        "{takes_effect}: mode {name} has either exempt = true or accepts = [...]"
                    )))
                }
            };
            Ok(VenueMode { name, rule })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RuleSet {
        takes_effect,
        policy,
        modes,
    })
}

fn event_kind(kind: &str, day: NaiveDate, mode: &str) -> Result<EventKind, RulesFileError> {
    match kind {
        "vaccination" => Ok(EventKind::Vaccination),
        "test" => Ok(EventKind::Test),
        "recovery" => Ok(EventKind::Recovery),
        other => Err(RulesFileError(format!(
            "{day}: mode {mode} accepts {other:?}; the kinds are vaccination, test and recovery"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxpass::Requirement;

    const KOREA: &str = include_str!("../rules/korea-2021-2022.toml");

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_korean_file_reads_into_its_dated_sets() {
        let sets = parse(KOREA).unwrap();
        let names: Vec<&str> = sets[0].modes.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["restaurant_cafe", "large_store", "exempt"],
            "the file's order: the first is a shop's default"
        );
        let days: Vec<String> = sets.iter().map(|s| s.takes_effect.to_string()).collect();
        assert_eq!(
            days,
            [
                "2021-11-01",
                "2021-12-13",
                "2022-01-03",
                "2022-01-10",
                "2022-01-18",
                "2022-01-26",
                "2022-03-01"
            ]
        );
        assert!(sets.iter().all(|s| s.policy.utc_offset_minutes == 540));
        let january = &sets[2];
        assert_eq!(
            january.policy.vaccination,
            Some(VaccinationRule {
                days_after_primary: 14,
                primary_valid_days: Some(180),
                booster_valid_days: None,
            })
        );
        assert_eq!(
            january.requirement("large_store").ok(),
            Some(Requirement::Exempt)
        );
        assert!(matches!(
            sets[3].requirement("large_store"),
            Ok(Requirement::Pass(_))
        ));
        assert_eq!(
            sets[4].requirement("large_store").ok(),
            Some(Requirement::Exempt)
        );
        assert_eq!(
            sets[5].policy.rapid_antigen_valid_for,
            Some(Duration::hours(24))
        );
        assert_eq!(sets[4].policy.rapid_antigen_valid_for, None);
        for mode in ["restaurant_cafe", "large_store", "exempt"] {
            assert_eq!(sets[6].requirement(mode).ok(), Some(Requirement::Exempt));
        }
    }

    #[test]
    fn the_standing_file_is_the_compiled_korean_preset() {
        let standing = parse(include_str!("../rules/korea-2022-standing.toml")).unwrap();
        assert_eq!(standing, vec![RuleSet::korea_2022_standing()]);
    }

    fn one_set(body: &str) -> String {
        format!("utc_offset = \"+09:00\"\n[[rule_set]]\ntakes_effect = 2022-01-03\n{body}\n")
    }

    #[test]
    fn a_file_verifiers_would_refuse_is_refused_before_signing() {
        let cases = [
            (
                one_set("recovery_days = -1\nmodes = [{ name = \"a\", accepts = [\"recovery\"] }]"),
                "recovery",
            ),
            (
                one_set("recovery_days = 40000\nmodes = [{ name = \"a\", accepts = [\"recovery\"] }]"),
                "recovery",
            ),
            (
                one_set("pcr_hours = 100000\nmodes = [{ name = \"a\", accepts = [\"test\"] }]"),
                "test window",
            ),
            (
                one_set("vaccination = { wait_days = -3 }\nmodes = [{ name = \"a\", accepts = [\"vaccination\"] }]"),
                "wait",
            ),
            (one_set("modes = [{ name = \"a\", accepts = [\"test\"] }]"), "no rule for"),
            (one_set("modes = [{ name = \"a\", accepts = [\"antibodies\"] }]"), "antibodies"),
            (one_set("modes = [{ name = \"a\", exempt = true, accepts = [\"test\"] }]"), "either exempt"),
            (one_set("modes = [{ name = \"Shop\", exempt = true }]"), "mode name"),
            (one_set("modes = []"), "at least one mode"),
            (
                one_set("modes = [{ name = \"a\", exempt = true }]\nsurprise = 1"),
                "surprise",
            ),
            (
                "utc_offset = \"+09:00\"\nrule_set = []".to_owned(),
                "at least one rule set",
            ),
            (
                one_set("modes = [{ name = \"a\", exempt = true }]").replace("+09:00", "+15:00"),
                "UTC offset",
            ),
            (
                one_set("modes = [{ name = \"a\", exempt = true }]").replace("+09:00", "KST"),
                "utc_offset",
            ),
            (
                one_set("modes = [{ name = \"a\", exempt = true }]").replace("2022-01-03", "1999-12-31"),
                "outside 2000-01-01",
            ),
            (
                one_set("modes = [{ name = \"a\", exempt = true }]").replace("2022-01-03", "2022-01-03T00:00:00"),
                "not a date",
            ),
            (
                format!(
                    "{}[[rule_set]]\ntakes_effect = 2022-01-01\nmodes = [{{ name = \"a\", exempt = true }}]\n",
                    one_set("modes = [{ name = \"a\", exempt = true }]")
                ),
                "ascending",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(&text).unwrap_err();
            assert!(
                error.0.contains(expected),
                "{text}\nrefused with {error}, expected {expected:?}"
            );
        }
        let huge = format!("# {}\n", "x".repeat(MAX_RULES_FILE_BYTES));
        assert!(parse(&huge).unwrap_err().0.contains("larger than"));
    }

    #[test]
    fn deeply_nested_input_is_refused_without_a_crash() {
        for open in ["[", "{a="] {
            let text = format!("utc_offset = {}", open.repeat(MAX_RULES_FILE_BYTES / 4));
            assert!(parse(&text).is_err());
        }
    }

    #[test]
    fn modes_are_exempt_or_accept_the_kinds_listed() {
        let sets = parse(&one_set(
            "pcr_hours = 48\nrecovery_days = 180\n\
             modes = [{ name = \"gym\", accepts = [\"test\", \"recovery\", \"test\"] }, { name = \"park\", exempt = true }]",
        ))
        .unwrap();
        assert_eq!(sets[0].takes_effect, date("2022-01-03"));
        assert_eq!(
            sets[0].mode("gym").map(|m| &m.rule),
            Some(&ModeRule::Pass(vec![EventKind::Test, EventKind::Recovery]))
        );
        assert_eq!(
            sets[0].mode("park").map(|m| &m.rule),
            Some(&ModeRule::Exempt)
        );
    }
}
