//! The third list the authority signs with its root key: the rules list. It carries the rule sets
//! a verifier judges passes by, each taking effect on a date, and the venue modes each set has,
//! so a rule change reaches every shop as data instead of an app update. It is a typed, bounded
//! set of numbers and names, not an expression language; its format is in docs/format.md.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ciborium::value::Value;

use crate::cbor::{self, IntMap};
use crate::cose;
use crate::error::{Error, Result};
use crate::keys::{Ed25519KeyPair, Kid};
use crate::lists::{self, ListInfo};
use crate::policy::{Policy, VaccinationRule};
use crate::verdict::{Reason, RulesUsed};

/// COSE content type (header 3) of a rules list.
pub const RULES_LIST_TYPE: &str = "application/vaxpass-rules-list+cbor";
/// The rules format version this SDK understands; a list in a newer one is refused whole
/// ([`Error::RulesTooNew`]).
pub const RULES_VERSION: u64 = 1;
/// Largest rules list accepted, in bytes (64 rule sets of 16 modes take about 40 KB).
pub const MAX_RULES_LIST_BYTES: usize = 64 << 10;
/// Most rule sets in one list.
pub const MAX_RULE_SETS: usize = 64;
/// Most venue modes in one rule set.
pub const MAX_MODES: usize = 16;
/// Longest venue mode name, in bytes: `a-z` first, then `a-z`, `0-9` or `_`.
pub const MAX_MODE_NAME_BYTES: usize = 32;
/// Longest wait after the primary series, in days.
pub const MAX_WAIT_DAYS: i64 = 365;
/// Longest validity of a vaccination or a recovery, in days (about ten years).
pub const MAX_VALID_DAYS: i64 = 3660;
/// Longest validity of a negative test, in hours.
pub const MAX_TEST_HOURS: i64 = 720;
/// Time zones of day counts lie in UTC−12:00 ..= UTC+14:00, in minutes east of UTC.
pub const UTC_OFFSET_MINUTES: std::ops::RangeInclusive<i32> = -720..=840;

const WHAT: &str = "rules list";
/// Rule sets take effect on dates in 2000-01-01 ..= 2199-12-31 (days since 1970-01-01).
const FIRST_DAY: i64 = 10_957;
const LAST_DAY: i64 = 84_005;

/// A kind of health event a venue mode may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// Vaccinations, judged by the rule set's vaccination rule; wire code 1.
    Vaccination,
    /// Tests, judged by the rule set's test windows; wire code 2.
    Test,
    /// Recoveries, judged by the rule set's recovery window; wire code 3.
    Recovery,
}

impl EventKind {
    /// The code used on the wire.
    pub fn code(self) -> u8 {
        match self {
            EventKind::Vaccination => 1,
            EventKind::Test => 2,
            EventKind::Recovery => 3,
        }
    }

    /// The kind with this wire code; `None` for a code the SDK does not know (refused).
    pub fn from_code(code: u8) -> Option<Self> {
        [EventKind::Vaccination, EventKind::Test, EventKind::Recovery]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// What a venue mode asks of a visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeRule {
    /// No pass is needed.
    Exempt,
    /// A pass is needed, meeting the rule set's rule for one of these kinds of event (ascending,
    /// at least one, each with a rule in the set).
    Pass(Vec<EventKind>),
}

/// A venue mode a shop can pick, as a rule set defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueMode {
    /// The mode's name, e.g. `restaurant_cafe` (1 to [`MAX_MODE_NAME_BYTES`] of `a-z0-9_`,
    /// starting with a letter): what the app stores and maps to a label in the shop's language.
    pub name: String,
    /// What the mode asks of a visitor.
    pub rule: ModeRule,
}

/// The rules in force from a date on, until the next set of the list takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    /// The set takes effect at 00:00 of this day in its time zone
    /// (`policy.utc_offset_minutes`), so a phone offline over the change still switches on time.
    pub takes_effect: NaiveDate,
    /// The rule of each kind of event (`None`: no such event is accepted) and the time zone of
    /// the day counts. Test windows are whole hours.
    pub policy: Policy,
    /// The venue modes that exist under this set (1 to [`MAX_MODES`], names unique).
    pub modes: Vec<VenueMode>,
}

/// What a visitor needs under one mode of a rule set: the answer a verifier judges by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// No pass is needed.
    Exempt,
    /// A pass acceptable under this policy (the set's rules for the kinds the mode accepts).
    Pass(Policy),
}

impl RuleSet {
    /// The rules of [`Policy::korea_2022`] as data, taking effect on 3 January 2022 (the day the
    /// 180-day limit began), with two modes: `restaurant_cafe` (a pass with any kind of event)
    /// and `exempt` (no pass). A preset for tests and authoring only (feature `testing`).
    #[cfg(any(test, feature = "testing"))]
    pub fn korea_2022() -> Self {
        Self {
            takes_effect: NaiveDate::from_ymd_opt(2022, 1, 3).unwrap_or_default(),
            policy: Policy::korea_2022(),
            modes: vec![
                VenueMode {
                    name: "restaurant_cafe".into(),
                    rule: ModeRule::Pass(vec![
                        EventKind::Vaccination,
                        EventKind::Test,
                        EventKind::Recovery,
                    ]),
                },
                VenueMode {
                    name: "exempt".into(),
                    rule: ModeRule::Exempt,
                },
            ],
        }
    }

