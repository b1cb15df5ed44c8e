//! Records and enums that cross the boundary. Core enums are exported as they are ("remote"
//! definitions mirror them); records with times and dates get foreign-friendly twins here.
//! Personal data (name, date of birth) is only reachable through [`Holder`], an object whose
//! generated `toString`/`description`/`repr` shows nothing, so logging a verdict leaks nothing.

use std::sync::Arc;
use std::time::SystemTime;

#[cfg(feature = "test-helpers")]
use crate::convert::{count, date, time};
use crate::convert::{sequence, system_time};
use crate::error::VaxpassError;
use crate::time_span::TimeSpan;

pub use vaxpass::{
    EcLevel, FreshnessState, PassKind, PolicyRule, Product, Reason, TestOutcome, TestType, Warning,
};

/// Vaccine products the SDK knows; each has a code on the wire.
#[uniffi::remote(Enum)]
pub enum Product {
    /// Pfizer-BioNTech (code 1).
    Comirnaty,
    /// Moderna (code 2).
    Spikevax,
    /// AstraZeneca (code 3).
    Vaxzevria,
    /// Janssen (code 4): one dose completes the primary series.
    Jcovden,
    /// Novavax (code 5).
    Nuvaxovid,
    /// SK bioscience GBP510 (code 6).
    SkyCovione,
}

/// Which kind of test.
#[uniffi::remote(Enum)]
pub enum TestType {
    /// A PCR test.
    Pcr,
    /// A rapid antigen test.
    RapidAntigen,
}

/// What a test found.
#[uniffi::remote(Enum)]
pub enum TestOutcome {
    /// Not infected.
    Negative,
    /// Infected.
    Positive,
}

/// What kind of pass this is: the kind of its events, vaccination first.
#[uniffi::remote(Enum)]
pub enum PassKind {
    /// At least one vaccination.
    Vaccination,
    /// Tests and no vaccination.
    Test,
    /// Recoveries only.
    Recovery,
}

/// Why a pass is not valid: the first check that failed. Map each to the app's own message;
/// `reasonCode` gives a stable machine-readable code.
#[uniffi::remote(Enum)]
pub enum Reason {
    /// Not a vaxpass code, or not well formed.
    Malformed,
    /// Hangul instead of the QR text that cannot be made back into it: a keyboard scanner typed
    /// into a Korean input method. Show "switch the input method to English" and scan again.
    KoreanInputMethod,
    /// The verifier has never accepted a trust list: apply one first.
    NoTrustList,
    /// The lists are older than the verifier may rely on: go online and apply new ones.
    TrustListTooStale,
    /// A list in the verifier's own store failed its check: apply a good list.
    ListsDamaged,
    /// This device's clock is behind a list it holds: set the clock right.
    ClockBehind,
    /// The verifier holds no rules list, so it cannot know what a pass must show: apply one.
    NoRulesList,
    /// No rule set of the rules list held is in force yet.
    NoRulesInForce,
    /// The venue mode picked is not one the rules in force define: pick another.
    VenueModeNotInRules,
    /// The signing key is not in the trust list, or the credential names another authority.
    UnknownIssuer,
    /// The issuer key was not valid when the credential was issued.
    IssuerKeyNotValidAtIssuance,
    /// The issuer key had leaked before this credential was issued.
    IssuerKeyRevoked,
    /// The credential expires later than its issuer key allows: forged with a leaked key.
    ExpiryBeyondIssuerKey,
    /// The issuer signature does not verify.
    BadSignature,
    /// Before the credential's validity starts.
    NotYetValid,
    /// At or after the credential's expiry.
    Expired,
    /// The device signature does not match the key bound in the credential.
    WrongDevice,
    /// Made longer ago than the presentation window allows: a screenshot or a replay.
    PresentationTooOld,
    /// Claims a time ahead of this device's clock beyond the leeway.
    PresentationFromFuture,
    /// The credential is on the revocation list.
    Revoked,
    /// A paper pass, and this verifier does not accept paper passes.
    PaperNotAccepted,
    /// The events on the pass do not meet the policy: the rule that failed.
    PolicyNotMet(PolicyRule),
}

