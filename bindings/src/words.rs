//! Cues and words: the core's cue for each verdict (sound, vibration) and its short texts in
//! Korean and English (screen, speech). Converted here, decided in the core (`vaxpass::words`).

use crate::types::{Reason, Verdict, Warning};

pub use vaxpass::{Cue, Language};

/// What a verdict sounds like: one stable signal per outcome, for sound and vibration;
/// `cueCode` gives a stable code.
#[uniffi::remote(Enum)]
pub enum Cue {
    /// Valid: let the holder in.
    Valid,
    /// Not valid.
    Refused,
    /// Valid, but a paper pass: check an ID document first.
    CheckId,
    /// Valid, but this verifier found the same pass valid a few minutes ago: look again. Wins
    /// over `CheckId`, whose ID check the text still asks for.
    SeenRecently,
    /// The venue mode needs no pass: let the visitor in; nobody was checked.
    Exempt,
}

/// The language of a verdict's text.
#[uniffi::remote(Enum)]
pub enum Language {
    /// Korean, in the short polite forms a shop assistant reads at a glance.
    Korean,
    /// English.
    English,
}

fn outcome(verdict: &Verdict) -> vaxpass::Outcome<'_> {
    match verdict {
        Verdict::Valid {
            id_check_required,
            warnings,
            ..
        } => vaxpass::Outcome {
            reason: None,
            exempt: false,
            id_check_required: *id_check_required,
            warnings,
        },
        Verdict::NotValid {
            reason, warnings, ..
        } => vaxpass::Outcome {
            reason: Some(*reason),
            exempt: false,
            id_check_required: false,
            warnings,
        },
        Verdict::Exempt { warnings, .. } => vaxpass::Outcome {
            reason: None,
            exempt: true,
            id_check_required: false,
            warnings,
        },
    }
}

/// The cue for a verdict: refused, exempt, seen recently, check ID or valid, the first that
/// applies.
#[uniffi::export]
pub fn verdict_cue(verdict: Verdict) -> Cue {
    outcome(&verdict).cue()
}

/// A verdict in a few short sentences, for the screen and for speech: valid or not, why not,
/// the ID check, the warnings. It never names the holder.
#[uniffi::export]
pub fn verdict_text(verdict: Verdict, language: Language) -> String {
    outcome(&verdict).text(language)
}

/// The stable code of a cue, e.g. `check_id`, to name a sound.
#[uniffi::export]
pub fn cue_code(cue: Cue) -> String {
    cue.code().to_owned()
}

/// A short text saying why a pass is not valid.
#[uniffi::export]
pub fn reason_text(reason: Reason, language: Language) -> String {
    reason.text(language).to_owned()
}

/// A short text saying what a warning means.
#[uniffi::export]
pub fn warning_text(warning: Warning, language: Language) -> String {
    warning.text(language).to_owned()
}
