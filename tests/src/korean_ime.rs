//! A model of a 2-set (Dubeolsik) Korean input method, written apart from the core's recovery: it
//! composes, where the core decomposes. It types a QR text's characters as a keyboard-wedge
//! scanner does (letters as key presses, with Shift for upper case or without) and returns what
//! the input method puts in the text field.

/// Which keys the scanner presses for an upper-case letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Shift and the letter, as most scanners send upper case: QWERTOP give ㅃㅉㄸㄲㅆㅒㅖ.
    Shifted,
    /// The letter alone (a scanner set to send unshifted keys, or Caps Lock handling).
    Unshifted,
}

const PLAIN: &str = "qwertyuiopasdfghjklzxcvbnm";
const PLAIN_JAMO: &str = "ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔㅁㄴㅇㄹㅎㅗㅓㅏㅣㅋㅌㅊㅍㅠㅜㅡ";
const SHIFTED: &str = "QWERTOP";
const SHIFTED_JAMO: &str = "ㅃㅉㄸㄲㅆㅒㅖ";

/// Unicode's order of initials, medials and finals (index 0 of FINAL: none).
const INITIAL: &str = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ";
const MEDIAL: &str = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ";
const FINAL: &str = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ";

/// Two jamo the input method joins into one, as three-character strings: first, second, joined.
const VOWEL_PAIRS: [&str; 7] = [
    "ㅗㅏㅘ",
    "ㅗㅐㅙ",
    "ㅗㅣㅚ",
    "ㅜㅓㅝ",
    "ㅜㅔㅞ",
    "ㅜㅣㅟ",
    "ㅡㅣㅢ",
];
const FINAL_PAIRS: [&str; 11] = [
    "ㄱㅅㄳ",
    "ㄴㅈㄵ",
    "ㄴㅎㄶ",
    "ㄹㄱㄺ",
    "ㄹㅁㄻ",
    "ㄹㅂㄼ",
    "ㄹㅅㄽ",
    "ㄹㅌㄾ",
    "ㄹㅍㄿ",
    "ㄹㅎㅀ",
    "ㅂㅅㅄ",
];

fn index(table: &str, c: char) -> Option<usize> {
    table.chars().position(|t| t == c)
}

fn joined(pairs: &[&str], first: char, second: char) -> Option<char> {
    pairs.iter().find_map(|p| {
        let mut c = p.chars();
        (c.next() == Some(first) && c.next() == Some(second))
            .then(|| c.next())
            .flatten()
    })
}

/// The two jamo a compound final splits into, if it is one.
fn split(final_: char) -> Option<(char, char)> {
    FINAL_PAIRS.iter().find_map(|p| {
        let c: Vec<char> = p.chars().collect();
        (c[2] == final_).then_some((c[0], c[1]))
    })
}

/// The jamo a key types, if it is a letter key.
fn jamo(letter: char, keys: Keys) -> Option<char> {
    if keys == Keys::Shifted {
        if let Some(i) = index(SHIFTED, letter) {
            return SHIFTED_JAMO.chars().nth(i);
        }
    }
    index(PLAIN, letter.to_ascii_lowercase()).and_then(|i| PLAIN_JAMO.chars().nth(i))
}

fn is_vowel(j: char) -> bool {
    index(MEDIAL, j).is_some()
}

/// The syllable being composed.
#[derive(Default)]
struct Block {
    initial: Option<char>,
    medial: Option<char>,
    final_: Option<char>,
}

impl Block {
    fn render(&self, out: &mut String) {
        match (self.initial, self.medial) {
            (Some(i), Some(m)) => {
                let l = index(INITIAL, i).unwrap() as u32;
                let v = index(MEDIAL, m).unwrap() as u32;
                let t = self.final_.map_or(0, |f| index(FINAL, f).unwrap()) as u32;
                out.push(char::from_u32(0xAC00 + (l * 21 + v) * 28 + t).unwrap());
            }
            (Some(i), None) => out.push(i),
            (None, Some(m)) => out.push(m),
            (None, None) => {}
        }
    }
}

