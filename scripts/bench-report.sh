#!/usr/bin/env bash
# The one command for the SDK's performance: runs every benchmark in one go (criterion beside the
# floors and the EU DCC pipeline, the verifier's memory with 1,000,000 revocations and with hostile
# list bytes, the verify call from Kotlin, Swift and Python), measures the QR sizes and the
# stripped library, counts the EU DCC test cases that verify, and writes docs/performance.md from
# that run.
#
#   scripts/bench-report.sh [OUTPUT.md]        (default: docs/performance.md)
#
# About 7 minutes on 2 cores once the Kotlin/Swift/Python toolchains are cached (first use
# installs them, as the test command does). Intermediate results go to <target>/perf.
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-docs/performance.md}"
target="${CARGO_TARGET_DIR:-target}"
perf="$target/perf"
rm -rf "$perf" "$target/criterion"
mkdir -p "$perf"
step() { printf '\n== %s\n' "$*" >&2; }

step "criterion: verify, signature, display, issue, lists"
cargo bench --locked -p vaxpass-benches --bench vaxpass

step "the verifier's memory with 1,000,000 revocations"
cargo run --locked --profile bench -p vaxpass-benches --example revocation_memory >"$perf/memory.json"

step "the verifier's memory for hostile list bytes, beside genuine lists"
cargo run --locked --profile bench -p vaxpass-benches --example hostile_lists >"$perf/hostile.json"

step "the shipped library, stripped, against its budget"
# The report shows a library over budget as missed; the check's exit status would stop it here.
scripts/check-library-size.sh "$perf" || true

step "verify through the bindings: Rust, Kotlin, Swift, Python"
benches/ffi/run.sh "$perf"

step "sizes, the EU DCC count, and $output"
cargo run --locked --profile bench -p vaxpass-benches --bin report -- \
    "$target/criterion" "$perf" "$output"
