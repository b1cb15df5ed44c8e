//! What the report measures itself: the QR sizes of our presentation and paper credential beside
//! the EU DCC test data's, and how many of the DCC test cases verify.

use std::collections::BTreeMap;

use vaxpass::{EcLevel, Qr};
use vaxpass_benches::{dcc_cases, dcc_texts, now, World};

use crate::Result;

/// One QR text: its length, its payload in bytes and its QR version at ECC M and Q.
pub struct Code {
    pub chars: usize,
    pub bytes: usize,
    pub version_m: u8,
    pub version_q: u8,
}

impl Code {
    fn of(text: &str, bytes: usize) -> Result<Self> {
        Ok(Self {
            chars: text.len(),
            bytes,
            version_m: Qr::encode(text, EcLevel::M)?.version(),
            version_q: Qr::encode(text, EcLevel::Q)?.version(),
        })
    }
}

pub struct Sizes {
    /// The rotating presentation of a three-dose pass (bytes: its CBOR).
    pub presentation: Code,
    /// The same pass as a paper credential (bytes: the signed credential).
    pub paper: Code,
    /// The EU DCC test data's HC1 texts, sorted by length (bytes: base45-decoded, compressed).
    pub dcc: Vec<Code>,
}

impl Sizes {
    pub fn measure() -> Result<Self> {
        let world = World::new();
        let shown = world.wallet.presentation(&world.pass, now())?;
        let inspection = vaxpass::inspect::inspect(&shown.text)?;
        let paper = world.wallet.paper(&world.pass)?;
        let mut dcc = dcc_texts()
            .iter()
            .map(|text| {
                let body = text.strip_prefix("HC1:").unwrap_or(text);
                let bytes = vaxpass::base45::decode(body).map_or(0, |b| b.len());
                Code::of(text, bytes)
            })
            .collect::<Result<Vec<_>>>()?;
        dcc.sort_by_key(|c| c.chars);
        Ok(Self {
            presentation: Code::of(&shown.text, inspection.cbor_bytes)?,
            paper: Code::of(&paper.text, inspection.credential_bytes)?,
            dcc,
        })
    }

    /// The DCC code at quantile `q` (0 = shortest, 1 = longest) by length.
    pub fn dcc_at(&self, q: f64) -> Option<&Code> {
        let last = self.dcc.len().checked_sub(1)?;
        self.dcc.get((last as f64 * q).round() as usize)
    }
}

/// The EU DCC baseline over the whole test data: how many cases verify, and where the rest stop.
pub struct DccCount {
    pub cases: usize,
    pub verified: usize,
    pub refused_at: BTreeMap<&'static str, usize>,
    /// Cases that state `EXPECTEDVERIFY`, and how many of those our outcome agrees with.
    pub with_expectation: usize,
    pub agreeing: usize,
}

impl DccCount {
    pub fn measure() -> Self {
        let cases = dcc_cases();
        let mut refused_at = BTreeMap::new();
        let (mut verified, mut with_expectation, mut agreeing) = (0, 0, 0);
        for case in &cases {
            let outcome = vaxpass_dcc::verify_qr(&case.text, &case.certificate);
            match &outcome {
                Ok(_) => verified += 1,
                Err(e) => *refused_at.entry(e.stage().name()).or_default() += 1,
            }
            if let Some(expected) = case.expected_verify {
                with_expectation += 1;
                agreeing += usize::from(outcome.is_ok() == expected);
            }
        }
        Self {
            cases: cases.len(),
            verified,
            refused_at,
            with_expectation,
            agreeing,
        }
    }
}
