#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from a built vaxpass-ffi library, with the
# uniffi-bindgen pinned in this workspace (the same uniffi version as the library).
#
#   scripts/generate-bindings.sh [LIBRARY] [OUT_DIR]
#
# LIBRARY defaults to $CARGO_TARGET_DIR/debug/libvaxpass_ffi.so (target/ by default) (built if missing), OUT_DIR to
# target/bindings. Output: OUT_DIR/kotlin/io/vaxpass/vaxpass.kt, OUT_DIR/swift/{Vaxpass.swift,
# VaxpassFFI.h, VaxpassFFI.modulemap}, OUT_DIR/python/vaxpass.py. No formatter is run, so the
# output depends only on the library. The Python and Kotlin get one fix each
# (scripts/patch-bindings.py).
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
lib="${1:-$target_dir/debug/libvaxpass_ffi.so}"
out="${2:-target/bindings}"
if [ ! -f "$lib" ]; then
    cargo build --locked -p vaxpass-ffi
fi
rm -rf "$out"
for language in kotlin swift python; do
    cargo run --locked --quiet -p uniffi-bindgen -- generate --no-format --library "$lib" \
        --config bindings/uniffi.toml --language "$language" --out-dir "$out/$language" >/dev/null
done
# Python: uniffi's fix for byte-by-byte buffer writes, backported; Kotlin: call statuses reused.
python3 scripts/patch-bindings.py python "$out/python/vaxpass.py"
python3 scripts/patch-bindings.py kotlin "$out/kotlin/io/vaxpass/vaxpass.kt"
echo "bindings generated in $out from $lib" >&2
