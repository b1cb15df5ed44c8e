//! QR size budget: a full rotating presentation (name, date of birth, three doses, device
//! binding) must stay within 400 characters, QR version 12 at ECC M. The EU DCC official test
//! data is measured beside it for scale.

use vaxpass::{EcLevel, Qr};
use vaxpass_tests::*;

fn median(mut values: Vec<usize>) -> usize {
    values.sort_unstable();
    values[values.len() / 2]
}

#[test]
fn rotating_presentation_fits_400_characters_and_version_12_at_m() {
    let world = World::new();
    let shown = world.wallet.presentation(&world.pass, lunch()).unwrap();
    let inspection = vaxpass::inspect::inspect(&shown.text).unwrap();
    let chars = shown.text.len();
    println!(
        "rotating presentation: {chars} characters, {} bytes of CBOR (credential {} bytes), version {} at M",
        inspection.cbor_bytes,
        inspection.credential_bytes,
        shown.qr.version()
    );
    assert!(chars <= 400, "{chars} characters");
    assert!(shown.qr.version() <= 12, "version {}", shown.qr.version());

    // For scale: the EU DCC test data, which carries no device binding.
    let dcc: Vec<String> = std::fs::read_to_string(testdata("dcc/dgc-testdata.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["prefix"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .filter(|prefix| prefix.starts_with("HC1:"))
        .collect();
    let dcc_median = median(dcc.iter().map(String::len).collect());
    let median_text = dcc.iter().find(|t| t.len() == dcc_median).unwrap();
    let version = |text: &str, ec| Qr::encode(text, ec).unwrap().version();
    println!(
        "EU DCC test data: {} codes, median {dcc_median} characters (version {} at M, {} at Q)",
        dcc.len(),
        version(median_text, EcLevel::M),
        version(median_text, EcLevel::Q)
    );
    assert!(chars < dcc_median);
}
