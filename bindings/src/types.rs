//! Records and enums that cross the boundary. Core enums are exported as they are ("remote"
//! definitions mirror them); records with times and dates get foreign-friendly twins here.
//! Personal data (name, date of birth) is only reachable through [`Holder`], an object whose
//! generated `toString`/`description`/`repr` shows nothing, so logging a verdict leaks nothing.

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::{count, date, invalid, sequence, system_time, time};
use crate::error::VaxpassError;
use crate::time_span::TimeSpan;

pub use vaxpass::{
    EcLevel, FreshnessState, PassKind, PolicyRule, Product, Reason, TestOutcome, TestType, Warning,
};

#[uniffi::remote(Enum)]
pub enum Product {
    Comirnaty,
    Spikevax,
    Vaxzevria,
    Jcovden,
    Nuvaxovid,
    SkyCovione,
}

#[uniffi::remote(Enum)]
pub enum TestType {
    Pcr,
    RapidAntigen,
}

#[uniffi::remote(Enum)]
pub enum TestOutcome {
    Negative,
    Positive,
}

#[uniffi::remote(Enum)]
pub enum PassKind {
    Vaccination,
    Test,
    Recovery,
}

#[uniffi::remote(Enum)]
pub enum Reason {
    Malformed,
    NoTrustList,
    TrustListTooStale,
    ListsDamaged,
    ClockBehind,
    UnknownIssuer,
    IssuerKeyNotValidAtIssuance,
    IssuerKeyRevoked,
    ExpiryBeyondIssuerKey,
    BadSignature,
    NotYetValid,
    Expired,
    WrongDevice,
    PresentationTooOld,
    PresentationFromFuture,
    Revoked,
    PaperNotAccepted,
    PolicyNotMet(PolicyRule),
}

#[uniffi::remote(Enum)]
pub enum PolicyRule {
    PrimarySeriesIncomplete,
    TooSoonAfterVaccination,
    VaccinationExpired,
    TestTypeNotAccepted,
    TestPositive,
    TestExpired,
    TestInFuture,
    EventNotAccepted,
    RecoveryExpired,
    RecoveryInFuture,
}

#[uniffi::remote(Enum)]
pub enum Warning {
    ListsAging,
    NoRevocationList,
}

#[uniffi::remote(Enum)]
pub enum FreshnessState {
    Fresh,
    Warning,
    CannotVerify,
    Damaged,
    ClockBehind,
}

#[uniffi::remote(Enum)]
pub enum EcLevel {
    L,
    M,
    Q,
    H,
}

/// What applying a signed list did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Applied {
    /// The list was newer and is now held; its sequence number.
    Updated { sequence: i64 },
    /// The list is the one already held.
    Unchanged,
}

impl From<vaxpass::Applied> for Applied {
    fn from(applied: vaxpass::Applied) -> Self {
        match applied {
            vaxpass::Applied::Updated { sequence: s } => Self::Updated {
                sequence: sequence(s),
            },
            vaxpass::Applied::Unchanged => Self::Unchanged,
        }
    }
}

/// The holder as a pass names them. Dates are ISO `YYYY-MM-DD`.
#[derive(uniffi::Record)]
pub struct Person {
    pub name: String,
    pub date_of_birth: String,
}

/// One health event for the issuer to sign.
#[derive(uniffi::Enum)]
pub enum Event {
    /// Dose `dose` of a series of `of` (each 0 to 255), given on `date` (`YYYY-MM-DD`).
    Vaccination {
        product: Product,
        dose: i32,
        of: i32,
        date: String,
    },
    Test {
        test_type: TestType,
        outcome: TestOutcome,
        sampled_at: SystemTime,
    },
    Recovery {
        first_positive: String,
    },
}

