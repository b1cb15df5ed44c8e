//! Text as scanners deliver it: whitespace around the QR text, and a keyboard-wedge scanner typing
//! into a Korean input method (modelled in `vaxpass_tests::korean_ime`, apart from the core).

use chrono::Duration;
use vaxpass::qr_text::{self, FromScanner, MAX_SCANNED_BYTES};
use vaxpass::Reason;
use vaxpass_tests::korean_ime::{compounds_in, type_through, Keys};
use vaxpass_tests::{lunch, World};

fn has_hangul(text: &str) -> bool {
    !text.is_ascii()
}

/// Real presentations and a paper pass, typed through the input method with and without Shift
/// and with the suffixes scanners add, are recovered and verify VALID.
#[test]
fn passes_typed_through_a_korean_input_method_verify_valid() {
    let world = World::new();
    let mut texts: Vec<String> = (0..10)
        .map(|i| world.show(lunch() - Duration::seconds(i * 5)))
        .collect();
    texts.push(world.wallet.paper(&world.pass).unwrap().text);
    let mut refused = Vec::new();
    for text in &texts {
        for keys in [Keys::Shifted, Keys::Unshifted] {
            let typed = type_through(text, keys);
            assert!(has_hangul(&typed), "{keys:?}: no Hangul in the rendering");
            for suffix in ["", "\r\n", "\t", "\n"] {
                let verdict = world.verdict(&format!("{typed}{suffix}"), lunch());
                if !verdict.is_valid() {
                    refused.push(format!("{keys:?} {suffix:?}: {:?}", verdict.reason()));
                }
            }
        }
    }
    assert!(refused.is_empty(), "{refused:#?}");
}

/// A small deterministic generator (xorshift64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Any base45 text comes back exactly from its rendering, and the renderings exercise every
/// compound vowel and final and every shifted key.
#[test]
fn random_base45_texts_are_recovered_exactly_from_their_renderings() {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut rng = Rng(0x5ca_77e4);
    let mut compounds = std::collections::BTreeSet::new();
    let mut shown = String::new();
    for round in 0..3000 {
        let len = 1 + rng.below(300);
        let body: String = (0..len)
            .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
            .collect();
        let text = format!("VP1:{body}A");
        let keys = if round % 2 == 0 {
            Keys::Shifted
        } else {
            Keys::Unshifted
        };
        let typed = type_through(&text, keys);
        match qr_text::from_scanner(&typed) {
            FromScanner::Recovered(recovered) => assert_eq!(recovered, text, "{typed}"),
            other => panic!("round {round}: {other:?}"),
        }
        compounds.extend(compounds_in(&typed));
        shown.push_str(&typed);
    }
    assert_eq!(
        compounds.into_iter().collect::<String>(),
        "ㄳㄵㄶㄺㄻㄼㄽㄾㄿㅀㅄㅘㅙㅚㅝㅞㅟㅢ"
    );
    for shifted in "ㅃㅉㄸㄲㅆㅒㅖ".chars() {
        assert!(shown.contains(shifted), "{shifted} never typed");
    }
}

