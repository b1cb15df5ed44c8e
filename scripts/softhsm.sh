#!/usr/bin/env bash
# A throwaway PKCS#11 token (Debian's SoftHSM2) for the issuer's HSM tests, under target/softhsm of
# this repo.
#
# Usage:
#   scripts/softhsm.sh [start]   install softhsm2 if missing, write its config, initialise the
#                                token on first use; the LAST stdout line names what the tests need:
#                                module=PATH conf=PATH token=LABEL pin=PIN
#   scripts/softhsm.sh env       the same as shell exports, for eval
#   scripts/softhsm.sh stop      nothing runs (the token is a library and files); kept for symmetry
#   scripts/softhsm.sh destroy   delete the token and its config
#
#   eval "$(scripts/softhsm.sh env)"   # sets VAXPASS_TEST_PKCS11_MODULE, SOFTHSM2_CONF,
#                                      # VAXPASS_TEST_PKCS11_TOKEN, VAXPASS_TEST_PKCS11_PIN
#
# Idempotent: an initialised token is reused as is. The PINs are test PINs: never use this token
# for keys that matter.
#
# Environment: VAXPASS_SOFTHSM_DIR (default: <repo>/target/softhsm),
#              VAXPASS_SOFTHSM_TOKEN (default: vaxpass-test).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${VAXPASS_SOFTHSM_DIR:-$ROOT/target/softhsm}"
TOKEN="${VAXPASS_SOFTHSM_TOKEN:-vaxpass-test}"
CONF="$DIR/softhsm2.conf"
TOKENS="$DIR/tokens"
SO_PIN="vaxpass-test-so"
USER_PIN="vaxpass-test-user"

log() { echo "softhsm.sh: $*" >&2; }

find_module() {
    local candidate
    for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
        if [[ -f "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

install_softhsm() {
    if [[ $EUID -ne 0 ]]; then
        log "softhsm2 is not installed and installing needs root"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Only refresh the package lists if apt does not know the package yet.
    if ! apt-cache policy softhsm2 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "apt-get update"
        apt-get update -qq >&2
    fi
    log "installing softhsm2"
    apt-get install -y -qq --no-install-recommends softhsm2 >&2
}

module() {
    local found
    if ! found="$(find_module)" || ! command -v softhsm2-util >/dev/null 2>&1; then
        install_softhsm
        found="$(find_module)" || { log "no libsofthsm2.so after installing"; exit 1; }
    fi
    echo "$found"
}

token_ready() {
    SOFTHSM2_CONF="$CONF" softhsm2-util --show-slots 2>/dev/null \
        | grep -q "Label:[[:space:]]*$TOKEN[[:space:]]*$"
}

start() {
    local lib
    lib="$(module)"
    mkdir -p "$TOKENS"
    local conf
    conf="$(printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false' "$TOKENS")"
    # Replaced atomically and only when it changes: a running test may be reading it.
    if [[ "$(cat "$CONF" 2>/dev/null)" != "$conf" ]]; then
        echo "$conf" >"$CONF.tmp"
        mv "$CONF.tmp" "$CONF"
    fi
    if ! token_ready; then
        log "initialising token $TOKEN in $TOKENS"
        SOFTHSM2_CONF="$CONF" softhsm2-util --init-token --free --label "$TOKEN" \
            --so-pin "$SO_PIN" --pin "$USER_PIN" >&2
    fi
    echo "module=$lib conf=$CONF token=$TOKEN pin=$USER_PIN"
}

case "${1:-start}" in
    start) start ;;
    env)
        line="$(start)"
        lib="${line#module=}"
        lib="${lib%% *}"
        echo "export VAXPASS_TEST_PKCS11_MODULE='$lib' SOFTHSM2_CONF='$CONF'" \
            "VAXPASS_TEST_PKCS11_TOKEN='$TOKEN' VAXPASS_TEST_PKCS11_PIN='$USER_PIN'"
        ;;
    stop) log "nothing to stop: the token is a library and its files" ;;
    destroy) rm -rf "$DIR" ;;
    *) log "usage: $0 [start|env|stop|destroy]"; exit 2 ;;
esac
