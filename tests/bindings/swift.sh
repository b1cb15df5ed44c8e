#!/usr/bin/env bash
# Swift binding tests on Linux: the XCTest cases in ios/Tests/VaxpassTests, compiled with swiftc
# inside the Swift chroot of scripts/toolchains.sh against the host-built libvaxpass_ffi.so.
#
#   tests/bindings/swift.sh [XCTEST_FILTER...]     e.g. ScenarioTests/testTamperedQrIsBadSignature
#
# The tests need the test helpers (the file-backed Authority), so they run against the library
# built with `--features test-helpers` and the Swift generated from it (BINDINGS_DIR/swift), with
# the idioms of ios/Sources/Vaxpass. The committed ios/Sources are what app developers get,
# generated from the shipped library (no test helpers; tests/bindings/run.sh checks they match a
# fresh generation): they are compiled here too, against a framework slice.
#
# LIB_DIR: directory holding libvaxpass_ffi.so built with the test helpers, inside the repository
# (the chroot only sees the repository); default target/debug, built first when LIB_DIR is not
# set. BINDINGS_DIR: generate-bindings.sh output from that library (default target/bindings,
# generated when missing or older than the library). VAXPASS_ISSUER_URL and the rest of
# scripts/issuer-service.sh's line: the service the sync tests talk to; when unset, this script
# starts one and stops it on exit.
# Output: the compiler's and XCTest's output, then as the LAST line `swift: N passed, M failed`
# (test cases; a compile error counts as one failure). Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TOOLCHAINS="$ROOT/scripts/toolchains.sh"
OUT="$ROOT/target/swift-tests"
INCLUDE="$ROOT/ios/Sources/VaxpassFFI/include"

passed=0
failed=0
summary() { echo "swift: $passed passed, $failed failed"; }
fail() {
    echo "swift.sh: $*" >&2
    failed=$((failed > 0 ? failed : 1))
    summary
    exit 1
}

# --- the library ---------------------------------------------------------------------------
if [ -z "${LIB_DIR:-}" ]; then
    cargo build --locked --quiet -p vaxpass-ffi --features test-helpers ||
        fail "cargo build of vaxpass-ffi --features test-helpers failed"
