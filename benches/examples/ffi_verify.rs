//! The Rust baseline of the FFI benchmark (benches/ffi/README.md): `Verifier::verify` on the
//! `vaxpass_ffi` Rust API (the exported objects, called directly, no FFI), timed the same way as
//! the Kotlin, Swift and Python programs in benches/ffi/, and beside it a bare call
//! (`TrustList::sequence`, no arguments, an `i64` back). Prints one JSON line:
//! `cargo run --locked --release -p vaxpass-benches --example ffi_verify`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vaxpass_ffi::{
    default_verifier_config, new_nonce, Authority, Event, MonotonicClock, Person, Product, Reason,
    TimeSpan, TrustList, VaxpassError, Verdict, Verifier, Wallet,
};

const WARMUP_CALLS: usize = 3_000;
const ROUNDS: usize = 21;
const CALLS_PER_ROUND: usize = 2_000;
const BARE_CALLS_PER_ROUND: usize = 20_000;
const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3_600);

/// Changes base45 body characters [30, 33) of a `VP1:` text (bytes 20-21 of the CBOR, inside the
/// credential's `exp` claim): it still parses, but the issuer's signature no longer matches.
fn tamper(text: &str) -> String {
    let body = text.strip_prefix("VP1:").expect("a rotating presentation");
    let replacement = if &body[30..33] == "000" { "100" } else { "000" };
    format!("VP1:{}{replacement}{}", &body[..30], &body[33..])
}

/// Times ROUNDS rounds of `calls` calls each; returns the per-call times, fastest first.
fn per_call_ns(calls: usize, mut call: impl FnMut()) -> Vec<f64> {
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                call();
            }
            start.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds
}

/// The process's monotonic clock, standing in for the platform's boot clock.
#[derive(Debug)]
struct ProcessClock(Instant);

impl MonotonicClock for ProcessClock {
    fn elapsed_since_boot(&self) -> Result<TimeSpan, VaxpassError> {
        Ok(self.0.elapsed().into())
    }
}

fn main() {
    // 2021-12-13T03:10:00Z, the fixed clock of the binding tests.
    let now = UNIX_EPOCH + Duration::from_secs(1_639_365_000);
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();

    let authority =
        Authority::create(path("authority.sqlite"), "KR".into(), now - 30 * DAY).unwrap();
    let root = authority.root_public_key();
    let trust_list = authority.trust_list(now - HOUR, DAY.into()).unwrap();
    let revocation_list = authority.revocation_list(now - HOUR, DAY.into()).unwrap();
    let rules_list = authority.rules_list(now - HOUR, DAY.into()).unwrap();

    let wallet = Wallet::open(
        path("wallet.sqlite"),
        None,
        Arc::new(ProcessClock(Instant::now())),
    )
    .unwrap();
    let nonce = new_nonce();
    let request = wallet
        .enrolment_request(nonce.clone(), b"identity proof".to_vec())
        .unwrap();
    let vaccination = |dose, date: &str| Event::Vaccination {
        product: Product::Comirnaty,
        dose,
        of: 2,
        date: date.into(),
    };
    let bundle = authority
        .answer_enrolment(
            request,
            nonce,
            Person {
                name: "김민준".into(),
                date_of_birth: "1985-03-14".into(),
            },
            vec![
                vaccination(1, "2021-06-20"),
                vaccination(2, "2021-07-25"),
                vaccination(3, "2021-12-01"),
            ],
            now - DAY,
            now - DAY + 365 * DAY,
            now,
        )
        .unwrap();
    let trust = TrustList::verify(trust_list.clone(), root.clone()).unwrap();
    let passes = wallet
        .import_passes(bundle, Some(trust.clone()), now)
        .unwrap();
    assert_eq!(passes.len(), 1);

    let verifier =
        Verifier::open(path("verifier.sqlite"), root, default_verifier_config()).unwrap();
    verifier.apply_trust_list(trust_list, now).unwrap();
    verifier
        .apply_revocation_list(revocation_list, now)
        .unwrap();
    verifier.apply_rules_list(rules_list, now).unwrap();
    let text = wallet
        .presentation(passes[0].id.clone(), now)
        .unwrap()
        .text();

    assert!(matches!(
        verifier.verify(text.clone(), now).unwrap(),
        Verdict::Valid { .. }
    ));
    assert!(matches!(
        verifier.verify(tamper(&text), now).unwrap(),
        Verdict::NotValid {
            reason: Reason::BadSignature,
            ..
        }
    ));

    let mut valid = 0usize;
    let mut call = |now: SystemTime| {
        if matches!(
            verifier.verify(black_box(text.clone()), now).unwrap(),
            Verdict::Valid { .. }
        ) {
            valid += 1;
        }
    };
    for _ in 0..WARMUP_CALLS {
        call(now);
    }
    let verify = per_call_ns(CALLS_PER_ROUND, || call(now));
    assert_eq!(valid, WARMUP_CALLS + ROUNDS * CALLS_PER_ROUND);

    let mut sequences = 0i64;
    let bare = per_call_ns(BARE_CALLS_PER_ROUND, || {
        sequences = sequences.wrapping_add(black_box(&trust).sequence());
    });
    assert_eq!(
        sequences,
        (ROUNDS * BARE_CALLS_PER_ROUND) as i64 * trust.sequence()
    );

    println!(
        r#"{{"language":"rust","median_ns":{:.1},"min_ns":{:.1},"rounds":{ROUNDS},"calls_per_round":{CALLS_PER_ROUND},"bare_call_ns":{:.1}}}"#,
        verify[ROUNDS / 2],
        verify[0],
        bare[ROUNDS / 2]
    );
}
