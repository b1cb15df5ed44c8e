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
    /// and `exempt` (no pass).
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
            rapid_antigen_valid_for: p.rapid_antigen_valid_for.filter(|_| accepts(EventKind::Test)),
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
                (key::TESTS, (!tests.is_empty()).then_some(Value::Array(tests))),
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
            return Err(Error::malformed(WHAT, "a rules list has at least one rule set"));
        }
        let rule_sets = sets
            .into_iter()
            .map(rule_set)
            .collect::<Result<Vec<_>>>()?;
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
