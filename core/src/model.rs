//! What a pass says: the person and their vaccination, test and recovery events, and the compact
//! CBOR form of that data inside a credential (the private claim, see docs/format.md).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use ciborium::value::Value;

use crate::cbor::{self, IntMap};
use crate::error::{Error, Result};

/// Longest name accepted, in bytes of UTF-8 (Korean syllables take three bytes each).
pub const MAX_NAME_BYTES: usize = 200;
/// Most events one credential may carry.
pub const MAX_EVENTS: usize = 16;
/// Highest dose number (and series length) accepted: far above any schedule in use, so a larger
/// number can only be a mistake.
pub const MAX_DOSE: u8 = 20;
/// Dates on a pass lie in 1900-01-01 ..= 2199-12-31: plenty for birth and event dates, and far
/// from any overflow in date arithmetic.
const FIRST_DAY: NaiveDate = day(1900, 1, 1);
const LAST_DAY: NaiveDate = day(2199, 12, 31);

const fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

/// The holder of a pass. `Debug` never prints the name or the date of birth.
#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    /// Name in the holder's script (Hangul, Latin, ...) (see `PassData::validate`).
    pub name: String,
    /// Date of birth, a calendar day.
    pub date_of_birth: NaiveDate,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Person { <redacted> }")
    }
}

/// Vaccine products the SDK knows, with the number of doses in their primary series.
/// The numeric code is what travels in the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Product {
    /// Pfizer-BioNTech, EU/1/20/1528.
    Comirnaty,
    /// Moderna, EU/1/20/1507.
    Spikevax,
    /// AstraZeneca, EU/1/21/1529.
    Vaxzevria,
    /// Janssen, EU/1/20/1525: one dose completes the primary series.
    Jcovden,
    /// Novavax, EU/1/21/1618.
    Nuvaxovid,
    /// SK bioscience GBP510, approved in Korea in June 2022.
    SkyCovione,
}

impl Product {
    /// Every product, in the order of their codes.
    pub const ALL: [Product; 6] = [
        Product::Comirnaty,
        Product::Spikevax,
        Product::Vaxzevria,
        Product::Jcovden,
        Product::Nuvaxovid,
        Product::SkyCovione,
    ];

    /// The code used on the wire.
    pub fn code(self) -> u8 {
        match self {
            Product::Comirnaty => 1,
            Product::Spikevax => 2,
            Product::Vaxzevria => 3,
            Product::Jcovden => 4,
            Product::Nuvaxovid => 5,
            Product::SkyCovione => 6,
        }
    }

    /// The product with this wire code, or `None` for a code the SDK does not know (refused, not
    /// guessed).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// The product's name as printed on the pass (e.g. "SKYCovione").
    pub fn name(self) -> &'static str {
        match self {
            Product::Comirnaty => "Comirnaty",
            Product::Spikevax => "Spikevax",
            Product::Vaxzevria => "Vaxzevria",
            Product::Jcovden => "Jcovden",
            Product::Nuvaxovid => "Nuvaxovid",
            Product::SkyCovione => "SKYCovione",
        }
    }

    /// Doses in the standard primary series.
    pub fn primary_doses(self) -> u8 {
        match self {
            Product::Jcovden => 1,
            _ => 2,
        }
    }
}

/// One dose of a vaccine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vaccination {
    /// Which vaccine.
    pub product: Product,
    /// Which dose this is, from 1.
    pub dose: u8,
    /// Doses in this person's primary series; a dose beyond it is a booster.
    pub of: u8,
    /// The day of the dose, a calendar day.
    pub date: NaiveDate,
}

/// Which kind of test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestType {
    /// A PCR (nucleic acid amplification) test; wire code 1.
    Pcr,
    /// A rapid antigen test; wire code 2.
    RapidAntigen,
}

/// What a test found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    /// Not infected; wire code 0.
    Negative,
    /// Infected; wire code 1.
    Positive,
}

/// A test result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// PCR or rapid antigen.
    pub test_type: TestType,
    /// Negative or positive.
    pub outcome: TestOutcome,
    /// When the sample was taken; validity counts from here.
    pub sampled_at: DateTime<Utc>,
}

/// Recovery from a confirmed infection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The day of the first positive test, a calendar day.
    pub first_positive: NaiveDate,
}

/// One health event on a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A dose of a vaccine.
    Vaccination(Vaccination),
    /// A test and its result.
    Test(TestResult),
    /// A recovery from an infection.
    Recovery(Recovery),
}