fi
LIB_DIR="$(cd "${LIB_DIR:-target/debug}" 2>/dev/null && pwd)" || fail "LIB_DIR does not exist: ${LIB_DIR:-target/debug}"
case "$LIB_DIR/" in
    "$ROOT"/*) ;;
    *) fail "LIB_DIR must be inside the repository (the Swift chroot sees only $ROOT): $LIB_DIR" ;;
esac
[ -f "$LIB_DIR/libvaxpass_ffi.so" ] || fail "no libvaxpass_ffi.so in $LIB_DIR"
BINDINGS_DIR="$(mkdir -p "${BINDINGS_DIR:-target/bindings}" && cd "${BINDINGS_DIR:-target/bindings}" && pwd)"
case "$BINDINGS_DIR/" in
    "$ROOT"/*) ;;
    *) fail "BINDINGS_DIR must be inside the repository: $BINDINGS_DIR" ;;
esac
if [ ! -f "$BINDINGS_DIR/swift/Vaxpass.swift" ] || [ "$LIB_DIR/libvaxpass_ffi.so" -nt "$BINDINGS_DIR/swift/Vaxpass.swift" ]; then
    scripts/generate-bindings.sh "$LIB_DIR/libvaxpass_ffi.so" "$BINDINGS_DIR" || fail "generate-bindings.sh failed"
fi

# --- the toolchain -------------------------------------------------------------------------
"$TOOLCHAINS" swift >/dev/null || fail "the Swift toolchain is not available"

# --- sources and the Linux entry point -----------------------------------------------------
shopt -s nullglob
sources=("$ROOT"/ios/Sources/Vaxpass/*.swift)
tests=("$ROOT"/ios/Tests/VaxpassTests/*.swift)
shopt -u nullglob
[ "${#sources[@]}" -gt 0 ] || fail "no sources in ios/Sources/Vaxpass"
# What the tests compile: the generated API of the test library, and the committed idioms.
test_sources=("$BINDINGS_DIR/swift/Vaxpass.swift")
for f in "${sources[@]}"; do
    [ "$(basename "$f")" = Vaxpass.swift ] || test_sources+=("$f")
done
[ "${#tests[@]}" -gt 0 ] || fail "no tests in ios/Tests/VaxpassTests"
for header in VaxpassFFI.h module.modulemap; do
    [ -f "$INCLUDE/$header" ] || fail "missing ios/Sources/VaxpassFFI/include/$header"
done

# XCTest on Linux runs only what each class lists in `allTests` (Apple's XCTest discovers tests
# itself), so a test missing from its list would silently not run here: refuse that.
declared="$(grep -ohE 'func test[A-Za-z0-9_]+\(\)' "${tests[@]}" | sed -E 's/^func //; s/\(\)$//' | sort)"
listed="$(grep -ohE '\("test[A-Za-z0-9_]+",' "${tests[@]}" | sed -E 's/^\("//; s/",$//' | sort)"
if [ "$declared" != "$listed" ]; then
    echo "tests declared (<) but not in allTests, or listed (>) but not declared:" >&2
    diff <(echo "$declared") <(echo "$listed") | grep -E '^[<>]' >&2 || true
    fail "allTests out of date"
fi
classes="$(grep -ohE '^(final )?class [A-Za-z0-9_]+: XCTestCase' "${tests[@]}" | sed -E 's/^(final )?class //; s/:.*$//')"
[ -n "$classes" ] || fail "no XCTestCase classes found"

rm -rf "$OUT"
mkdir -p "$OUT/main" "$OUT/include"
cp "$BINDINGS_DIR/swift/VaxpassFFI.h" "$OUT/include/VaxpassFFI.h"
cp "$BINDINGS_DIR/swift/VaxpassFFI.modulemap" "$OUT/include/module.modulemap"

# Package.swift is for Apple platforms (its XCFramework is built on macOS), so here it is only
# parsed: it must load and name the targets at the paths compiled below.
"$TOOLCHAINS" swift-run swift package --scratch-path "$OUT/spm" dump-package >"$OUT/package.json" ||
    fail "Package.swift does not load"
for target_path in ios/Sources/Vaxpass ios/Tests/VaxpassTests ios/build/VaxpassFFI.xcframework; do
    grep -q "\"$target_path\"" "$OUT/package.json" || fail "Package.swift has no target at $target_path"
done
# The privacy manifest must ship as a resource of the Vaxpass target (App Store Connect refuses
# an app whose SDK uses required-reason APIs undeclared; tests/packaging checks its content).
python3 - "$OUT/package.json" <<'PY' || fail "Package.swift does not ship PrivacyInfo.xcprivacy as a resource of Vaxpass"
import json, sys
targets = {t["name"]: t for t in json.load(open(sys.argv[1]))["targets"]}
paths = [r["path"] for r in targets["Vaxpass"].get("resources") or []]
sys.exit(0 if "PrivacyInfo.xcprivacy" in paths else 1)
PY
{
    echo "// Generated by tests/bindings/swift.sh: the XCTest entry point for Linux."
    echo "import XCTest"
    echo "@testable import VaxpassTests"
    echo "XCTMain(["
    for class in $classes; do echo "    testCase($class.allTests),"; done
    echo "])"
} >"$OUT/main/main.swift"

# --- compile (in the chroot; the repository has the same path there) ------------------------
# Like SwiftPM: module Vaxpass (a library), module VaxpassTests importing it, and the entry point.
swiftc() { "$TOOLCHAINS" swift-run swiftc -swift-version 5 -Onone "$@"; }
t0=$SECONDS
swiftc -emit-library -emit-module -module-name Vaxpass -parse-as-library \
    -I "$OUT/include" -L "$LIB_DIR" -lvaxpass_ffi -Xlinker -rpath -Xlinker "$LIB_DIR" \
    -emit-module-path "$OUT/Vaxpass.swiftmodule" -o "$OUT/libVaxpass.so" "${test_sources[@]}" ||
    fail "compiling the test library's Swift API with ios/Sources/Vaxpass's idioms failed"
swiftc -emit-library -emit-module -module-name VaxpassTests -parse-as-library -enable-testing \
    -I "$OUT" -I "$OUT/include" -L "$OUT" -lVaxpass -Xlinker -rpath -Xlinker "$OUT" \
    -emit-module-path "$OUT/VaxpassTests.swiftmodule" -o "$OUT/libVaxpassTests.so" "${tests[@]}" ||
    fail "compiling ios/Tests/VaxpassTests failed"
swiftc -I "$OUT" -I "$OUT/include" -L "$OUT" -lVaxpassTests -lVaxpass -L "$LIB_DIR" -lvaxpass_ffi \
    -Xlinker -rpath -Xlinker "$OUT" -Xlinker -rpath -Xlinker "$LIB_DIR" \
    -o "$OUT/vaxpass-tests" "$OUT/main/main.swift" ||
    fail "linking the test runner failed"
echo "swift.sh: compiled in $((SECONDS - t0))s" >&2

# The XCFramework's slices (ios/make-framework.sh, as build-xcframework.sh makes them on a Mac):
# the committed Swift API (the shipped one) must compile against a slice found by framework
# search alone, through its Modules/module.modulemap; if the module failed,
# `canImport(VaxpassFFI)` would hide the import and nothing from the header would be in scope.
ios/make-framework.sh "$OUT/framework" "$LIB_DIR/libvaxpass_ffi.so" "$INCLUDE/VaxpassFFI.h" iPhoneOS 15.0 0.0.0 ||
    fail "ios/make-framework.sh failed"
swiftc -typecheck -F "$OUT/framework" "${sources[@]}" ||
    fail "the Swift API does not compile against the framework slice of ios/make-framework.sh"
rm -f "$OUT/framework/VaxpassFFI.framework/VaxpassFFI"

# --- the issuer service the sync tests fetch lists from --------------------------------------
service_vars=(VAXPASS_ISSUER_URL VAXPASS_ISSUER_ROOT_KEY VAXPASS_ISSUER_ADMIN_TOKEN VAXPASS_ISSUER_BUSY_URL)
if [ -z "${VAXPASS_ISSUER_URL:-}" ]; then
    service_line="$(scripts/issuer-service.sh start swift | tail -n 1)" ||
        fail "scripts/issuer-service.sh start failed"
    trap 'scripts/issuer-service.sh stop swift' EXIT
    # shellcheck disable=SC2163,SC2086  # KEY=VALUE words, none with spaces
    export $service_line
fi
# The chroot starts with a clean environment: pass the service's settings in.
service_env=()
for name in "${service_vars[@]}"; do service_env+=("$name=${!name:-}"); done

# --- run -----------------------------------------------------------------------------------
t0=$SECONDS
rc=0
"$TOOLCHAINS" swift-run env "${service_env[@]}" "$OUT/vaxpass-tests" "$@" 2>&1 | tee "$OUT/xctest.log" || rc=$?
echo "swift.sh: ran in $((SECONDS - t0))s" >&2

passed="$(grep -cE "^Test Case '.*' passed \(" "$OUT/xctest.log" || true)"
failed="$(grep -cE "^Test Case '.*' failed \(" "$OUT/xctest.log" || true)"
executed="$(grep -oE 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$OUT/xctest.log" | tail -n 1 || true)"
if [ -z "$executed" ]; then
    echo "swift.sh: no XCTest summary (did the runner crash? exit code $rc)" >&2
    failed=$((failed + 1))
else
    total="$(echo "$executed" | sed -E 's/^Executed ([0-9]+) .*/\1/')"
    failures="$(echo "$executed" | sed -E 's/.*with ([0-9]+) failures?$/\1/')"
    # `failures` counts failed assertions; `failed` counts failed test cases.
    if [ "$total" -ne $((passed + failed)) ] || { [ "$failures" -gt 0 ] && [ "$failed" -eq 0 ]; }; then
        echo "swift.sh: XCTest summary ($executed) disagrees with the per-test lines" >&2
        failed=$((failed + 1))
    fi
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "swift.sh: the test runner exited with $rc" >&2
    failed=1
fi
summary
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
