#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (core, cross-crate tests, CLI), then the
# Kotlin, Swift and Python binding tests against the built library. Toolchains for the bindings
# are installed on first use and cached (scripts/toolchains.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --locked
tests/bindings/run.sh