    /// [`Self::korea_2022`] taking effect on 1 January 2000: one rule set in force on any date
    /// of the tests and demos that judge by the Korean rules of early 2022 (feature `testing`).
    #[cfg(any(test, feature = "testing"))]
    pub fn korea_2022_standing() -> Self {
        Self {
            takes_effect: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
            ..Self::korea_2022()
        }
    }

    /// The instant the set takes effect: 00:00 of [`Self::takes_effect`] in its time zone.
    pub fn starts_at(&self) -> DateTime<Utc> {
        let local = self.takes_effect.and_time(chrono::NaiveTime::MIN);
        let offset = Duration::minutes(i64::from(self.policy.utc_offset_minutes));
        // Dates and offsets are bounded when a list is read or signed; a set built in memory
        // beyond the calendar's end starts at its beginning rather than panicking.
        local
            .checked_sub_signed(offset)
            .unwrap_or(chrono::NaiveDateTime::MIN)
            .and_utc()
    }

    /// The mode named `mode`, if the set has it.
    pub fn mode(&self, mode: &str) -> Option<&VenueMode> {
        self.modes.iter().find(|m| m.name == mode)
    }

    /// What a visitor needs under `mode`: exempt, or a pass judged by the policy made of the
    /// set's rules for the kinds of event the mode accepts (the others are not accepted).
    /// A mode the set does not have is [`Error::NotFound`].
    pub fn requirement(&self, mode: &str) -> Result<Requirement> {
        let mode = self.mode(mode).ok_or(Error::NotFound("venue mode"))?;
        let ModeRule::Pass(kinds) = &mode.rule else {
            return Ok(Requirement::Exempt);
        };
        let accepts = |kind| kinds.contains(&kind);
        let p = &self.policy;
        Ok(Requirement::Pass(Policy {
            vaccination: p
                .vaccination
                .clone()
                .filter(|_| accepts(EventKind::Vaccination)),
            pcr_valid_for: p.pcr_valid_for.filter(|_| accepts(EventKind::Test)),
            rapid_antigen_valid_for: p
                .rapid_antigen_valid_for
                .filter(|_| accepts(EventKind::Test)),
            recovery_valid_days: p
                .recovery_valid_days
                .filter(|_| accepts(EventKind::Recovery)),
            utc_offset_minutes: p.utc_offset_minutes,
        }))
    }

    fn has_rule(&self, kind: EventKind) -> bool {
        let p = &self.policy;
        match kind {
            EventKind::Vaccination => p.vaccination.is_some(),
            EventKind::Test => p.pcr_valid_for.is_some() || p.rapid_antigen_valid_for.is_some(),
            EventKind::Recovery => p.recovery_valid_days.is_some(),
        }
    }
}

/// The authority's signed list of rule sets, in the order they take effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesList {
    /// Orders the authority's rules lists: a verifier refuses one not above the one it holds.
    pub sequence: u64,
    /// When the authority signed it (UTC).
    pub issued_at: DateTime<Utc>,
    /// When the authority will publish the next one (UTC).
    pub next_update: DateTime<Utc>,
    /// The rule sets, 1 to [`MAX_RULE_SETS`], strictly ascending by [`RuleSet::starts_at`].
    pub rule_sets: Vec<RuleSet>,
}

// Wire keys (docs/format.md, "Rules list").
mod key {
    pub const SEQUENCE: i64 = 1;
    pub const VERSION: i64 = 2;
    pub const ISSUED_AT: i64 = 3;
    pub const NEXT_UPDATE: i64 = 4;
    pub const RULE_SETS: i64 = 5;

    pub const TAKES_EFFECT: i64 = 1;
    pub const UTC_OFFSET: i64 = 2;
    pub const VACCINATION: i64 = 3;
    pub const TESTS: i64 = 4;
    pub const RECOVERY_DAYS: i64 = 5;
    pub const MODES: i64 = 6;

    pub const WAIT_DAYS: i64 = 1;
    pub const PRIMARY_DAYS: i64 = 2;
    pub const BOOSTER_DAYS: i64 = 3;

    pub const MODE_NAME: i64 = 1;
    pub const MODE_ACCEPTS: i64 = 2;

    pub const PCR: u8 = 1;
    pub const RAPID_ANTIGEN: u8 = 2;
}

impl RulesList {
    /// The rule set in force at `now`: the last one that has taken effect. `None` before the
    /// first takes effect.
    pub fn in_force(&self, now: DateTime<Utc>) -> Option<&RuleSet> {
        self.rule_sets.iter().rev().find(|s| s.starts_at() <= now)
    }

    /// Whether any rule set of the list defines a venue mode of this name.
    pub fn knows_mode(&self, mode: &str) -> bool {
        self.rule_sets.iter().any(|s| s.mode(mode).is_some())
    }

