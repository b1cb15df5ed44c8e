//! Trust list payloads, signed by the pinned root key inside the harness, so the bytes reach the
//! payload parser behind the signature check.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|payload: &[u8]| {
    let signed = common::signed_trust_list(payload);
    if let Ok(list) = vaxpass::TrustList::verify(&signed, &common::root().public()) {
        let _ = list.key(&common::issuer().kid());
    }
});
