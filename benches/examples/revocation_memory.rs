//! The verifier's memory with 1,000,000 revocations, measured in processes that hold nothing else:
//! `cargo run --profile bench -p vaxpass-benches --example revocation_memory`.
//!
//! The parent builds the world and signs the list (the authority's work, not measured), then runs
//! this program twice more: once to apply the list to a shop's verifier and verify a pass, once to
//! start a verifier that already holds the list (which re-verifies it on open). Each child reports
//! its resident memory (VmRSS) and peak (VmHWM). The last line on stdout is the JSON the report
//! reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use vaxpass::{CredentialId, Verifier, VerifierConfig};
use vaxpass_benches::*;

const REVOCATIONS: usize = 1_000_000;

/// Opens the shop's verifier (applying `list` first if given), checks that it works and prints
/// `{"rss_kib":..,"peak_kib":..}`.
fn child(dir: &Path, list: Option<&Path>) {
    let root: [u8; 32] = std::fs::read(dir.join("root.key"))
        .unwrap()
        .try_into()
        .unwrap();
    let verifier =
        Verifier::open(dir.join("verifier.sqlite"), root, VerifierConfig::default()).unwrap();
    if let Some(list) = list {
        let bytes = std::fs::read(list).unwrap();
        verifier.apply_revocation_list(&bytes, now()).unwrap();
    }
    let text = std::fs::read_to_string(dir.join("presentation.txt")).unwrap();
    assert!(verifier.verify(&text, now()).unwrap().is_valid());
    assert!(verifier.is_revoked(&CredentialId([0; 6])).unwrap());
    println!(
        "{{\"rss_kib\":{},\"peak_kib\":{}}}",
        status_kib("VmRSS:"),
        status_kib("VmHWM:")
    );
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    match args.as_slice() {
        [dir] => return child(dir, None),
        [dir, list] => return child(dir, Some(list)),
        _ => {}
    }
    let world = World::new();
    let dir = world.dir.path();
    let list = revocation_list(&world, REVOCATIONS);
    std::fs::write(dir.join("revocations.cbor"), &list).unwrap();
    std::fs::write(dir.join("root.key"), world.authority.root_public_key()).unwrap();
    std::fs::write(dir.join("presentation.txt"), presentation(&world)).unwrap();

    let applying = run_self(&[dir.as_os_str(), dir.join("revocations.cbor").as_os_str()]);
    let restarted = run_self(&[dir.as_os_str()]);
    let mib = |v: &serde_json::Value| v.as_u64().unwrap_or(0) as f64 / 1024.0;
    eprintln!(
        "revocation list of {REVOCATIONS} entries, {} bytes signed",
        list.len()
    );
    eprintln!(
        "applying it: peak {:.1} MiB, then {:.1} MiB resident while verifying",
        mib(&applying["peak_kib"]),
        mib(&applying["rss_kib"])
    );
    eprintln!(
        "restarting with it stored: peak {:.1} MiB, then {:.1} MiB resident while verifying",
        mib(&restarted["peak_kib"]),
        mib(&restarted["rss_kib"])
    );
    println!(
        "{}",
        serde_json::json!({
            "entries": REVOCATIONS,
            "list_bytes": list.len(),
            "apply": applying,
            "restart": restarted,
        })
    );
}
