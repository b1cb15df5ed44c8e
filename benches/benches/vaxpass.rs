//! Criterion benchmarks: each vaxpass operation beside its physical floor (the signatures and the
//! QR encoding it cannot avoid) and beside the EU DCC pipeline, measured in the same run.
//! Benchmark ids are short and stable: `scripts/bench-report.sh` reads them from
//! `target/criterion/<group>/<id>/new/estimates.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ed25519_dalek::{Signer, SigningKey, Verifier as _};
use vaxpass::keys::{verify_ed25519_with, P256PublicKey};
use vaxpass::{
    DeviceKeySource, EcLevel, IssueRequest, Qr, SoftwareP256Signer, Verifier, VerifierConfig,
    Wallet,
};
use vaxpass_benches::*;
use vaxpass_dcc::Ecdsa;

/// Verify: the full check of a rotating presentation, with an Ed25519 device key and with an
/// ES256 one (a platform key), each beside its floor: the issuer's Ed25519 signature and the
/// device signature checked bare, with the fastest implementation of each (`signature` below).
/// And one EU DCC pass (base45, zlib, COSE, ES256 against the signer certificate) with each
/// ES256 implementation.
fn verify(c: &mut Criterion) {
    let world = World::new();
    let text = presentation(&world);
    let es256 = World::with_device_key(
        VerifierConfig::default(),
        pass(),
        DeviceKeySource::Platform(Arc::new(SoftwareP256Signer::generate())),
    );
    let es256_text = presentation(&es256);
    for (world, text) in [(&world, &text), (&es256, &es256_text)] {
        assert!(world.verifier.verify(text, now()).unwrap().is_valid());
    }
    let s = Signatures::new();
    let dcc = typical_dcc_case();

    let mut group = c.benchmark_group("verify");
    group.bench_function("floor", |b| {
        b.iter(|| {
            s.ed25519
                .verify(black_box(&s.issuer_message), &s.issuer_signature)
                .unwrap();
            s.ed25519
                .verify(black_box(&s.device_message), &s.ed25519_device_signature)
                .unwrap();
        })
    });
    // The checks alone: the durable check log append each shop verdict adds is measured beside
    // them, p50 and p99, by `examples/check_log.rs`.
    group.bench_function("vaxpass", |b| {
        b.iter(|| {
            world
                .verifier
                .verify_unlogged(black_box(&text), now())
                .unwrap()
        })
    });
    group.bench_function("es256-floor", |b| {
        b.iter(|| {
            s.ed25519
                .verify(black_box(&s.issuer_message), &s.issuer_signature)
                .unwrap();
            s.ring_p256()
                .verify(black_box(&s.device_message), &s.p256_device_signature)
                .unwrap();
        })
    });
    group.bench_function("vaxpass-es256", |b| {
        b.iter(|| {
            es256
                .verifier
                .verify_unlogged(black_box(&es256_text), now())
                .unwrap()
        })
    });
    for (id, ecdsa) in [("dcc", Ecdsa::Ring), ("dcc-p256", Ecdsa::RustCrypto)] {
        group.bench_function(id, |b| {
            b.iter(|| {
                vaxpass_dcc::verify_qr_using(black_box(&dcc.text), &dcc.certificate, ecdsa).unwrap()
            })
        });
    }
    group.finish();
}

/// One signature check, each implementation on the same messages as the floors: what the floors
/// are made of, and the measurements the SDK's choice of implementation rests on.
fn signature(c: &mut Criterion) {
    use p256::ecdsa::signature::Verifier as _;
    let s = Signatures::new();
    let (message, ed_signature) = (&s.device_message, &s.ed25519_device_signature);
    let p256_signature = p256::ecdsa::Signature::from_slice(&s.p256_device_signature).unwrap();
    let p256_key = P256PublicKey::from_sec1(&s.p256_uncompressed).unwrap();

    let mut group = c.benchmark_group("signature");
    group.bench_function("ed25519-verify", |b| {
        b.iter(|| s.ed25519.verify(black_box(message), ed_signature).unwrap())
    });
    group.bench_function("ed25519-verify-strict", |b| {
        b.iter(|| {
            s.ed25519
                .verify_strict(black_box(message), ed_signature)
                .unwrap()
        })
    });
    group.bench_function("ed25519-vaxpass", |b| {
        let signature = ed_signature.to_bytes();
        b.iter(|| verify_ed25519_with(&s.ed25519, black_box(message), &signature).unwrap())
    });
    group.bench_function("ed25519-ring", |b| {
        let key = s.ed25519.to_bytes();
        let signature = ed_signature.to_bytes();
        b.iter(|| {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
                .verify(black_box(message), &signature)
                .unwrap()
        })
    });
    group.bench_function("es256-p256", |b| {
        b.iter(|| s.p256.verify(black_box(message), &p256_signature).unwrap())
    });
    group.bench_function("es256-ring", |b| {
        b.iter(|| {
            s.ring_p256()
                .verify(black_box(message), &s.p256_device_signature)
                .unwrap()
        })
    });
    group.bench_function("es256-vaxpass", |b| {
        b.iter(|| {
            p256_key
                .verify(black_box(message), &s.p256_device_signature)
                .unwrap()
        })
    });
    group.finish();
}

