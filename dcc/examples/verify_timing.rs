//! A rough timing of `verify_qr` on a few dgc-testdata cases, one per algorithm: an indication
//! only, the real benchmark lives elsewhere. Run with `cargo run --release -p vaxpass-dcc
//! --example verify_timing [iterations]`.

use std::time::Instant;

use base64ct::{Base64, Encoding as _};
use vaxpass_dcc::SignerCertificate;

const CASES: &[(&str, &str)] = &[
    ("AE/2DCode/raw/vaccine.json", "ES256 / P-256"),
    ("ES/2DCode/raw/401.json", "ES256 / P-384"),
    ("common/2DCode/raw/CO1.json", "PS256 / RSA-2048"),
    ("common/2DCode/raw/CO2.json", "PS256 / RSA-3072"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: u32 = std::env::args().nth(1).map_or(Ok(500), |n| n.parse())?;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/dcc/dgc-testdata.jsonl"
    );
    let lines = std::fs::read_to_string(file)?;
    println!("| case | decode | verify_qr | verify_with (parsed cert) |\n|---|---:|---:|---:|");
    for (path, label) in CASES {
        let Some(case) = lines
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["path"] == *path)
        else {
            return Err(format!("{path} not in the test data").into());
        };
        let qr = case["prefix"].as_str().ok_or("no prefix")?;
        let der = Base64::decode_vec(case["certificate"].as_str().ok_or("no certificate")?)?;
        let cert = SignerCertificate::from_der(&der)?;
        let hcert = vaxpass_dcc::verify_qr(qr, &der)?;

        let time = |f: &dyn Fn() -> bool| {
            let start = Instant::now();
            for _ in 0..iterations {
                assert!(std::hint::black_box(f()));
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
        };
        let decode = time(&|| vaxpass_dcc::decode(std::hint::black_box(qr)).is_ok());
        let full = time(&|| vaxpass_dcc::verify_qr(std::hint::black_box(qr), &der).is_ok());
        let parsed = time(&|| hcert.verify_with(&cert).is_ok());
        println!("| {label} | {decode:.1} µs | {full:.1} µs | {parsed:.1} µs |");
    }
    Ok(())
}
