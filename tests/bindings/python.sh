#!/usr/bin/env bash
# Runs the Python binding tests (python/tests) against the built vaxpass-ffi library.
#
#   tests/bindings/python.sh          from any directory
#
# Environment (relative paths are taken from the repository root):
#   LIB_DIR        directory of libvaxpass_ffi.so built with `--features test-helpers` (default
#                  target/debug; with the default, `cargo build -p vaxpass-ffi --features
#                  test-helpers` runs first, a no-op when up to date)
#   BINDINGS_DIR   generator output (default target/bindings); the module is
#                  BINDINGS_DIR/python/vaxpass.py, generated with scripts/generate-bindings.sh
#                  when missing or older than the library
#   VAXPASS_ISSUER_URL and the rest of scripts/issuer-service.sh's line: the issuer service the
#                  sync tests talk to; when unset, this script starts one and stops it on exit
#
# Needs the venv of scripts/toolchains.sh (created on first use). The last line of output is
# exactly `python: N passed, M failed`; the exit status is non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
t0=$SECONDS

log() { printf '[python.sh] %s\n' "$*" >&2; }

PYTHON="$(scripts/toolchains.sh python | tail -n1)"
[ -x "$PYTHON" ] || { log "no python from scripts/toolchains.sh"; echo "python: 0 passed, 1 failed"; exit 1; }

if [ -z "${LIB_DIR:-}" ]; then
    LIB_DIR=target/debug
    cargo build --locked --quiet -p vaxpass-ffi --features test-helpers
fi
BINDINGS_DIR="${BINDINGS_DIR:-target/bindings}"
lib="$LIB_DIR/libvaxpass_ffi.so"
module="$BINDINGS_DIR/python/vaxpass.py"
if [ ! -f "$lib" ]; then
    log "no library at $lib"
    echo "python: 0 passed, 1 failed"
    exit 1
fi
if [ ! -f "$module" ] || [ "$lib" -nt "$module" ]; then
    log "generating bindings from $lib into $BINDINGS_DIR"
    scripts/generate-bindings.sh "$lib" "$BINDINGS_DIR"
fi

# The generated module loads libvaxpass_ffi.so from its own directory: put the two side by side.
# A hard link (a copy across file systems) keeps this run's library even if cargo relinks it.
mkdir -p target/python-tests
pkg="$(mktemp -d "$ROOT/target/python-tests/run.XXXXXX")"
cleanup() { rm -rf "$pkg"; }
trap cleanup EXIT
cp "$module" "$pkg/vaxpass.py"
ln "$lib" "$pkg/libvaxpass_ffi.so" 2>/dev/null || cp "$lib" "$pkg/libvaxpass_ffi.so"

# The issuer service the sync tests fetch lists from (python/tests/test_sync.py).
if [ -z "${VAXPASS_ISSUER_URL:-}" ]; then
    if ! service_line="$(scripts/issuer-service.sh start python | tail -n 1)"; then
        log "scripts/issuer-service.sh start failed"
        echo "python: 0 passed, 1 failed"
        exit 1
    fi
    cleanup() { rm -rf "$pkg"; scripts/issuer-service.sh stop python; }
    # shellcheck disable=SC2163,SC2086  # KEY=VALUE words, none with spaces
    export $service_line
fi

log "running python/tests with $("$PYTHON" --version 2>&1) ($PYTHON), library $lib"
out="$pkg/unittest.log"
set +e
PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
    "$PYTHON" -m unittest discover -s "$ROOT/python/tests" -p 'test_*.py' -v 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e

# unittest's summary: "Ran N tests in Xs", then "OK" or "FAILED (failures=x, errors=y, ...)",
# either possibly followed by "(skipped=z, expected failures=..., unexpected successes=...)".
count() { grep -Eo "$1=[0-9]+" "$out" | tail -n1 | cut -d= -f2 || true; }
ran="$(grep -Eo '^Ran [0-9]+ tests?' "$out" | tail -n1 | grep -Eo '[0-9]+' || true)"
failures="$(count failures)"; errors="$(count errors)"; skipped="$(count skipped)"
expected="$(count 'expected failures')"; unexpected="$(count 'unexpected successes')"
ran=${ran:-0}
failed=$(( ${failures:-0} + ${errors:-0} + ${unexpected:-0} ))
passed=$(( ran - failed - ${skipped:-0} - ${expected:-0} ))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # The run died without a summary (e.g. the library failed to load, or a crash).
    log "unittest exited with status $rc"
    failed=1
fi
[ "${skipped:-0}" -gt 0 ] && log "${skipped} skipped"
[ "$ran" -eq 0 ] && [ "$failed" -eq 0 ] && { log "no tests ran"; failed=1; }
log "done in $((SECONDS - t0))s"
echo "python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