impl Event {
    /// The calendar day of the event (a test's in UTC).
    pub fn day(&self) -> NaiveDate {
        match self {
            Event::Vaccination(v) => v.date,
            Event::Test(t) => t.sampled_at.date_naive(),
            Event::Recovery(r) => r.first_positive,
        }
    }
}

/// What kind of pass this is, for lists and display: the kind of its events, vaccination first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// A pass with at least one vaccination.
    Vaccination,
    /// A pass with tests and no vaccination.
    Test,
    /// A pass with recoveries only.
    Recovery,
}

impl PassKind {
    /// A stable lower-case name (`vaccination`, `test`, `recovery`), e.g. for `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            PassKind::Vaccination => "vaccination",
            PassKind::Test => "test",
            PassKind::Recovery => "recovery",
        }
    }
}

/// Everything a credential says about its holder.
#[derive(Clone, PartialEq, Eq)]
pub struct PassData {
    /// Who the pass belongs to.
    pub person: Person,
    /// The health events, 1 to [`MAX_EVENTS`].
    pub events: Vec<Event>,
}

impl fmt::Debug for PassData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassData")
            .field("person", &self.person)
            .field("events", &self.events.len())
            .finish()
    }
}

// Wire keys of the pass-data map (docs/format.md).
const NAME: i64 = 1;
const BIRTH: i64 = 2;
const VACCINATIONS: i64 = 3;
const TESTS: i64 = 4;
const RECOVERIES: i64 = 5;
const WHAT: &str = "pass data";

impl PassData {
    /// The pass's kind from its events (vaccination first, then test, then recovery); `None`
    /// without events.
    pub fn kind(&self) -> Option<PassKind> {
        let has = |k: fn(&Event) -> bool| self.events.iter().any(k);
        if has(|e| matches!(e, Event::Vaccination(_))) {
            Some(PassKind::Vaccination)
        } else if has(|e| matches!(e, Event::Test(_))) {
            Some(PassKind::Test)
        } else if has(|e| matches!(e, Event::Recovery(_))) {
            Some(PassKind::Recovery)
        } else {
            None
        }
    }

    /// Checks what an issuer must not sign and a verifier must not show (docs/format.md, "Pass
    /// data rules"). The same rules run when a credential is signed and when one is decoded, so a
    /// signed pass that breaks them is refused as malformed rather than shown at the door.
    pub fn validate(&self) -> Result<()> {
        self.check()
            .map_err(|why| Error::InvalidArgument(why.into()))
    }

