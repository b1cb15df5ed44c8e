#!/usr/bin/env bash
# Regenerates the Swift sources committed in ios/ (SwiftPM needs them in the tree) from a fresh
# build of the shipped vaxpass-ffi: without the test helpers (feature `test-helpers`), since the
# committed sources are what app developers get. Run after changing the exported API; the test
# run fails until you do. (The Swift tests compile the API generated from the library with the
# test helpers instead: tests/bindings/swift.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p vaxpass-ffi
scripts/generate-bindings.sh target/debug/libvaxpass_ffi.so target/bindings-shipped
cp target/bindings-shipped/swift/Vaxpass.swift ios/Sources/Vaxpass/Vaxpass.swift
cp target/bindings-shipped/swift/VaxpassFFI.h ios/Sources/VaxpassFFI/include/VaxpassFFI.h
cp target/bindings-shipped/swift/VaxpassFFI.modulemap ios/Sources/VaxpassFFI/include/module.modulemap
echo "ios/Sources updated"
