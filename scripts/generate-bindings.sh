#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from a built vaxpass-ffi library, with the
# uniffi-bindgen pinned in this workspace (the same uniffi version as the library).
#
#   scripts/generate-bindings.sh [LIBRARY] [OUT_DIR]
#
# LIBRARY defaults to $CARGO_TARGET_DIR/debug/libvaxpass_ffi.so (target/ by default) (built if missing), OUT_DIR to
# target/bindings. Output: OUT_DIR/kotlin/io/vaxpass/vaxpass.kt, OUT_DIR/swift/{Vaxpass.swift,
# VaxpassFFI.h, VaxpassFFI.modulemap}, OUT_DIR/python/vaxpass.py, and OUT_DIR/uniffi-jvm.toml (the
# settings of the JVM-flavoured Kotlin: the Android module generates its own). No formatter is run, so the
# output depends only on the library. The Python and Kotlin get one fix each
# (scripts/patch-bindings.py): the Python one from uniffi-bindgen itself, the Kotlin one below.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
lib="${1:-$target_dir/debug/libvaxpass_ffi.so}"
out="${2:-target/bindings}"
if [ ! -f "$lib" ]; then
    cargo build --locked -p vaxpass-ffi
fi
rm -rf "$out"
mkdir -p "$out"
# The Kotlin here runs on this machine's JVM (tests, benchmarks), which has no android.os.Build:
# the same settings with the JVM's cleaner instead of Android's (bindings/uniffi.toml).
jvm_config="$out/uniffi-jvm.toml"
python3 - bindings/uniffi.toml "$jvm_config" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
line = "android_cleaner = true\n"
if text.count(line) != 1:
    sys.exit(f"{sys.argv[1]}: expected one line '{line.strip()}'")
open(sys.argv[2], "w", encoding="utf-8").write(text.replace(line, "android_cleaner = false\n"))
PY
for language in kotlin swift python; do
    config=bindings/uniffi.toml
    [ "$language" = kotlin ] && config="$jvm_config"
    cargo run --locked --quiet -p uniffi-bindgen -- generate --no-format --library "$lib" \
        --config "$config" --language "$language" --out-dir "$out/$language" >/dev/null
done
# Kotlin: call statuses reused. (Python: uniffi's fix for byte-by-byte buffer writes, backported,
# was applied by uniffi-bindgen.)
python3 scripts/patch-bindings.py kotlin "$out/kotlin/io/vaxpass/vaxpass.kt"
echo "bindings generated in $out from $lib" >&2