    pub(crate) fn check(&self) -> Result<(), &'static str> {
        check_name(&self.person.name)?;
        let born = self.person.date_of_birth;
        if !(FIRST_DAY..=LAST_DAY).contains(&born) {
            return Err("date of birth is outside 1900-01-01 to 2199-12-31");
        }
        if self.events.is_empty() || self.events.len() > MAX_EVENTS {
            return Err("a pass needs 1 to 16 events");
        }
        for event in &self.events {
            if let Event::Vaccination(v) = event {
                if !(1..=MAX_DOSE).contains(&v.dose) || !(1..=MAX_DOSE).contains(&v.of) {
                    return Err("dose numbers run from 1 to 20");
                }
            }
            let day = event.day();
            if !(FIRST_DAY..=LAST_DAY).contains(&day) {
                return Err("an event is dated outside 1900-01-01 to 2199-12-31");
            }
            // One day of slack: a test's time is in UTC, the birth date a local calendar day.
            if day + chrono::Duration::days(1) < born {
                return Err("an event is dated before the date of birth");
            }
        }
        Ok(())
    }

    pub(crate) fn to_cbor(&self) -> Value {
        let list = |items: Vec<Value>| (!items.is_empty()).then_some(Value::Array(items));
        let mut vaccinations = Vec::new();
        let mut tests = Vec::new();
        let mut recoveries = Vec::new();
        for event in &self.events {
            match event {
                Event::Vaccination(v) => vaccinations.push(Value::Array(vec![
                    v.product.code().into(),
                    v.dose.into(),
                    v.of.into(),
                    days(v.date).into(),
                ])),
                Event::Test(t) => tests.push(Value::Array(vec![
                    match t.test_type {
                        TestType::Pcr => 1.into(),
                        TestType::RapidAntigen => 2.into(),
                    },
                    match t.outcome {
                        TestOutcome::Negative => 0.into(),
                        TestOutcome::Positive => 1.into(),
                    },
                    t.sampled_at.timestamp().into(),
                ])),
                Event::Recovery(r) => {
                    recoveries.push(Value::Array(vec![days(r.first_positive).into()]))
                }
            }
        }
        cbor::map([
            (NAME, Some(Value::Text(self.person.name.clone()))),
            (BIRTH, Some(days(self.person.date_of_birth).into())),
            (VACCINATIONS, list(vaccinations)),
            (TESTS, list(tests)),
            (RECOVERIES, list(recoveries)),
        ])
    }

    pub(crate) fn from_cbor(value: Value) -> Result<Self> {
        let mut map = IntMap::new(value, WHAT, &[NAME, BIRTH, VACCINATIONS, TESTS, RECOVERIES])?;
        let name = cbor::text(map.required(NAME)?, WHAT)?;
        let date_of_birth = date(&map.required(BIRTH)?)?;
        let mut events = Vec::new();
        let mut each = |key: i64, arity: usize| -> Result<Vec<Vec<Value>>> {
            let Some(items) = map.optional(key) else {
                return Ok(Vec::new());
            };
            let items = cbor::array(items, WHAT, MAX_EVENTS)?;
            if items.is_empty() {
                return Err(Error::malformed(
                    WHAT,
                    "an empty event list must be omitted",
                ));
            }
            items
                .into_iter()
                .map(|item| {
                    let fields = cbor::array(item, WHAT, arity)?;
                    if fields.len() == arity {
                        Ok(fields)
                    } else {
                        Err(Error::malformed(
                            WHAT,
                            "event has the wrong number of fields",
                        ))
                    }
                })
                .collect()
        };
        for f in each(VACCINATIONS, 4)? {
            let code = cbor::small(&f[0], WHAT)?;
            events.push(Event::Vaccination(Vaccination {
                product: Product::from_code(code)
                    .ok_or(Error::malformed(WHAT, "unknown vaccine product"))?,
                dose: cbor::small(&f[1], WHAT)?,
                of: cbor::small(&f[2], WHAT)?,
                date: date(&f[3])?,
            }));
        }
        for f in each(TESTS, 3)? {
            let test_type = match cbor::uint(&f[0], WHAT)? {
                1 => TestType::Pcr,
                2 => TestType::RapidAntigen,
                _ => return Err(Error::malformed(WHAT, "unknown test type")),
            };
            let outcome = match cbor::uint(&f[1], WHAT)? {
                0 => TestOutcome::Negative,
                1 => TestOutcome::Positive,
                _ => return Err(Error::malformed(WHAT, "unknown test result")),
            };
            let sampled_at = DateTime::from_timestamp(cbor::int(&f[2], WHAT)?, 0)
                .ok_or(Error::malformed(WHAT, "sample time out of range"))?;
            events.push(Event::Test(TestResult {
                test_type,
                outcome,
                sampled_at,
            }));
        }
        for f in each(RECOVERIES, 1)? {
            events.push(Event::Recovery(Recovery {
                first_positive: date(&f[0])?,
            }));
        }
        let pass = Self {
            person: Person {
                name,
                date_of_birth,
            },
            events,
        };
        pass.check().map_err(|why| Error::malformed(WHAT, why))?;
        Ok(pass)
    }
}

/// A name is shown to the person at the door as it is, so it must be plain text: 1 to 200 bytes,
/// not starting or ending with white space nor starting with a combining mark (which would
/// attach to the text before it), and with no character of general
/// category C (Cc controls, Cf format characters such as the bidi overrides and isolates that
/// reorder what is shown and the invisible zero-width joiners, Co private use, Cn unassigned,
/// whose rendering is unknown) nor a line or paragraph separator (Zl, Zp).
fn check_name(name: &str) -> Result<(), &'static str> {
    use unicode_properties::{GeneralCategory as Gc, GeneralCategoryGroup, UnicodeGeneralCategory};
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err("name must be 1 to 200 bytes");
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return Err("name starts or ends with white space");
    }
    if name
        .chars()
        .next()
        .is_some_and(|c| c.general_category_group() == GeneralCategoryGroup::Mark)
    {
        return Err("name starts with a combining mark");
    }
    if name.chars().any(|c| {
        c.general_category_group() == GeneralCategoryGroup::Other
            || matches!(
                c.general_category(),
                Gc::LineSeparator | Gc::ParagraphSeparator
            )
    }) {
        return Err("name contains a control, format, private-use or unassigned character");
    }
    Ok(())
}

