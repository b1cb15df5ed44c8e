#!/usr/bin/env bash
# The issuer service for the binding tests' list sync: two `vaxpass-issuer serve` on 127.0.0.1,
# each with a fresh data dir under target/issuer-service/NAME of this repo.
#
# Usage:
#   scripts/issuer-service.sh start [NAME]   build vaxpass-issuer (debug), init two fresh
#                                            authorities and serve them on free ports; the LAST
#                                            stdout line is what the tests need, as KEY=VALUE
#                                            words (below)
#   scripts/issuer-service.sh stop [NAME]    stop both (the data dir is kept until the next start)
#
#   eval "export $(scripts/issuer-service.sh start kotlin | tail -n1)"
#
# The last line sets:
#   VAXPASS_ISSUER_URL          the service, default limits (lists: 200 with an ETag, 304; the
#                               rules list is issuer/rules/korea-2022-standing.toml)
#   VAXPASS_ISSUER_ROOT_KEY     its root public key, hex (the key a verifier pins)
#   VAXPASS_ISSUER_ADMIN_TOKEN  its admin token (POST /v1/admin/publish signs new lists)
#   VAXPASS_ISSUER_BUSY_URL     a second service whose failed-attempt limit is one attempt, one a
#                               minute (--address-failures 1 --address-failures-per-minute 1):
#                               after one enrolment with an unknown nonce (409), the next
#                               enrolment request from the address gets 429
#                               `too_many_failed_attempts` with a Retry-After of about 60 s,
#                               after the service's tarpit of up to 5 s (issuer/README.md)
# NAME (default `bindings`) keeps concurrent runners apart. Nothing is installed: the service is
# this workspace's own binary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="${2:-bindings}"
DIR="$ROOT/target/issuer-service/$NAME"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/vaxpass-issuer"

log() { echo "issuer-service.sh: $*" >&2; }

# serve INSTANCE ARGS...: init a fresh authority in DIR/INSTANCE and serve it; prints its URL.
serve() {
    local instance="$1" data="$DIR/$1" token="$2"
    shift 2
    mkdir -p "$data"
    local common=(--key-file "$data/authority.sqlite" --store "sqlite:$data/issuer.sqlite")
    "$BIN" "${common[@]}" init >"$data/init.log" 2>&1 || { cat "$data/init.log" >&2; exit 1; }
    # The rules verifiers judge by: the Korean rules of January 2022, in force on any date.
    "$BIN" "${common[@]}" publish-rules "$ROOT/issuer/rules/korea-2022-standing.toml" \
        >>"$data/init.log" 2>&1 || { cat "$data/init.log" >&2; exit 1; }
    VAXPASS_ADMIN_TOKEN="$token" "$BIN" "${common[@]}" --log-level warn serve \
        --listen 127.0.0.1:0 "$@" >"$data/stdout.log" 2>"$data/stderr.log" &
    echo $! >"$data/pid"
    local address=""
    for _ in $(seq 1 200); do
        address="$(sed -n 's/^vaxpass-issuer listening on //p' "$data/stdout.log" | head -n1)"
        [ -n "$address" ] && break
        kill -0 "$(cat "$data/pid")" 2>/dev/null || { cat "$data/stderr.log" >&2; log "$instance exited"; exit 1; }
        sleep 0.05
    done
    [ -n "$address" ] || { log "$instance did not listen within 10 s"; exit 1; }
    echo "http://$address"
}

start() {
    stop_all
    rm -rf "$DIR"
    mkdir -p "$DIR"
    log "building vaxpass-issuer"
    (cd "$ROOT" && cargo build --locked --quiet -p vaxpass-issuer) >&2
    local token url busy root
    token="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    url="$(serve normal "$token")"
    busy="$(serve busy "$token" --address-failures 1 --address-failures-per-minute 1)"
    root="$("$BIN" --key-file "$DIR/normal/authority.sqlite" --store "sqlite:$DIR/normal/issuer.sqlite" root-key)"
    log "serving $url and $busy (data in $DIR)"
    echo "VAXPASS_ISSUER_URL=$url VAXPASS_ISSUER_ROOT_KEY=$root VAXPASS_ISSUER_ADMIN_TOKEN=$token VAXPASS_ISSUER_BUSY_URL=$busy"
}

# Stops the services this script started for NAME (by the pids it wrote).
stop_all() {
    local pid_file pid
    for pid_file in "$DIR"/*/pid; do
        [ -f "$pid_file" ] || continue
        pid="$(cat "$pid_file")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        fi
        rm -f "$pid_file"
    done
}

case "${1:-start}" in
    start) start ;;
    stop) stop_all ;;
    *) log "usage: $0 start|stop [NAME]"; exit 2 ;;
esac
