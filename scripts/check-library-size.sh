#!/usr/bin/env bash
# Builds the release vaxpass-ffi library for this host and checks that, stripped, it stays within
# the mobile budget of 2.5 MB (2,500,000 bytes). The budget was 2.0 MB until the ES256 device
# check moved to ring, 4 to 5 times faster than the p256 crate and about 200 KB larger (most of it
# a precomputed table): docs/performance.md, "Library size", gives each candidate's size and speed.
# It was 2.3 MB while the shipped library exported the file-backed LocalAuthority (with its key
# file) that the binding tests issue with (2,276,552 bytes). That authority is now behind the
# feature `test-helpers`, which the shipped library does not enable, so the budget is back at
# 2.25 MB (2,139,976 bytes on x86_64 on 2026-12-01). The rules list in the verifier and the
# wallet, the check log, the inspector's report, seen-recently and the Korean and English words,
# with their exports, then took it to 2,472,696 bytes (CI on a fresh clone, 2026-12-01): the budget
# is 2.5 MB until that code is made smaller (which of it costs what was not measured yet).
# It also fails unless every LOAD segment is aligned to 16 KB (scripts/check-elf-alignment.py),
# and if the library exports a test helper: it is built as it ships, without the bindings'
# feature `test-helpers` (the file-backed Authority, the deliberate panic).
#
#   scripts/check-library-size.sh [DIR]   DIR keeps the stripped library and library.json
#                                         ({"bytes": …, "limit": …}) for the bench report
set -euo pipefail
cd "$(dirname "$0")/.."
limit=2500000
keep="${1:-}"
cargo build --locked --release -p vaxpass-ffi
lib="${CARGO_TARGET_DIR:-target}/release/libvaxpass_ffi.so"
if [ -n "$keep" ]; then
    stripped="$keep/libvaxpass_ffi.so"
else
    stripped="$(mktemp)"
    trap 'rm -f "$stripped"' EXIT
fi
strip -o "$stripped" "$lib"
size=$(stat -c %s "$stripped")
echo "stripped release libvaxpass_ffi.so ($(uname -m)): $size bytes (limit $limit)"
if [ -n "$keep" ]; then
    printf '{"bytes": %s, "limit": %s}\n' "$size" "$limit" >"$keep/library.json"
fi
[ "$size" -le "$limit" ]
# The library that ships exports no test helper.
if nm -D --defined-only "$stripped" | grep -qiE 'authority|panic_for_crash'; then
    echo "the release library exports a test helper (built with test-helpers?)" >&2
    exit 1
fi
# The library that ships must also load on devices with 16 KB pages (bindings/build.rs).
python3 scripts/check-elf-alignment.py "$stripped"