/// Dates travel as days since 1970-01-01 (the RFC 8943 epoch), which fits in three bytes.
fn days(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

fn date(value: &Value) -> Result<NaiveDate> {
    let n = cbor::int(value, WHAT)?;
    if !(days(FIRST_DAY)..=days(LAST_DAY)).contains(&n) {
        return Err(Error::malformed(WHAT, "date out of range"));
    }
    NaiveDate::default()
        .checked_add_signed(chrono::Duration::days(n))
        .ok_or(Error::malformed(WHAT, "date out of range"))
}

/// Parses one event in its text form (the registry's, the command line's):
/// `comirnaty:1/2:2021-06-20` (product:dose/of:date, the product named case-insensitively),
/// `test:pcr:negative:2021-12-13T08:00:00Z`, `recovery:2021-11-01`. Errors name the problem,
/// never the input.
pub fn parse_event(text: &str) -> Result<Event, &'static str> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("test:") {
        let mut parts = rest.splitn(3, ':');
        let test_type = match parts.next() {
            Some("pcr") => TestType::Pcr,
            Some("rat" | "antigen") => TestType::RapidAntigen,
            _ => return Err("test type must be pcr or rat"),
        };
        let outcome = match parts.next() {
            Some("negative") => TestOutcome::Negative,
            Some("positive") => TestOutcome::Positive,
            _ => return Err("test outcome must be negative or positive"),
        };
        let sampled_at = parts
            .next()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or("test time must be RFC 3339, e.g. 2021-12-13T08:00:00Z")?
            .with_timezone(&Utc);
        return Ok(Event::Test(TestResult {
            test_type,
            outcome,
            sampled_at,
        }));
    }
    if let Some(rest) = text.strip_prefix("recovery:") {
        return Ok(Event::Recovery(Recovery {
            first_positive: date_text(rest)?,
        }));
    }
    // A dose: product:dose/of:date
    let mut parts = text.splitn(3, ':');
    let product = parts.next().unwrap_or_default().to_ascii_lowercase();
    let product = Product::ALL
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(&product))
        .ok_or(
            "unknown product (comirnaty, spikevax, vaxzevria, jcovden, nuvaxovid, skycovione)",
        )?;
    let (dose, of) = parts
        .next()
        .and_then(|d| d.split_once('/'))
        .ok_or("a dose is written product:dose/of:date, e.g. comirnaty:1/2:2021-06-20")?;
    let dose: u8 = dose.parse().map_err(|_| "dose must be a number")?;
    let of: u8 = of.parse().map_err(|_| "series length must be a number")?;
    if dose == 0 || of == 0 {
        return Err("dose numbers start at 1");
    }
    Ok(Event::Vaccination(Vaccination {
        product,
        dose,
        of,
        date: date_text(parts.next().unwrap_or_default().trim())?,
    }))
}

fn date_text(text: &str) -> Result<NaiveDate, &'static str> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "dates are YYYY-MM-DD")
}

