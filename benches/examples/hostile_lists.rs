//! The verifier's memory when a hostile server (or CDN) sends list bytes, beside the time to apply
//! genuine lists, in one run: `cargo run --profile bench -p vaxpass-benches --example hostile_lists`.
//!
//! The parent writes the inputs: for the trust list and the revocation list, 4 MiB and 33 MiB
//! (the revocation list's limit) of an unsigned CBOR array, and the same sizes wrapped in a
//! well-formed COSE_Sign1 whose signature is wrong; and the genuine lists (1,000 issuer keys;
//! 1,000,000 revocations). Each input is then offered, in a process of its own, to a shop's
//! verifier that holds the world's lists (genuine ones five times: the median time and the
//! highest peak are reported); the child reports its peak memory (VmHWM: the input as
//! read, plus whatever the verifier built), how long the apply took, and how long opening the
//! store afterwards takes (it verifies the stored lists and checks the revocation entries against
//! theirs). The target: a peak of at most 2 × the input + 16 MiB. The last line on stdout is the
//! JSON the report reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use vaxpass::{Verifier, VerifierConfig};
use vaxpass_benches::*;

const MIB: usize = 1 << 20;
const REVOCATIONS: usize = 1_000_000;

/// An unsigned CBOR array of `len - 5` zeros, `len` bytes in all.
fn unsigned_array(len: usize) -> Vec<u8> {
    let mut bytes = vec![0x9a];
    bytes.extend_from_slice(&((len - 5) as u32).to_be_bytes());
    bytes.resize(len, 0);
    bytes
}

/// `[protected, {}, payload, signature]` of `len` bytes with a well-formed protected header (the
/// root's kid and the list's content type, copied from `genuine`) and a wrong signature: the
/// payload is a byte string of zeros.
fn forged_envelope(genuine: &[u8], len: usize) -> Vec<u8> {
    // The genuine list's array head (1 byte) and protected header (a bstr of 24 to 255 bytes).
    assert_eq!(genuine[..2], [0x84, 0x58]);
    let protected_len = genuine[2] as usize;
    let protected = &genuine[1..3 + protected_len];
    let mut bytes = vec![0x84];
    bytes.extend_from_slice(protected);
    bytes.push(0xa0);
    let payload_len = len - bytes.len() - 5 - 66;
    bytes.push(0x5a);
    bytes.extend_from_slice(&(payload_len as u32).to_be_bytes());
    bytes.resize(bytes.len() + payload_len, 0);
    bytes.extend_from_slice(&[0x58, 0x40]);
    bytes.resize(len, 0x11);
    bytes
}

