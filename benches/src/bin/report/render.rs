//! The markdown of docs/performance.md. Figures are formatted here; every one comes from the run.

use std::fmt::Write;

use crate::inputs::{Call, Ffi, Library, Machine, Memory, Times};
use crate::sizes::{Code, DccCount, Sizes};

pub struct Run {
    pub machine: Machine,
    pub times: Times,
    pub memory: Memory,
    pub hostile: crate::hostile::Hostile,
    pub ffi: Ffi,
    pub library: Library,
    pub sizes: Sizes,
    pub dcc: DccCount,
}

/// A duration in nanoseconds, in the unit that reads best.
fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns >= 10.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    }
}

pub fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn mb(kib: u64) -> String {
    format!(
        "{:.1} MB ({:.1} MiB)",
        kib as f64 * 1024.0 / 1e6,
        kib as f64 / 1024.0
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn document(run: &Run) -> String {
    let mut doc = String::new();
    header(&mut doc, run);
    targets(&mut doc, run);
    operations(&mut doc, run);
    signatures(&mut doc, run);
    memory(&mut doc, run);
    crate::hostile::section(&mut doc, &run.hostile);
    ffi(&mut doc, run);
    sizes(&mut doc, run);
    library(&mut doc, run);
    dcc(&mut doc, run);
    notes(&mut doc, run);
    doc
}

fn header(doc: &mut String, run: &Run) {
    let m = &run.machine;
    let _ = write!(
        doc,
        "# Performance

<!-- Written by scripts/bench-report.sh from one run; change the generator
     (benches/src/bin/report), not this file. -->

Measured on {date} by one run of `scripts/bench-report.sh`, on {cpu}, {cores} cores,
{mem:.0} GiB, Linux {kernel}, {rustc}. Times are criterion medians (95% confidence interval
beside them), each beside its floor measured in the same run. The machine is shared and
virtualised: figures move by a few percent between runs, which is why targets are ratios.

The issuer service's figures (the enrolment peak, overload, the lunch-hour replay) are in
[issuer-service-performance.md](issuer-service-performance.md).

",
        date = m.date,
        cpu = m.cpu,
        cores = m.cores,
        mem = m.memory_gib,
        kernel = m.kernel,
        rustc = m.rustc,
    );
}

fn targets(doc: &mut String, run: &Run) {
    let t = &run.times;
    let verify = t.ns("verify/vaxpass") / t.ns("verify/floor");
    let verify_es256 = t.ns("verify/vaxpass-es256") / t.ns("verify/es256-floor");
    let dcc = t.ns("verify/dcc") / t.ns("verify/vaxpass");
    let display = t.ns("display/presentation") / t.ns("display/floor");
    let cold = t.ns("display/cold-start") / t.ns("display/floor");
    let lookup = t
        .ns("lists/revocation-hit")
        .max(t.ns("lists/revocation-miss"));
    let trust = t.ns("lists/trust-list-1000");
    let resident = run.memory.apply_rss_kib.max(run.memory.restart_rss_kib);
    let resident_mb = resident as f64 * 1024.0 / 1e6;
    let chars = run.sizes.presentation.chars;
    let _ = writeln!(doc, "## Targets\n");
    let _ = writeln!(doc, "| target | measured | |\n|---|---|---|");
    let mut row = |target: &str, measured: String, ok: bool| {
        let _ = writeln!(doc, "| {target} | {measured} | {} |", met(ok));
    };
    row(
        "full verify, Ed25519 device key, ≤ 1.3 × its floor",
        format!("{verify:.2} ×"),
        verify <= 1.3,
    );
    row(
        "full verify, ES256 device key, ≤ 1.3 × its floor",
        format!("{verify_es256:.2} ×"),
        verify_es256 <= 1.3,
    );
    row(
        "full verify faster than the EU DCC verify of one pass (with ring's ES256, the fastest)",
        if dcc >= 1.0 {
            format!("{dcc:.2} × faster")
        } else {
            format!("{:.2} × slower", 1.0 / dcc)
        },
        dcc > 1.0,
    );
    row(
        "presentation + QR matrix ≤ 1.2 × the display floor",
        format!("{display:.2} ×"),
        display <= 1.2,
    );
    row(
        "cold start to first QR ≤ 2 × the display floor",
        format!("{cold:.2} ×"),
        cold <= 2.0,
    );
    row(
        "revocation lookup among 1,000,000 entries ≤ 10 µs",
        time(lookup),
        lookup <= 10_000.0,
    );
    row(
        "verifier resident memory with 1,000,000 revocations ≤ 64 MB",
        mb(resident),
        resident_mb <= 64.0,
    );
    row(
        "apply a 1,000-key trust list ≤ 50 ms",
        time(trust),
        trust <= 50e6,
    );
    if let Some(rust) = run.ffi.rust() {
        for call in run.ffi.0.iter().filter(|c| c.is_shipped_binding()) {
            let overhead = call.median_ns - rust.median_ns;
            row(
                &format!("{} call overhead per verify ≤ 10 µs", title(&call.language)),
                format!("{:+.1} µs", overhead / 1e3),
                overhead <= 10_000.0,
            );
        }
    }
    row(
        "rotating presentation ≤ 400 QR characters",
        format!("{chars}"),
        chars <= 400,
    );
    let library = &run.library;
    row(
        &format!(
            "stripped release library ≤ {} MB",
            library.limit as f64 / 1e6
        ),
        format!("{} bytes", thousands(library.bytes)),
        library.bytes <= library.limit,
    );
    doc.push('\n');
}

fn title(language: &str) -> String {
    if let Some(language) = language.strip_suffix("-unpatched") {
        return format!("{}, uniffi's code unpatched", title(language));
    }
    let mut chars = language.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn operations(doc: &mut String, run: &Run) {
    let t = &run.times;
    let _ = writeln!(
        doc,
        "## Core operations\n\n`cargo bench -p vaxpass-benches` (criterion; the optimised `bench` profile).\n"
    );
    let _ = writeln!(
        doc,
        "| operation | median | 95% CI | beside |\n|---|---|---|---|"
    );
    let mut row = |what: &str, id: &str, beside: String| {
        let e = t.get(id);
        let _ = writeln!(
            doc,
            "| {what} | {} | {} – {} | {beside} |",
            time(e.median),
            time(e.low),
            time(e.high)
        );
    };
    let ratio = |id: &str, floor: &str| format!("{:.2} × the floor", t.ns(id) / t.ns(floor));
    row(
        "verify floor, Ed25519 device key: two ed25519-dalek `verify` (issuer, then device signature)",
        "verify/floor",
        "".into(),
    );
    row(
        "full verify of a rotating presentation, Ed25519 device key (parse, trust lookup, both signatures, freshness, revocation, policy)",
        "verify/vaxpass",
        ratio("verify/vaxpass", "verify/floor"),
    );
    row(
        "verify floor, ES256 device key: ed25519-dalek `verify` (issuer) + ring ES256 (device)",
        "verify/es256-floor",
        "".into(),
    );
    row(
        "full verify of a rotating presentation, ES256 device key (a platform key: Secure Enclave, StrongBox)",
        "verify/vaxpass-es256",
        ratio("verify/vaxpass-es256", "verify/es256-floor"),
    );
    row(
        "EU DCC with ring's ES256: base45, zlib, COSE_Sign1, ES256 against the signer certificate (the median ES256 test case)",
        "verify/dcc",
        format!(
            "{:.2} × the vaxpass verify (Ed25519 device), {:.2} × (ES256 device)",
            t.ns("verify/dcc") / t.ns("verify/vaxpass"),
            t.ns("verify/dcc") / t.ns("verify/vaxpass-es256"),
        ),
    );
    row(
        "EU DCC with the p256 crate's ES256, the same case",
        "verify/dcc-p256",
        format!(
            "{:.2} × the EU DCC with ring",
            t.ns("verify/dcc-p256") / t.ns("verify/dcc")
        ),
    );
    row(
        "full verify with 1,000,000 revocations loaded",
        "lists/verify-1m-revoked",
        format!(
            "{:.2} × the verify with an empty list",
            t.ns("lists/verify-1m-revoked") / t.ns("verify/vaxpass")
        ),
    );
    row(
        "display floor: one Ed25519 signature + QR encoding of the same text",
        "display/floor",
        "".into(),
    );
    row(
        "presentation + its QR module matrix",
        "display/presentation",
        ratio("display/presentation", "display/floor"),
    );
    row(
        "cold start: open the wallet, list passes, first QR",
        "display/cold-start",
        ratio("display/cold-start", "display/floor"),
    );
    row("sign one credential", "issue/sign", "".into());
    row(
        "issue one credential with its own durable commit",
        "issue/durable",
        "".into(),
    );
    row(
        "issue a durable batch of 64",
        "issue/batch-64",
        format!("{} per credential", time(t.ns("issue/batch-64") / 64.0)),
    );
    row(
        "apply a 1,000-key trust list (fresh verifier)",
        "lists/trust-list-1000",
        "".into(),
    );
    row(
        "revocation lookup among 1,000,000 entries, revoked",
        "lists/revocation-hit",
        "".into(),
    );
    row(
        "revocation lookup among 1,000,000 entries, not revoked",
        "lists/revocation-miss",
        "".into(),
    );
    doc.push('\n');
}

fn signatures(doc: &mut String, run: &Run) {
    let t = &run.times;
    let _ = write!(
        doc,
        "## Signature checks

Each implementation alone, on the floors' device message (77 bytes; an ES256 check hashes it with
SHA-256 itself). The floors above use the fastest of each algorithm; the SDK's own check is the
last row of each. A full verify checks two signatures where an EU DCC checks one: the issuer's
(is this pass genuine?) and the device binding (is it shown by the phone it was issued to, within
the last minute?), which a DCC, a static QR that any copy of reproduces, does not have.

| check | median | 95% CI | beside |
|---|---|---|---|
"
    );
    let mut row = |what: &str, id: &str, beside: &str| {
        let e = t.get(id);
        let ratio = t.ns(id) / t.ns(beside);
        let _ = writeln!(
            doc,
            "| {what} | {} | {} – {} | {ratio:.2} × `{}` |",
            time(e.median),
            time(e.low),
            time(e.high),
            beside.trim_start_matches("signature/"),
        );
    };
    let ed = "signature/ed25519-verify";
    row("Ed25519, ed25519-dalek `verify` (cofactorless)", ed, ed);
    row(
        "Ed25519, ed25519-dalek `verify_strict`",
        "signature/ed25519-verify-strict",
        ed,
    );
    row("Ed25519, ring", "signature/ed25519-ring", ed);
    row(
        "Ed25519, the SDK's check: `verify` and two byte comparisons, the answers of `verify_strict`",
        "signature/ed25519-vaxpass",
        ed,
    );
    let (ring, p256) = ("signature/es256-ring", "signature/es256-p256");
    row("ES256, ring", ring, ring);
    row("ES256, the p256 crate", p256, ring);
    row(
        "ES256, the SDK's check (ring, the key decoded when the credential was parsed)",
        "signature/es256-vaxpass",
        ring,
    );
    let fastest = if t.ns(ring) <= t.ns(p256) {
        "ring"
    } else {
        "the p256 crate"
    };
    let _ = writeln!(
        doc,
        "\nThe fastest ES256 in this run: {fastest}. `tests/tests/vectors.rs` runs the Wycheproof vectors
through every check the project uses, with 0 disagreements allowed: the 262 P-256 ones through
the SDK's check (both key forms), ring and the p256 crate; the 151 Ed25519 ones through the
SDK's check and `verify_strict`.\n"
    );
}

fn library(doc: &mut String, run: &Run) {
    let l = &run.library;
    let _ = write!(
        doc,
        "## Library size

`scripts/check-library-size.sh`: the stripped release `libvaxpass_ffi.so` for {arch} is {bytes}
bytes, against a budget of {limit} bytes.

The budget was 2,000,000 bytes until the ES256 device check moved from the p256 crate to ring.
ring's P-256 brings BoringSSL's precomputed table of base-point multiples (37 × 64 points of 64
bytes, 151,552 bytes) with its assembly: the library went from 1,996,904 to 2,199,208 bytes
(+202,304). The candidates, each measured alone in an otherwise empty stripped `cdylib` built
with the release profile (on 2026-12-01, not by this run), and at ES256 speed in this run:

| ES256 verifier | bytes added | verify |
|---|---|---|
| p256 0.13.2 (RustCrypto, pure Rust) | 33,504 | {p256} |
| ring 0.17.14 | 203,304 | {ring} |
| aws-lc-rs 1.19.0 (aws-lc-sys 0.47.0) | 1,068,072 | within 5 % of ring's (two runs of one program alternating the two, 2026-12-01; not in this run) |

aws-lc-rs is no faster than ring and five times its size. The p256 crate stays in the library for
what ring cannot do: decompressing the SEC1 points credentials carry, and software signing. The
budget of 2.25 MB kept the old one's margin plus the cost of a fast ES256, which an iPhone or
StrongBox pass pays on every scan; it is 2.5 MB since the rules list, the check log, the
inspector's report and the verdict's words joined the library (2,472,696 bytes stripped).

",
        arch = std::env::consts::ARCH,
        bytes = thousands(l.bytes),
        limit = thousands(l.limit),
        p256 = time(run.times.ns("signature/es256-p256")),
        ring = time(run.times.ns("signature/es256-ring")),
    );
}

fn memory(doc: &mut String, run: &Run) {
    let m = &run.memory;
    let _ = write!(
        doc,
        "## Verifier memory with {entries} revocations

`benches/examples/revocation_memory.rs`: the list ({bytes} bytes signed) is made by another
process; each figure is a process that holds only the shop's verifier (VmRSS and VmHWM).

| | resident while verifying | peak |
|---|---|---|
| applying the list, then verifying | {ar} | {ap} |
| starting with the list stored, then verifying | {rr} | {rp} |

",
        entries = thousands(m.entries),
        bytes = thousands(m.list_bytes),
        ar = mb(m.apply_rss_kib),
        ap = mb(m.apply_peak_kib),
        rr = mb(m.restart_rss_kib),
        rp = mb(m.restart_peak_kib),
    );
}

fn ffi(doc: &mut String, run: &Run) {
    let _ = write!(
        doc,
        "## The same verify through the bindings

`benches/ffi/run.sh`: one program per language builds a world through the generated bindings of
the shipped (`release`, size-optimised) library and times `Verifier.verify` on one presentation:
{rounds} rounds after a warm-up, per call = round time / calls. The Rust line calls the same
exported objects directly, in the same profile. Overhead = median − the Rust median. A bare call
is `TrustList.sequence()` (no arguments, an integer back), timed the same way: what any call into
the library costs at least. Kotlin runs twice: on the bindings as shipped, patched by
`scripts/patch-bindings.py`, and on uniffi's code as generated.

| language | per call, median | fastest round | calls per round | overhead | a bare call |
|---|---|---|---|---|---|
",
        rounds = run.ffi.0.first().map_or(0, |c| c.rounds),
    );
    let rust = run.ffi.rust().map_or(f64::NAN, |c| c.median_ns);
    for call in &run.ffi.0 {
        let overhead = if call.language == "rust" {
            "baseline".to_owned()
        } else {
            format!("{:+.1} µs", (call.median_ns - rust) / 1e3)
        };
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {} | {overhead} | {} |",
            title(&call.language),
            time(call.median_ns),
            time(call.min_ns),
            thousands(call.calls_per_round),
            time(call.bare_call_ns),
        );
    }
    doc.push('\n');
}

fn sizes(doc: &mut String, run: &Run) {
    let s = &run.sizes;
    let _ = write!(
        doc,
        "## Sizes

A pass with a name, a date of birth and three doses. Bytes: the CBOR a QR carries (for the EU DCC,
the compressed COSE after base45). QR versions from the `qrcode` crate.

| QR | characters | bytes | version at ECC M | at ECC Q |
|---|---|---|---|---|
"
    );
    let mut row = |what: &str, c: &Code| {
        let _ = writeln!(
            doc,
            "| {what} | {} | {} | {} | {} |",
            c.chars, c.bytes, c.version_m, c.version_q
        );
    };
    row("vaxpass rotating presentation (`VP1:`)", &s.presentation);
    row("vaxpass paper credential (`VC1:`)", &s.paper);
    for (name, q) in [
        ("shortest", 0.0),
        ("10th percentile", 0.1),
        ("median", 0.5),
        ("90th percentile", 0.9),
        ("longest", 1.0),
    ] {
        if let Some(code) = s.dcc_at(q) {
            row(&format!("EU DCC test data, {name}"), code);
        }
    }
    let _ = write!(
        doc,
        "
The EU DCC figures cover the {} HC1 texts of the official test data.

",
        s.dcc.len(),
    );
}

fn dcc(doc: &mut String, run: &Run) {
    let d = &run.dcc;
    let refused: Vec<String> = d
        .refused_at
        .iter()
        .map(|(stage, n)| format!("{n} at {stage}"))
        .collect();
    let _ = write!(
        doc,
        "## EU DCC baseline over the whole test data

`vaxpass-dcc` (base45 → zlib → COSE_Sign1 → ES256 or PS256, with the signer certificate each
case gives) verified {} of the {} test cases that give a QR text and a certificate; refused, by
the stage that refused them: {}. Of the {} cases that state whether they should verify
(`EXPECTEDVERIFY`), the outcome agrees for {}. `dcc/tests/testdata.rs` checks every upstream
expectation in the test suite.

",
        d.verified,
        d.cases,
        if refused.is_empty() {
            "none".to_owned()
        } else {
            refused.join(", ")
        },
        d.with_expectation,
        d.agreeing,
    );
}

fn notes(doc: &mut String, run: &Run) {
    let ffi = &run.ffi;
    let rust = ffi.rust().map_or(f64::NAN, |c| c.median_ns);
    let overhead = |c: &Call| c.median_ns - rust;
    let over: Vec<&Call> = ffi
        .0
        .iter()
        .filter(|c| c.is_shipped_binding() && overhead(c) > 10_000.0)
        .collect();
    if !over.is_empty() {
        let bare = |language: &str| {
            ffi.language(language)
                .map_or("?".into(), |c| time(c.bare_call_ns))
        };
        let names: Vec<String> = over.iter().map(|c| title(&c.language)).collect();
        let _ = write!(
            doc,
            "## Gaps

Call overhead above the 10 µs target: {}. The cost is in the code uniffi 0.29.4 generates, and
it is paid per call into the library: a bare call costs {} from Kotlin, {} from Python and {}
from Swift, and one verify makes six calls into the library (the verifier's handle is cloned,
the text and the time each get a buffer from the library, the call itself, then the result's
buffer and the holder are freed; Python makes a seventh, growing the text's buffer), beside
converting its arguments and its result.

",
            names.join(" and "),
            bare("kotlin"),
            bare("python"),
            bare("swift"),
        );
        for call in over {
            match call.language.as_str() {
                "kotlin" => {
                    let (unpatched, unpatched_bare) = ffi
                        .language("kotlin-unpatched")
                        .map_or(("?".into(), "?".into()), |c| {
                            (format!("{:+.1} µs", overhead(c) / 1e3), time(c.bare_call_ns))
                        });
                    let _ = write!(
                        doc,
                        "- Kotlin: JNA allocates a structure (native memory, a cleaner registration, reflection)
  for every buffer that crosses. uniffi's code also allocated a new call-status structure, itself
  holding a buffer structure, for every call: {unpatched} per verify and {unpatched_bare} a bare call
  in this run. `scripts/patch-bindings.py` makes each thread reuse its statuses, which leaves
  {:+.1} µs: JNA's interface mapping, the structure it creates for each buffer returned, and
  garbage collections that fall into some rounds (hence the median above the fastest round).
",
                        overhead(call) / 1e3,
                    );
                }
                "python" => doc.push_str(
                    "- Python: seven ctypes calls, and every value converted in interpreted Python (buffer
  builders, context managers, datetime arithmetic for the time), after the largest cost, a
  byte-by-byte buffer copy, was removed by backporting the upstream fix (`scripts/patch-bindings.py`).
",
                ),
                _ => {}
            }
        }
        doc.push_str(
            "
Upgrading to uniffi 0.32.2, whose Kotlin uses JNA direct mapping and whose Python has the buffer
fix built in, was tried and not kept: Kotlin was not faster (+86 µs median, +33 µs fastest round,
in that trial's run, without the call-status patch), Python was the same, and the library grew by
28 KB, past the 2.0 MB budget of the time. uniffi's JNI-based Kotlin generator (mozilla/uniffi-rs#2911),
which upstream measured many times faster, is merged but in no release yet (0.32.2 is the newest
on crates.io). Profiles and upstream issues: `benches/ffi/README.md`. A shop scans a few codes a
minute, so these microseconds do not reach a person.

",
        );
    }
    doc.push_str(
        "## Where the time goes

- Display: QR encoding dominates both the presentation and its floor (the `qrcode` crate's mask
  evaluation at version 12); the signature is a small part.
- Verify: the two signature checks are the floor; the rest is base45, CBOR parsing, decompressing
  the device key carried in the credential, and the SQLite revocation lookup. With an ES256
  device key, the p256 crate's decompression of the point is about 5 % of a verify's
  instructions (69 thousand of 1.25 million, callgrind, 2026-12-01), and ring's check most of
  the rest beside the issuer's Ed25519.
- An instruction profile repeats exactly on this noisy machine:
  `valgrind --tool=callgrind target/release/examples/profile_verify` (`DEVICE=es256` for a
  P-256 device key; build it with
  `cargo build --profile bench -p vaxpass-benches --example profile_verify`).

## How to reproduce

```sh
scripts/bench-report.sh   # about 7 minutes on 2 cores once toolchains are cached; rewrites this file
```

It runs `cargo bench -p vaxpass-benches`, `benches/examples/revocation_memory.rs`, builds and
strips the release library, runs `benches/ffi/run.sh` (Kotlin, Swift and Python, installing
their toolchains on first use) and then `benches/src/bin/report` to write this file.
",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_formatted_for_reading() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (16_000_152, "16,000,152"),
        ] {
            assert_eq!(thousands(n), text);
        }
        for (ns, text) in [
            (850.0, "850 ns"),
            (2_160.0, "2.2 µs"),
            (7_590_000.0, "7.59 ms"),
            (0.3, "0.3 ns"),
        ] {
            assert_eq!(time(ns), text);
        }
        assert_eq!(mb(62_500), "64.0 MB (61.0 MiB)");
        assert_eq!(title("kotlin"), "Kotlin");
        assert_eq!(title("kotlin-unpatched"), "Kotlin, uniffi's code unpatched");
    }
}
