//! The verifier's resident memory with 1,000,000 revocations loaded, and its lookup still working:
//! `cargo run --profile bench -p vaxpass-benches --example revocation_memory`.
#![allow(clippy::unwrap_used)]

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let world = vaxpass_benches::World::new();
    let before = rss_kib("VmRSS:");
    vaxpass_benches::revoke_many(&world, 1_000_000);
    let text = vaxpass_benches::presentation(&world);
    assert!(world
        .verifier
        .verify(&text, vaxpass_benches::now())
        .unwrap()
        .is_valid());
    assert!(world
        .verifier
        .is_revoked(&vaxpass::CredentialId([0; 6]))
        .unwrap());
    println!(
        "verifier with 1,000,000 revocations: RSS {} MiB now, {} MiB at the peak (while applying the list), {} MiB before loading",
        rss_kib("VmRSS:") / 1024,
        rss_kib("VmHWM:") / 1024,
        before / 1024
    );
}
