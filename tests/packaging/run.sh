#!/usr/bin/env bash
# Packaging checks that need no Android or Apple tools: the 16 KB page-alignment check on the
# host library just built (and on the release one when it exists), then tests/packaging
# (the check itself on ELF files made here, and the Swift package's privacy manifest).
#
#   tests/packaging/run.sh        LIB_DIR: directory of libvaxpass_ffi.so (default target/debug)
#
# The last line is `packaging: N passed, M failed`; the exit status is non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
LIB_DIR="${LIB_DIR:-target/debug}"

passed=0
failed=0
libraries=("$LIB_DIR/libvaxpass_ffi.so")
release="${CARGO_TARGET_DIR:-target}/release/libvaxpass_ffi.so"
[ -f "$release" ] && libraries+=("$release")
for lib in "${libraries[@]}"; do
    if python3 scripts/check-elf-alignment.py "$lib"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
python3 -m unittest discover -s tests/packaging -p 'test_*.py' -v 2>&1 | tee "$log" || status=$?
ran="$(grep -Eo '^Ran [0-9]+ tests?' "$log" | grep -Eo '[0-9]+' || echo 0)"
bad=0
for n in $(grep -Eo '(failures|errors)=[0-9]+' "$log" | cut -d= -f2); do bad=$((bad + n)); done
if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
passed=$((passed + ran - bad))
failed=$((failed + bad))
echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
