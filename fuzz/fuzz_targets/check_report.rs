//! Check report payloads, signed by a fixed shop key inside the harness, so the bytes reach the
//! report parser (entries, chain, summary, bounds) behind the signature check; the same bytes
//! are also tried as a signed anchor beside a genuine empty report. A report that verifies
//! proves no more entries than it carries, and its sentence can always be written.
#![no_main]

mod common;

use ciborium::value::Value;
use vaxpass::report::{report_message, ANCHOR_DOMAIN};
use vaxpass::Ed25519KeyPair;

fn shop() -> Ed25519KeyPair {
    Ed25519KeyPair::from_secret(&[4; 32]).expect("a 32-byte secret")
}

/// `[shop key, payload, signature over message(payload)]`, as the verifier writes it.
fn signed(payload: &[u8], message: Vec<u8>) -> Vec<u8> {
    let key = shop();
    common::encode(&Value::Array(vec![
        Value::Bytes(key.public().to_vec()),
        Value::Bytes(payload.to_vec()),
        Value::Bytes(key.sign(&message).to_vec()),
    ]))
}

libfuzzer_sys::fuzz_target!(|payload: &[u8]| {
    let key = shop().public();
    let report = signed(payload, report_message(payload));
    if let Ok(proof) = vaxpass::verify_report(&report, Some(&key), None) {
        assert_eq!(proof.checks as usize, proof.entries.len());
        assert!(proof.valid + proof.refused <= proof.checks);
        assert!(proof.head.count >= proof.checks);
        let _ = proof.sentence();
    }
    let mut message = ANCHOR_DOMAIN.to_vec();
    message.extend_from_slice(payload);
    let anchor = signed(payload, message);
    if let Ok(anchor) = vaxpass::Anchor::verify(&anchor) {
        assert_eq!(anchor.shop_key, key.to_vec());
    }
});