/// Display: a presentation and its QR module matrix, beside one Ed25519 signature plus the bare
/// QR encoding of the same text (its floor); and cold start, opening the wallet first.
fn display(c: &mut Criterion) {
    let world = World::new();
    let text = presentation(&world);
    let key = SigningKey::from_bytes(&[7; 32]);
    let message = [3u8; 77];

    let mut group = c.benchmark_group("display");
    group.bench_function("floor", |b| {
        b.iter(|| {
            let signature = key.sign(black_box(&message));
            let qr = Qr::encode(black_box(&text), EcLevel::M).unwrap();
            (signature, qr.modules())
        })
    });
    group.bench_function("presentation", |b| {
        b.iter(|| {
            world
                .wallet
                .presentation(&world.pass, now())
                .unwrap()
                .qr
                .modules()
        })
    });
    group.bench_function("cold-start", |b| {
        b.iter(|| {
            let wallet = Wallet::open(
                world.dir.path().join("wallet.sqlite"),
                DeviceKeySource::default(),
            )
            .unwrap();
            let first = wallet.passes().unwrap()[0].id;
            wallet.presentation(&first, now()).unwrap().qr.modules()
        })
    });
    group.finish();
}

/// Issuing one credential: signing alone, and with the durable audit-log write.
fn issue(c: &mut Criterion) {
    let world = World::new();
    let request = IssueRequest {
        pass: pass(),
        device_key: world.wallet.device_key().clone(),
        not_before: now(),
        expires: now() + chrono::Duration::days(365),
    };
    let mut group = c.benchmark_group("issue");
    group.bench_function("sign", |b| {
        b.iter(|| {
            world
                .authority
                .sign_batch(std::slice::from_ref(&request), now())
                .unwrap()
        })
    });
    group.bench_function("durable", |b| {
        b.iter(|| {
            world
                .authority
                .issue_batch(std::slice::from_ref(&request), now())
                .unwrap()
        })
    });
    group.bench_function("batch-64", |b| {
        let batch = vec![request.clone(); 64];
        b.iter(|| world.authority.issue_batch(&batch, now()).unwrap())
    });
    group.finish();
}

/// Lists: applying a 1,000-key trust list and the largest rules list; a revocation lookup among
/// 1,000,000 entries.
fn lists(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (root, trust) = trust_list_with_keys(dir.path(), 1000);
    let mut group = c.benchmark_group("lists");
    group.sample_size(20);
    group.bench_function("trust-list-1000", |b| {
        b.iter_batched(
            || {
                let path = dir
                    .path()
                    .join(format!("v-{}.sqlite", vaxpass::sync::jitter()));
                Verifier::open(path, root, VerifierConfig::default()).unwrap()
            },
            |verifier| verifier.apply_trust_list(&trust, now()).unwrap(),
            BatchSize::PerIteration,
        )
    });
    // The largest rules list the format allows in sets and modes: 64 rule sets of 16 modes with
    // 32-byte names, every rule present (about 40 KB). As a shop applies one: the next sequence
    // over the one it holds, into its store, committed (only the apply is timed, not the signing).
    let rules_world = World::new();
    let root = rules_world.authority.root_public_key();
    group.bench_function("rules-list-worst", |b| {
        let shop = dir.path().join("rules-shop.sqlite");
        let verifier = Verifier::open(shop, root, VerifierConfig::default()).unwrap();
        b.iter_custom(|iterations| {
            let mut applying = std::time::Duration::ZERO;
            for _ in 0..iterations {
                let next = worst_case_rules_list(&rules_world);
                let start = std::time::Instant::now();
                verifier.apply_rules_list(black_box(&next), now()).unwrap();
                applying += start.elapsed();
            }
            applying
        })
    });
    // The same list applied to a fresh store (its first write: the WAL file is created).
    let rules = worst_case_rules_list(&rules_world);
    group.bench_function("rules-list-worst-fresh-store", |b| {
        b.iter_batched(
            || {
                let path = dir
                    .path()
                    .join(format!("r-{}.sqlite", vaxpass::sync::jitter()));
                Verifier::open(path, root, VerifierConfig::default()).unwrap()
            },
            |verifier| verifier.apply_rules_list(&rules, now()).unwrap(),
            BatchSize::PerIteration,
        )
    });
    // The same list checked and parsed only (signature, bounds, rule sets), without the store.
    group.bench_function("rules-list-worst-parse", |b| {
        b.iter(|| vaxpass::RulesList::verify(black_box(&rules), &root).unwrap())
    });
    let world = World::new();
    revoke_many(&world, 1_000_000);
    let revoked = vaxpass::CredentialId([0, 0, 0, 0, 0, 0]);
    assert!(world.verifier.is_revoked(&revoked).unwrap());
    group.sample_size(100);
    group.bench_function("revocation-hit", |b| {
        b.iter(|| world.verifier.is_revoked(black_box(&revoked)).unwrap())
    });
    group.bench_function("revocation-miss", |b| {
        b.iter(|| world.verifier.is_revoked(black_box(&world.pass)).unwrap())
    });
    group.bench_function("verify-1m-revoked", |b| {
        let text = presentation(&world);
        b.iter(|| world.verifier.verify(black_box(&text), now()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, verify, signature, display, issue, lists);
criterion_main!(benches);
