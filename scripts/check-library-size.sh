#!/usr/bin/env bash
# Builds the release vaxpass-ffi library for this host and checks that, stripped, it stays within
# the mobile budget of 2.0 MB (2,000,000 bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
limit=2000000
cargo build --locked --release -p vaxpass-ffi
lib="${CARGO_TARGET_DIR:-target}/release/libvaxpass_ffi.so"
stripped="$(mktemp)"
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$lib"
size=$(stat -c %s "$stripped")
echo "stripped release libvaxpass_ffi.so ($(uname -m)): $size bytes (limit $limit)"
[ "$size" -le "$limit" ]
