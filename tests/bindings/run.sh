#!/usr/bin/env bash
# Binding test runner. Builds the shipped vaxpass-ffi (no test helpers) and fails if the
# committed generated sources (ios/Sources) drift from what it generates or export a test
# helper; then builds it with `--features test-helpers`, regenerates the bindings from that,
# fails if an exported item has no doc comment in them, and runs the Kotlin, Swift and Python
# tests against it (each installs its toolchain on first use, cached after, and starts the issuer
# service for its sync tests: scripts/issuer-service.sh),
# and the packaging checks (tests/packaging/run.sh).
# The last line is the total: "bindings: N passed, M failed".
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

cargo build --locked -p vaxpass-ffi
shipped="$root/target/bindings-shipped"
scripts/generate-bindings.sh "$root/target/debug/libvaxpass_ffi.so" "$shipped"

passed=0
failed=0

# Committed generated sources (the Swift package needs them in the tree) must be exactly what the
# shipped library generates.
for pair in swift/Vaxpass.swift:ios/Sources/Vaxpass/Vaxpass.swift \
            swift/VaxpassFFI.h:ios/Sources/VaxpassFFI/include/VaxpassFFI.h \
            swift/VaxpassFFI.modulemap:ios/Sources/VaxpassFFI/include/module.modulemap; do
    generated="$shipped/${pair%%:*}"
    committed="${pair#*:}"
    if cmp -s "$generated" "$committed"; then
        passed=$((passed + 1))
    else
        echo "DRIFT: $committed differs from a fresh generation; run scripts/update-ios-sources.sh" >&2
        failed=$((failed + 1))
    fi
done

# The shipped API has no test helper (they are behind the bindings' feature `test-helpers`).
if grep -qE 'class Authority|panicForCrashReportingTest' "$shipped/swift/Vaxpass.swift" "$shipped/kotlin/io/vaxpass/vaxpass.kt"; then
    echo "the shipped bindings export a test helper (Authority or the deliberate panic)" >&2
    failed=$((failed + 1))
else
    passed=$((passed + 1))
fi

# The tests run against the library with the test helpers.
cargo build --locked -p vaxpass-ffi --features test-helpers
export LIB_DIR="$root/target/debug"
export BINDINGS_DIR="$root/target/bindings"
scripts/generate-bindings.sh "$LIB_DIR/libvaxpass_ffi.so" "$BINDINGS_DIR"

# The README's Kotlin and Swift examples must be the code the tests below compile and run.
if summary="$(python3 tests/bindings/check_readme.py)"; then :; fi
if [[ "$summary" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
fi

# Every exported item carries its doc comment into the generated Kotlin and Swift.
if summary="$(python3 tests/bindings/check_docs.py "$BINDINGS_DIR")"; then :; fi
if [[ "$summary" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
else
    failed=$((failed + 1))
fi

# Then the packaging checks (tests/packaging/run.sh): the 16 KB page alignment of the library
# just built, and the Swift package's privacy manifest.
for language in kotlin swift python packaging; do
    log="$root/target/bindings-$language.log"
    runner="tests/bindings/$language.sh"
    [ "$language" = packaging ] && runner=tests/packaging/run.sh
    status=0
    bash "$runner" 2>&1 | tee "$log" || status=$?
    summary="$(tail -n 1 "$log")"
    if [[ "$summary" =~ ^$language:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        if [ "$status" -ne 0 ] && [ "${BASH_REMATCH[2]}" -eq 0 ]; then failed=$((failed + 1)); fi
    else
        echo "$language: the runner ended without a summary (exit $status)" >&2
        failed=$((failed + 1))
    fi
done

echo "bindings: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
