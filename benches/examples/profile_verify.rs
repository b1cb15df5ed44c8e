//! Runs the full verify (the checks; not the check log's fsync) many times, for an
//! instruction-count profile:
//! `valgrind --tool=callgrind target/release/examples/profile_verify`. `DEVICE=es256` verifies
//! a presentation signed by a P-256 device key (the platform signer path) instead of Ed25519.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use vaxpass::{DeviceKeySource, SoftwareP256Signer, VerifierConfig};
use vaxpass_benches::{now, pass, presentation, World};

fn main() {
    let world = match std::env::var("DEVICE").as_deref() {
        Ok("es256") => World::with_device_key(
            VerifierConfig::default(),
            pass(),
            DeviceKeySource::Platform(Arc::new(SoftwareP256Signer::generate())),
        ),
        _ => World::new(),
    };
    let text = presentation(&world);
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    for _ in 0..n {
        assert!(world
            .verifier
            .verify_unlogged(&text, now())
            .unwrap()
            .is_valid());
    }
}
