//! The "hostile lists" section: the verifier's peak memory for list bytes a hostile server sends,
//! beside the time to apply genuine lists (benches/examples/hostile_lists.rs, one run).

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use crate::render::met;
use crate::Result;

/// One input offered to a shop's verifier, in a process of its own.
pub struct Case {
    pub list: String,
    pub input: String,
    pub bytes: u64,
    pub peak_kib: u64,
    pub limit_kib: u64,
    pub ms: f64,
    /// Opening the store afterwards.
    pub open_ms: f64,
    pub outcome: String,
}

pub struct Hostile(pub Vec<Case>);

impl Hostile {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: Value = serde_json::from_str(text.lines().last().unwrap_or_default())?;
        let missing = || format!("{}: incomplete case", path.display());
        let cases = json["cases"].as_array().ok_or_else(missing)?;
        cases
            .iter()
            .map(|c| {
                let text = |k: &str| c[k].as_str().map(str::to_owned).ok_or_else(missing);
                let n = |k: &str| c[k].as_u64().ok_or_else(missing);
                Ok(Case {
                    list: text("list")?,
                    input: text("input")?,
                    bytes: n("bytes")?,
                    peak_kib: n("peak_kib")?,
                    limit_kib: n("limit_kib")?,
                    ms: c["ms"].as_f64().ok_or_else(missing)?,
                    open_ms: c["open_ms"].as_f64().ok_or_else(missing)?,
                    outcome: text("outcome")?,
                })
            })
            .collect::<std::result::Result<_, String>>()
            .map(Self)
            .map_err(Into::into)
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn section(doc: &mut String, hostile: &Hostile) {
    doc.push_str(
        "## Hostile lists

`cargo run --profile bench -p vaxpass-benches --example hostile_lists`: each input is offered, in
a process of its own, to a shop's verifier that holds the world's lists. The size is checked
first, then only the COSE envelope is read (as slices of the input) and the root signature
checked; nothing is decoded from the payload before that. Peak = VmHWM of the process, which
includes the input as read; the target is at most 2 × the input + 16 MiB. Open = opening the
store afterwards (it verifies the stored lists and checks the revocation entries against theirs).

| list | input | bytes | peak | target | apply | open | outcome |
|---|---|---|---|---|---|---|---|
",
    );
    for c in &hostile.0 {
        let genuine = c.input.starts_with("genuine");
        let _ = writeln!(
            doc,
            "| {list} | {input} | {bytes} | {peak} | {target} | {ms:.1} ms | {open:.1} ms | {outcome} |",
            list = c.list,
            input = c.input,
            bytes = c.bytes,
            peak = mib(c.peak_kib),
            target = if genuine {
                "—".to_owned()
            } else {
                format!("≤ {} ({})", mib(c.limit_kib), met(c.peak_kib <= c.limit_kib))
            },
            ms = c.ms,
            open = c.open_ms,
            outcome = c.outcome,
        );
    }
    doc.push('\n');
}