/// Which policy rule a pass failed.
#[uniffi::remote(Enum)]
pub enum PolicyRule {
    /// The primary vaccination series is not complete.
    PrimarySeriesIncomplete,
    /// The primary series was completed too recently.
    TooSoonAfterVaccination,
    /// The primary series is too old and there is no booster.
    VaccinationExpired,
    /// This kind of test is not accepted.
    TestTypeNotAccepted,
    /// The test result is positive.
    TestPositive,
    /// The test sample is too old.
    TestExpired,
    /// The test sample time is in the future.
    TestInFuture,
    /// This kind of event is not accepted.
    EventNotAccepted,
    /// The recovery is too long ago.
    RecoveryExpired,
    /// The recovery date is in the future.
    RecoveryInFuture,
}

/// Something the shop should know even when the pass is valid; `warningCode` gives a stable
/// code.
#[uniffi::remote(Enum)]
pub enum Warning {
    /// The lists are past their warning age or next-update time: go online soon.
    ListsAging,
    /// No revocation list has been applied: revoked passes cannot be recognised.
    NoRevocationList,
    /// This verifier found the same pass valid within its seen window (10 minutes by default):
    /// a screenshot handed back down the queue, or one pass for two people. Look again.
    SeenRecently,
}

/// How current the verifier's lists are, for the shop's status screen.
#[uniffi::remote(Enum)]
pub enum FreshnessState {
    /// Recent enough: no warning.
    Fresh,
    /// Still verifying, but the shop should go online soon.
    Warning,
    /// Too old, or never synced: every verdict is not valid until the lists are updated.
    CannotVerify,
    /// A stored list failed its check on open: nothing is valid until a good list is applied.
    Damaged,
    /// A list held was issued after this device's time: nothing is valid until the clock is right.
    ClockBehind,
}

/// QR error correction level: the share of the code that may be damaged and still read.
#[uniffi::remote(Enum)]
pub enum EcLevel {
    /// About 7 %.
    L,
    /// About 15 % (the wallet's default).
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

/// What applying a signed list did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Applied {
    /// The list was newer and is now held.
    Updated {
        /// The sequence number of the list now held.
        sequence: i64,
    },
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

#[cfg(feature = "test-helpers")]
/// The holder as a pass names them. Dates are ISO `YYYY-MM-DD`.
#[derive(uniffi::Record)]
pub struct Person {
    /// The name in the holder's script, 1 to 200 bytes of UTF-8.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub date_of_birth: String,
}

#[cfg(feature = "test-helpers")]
/// One health event for the issuer to sign.
#[derive(uniffi::Enum)]
pub enum Event {
    /// Dose `dose` of a series of `of` (each 0 to 255), given on `date` (`YYYY-MM-DD`).
    Vaccination {
        /// Which vaccine.
        product: Product,
        /// Which dose this is, from 1.
        dose: i32,
        /// Doses in this person's primary series; a dose beyond it is a booster.
        of: i32,
        /// The day of the dose, `YYYY-MM-DD`.
        date: String,
    },
    /// A test and its result.
    Test {
        /// PCR or rapid antigen.
        test_type: TestType,
        /// Negative or positive.
        outcome: TestOutcome,
        /// When the sample was taken; validity counts from here.
        sampled_at: SystemTime,
    },
    /// A recovery from a confirmed infection.
    Recovery {
        /// The day of the first positive test, `YYYY-MM-DD`.
        first_positive: String,
    },
}

#[cfg(feature = "test-helpers")]
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
    /// The name as the credential carries it, to compare with the person. Personal data: do not
    /// log.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// `YYYY-MM-DD`.
    pub fn date_of_birth(&self) -> String {
        self.date_of_birth.clone()
    }
}