/// What the input method shows after the scanner types `text`.
pub fn type_through(text: &str, keys: Keys) -> String {
    let mut out = String::new();
    let mut block = Block::default();
    for c in text.chars() {
        let Some(j) = jamo(c, keys) else {
            // Digits, spaces and symbols end the syllable and pass through.
            block.render(&mut out);
            block = Block::default();
            out.push(c);
            continue;
        };
        block = if is_vowel(j) {
            vowel(block, j, &mut out)
        } else {
            consonant(block, j, &mut out)
        };
    }
    block.render(&mut out);
    out
}

fn consonant(mut block: Block, c: char, out: &mut String) -> Block {
    match (block.initial, block.medial, block.final_) {
        (Some(_), Some(_), None) if index(FINAL, c).is_some() => {
            block.final_ = Some(c);
            return block;
        }
        (Some(_), Some(_), Some(f)) => {
            if let Some(compound) = joined(&FINAL_PAIRS, f, c) {
                block.final_ = Some(compound);
                return block;
            }
        }
        _ => {}
    }
    block.render(out);
    Block {
        initial: Some(c),
        ..Block::default()
    }
}

fn vowel(mut block: Block, v: char, out: &mut String) -> Block {
    match (block.initial, block.medial, block.final_) {
        (Some(_), None, _) => {
            block.medial = Some(v);
            return block;
        }
        (_, Some(m), None) => {
            if let Some(compound) = joined(&VOWEL_PAIRS, m, v) {
                block.medial = Some(compound);
                return block;
            }
        }
        (Some(_), Some(_), Some(f)) => {
            // The final consonant (or the second half of a compound one) moves on.
            let (kept, moved) = match split(f) {
                Some((first, second)) => (Some(first), second),
                None => (None, f),
            };
            block.final_ = kept;
            block.render(out);
            return Block {
                initial: Some(moved),
                medial: Some(v),
                final_: None,
            };
        }
        _ => {}
    }
    block.render(out);
    Block {
        medial: Some(v),
        ..Block::default()
    }
}

/// The compound jamo (vowels and finals) that `typed` shows, inside syllables or alone.
pub fn compounds_in(typed: &str) -> std::collections::BTreeSet<char> {
    let mut found = std::collections::BTreeSet::new();
    for c in typed.chars() {
        let code = u32::from(c);
        let parts: Vec<char> = if (0xAC00..=0xD7A3).contains(&code) {
            let i = (code - 0xAC00) as usize;
            vec![
                MEDIAL.chars().nth(i / 28 % 21).unwrap(),
                FINAL.chars().nth(i % 28).unwrap(),
            ]
        } else {
            vec![c]
        };
        for p in parts {
            let pairs = VOWEL_PAIRS.iter().chain(FINAL_PAIRS.iter());
            if pairs.into_iter().any(|pair| pair.chars().nth(2) == Some(p)) {
                found.insert(p);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the real input method shows for well-known key sequences.
    #[test]
    fn the_model_types_what_the_input_method_shows() {
        let table = [
            ("DKSSUDGKTPDY", Keys::Unshifted, "안녕하세요"),
            ("DKSSUDGKTPDY", Keys::Shifted, "안녕하쎼요"),
            ("GKSRNR", Keys::Unshifted, "한국"),
            ("GKSRNR", Keys::Shifted, "한꾺"),
            ("RKSKEK", Keys::Unshifted, "가나다"),
            ("RKSKEK", Keys::Shifted, "까나따"),
            ("EKFR", Keys::Unshifted, "닭"),
            ("EKFRK", Keys::Unshifted, "달가"),
            ("QNPFR", Keys::Unshifted, "뷁"),
            ("RHOSCKSGDK", Keys::Unshifted, "괜찮아"),
            ("RKSGK", Keys::Unshifted, "간하"),
            ("VP1:", Keys::Shifted, "폐1:"),
            ("VC1:", Keys::Shifted, "ㅍㅊ1:"),
            ("HK", Keys::Unshifted, "ㅘ"),
            ("RKEE", Keys::Shifted, "까ㄸㄸ"),
            ("RKRK", Keys::Shifted, "까까"),
            ("RKRK", Keys::Unshifted, "가가"),
        ];
        for (text, keys, shown) in table {
            assert_eq!(type_through(text, keys), shown, "{text} {keys:?}");
        }
    }
}
