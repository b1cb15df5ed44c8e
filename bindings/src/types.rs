//! Records and enums that cross the boundary. Core enums are exported as they are ("remote"
//! definitions mirror them); records with times and dates get foreign-friendly twins here.
//! Personal data (name, date of birth) is only reachable through [`Holder`], an object whose
//! generated `toString`/`description`/`repr` shows nothing, so logging a verdict leaks nothing.

use std::sync::Arc;
use std::time::SystemTime;

use crate::convert::{date, duration, system_time, time};
use crate::error::VaxpassError;

pub use vaxpass::{
    Applied, EcLevel, FreshnessState, PassKind, PolicyRule, Product, Reason, TestOutcome, TestType,
    Warning,
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

#[uniffi::remote(Enum)]
pub enum Applied {
    Updated { sequence: u64 },
    Unchanged,
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
    Vaccination {
        product: Product,
        dose: u8,
        of: u8,
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
                    dose,
                    of,
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

/// The verifier's answer: valid, with the holder to compare with the person at the door, or not
/// valid, with one reason. Returned, never thrown. A sealed class in Kotlin, an enum with
/// associated values in Swift, one class per case in Python: a refused pass has no holder to read.
#[derive(uniffi::Enum)]
pub enum Verdict {
    /// Every check passed.
    Valid {
        /// The name and date of birth to compare with the person at the door.
        holder: Arc<Holder>,
        /// A paper pass carries no device signature: check an ID document before letting the
        /// holder in.
        id_check_required: bool,
        /// What the shop should know even so, e.g. that the lists are aging.
        warnings: Vec<Warning>,
    },
    /// A check failed: `reason` is the first one.
    NotValid {
        /// Why; `reasonCode(reason)` is its stable code, e.g. `presentation_too_old`.
        reason: Reason,
        /// What the shop should know besides.
        warnings: Vec<Warning>,
    },
}

impl From<vaxpass::Verdict> for Verdict {
    fn from(v: vaxpass::Verdict) -> Self {
        match v {
            vaxpass::Verdict::Valid {
                holder,
                id_check_required,
                warnings,
            } => Self::Valid {
                holder: Holder::new(holder.name, holder.date_of_birth),
                id_check_required,
                warnings,
            },
            vaxpass::Verdict::NotValid { reason, warnings } => Self::NotValid { reason, warnings },
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
    pub sequence: u64,
    pub issued_at: SystemTime,
    pub next_update: SystemTime,
}

impl From<vaxpass::ListInfo> for ListInfo {
    fn from(l: vaxpass::ListInfo) -> Self {
        Self {
            sequence: l.sequence,
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

/// Which events a verifier accepts; durations in whole units as named.
#[derive(uniffi::Record)]
pub struct Policy {
    /// Days after the completing dose before a vaccination pass is valid; `None`: vaccinations are not accepted.
    pub days_after_primary: Option<u32>,
    /// Days a primary series stays valid without a booster; `None` for no limit.
    pub primary_valid_days: Option<u32>,
    pub pcr_valid_hours: Option<u32>,
    pub rapid_antigen_valid_hours: Option<u32>,
    pub recovery_valid_days: Option<u32>,
    /// The time zone of the day counts, minutes east of UTC (540 for Korea).
    pub utc_offset_minutes: i32,
}

/// How a verifier judges passes. Start from `defaultVerifierConfig()`.
#[derive(uniffi::Record)]
pub struct VerifierConfig {
    pub policy: Policy,
    pub clock_leeway_seconds: u64,
    pub presentation_window_seconds: u64,
    pub warn_after_seconds: u64,
    pub fail_after_seconds: u64,
    pub accept_paper: bool,
}

/// The SDK's defaults: the Korean policy of early 2022, 60 s leeway and window, warnings after
/// 36 hours and no verification after 7 days without a list update.
#[uniffi::export]
pub fn default_verifier_config() -> VerifierConfig {
    let core = vaxpass::VerifierConfig::default();
    let hours = |d: Option<chrono::Duration>| d.and_then(|d| u32::try_from(d.num_hours()).ok());
    let days = |d: Option<i64>| d.and_then(|d| u32::try_from(d).ok());
    let seconds = |d: chrono::Duration| d.num_seconds().unsigned_abs();
    let p = core.policy;
    VerifierConfig {
        policy: Policy {
            days_after_primary: days(p.vaccination.as_ref().map(|v| v.days_after_primary)),
            primary_valid_days: days(p.vaccination.as_ref().and_then(|v| v.primary_valid_days)),
            pcr_valid_hours: hours(p.pcr_valid_for),
            rapid_antigen_valid_hours: hours(p.rapid_antigen_valid_for),
            recovery_valid_days: days(p.recovery_valid_days),
            utc_offset_minutes: p.utc_offset_minutes,
        },
        clock_leeway_seconds: seconds(core.clock_leeway),
        presentation_window_seconds: seconds(core.presentation_window),
        warn_after_seconds: seconds(core.warn_after),
        fail_after_seconds: seconds(core.fail_after),
        accept_paper: core.accept_paper,
    }
}

impl TryFrom<VerifierConfig> for vaxpass::VerifierConfig {
    type Error = VaxpassError;

    fn try_from(c: VerifierConfig) -> Result<Self, VaxpassError> {
        let p = c.policy;
        let hours = |h: Option<u32>| h.map(|h| chrono::Duration::hours(h.into()));
        Ok(Self {
            policy: vaxpass::Policy {
                vaccination: p.days_after_primary.map(|days| vaxpass::VaccinationRule {
                    days_after_primary: days.into(),
                    primary_valid_days: p.primary_valid_days.map(Into::into),
                }),
                pcr_valid_for: hours(p.pcr_valid_hours),
                rapid_antigen_valid_for: hours(p.rapid_antigen_valid_hours),
                recovery_valid_days: p.recovery_valid_days.map(Into::into),
                utc_offset_minutes: p.utc_offset_minutes,
            },
            clock_leeway: duration(c.clock_leeway_seconds)?,
            presentation_window: duration(c.presentation_window_seconds)?,
            warn_after: duration(c.warn_after_seconds)?,
            fail_after: duration(c.fail_after_seconds)?,
            accept_paper: c.accept_paper,
        })
    }
}