/// Hangul the 2-set layout does not type from a QR text, or that does not make a QR text again,
/// gets the reason that tells staff to switch the input method; Latin text stays malformed.
#[test]
fn unrecoverable_hangul_is_refused_as_korean_input_method() {
    let world = World::new();
    let text = world.show(lunch());
    let typed = type_through(&text, Keys::Shifted);
    let first = typed.chars().find(|c| !c.is_ascii()).unwrap();
    let decomposed: String = {
        // The first syllable as conjoining jamo (NFD), which no 2-set input method types.
        let i = u32::from(first) - 0xAC00;
        let mut jamo = vec![0x1100 + i / 588, 0x1161 + i / 28 % 21];
        if i % 28 != 0 {
            jamo.push(0x11A7 + i % 28);
        }
        jamo.into_iter()
            .map(|c| char::from_u32(c).unwrap())
            .collect()
    };
    let rows = [
        ("a lower-case letter inside", typed.replacen('1', "1a", 1)),
        ("conjoining jamo", typed.replacen(first, &decomposed, 1)),
        ("half-width jamo", format!("{typed}\u{FFA1}")),
        ("a syllable too many", format!("{typed}가")),
        ("a tab inside", typed.replacen(':', ":\t", 1)),
        ("far too long once recovered", "뷁".repeat(2000)),
    ];
    let mut wrong = Vec::new();
    for (why, input) in &rows {
        let reason = world.verdict(input, lunch()).reason();
        if reason != Some(Reason::KoreanInputMethod) {
            wrong.push(format!("{why}: {reason:?}"));
        }
    }
    for (why, input) in [
        ("lower-case Latin", text.to_lowercase()),
        (
            "over the size read at all",
            "가".repeat(MAX_SCANNED_BYTES / 3 + 1),
        ),
    ] {
        let reason = world.verdict(&input, lunch()).reason();
        if reason != Some(Reason::Malformed) {
            wrong.push(format!("{why}: {reason:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(Reason::KoreanInputMethod.code(), "korean_input_method");
}

/// A rendering with one character changed is valid only if it stands for the same keys (ㅂ for
/// ㅃ: Shift is lost), and otherwise recovered into another text, which is not valid.
#[test]
fn a_rendering_with_a_changed_character_is_valid_only_for_the_same_keys() {
    let world = World::new();
    let text = world.show(lunch());
    let typed = type_through(&text, Keys::Shifted);
    let (mut same_keys, mut wrong) = (0, Vec::new());
    for (i, c) in typed.char_indices().filter(|(_, c)| !c.is_ascii()) {
        // The neighbouring code point: another final consonant, or the other jamo of a pair.
        let Some(other) = char::from_u32(u32::from(c) ^ 1) else {
            continue;
        };
        let changed = format!("{}{other}{}", &typed[..i], &typed[i + c.len_utf8()..]);
        let keys_kept = matches!(
            qr_text::from_scanner(&changed),
            FromScanner::Recovered(recovered) if recovered == text
        );
        same_keys += usize::from(keys_kept);
        if world.verdict(&changed, lunch()).is_valid() != keys_kept {
            wrong.push(format!("{c} -> {other} at {i}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
    assert!(same_keys > 0, "no ㅂ/ㅃ or ㅈ/ㅉ in the rendering");
}

/// Scanners and camera decoders add whitespace: up to four spaces, TABs, CRs or LFs at each end
/// are removed. More, other whitespace, or whitespace inside the text stays malformed.
#[test]
fn up_to_four_whitespace_characters_at_each_end_are_removed_and_nothing_else() {
    let world = World::new();
    let paper = world.wallet.paper(&world.pass).unwrap().text;
    let mut refused = Vec::new();
    for (before, after) in [
        ("", "\n"),
        ("", "\r\n"),
        ("", "\r"),
        ("", "\t"),
        ("", " "),
        ("", "\r\n\r\n"),
        ("", "\t\r\n "),
        (" ", ""),
        ("\t", "\t"),
        ("\r\n", "\r\n"),
        (" \t\n\r", "\n\r\t "),
    ] {
        let verdict = world.verdict(&format!("{before}{paper}{after}"), lunch());
        if !verdict.is_valid() {
            refused.push(format!("{before:?} {after:?}: {:?}", verdict.reason()));
        }
    }
    assert!(refused.is_empty(), "{refused:#?}");
    let mut accepted = Vec::new();
    let inside = paper.replacen(':', ":\n", 1);
    for (before, text, after) in [
        ("", paper.as_str(), "\n\n\n\n\n"),
        ("     ", paper.as_str(), ""),
        ("", paper.as_str(), "\r\n\r\n\r"),
        ("", paper.as_str(), "\u{a0}"),
        ("", paper.as_str(), "\u{3000}"),
        ("\u{feff}", paper.as_str(), ""),
        ("", paper.as_str(), "\x0b"),
        ("", paper.as_str(), "\x0c"),
        ("", paper.as_str(), "\0"),
        ("", inside.as_str(), ""),
    ] {
        let verdict = world.verdict(&format!("{before}{text}{after}"), lunch());
        if verdict.reason() != Some(Reason::Malformed) {
            accepted.push(format!("{before:?} {after:?}: {:?}", verdict.reason()));
        }
    }
    assert!(accepted.is_empty(), "{accepted:#?}");
    for blank in ["", " ", "\r\n", "    "] {
        assert_eq!(
            world.verdict(blank, lunch()).reason(),
            Some(Reason::Malformed)
        );
    }
}