/// The rules a verdict was judged under, for the shop (and an inspector) to see.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RulesUsed {
    /// The sequence number of the rules list.
    pub sequence: i64,
    /// The day the rule set in force took effect, `YYYY-MM-DD`.
    pub takes_effect: String,
    /// The venue mode judged under: the one picked, or the rule set's first.
    pub mode: String,
    /// Whether these are the app's offline default rules rather than a list applied.
    pub offline_default: bool,
}

impl From<&vaxpass::RulesUsed> for RulesUsed {
    fn from(r: &vaxpass::RulesUsed) -> Self {
        Self {
            sequence: sequence(r.sequence),
            takes_effect: r.takes_effect.to_string(),
            mode: r.mode.clone(),
            offline_default: r.offline_default,
        }
    }
}

/// The verifier's answer: valid, with the holder to compare with the person at the door, not
/// valid, with one reason, or exempt (the venue mode needs no pass). Each carries the rules it
/// was judged under. Returned, never thrown. A sealed class in Kotlin, an enum with associated
/// values in Swift, one class per case in Python: a refused pass has no holder to read.
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
        /// The rules the pass was judged under.
        rules: RulesUsed,
    },
    /// A check failed: `reason` is the first one.
    NotValid {
        /// Why; `reasonCode(reason)` is its stable code, e.g. `presentation_too_old`.
        reason: Reason,
        /// What the shop should know besides.
        warnings: Vec<Warning>,
        /// The rules in force under the shop's mode; `None` when no rules list is held.
        rules: Option<RulesUsed>,
        /// For a policy rule, the rule in the shop's terms with its numbers, e.g. "primary
        /// series older than 180 days, no booster" (English).
        rule_text: Option<String>,
    },
    /// The venue mode needs no pass: let the visitor in. Nothing scanned was read.
    Exempt {
        /// What the shop should know besides.
        warnings: Vec<Warning>,
        /// The rules that exempt the venue.
        rules: RulesUsed,
    },
}

impl From<vaxpass::Verdict> for Verdict {
    fn from(v: vaxpass::Verdict) -> Self {
        let rule_text = v.policy_rule_text();
        match v {
            vaxpass::Verdict::Valid {
                holder,
                id_check_required,
                warnings,
                rules,
            } => Self::Valid {
                holder: Holder::new(holder.name, holder.date_of_birth),
                id_check_required,
                warnings,
                rules: (&rules).into(),
            },
            vaxpass::Verdict::NotValid {
                reason,
                warnings,
                rules,
            } => Self::NotValid {
                reason,
                warnings,
                rules: rules.as_ref().map(Into::into),
                rule_text,
            },
            vaxpass::Verdict::Exempt { warnings, rules } => Self::Exempt {
                warnings,
                rules: (&rules).into(),
            },
        }
    }
}

/// When a pass is valid under the rules the wallet holds, for the citizen's screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PassStatus {
    /// Valid now, until `until` (`None`: not within about a year).
    ValidNow {
        /// When it stops being valid, if it does.
        until: Option<SystemTime>,
    },
    /// Not valid yet: valid from `from` (e.g. after the 14-day wait), until `until` if it ends.
    ValidFrom {
        /// When it starts being valid.
        starts: SystemTime,
        /// When it stops again, if it does.
        until: Option<SystemTime>,
    },
    /// Not valid under these rules, now nor within about a year.
    NotValid {
        /// Why, now.
        reason: Reason,
        /// A policy rule in words with its numbers, e.g. "primary series older than 180 days,
        /// no booster" (English).
        rule_text: Option<String>,
    },
}

impl From<vaxpass::PassStatus> for PassStatus {
    fn from(s: vaxpass::PassStatus) -> Self {
        match s {
            vaxpass::PassStatus::ValidNow { until } => Self::ValidNow {
                until: until.map(system_time),
            },
            vaxpass::PassStatus::ValidFrom { from, until } => Self::ValidFrom {
                starts: system_time(from),
                until: until.map(system_time),
            },
            vaxpass::PassStatus::NotValid { reason, rule_text } => {
                Self::NotValid { reason, rule_text }
            }
        }
    }
}

