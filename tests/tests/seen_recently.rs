//! "Seen a minute ago" through the real verifier: a pass found valid again within the seen window
//! is flagged, and its cue and text say so; nothing else is.

use chrono::Duration;
use vaxpass::*;
use vaxpass_tests::*;

fn seen(verdict: &Verdict) -> bool {
    verdict.warnings().contains(&Warning::SeenRecently)
}

#[test]
fn a_pass_shown_twice_within_the_window_is_flagged_the_second_time() {
    let world = World::new();
    let first = world.verdict(&world.show(lunch()), lunch());
    assert!(first.is_valid() && !seen(&first), "{first:?}");
    assert_eq!(first.cue(), Cue::Valid);
    // A fresh code from the same pass, nine minutes later: one pass for two people.
    let later = lunch() + Duration::minutes(9);
    let second = world.verdict(&world.show(later), later);
    assert!(second.is_valid() && seen(&second), "{second:?}");
    assert_eq!(second.cue(), Cue::SeenRecently);
    assert_eq!(
        second.text(Language::English),
        "Valid. Seen recently: look again."
    );
    // The screenshot handed back down the queue, within its two minutes.
    let screenshot = world.show(lunch());
    let handed_back = world.verdict(&screenshot, lunch() + Duration::minutes(1));
    assert!(handed_back.is_valid() && seen(&handed_back));
}

#[test]
fn a_pass_shown_again_after_the_window_or_another_pass_is_not_flagged() {
    let world = World::new();
    let issued_at = lunch() - Duration::days(10);
    let other = world.issue(issued_at, lunch() + Duration::days(300), issued_at);
    assert!(!seen(&world.verdict(&world.show(lunch()), lunch())));
    let shown = world.wallet.presentation(&other, lunch()).unwrap().text;
    let verdict = world.verdict(&shown, lunch());
    assert!(verdict.is_valid() && !seen(&verdict), "another pass");
    let after = lunch() + Duration::minutes(10);
    let verdict = world.verdict(&world.show(after), after);
    assert!(verdict.is_valid() && !seen(&verdict), "after the window");
}

#[test]
fn the_seen_window_is_configurable_and_zero_turns_it_off() {
    let short = World::with(
        VerifierConfig {
            seen_window: Duration::minutes(1),
            ..VerifierConfig::default()
        },
        three_doses(),
    );
    short.verdict(&short.show(lunch()), lunch());
    let at = lunch() + Duration::seconds(59);
    assert!(seen(&short.verdict(&short.show(at), at)));
    let at = at + Duration::seconds(60);
    assert!(!seen(&short.verdict(&short.show(at), at)));

    let off = World::with(
        VerifierConfig {
            seen_window: Duration::zero(),
            ..VerifierConfig::default()
        },
        three_doses(),
    );
    for _ in 0..2 {
        assert!(!seen(&off.verdict(&off.show(lunch()), lunch())));
    }
    let dir = tempfile::tempdir().unwrap();
    let negative = VerifierConfig {
        seen_window: Duration::seconds(-1),
        ..VerifierConfig::default()
    };
    assert!(matches!(
        Verifier::open(dir.path().join("v.sqlite"), [7; 32], negative),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn only_a_valid_verdict_makes_a_pass_seen() {
    let world = World::new();
    // A stranger's credential presented from another device: genuine bytes, refused. It must not
    // make the holder's own pass "seen" when they arrive.
    let paper = world.wallet.paper(&world.pass).unwrap().text;
    let Scanned::Paper(credential) = qr_text::parse(&paper).unwrap() else {
        panic!("paper text")
    };
    let thief = SoftwareEd25519Signer(Ed25519KeyPair::generate());
    let forged = Presentation::create(&credential, lunch(), &thief).unwrap();
    let refused = world.verdict(&qr_text::presentation_text(&forged), lunch());
    assert_eq!(refused.reason(), Some(Reason::WrongDevice));
    // A screenshot too old: refused, and not counted either.
    let old = world.show(lunch() - Duration::minutes(5));
    assert_eq!(
        world.verdict(&old, lunch()).reason(),
        Some(Reason::PresentationTooOld)
    );
    let holder = world.verdict(&world.show(lunch()), lunch());
    assert!(holder.is_valid() && !seen(&holder), "{holder:?}");
    assert_eq!(holder.cue(), Cue::Valid);
}

#[test]
fn a_paper_pass_seen_again_cues_seen_recently_and_still_asks_for_the_id() {
    let world = World::new();
    let paper = world.wallet.paper(&world.pass).unwrap().text;
    let first = world.verdict(&paper, lunch());
    assert_eq!(first.cue(), Cue::CheckId);
    let again = world.verdict(&paper, lunch() + Duration::minutes(2));
    assert_eq!(again.cue(), Cue::SeenRecently);
    assert_eq!(
        again.text(Language::Korean),
        "유효해요. 신분증을 확인해 주세요. 최근에 확인한 증명서예요. 다시 살펴 주세요."
    );
}

#[test]
fn what_the_verifier_remembers_shows_no_pass_id_or_holder_in_debug() {
    let world = World::new();
    world.verdict(&world.show(lunch()), lunch());
    let debug = format!("{:?}", world.verifier);
    assert!(debug.contains("remembered: 1"), "{debug}");
    for secret in [
        world.pass.to_string(),
        format!("{:?}", world.pass.0),
        "김민준".to_owned(),
        "1985".to_owned(),
    ] {
        assert!(!debug.contains(&secret), "{debug}");
    }
}
