//! Cues and words: what a verdict sounds like ([`Cue`], for a beep or a vibration) and what it
//! says, in Korean and English, for the screen and for speech.
//!
//! Every [`Reason`], [`PolicyRule`] and [`Warning`] has one short text per [`Language`], in the
//! tables below (exhaustive matches: a new variant does not compile without its texts). No text
//! names anyone: they are all fixed strings, and a verdict's text is made of them alone.

use crate::verdict::{PolicyRule, Reason, Verdict, Warning};

/// What a verdict sounds like: one stable signal per outcome, for sound and vibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cue {
    /// Valid: let the holder in.
    Valid,
    /// Not valid.
    Refused,
    /// Valid, but a paper pass: check an ID document first.
    CheckId,
    /// Valid, but this verifier found the same pass valid a few minutes ago: look again. It wins
    /// over [`Cue::CheckId`], whose ID check the text still asks for.
    SeenRecently,
    /// The venue mode needs no pass: let the visitor in; nobody was checked.
    Exempt,
}

impl Cue {
    /// A stable machine-readable code, e.g. to name the sound file.
    pub fn code(&self) -> &'static str {
        match self {
            Cue::Valid => "valid",
            Cue::Refused => "refused",
            Cue::CheckId => "check_id",
            Cue::SeenRecently => "seen_recently",
            Cue::Exempt => "exempt",
        }
    }
}

/// The language of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// 한국어, in the short polite forms a shop assistant reads at a glance.
    Korean,
    /// English.
    English,
}

/// One text in each language.
struct Words {
    korean: &'static str,
    english: &'static str,
}

impl Words {
    fn get(&self, language: Language) -> &'static str {
        match language {
            Language::Korean => self.korean,
            Language::English => self.english,
        }
    }
}

const fn words(korean: &'static str, english: &'static str) -> Words {
    Words { korean, english }
}

const VALID: Words = words("유효해요.", "Valid.");
const NOT_VALID: Words = words("유효하지 않아요.", "Not valid.");
const CHECK_ID: Words = words("신분증을 확인해 주세요.", "Check an ID document.");
const EXEMPT: Words = words(
    "이 업종은 증명서 확인이 필요 없어요.",
    "No pass needed in this venue mode.",
);

fn reason_words(reason: Reason) -> Words {
    match reason {
        Reason::Malformed => words("증명서 QR 코드가 아니에요.", "Not a pass QR code."),
        Reason::KoreanInputMethod => words(
            "입력기를 영문으로 바꾸고 다시 스캔해 주세요.",
            "Switch the keyboard to English and scan again.",
        ),
        Reason::NoTrustList => words(
            "검증 목록이 없어요. 인터넷에 연결해 주세요.",
            "No trust list yet: go online.",
        ),
        Reason::TrustListTooStale => words(
            "검증 목록이 너무 오래됐어요. 인터넷에 연결해 주세요.",
            "Lists too old: go online.",
        ),
        Reason::ListsDamaged => words(
            "검증 목록이 손상됐어요. 다시 받아 주세요.",
            "Lists damaged: download them again.",
        ),
        Reason::ClockBehind => words(
            "이 기기의 시계가 늦어요. 시간을 맞춰 주세요.",
            "This device's clock is behind: set it right.",
        ),
        Reason::NoRulesList => words(
            "방역 규칙 목록이 없어요. 인터넷에 연결해 주세요.",
            "No rules list yet: go online.",
        ),
        Reason::NoRulesInForce => words(
            "지금 적용되는 방역 규칙이 없어요.",
            "No rule set is in force yet.",
        ),
        Reason::VenueModeNotInRules => words(
            "선택한 업종이 규칙에 없어요. 업종을 다시 골라 주세요.",
            "Venue mode not in the rules: pick another.",
        ),
        Reason::UnknownIssuer => words("인정되지 않는 발급 기관이에요.", "Unknown issuer."),
        Reason::IssuerKeyNotValidAtIssuance => words(
            "발급 당시 유효하지 않은 키로 서명됐어요.",
            "Signed with a key not valid at issuance.",
        ),
        Reason::IssuerKeyRevoked => words("폐기된 키로 서명됐어요.", "Signed with a revoked key."),
        Reason::ExpiryBeyondIssuerKey => words(
            "유효기간이 허용 범위를 넘어요.",
            "Expiry beyond what its key allows.",
        ),
        Reason::BadSignature => words("서명이 올바르지 않아요.", "Bad signature."),
        Reason::NotYetValid => words("아직 유효기간 전이에요.", "Not valid yet."),
        Reason::Expired => words("유효기간이 지났어요.", "Expired."),
        Reason::WrongDevice => words(
            "발급받은 휴대폰의 화면이 아니에요.",
            "Not shown from the phone it was issued to.",
        ),
        Reason::PresentationTooOld => words(
            "오래된 화면이에요. QR 코드를 새로 띄워 주세요.",
            "Old code, maybe a screenshot: show a fresh one.",
        ),
        Reason::PresentationFromFuture => words(
            "QR 코드의 시각이 맞지 않아요. 휴대폰 시간을 확인해 주세요.",
            "Code time is ahead: check the phone's clock.",
        ),
        Reason::Revoked => words("취소된 증명서예요.", "Revoked pass."),
        Reason::PaperNotAccepted => words(
            "종이 증명서는 받지 않아요.",
            "Paper passes are not accepted here.",
        ),
        Reason::PolicyNotMet(rule) => rule_words(rule),
    }
}