    /// What a visit at `now` under `mode` is judged by: the rules used (`None` when no rule set is
    /// in force yet), and the requirement or the reason there is none. Without a mode, the rule
    /// set's first mode applies (docs/architecture.md, "Venue modes").
    pub(crate) fn decide(
        &self,
        mode: Option<&str>,
        now: DateTime<Utc>,
        offline_default: bool,
    ) -> (Option<RulesUsed>, Result<Requirement, Reason>) {
        let Some(set) = self.in_force(now) else {
            return (None, Err(Reason::NoRulesInForce));
        };
        let mode = mode
            .or_else(|| set.modes.first().map(|m| m.name.as_str()))
            .unwrap_or_default();
        let requirement = set
            .requirement(mode)
            .map_err(|_| Reason::VenueModeNotInRules);
        let used = RulesUsed {
            sequence: self.sequence,
            takes_effect: set.takes_effect,
            mode: mode.to_owned(),
            offline_default,
            policy: match &requirement {
                Ok(Requirement::Pass(policy)) => Some(policy.clone()),
                _ => None,
            },
        };
        (Some(used), requirement)
    }

    /// The list's sequence number and times.
    pub fn info(&self) -> ListInfo {
        ListInfo {
            sequence: self.sequence,
            issued_at: self.issued_at,
            next_update: self.next_update,
        }
    }

    /// Signs the list with a root key in memory.
    pub fn sign(&self, root: &Ed25519KeyPair) -> Result<Vec<u8>> {
        let unsigned = self.unsigned(&root.kid())?;
        let signature = root.sign(unsigned.to_be_signed());
        unsigned.finish(signature)
    }

    /// The list under root key `kid`, waiting for its signature. The payload is read back with
    /// the verifier's own parser first, so the authority cannot sign a list verifiers refuse.
    pub(crate) fn unsigned(&self, kid: &Kid) -> Result<cose::Unsigned> {
        let payload = cbor::encode(&self.to_cbor()?)?;
        Self::from_payload(&payload).map_err(|e| match e {
            Error::Malformed { why, .. } => Error::InvalidArgument(format!("rules list: {why}")),
            other => other,
        })?;
        Ok(cose::Unsigned::new(kid, Some(RULES_LIST_TYPE), payload))
    }

    fn to_cbor(&self) -> Result<Value> {
        let days = |d: i64| Some(Value::from(d));
        let hours = |d: Duration| {
            if d.num_seconds() % 3600 != 0 {
                return Err(Error::InvalidArgument(
                    "rules list: a test window is whole hours".into(),
                ));
            }
            Ok(Value::from(d.num_seconds() / 3600))
        };
        let mut sets = Vec::with_capacity(self.rule_sets.len());
        for set in &self.rule_sets {
            let p = &set.policy;
            let vaccination = p.vaccination.as_ref().map(|v| {
                cbor::map([
                    (key::WAIT_DAYS, days(v.days_after_primary)),
                    (key::PRIMARY_DAYS, v.primary_valid_days.and_then(days)),
                    (key::BOOSTER_DAYS, v.booster_valid_days.and_then(days)),
                ])
            });
            let mut tests = Vec::new();
            for (code, window) in [
                (key::PCR, p.pcr_valid_for),
                (key::RAPID_ANTIGEN, p.rapid_antigen_valid_for),
            ] {
                if let Some(window) = window {
                    tests.push(Value::Array(vec![code.into(), hours(window)?]));
                }
            }
            let modes = set
                .modes
                .iter()
                .map(|m| {
                    let accepts = match &m.rule {
                        ModeRule::Exempt => None,
                        ModeRule::Pass(kinds) => Some(Value::Array(
                            kinds.iter().map(|k| k.code().into()).collect(),
                        )),
                    };
                    cbor::map([
                        (key::MODE_NAME, Some(Value::Text(m.name.clone()))),
                        (key::MODE_ACCEPTS, accepts),
                    ])
                })
                .collect();
            sets.push(cbor::map([
                (
                    key::TAKES_EFFECT,
                    days((set.takes_effect - NaiveDate::default()).num_days()),
                ),
                (key::UTC_OFFSET, Some(p.utc_offset_minutes.into())),
                (key::VACCINATION, vaccination),
                (
                    key::TESTS,
                    (!tests.is_empty()).then_some(Value::Array(tests)),
                ),
                (key::RECOVERY_DAYS, p.recovery_valid_days.and_then(days)),
                (key::MODES, Some(Value::Array(modes))),
            ]));
        }
        Ok(cbor::map([
            (key::SEQUENCE, Some(self.sequence.into())),
            (key::VERSION, Some(RULES_VERSION.into())),
            (key::ISSUED_AT, Some(self.issued_at.timestamp().into())),
            (key::NEXT_UPDATE, Some(self.next_update.timestamp().into())),
            (key::RULE_SETS, Some(Value::Array(sets))),
        ]))
    }

    /// Parses a signed rules list after checking its size and its signature against the pinned
    /// root key. The version is read before anything else: a newer one is
    /// [`Error::RulesTooNew`], and nothing of the list is read.
    pub fn verify(bytes: &[u8], root_public_key: &[u8; 32]) -> Result<Self> {
        let payload = lists::open(
            bytes,
            root_public_key,
            RULES_LIST_TYPE,
            MAX_RULES_LIST_BYTES,
            WHAT,
        )?;
        Self::from_payload(payload)
    }