pub(crate) fn pass_data(
    person: Person,
    events: Vec<Event>,
) -> Result<vaxpass::PassData, VaxpassError> {
    let events = events
        .into_iter()
        .map(|event| {
            Ok(match event {
                Event::Vaccination {
                    product,
                    dose,
                    of,
                    date: d,
                } => vaxpass::Event::Vaccination(vaxpass::Vaccination {
                    product,
                    dose: count(dose, "a dose number is 0 to 255")?,
                    of: count(of, "a dose count is 0 to 255")?,
                    date: date(&d)?,
                }),
                Event::Test {
                    test_type,
                    outcome,
                    sampled_at,
                } => vaxpass::Event::Test(vaxpass::TestResult {
                    test_type,
                    outcome,
                    sampled_at: time(sampled_at)?,
                }),
                Event::Recovery { first_positive } => vaxpass::Event::Recovery(vaxpass::Recovery {
                    first_positive: date(&first_positive)?,
                }),
            })
        })
        .collect::<Result<_, VaxpassError>>()?;
    let person = vaxpass::Person {
        name: person.name,
        date_of_birth: date(&person.date_of_birth)?,
    };
    Ok(vaxpass::PassData { person, events })
}

/// Who a pass belongs to. An object, not a record, so it never prints its contents.
#[derive(uniffi::Object)]
pub struct Holder {
    name: String,
    date_of_birth: String,
}

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Holder { <redacted> }")
    }
}

impl Holder {
    pub(crate) fn new(name: String, date_of_birth: chrono::NaiveDate) -> Arc<Self> {
        Arc::new(Self {
            name,
            date_of_birth: date_of_birth.to_string(),
        })
    }
}

#[uniffi::export]
impl Holder {
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// `YYYY-MM-DD`.
    pub fn date_of_birth(&self) -> String {
        self.date_of_birth.clone()
    }
}

/// The verifier's answer: valid, or not with one reason. Returned, never thrown.
#[derive(uniffi::Record)]
pub struct Verdict {
    pub valid: bool,
    pub reason: Option<Reason>,
    /// Only when valid: the name and date of birth to compare with the person at the door.
    pub holder: Option<Arc<Holder>>,
    pub id_check_required: bool,
    pub warnings: Vec<Warning>,
}

impl From<vaxpass::Verdict> for Verdict {
    fn from(v: vaxpass::Verdict) -> Self {
        Self {
            valid: v.is_valid(),
            reason: v.reason,
            holder: v.holder.map(|h| Holder::new(h.name, h.date_of_birth)),
            id_check_required: v.id_check_required,
            warnings: v.warnings,
        }
    }
}

/// A pass in the wallet, for the app's list.
#[derive(uniffi::Record)]
pub struct PassSummary {
    /// The credential id, 12 hex digits: pass it to `presentation`, `paper` and `remove`.
    pub id: String,
    pub holder: Arc<Holder>,
    pub kind: PassKind,
    pub valid_from: SystemTime,
    pub valid_until: SystemTime,
}

impl From<vaxpass::PassSummary> for PassSummary {
    fn from(p: vaxpass::PassSummary) -> Self {
        Self {
            id: p.id.to_string(),
            holder: Holder::new(p.holder_name, p.date_of_birth),
            kind: p.kind,
            valid_from: system_time(p.valid_from),
            valid_until: system_time(p.valid_until),
        }
    }
}

/// A credential the authority just issued.
#[derive(uniffi::Record)]
pub struct IssuedCredential {
    pub id: String,
    pub bytes: Vec<u8>,
}

/// One list the verifier holds.
#[derive(uniffi::Record)]
pub struct ListInfo {
    pub sequence: i64,
    pub issued_at: SystemTime,
    pub next_update: SystemTime,
}

impl From<vaxpass::ListInfo> for ListInfo {
    fn from(l: vaxpass::ListInfo) -> Self {
        Self {
            sequence: sequence(l.sequence),
            issued_at: system_time(l.issued_at),
            next_update: system_time(l.next_update),
        }
    }
}

/// How current the verifier's lists are.
#[derive(uniffi::Record)]
pub struct Freshness {
    pub state: FreshnessState,
    pub trust_list: Option<ListInfo>,
    pub revocation_list: Option<ListInfo>,
}

impl From<vaxpass::Freshness> for Freshness {
    fn from(f: vaxpass::Freshness) -> Self {
        Self {
            state: f.state,
            trust_list: f.trust_list.map(Into::into),
            revocation_list: f.revocation_list.map(Into::into),
        }
    }
}

