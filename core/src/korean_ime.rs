//! Undoes what a Korean input method makes of a keyboard-wedge scanner's QR text. With the input
//! method on, the scanner's key presses for the Latin letters come out as Hangul on the standard
//! 2-set (Dubeolsik) layout, while digits, spaces and symbols come out unchanged; this module
//! turns the Hangul back into the keys, and the keys into the letters of the QR text.
//!
//! The recovery is exact, not a guess:
//! - Each jamo is typed by one key, and each key stands for one character of a QR text: its
//!   alphabet (base45 and the prefixes, docs/format.md) has upper-case letters only, so Shift,
//!   which the input method keeps only for the tense consonants ㄲㄸㅃㅆㅉ and for ㅒㅖ, carries
//!   nothing (ㅂ and ㅃ are both `Q`).
//! - The input method groups keys into syllables and compound jamo but never drops or reorders
//!   them, and a syllable (Unicode's syllable arithmetic) or a compound (the 18 of the layout)
//!   splits into its jamo one way only. So the keys come back in order however they were grouped,
//!   a final consonant moved onto the next syllable included.
//!
//! Any other character beside the Hangul — a lower-case letter, conjoining, half-width or archaic
//! jamo, anything outside the base45 alphabet — is not what the 2-set layout types from a QR text,
//! and the whole text is refused.

use crate::base45;

/// The 2-set layout: each letter key with the jamo it types without and with Shift (the same jamo
/// but for the five tense consonants and ㅒ ㅖ).
const LAYOUT: [(char, char, char); 26] = [
    ('Q', 'ㅂ', 'ㅃ'),
    ('W', 'ㅈ', 'ㅉ'),
    ('E', 'ㄷ', 'ㄸ'),
    ('R', 'ㄱ', 'ㄲ'),
    ('T', 'ㅅ', 'ㅆ'),
    ('Y', 'ㅛ', 'ㅛ'),
    ('U', 'ㅕ', 'ㅕ'),
    ('I', 'ㅑ', 'ㅑ'),
    ('O', 'ㅐ', 'ㅒ'),
    ('P', 'ㅔ', 'ㅖ'),
    ('A', 'ㅁ', 'ㅁ'),
    ('S', 'ㄴ', 'ㄴ'),
    ('D', 'ㅇ', 'ㅇ'),
    ('F', 'ㄹ', 'ㄹ'),
    ('G', 'ㅎ', 'ㅎ'),
    ('H', 'ㅗ', 'ㅗ'),
    ('J', 'ㅓ', 'ㅓ'),
    ('K', 'ㅏ', 'ㅏ'),
    ('L', 'ㅣ', 'ㅣ'),
    ('Z', 'ㅋ', 'ㅋ'),
    ('X', 'ㅌ', 'ㅌ'),
    ('C', 'ㅊ', 'ㅊ'),
    ('V', 'ㅍ', 'ㅍ'),
    ('B', 'ㅠ', 'ㅠ'),
    ('N', 'ㅜ', 'ㅜ'),
    ('M', 'ㅡ', 'ㅡ'),
];

/// The jamo the input method composes of two keys' jamo: compound finals, then compound vowels.
const COMPOUNDS: [(char, [char; 2]); 18] = [
    ('ㄳ', ['ㄱ', 'ㅅ']),
    ('ㄵ', ['ㄴ', 'ㅈ']),
    ('ㄶ', ['ㄴ', 'ㅎ']),
    ('ㄺ', ['ㄹ', 'ㄱ']),
    ('ㄻ', ['ㄹ', 'ㅁ']),
    ('ㄼ', ['ㄹ', 'ㅂ']),
    ('ㄽ', ['ㄹ', 'ㅅ']),
    ('ㄾ', ['ㄹ', 'ㅌ']),
    ('ㄿ', ['ㄹ', 'ㅍ']),
    ('ㅀ', ['ㄹ', 'ㅎ']),
    ('ㅄ', ['ㅂ', 'ㅅ']),
    ('ㅘ', ['ㅗ', 'ㅏ']),
    ('ㅙ', ['ㅗ', 'ㅐ']),
    ('ㅚ', ['ㅗ', 'ㅣ']),
    ('ㅝ', ['ㅜ', 'ㅓ']),
    ('ㅞ', ['ㅜ', 'ㅔ']),
    ('ㅟ', ['ㅜ', 'ㅣ']),
    ('ㅢ', ['ㅡ', 'ㅣ']),
];