/// Child: opens a copy of the shop's verifier store (or, for another root, a new one), offers
/// `input` as the `kind` list and prints `{"peak_kib":..,"ms":..,"outcome":".."}`.
fn child(dir: &Path, kind: &str, root_path: &Path, input: &Path) {
    let root: [u8; 32] = std::fs::read(root_path).unwrap().try_into().unwrap();
    let store = dir.join(format!("verifier-{}.sqlite", std::process::id()));
    if root_path == dir.join("root.key") {
        std::fs::copy(dir.join("shop.sqlite"), &store).unwrap();
    }
    let verifier = Verifier::open(&store, root, VerifierConfig::default()).unwrap();
    let bytes = std::fs::read(input).unwrap();
    let started = Instant::now();
    let applied = match kind {
        "trust" => verifier.apply_trust_list(&bytes, now()),
        _ => verifier.apply_revocation_list(&bytes, now()),
    };
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let outcome = match applied {
        Ok(_) => "applied".to_owned(),
        Err(e) => format!("refused: {e}"),
    };
    let peak_kib = status_kib("VmHWM:");
    // Opening the store again verifies the stored list and checks the entries against it.
    drop(verifier);
    let started = Instant::now();
    let reopened = Verifier::open(&store, root, VerifierConfig::default()).unwrap();
    let open_ms = started.elapsed().as_secs_f64() * 1e3;
    assert_ne!(
        reopened.freshness(now()).state,
        vaxpass::FreshnessState::Damaged
    );
    println!(
        "{}",
        serde_json::json!({ "peak_kib": peak_kib, "ms": ms, "open_ms": open_ms, "outcome": outcome })
    );
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if let [dir, kind, root, input] = args.as_slice() {
        return child(dir, kind.to_str().unwrap(), root, input);
    }
    let world = World::new();
    let dir = world.dir.path();
    let root = dir.join("root.key");
    std::fs::write(&root, world.authority.root_public_key()).unwrap();
    // The shop holds the world's lists; the genuine ones offered come after them.
    let day = chrono::Duration::hours(24);
    let shop = Verifier::open(
        dir.join("shop.sqlite"),
        world.authority.root_public_key(),
        VerifierConfig::default(),
    )
    .unwrap();
    shop.apply_trust_list(&world.authority.trust_list(now(), day).unwrap(), now())
        .unwrap();
    shop.apply_revocation_list(&world.authority.revocation_list(now(), day).unwrap(), now())
        .unwrap();
    drop(shop);
    let genuine_trust = world.authority.trust_list(now(), day).unwrap();
    let genuine_revocations = revocation_list(&world, REVOCATIONS);
    let (many_keys_root, many_keys) = trust_list_with_keys(dir, 1000);
    let many_keys_root_path = dir.join("many-keys-root.key");
    std::fs::write(&many_keys_root_path, many_keys_root).unwrap();

    let mut inputs: Vec<(&str, String, Vec<u8>, &Path)> = Vec::new();
    for (kind, genuine) in [
        ("trust", &genuine_trust),
        ("revocation", &genuine_revocations),
    ] {
        for size in [4 * MIB, 33 * MIB] {
            inputs.push((
                kind,
                "unsigned CBOR array".into(),
                unsigned_array(size),
                &root,
            ));
            inputs.push((
                kind,
                "COSE_Sign1, wrong signature".into(),
                forged_envelope(genuine, size),
                &root,
            ));
        }
    }
    inputs.push((
        "trust",
        "genuine, 1,000 issuer keys".into(),
        many_keys,
        &many_keys_root_path,
    ));
    inputs.push((
        "revocation",
        format!("genuine, {REVOCATIONS} revocations"),
        genuine_revocations.clone(),
        &root,
    ));

    let mut cases = Vec::new();
    for (i, (kind, input, bytes, root)) in inputs.iter().enumerate() {
        let path = dir.join(format!("input-{i}.cbor"));
        std::fs::write(&path, bytes).unwrap();
        // Genuine lists are applied five times (the median time is reported), hostile ones once.
        let runs = if input.starts_with("genuine") { 5 } else { 1 };
        let mut runs: Vec<serde_json::Value> = (0..runs)
            .map(|_| {
                run_self(&[
                    dir.as_os_str(),
                    kind.as_ref(),
                    root.as_os_str(),
                    path.as_os_str(),
                ])
            })
            .collect();
        let number = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        runs.sort_by(|a, b| number(a, "ms").total_cmp(&number(b, "ms")));
        let peak = runs
            .iter()
            .map(|r| r["peak_kib"].as_u64().unwrap_or(0))
            .max();
        let mut measured = runs.swap_remove(runs.len() / 2);
        measured["peak_kib"] = peak.into();
        std::fs::remove_file(&path).unwrap();
        let limit_kib = (2 * bytes.len() + 16 * MIB) as u64 / 1024;
        let peak_kib = measured["peak_kib"].as_u64().unwrap_or(0);
        eprintln!(
            "{kind} list, {input}, {} bytes: peak {:.1} MiB (limit {:.1} MiB), apply {:.1} ms, \
             open after {:.1} ms, {}",
            bytes.len(),
            peak_kib as f64 / 1024.0,
            limit_kib as f64 / 1024.0,
            measured["ms"].as_f64().unwrap_or(f64::NAN),
            measured["open_ms"].as_f64().unwrap_or(f64::NAN),
            measured["outcome"].as_str().unwrap_or_default(),
        );
        cases.push(serde_json::json!({
            "list": kind,
            "input": input,
            "bytes": bytes.len(),
            "peak_kib": peak_kib,
            "limit_kib": limit_kib,
            "ms": measured["ms"],
            "open_ms": measured["open_ms"],
            "outcome": measured["outcome"],
        }));
    }
    println!("{}", serde_json::json!({ "cases": cases }));
}
