//! The verifier's answer, as data: valid, not valid with one reason from a closed set, or no pass
//! needed; each with the rules it was judged under.

use std::fmt;

use chrono::NaiveDate;

use crate::policy::Policy;

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
    /// The verifier holds no rules list (and was given no offline default), so it cannot know
    /// what a pass must show: apply one first.
    NoRulesList,
    /// The rules list held has no rule set in force yet at `now` (its first takes effect later).
    NoRulesInForce,
    /// The venue mode the shop picked is not one the rule set in force defines: pick another.
    VenueModeNotInRules,
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
            Reason::NoRulesList => "no_rules_list",
            Reason::NoRulesInForce => "no_rules_in_force",
            Reason::VenueModeNotInRules => "venue_mode_not_in_rules",
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

/// The rules a verdict was judged under: which rules list, which of its rule sets, which mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesUsed {
    /// The sequence number of the rules list.
    pub sequence: u64,
    /// The day the rule set in force took effect (in its time zone).
    pub takes_effect: NaiveDate,
    /// The venue mode judged under: the one the shop picked, or the rule set's first.
    pub mode: String,
    /// Whether the rules are the app's offline default
    /// ([`VerifierConfig::offline_rules`](crate::VerifierConfig::offline_rules)), not a list
    /// the verifier applied.
    pub offline_default: bool,
    /// What a pass had to meet under the mode; `None` when no pass was needed or the mode is
    /// not in the rule set.
    pub policy: Option<Policy>,
}

/// The result of verifying a QR text: valid, with the holder to match at the door, not valid,
/// with the reason, or no pass needed under the venue mode. A refused pass carries no holder, by
/// construction; there is deliberately no accessor for the holder, so reading one means matching
/// [`Verdict::Valid`] and seeing `id_check_required` beside it.
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
        /// The rules the pass was judged under.
        rules: RulesUsed,
    },
    /// A check failed.
    NotValid {
        /// The first check that failed.
        reason: Reason,
        /// What the shop should know besides (lists aging, no revocation list).
        warnings: Vec<Warning>,
        /// The rules in force under the shop's mode; `None` when no rules list is held (or no
        /// rule set of it is in force yet).
        rules: Option<RulesUsed>,
    },
    /// The venue mode needs no pass: let the visitor in, whatever was scanned. Nothing of the
    /// scanned text was read, so there is no holder.
    Exempt {
        /// What the shop should know besides (lists aging, no revocation list).
        warnings: Vec<Warning>,
        /// The rules that exempt the venue.
        rules: RulesUsed,
    },
}

impl Verdict {
    /// Whether every check passed (an exempt verdict is not a valid pass).
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid { .. })
    }

    /// Why the pass is not valid; `None` when it is, or when no pass was needed.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::Valid { .. } | Self::Exempt { .. } => None,
            Self::NotValid { reason, .. } => Some(*reason),
        }
    }

    /// The warnings of any kind of verdict.
    pub fn warnings(&self) -> &[Warning] {
        match self {
            Self::Valid { warnings, .. }
            | Self::NotValid { warnings, .. }
            | Self::Exempt { warnings, .. } => warnings,
        }
    }

    /// The rules the verdict was judged under; `None` only when the verifier holds no rules list
    /// in force.
    pub fn rules(&self) -> Option<&RulesUsed> {
        match self {
            Self::Valid { rules, .. } | Self::Exempt { rules, .. } => Some(rules),
            Self::NotValid { rules, .. } => rules.as_ref(),
        }
    }

    /// The policy rule that failed, in the shop's terms with the numbers of the rules used (e.g.
    /// "primary series older than 180 days, no booster"); `None` unless a policy rule decided.
    pub fn policy_rule_text(&self) -> Option<String> {
        let Some(Reason::PolicyNotMet(rule)) = self.reason() else {
            return None;
        };
        let policy = self.rules().and_then(|r| r.policy.as_ref())?;
        Some(rule.describe(policy))
    }
}
