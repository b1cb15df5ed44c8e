//! The lunch-hour replay at a size that runs in seconds, as part of the workspace's tests: it
//! exits non-zero unless every citizen enrolled, no scan needed the network and every fake was
//! refused. It runs the `lunch-rush` and `vaxpass-issuer` binaries this test build made, so the
//! test command builds them once, with the tests.

use std::path::Path;
use std::process::Command;

#[test]
fn the_lunch_hour_replay_meets_its_targets_at_a_small_size() {
    let lunch_rush = Path::new(env!("CARGO_BIN_EXE_lunch-rush"));
    let issuer = lunch_rush.with_file_name("vaxpass-issuer");
    assert!(
        issuer.exists(),
        "{} not found: the replay needs the issuer service; run it from `cargo test --workspace`, \
         or `cargo build -p vaxpass-issuer` first",
        issuer.display()
    );
    let status = Command::new(lunch_rush)
        .args(["--citizens", "2000", "--shops", "20", "--scans", "20000"])
        .args(["--window-secs", "5", "--server-concurrency", "4"])
        .arg("--server-bin")
        .arg(&issuer)
        .status()
        .expect("lunch-rush starts");
    assert!(status.success(), "lunch-rush missed a target: {status}");
}
