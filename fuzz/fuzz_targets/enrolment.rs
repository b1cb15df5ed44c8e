//! What the issuer service receives from the internet: enrolment requests and issued bundles.
#![no_main]
libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(request) = vaxpass::EnrolmentRequest::verify_possession(bytes) {
        let _ = request.answers(&[0u8; 32]);
    }
    let _ = vaxpass::enrolment::decode_issued(bytes);
    let _ = vaxpass::Credential::from_bytes(bytes);
});
