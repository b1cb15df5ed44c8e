#!/usr/bin/env bash
# A real OpenID Provider for the issuer's OpenID Connect tests: the npm package oidc-provider
# (scripts/oidc-provider/server.mjs) on 127.0.0.1, run with the machine's Node.js.
#
# Usage:
#   scripts/oidc-provider.sh [start]   install Node.js (Debian's nodejs, npm) if missing and the
#                                      locked npm packages into ~/.cache/vaxpass/oidc-provider if
#                                      missing or changed, start the provider on a free port; the
#                                      LAST stdout line is the issuer URL
#   scripts/oidc-provider.sh url       print the URL if the provider is running (exit 1 otherwise)
#   scripts/oidc-provider.sh stop      stop it
#
#   export VAXPASS_TEST_OIDC_ISSUER="$(scripts/oidc-provider.sh | tail -n1)"
#
# Idempotent: a running provider is reused as is. Its state (accounts, sessions, codes) is in
# memory: a restart forgets it, and makes a new signing key.
#
# Environment: VAXPASS_OIDC_DIR (default: <repo>/target/oidc-provider), VAXPASS_OIDC_PORT
# (default: a free port).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/scripts/oidc-provider"
DIR="${VAXPASS_OIDC_DIR:-$ROOT/target/oidc-provider}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vaxpass/oidc-provider"
PID_FILE="$DIR/pid"
URL_FILE="$DIR/url"
LOG="$DIR/provider.log"

log() { echo "oidc-provider.sh: $*" >&2; }

install_node() {
    if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
        return
    fi
    if [[ $EUID -ne 0 ]]; then
        log "Node.js is not installed and installing needs root"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache policy nodejs 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "apt-get update"
        apt-get update -qq >&2
    fi
    log "installing nodejs and npm"
    apt-get install -y -qq --no-install-recommends nodejs npm >&2
}

# The packages of package-lock.json, installed once per lock file.
install_packages() {
    mkdir -p "$CACHE"
    local lock_hash
    lock_hash="$(sha256sum "$SRC/package-lock.json" | cut -d' ' -f1)"
    if [[ -f "$CACHE/installed" && "$(cat "$CACHE/installed")" == "$lock_hash" ]]; then
        return
    fi
    log "npm ci into $CACHE"
    cp "$SRC/package.json" "$SRC/package-lock.json" "$CACHE/"
    (cd "$CACHE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    echo "$lock_hash" >"$CACHE/installed"
}

running() {
    [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

start() {
    mkdir -p "$DIR"
    if running && [[ -f "$URL_FILE" ]]; then
        log "already running"
        cat "$URL_FILE"
        return
    fi
    install_node
    install_packages
    # The program runs beside its node_modules, so that Node's module resolution finds them.
    cp "$SRC/server.mjs" "$CACHE/server.mjs"
    rm -f "$URL_FILE"
    : >"$LOG"
    nohup node "$CACHE/server.mjs" "${VAXPASS_OIDC_PORT:-0}" >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 100); do
        if grep -q '^issuer=' "$LOG"; then
            grep '^issuer=' "$LOG" | head -n1 | cut -d= -f2- >"$URL_FILE"
            log "started (pid $(cat "$PID_FILE"), log $LOG)"
            cat "$URL_FILE"
            return
        fi
        if ! running; then
            break
        fi
        sleep 0.1
    done
    log "the provider did not start:"
    tail -n 30 "$LOG" >&2
    stop
    exit 1
}

stop() {
    if running; then
        kill "$(cat "$PID_FILE")"
        for _ in $(seq 1 50); do
            running || break
            sleep 0.1
        done
    else
        log "not running"
    fi
    rm -f "$PID_FILE" "$URL_FILE"
}

case "${1:-start}" in
    start) start ;;
    url) running && cat "$URL_FILE" || { log "not running"; exit 1; } ;;
    stop) stop ;;
    *) log "usage: $0 [start|url|stop]"; exit 2 ;;
esac