fn rule_words(rule: PolicyRule) -> Words {
    match rule {
        PolicyRule::PrimarySeriesIncomplete => words(
            "기본 접종을 마치지 않았어요.",
            "Primary vaccination not complete.",
        ),
        PolicyRule::TooSoonAfterVaccination => words(
            "접종 완료 후 아직 기간이 지나지 않았어요.",
            "Too soon after the last dose.",
        ),
        PolicyRule::VaccinationExpired => words(
            "접종 유효기간이 지났어요. 추가 접종이 필요해요.",
            "Vaccination too old: a booster is needed.",
        ),
        PolicyRule::TestTypeNotAccepted => words(
            "인정되지 않는 검사 종류예요.",
            "This kind of test is not accepted.",
        ),
        PolicyRule::TestPositive => words("검사 결과가 양성이에요.", "Positive test result."),
        PolicyRule::TestExpired => words("검사 유효시간이 지났어요.", "Test too old."),
        PolicyRule::TestInFuture => words(
            "검사 시각이 미래로 되어 있어요.",
            "Test time is in the future.",
        ),
        PolicyRule::EventNotAccepted => words(
            "인정되지 않는 증명서 종류예요.",
            "This kind of pass is not accepted.",
        ),
        PolicyRule::RecoveryExpired => {
            words("완치 확인 유효기간이 지났어요.", "Recovery too long ago.")
        }
        PolicyRule::RecoveryInFuture => words(
            "완치 날짜가 미래로 되어 있어요.",
            "Recovery date is in the future.",
        ),
    }
}

fn warning_words(warning: Warning) -> Words {
    match warning {
        Warning::ListsAging => words(
            "검증 목록을 곧 업데이트해 주세요.",
            "Lists aging: go online soon.",
        ),
        Warning::NoRevocationList => words(
            "취소 목록이 없어 취소된 증명서를 알 수 없어요.",
            "No revocation list: revoked passes go unnoticed.",
        ),
        Warning::SeenRecently => words(
            "최근에 확인한 증명서예요. 다시 살펴 주세요.",
            "Seen recently: look again.",
        ),
    }
}

impl Reason {
    /// A short text saying why, in `language`, for the screen and for speech.
    pub fn text(&self, language: Language) -> &'static str {
        reason_words(*self).get(language)
    }
}

impl Warning {
    /// A short text saying what to know, in `language`, for the screen and for speech.
    pub fn text(&self, language: Language) -> &'static str {
        warning_words(*self).get(language)
    }
}

/// What a verdict says, without whom it names: what its cue and its text are made from. The
/// bindings, whose verdict is their own type, build one to ask the same questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome<'a> {
    /// Why the pass is not valid; `None` when it is, or when no pass was needed.
    pub reason: Option<Reason>,
    /// The venue mode needs no pass ([`Verdict::Exempt`]).
    pub exempt: bool,
    /// Valid, and a paper pass: an ID document must be checked.
    pub id_check_required: bool,
    /// The verdict's warnings.
    pub warnings: &'a [Warning],
}

impl Outcome<'_> {
    /// The cue: refused, exempt, seen recently, check ID or valid, the first that applies.
    pub fn cue(&self) -> Cue {
        if self.reason.is_some() {
            Cue::Refused
        } else if self.exempt {
            Cue::Exempt
        } else if self.warnings.contains(&Warning::SeenRecently) {
            Cue::SeenRecently
        } else if self.id_check_required {
            Cue::CheckId
        } else {
            Cue::Valid
        }
    }

    /// The verdict in a few short sentences: valid, exempt or not, why not, the ID check, the
    /// warnings.
    pub fn text(&self, language: Language) -> String {
        let mut parts = Vec::with_capacity(3 + self.warnings.len());
        match self.reason {
            None if self.exempt => parts.push(EXEMPT.get(language)),
            None => parts.push(VALID.get(language)),
            Some(reason) => parts.extend([NOT_VALID.get(language), reason.text(language)]),
        }
        if self.reason.is_none() && !self.exempt && self.id_check_required {
            parts.push(CHECK_ID.get(language));
        }
        parts.extend(self.warnings.iter().map(|w| w.text(language)));
        parts.join(" ")
    }
}