/// The text form [`parse_event`] reads.
pub fn format_event(event: &Event) -> String {
    match event {
        Event::Vaccination(v) => format!(
            "{}:{}/{}:{}",
            v.product.name().to_ascii_lowercase(),
            v.dose,
            v.of,
            v.date
        ),
        Event::Test(t) => format!(
            "test:{}:{}:{}",
            match t.test_type {
                TestType::Pcr => "pcr",
                TestType::RapidAntigen => "rat",
            },
            match t.outcome {
                TestOutcome::Negative => "negative",
                TestOutcome::Positive => "positive",
            },
            t.sampled_at.format("%Y-%m-%dT%H:%M:%SZ")
        ),
        Event::Recovery(r) => format!("recovery:{}", r.first_positive),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PassData {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        PassData {
            person: Person {
                name: "김민준".into(),
                date_of_birth: d(1931, 2, 3),
            },
            events: vec![
                Event::Vaccination(Vaccination {
                    product: Product::Comirnaty,
                    dose: 1,
                    of: 2,
                    date: d(2021, 7, 1),
                }),
                Event::Vaccination(Vaccination {
                    product: Product::Comirnaty,
                    dose: 2,
                    of: 2,
                    date: d(2021, 7, 22),
                }),
                Event::Test(TestResult {
                    test_type: TestType::Pcr,
                    outcome: TestOutcome::Negative,
                    sampled_at: DateTime::from_timestamp(1_639_000_000, 0).unwrap(),
                }),
                Event::Recovery(Recovery {
                    first_positive: d(2020, 12, 30),
                }),
            ],
        }
    }

    #[test]
    fn round_trips_and_redacts() {
        let pass = sample();
        assert_eq!(PassData::from_cbor(pass.to_cbor()).unwrap(), pass);
        let debug = format!("{pass:?}");
        assert!(
            !debug.contains("김민준") && !debug.contains("1931"),
            "{debug}"
        );
        assert_eq!(pass.kind(), Some(PassKind::Vaccination));
    }

    #[test]
    fn product_codes_are_unique_and_round_trip() {
        for p in Product::ALL {
            assert_eq!(Product::from_code(p.code()), Some(p));
        }
        assert_eq!(Product::from_code(0), None);
    }

    /// Each row breaks one pass data rule; the old code signed and decoded every row but the
    /// first four. The same check runs on decoding.
    #[test]
    fn validation_table() {
        let named = |name: &str| {
            let mut pass = sample();
            pass.person.name = name.into();
            pass
        };
        let with_event = |event: Event| {
            let mut pass = sample();
            pass.events[0] = event;
            pass
        };
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let dose = |dose, of, date| {
            Event::Vaccination(Vaccination {
                product: Product::Spikevax,
                dose,
                of,
                date,
            })
        };
        let mut no_events = sample();
        no_events.events.clear();
        let mut born_1899 = sample();
        born_1899.person.date_of_birth = d(1899, 12, 31);
        let rows: Vec<(&str, PassData)> = vec![
            ("blank name", named(" ")),
            ("name over 200 bytes", named(&"가".repeat(67))),
            ("no events", no_events),
            ("dose zero", with_event(dose(0, 2, d(2021, 1, 1)))),
            ("empty name", named("")),
            ("right-to-left override U+202E", named("김민준\u{202e}")),
            ("right-to-left isolate U+2067", named("\u{2067}김민준")),
            ("left-to-right mark U+200E", named("김\u{200e}민준")),
            ("zero width space U+200B", named("김\u{200b}민준")),
            ("byte order mark U+FEFF", named("\u{feff}김민준")),
            ("bell U+0007", named("김민준\u{7}")),
            ("line separator U+2028", named("김\u{2028}민준")),
            ("paragraph separator U+2029", named("김\u{2029}민준")),
            ("private use U+E000", named("김\u{e000}")),
            ("unassigned U+0378", named("김\u{378}")),
            ("leading space", named(" 김민준")),
            ("trailing space", named("김민준 ")),
            ("starts with a combining mark", named("\u{301}Ana")),
            ("born before 1900", born_1899),
            ("dose 21", with_event(dose(21, 2, d(2021, 1, 1)))),
            ("series of 200", with_event(dose(1, 200, d(2021, 1, 1)))),
            (
                "vaccinated before birth",
                with_event(dose(1, 2, d(1930, 1, 1))),
            ),
            (
                "test sampled before 1900",
                with_event(Event::Test(TestResult {
                    test_type: TestType::Pcr,
                    outcome: TestOutcome::Negative,
                    sampled_at: DateTime::from_timestamp(-2_300_000_000, 0).unwrap(),
                })),
            ),
        ];
        let signed: Vec<&str> = rows
            .iter()
            .filter(|(_, bad)| !matches!(bad.validate(), Err(Error::InvalidArgument(_))))
            .map(|(name, _)| *name)
            .collect();
        let decoded: Vec<&str> = rows
            .iter()
            .filter(|(_, bad)| {
                !matches!(
                    PassData::from_cbor(bad.to_cbor()),
                    Err(Error::Malformed { .. })
                )
            })
            .map(|(name, _)| *name)
            .collect();
        assert!(
            signed.is_empty() && decoded.is_empty(),
            "accepted for signing: {signed:?}; decoded: {decoded:?}"
        );
        assert!(sample().validate().is_ok());
        for name in [
            "Ana María O'Neil-Šťastná",
            "山田 太郎",
            "محمد",
            "Zoe\u{308}",
        ] {
            assert!(named(name).validate().is_ok(), "{name} was refused");
        }
    }

    #[test]
    fn refuses_unknown_codes_and_bad_dates() {
        let mut v = sample().to_cbor();
        if let Value::Map(m) = &mut v {
            m[2].1 = Value::Array(vec![Value::Array(vec![
                99.into(),
                1.into(),
                2.into(),
                1.into(),
            ])]);
        }
        assert!(PassData::from_cbor(v).is_err());
        assert!(date(&Value::Integer(10_000_000.into())).is_err());
    }
}
