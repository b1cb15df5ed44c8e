//! The verifier's answer, as data: valid, or not valid with one reason from a closed set.

use std::fmt;

use chrono::NaiveDate;

/// Why a pass is not valid. The set is closed so apps can map each reason to their own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not a vaxpass code, or not well formed.
    Malformed,
    /// Hangul where the QR text should be, that cannot be made back into it: a keyboard-wedge
    /// scanner typed into a Korean input method. Switch the input method to English and scan
    /// again.
    KoreanInputMethod,
    /// The verifier has never accepted a trust list, so it cannot verify anything.
    NoTrustList,
    /// The trust or revocation list is older than the verifier may rely on.
    TrustListTooStale,
    /// A list held in the verifier's own store failed its check (damaged or tampered with): no
    /// pass is valid until a good list is applied.
    ListsDamaged,
    /// This device's clock is behind a list it holds (issued after `now`, beyond the leeway): its
    /// time cannot be trusted, so no pass is valid until the clock is set right.
    ClockBehind,
    /// The signing key is not in the trust list, or the credential names another authority.
    UnknownIssuer,
    /// The issuer key was not valid when the credential was issued.
    IssuerKeyNotValidAtIssuance,
    /// The issuer key was compromised before this credential was issued.
    IssuerKeyRevoked,
    /// The credential expires later than the trust list allows for its issuer key: no genuine
    /// credential does, so it was forged with a leaked key (or wrongly issued).
    ExpiryBeyondIssuerKey,
    /// The issuer signature does not verify.
    BadSignature,
    /// Before the credential's `nbf`.
    NotYetValid,
    /// At or after the credential's `exp`.
    Expired,
    /// The device signature does not verify against the key bound in the credential.
    WrongDevice,
    /// The presentation was made longer ago than the window allows: a screenshot or a replay.
    PresentationTooOld,
    /// The presentation claims a time ahead of this device's clock beyond the leeway.
    PresentationFromFuture,
    /// The credential is on the revocation list.
    Revoked,
    /// A bare credential was shown but this verifier does not accept paper passes.
    PaperNotAccepted,
    /// The events on the pass do not meet the policy.
    PolicyNotMet(PolicyRule),
}

/// Which policy rule a pass failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// This kind of event (e.g. recovery) is not accepted.
    EventNotAccepted,
    /// The recovery is too long ago.
    RecoveryExpired,
    /// The recovery date is in the future.
    RecoveryInFuture,
}

impl Reason {
    /// A stable machine-readable code, e.g. for `--json` output and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::KoreanInputMethod => "korean_input_method",
            Reason::NoTrustList => "no_trust_list",
            Reason::TrustListTooStale => "trust_list_too_stale",
            Reason::ListsDamaged => "lists_damaged",
            Reason::ClockBehind => "clock_behind",
            Reason::UnknownIssuer => "unknown_issuer",
            Reason::IssuerKeyNotValidAtIssuance => "issuer_key_not_valid_at_issuance",
            Reason::IssuerKeyRevoked => "issuer_key_revoked",
            Reason::ExpiryBeyondIssuerKey => "expiry_beyond_issuer_key",
            Reason::BadSignature => "bad_signature",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Expired => "expired",
            Reason::WrongDevice => "wrong_device",
            Reason::PresentationTooOld => "presentation_too_old",
            Reason::PresentationFromFuture => "presentation_from_future",
            Reason::Revoked => "revoked",
            Reason::PaperNotAccepted => "paper_not_accepted",
            Reason::PolicyNotMet(rule) => rule.code(),
        }
    }
}

impl PolicyRule {
    /// A stable machine-readable code, e.g. `policy_test_expired` (the code of
    /// [`Reason::PolicyNotMet`] with this rule).
    pub fn code(&self) -> &'static str {
        match self {
            PolicyRule::PrimarySeriesIncomplete => "policy_primary_series_incomplete",
            PolicyRule::TooSoonAfterVaccination => "policy_too_soon_after_vaccination",
            PolicyRule::VaccinationExpired => "policy_vaccination_expired",
            PolicyRule::TestTypeNotAccepted => "policy_test_type_not_accepted",
            PolicyRule::TestPositive => "policy_test_positive",
            PolicyRule::TestExpired => "policy_test_expired",
            PolicyRule::TestInFuture => "policy_test_in_future",
            PolicyRule::EventNotAccepted => "policy_event_not_accepted",
            PolicyRule::RecoveryExpired => "policy_recovery_expired",
            PolicyRule::RecoveryInFuture => "policy_recovery_in_future",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Something the shop should know even when the pass is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Warning {
    /// The lists are past their warning age or next-update time: go online soon.
    ListsAging,
    /// No revocation list has been accepted yet: revoked passes cannot be recognised.
    NoRevocationList,
    /// This verifier found the same pass valid within its seen window (10 minutes by default):
    /// a screenshot handed back down the queue, or one pass for two people. Look again.
    SeenRecently,
}

impl Warning {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::ListsAging => "lists_aging",
            Warning::NoRevocationList => "no_revocation_list",
            Warning::SeenRecently => "seen_recently",
        }
    }
}

/// The minimum the shop needs to match the pass to the person: name and date of birth.
/// `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct Holder {
    /// The name as the credential carries it, to compare with the person.
    pub name: String,
    /// Date of birth, a calendar day.
    pub date_of_birth: NaiveDate,
}

impl fmt::Debug for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Holder { <redacted> }")
    }
}

/// The result of verifying a QR text: valid, with the holder to match at the door, or not valid,
/// with the reason. A refused pass carries no holder, by construction; there is deliberately no
/// accessor for the holder, so reading one means matching [`Verdict::Valid`] and seeing
/// `id_check_required` beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check passed.
    Valid {
        /// The name and date of birth to compare with the person at the door.
        holder: Holder,
        /// A paper pass carries no device signature: the shop must check an ID document.
        id_check_required: bool,
        /// What the shop should know even so (lists aging, no revocation list).
        warnings: Vec<Warning>,
    },
    /// A check failed.
    NotValid {
        /// The first check that failed.
        reason: Reason,
        /// What the shop should know besides (lists aging, no revocation list).
        warnings: Vec<Warning>,
    },
}

impl Verdict {
    /// Whether every check passed.
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid { .. })
    }

    /// Why the pass is not valid; `None` when it is.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::Valid { .. } => None,
            Self::NotValid { reason, .. } => Some(*reason),
        }
    }

    /// The warnings of either kind of verdict.
    pub fn warnings(&self) -> &[Warning] {
        match self {
            Self::Valid { warnings, .. } | Self::NotValid { warnings, .. } => warnings,
        }
    }
}
