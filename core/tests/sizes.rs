mod common;
use common::*;

#[test]
fn rotating_presentation_fits_400_characters_and_version_12_at_m() {
    let world = World::new();
    let shown = world.wallet.presentation(&world.pass, lunch()).unwrap();
    let inspection = vaxpass::inspect::inspect(&shown.text).unwrap();
    println!(
        "chars {} cbor {} credential {} version {}",
        shown.text.len(),
        inspection.cbor_bytes,
        inspection.credential_bytes,
        shown.qr.version()
    );
    assert!(shown.text.len() <= 400, "{} characters", shown.text.len());
    assert!(shown.qr.version() <= 12);
}
