//! Any text a scanner could deliver, Hangul from a Korean input method included: `from_scanner`
//! answers without panicking, what it recovers is base45 characters only and at most five letters
//! per three bytes typed, and parsing the result answers too.
#![no_main]
use vaxpass::qr_text::{self, FromScanner};

libfuzzer_sys::fuzz_target!(|text: &str| {
    match qr_text::from_scanner(text) {
        FromScanner::Recovered(recovered) => {
            assert!(recovered.chars().all(vaxpass::base45::in_alphabet));
            assert!(recovered.len() * 3 <= text.len() * 5);
            let _ = qr_text::parse_exact(&recovered);
        }
        FromScanner::Plain(plain) => assert!(text.contains(plain)),
        FromScanner::KoreanInputMethod => {}
    }
});
