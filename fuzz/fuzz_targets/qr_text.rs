//! Any text a camera could hand the verifier: parsing and inspection must answer, never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = vaxpass::qr_text::parse(text);
    let _ = vaxpass::inspect::inspect(text);
});