/// Which events a verifier accepts. Day counts are calendar days in the policy's time zone
/// (zero or more); test validity is a time span.
#[derive(uniffi::Record)]
pub struct Policy {
    /// Days after the completing dose before a vaccination pass is valid; `None`: vaccinations are not accepted.
    pub days_after_primary: Option<i32>,
    /// Days a primary series stays valid without a booster; `None` for no limit.
    pub primary_valid_days: Option<i32>,
    /// How long after sampling a negative PCR test is accepted; `None`: not accepted.
    pub pcr_valid_for: Option<TimeSpan>,
    /// How long after sampling a negative rapid antigen test is accepted; `None`: not accepted.
    pub rapid_antigen_valid_for: Option<TimeSpan>,
    /// Days after the first positive test a recovery pass stays valid; `None`: not accepted.
    pub recovery_valid_days: Option<i32>,
    /// The time zone of the day counts, minutes east of UTC (540 for Korea), within ±24 hours.
    pub utc_offset_minutes: i32,
}

/// How a verifier judges passes. Start from `defaultVerifierConfig()`.
#[derive(uniffi::Record)]
pub struct VerifierConfig {
    pub policy: Policy,
    /// How far apart the verifier's and the wallet's clocks may be.
    pub clock_leeway: TimeSpan,
    /// How long a rotating presentation stays acceptable after it was signed (plus the leeway).
    pub presentation_window: TimeSpan,
    /// Lists older than this give a `ListsAging` warning.
    pub warn_after: TimeSpan,
    /// Lists older than this stop all verification (`TrustListTooStale`).
    pub fail_after: TimeSpan,
    /// Whether paper passes (no device signature, an ID check needed) are accepted.
    pub accept_paper: bool,
}

/// The SDK's defaults: the Korean policy of early 2022, 60 s leeway and window, warnings after
/// 36 hours and no verification after 7 days without a list update.
#[uniffi::export]
pub fn default_verifier_config() -> VerifierConfig {
    let core = vaxpass::VerifierConfig::default();
    // The defaults are small: every day count fits an i32.
    let days = |d: Option<i64>| d.and_then(|d| i32::try_from(d).ok());
    let p = core.policy;
    VerifierConfig {
        policy: Policy {
            days_after_primary: days(p.vaccination.as_ref().map(|v| v.days_after_primary)),
            primary_valid_days: days(p.vaccination.as_ref().and_then(|v| v.primary_valid_days)),
            pcr_valid_for: p.pcr_valid_for.map(Into::into),
            rapid_antigen_valid_for: p.rapid_antigen_valid_for.map(Into::into),
            recovery_valid_days: days(p.recovery_valid_days),
            utc_offset_minutes: p.utc_offset_minutes,
        },
        clock_leeway: core.clock_leeway.into(),
        presentation_window: core.presentation_window.into(),
        warn_after: core.warn_after.into(),
        fail_after: core.fail_after.into(),
        accept_paper: core.accept_paper,
    }
}

impl TryFrom<VerifierConfig> for vaxpass::VerifierConfig {
    type Error = VaxpassError;

    fn try_from(c: VerifierConfig) -> Result<Self, VaxpassError> {
        let p = c.policy;
        let days = |d: Option<i32>| {
            d.map(|d| count::<u32>(d, "a day count is zero or more").map(i64::from))
                .transpose()
        };
        let span = |s: Option<TimeSpan>| s.map(TimeSpan::to_chrono).transpose();
        // The core would quietly read an offset beyond a day as UTC.
        if p.utc_offset_minutes.unsigned_abs() >= 24 * 60 {
            return Err(invalid("a UTC offset is within ±24 hours"));
        }
        let primary_valid_days = days(p.primary_valid_days)?;
        Ok(Self {
            policy: vaxpass::Policy {
                vaccination: days(p.days_after_primary)?.map(|days| vaxpass::VaccinationRule {
                    days_after_primary: days,
                    primary_valid_days,
                }),
                pcr_valid_for: span(p.pcr_valid_for)?,
                rapid_antigen_valid_for: span(p.rapid_antigen_valid_for)?,
                recovery_valid_days: days(p.recovery_valid_days)?,
                utc_offset_minutes: p.utc_offset_minutes,
            },
            clock_leeway: c.clock_leeway.to_chrono()?,
            presentation_window: c.presentation_window.to_chrono()?,
            warn_after: c.warn_after.to_chrono()?,
            fail_after: c.fail_after.to_chrono()?,
            accept_paper: c.accept_paper,
        })
    }
}
