#!/usr/bin/env bash
# The FFI benchmark (benches/ffi/README.md): the same Verifier.verify call timed from Rust (the
# vaxpass_ffi Rust API, no FFI), Kotlin (JVM + JNA), Swift and Python (the generated bindings on the
# release library), one run each, and Kotlin once more on uniffi's code without our patch.
#
#   benches/ffi/run.sh OUT_DIR
#
# Writes OUT_DIR/ffi.jsonl, one line per language (bare_call_ns: TrustList.sequence(), the floor of
# any call through the bindings):
#   {"language":"rust","median_ns":93120.5,"min_ns":91000.0,"rounds":21,"calls_per_round":2000,"bare_call_ns":0.3}
# then prints a summary: per-call time and the overhead above Rust. Toolchains come from
# scripts/toolchains.sh; build output goes to target/ffi-bench. Fails if any program fails.
set -euo pipefail

[ "$#" -eq 1 ] || { echo "usage: benches/ffi/run.sh OUT_DIR" >&2; exit 2; }
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/benches/ffi"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$(cd "$TARGET" 2>/dev/null && pwd || echo "$TARGET")/" in
    "$ROOT"/*) ;;
    *) echo "benches/ffi/run.sh: the Swift chroot sees only the repository; CARGO_TARGET_DIR must be inside $ROOT" >&2
       exit 2 ;;
esac
BUILD="$TARGET/ffi-bench"
LIB_DIR="$BUILD/lib"
BINDINGS="$BUILD/bindings"
RESULTS="$OUT/ffi.jsonl"
t0=$SECONDS

log() { printf '[ffi-bench] %s\n' "$*" >&2; }

# record LANGUAGE COMMAND...: runs one benchmark program, checks that its stdout is the one JSON
# line of the expected shape, and appends it to the results.
record() {
    local language="$1" line
    shift
    log "measuring $language"
    line="$("$@")"
    local number='[0-9]+\.[0-9]'
    local shape="^\\{\"language\":\"$language\",\"median_ns\":$number,\"min_ns\":$number,\"rounds\":21,\"calls_per_round\":[0-9]+,\"bare_call_ns\":$number\\}\$"
    [[ "$line" =~ $shape ]] || { log "unexpected output from $language: $line"; exit 1; }
    echo "$line" >>"$RESULTS"
}

# ---- the release library and its bindings ----
# With the test helpers: the programs issue their pass with the file-backed Authority. The verify
# path measured is the same code as in the shipped library.
cargo build --locked --release -p vaxpass-ffi --features test-helpers
rm -rf "$BUILD"
mkdir -p "$LIB_DIR" "$BUILD/swift"
# A copy, so that a concurrent cargo build cannot relink the library under the running programs.
cp "$TARGET/release/libvaxpass_ffi.so" "$LIB_DIR/"
# uniffi-bindgen reads the metadata from the library's symbol table, which the release profile
# strips (strip = true): the bindings come from the debug build of the same sources.
cargo build --locked -p vaxpass-ffi --features test-helpers
scripts/generate-bindings.sh "$TARGET/debug/libvaxpass_ffi.so" "$BINDINGS"
[ -f "$BINDINGS/python/vaxpass.py" ] || { log "no bindings were generated"; exit 1; }
# The generated Python module loads the library from its own directory.
ln "$LIB_DIR/libvaxpass_ffi.so" "$BINDINGS/python/"
: >"$RESULTS"

# ---- Rust ----
record rust cargo run --locked --quiet --release -p vaxpass-benches --example ffi_verify

# ---- Kotlin ----
kotlin_env="$(scripts/toolchains.sh kotlin)"
eval "$kotlin_env" # KOTLINC KOTLIN_HOME JNA_JAR
# kotlin_bench NAME BINDINGS_KT: compiles the program against one Kotlin bindings file and runs it.
kotlin_bench() {
    log "kotlinc ($1)"
    "$KOTLINC" -nowarn -jvm-target 17 -cp "$JNA_JAR" -d "$BUILD/$1" "$2" "$HERE/VerifyBench.kt"
    record "$1" java -Djna.library.path="$LIB_DIR" \
        -cp "$BUILD/$1:$KOTLIN_HOME/lib/kotlin-stdlib.jar:$JNA_JAR" io.vaxpass.bench.VerifyBenchKt "$1"
}
kotlin_bench kotlin "$BINDINGS/kotlin/io/vaxpass/vaxpass.kt"
# The same program on uniffi's Kotlin as generated, without scripts/patch-bindings.py: what the
# patch is worth, measured in this run.
cargo run --locked --quiet -p uniffi-bindgen -- generate --no-format \
    --library "$TARGET/debug/libvaxpass_ffi.so" --config "$BINDINGS/uniffi-jvm.toml" --language kotlin \
    --out-dir "$BUILD/unpatched" >/dev/null
kotlin_bench kotlin-unpatched "$BUILD/unpatched/io/vaxpass/vaxpass.kt"

# ---- Swift (in the chroot, which sees the repository at the same path) ----
scripts/toolchains.sh swift >/dev/null
swift_bindings="$BINDINGS/swift"
swiftc() {
    scripts/toolchains.sh swift-run swiftc -swift-version 5 -O \
        -Xcc -fmodule-map-file="$swift_bindings/VaxpassFFI.modulemap" -I "$swift_bindings" "$@"
}
log "swiftc"
swiftc -emit-library -emit-module -module-name Vaxpass -parse-as-library \
    -L "$LIB_DIR" -lvaxpass_ffi -Xlinker -rpath -Xlinker "$LIB_DIR" \
    -emit-module-path "$BUILD/swift/Vaxpass.swiftmodule" -o "$BUILD/swift/libVaxpass.so" \
    "$swift_bindings/Vaxpass.swift"
swiftc -I "$BUILD/swift" -L "$BUILD/swift" -lVaxpass -L "$LIB_DIR" -lvaxpass_ffi \
    -Xlinker -rpath -Xlinker "$BUILD/swift" -Xlinker -rpath -Xlinker "$LIB_DIR" \
    -o "$BUILD/swift/verify-bench" "$HERE/VerifyBench.swift"
record swift scripts/toolchains.sh swift-run "$BUILD/swift/verify-bench"

# ---- Python ----
PYTHON="$(scripts/toolchains.sh python | tail -n 1)"
record python env PYTHONPATH="$BINDINGS/python" PYTHONDONTWRITEBYTECODE=1 "$PYTHON" "$HERE/verify_bench.py"

# ---- summary ----
"$PYTHON" - "$RESULTS" <<'EOF'
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1])]
rust = rows[0]
print("Verifier.verify, per call (median and min of 21 rounds); a bare call (median); overhead above Rust, target <= 10 us:")
for row in rows:
    line = f"  {row['language']:<7} median {row['median_ns'] / 1000:7.1f} us   min {row['min_ns'] / 1000:7.1f} us"
    line += f"   bare call {row['bare_call_ns'] / 1000:5.2f} us"
    if row is not rust:
        overhead = (row["median_ns"] - rust["median_ns"]) / 1000
        line += f"   overhead {overhead:+6.1f} us (min {(row['min_ns'] - rust['min_ns']) / 1000:+6.1f} us)"
        line += "  within target" if overhead <= 10 else "  ABOVE target"
    print(line)
EOF
echo "results in $RESULTS ($((SECONDS - t0)) s)"
