//! Runs the full verify many times, for an instruction-count profile:
//! `valgrind --tool=callgrind target/release/examples/profile_verify`.
#![allow(clippy::unwrap_used)]

fn main() {
    let world = vaxpass_benches::World::new();
    let text = vaxpass_benches::presentation(&world);
    let now = vaxpass_benches::now();
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    for _ in 0..n {
        assert!(world.verifier.verify(&text, now).unwrap().is_valid());
    }
}
