//! The QR code as a camera sees it: rendered to a PNG, decoded from pixels by a real QR decoder
//! (rqrr), and verified.

use vaxpass::{EcLevel, Qr};
use vaxpass_tests::*;

fn decode_png(png: &[u8]) -> Vec<String> {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    prepared
        .detect_grids()
        .into_iter()
        .map(|grid| grid.decode().unwrap().1)
        .collect()
}

#[test]
fn a_presentation_rendered_to_png_decodes_and_verifies() {
    let world = World::new();
    let shown = world.wallet.presentation(&world.pass, lunch()).unwrap();
    let png = shown.qr.to_png(4).unwrap();
    let decoded = decode_png(&png);
    assert_eq!(
        decoded,
        vec![shown.text.clone()],
        "the decoder reads back exactly the text"
    );
    let verdict = world.verdict(&decoded[0], lunch());
    assert_eq!(admitted(&verdict).0.name, "김민준");
}

#[test]
fn a_paper_pass_png_decodes_and_asks_for_an_id_check() {
    let world = World::new();
    let paper = world.wallet.paper(&world.pass).unwrap();
    assert_eq!(paper.qr.ec_level(), EcLevel::Q);
    let decoded = decode_png(&paper.qr.to_png(3).unwrap());
    let verdict = world.verdict(&decoded[0], lunch());
    assert!(admitted(&verdict).1, "a paper pass needs an ID check");
}

#[test]
fn every_error_correction_level_round_trips_through_pixels() {
    let world = World::new();
    let text = world.show(lunch());
    for (ec, min_version) in [
        (EcLevel::L, 9),
        (EcLevel::M, 11),
        (EcLevel::Q, 13),
        (EcLevel::H, 15),
    ] {
        let qr = Qr::encode(&text, ec).unwrap();
        assert!(
            qr.version() >= min_version,
            "{ec:?} gave version {}",
            qr.version()
        );
        assert_eq!(qr.width(), 17 + 4 * usize::from(qr.version()));
        assert_eq!(decode_png(&qr.to_png(3).unwrap()), vec![text.clone()]);
    }
}