    fn from_payload(payload: &[u8]) -> Result<Self> {
        let value = cbor::decode(payload, MAX_RULES_LIST_BYTES, WHAT)?;
        check_version(&value)?;
        let mut map = IntMap::new(
            value,
            WHAT,
            &[
                key::SEQUENCE,
                key::VERSION,
                key::ISSUED_AT,
                key::NEXT_UPDATE,
                key::RULE_SETS,
            ],
        )?;
        let sequence = cbor::uint(&map.required(key::SEQUENCE)?, WHAT)?;
        let issued_at = lists::time(&map.required(key::ISSUED_AT)?, WHAT)?;
        let next_update = lists::time(&map.required(key::NEXT_UPDATE)?, WHAT)?;
        let sets = cbor::array(map.required(key::RULE_SETS)?, WHAT, MAX_RULE_SETS)?;
        if sets.is_empty() {
            return Err(Error::malformed(
                WHAT,
                "a rules list has at least one rule set",
            ));
        }
        let rule_sets = sets.into_iter().map(rule_set).collect::<Result<Vec<_>>>()?;
        if rule_sets
            .windows(2)
            .any(|w| w[0].starts_at() >= w[1].starts_at())
        {
            return Err(Error::malformed(
                WHAT,
                "rule sets do not take effect in strictly ascending order",
            ));
        }
        Ok(Self {
            sequence,
            issued_at,
            next_update,
            rule_sets,
        })
    }
}

/// Refuses a version other than [`RULES_VERSION`] before the rest of the payload is read: a
/// newer format may have other fields, so its version is looked up in the raw map.
fn check_version(value: &Value) -> Result<()> {
    let Value::Map(pairs) = value else {
        return Err(Error::malformed(WHAT, "expected a map"));
    };
    let version = pairs
        .iter()
        .find(|(k, _)| k.as_integer() == Some(key::VERSION.into()))
        .ok_or(Error::malformed(WHAT, "the version is missing"))?;
    match cbor::uint(&version.1, WHAT)? {
        RULES_VERSION => Ok(()),
        found if found > RULES_VERSION => Err(Error::RulesTooNew {
            found,
            supported: RULES_VERSION,
        }),
        _ => Err(Error::malformed(WHAT, "unknown version")),
    }
}

/// An integer in `range`, or malformed with `why`.
fn bounded(value: &Value, range: std::ops::RangeInclusive<i64>, why: &'static str) -> Result<i64> {
    let n = cbor::int(value, WHAT)?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(Error::malformed(WHAT, why))
    }
}

fn rule_set(value: Value) -> Result<RuleSet> {
    let mut map = IntMap::new(
        value,
        WHAT,
        &[
            key::TAKES_EFFECT,
            key::UTC_OFFSET,
            key::VACCINATION,
            key::TESTS,
            key::RECOVERY_DAYS,
            key::MODES,
        ],
    )?;
    let day = bounded(
        &map.required(key::TAKES_EFFECT)?,
        FIRST_DAY..=LAST_DAY,
        "a rule set takes effect outside 2000-01-01 to 2199-12-31",
    )?;
    let takes_effect = NaiveDate::default() + Duration::days(day);
    let offset = bounded(
        &map.required(key::UTC_OFFSET)?,
        i64::from(*UTC_OFFSET_MINUTES.start())..=i64::from(*UTC_OFFSET_MINUTES.end()),
        "the UTC offset is outside -12:00 to +14:00",
    )?;
    let vaccination = map
        .optional(key::VACCINATION)
        .map(vaccination_rule)
        .transpose()?;
    let (mut pcr_valid_for, mut rapid_antigen_valid_for) = (None, None);
    if let Some(tests) = map.optional(key::TESTS) {
        let tests = cbor::array(tests, WHAT, 2)?;
        if tests.is_empty() {
            return Err(Error::malformed(WHAT, "an empty test list must be omitted"));
        }
        let mut previous = 0;
        for test in tests {
            let pair = cbor::array(test, WHAT, 2)?;
            let [code, hours] = <[Value; 2]>::try_from(pair)
                .map_err(|_| Error::malformed(WHAT, "a test window is [type, hours]"))?;
            let code = cbor::small(&code, WHAT)?;
            if code <= previous {
                return Err(Error::malformed(
                    WHAT,
                    "test types are not in strictly ascending order",
                ));
            }
            previous = code;
            let window = Some(Duration::hours(bounded(
                &hours,
                1..=MAX_TEST_HOURS,
                "a test window is outside 1 to 720 hours",
            )?));
            match code {
                key::PCR => pcr_valid_for = window,
                key::RAPID_ANTIGEN => rapid_antigen_valid_for = window,
                _ => return Err(Error::malformed(WHAT, "unknown test type")),
            }
        }
    }
    let recovery_valid_days = map
        .optional(key::RECOVERY_DAYS)
        .map(|v| {
            bounded(
                &v,
                1..=MAX_VALID_DAYS,
                "a recovery window is outside 1 to 3660 days",
            )
        })
        .transpose()?;
    let mut set = RuleSet {
        takes_effect,
        policy: Policy {
            vaccination,
            pcr_valid_for,
            rapid_antigen_valid_for,
            recovery_valid_days,
            // In range: bounded above.
            utc_offset_minutes: i32::try_from(offset).unwrap_or_default(),
        },
        modes: Vec::new(),
    };
    let modes = cbor::array(map.required(key::MODES)?, WHAT, MAX_MODES)?;
    if modes.is_empty() {
        return Err(Error::malformed(WHAT, "a rule set has at least one mode"));
    }
    for mode in modes {
        let mode = venue_mode(mode)?;
        if set.mode(&mode.name).is_some() {
            return Err(Error::malformed(WHAT, "duplicate venue mode"));
        }
        if let ModeRule::Pass(kinds) = &mode.rule {
            if !kinds.iter().all(|&k| set.has_rule(k)) {
                return Err(Error::malformed(
                    WHAT,
                    "a mode accepts a kind of event the rule set has no rule for",
                ));
            }
        }
        set.modes.push(mode);
    }
    Ok(set)
}

