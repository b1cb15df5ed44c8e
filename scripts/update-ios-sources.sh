#!/usr/bin/env bash
# Regenerates the Swift sources committed in ios/ (SwiftPM needs them in the tree) from a fresh
# build of vaxpass-ffi. Run after changing the exported API; the test run fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p vaxpass-ffi
scripts/generate-bindings.sh target/debug/libvaxpass_ffi.so target/bindings
cp target/bindings/swift/Vaxpass.swift ios/Sources/Vaxpass/Vaxpass.swift
cp target/bindings/swift/VaxpassFFI.h ios/Sources/VaxpassFFI/include/VaxpassFFI.h
cp target/bindings/swift/VaxpassFFI.modulemap ios/Sources/VaxpassFFI/include/module.modulemap
echo "ios/Sources updated"