impl Verdict {
    /// What this verdict says, without the holder.
    pub fn outcome(&self) -> Outcome<'_> {
        match self {
            Verdict::Valid {
                id_check_required,
                warnings,
                ..
            } => Outcome {
                reason: None,
                exempt: false,
                id_check_required: *id_check_required,
                warnings,
            },
            Verdict::NotValid {
                reason, warnings, ..
            } => Outcome {
                reason: Some(*reason),
                exempt: false,
                id_check_required: false,
                warnings,
            },
            Verdict::Exempt { warnings, .. } => Outcome {
                reason: None,
                exempt: true,
                id_check_required: false,
                warnings,
            },
        }
    }

    /// The cue for sound and vibration.
    pub fn cue(&self) -> Cue {
        self.outcome().cue()
    }

    /// The verdict in a few short sentences in `language`, for the screen and for speech. It
    /// never names the holder.
    pub fn text(&self, language: Language) -> String {
        self.outcome().text(language)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::NaiveDate;

    use super::*;
    use crate::verdict::{Holder, RulesUsed};

    const RULES: [PolicyRule; 10] = [
        PolicyRule::PrimarySeriesIncomplete,
        PolicyRule::TooSoonAfterVaccination,
        PolicyRule::VaccinationExpired,
        PolicyRule::TestTypeNotAccepted,
        PolicyRule::TestPositive,
        PolicyRule::TestExpired,
        PolicyRule::TestInFuture,
        PolicyRule::EventNotAccepted,
        PolicyRule::RecoveryExpired,
        PolicyRule::RecoveryInFuture,
    ];

    const REASONS: [Reason; 21] = [
        Reason::Malformed,
        Reason::KoreanInputMethod,
        Reason::NoTrustList,
        Reason::TrustListTooStale,
        Reason::ListsDamaged,
        Reason::ClockBehind,
        Reason::NoRulesList,
        Reason::NoRulesInForce,
        Reason::VenueModeNotInRules,
        Reason::UnknownIssuer,
        Reason::IssuerKeyNotValidAtIssuance,
        Reason::IssuerKeyRevoked,
        Reason::ExpiryBeyondIssuerKey,
        Reason::BadSignature,
        Reason::NotYetValid,
        Reason::Expired,
        Reason::WrongDevice,
        Reason::PresentationTooOld,
        Reason::PresentationFromFuture,
        Reason::Revoked,
        Reason::PaperNotAccepted,
    ];

    const WARNINGS: [Warning; 3] = [
        Warning::ListsAging,
        Warning::NoRevocationList,
        Warning::SeenRecently,
    ];

    /// Where each variant is in the lists above. Exhaustive: a new variant does not compile
    /// until it is listed, and so tested.
    fn listed(reason: Reason) -> bool {
        match reason {
            Reason::PolicyNotMet(rule) => match rule {
                PolicyRule::PrimarySeriesIncomplete
                | PolicyRule::TooSoonAfterVaccination
                | PolicyRule::VaccinationExpired
                | PolicyRule::TestTypeNotAccepted
                | PolicyRule::TestPositive
                | PolicyRule::TestExpired
                | PolicyRule::TestInFuture
                | PolicyRule::EventNotAccepted
                | PolicyRule::RecoveryExpired
                | PolicyRule::RecoveryInFuture => RULES.contains(&rule),
            },
            Reason::Malformed
            | Reason::KoreanInputMethod
            | Reason::NoTrustList
            | Reason::TrustListTooStale
            | Reason::ListsDamaged
            | Reason::ClockBehind
            | Reason::NoRulesList
            | Reason::NoRulesInForce
            | Reason::VenueModeNotInRules
            | Reason::UnknownIssuer
            | Reason::IssuerKeyNotValidAtIssuance
            | Reason::IssuerKeyRevoked
            | Reason::ExpiryBeyondIssuerKey
            | Reason::BadSignature
            | Reason::NotYetValid
            | Reason::Expired
            | Reason::WrongDevice
            | Reason::PresentationTooOld
            | Reason::PresentationFromFuture
            | Reason::Revoked
            | Reason::PaperNotAccepted => REASONS.contains(&reason),
        }
    }

    fn warning_listed(warning: Warning) -> bool {
        match warning {
            Warning::ListsAging | Warning::NoRevocationList | Warning::SeenRecently => {
                WARNINGS.contains(&warning)
            }
        }
    }

    fn every_reason() -> Vec<Reason> {
        REASONS
            .into_iter()
            .chain(RULES.map(Reason::PolicyNotMet))
            .collect()
    }

    fn is_hangul(c: char) -> bool {
        matches!(c, '\u{AC00}'..='\u{D7A3}')
    }

    #[test]
    fn every_reason_and_warning_has_a_short_distinct_text_in_each_language() {
        assert!(every_reason().into_iter().all(listed));
        assert!(WARNINGS.into_iter().all(warning_listed));
        let texts = |language| -> Vec<(String, &'static str)> {
            every_reason()
                .into_iter()
                .map(|r| (r.code().to_owned(), r.text(language)))
                .chain(WARNINGS.map(|w| (w.code().to_owned(), w.text(language))))
                .collect()
        };
        for language in [Language::Korean, Language::English] {
            let texts = texts(language);
            assert_eq!(texts.len(), REASONS.len() + RULES.len() + WARNINGS.len());
            let mut distinct = HashSet::new();
            for (code, text) in &texts {
                let chars = text.chars().count();
                assert!((4..=50).contains(&chars), "{code} {language:?}: {text}");
                assert!(
                    text.ends_with('.'),
                    "{code} {language:?} ends a sentence: {text}"
                );
                assert!(
                    distinct.insert(*text),
                    "{code} {language:?} repeats: {text}"
                );
                match language {
                    Language::Korean => assert!(text.chars().any(is_hangul), "{code}: {text}"),
                    Language::English => assert!(text.is_ascii(), "{code}: {text}"),
                }
            }
        }
    }

    #[test]
    fn korean_texts_use_polite_endings() {
        let endings = ["요.", "다."];
        for text in every_reason()
            .into_iter()
            .map(|r| r.text(Language::Korean))
            .chain(WARNINGS.map(|w| w.text(Language::Korean)))
        {
            assert!(endings.iter().any(|e| text.ends_with(e)), "{text}");
        }
    }

    fn rules() -> RulesUsed {
        RulesUsed {
            sequence: 1,
            takes_effect: NaiveDate::from_ymd_opt(2021, 12, 13).unwrap(),
            mode: "restaurant_cafe".into(),
            offline_default: false,
            policy: None,
        }
    }

    fn valid(id_check_required: bool, warnings: Vec<Warning>) -> Verdict {
        Verdict::Valid {
            holder: Holder {
                name: "홍길동".into(),
                date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 2).unwrap(),
            },
            id_check_required,
            warnings,
            rules: rules(),
        }
    }

    #[test]
    fn each_verdict_has_its_cue_and_seen_recently_wins_over_the_id_check_and_exempt_is_its_own() {
        assert_eq!(valid(false, vec![]).cue(), Cue::Valid);
        assert_eq!(valid(false, vec![Warning::ListsAging]).cue(), Cue::Valid);
        assert_eq!(valid(true, vec![]).cue(), Cue::CheckId);
        assert_eq!(
            valid(false, vec![Warning::SeenRecently]).cue(),
            Cue::SeenRecently
        );
        assert_eq!(
            valid(true, vec![Warning::SeenRecently]).cue(),
            Cue::SeenRecently
        );
        for reason in every_reason() {
            let refused = Verdict::NotValid {
                reason,
                warnings: WARNINGS.to_vec(),
                rules: None,
            };
            assert_eq!(refused.cue(), Cue::Refused, "{reason}");
        }
        let exempt = Verdict::Exempt {
            warnings: vec![Warning::ListsAging],
            rules: rules(),
        };
        assert_eq!(exempt.cue(), Cue::Exempt);
        assert_eq!(
            exempt.text(Language::English),
            "No pass needed in this venue mode. Lists aging: go online soon."
        );
        let cues = [
            Cue::Valid,
            Cue::Refused,
            Cue::CheckId,
            Cue::SeenRecently,
            Cue::Exempt,
        ];
        let codes: HashSet<_> = cues.iter().map(Cue::code).collect();
        assert_eq!(codes.len(), cues.len());
    }

    #[test]
    fn a_verdict_text_says_the_outcome_the_id_check_and_warnings_and_never_the_holder() {
        let paper = valid(true, vec![Warning::SeenRecently]);
        assert_eq!(
            paper.text(Language::English),
            "Valid. Check an ID document. Seen recently: look again."
        );
        assert_eq!(
            paper.text(Language::Korean),
            "유효해요. 신분증을 확인해 주세요. 최근에 확인한 증명서예요. 다시 살펴 주세요."
        );
        let refused = Verdict::NotValid {
            reason: Reason::PolicyNotMet(PolicyRule::TooSoonAfterVaccination),
            warnings: vec![],
            rules: Some(rules()),
        };
        assert_eq!(
            refused.text(Language::Korean),
            "유효하지 않아요. 접종 완료 후 아직 기간이 지나지 않았어요."
        );
        for language in [Language::Korean, Language::English] {
            let text = paper.text(language);
            assert!(!text.contains("홍길동") && !text.contains("1990"), "{text}");
        }
    }
}
