//! Bytes offered as a trust or revocation list by a network the verifier does not trust.
#![no_main]
libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let root = [7u8; 32];
    let _ = vaxpass::TrustList::verify(bytes, &root);
    let _ = vaxpass::RevocationList::verify(bytes, &root);
});
