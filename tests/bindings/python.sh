#!/usr/bin/env bash
# Runs the Python binding tests (python/tests) against the `vaxpass` package as pip installs it:
# builds the wheel with maturin (python/pyproject.toml), installs it into a fresh virtual
# environment under target/python-tests, checks that the installed package is what gets imported
# and that its type hints are there (tests/bindings/check_python_package.py) and reach mypy
# (tests/bindings/python_types.py), then runs the tests from a directory outside the repository,
# so that nothing in the tree can stand in for the package. The two checks count as one result
# each beside the tests.
#
#   tests/bindings/python.sh          from any directory
#
# The wheel is built in the workspace's target directory with the dev profile, so it reuses what
# the other tests compiled (maturin builds vaxpass-ffi as a cdylib alone, a cargo unit of its own,
# compiled once and then reused until a source changes). It has the bindings'
# `test-helpers` feature (the tests issue credentials with the exported Authority); the shipped
# wheel does not. LIB_DIR and BINDINGS_DIR, which the other
# runners take from tests/bindings/run.sh, do not apply: the wheel carries its own library and
# module.
# VAXPASS_ISSUER_URL and the rest of scripts/issuer-service.sh's line: the issuer service the
# sync tests (python/tests/test_sync.py) talk to; when unset, this script starts one and stops it
# on exit.
#
# Needs the venv and wheelhouse of scripts/toolchains.sh (created on first use). The last line of
# output is exactly `python: N passed, M failed`; the exit status is non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
t0=$SECONDS

log() { printf '[python.sh] %s\n' "$*" >&2; }
give_up() { log "$*"; echo "python: 0 passed, 1 failed"; exit 1; }

env_lines="$(scripts/toolchains.sh python --env)" || give_up "scripts/toolchains.sh python failed"
value() { sed -n "s/^$1=//p" <<<"$env_lines" | tail -n1; }
PYTHON="$(value PYTHON)"; MATURIN="$(value MATURIN)"; MYPY="$(value MYPY)"; WHEELS="$(value PYTHON_WHEELS)"
[ -x "$PYTHON" ] && [ -x "$MATURIN" ] && [ -x "$MYPY" ] && [ -d "$WHEELS" ] \
    || give_up "no python, maturin, mypy or wheelhouse from scripts/toolchains.sh"

# The tests issue credentials with the exported Authority, a test helper.
features=(--features test-helpers)

work="$ROOT/target/python-tests"
rm -rf "$work"
mkdir -p "$work"
venv="$work/venv"

# 1. The wheel, as `maturin build` makes it for a user (python/README.md), in the dev profile.
log "building the wheel (${features[*]:-no extra features})"
t_build=$SECONDS
(cd python && "$MATURIN" build --locked --quiet --profile dev --out "$work/wheels" "${features[@]}") >&2 \
    || give_up "maturin build failed"
wheels=("$work"/wheels/vaxpass-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || give_up "expected one wheel in $work/wheels"
wheel="${wheels[0]}"

# 2. A fresh virtual environment with the wheel and the tests' dependencies (offline, from the
#    wheelhouse). pip runs from the toolchain venv and installs into the new one.
t_venv=$SECONDS
"$PYTHON" -m venv --without-pip "$venv" || give_up "python -m venv failed"
venv_python="$venv/bin/python"
"$PYTHON" -m pip --python "$venv_python" install --quiet --no-index --find-links "$WHEELS" \
    cryptography "$wheel" >&2 || give_up "pip install of $(basename "$wheel") failed"
log "wheel $(basename "$wheel") built in $((t_venv - t_build))s, venv and install in $((SECONDS - t_venv))s"

# 3. The tests run from outside the repository, in isolated mode (-I: no PYTHONPATH, no current
#    directory on sys.path), without writing bytecode into the tree (-B).
outside="$(mktemp -d)"
cleanup() { rm -rf "$outside"; }
trap cleanup EXIT

# The issuer service the sync tests fetch lists from.
if [ -z "${VAXPASS_ISSUER_URL:-}" ]; then
    service_line="$(scripts/issuer-service.sh start python | tail -n 1)" \
        || give_up "scripts/issuer-service.sh start failed"
    cleanup() { rm -rf "$outside"; "$ROOT/scripts/issuer-service.sh" stop python; }
    # shellcheck disable=SC2163,SC2086  # KEY=VALUE words, none with spaces
    export $service_line
fi
out="$work/unittest.log"
cd "$outside"
if ! "$venv_python" -I -B "$ROOT/tests/bindings/check_python_package.py" "$ROOT/python/tests" >&2; then
    give_up "the installed package failed its checks"
fi
checks_passed=1
checks_failed=0
if "$MYPY" --strict --no-incremental --python-executable "$venv_python" \
    "$ROOT/tests/bindings/python_types.py" >&2; then
    checks_passed=$((checks_passed + 1))
else
    log "mypy does not see the package's type hints"
    checks_failed=1
fi
log "running python/tests with $("$venv_python" --version 2>&1) in $venv"
set +e
"$venv_python" -I -B -m unittest discover -s "$ROOT/python/tests" -p 'test_*.py' -v 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
cd "$ROOT"

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
passed=$((passed + checks_passed))
failed=$((failed + checks_failed))
log "done in $((SECONDS - t0))s"
echo "python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
