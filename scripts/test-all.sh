#!/usr/bin/env bash
# Runs every test of the project:
#   1. the Rust workspace (core, cross-crate tests, CLI, issuer service on SQLite and on a real
#      PostgreSQL, with its keys in a real PKCS#11 token (SoftHSM2) and citizens identified by a
#      real OpenID Provider (the npm package oidc-provider on loopback): scripts/postgres.sh,
#      scripts/softhsm.sh and scripts/oidc-provider.sh install what is missing and start them
#      under target/, and they are stopped on exit);
#   2. among them, the lunch-rush replay at a size that runs in seconds (it fails unless every
#      citizen enrolled, no scan needed the network and every fake was refused:
#      examples/lunch-rush/tests/replay.rs);
#   3. the Kotlin, Swift and Python binding tests against the built library (toolchains are
#      installed on first use and cached: scripts/toolchains.sh), and the packaging checks
#      (16 KB page alignment, the Swift privacy manifest: tests/packaging/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

stop_services() {
    scripts/oidc-provider.sh stop >/dev/null 2>&1 || true
    scripts/postgres.sh stop >/dev/null 2>&1 || true
}
trap stop_services EXIT
VAXPASS_TEST_POSTGRES_URL="$(scripts/postgres.sh start | tail -n 1)"
VAXPASS_TEST_OIDC_ISSUER="$(scripts/oidc-provider.sh start | tail -n 1)"
export VAXPASS_TEST_POSTGRES_URL VAXPASS_TEST_OIDC_ISSUER
eval "$(scripts/softhsm.sh env)"

cargo test --workspace --locked

tests/bindings/run.sh
