#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (core, cross-crate tests, CLI).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --locked