fn vaccination_rule(value: Value) -> Result<VaccinationRule> {
    let mut map = IntMap::new(
        value,
        WHAT,
        &[key::WAIT_DAYS, key::PRIMARY_DAYS, key::BOOSTER_DAYS],
    )?;
    let valid_days = |v: Value| {
        bounded(
            &v,
            1..=MAX_VALID_DAYS,
            "a vaccination validity is outside 1 to 3660 days",
        )
    };
    Ok(VaccinationRule {
        days_after_primary: bounded(
            &map.required(key::WAIT_DAYS)?,
            0..=MAX_WAIT_DAYS,
            "the wait after the primary series is outside 0 to 365 days",
        )?,
        primary_valid_days: map
            .optional(key::PRIMARY_DAYS)
            .map(valid_days)
            .transpose()?,
        booster_valid_days: map
            .optional(key::BOOSTER_DAYS)
            .map(valid_days)
            .transpose()?,
    })
}

fn venue_mode(value: Value) -> Result<VenueMode> {
    let mut map = IntMap::new(value, WHAT, &[key::MODE_NAME, key::MODE_ACCEPTS])?;
    let name = cbor::text(map.required(key::MODE_NAME)?, WHAT)?;
    let safe = name.len() <= MAX_MODE_NAME_BYTES
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !safe {
        return Err(Error::malformed(
            WHAT,
            "a mode name is not 1 to 32 of a-z, 0-9 and _ starting with a letter",
        ));
    }
    let Some(accepts) = map.optional(key::MODE_ACCEPTS) else {
        return Ok(VenueMode {
            name,
            rule: ModeRule::Exempt,
        });
    };
    let mut kinds: Vec<EventKind> = Vec::new();
    for code in cbor::array(accepts, WHAT, 3)? {
        let kind = EventKind::from_code(cbor::small(&code, WHAT)?)
            .ok_or(Error::malformed(WHAT, "unknown event kind"))?;
        if kinds.last().is_some_and(|&last| last >= kind) {
            return Err(Error::malformed(
                WHAT,
                "event kinds are not in strictly ascending order",
            ));
        }
        kinds.push(kind);
    }
    if kinds.is_empty() {
        return Err(Error::malformed(
            WHAT,
            "a mode that needs a pass accepts at least one kind of event",
        ));
    }
    Ok(VenueMode {
        name,
        rule: ModeRule::Pass(kinds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, Product, Recovery, TestOutcome, TestResult, TestType, Vaccination};
    use crate::verdict::PolicyRule;

    fn root() -> Ed25519KeyPair {
        Ed25519KeyPair::from_secret(&[5; 32]).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Noon in Seoul on the given date.
    fn noon(s: &str) -> DateTime<Utc> {
        day(s).and_hms_opt(3, 0, 0).unwrap().and_utc()
    }

    /// The Korean set of 3 January 2022, then a February set adding rapid antigen tests and a
    /// `large_store` mode that takes vaccinations only.
    fn list() -> RulesList {
        let mut february = RuleSet::korea_2022();
        february.takes_effect = day("2022-02-07");
        february.policy.rapid_antigen_valid_for = Some(Duration::hours(24));
        february.modes.push(VenueMode {
            name: "large_store".into(),
            rule: ModeRule::Pass(vec![EventKind::Vaccination]),
        });
        RulesList {
            sequence: 3,
            issued_at: noon("2021-12-31"),
            next_update: noon("2022-01-01"),
            rule_sets: vec![RuleSet::korea_2022(), february],
        }
    }

    #[test]
    fn a_good_list_round_trips() {
        let list = list();
        let back = RulesList::verify(&list.sign(&root()).unwrap(), &root().public()).unwrap();
        assert_eq!(back, list);
        assert_eq!(back.info().sequence, 3);
    }

    #[test]
    fn a_set_takes_effect_at_midnight_in_its_time_zone() {
        let list = list();
        // 2022-01-03 00:00 KST is 2022-01-02 15:00 UTC.
        let midnight = day("2022-01-02").and_hms_opt(15, 0, 0).unwrap().and_utc();
        assert_eq!(list.in_force(midnight - Duration::seconds(1)), None);
        assert_eq!(list.in_force(midnight), Some(&list.rule_sets[0]));
        assert_eq!(list.in_force(noon("2022-02-06")), Some(&list.rule_sets[0]));
        assert_eq!(list.in_force(noon("2022-02-07")), Some(&list.rule_sets[1]));
    }

    #[test]
    fn a_mode_requires_the_rules_of_the_kinds_it_accepts() {
        let list = list();
        let february = list.in_force(noon("2022-02-10")).unwrap();
        assert_eq!(february.requirement("exempt").unwrap(), Requirement::Exempt);
        let Requirement::Pass(store) = february.requirement("large_store").unwrap() else {
            panic!("a large store needs a pass");
        };
        assert_eq!(store.vaccination, Policy::korea_2022().vaccination);
        assert_eq!(
            (store.pcr_valid_for, store.recovery_valid_days),
            (None, None)
        );
        assert!(matches!(
            february.requirement("cinema"),
            Err(Error::NotFound("venue mode"))
        ));
        assert!(list.rule_sets[0].requirement("large_store").is_err());
    }

    /// The preset as data, signed, read back, in force and in its restaurant mode, judges every
    /// pass of the table exactly as the compiled `Policy::korea_2022()`.
    #[test]
    fn the_korean_rule_set_judges_like_the_compiled_korean_policy() {
        let signed = RulesList {
            sequence: 1,
            issued_at: noon("2021-12-31"),
            next_update: noon("2022-01-01"),
            rule_sets: vec![RuleSet::korea_2022()],
        }
        .sign(&root())
        .unwrap();
        let list = RulesList::verify(&signed, &root().public()).unwrap();
        let Requirement::Pass(policy) = list
            .in_force(noon("2022-01-03"))
            .unwrap()
            .requirement("restaurant_cafe")
            .unwrap()
        else {
            panic!("a restaurant needs a pass");
        };
        assert_eq!(policy, Policy::korea_2022());
        let dose = |dose, of, date: &str| {
            Event::Vaccination(Vaccination {
                product: Product::Comirnaty,
                dose,
                of,
                date: day(date),
            })
        };
        let test = |test_type, outcome, at| {
            Event::Test(TestResult {
                test_type,
                outcome,
                sampled_at: at,
            })
        };
        let passes: Vec<Vec<Event>> = vec![
            vec![dose(1, 2, "2021-12-01")],
            vec![dose(1, 2, "2021-12-01"), dose(2, 2, "2021-12-22")],
            vec![dose(1, 2, "2021-07-01"), dose(2, 2, "2021-07-22")],
            vec![
                dose(1, 2, "2021-07-01"),
                dose(2, 2, "2021-07-22"),
                dose(3, 2, "2022-01-05"),
            ],
            vec![test(
                TestType::Pcr,
                TestOutcome::Negative,
                noon("2022-01-09"),
            )],
            vec![test(
                TestType::Pcr,
                TestOutcome::Positive,
                noon("2022-01-09"),
            )],
            vec![test(
                TestType::RapidAntigen,
                TestOutcome::Negative,
                noon("2022-01-10"),
            )],
            vec![Event::Recovery(Recovery {
                first_positive: day("2021-08-01"),
            })],
        ];
        let compiled = Policy::korea_2022();
        let mut judged = std::collections::BTreeSet::new();
        for pass in &passes {
            for d in 0..=60 {
                // Every six hours from 1 January to 2 March 2022, across both midnights.
                for h in [0, 6, 12, 18] {
                    let now = noon("2022-01-01") + Duration::days(d) + Duration::hours(h);
                    let expected = compiled.evaluate(pass, now);
                    assert_eq!(policy.evaluate(pass, now), expected, "{pass:?} at {now}");
                    judged.insert(format!("{expected:?}"));
                }
            }
        }
        // The table reaches valid passes and each kind of refusal.
        for outcome in [
            Ok(()),
            Err(PolicyRule::PrimarySeriesIncomplete),
            Err(PolicyRule::TooSoonAfterVaccination),
            Err(PolicyRule::VaccinationExpired),
            Err(PolicyRule::TestExpired),
            Err(PolicyRule::TestPositive),
            Err(PolicyRule::TestTypeNotAccepted),
            Err(PolicyRule::RecoveryExpired),
        ] {
            assert!(
                judged.contains(&format!("{outcome:?}")),
                "{outcome:?} never judged"
            );
        }
    }

    /// The payload of [`list`], as a CBOR value to break.
    fn payload() -> Value {
        list().to_cbor().unwrap()
    }

    /// The value at `path` (map keys and array indices) inside `value`.
    fn at<'a>(value: &'a mut Value, path: &[i64]) -> &'a mut Value {
        path.iter().fold(value, |v, &step| match v {
            Value::Map(pairs) => {
                &mut pairs
                    .iter_mut()
                    .find(|(k, _)| k.as_integer() == Some(step.into()))
                    .unwrap()
                    .1
            }
            Value::Array(items) => &mut items[usize::try_from(step).unwrap()],
            _ => panic!("no step {step} in {v:?}"),
        })
    }

    /// Sets (or with `None` removes) `key` of the map at `path`, keeping the map canonical.
    fn put(value: &mut Value, path: &[i64], key: i64, field: Option<Value>) {
        let Value::Map(pairs) = at(value, path) else {
            panic!("not a map");
        };
        pairs.retain(|(k, _)| k.as_integer() != Some(key.into()));
        if let Some(field) = field {
            pairs.push((key.into(), field));
        }
        pairs.sort_by_key(|(k, _)| cbor::encode(k).unwrap());
    }

    fn signed(payload: &Value) -> Vec<u8> {
        cose::sign(
            &root(),
            Some(RULES_LIST_TYPE),
            cbor::encode(payload).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn each_bad_list_is_refused_with_the_check_that_catches_it() {
        let set = |i: i64| [key::RULE_SETS, i];
        type Break = Box<dyn Fn(&mut Value)>;
        let field = |path: Vec<i64>, key: i64, v: Value| -> Break {
            Box::new(move |p| put(p, &path, key, Some(v.clone())))
        };
        let s0 = set(0).to_vec();
        let vaccination = [s0.clone(), vec![key::VACCINATION]].concat();
        let mode0 = [s0.clone(), vec![key::MODES, 0]].concat();
        let cases: Vec<(&str, Break, &str)> = vec![
            (
                "not a map",
                Box::new(|p| *p = Value::Array(vec![])),
                "expected a map",
            ),
            (
                "unknown field",
                field(vec![], 9, 1.into()),
                "unknown map key",
            ),
            (
                "no version",
                Box::new(|p| put(p, &[], key::VERSION, None)),
                "version is missing",
            ),
            (
                "version 0",
                field(vec![], key::VERSION, 0.into()),
                "unknown version",
            ),
            (
                "negative wait",
                field(vaccination.clone(), key::WAIT_DAYS, (-1).into()),
                "0 to 365 days",
            ),
            (
                "validity of a century",
                field(vaccination.clone(), key::PRIMARY_DAYS, 36_500.into()),
                "1 to 3660 days",
            ),
            (
                "zero-day booster validity",
                field(vaccination.clone(), key::BOOSTER_DAYS, 0.into()),
                "1 to 3660 days",
            ),
            (
                "recovery of a century",
                field(s0.clone(), key::RECOVERY_DAYS, 36_500.into()),
                "1 to 3660 days",
            ),
            (
                "negative recovery",
                field(s0.clone(), key::RECOVERY_DAYS, (-180).into()),
                "1 to 3660 days",
            ),
            (
                "test window of a year",
                field(
                    s0.clone(),
                    key::TESTS,
                    Value::Array(vec![Value::Array(vec![1.into(), 8760.into()])]),
                ),
                "1 to 720 hours",
            ),
            (
                "unknown test type",
                field(
                    s0.clone(),
                    key::TESTS,
                    Value::Array(vec![Value::Array(vec![3.into(), 24.into()])]),
                ),
                "unknown test type",
            ),
            (
                "a test type twice",
                field(
                    s0.clone(),
                    key::TESTS,
                    Value::Array(vec![
                        Value::Array(vec![1.into(), 24.into()]),
                        Value::Array(vec![1.into(), 48.into()]),
                    ]),
                ),
                "strictly ascending",
            ),
            (
                "empty test list",
                field(s0.clone(), key::TESTS, Value::Array(vec![])),
                "must be omitted",
            ),
            (
                "time zone beyond +14:00",
                field(s0.clone(), key::UTC_OFFSET, 900.into()),
                "-12:00 to +14:00",
            ),
            (
                "effective date in 1999",
                field(s0.clone(), key::TAKES_EFFECT, 10_956.into()),
                "2000-01-01 to 2199-12-31",
            ),
            (
                "unknown event kind",
                field(
                    mode0.clone(),
                    key::MODE_ACCEPTS,
                    Value::Array(vec![1.into(), 4.into()]),
                ),
                "unknown event kind",
            ),
            (
                "event kinds out of order",
                field(
                    mode0.clone(),
                    key::MODE_ACCEPTS,
                    Value::Array(vec![2.into(), 1.into()]),
                ),
                "strictly ascending",
            ),
            (
                "a pass mode accepting nothing",
                field(mode0.clone(), key::MODE_ACCEPTS, Value::Array(vec![])),
                "at least one kind",
            ),
            (
                "a mode accepting recoveries without a recovery rule",
                Box::new(move |p| put(p, &set(0), key::RECOVERY_DAYS, None)),
                "no rule for",
            ),
            (
                "a mode name with a capital",
                field(mode0.clone(), key::MODE_NAME, Value::Text("Exempt".into())),
                "mode name",
            ),
            (
                "a mode name of 33 bytes",
                field(mode0.clone(), key::MODE_NAME, Value::Text("a".repeat(33))),
                "mode name",
            ),
            (
                "a mode twice",
                field(mode0, key::MODE_NAME, Value::Text("exempt".into())),
                "duplicate venue mode",
            ),
            (
                "seventeen modes",
                Box::new(move |p| {
                    let modes = (0..17)
                        .map(|i| cbor::map([(key::MODE_NAME, Some(Value::Text(format!("m{i}"))))]))
                        .collect();
                    put(p, &set(0), key::MODES, Some(Value::Array(modes)));
                }),
                "too many items",
            ),
            (
                "no mode",
                field(s0.clone(), key::MODES, Value::Array(vec![])),
                "at least one mode",
            ),
            (
                "sets out of order",
                Box::new(|p| {
                    let Value::Array(sets) = at(p, &[key::RULE_SETS]) else {
                        panic!("sets");
                    };
                    sets.swap(0, 1);
                }),
                "strictly ascending order",
            ),
            (
                "no rule set",
                field(vec![], key::RULE_SETS, Value::Array(vec![])),
                "at least one rule set",
            ),
            (
                "sixty-five rule sets",
                Box::new(move |p| {
                    let one = at(p, &set(0)).clone();
                    put(p, &[], key::RULE_SETS, Some(Value::Array(vec![one; 65])));
                }),
                "too many items",
            ),
        ];
        for (name, break_it, expected) in cases {
            let mut value = payload();
            break_it(&mut value);
            let error = RulesList::verify(&signed(&value), &root().public()).unwrap_err();
            assert!(
                matches!(error, Error::Malformed { .. }) && error.to_string().contains(expected),
                "{name}: {error}"
            );
        }
        assert!(RulesList::verify(&signed(&payload()), &root().public()).is_ok());
    }

    #[test]
    fn a_newer_version_is_refused_before_anything_else_is_read() {
        let mut value = payload();
        put(&mut value, &[], key::VERSION, Some(2.into()));
        // A field the newer format may have, which version 1 would call malformed.
        put(&mut value, &[], 6, Some(Value::Text("new".into())));
        let error = RulesList::verify(&signed(&value), &root().public()).unwrap_err();
        assert!(
            matches!(
                error,
                Error::RulesTooNew {
                    found: 2,
                    supported: 1
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn a_list_too_large_or_not_signed_by_the_root_is_refused_before_its_payload_is_read() {
        let good = list().sign(&root()).unwrap();
        let mut huge = payload();
        put(
            &mut huge,
            &[],
            9,
            Some(Value::Bytes(vec![0; MAX_RULES_LIST_BYTES])),
        );
        assert!(matches!(
            RulesList::verify(&signed(&huge), &root().public()),
            Err(Error::TooLarge { .. })
        ));
        let other = Ed25519KeyPair::from_secret(&[6; 32]).unwrap();
        let by_other = list().sign(&other).unwrap();
        assert!(matches!(
            RulesList::verify(&by_other, &root().public()),
            Err(Error::BadSignature(WHAT))
        ));
        // The root's kid but another key's signature.
        let forged = cose::Unsigned::new(
            &root().kid(),
            Some(RULES_LIST_TYPE),
            cbor::encode(&payload()).unwrap(),
        );
        let signature = other.sign(forged.to_be_signed());
        assert!(matches!(
            RulesList::verify(&forged.finish(signature).unwrap(), &root().public()),
            Err(Error::BadSignature(WHAT))
        ));
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            RulesList::verify(&flipped, &root().public()),
            Err(Error::BadSignature(WHAT))
        ));
        // A trust list is not a rules list, even signed by the root.
        let trust = crate::lists::TrustList {
            sequence: 1,
            issuer: "KR".into(),
            issued_at: noon("2022-01-01"),
            next_update: noon("2022-01-02"),
            keys: vec![],
        }
        .sign(&root())
        .unwrap();
        assert!(matches!(
            RulesList::verify(&trust, &root().public()),
            Err(Error::Malformed { .. })
        ));
        assert!(RulesList::verify(&good, &root().public()).is_ok());
    }

    #[test]
    fn the_authority_side_refuses_to_sign_what_verifiers_would_refuse() {
        let mut bad = list();
        bad.rule_sets[0].policy.recovery_valid_days = Some(-1);
        assert!(matches!(bad.sign(&root()), Err(Error::InvalidArgument(_))));
        let mut minutes = list();
        minutes.rule_sets[0].policy.pcr_valid_for = Some(Duration::minutes(90));
        assert!(matches!(
            minutes.sign(&root()),
            Err(Error::InvalidArgument(_))
        ));
        let mut unordered = list();
        unordered.rule_sets.reverse();
        assert!(matches!(
            unordered.sign(&root()),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn the_authority_signs_a_rules_list_with_its_root_key_in_its_vault() {
        use crate::vault::KeyVault;
        let dir = tempfile::tempdir().unwrap();
        let vault = std::sync::Arc::new(crate::KeyFile::create(dir.path().join("keys")).unwrap());
        let root_public_key = vault.generate().unwrap();
        let authority = crate::Authority::new("KR", root_public_key, vault).unwrap();
        let now = noon("2021-12-31");
        let signed = authority
            .sign_rules_list(7, list().rule_sets, now, Duration::hours(24))
            .unwrap();
        let back = RulesList::verify(&signed, &root_public_key).unwrap();
        assert_eq!((back.sequence, back.issued_at), (7, now));
        assert_eq!(back.next_update, now + Duration::hours(24));
        assert_eq!(back.rule_sets, list().rule_sets);
        let mut century = list().rule_sets;
        century[1].policy.recovery_valid_days = Some(36_500);
        assert!(matches!(
            authority.sign_rules_list(8, century, now, Duration::hours(24)),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            authority.sign_rules_list(8, vec![], now, Duration::hours(24)),
            Err(Error::InvalidArgument(_))
        ));
    }

    /// Mutated payloads, each signed by the root so it reaches the parser: every one gets an
    /// answer without a panic, and one that parses signs back to the same list.
    #[test]
    fn mutated_payloads_behind_a_real_signature_never_panic_and_what_parses_round_trips() {
        let genuine = cbor::encode(&payload()).unwrap();
        let mut state: u64 = 0x5eed_0012;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut parsed = 0;
        for _ in 0..1500 {
            let mut bytes = genuine.clone();
            for _ in 0..1 + next() % 3 {
                let i = usize::try_from(next() % bytes.len() as u64).unwrap();
                match next() % 3 {
                    0 => bytes[i] = next() as u8,
                    1 => bytes[i] ^= 1 << (next() % 8),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            let signed = cose::sign(&root(), Some(RULES_LIST_TYPE), bytes).unwrap();
            if let Ok(list) = RulesList::verify(&signed, &root().public()) {
                parsed += 1;
                let again = RulesList::verify(&list.sign(&root()).unwrap(), &root().public());
                assert_eq!(again.unwrap(), list);
            }
        }
        // About one in twenty still parses (a changed number in range): both paths are reached.
        assert!(parsed > 0 && parsed < 1500, "{parsed} of 1500 parsed");
    }
}