/// A precomposed syllable's parts in Unicode's order (U+AC00 + (initial × 21 + medial) × 28 +
/// final), as the compatibility jamo the layout types.
const INITIALS: [char; 19] = [
    'ㄱ', 'ㄲ', 'ㄴ', 'ㄷ', 'ㄸ', 'ㄹ', 'ㅁ', 'ㅂ', 'ㅃ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅉ', 'ㅊ', 'ㅋ',
    'ㅌ', 'ㅍ', 'ㅎ',
];
const MEDIALS: [char; 21] = [
    'ㅏ', 'ㅐ', 'ㅑ', 'ㅒ', 'ㅓ', 'ㅔ', 'ㅕ', 'ㅖ', 'ㅗ', 'ㅘ', 'ㅙ', 'ㅚ', 'ㅛ', 'ㅜ', 'ㅝ', 'ㅞ',
    'ㅟ', 'ㅠ', 'ㅡ', 'ㅢ', 'ㅣ',
];
/// Final index 0 is "no final"; this table starts at index 1.
const FINALS: [char; 27] = [
    'ㄱ', 'ㄲ', 'ㄳ', 'ㄴ', 'ㄵ', 'ㄶ', 'ㄷ', 'ㄹ', 'ㄺ', 'ㄻ', 'ㄼ', 'ㄽ', 'ㄾ', 'ㄿ', 'ㅀ', 'ㅁ',
    'ㅂ', 'ㅄ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅊ', 'ㅋ', 'ㅌ', 'ㅍ', 'ㅎ',
];

const SYLLABLES: std::ops::RangeInclusive<u32> = 0xAC00..=0xD7A3;
/// The modern compatibility jamo, ㄱ to ㅣ: exactly what the layout's keys and compounds type.
const COMPATIBILITY_JAMO: std::ops::RangeInclusive<u32> = 0x3131..=0x3163;

/// Whether `c` belongs to any of Unicode's Hangul blocks: text holding one was typed through a
/// Korean input method (or is not a QR text at all).
pub(crate) fn is_hangul(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x11FF       // conjoining jamo
        | 0x3130..=0x318F     // compatibility jamo, modern and archaic
        | 0xA960..=0xA97F     // conjoining jamo extended A
        | 0xAC00..=0xD7AF     // syllables
        | 0xD7B0..=0xD7FF     // conjoining jamo extended B
        | 0xFFA0..=0xFFDF) // half-width jamo
}

/// The QR text whose key presses a 2-set Korean input method rendered as `typed`, or `None` when
/// `typed` holds a character that is neither in the base45 alphabet nor 2-set Hangul. One pass,
/// at most five letters per character.
pub(crate) fn recover(typed: &str) -> Option<String> {
    let mut text = String::with_capacity(typed.len());
    for c in typed.chars() {
        let code = u32::from(c);
        if base45::in_alphabet(c) {
            text.push(c);
        } else if SYLLABLES.contains(&code) {
            let index = usize::try_from(code - SYLLABLES.start()).ok()?;
            push_keys(INITIALS[index / (21 * 28)], &mut text)?;
            push_keys(MEDIALS[index / 28 % 21], &mut text)?;
            if let Some(last) = (index % 28).checked_sub(1) {
                push_keys(FINALS[last], &mut text)?;
            }
        } else if COMPATIBILITY_JAMO.contains(&code) {
            push_keys(c, &mut text)?;
        } else {
            return None;
        }
    }
    Some(text)
}

/// Appends the letters of the keys that type `jamo`: one key, or two for a compound.
fn push_keys(jamo: char, text: &mut String) -> Option<()> {
    match COMPOUNDS.iter().find(|(compound, _)| *compound == jamo) {
        Some((_, parts)) => {
            for part in parts {
                text.push(key(*part)?);
            }
        }
        None => text.push(key(jamo)?),
    }
    Some(())
}

