//! Criterion benchmarks: each vaxpass operation beside its physical floor (the signatures and the
//! QR encoding it cannot avoid) and beside the EU DCC pipeline, measured in the same run.
//! Benchmark ids are short and stable: `scripts/bench-report.sh` reads them from
//! `target/criterion/<group>/<id>/new/estimates.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use vaxpass::{DeviceKeySource, EcLevel, IssueRequest, Qr, Verifier, VerifierConfig, Wallet};
use vaxpass_benches::*;

/// Verify: the full check of a rotating presentation, two bare `verify_strict` calls (its floor),
/// and one EU DCC pass (base45, zlib, COSE, ES256 against the signer certificate).
fn verify(c: &mut Criterion) {
    let world = World::new();
    let text = presentation(&world);
    assert!(world.verifier.verify(&text, now()).unwrap().is_valid());
    let key = SigningKey::from_bytes(&[7; 32]);
    let public: VerifyingKey = key.verifying_key();
    let (m1, m2) = ([1u8; 200], [2u8; 77]);
    let (s1, s2) = (key.sign(&m1), key.sign(&m2));
    let dcc = typical_dcc_case();

    let mut group = c.benchmark_group("verify");
    group.bench_function("floor", |b| {
        b.iter(|| {
            public.verify_strict(black_box(&m1), &s1).unwrap();
            public.verify_strict(black_box(&m2), &s2).unwrap();
        })
    });
    group.bench_function("vaxpass", |b| {
        b.iter(|| world.verifier.verify(black_box(&text), now()).unwrap())
    });
    group.bench_function("dcc", |b| {
        b.iter(|| vaxpass_dcc::verify_qr(black_box(&dcc.text), &dcc.certificate).unwrap())
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

/// Lists: applying a 1,000-key trust list; a revocation lookup among 1,000,000 entries.
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

criterion_group!(benches, verify, display, issue, lists);
criterion_main!(benches);
