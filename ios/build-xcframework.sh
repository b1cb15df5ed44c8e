#!/usr/bin/env bash
# Builds ios/build/VaxpassFFI.xcframework (the Rust core as static libraries) for the Swift
# package at the repository root, and refreshes the generated sources in ios/Sources.
#
#   ios/build-xcframework.sh
#
# Needs macOS with Xcode (xcodebuild, lipo) and rustup. Not run by the Linux test suite: see
# ios/README.md for what is and is not tested where.
#
# Slices: ios-arm64 (devices), ios-arm64_x86_64-simulator, macos-arm64_x86_64, each a static
# VaxpassFFI.framework with Headers/ and Modules/module.modulemap.
# Environment: PROFILE (cargo profile of the static libraries, default release),
# IPHONEOS_DEPLOYMENT_TARGET (default 15.0), MACOSX_DEPLOYMENT_TARGET (default 12.0), matching
# the platforms in Package.swift.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PROFILE="${PROFILE:-release}"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
export MACOSX_DEPLOYMENT_TARGET="${MACOSX_DEPLOYMENT_TARGET:-12.0}"

LIB="libvaxpass_ffi.a"
MODULE="VaxpassFFI"
BUILD="$ROOT/ios/build"
WORK="$BUILD/work"
XCFRAMEWORK="$BUILD/$MODULE.xcframework"
DEVICE_TARGETS=(aarch64-apple-ios)
SIMULATOR_TARGETS=(aarch64-apple-ios-sim x86_64-apple-ios)
MACOS_TARGETS=(aarch64-apple-darwin x86_64-apple-darwin)

log() { printf '[xcframework] %s\n' "$*" >&2; }
die() { printf '[xcframework] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(uname -s)" = Darwin ] || die "needs macOS with Xcode (this is $(uname -s))"
for tool in cargo rustup xcodebuild lipo xcrun; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
xcrun --sdk iphoneos --show-sdk-path >/dev/null 2>&1 || die "no iOS SDK: install Xcode and run xcode-select"

# cargo puts the `dev` profile in target/<triple>/debug, every other profile in a dir of its name.
profile_dir="$PROFILE"
[ "$PROFILE" = dev ] && profile_dir=debug
CARGO_OUT="${CARGO_TARGET_DIR:-$ROOT/target}"

# --- static libraries --------------------------------------------------------------------
all_targets=("${DEVICE_TARGETS[@]}" "${SIMULATOR_TARGETS[@]}" "${MACOS_TARGETS[@]}")
log "rustup target add ${all_targets[*]}"
rustup target add "${all_targets[@]}" >&2
for target in "${all_targets[@]}"; do
    log "cargo build --profile $PROFILE --target $target"
    cargo build --locked -p vaxpass-ffi --profile "$PROFILE" --target "$target"
    [ -f "$CARGO_OUT/$target/$profile_dir/$LIB" ] || die "missing $CARGO_OUT/$target/$profile_dir/$LIB"
done

rm -rf "$WORK" "$XCFRAMEWORK"
mkdir -p "$WORK"

# lipo_into OUT TARGET...: one fat library from the targets' static libraries.
lipo_into() {
    local out="$1" target inputs=()
    shift
    for target in "$@"; do inputs+=("$CARGO_OUT/$target/$profile_dir/$LIB"); done
    mkdir -p "$(dirname "$out")"
    lipo -create "${inputs[@]}" -output "$out"
    lipo -info "$out" >&2
}
mkdir -p "$WORK/ios"
cp "$CARGO_OUT/${DEVICE_TARGETS[0]}/$profile_dir/$LIB" "$WORK/ios/$LIB"
lipo_into "$WORK/ios-simulator/$LIB" "${SIMULATOR_TARGETS[@]}"
lipo_into "$WORK/macos/$LIB" "${MACOS_TARGETS[@]}"

# --- bindings, from a host build with the workspace's uniffi-bindgen -------------------------
# A debug host build, like the Linux test run: a stripped release library may lack the
# metadata uniffi-bindgen reads.
log "generating the Swift bindings"
cargo build --locked -p vaxpass-ffi
bindings="$WORK/bindings"
scripts/generate-bindings.sh "$CARGO_OUT/debug/libvaxpass_ffi.dylib" "$bindings"
swift_out="$bindings/swift"
for f in Vaxpass.swift "$MODULE.h" "$MODULE.modulemap"; do
    [ -f "$swift_out/$f" ] || die "uniffi-bindgen did not write $f"
done

# --- framework slices --------------------------------------------------------------------
# Each slice is a static framework, VaxpassFFI.framework with the library as its binary,
# Headers/VaxpassFFI.h and Modules/module.modulemap, the layout application-services ships and
# the one Xcode's explicit-module scanning (the default since Xcode 26) finds without search
# paths: a module map nested in Headers/<Module>/ of a library slice is reported not to be found.
# The module map is a framework module and has no `use` lines: uniffi's
# `use "_Builtin_stdbool"` / `use "_Builtin_stdint"` name clang modules that Apple's toolchains
# no longer provide, which fails the module and so `canImport(VaxpassFFI)` in the generated
# Swift (mozilla/uniffi-rs#2917). ios/make-framework.sh makes each slice; the Linux tests use the
# generated map as it is, and compile the Swift API against a slice made by the same script.
VERSION="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "vaxpass-ffi"))')"
make_framework() { ios/make-framework.sh "$WORK/frameworks/$1" "$WORK/$1/$LIB" "$swift_out/$MODULE.h" "$2" "$3" "$VERSION"; }
make_framework ios iPhoneOS "$IPHONEOS_DEPLOYMENT_TARGET"
make_framework ios-simulator iPhoneSimulator "$IPHONEOS_DEPLOYMENT_TARGET"
make_framework macos MacOSX "$MACOSX_DEPLOYMENT_TARGET"

# --- the XCFramework -------------------------------------------------------------------------
# xcodebuild reads each slice's platform from its binary and writes the XCFramework's Info.plist.
log "xcodebuild -create-xcframework"
xcodebuild -create-xcframework \
    -framework "$WORK/frameworks/ios/$MODULE.framework" \
    -framework "$WORK/frameworks/ios-simulator/$MODULE.framework" \
    -framework "$WORK/frameworks/macos/$MODULE.framework" \
    -output "$XCFRAMEWORK" >&2
for slice in "$XCFRAMEWORK"/*/; do
    [ -f "$slice$MODULE.framework/Modules/module.modulemap" ] || die "no Modules/module.modulemap in $slice"
done

# --- refresh the committed sources (the Linux test run compiles these) -----------------------
cp "$swift_out/Vaxpass.swift" "$ROOT/ios/Sources/Vaxpass/Vaxpass.swift"
cp "$swift_out/$MODULE.h" "$ROOT/ios/Sources/$MODULE/include/$MODULE.h"
cp "$swift_out/$MODULE.modulemap" "$ROOT/ios/Sources/$MODULE/include/module.modulemap"

rm -rf "$WORK"
log "built $XCFRAMEWORK; refreshed ios/Sources"
log "next: swift build && swift test (macOS), or add the package to an Xcode project"