/// A pass in the wallet, for the app's list.
#[derive(uniffi::Record)]
pub struct PassSummary {
    /// The credential id, 12 hex digits: pass it to `presentation`, `paper` and `remove`.
    pub id: String,
    /// Who the pass belongs to.
    pub holder: Arc<Holder>,
    /// Vaccination, test or recovery.
    pub kind: PassKind,
    /// Valid from.
    pub valid_from: SystemTime,
    /// Not valid at or after this time.
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

#[cfg(feature = "test-helpers")]
/// A credential the authority just issued.
#[derive(uniffi::Record)]
pub struct IssuedCredential {
    /// The credential id, 12 hex digits.
    pub id: String,
    /// The signed credential, to send to the wallet.
    pub bytes: Vec<u8>,
}

/// One list the verifier holds.
#[derive(uniffi::Record)]
pub struct ListInfo {
    /// The list's sequence number.
    pub sequence: i64,
    /// When the authority signed it.
    pub issued_at: SystemTime,
    /// When the authority will publish the next one.
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
    /// How current the lists are.
    pub state: FreshnessState,
    /// The trust list held, if any.
    pub trust_list: Option<ListInfo>,
    /// The revocation list held, if any.
    pub revocation_list: Option<ListInfo>,
    /// The rules list held, if any.
    pub rules_list: Option<ListInfo>,
}

impl From<vaxpass::Freshness> for Freshness {
    fn from(f: vaxpass::Freshness) -> Self {
        Self {
            state: f.state,
            trust_list: f.trust_list.map(Into::into),
            revocation_list: f.revocation_list.map(Into::into),
            rules_list: f.rules_list.map(Into::into),
        }
    }
}

/// How a verifier judges passes. Start from `defaultVerifierConfig()`.
#[derive(uniffi::Record)]
pub struct VerifierConfig {
    /// A signed rules list the app ships, judged by only while the verifier holds no rules list
    /// of its own (a fresh install offline); it must verify against the root key. `None` (the
    /// default): no pass is valid until a rules list is applied.
    pub offline_rules_list: Option<Vec<u8>>,
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
    /// A pass found valid again within this long gets a `SeenRecently` warning; zero turns it
    /// off. Remembered in memory only, as hashes under a key that never leaves the verifier.
    pub seen_window: TimeSpan,
    /// How long the check log keeps its entries (28 days by default): `pruneCheckLog` cuts older
    /// ones behind a signed checkpoint. More than zero.
    pub log_retention: TimeSpan,
}

/// The SDK's defaults: no offline rules, 60 s leeway and window, warnings after 36 hours and no
/// verification after 7 days without a list update, passes seen again within 10 minutes
/// flagged, the check log kept 28 days.
#[uniffi::export]
pub fn default_verifier_config() -> VerifierConfig {
    let core = vaxpass::VerifierConfig::default();
    VerifierConfig {
        offline_rules_list: core.offline_rules,
        clock_leeway: core.clock_leeway.into(),
        presentation_window: core.presentation_window.into(),
        warn_after: core.warn_after.into(),
        fail_after: core.fail_after.into(),
        accept_paper: core.accept_paper,
        seen_window: core.seen_window.into(),
        log_retention: core.log_retention.into(),
    }
}

impl TryFrom<VerifierConfig> for vaxpass::VerifierConfig {
    type Error = VaxpassError;

    fn try_from(c: VerifierConfig) -> Result<Self, VaxpassError> {
        Ok(Self {
            offline_rules: c.offline_rules_list,
            clock_leeway: c.clock_leeway.to_chrono()?,
            presentation_window: c.presentation_window.to_chrono()?,
            warn_after: c.warn_after.to_chrono()?,
            fail_after: c.fail_after.to_chrono()?,
            accept_paper: c.accept_paper,
            seen_window: c.seen_window.to_chrono()?,
            log_retention: c.log_retention.to_chrono()?,
        })
    }
}
