//! CWT claims (and inside them the device key and the pass data), signed by a trusted issuer key
//! inside the harness: parsed, verified as a paper pass and as a device-signed presentation, and
//! inspected, so the bytes reach every check behind the issuer's signature.
#![no_main]

mod common;

use vaxpass::qr_text;

libfuzzer_sys::fuzz_target!(|claims: &[u8]| {
    let credential = common::signed_credential(claims);
    let mut texts = vec![qr_text::paper_text(&credential)];
    // The device signature costs a signing; only claims that parse can get past it anyway.
    if vaxpass::Credential::from_bytes(&credential).is_ok() {
        texts.push(qr_text::presentation_text(&common::presentation(
            claims,
            &credential,
        )));
    }
    for text in texts {
        let verdict = common::verifier()
            .verify(&text, common::now())
            .expect("verifying reads no storage that can fail here");
        if let vaxpass::Verdict::Valid { holder, .. } = verdict {
            // Whatever verifies must decode again to the same thing and hold a safe name.
            assert!(!holder.name.is_empty());
            assert!(!holder.name.chars().any(char::is_control));
        }
        let _ = vaxpass::inspect::inspect(&text);
    }
});
