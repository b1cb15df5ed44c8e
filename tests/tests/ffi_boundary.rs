//! What the bindings refuse at the boundary, as an app's values reach them: times outside the
//! calendar, time spans that are negative or too long, negative sizes and day counts, and
//! offsets beyond a day. Each is an `InvalidArgument`, never a panic, a wrap or a silent clamp.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vaxpass_ffi::{
    default_verifier_config, EcLevel, Qr, TimeSpan, VaxpassError, Verifier, VerifierConfig,
};
use vaxpass_tests::*;

fn system_time(t: chrono::DateTime<chrono::Utc>) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(t.timestamp().unsigned_abs())
}

fn open(world: &World, name: &str, config: VerifierConfig) -> Result<Verifier, VaxpassError> {
    Verifier::open(
        world.dir.path().join(name).display().to_string(),
        world.authority.root_public_key().to_vec(),
        config,
    )
    .map(|v| std::sync::Arc::try_unwrap(v).unwrap())
}

fn invalid<T>(result: Result<T, VaxpassError>) -> bool {
    matches!(result, Err(VaxpassError::InvalidArgument { .. }))
}

/// A shop's verifier holding the world's lists, through the bindings.
fn ffi_verifier(world: &World) -> Verifier {
    let verifier = open(world, "ffi-verifier.sqlite", default_verifier_config()).unwrap();
    let trust = world
        .authority
        .trust_list(
            lunch() - chrono::Duration::hours(1),
            chrono::Duration::hours(24),
        )
        .unwrap();
    verifier
        .apply_trust_list(trust, system_time(lunch()))
        .unwrap();
    verifier
}

#[test]
fn a_device_clock_past_the_year_9999_is_refused_not_a_panic() {
    let world = World::new();
    let verifier = ffi_verifier(&world);
    let text = world.show(lunch());
    // The last second chrono can represent, and a time in the year 10000.
    let end_of_chrono = system_time(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    let year_10000 = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
    for now in [end_of_chrono, year_10000] {
        assert!(invalid(verifier.verify(text.clone(), now)));
        assert!(invalid(verifier.freshness(now)));
    }
    assert!(verifier.verify(text, system_time(lunch())).is_ok());
}

#[test]
fn a_leeway_past_ten_thousand_years_is_refused_when_the_verifier_opens() {
    let world = World::new();
    let mut config = default_verifier_config();
    // 285,000 years: a chrono duration, but now + leeway is past the end of its calendar.
    config.clock_leeway = TimeSpan::from_seconds(9e12);
    assert!(invalid(open(&world, "v.sqlite", config)));
}

#[test]
fn negative_nan_and_infinite_spans_are_refused() {
    let world = World::new();
    for seconds in [-1.0, f64::NAN, f64::INFINITY, -f64::INFINITY] {
        let span = TimeSpan::from_seconds(seconds);
        let mut config = default_verifier_config();
        config.fail_after = span;
        assert!(invalid(open(&world, "a.sqlite", config)), "{seconds}");
        let mut config = default_verifier_config();
        config.presentation_window = span;
        assert!(invalid(open(&world, "b.sqlite", config)), "{seconds}");
    }
}

#[test]
fn negative_and_oversized_module_sizes_are_refused_by_every_rendering() {
    let qr = Qr::encode("VP1:ABCDEFGHIJKLMNOPQRSTU".into(), EcLevel::M).unwrap();
    for size in [-1, 0, 65, i32::MIN, i32::MAX] {
        assert!(invalid(qr.png(size)), "{size}");
        assert!(invalid(qr.svg(size)), "{size}");
        assert!(invalid(qr.bitmap(size)), "{size}");
    }
    let bitmap = qr.bitmap(3).unwrap();
    assert_eq!((bitmap.width, bitmap.height), ((25 + 8) * 3, (25 + 8) * 3));
    assert_eq!(bitmap.pixels.len(), (bitmap.width * bitmap.height) as usize);
}