/// The letter of the key that types `jamo`, with or without Shift.
fn key(jamo: char) -> Option<char> {
    LAYOUT
        .iter()
        .find(|(_, plain, shifted)| *plain == jamo || *shifted == jamo)
        .map(|(letter, _, _)| *letter)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renderings anyone who has typed Korean on a Latin keyboard knows (lower-case keys, the
    /// input method's own output), and the shifted keys a scanner sends for upper-case letters.
    #[test]
    fn known_renderings_recover_their_keys() {
        let table = [
            ("안녕하세요", "DKSSUDGKTPDY"),                       // dkssudgktpdy
            ("안녕하쎼요", "DKSSUDGKTPDY"),                       // the same with Shift: T ㅆ, P ㅖ
            ("한국", "GKSRNR"),                                   // gksrnr
            ("한꾺", "GKSRNR"),                                   // with Shift: R ㄲ, final ㄲ
            ("가나다", "RKSKEK"),                                 // rkskek
            ("닭", "EKFR"),                                       // compound final ㄺ
            ("뷁", "QNPFR"),                                      // compound vowel ㅞ and final ㄺ
            ("값", "RKQT"),                                       // compound final ㅄ
            ("괜찮아", "RHOSCKSGDK"),                             // ㅙ and ㄶ
            ("의사", "DMLTK"),                                    // ㅢ
            ("폐1:", "VP1:"),              // the presentation prefix with Shift
            ("페1:", "VP1:"),              // and without
            ("ㅍㅊ1:", "VC1:"),            // the paper prefix: two lone consonants
            ("ㅃㅉㄸㄲㅆㅒㅖ", "QWERTOP"), // every shifted key, alone
            ("ㅘㅙㅚㅝㅞㅟㅢ", "HKHOHLNJNPNLML"), // every compound vowel, alone
            ("ㄳㄵㄶㄺㄻㄼㄽㄾㄿㅀㅄ", "RTSWSGFRFAFQFTFXFVFGQT"), // every compound final, alone
            ("0 $%*+-./:9", "0 $%*+-./:9"), // digits, space and symbols pass through
            ("VP1:가A", "VP1:RKA"),        // upper-case letters pass through too
            ("가", "RK"),                  // the first syllable
            ("힣", "GLG"),                 // the last
            ("", ""),
        ];
        for (typed, keys) in table {
            assert_eq!(recover(typed).as_deref(), Some(keys), "{typed}");
        }
    }

    #[test]
    fn every_syllable_and_modern_jamo_recovers_to_two_to_five_letters() {
        for code in SYLLABLES {
            let syllable = char::from_u32(code).unwrap();
            let keys = recover(&syllable.to_string()).unwrap();
            assert!((2..=5).contains(&keys.len()), "{syllable}: {keys}");
        }
        for code in COMPATIBILITY_JAMO {
            let jamo = char::from_u32(code).unwrap();
            let keys = recover(&jamo.to_string()).unwrap();
            assert!((1..=2).contains(&keys.len()), "{jamo}: {keys}");
        }
    }

    /// Each letter is typed by exactly one key, and the letters of the layout are A to Z.
    #[test]
    fn the_layout_has_one_key_per_letter_and_every_jamo_one_key() {
        let mut letters: Vec<char> = LAYOUT.iter().map(|(letter, _, _)| *letter).collect();
        letters.sort_unstable();
        assert_eq!(letters, ('A'..='Z').collect::<Vec<_>>());
        for (_, plain, shifted) in LAYOUT {
            for jamo in [plain, shifted] {
                let keys = LAYOUT.iter().filter(|(_, p, s)| *p == jamo || *s == jamo);
                assert_eq!(keys.count(), 1, "{jamo}");
            }
        }
        for (compound, parts) in COMPOUNDS {
            assert!(key(compound).is_none(), "{compound}");
            assert!(parts.iter().all(|part| key(*part).is_some()), "{compound}");
        }
    }

    #[test]
    fn what_a_2set_input_method_does_not_type_is_refused() {
        let table = [
            ("lower-case letter beside Hangul", "가a"),
            ("conjoining jamo (decomposed syllable)", "\u{1100}\u{1161}"),
            ("half-width jamo", "\u{FFA1}"),
            ("Hangul filler", "\u{3164}"),
            ("archaic jamo", "\u{3165}"),
            ("extended conjoining jamo", "\u{A960}"),
            ("a tab inside", "가\t나"),
            ("another script", "가あ"),
            ("full-width letter", "가Ａ"),
        ];
        for (why, typed) in table {
            assert!(recover(typed).is_none(), "{why}");
            assert!(typed.chars().any(is_hangul), "{why}");
        }
    }
}
